"""Distribution: students' and teacher folders and zips, no teacher text for students, CC 1.1 cartridges."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit.build import build
from kit.content import load_kit
from kit.render import question_refs

from .conftest import FIXTURES, ROOT
from .test_classes import make_class

PDFTOTEXT = shutil.which("pdftotext")
SCHEMAS = Path(__file__).parent / "schemas" / "cc11"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
SHUFFLED = """\
id: shuf
name: "Shuffled & <b>escaped</b>"
roster: tenth.csv
shuffle: true
lms: both
lms_teacher_files: true
lessons:
  - sample
"""


@pytest.fixture(scope="module")
def shipped(shipped) -> tuple[Path, Path]:
    """Every class that ships in content/, from the session's one build of the shipped kit (conftest)."""
    return ROOT / "content", shipped


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> tuple[Path, Path]:
    """A class without teacher editions (quiz only) and a shuffled one that carries teacher files."""
    root = tmp_path_factory.mktemp("variants")
    content = root / "content"
    shutil.copytree(FIXTURES / "mini", content)
    make_class(content)
    profile = content / "classes" / "tenth.yaml"
    profile.write_text(profile.read_text().replace("student_files: true", "student_files: true\nteacher_edition: false\n"
                                                   "lms: quiz"))
    (content / "classes" / "shuf.yaml").write_text(SHUFFLED)
    build(content, root / "out", workers=2)
    return content, root / "out"


# --- the leak scan ------------------------------------------------------------------------------

