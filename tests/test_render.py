"""Student and teacher editions, read back from the PDFs the build writes."""

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit.build import build
from kit.content import load_kit
from kit.pdf import Printer
from kit.render import Edition, Renderer

from .conftest import FIXTURES
from .golden import GOLDEN, golden_pages


def text_of(pdf: Path) -> str:
    """All text of a PDF with line breaks and hyphenation undone."""
    raw = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    raw = re.sub(r"-\n(?=[a-z])", "", raw)
    return " ".join(raw.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    for paper in ("a4", "letter"):
        target = tmp_path_factory.mktemp(paper)
        build(FIXTURES / "mini", target, paper=paper)
        out[paper] = target / "lessons" / "sample"
    return out


def test_student_has_excerpts_and_prompts_but_no_notes(built):
    text = text_of(built["a4"] / "sample-student.pdf")
    kit = load_kit(FIXTURES / "mini")
    lesson = kit.lessons[0]
    for question in lesson.questions:
        assert " ".join(question.prompt.split()) in text
        assert question.notes.answer not in text
    for phrase in ("is no such thing as a leading party or a party to be led.",
                   "It has embarked on a course to worsen relations between the fraternal parties."):
        assert phrase in text
    assert "[…]" in text or "[...]" in text
    assert "Teacher edition" not in text and "TEACHER EDITION" not in text


def test_teacher_has_notes_and_is_marked(built):
    text = text_of(built["a4"] / "sample-teacher.pdf")
    lesson = load_kit(FIXTURES / "mini").lessons[0]
    for question in lesson.questions:
        assert question.notes.answer in text
    assert "TEACHER EDITION" in text.upper()
    assert "Read the background." in text  # timing


def test_hostile_text_is_printed_as_typed(built):
    html = (built["a4"] / "sample-student.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = text_of(built["a4"] / "sample-student.pdf")
    assert "<script>alert(1)</script> {{ 7*7 }}" in text and "49" not in text.split("7*7")[1][:5]


@pytest.mark.parametrize("paper, size", [("a4", (595.28, 841.89)), ("letter", (612, 792))])
def test_page_size(built, paper, size):
    for name in ("sample-student.pdf", "sample-teacher.pdf"):
        for page in PdfReader(built[paper] / name).pages:
            box = page.mediabox
            assert (round(float(box.width), 2), round(float(box.height), 2)) == size


def test_metadata_tags_and_language(built):
    reader = PdfReader(built["a4"] / "sample-student.pdf")
    assert reader.metadata.title == "Sample lesson: no leading party"
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    def flat(items):
        for item in items:
            yield from flat(item) if isinstance(item, list) else [item.title]
    titles = list(flat(reader.outline))
    assert "Questions" in titles and "The source" in titles


def test_every_font_is_embedded_and_bundled(built):
    for name in ("sample-student.pdf", "sample-teacher.pdf"):
        seen = set()
        for page in PdfReader(built["a4"] / name).pages:
            for font in page["/Resources"]["/Font"].values():
                font = font.get_object()
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
                seen.add(font["/BaseFont"].split("+", 1)[1])
        assert seen <= {"Kit-Serif", "Kit-Serif-Italic", "Kit-Serif-Bold", "Kit-Serif-BoldItalic",
                        "Kit-Sans", "Kit-Sans-Bold", "Kit-CJK"}
        assert "Kit-CJK" in seen  # the glossary prints Korean and Chinese names


def _pages_of(document) -> dict[str, set[int]]:
    """Element id -> the pages its boxes are laid out on."""
    found: dict[str, set[int]] = {}

    def walk(box, page):
        element = getattr(box, "element", None)
        if element is not None and element.get("data-question"):
            found.setdefault(element.get("data-question"), set()).add(page)
        for child in getattr(box, "children", ()):
            walk(child, page)

    for number, page in enumerate(document.pages):
        walk(page._page_box, number)
    return found


def test_a_question_is_never_split_from_its_answer_space():
    lesson = load_kit(FIXTURES / "mini").lessons[0]
    # Many questions with large answer spaces force page breaks between questions.
    questions = tuple(q.model_copy(update={"id": f"{q.id}-{i}", "answer_lines": 7 + i % 5})
                      for i in range(12) for q in lesson.questions[:1])
    html = Renderer().html(lesson, Edition(questions=questions))
    document, warnings = Printer(FIXTURES / "mini").render(html)
    assert not warnings
    pages = _pages_of(document)
    assert len(pages) == 12 and len(document.pages) >= 4
    assert all(len(on) == 1 for on in pages.values()), pages
    assert len({min(on) for on in pages.values()}) > 2  # they really are spread over pages


def test_golden_html():
    for name, html in golden_pages().items():
        assert html == (GOLDEN / name).read_text(encoding="utf-8"), f"run `make golden` if {name} changed on purpose"


def test_question_ids_in_the_lesson_plan_become_printed_numbers():
    from types import SimpleNamespace

    from kit.lessonplan import question_refs

    questions = [SimpleNamespace(id=i) for i in ("fc-first", "fc-first-required", "a")]
    text = "Group 1: fc-first-required, then fc-first; a <b>and</b> fc-firstly, x-a, a-x stay; fc-tone."
    assert str(question_refs(text, questions, ("fc-first", "fc-tone"))) == (
        "Group 1: Q2, then Q1; Q3 &lt;b&gt;and&lt;/b&gt; fc-firstly, x-a, a-x stay; "
        '<span class="not-printed">fc-tone (not in this edition)</span>.')
