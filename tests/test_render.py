"""Student and teacher editions, read back from the PDFs the build writes."""

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit.build import build
from kit.content import load_kit
from kit.pdf import Printer
from kit.render import Edition, Renderer

from .conftest import FIXTURES, ROOT
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


LABELS = [("1958", None), ("1946-02", None), ("1964-10-13", None), ("1964-10-13", "1964-10-14"),
          ("1946-02", "1946-03"), ("1950", "1953"), ("1962-10-20", "1962-11"), ("1962-12-30", "1963-01-02"),
          ("1962-12", "1963-01"), ("1962", "1963-11"), ("1964-09-30", "1964-10-01"), ("1956-08-30", "1957")]
WHATS = ["Short.", "A medium event that takes most of one line of the timeline column.",
         "A long event that runs over two or three lines of the column, so that its row is taller than any date "
         "label beside it could ever be, whatever the label says."]


def _text_rows(document) -> list[tuple[int, int, str, tuple[float, float, float, float]]]:
    """(page, timeline row, 'when' or 'what', rectangle) of every piece of text laid out for a timeline row."""
    root = document.pages[0]._page_box.children[0].element
    rows = {id(el): (n, part) for ol in root.iter("ol") if "timeline" in ol.get("class", "")
            for n, li in enumerate(ol) for span in li for part in [span.get("class")] for el in span.iter()}
    found = []

    def walk(box, page):
        if getattr(box, "text", None) and id(box.element) in rows:  # wherever the box landed in the tree
            row, part = rows[id(box.element)]
            found.append((page, row, part, (box.position_x, box.position_y, box.width, box.height)))
        for child in getattr(box, "children", ()):
            walk(child, page)

    for number, page in enumerate(document.pages):
        walk(page._page_box, number)
    return found


@pytest.mark.parametrize("large", [False, True])
def test_timeline_rows_never_overlap_whatever_the_label_length(large):
    import dataclasses
    import io

    from kit.models import Event
    from kit.render import date_range

    lesson = load_kit(FIXTURES / "mini").lessons[0]
    events = tuple(Event(date=d, end=e, event=w) for d, e in LABELS for w in WHATS[:2]) + \
        tuple(Event(date=d, end=e, event=WHATS[2]) for d, e in LABELS[::3])
    html = Renderer().html(dataclasses.replace(lesson, timeline=events), Edition(large_print=large))
    printer = Printer(FIXTURES / "mini")
    document, warnings = printer.render(html, "a4", large)
    assert not warnings
    boxes = _text_rows(document)
    for i, (page, row, _, (x, y, w, h)) in enumerate(boxes):
        for other_page, other_row, _, (x2, y2, w2, h2) in boxes[i + 1:]:
            if page == other_page and row != other_row:
                assert x + w <= x2 + 0.1 or x2 + w2 <= x + 0.1 or y + h <= y2 + 0.1 or y2 + h2 <= y + 0.1, \
                    f"row {row} ({events[row].date}) overlaps row {other_row} ({events[other_row].date})"
    for row in range(len(events)):
        mine = [b for b in boxes if b[1] == row]
        assert len({page for page, *_ in mine}) == 1, f"row {row} is split over pages"
        when = [r for *_, part, r in mine if part == "when"]
        what = [r for *_, part, r in mine if part == "what"]
        assert max(x + w for x, _, w, _ in when) <= min(x for x, *_ in what), f"row {row}: the date runs into the event"
        assert abs(min(y for _, y, *_ in when) - min(y for _, y, *_ in what)) < 4, f"row {row}: date and event not level"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(printer.pdf(document, html))).pages).split())
    for event in events:  # the PDF holds every label whole
        assert date_range(event.date, event.end) in text


def test_line_numbers_stop_where_each_quote_ends():
    # The template prints more line numbers than an excerpt has lines; kit drops the ones below the
    # quote's last line (WeasyPrint does not clip them), on every page a long quote runs over.
    from kit.pdf import _trim_line_numbers

    kit = load_kit(ROOT / "content")
    lesson = next(item for item in kit.lessons if item.id == "four-conditions")
    html = Renderer(content=ROOT / "content").html(lesson, Edition(large_print=True))
    printer = Printer(ROOT / "content")
    import kit.pdf as module
    lift, module._lift_line_numbers = module._lift_line_numbers, lambda page: None  # keep them in their quotes
    try:
        document, _ = printer.render(html, large=True)
    finally:
        module._lift_line_numbers = lift
    quotes = []

    def walk(box, quote=None):
        classes = (box.element.get("class") or "").split() if getattr(box, "element", None) is not None else []
        if "quote" in classes:
            quote = box
        if "linenos" in classes:
            quotes.append((quote, box))
        for child in getattr(box, "children", ()):
            walk(child, quote)

    for page in document.pages:
        walk(page._page_box)
    assert len(quotes) >= 4
    for quote, numbers in quotes:
        if quote is None:  # a piece pushed onto a page without its quote keeps no numbers
            assert not numbers.children
            continue
        bottom = quote.position_y + quote.margin_height() - quote.margin_bottom - quote.padding_bottom
        assert numbers.children and all(n.position_y + n.height <= bottom + 1 for n in numbers.children)
        assert len(numbers.children) >= (bottom - quote.position_y) // numbers.children[0].height - 1
    # Without the trimming, numbers run past the quote's end: the test can fail.
    original, module._trim_line_numbers = module._trim_line_numbers, lambda box, quote=None: None
    module._lift_line_numbers = lambda page: None
    try:
        document, _ = printer.render(html, large=True)
    finally:
        module._trim_line_numbers, module._lift_line_numbers = original, lift
    quotes.clear()
    for page in document.pages:
        walk(page._page_box)
    untrimmed = [q for q, numbers in quotes
                 if q is not None and numbers.children[-1].position_y > q.position_y + q.margin_height()]
    assert untrimmed and _trim_line_numbers is original