def normal(text: str) -> str:
    """Text as compared: NFKC, lowercase, one kind of dash and quote, words rejoined across line breaks."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u00ad", "")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u2018\u2019\u201a\u2032]", "'", re.sub(r"[\u201c\u201d\u201e\u2033]", '"', text))
    text = re.sub(r"(\w)-\s*(\w)", r"\1\2", text)
    return " ".join(text.split())


def teacher_texts(content: Path) -> set[str]:
    """Every teacher note, model answer, evidence line and lesson-plan activity of every lesson and class."""
    kit = load_kit(content)
    lessons = list(kit.lessons) + [item.lesson for cls in kit.classes for item in cls.lessons]
    found = {"model answer"}
    for lesson in lessons:
        for question in lesson.questions:
            # A bare citation ("s. 56") is printed beside every excerpt anyway: only evidence with words is a clue.
            found |= {question.notes.answer, question.notes.look_for,
                      *(e for e in question.notes.evidence if not CITATION_ONLY.fullmatch(e.strip()))}
            if question.rubric:
                found |= {level.descriptor for level in question.rubric.levels}
        for step in lesson.spec.timing:
            found |= {step.activity, str(question_refs(step.activity, lesson.questions))}
        if lesson.spec.assessment:
            found |= {lesson.spec.assessment.answer, *(l.descriptor for l in lesson.spec.assessment.rubric.levels)}
        if lesson.spec.organizer:
            found |= {entry for row in lesson.spec.organizer.model.values() for entry in row.values()}
    return {normal(t) for t in found if t.strip()}


CITATION_ONLY = re.compile(r"([a-z0-9-]+ )?s\. \d+(-\d+)?([,;] ?(s\. )?\d+(-\d+)?)*")


_PAGES: dict[bytes, str] = {}


def _pdf_text(data: bytes) -> str:
    """Every page's text: poppler's pdftotext where it is installed (fast), else pypdf."""
    if PDFTOTEXT:
        return subprocess.run([PDFTOTEXT, "-q", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return _pypdf_text(data)


def _pypdf_text(data: bytes) -> str:
    """Every page's text. A named copy repeats the class handout's pages byte for byte (and shuffled copies
    their unshuffled pages), so a page is read once per content stream and font set."""
    texts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        contents = page.get_contents()  # (an empty-looking ContentStream is falsy: compare with None)
        key = hashlib.sha256(contents.get_data() if contents is not None else b"")
        fonts = page.get("/Resources", {}).get("/Font", {})
        for name in sorted(fonts):
            font = fonts[name].get_object()
            unicode = font.get("/ToUnicode")
            key.update(name.encode() + (unicode.get_object().get_data() if unicode else repr(font).encode()))
        digest = key.digest()
        if digest not in _PAGES:
            _PAGES[digest] = page.extract_text() or ""
        texts.append(_PAGES[digest])
    return "\n".join(texts)


def readable(name: str, data: bytes) -> list[tuple[str, str]]:
    """(where, text) of a file a student could open; archives are opened member by member."""
    if name.endswith((".zip", ".imscc")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [part for member in archive.namelist()
                    for part in readable(f"{name}!{member}", archive.read(member))]
    if name.endswith(".pdf"):
        return [(name, _pdf_text(data))]
    text = data.decode("utf-8")
    return [(name, html.unescape(html.unescape(re.sub(r"<[^>]+>", " ", html.unescape(text)))))]


def leaks(needles: set[str], name: str, data: bytes) -> list[str]:
    hits = []
    for where, text in readable(name, data):
        haystack = normal(text)
        for needle in needles:
            at = haystack.find(needle)
            while at >= 0:
                before = haystack[at - 1] if at else " "
                if not before.isalnum():  # "s. 94" must not match inside "...parties. 94"
                    hits.append(f"{where}: {needle[:60]!r}")
                    break
                at = haystack.find(needle, at + 1)
    return hits


def student_files(out: Path) -> list[Path]:
    """Every file the class manifests mark for students (the cartridge only when it has no teacher files)."""
    files = []
    for manifest in sorted(out.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text())["files"]:
            if entry["audience"] == "students":
                files.append((manifest.parent / entry["path"]).resolve())
    return files


@pytest.mark.parametrize("which", ["shipped", "variants"])
def test_no_teacher_text_reaches_a_student_facing_file(which, request):
    content, out = request.getfixturevalue(which)
    needles = teacher_texts(content)
    files = student_files(out)
    kinds = {f.suffix for f in files}
    assert {".pdf", ".html", ".zip"} <= kinds and len(files) > 5
    hits = [hit for f in files for hit in leaks(needles, str(f.relative_to(out)), f.read_bytes())]
    assert hits == []


def test_the_scan_finds_teacher_text_where_it_is(variants):
    """The scan can fail: in the teacher folder and in a cartridge with teacher files it finds answers."""
    content, out = variants
    needles = teacher_texts(content)
    teacher = out / "shuf" / "teacher" / "sample-teacher.pdf"
    assert len(leaks(needles, teacher.name, teacher.read_bytes())) >= 3
    text = normal(_pypdf_text(teacher.read_bytes()))  # the fallback without poppler finds them too
    assert sum(needle in text for needle in needles) >= 3
    assert leaks(needles, "shuf.imscc", (out / "shuf.imscc").read_bytes())
    entries = {f["path"]: f for f in json.loads((out / "shuf" / "manifest.json").read_text())["files"]}
    assert entries["../shuf.imscc"]["audience"] == "teacher"  # so the scan above does not read it


# --- layout, indexes and zips -------------------------------------------------------------------

def test_two_folders_two_zips_and_no_mixed_path(shipped):
    content, out = shipped
    for cls in load_kit(content).classes:
        folder = out / cls.id
        assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "students", "teacher"]
        assert not (folder / "index.html").exists() and not (out / f"{cls.id}.zip").exists()  # the old, mixed paths
        for item in cls.lessons:
            assert (folder / "students" / f"{item.lesson.id}-student.pdf").is_file()
            assert (folder / "teacher" / f"{item.lesson.id}-teacher.pdf").is_file()
        assert (folder / "teacher" / f"{cls.id}-print-pack.pdf").is_file()
        assert (folder / "teacher" / f"{cls.id}-shuffle-key.csv").is_file() == cls.profile.shuffle
        data = json.loads((folder / "manifest.json").read_text())
        for entry in data["files"]:
            expected = "students" if entry["path"].startswith(("students/", f"../{cls.id}-students.zip")) else "teacher"
            if entry["path"] == f"../{cls.id}.imscc":
                expected = "teacher" if cls.profile.lms_teacher_files else "students"
            assert entry["audience"] == expected, entry["path"]
            assert hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]


def _links(page: Path) -> list[str]:
    return re.findall(r'href="([^"]+)"', page.read_text())


def test_the_students_index_links_only_student_files(shipped):
    content, out = shipped
    for cls in load_kit(content).classes:
        index = out / cls.id / "students" / "index.html"
        links = _links(index)
        assert links and all(not link.startswith(("/", "..")) and "teacher" not in link for link in links)
        assert all((index.parent / link).is_file() for link in links)
        teacher_links = _links(out / cls.id / "teacher" / "index.html")
        assert all((out / cls.id / "teacher" / link).is_file() for link in teacher_links)
        assert {f"{item.lesson.id}-teacher.pdf" for item in cls.lessons} <= set(teacher_links)
        assert f"../../{cls.id}.imscc" in teacher_links and "../students/index.html" in teacher_links


def test_zips_hold_exactly_their_folders(variants):
    _, out = variants
    for cid in ("tenth", "shuf"):
        with zipfile.ZipFile(out / f"{cid}-students.zip") as archive:
            inside = {n.removeprefix(f"{cid}-students/"): archive.read(n) for n in archive.namelist()}
        folder = out / cid / "students"
        assert inside == {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        with zipfile.ZipFile(out / f"{cid}-teacher.zip") as archive:
            names = archive.namelist()
            assert names == sorted(names) and {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        folder = out / cid
        assert set(names) == {p.relative_to(out).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert not any("teacher" in n for n in inside)  # shuf has teacher files, only in its teacher zip


def test_shuffle_key_gives_every_copy_its_order(variants):
    content, out = variants
    shuf = next(c for c in load_kit(content).classes if c.id == "shuf")
    prompts = [q.prompt for q in shuf.lessons[0].lesson.questions]
    rows = list(csv.reader(io.StringIO((out / "shuf" / "teacher" / "shuf-shuffle-key.csv").read_text())))
    assert rows[0][:3] == ["student", "lesson", "copy"] and len(rows) == 4
    for name, lesson, copy, numbers, ids in rows[1:]:
        text = normal(" ".join(page.extract_text() for page in PdfReader(out / "shuf" / copy).pages))
        assert name.lower() in text
        found = [text.find(normal(prompts[int(n) - 1][:30])) for n in numbers.split()]
        assert -1 not in found and found == sorted(found)  # the copy prints the questions in the key's order


def test_teacher_edition_false_means_no_teacher_editions_anywhere(variants):
    _, out = variants
    assert not list((out / "tenth").rglob("*-teacher.pdf"))
    with zipfile.ZipFile(out / "tenth.imscc") as archive:
        assert not [n for n in archive.namelist() if "teacher" in n]


# --- the cartridge -----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def schema(name: str):
    import xmlschema  # in the test extras (pyproject.toml); a missing validator fails, it does not skip

    # allow="local": only files on this machine are read (the copies in tests/schemas/); nothing is fetched.
    return xmlschema.XMLSchema(str(SCHEMAS / name), allow="local")


def validate(name: str, data: bytes) -> list[str]:
    root = ET.fromstring(data)
    file = {"manifest": "ccv1p1_imscp_v1p2_v1p0.xsd", "topic": "ccv1p1_imsdt_v1p1.xsd",
            "questestinterop": "ccv1p1_qtiasiv1p2p1_v1p0.xsd"}[root.tag.split("}")[1]]
    return [f"{name}: {error.reason} at {error.path}" for error in schema(file).iter_errors(data.decode(),
                                                                                     use_location_hints=False)]


def cartridges(*outs: Path) -> list[Path]:
    return [p for out in outs for p in sorted(out.glob("*.imscc"))]


def test_every_cartridge_validates_against_the_cc11_schemas(shipped, variants):
    found = cartridges(shipped[1], variants[1])
    assert len(found) == 5
    for path in found:
        with zipfile.ZipFile(path) as archive:
            xml = [n for n in archive.namelist() if n.endswith(".xml")]
            assert "imsmanifest.xml" in xml and len(xml) > 1
            for name in xml:
                assert validate(f"{path.name}!{name}", archive.read(name)) == []


def test_the_validator_rejects_a_broken_manifest(variants):
    with zipfile.ZipFile(variants[1] / "shuf.imscc") as archive:
        good = archive.read("imsmanifest.xml")
    assert validate("ok", good) == []
    assert validate("bad", good.replace(b"<schemaversion>1.1.0</schemaversion>", b"")) != []
    assert validate("bad", good.replace(b'type="imsdt_xmlv1p1"', b'type="discussion"')) != []


def _resources(archive: zipfile.ZipFile) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(archive.read("imsmanifest.xml"))
    return root, {r.get("identifier"): r for r in root.iter(f"{CP}resource")}


def test_cartridge_structure_follows_the_class(shipped, variants):
    """A module per lesson in teaching order, titled like the handout; the CC rules the XSDs cannot check."""
    for content, out in (shipped, variants):
        for cls in load_kit(content).classes:
            with zipfile.ZipFile(out / f"{cls.id}.imscc") as archive:
                root, resources = _resources(archive)
                names = set(archive.namelist())
                top = root.find(f"{CP}organizations/{CP}organization/{CP}item")
                modules = top.findall(f"{CP}item")
                assert [m.find(f"{CP}title").text for m in modules] == [i.lesson.spec.title for i in cls.lessons]
                idents = [e.get("identifier") for e in root.iter() if e.get("identifier")]
                assert len(idents) == len(set(idents))
                referenced = set()
                for ident, res in resources.items():
                    files = [f.get("href") for f in res.findall(f"{CP}file")]
                    assert len(files) == 1 and files[0] in names  # CC rules 1a-1c, 3a-3c, 10a-b
                    referenced |= set(files)
                    if res.get("type") == "webcontent":
                        assert res.get("href") == files[0]
                    else:
                        assert res.get("href") is None
                    instructor = res.find(".//{http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource}value")
                    assert (instructor is not None and instructor.text == "Instructor") == files[0].endswith(
                        "-teacher.pdf")
                assert referenced == names - {"imsmanifest.xml"}
                types = [r.get("type") for r in resources.values()]
                questions = sum(len(i.lesson.questions) for i in cls.lessons)
                lms = cls.profile.lms
                assert types.count("imsdt_xmlv1p1") == (questions if lms in ("discussions", "both") else 0)
                assert types.count("imsqti_xmlv1p2/imscc_xmlv1p1/assessment") == (
                    len(cls.lessons) if lms in ("quiz", "both") else 0)
                teacher = [n for n in names if n.endswith("-teacher.pdf")]
                assert len(teacher) == (len(cls.lessons) if cls.profile.lms_teacher_files
                                        and cls.profile.teacher_edition else 0)
                for item in cls.lessons:  # the very PDFs of the students' folder: no second render
                    lid = item.lesson.id
                    assert archive.read(f"{lid}/{lid}-student.pdf") == (
                        out / cls.id / "students" / f"{lid}-student.pdf").read_bytes()


def test_questions_reach_the_cartridge_escaped_and_in_class_order(variants):
    content, out = variants
    shuf = next(c for c in load_kit(content).classes if c.id == "shuf")
    prompts = [q.prompt for q in shuf.lessons[0].lesson.questions]
    with zipfile.ZipFile(out / "shuf.imscc") as archive:
        root, _ = _resources(archive)
        assert root.find(".//{http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest}string").text == shuf.profile.name
        topics = sorted(n for n in archive.namelist() if "discussion-" in n)
        texts = {}
        for name in topics:
            topic = ET.fromstring(archive.read(name))
            texts[name] = topic.find("{http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1}text").text  # HTML
        quiz = archive.read("sample/quiz/assessment.xml").decode()
        web = archive.read("sample/sample.html").decode()
    assert any("<script>" in prompt for prompt in prompts)  # the fixture's hostile prompt...
    assert "<script>" not in web and "<script>" not in " ".join(texts.values())  # ...arrives as text
    assert [p for p in prompts if not any(html.escape(p) in t for t in texts.values())] == []
    assert quiz.count("cc.essay.v0p1") == len(prompts) and "solution" not in quiz


def test_the_web_handout_is_accessible_and_fits_a_phone(variants):
    _, out = variants
    page = (out / "tenth" / "students" / "sample-student.html").read_text()
    assert '<html lang="en">' in page and 'name="viewport"' in page and "<h1>" in page
    assert 'class="large"' in page  # the class prints in large print; the page follows
    assert "In your own words: what is a 'leading party'?" in html.unescape(page)
    assert "<img" not in page or re.search(r"<img(?![^>]*\balt=)", page) is None
    assert "Excerpt 1" in page and 'class="sn"' in page and "Source:" in page


def test_a_noop_build_rewrites_nothing(variants, tmp_path):
    content, out = variants
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    report = build(content, out, workers=1)
    assert report.rendered == 0
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_a_rebuild_removes_the_old_mixed_index_and_zip(variants, tmp_path):
    """Outputs of the release before: <class>/index.html and <class>.zip held teacher editions; they go."""
    content, out = variants
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    state = json.loads((copy / ".kit-state.json").read_text())
    for rel in ("tenth/index.html", "tenth.zip"):
        (copy / rel).write_bytes(b"old")
        state["files"][rel] = {"key": "old", "sha256": "old", "size": 3, "pages": 0, "kind": "index", "group": "tenth"}
    (copy / ".kit-state.json").write_text(json.dumps(state))
    build(content, copy, workers=1)
    assert not (copy / "tenth" / "index.html").exists() and not (copy / "tenth.zip").exists()
    assert (copy / "tenth" / "students" / "index.html").is_file()
