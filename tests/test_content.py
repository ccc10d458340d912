"""The shipped curriculum: it verifies, it is complete, and it holds together."""

import re
from collections import Counter

import pytest

from kit.content import load_kit
from kit.inventory import flesch_kincaid, inventory, plain_text

from .conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def kit():
    return load_kit(ROOT / "content")  # raises KitError if any excerpt does not verify


@pytest.fixture(scope="module")
def data(kit):
    return inventory(kit)


def test_every_excerpt_is_the_source_verbatim(kit):
    for lesson in kit.lessons:
        text = " ".join(s.text for s in lesson.source.sentences)
        for excerpt in lesson.excerpts:
            for segment in excerpt.segments:
                if segment.kind == "text":
                    assert segment.text.strip(" .,;") in text, (lesson.id, excerpt.id)
            assert 40 <= len(excerpt.text.split()) <= 250, (lesson.id, excerpt.id)
            for gloss in excerpt.glosses:  # glosses sit beside the quote and never change it
                assert gloss.term.lower() in excerpt.text.lower()


def test_lessons_are_complete(data):
    assert len(data["lessons"]) >= 4
    for lesson in data["lessons"]:
        assert len(lesson["questions"]) >= 8, lesson["id"]
        assert len({q["type"] for q in lesson["questions"]}) >= 4, lesson["id"]
        assert 2 <= len(lesson["excerpts"]) <= 5, lesson["id"]
        for q in lesson["questions"]:
            notes = q["notes"]
            assert len(notes["answer"].split()) >= 15, q["id"]
            assert notes["evidence"] and all(len(e.split()) >= 2 for e in notes["evidence"]), q["id"]
        cited = [e for q in lesson["questions"] for e in q["notes"]["evidence"] if re.search(r"s\. ?\d+", e)]
        assert len(cited) >= len(lesson["questions"]), lesson["id"]  # notes point to sentences


def test_every_lesson_fits_its_period(kit):
    for lesson in kit.lessons:
        assert 45 <= lesson.spec.duration <= 50
        assert sum(step.minutes for step in lesson.spec.timing) == lesson.spec.duration, lesson.id


def test_no_two_lessons_repeat_a_question(data):
    prompts = Counter(" ".join(q["prompt"].lower().split()) for l in data["lessons"] for q in l["questions"])
    ids = Counter(q["id"] for l in data["lessons"] for q in l["questions"])
    assert [p for p, n in prompts.items() if n > 1] == []
    assert [i for i, n in ids.items() if n > 1] == []


def test_glossary_and_timeline(kit, data):
    assert len(data["glossary"]) >= 25
    scripts = {t.lang for t in kit.glossary.terms if t.original}
    assert {"ko", "ru", "zh", "de"} <= scripts
    dates = [e.date for e in kit.timeline.events]
    assert len(dates) >= 15
    assert dates == sorted(dates, key=lambda d: [int(p) for p in d.split("-")])
    assert dates[0] >= "1945" and dates[-1] < "1970"


def test_context_readings(data):
    readings = {c["title"]: c for c in data["context"]}
    assert "Introduction to the Cold War" in readings
    assert len(readings) >= 3 and sum(c["words"] for c in readings.values()) >= 1600
    for reading in readings.values():
        assert reading["flesch_kincaid"] <= 10, reading["title"]


def test_flesch_kincaid_is_sensible():
    easy = "The cat sat on the mat. It was a sunny day. We all went out to play."
    hard = ("Notwithstanding considerable historiographical disagreement, contemporaneous documentation "
            "substantiates the interpretation that institutional considerations predominated.")
    assert flesch_kincaid(easy) < 3 < 15 < flesch_kincaid(hard)
    assert plain_text("## Head\n\n- *one* item") == "Head\n\none item"


def test_a_quote_from_another_source_names_that_source(mini, cli):
    from kit.importer import import_source
    import_source(FIXTURES / "importer" / "report_1965.txt", "coop-report-1965", mini)
    lesson = mini / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace(
        '"[The CPSU] call for decisive standpoints against the Marxist-Leninist parties."',
        '"The chairman stressed that the cooperative relied first of all on its own strength."'))
    code, out, err = cli("check", "--content", mini)
    assert code == 2
    assert "excerpt 'insertion': the quote is from source 'coop-report-1965' (s. 10), not from the lesson's source" in err


def test_schema_errors_inside_items_do_not_hide_or_invent_other_problems(mini, cli):
    lesson = mini / "lessons" / "sample.yaml"
    text = lesson.read_text()
    text = text.replace("    from: \"Recently, the CPSU leadership", "    form: \"Recently, the CPSU leadership", 1)
    text = text.replace("to be led.", "to be lead.", 1).replace("type: close-reading", "type: close-raeding", 1)
    lesson.write_text(text)
    code, out, err = cli("check", "--content", mini)
    assert code == 2
    assert "unknown key 'form'" in err                               # the broken excerpt's own problem
    assert "refers to unknown excerpt 'leadership'" not in err      # its id is still known to questions
    assert "the quote has 'lead' where the source has 'led'" in err  # the other excerpt is still verified
    assert "'type' must be one of" in err
