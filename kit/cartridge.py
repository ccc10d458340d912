"""An IMS Common Cartridge 1.1 (.imscc) per class: a module per lesson, ready to import into an LMS."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, RenderError
from .models import CONTROL_RE
from .write import reproducible_zip

CP = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
LOMM = "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest"
LOMR = "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource"
DT = "http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1"
QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LOCATIONS = {  # where IMS publishes each schema; importers read the namespace, nothing is fetched
    CP: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imscp_v1p2_v1p0.xsd",
    LOMM: "http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lommanifest_v1p0.xsd",
    LOMR: "http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lomresource_v1p0.xsd",
    DT: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imsdt_v1p1.xsd",
    QTI: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_qtiasiv1p2p1_v1p0.xsd",
}

WEBCONTENT = "webcontent"
DISCUSSION = "imsdt_xmlv1p1"
ASSESSMENT = "imsqti_xmlv1p2/imscc_xmlv1p1/assessment"


@dataclass(frozen=True)
class LessonFiles:
    """What one lesson contributes: the class handout PDF, its web page and (maybe) the teacher edition."""

    lesson: object  # content.Lesson with the class's questions, in print order
    handout: Path
    web: Path
    teacher: Path | None = None


def cartridge(cls, lessons: list[LessonFiles]) -> bytes:
    """The whole .imscc: imsmanifest.xml plus every file it lists, with the same bytes on every build."""
    p = cls.profile
    members: list[tuple[str, bytes | Path]] = []
    resources: list[ET.Element] = []
    modules = []
    for number, files in enumerate(lessons, start=1):
        lesson = files.lesson
        lid = lesson.id
        title = _text(cls, lesson.spec.title)
        entries = []  # (item title, resource identifier)

        def resource(ident: str, kind: str, href: str, data, instructor: bool = False, entry: bool = True):
            members.append((href, data))
            attrs = {"identifier": ident, "type": kind}
            if kind == WEBCONTENT:
                attrs["href"] = href
            node = ET.Element("resource", attrs)
            if instructor:
                node.append(_instructor_only())
            ET.SubElement(node, "file", {"href": href})
            resources.append(node)

        resource(f"R.{lid}.html", WEBCONTENT, f"{lid}/{lid}.html", files.web)
        entries.append((f"{title} (web page)", f"R.{lid}.html"))
        resource(f"R.{lid}.pdf", WEBCONTENT, f"{lid}/{lid}-student.pdf", files.handout)
        entries.append((f"{title} (PDF handout to print)", f"R.{lid}.pdf"))
        questions = list(lesson.questions)
        if p.lms in ("discussions", "both"):
            for n, question in enumerate(questions, start=1):
                ident = f"R.{lid}.q.{question.id}"
                resource(ident, DISCUSSION, f"{lid}/discussion-{question.id}.xml",
                         _topic(cls, lesson, n, len(questions), question))
                entries.append((_title(cls, f"Question {n}: {question.prompt}"), ident))
        if p.lms in ("quiz", "both"):
            ident = f"R.{lid}.quiz"
            resource(ident, ASSESSMENT, f"{lid}/quiz/assessment.xml", _assessment(cls, lesson, questions))
            entries.append((f"{title}: questions (written answers)", ident))
        if files.teacher is not None:
            ident = f"R.{lid}.teacher"
            resource(ident, WEBCONTENT, f"{lid}/teacher/{lid}-teacher.pdf", files.teacher, instructor=True)
            entries.append((f"{title}: teacher edition (instructors only)", ident))
        modules.append((f"L.{lid}", title, entries))
    manifest = _manifest(cls, modules, resources)
    members.append(("imsmanifest.xml", manifest))
    names = [m[0] for m in members]
    if len(names) != len(set(names)):  # lesson and question ids are unique, so this cannot happen
        raise RenderError(Problem(cls.path, 1, 1, "two files in the cartridge have the same name", "report this"))
    return reproducible_zip(members)


def _manifest(cls, modules, resources) -> bytes:
    # Names are written as the files have them (default namespace, lomm:/lomr: prefixes): ElementTree
    # would otherwise invent ns0: prefixes, which some importers do not expect.
    root = ET.Element("manifest", {
        "identifier": f"M.{cls.id}", "xmlns": CP, "xmlns:lomm": LOMM, "xmlns:lomr": LOMR, "xmlns:xsi": XSI,
        "xsi:schemaLocation": " ".join(f"{ns} {loc}" for ns, loc in LOCATIONS.items() if ns in (CP, LOMM, LOMR)),
    })
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Common Cartridge"
    ET.SubElement(metadata, "schemaversion").text = "1.1.0"
    lom = ET.SubElement(metadata, "lomm:lom")
    general = ET.SubElement(lom, "lomm:general")
    ET.SubElement(ET.SubElement(general, "lomm:title"), "lomm:string",
                  {"language": "en"}).text = _text(cls, cls.profile.name)
    ET.SubElement(general, "lomm:language").text = "en"
    organization = ET.SubElement(ET.SubElement(root, "organizations"), "organization",
                                 {"identifier": "O.org", "structure": "rooted-hierarchy"})
    top = ET.SubElement(organization, "item", {"identifier": "O.root"})
    for ident, title, entries in modules:
        module = ET.SubElement(top, "item", {"identifier": ident})
        ET.SubElement(module, "title").text = title
        for name, ref in entries:
            item = ET.SubElement(module, "item", {"identifier": "I" + ref[1:], "identifierref": ref})
            ET.SubElement(item, "title").text = name
    node = ET.SubElement(root, "resources")
    node.extend(resources)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _instructor_only() -> ET.Element:
    """Resource metadata that tells the LMS the file is for instructors only (CC 1.1 roles vocabulary)."""
    metadata = ET.Element("metadata")
    role = ET.SubElement(ET.SubElement(ET.SubElement(metadata, "lomr:lom"), "lomr:educational"),
                         "lomr:intendedEndUserRole")
    ET.SubElement(role, "lomr:source").text = "IMSGLC_CC_Rolesv1p1"
    ET.SubElement(role, "lomr:value").text = "Instructor"
    return metadata


def _topic(cls, lesson, number: int, total: int, question) -> bytes:
    """A discussion topic: the question as the class has it, and which excerpts it is about."""
    root = ET.Element("topic")
    ET.SubElement(root, "title").text = _title(cls, f"Question {number}: {question.prompt}")
    ET.SubElement(root, "text", {"texttype": "text/html"}).text = _question_html(cls, lesson, number,
                                                                                             total, question)
    return _xml(root, DT)


def _assessment(cls, lesson, questions) -> bytes:
    """One QTI 1.2 assessment (CC profile) of essay items: the prompts only, never a model answer."""
    root = ET.Element("questestinterop")
    title = _text(cls, lesson.spec.title)
    test = ET.SubElement(root, "assessment", {"ident": f"A.{lesson.id}", "title": title})
    _fields(ET.SubElement(test, "qtimetadata"), [("cc_profile", "cc.exam.v0p1"),
                                                            ("qmd_assessmenttype", "Examination")])
    section = ET.SubElement(test, "section", {"ident": f"S.{lesson.id}"})
    for n, question in enumerate(questions, start=1):
        item = ET.SubElement(section, "item", {"ident": f"Q.{question.id}", "title": f"Question {n}"})
        meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
        _fields(meta, [("cc_profile", "cc.essay.v0p1"), ("qmd_computerscored", "No")])
        presentation = ET.SubElement(item, "presentation")
        material = ET.SubElement(presentation, "material")
        ET.SubElement(material, "mattext", {"texttype": "text/html"}).text = _question_html(
            cls, lesson, n, len(questions), question)
        response = ET.SubElement(presentation, "response_str", {"ident": f"A.{question.id}",
                                                                          "rcardinality": "Single"})
        ET.SubElement(ET.SubElement(response, "render_fib"), "response_label", {"ident": "answer"})
        processing = ET.SubElement(item, "resprocessing")
        ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar",
                      {"varname": "SCORE", "vartype": "Decimal", "minvalue": "0", "maxvalue": "100"})
        condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
        ET.SubElement(ET.SubElement(condition, "conditionvar"), "other")
    return _xml(root, QTI)


def _fields(parent: ET.Element, pairs) -> None:
    for label, entry in pairs:
        field = ET.SubElement(parent, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry


def _question_html(cls, lesson, number: int, total: int, question) -> str:
    """The prompt as a small HTML fragment (escaped here, and escaped again as XML text)."""
    numbers = {e.id: i for i, e in enumerate(lesson.excerpts, start=1)}
    about = ", ".join(f"Excerpt {numbers[ref]}" for ref in question.excerpts if ref in numbers)
    meta = f"Question {number} of {total} &#183; {html.escape(question.type.replace('-', ' '))}"
    if about:
        meta += f" &#183; {html.escape(about)} of the handout"
    return f"<p>{html.escape(_text(cls, question.prompt))}</p>\n<p><em>{meta}</em></p>"


def _xml(root: ET.Element, namespace: str) -> bytes:
    root.attrib = {"xmlns": namespace, "xmlns:xsi": XSI,
                   "xsi:schemaLocation": f"{namespace} {LOCATIONS[namespace]}", **root.attrib}
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _title(cls, text: str, limit: int = 90) -> str:
    """A one-line title (LMS menus truncate long ones): whitespace collapsed, cut at a word."""
    line = " ".join(_text(cls, text).split())
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _text(cls, text: str) -> str:
    # Phase 1 refuses control characters in every title and question; this guards the archive anyway.
    if CONTROL_RE.search(text):
        raise RenderError(Problem(cls.path, 1, 1, "a title or question holds a character XML cannot carry",
                                  "delete control characters from the class's lessons"))
    return re.sub(r"\s+", " ", text).strip() if "\n" in text or "\t" in text else text
