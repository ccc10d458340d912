"""Paper choices: what a class's student handout prints, and the page table in the README."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from kit.content import load_kit
from kit.pdf import Printer
from kit.render import Edition, Renderer

from .conftest import ROOT

LESSON = "four-conditions"  # the README's table measures this lesson's student handout
CHOICES = [  # (README row label, Edition changes)
    ("everything (the default)", {}),
    ("`reading: summary`", {"reading": "summary"}),
    ("`reading: none`", {"reading": "none"}),
    ("`timeline: lesson`", {"timeline": "lesson"}),
    ("`timeline: none`", {"timeline": "none"}),
    ("`glossary: used`", {"glossary": "used"}),
    ("`answer_space: compact`", {"answers": "compact"}),
    ("`answer_space: none`", {"answers": "none"}),
    ("short: `summary`, `lesson`, `used`, `compact`", {"reading": "summary", "timeline": "lesson",
                                                          "glossary": "used", "answers": "compact"}),
    ("leanest: `none`, `none`, `used`, `none`", {"reading": "none", "timeline": "none", "glossary": "used",
                                                 "answers": "none"}),
]


@pytest.fixture(scope="module")
def kit():
    return load_kit(ROOT / "content")


def _measure(paper: str) -> dict:
    """Pages and text of the lesson's student handout under each choice, on one paper size."""
    kit = load_kit(ROOT / "content")
    lesson = next(item for item in kit.lessons if item.id == LESSON)
    renderer, printer = Renderer(content=ROOT / "content"), Printer(ROOT / "content")
    table = {}
    for label, changes in CHOICES:
        html = renderer.html(lesson, replace(Edition(paper=paper), **changes))
        document, _ = printer.render(html, paper)
        reader = PdfReader(io.BytesIO(printer.pdf(document, html)))
        table[label, paper] = (len(reader.pages), "\n".join(p.extract_text() for p in reader.pages))
    return table


@pytest.fixture(scope="module")
def measured(kit):
    """Pages and text of the lesson's student handout under each choice, on A4 and Letter (one process each)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return {k: v for part in pool.map(_measure, ("a4", "letter")) for k, v in part.items()}


def test_each_choice_prints_less_and_the_leanest_fits_two_duplex_sheets(measured, kit):
    lesson = next(item for item in kit.lessons if item.id == LESSON)
    full = measured["everything (the default)", "a4"]
    reading = lesson.context[0]
    assert reading.title in full[1] and reading.title not in measured["`reading: none`", "a4"][1]
    summary_words = " ".join(reading.summary.split()[:5]).replace("*", "")
    assert summary_words in " ".join(measured["`reading: summary`", "a4"][1].split())
    assert "Timeline" in full[1] and "Timeline" not in measured["`timeline: none`", "a4"][1]
    assert "separate paper" in measured["`answer_space: none`", "a4"][1]
    for (label, paper), (pages, _) in measured.items():
        assert pages <= measured["everything (the default)", paper][0], label
    for label in [c[0] for c in CHOICES if c[0].startswith("leanest")]:
        assert measured[label, "a4"][0] <= 4, f"{label}: {measured[label, 'a4'][0]} A4 pages"


def test_glossary_used_keeps_only_terms_in_the_excerpts_and_questions(kit):
    from kit.render import paper_choices

    lesson = next(item for item in kit.lessons if item.id == LESSON)
    kept, _, _ = paper_choices(lesson, lesson.questions, Edition(glossary="used"))
    text = " ".join([e.text for e in lesson.excerpts] + [q.prompt for q in lesson.questions]).casefold()
    assert 0 < len(kept.glossary) < len(lesson.glossary)
    assert all(t.term.casefold() in text for t in kept.glossary)
    dropped = [t for t in lesson.glossary if t not in kept.glossary]
    assert all(t.term.casefold() not in text for t in dropped)
    own, _, _ = paper_choices(lesson, lesson.questions, Edition(timeline="lesson"))
    assert own.timeline and {e.event for e in own.timeline} == {e.event for e in lesson.spec.timeline.events}


def test_the_readme_page_table_is_what_the_test_measures(measured):
    readme = (ROOT / "README.md").read_text()
    for label, _ in CHOICES:
        row = re.search(rf"^\| {re.escape(label)} \| (\d+) \| (\d+) \|", readme, flags=re.M)
        assert row, f"README has no page-table row for {label}"
        assert (int(row[1]), int(row[2])) == (measured[label, "a4"][0], measured[label, "letter"][0]), label


def test_a_class_asking_for_summaries_of_readings_without_one_is_told_where(mini, cli):
    (mini / "classes").mkdir(exist_ok=True)
    lessons = sorted(p.stem for p in (mini / "lessons").glob("*.yaml"))
    (mini / "classes" / "lean.yaml").write_text(
        "id: lean\nname: Lean\nreading: summary\nlessons: [" + ", ".join(lessons) + "]\n")
    reading = next((mini / "context").glob("*.md"))
    reading.write_text(re.sub(r"\nsummary:.*?(?=\n\w+:|\n---)", "", reading.read_text(), flags=re.S))
    code, _, err = cli("check", "--content", mini)
    assert code == 2
    assert re.search(r"classes/lean\.yaml:3:\d+: context reading '[a-z0-9-]+' \(lesson '[a-z0-9-]+'\) has no summary",
                     err), err
