"""Adapted excerpts, graphic organizers, rubrics and assessments, read back from the built PDFs."""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit.build import build
from kit.content import load_kit
from kit.inventory import flesch_kincaid
from kit.render import Edition, Renderer

from .conftest import FIXTURES, ROOT

ADAPTED = """
    adapted:
      changed: ["autonomous: 'free to decide for itself'"]
      sentences:
        - s: 91
          text: "Every party is equal and free to decide for itself."
        - s: 92
          text: "No party leads, and no party is led."
        - s: 93
          text: "No party may give orders to the others."
"""
EXTRA = """
organizer:
  columns: [claim, evidence, corroboration]
  model:
    equal:
      claim: "MODEL-CLAIM All parties are equal."
      evidence: "MODEL-EVIDENCE s. 91-92"
assessment:
  kind: exit-ticket
  title: "Exit ticket"
  prompt: "ASSESS-PROMPT In two sentences: what did the KWP demand of the CPSU?"
  excerpts: [equal]
  answer_lines: 5
  answer: "ASSESS-MODEL It demanded equality between parties."
  rubric:
    levels:
      - {score: 2, label: "Complete", descriptor: "ASSESS-TOP names the demand and cites a sentence."}
      - {score: 0, label: "Missing", descriptor: "ASSESS-LOW no demand named."}
    student: ["ASSESS-STUDENT names the demand"]
"""
RUBRIC = """
  - id: s-argue
    type: argument
    difficulty: hard
    prompt: "ARGUE-PROMPT Was the KWP right to call all parties equal?"
    excerpts: [equal]
    answer_lines: 6
    notes:
      answer: "A judgement with evidence."
      evidence: ["s. 91"]
    rubric:
      levels:
        - {score: 4, label: "Strong", descriptor: "RUBRIC-TOP a clear claim with two pieces of evidence."}
        - {score: 1, label: "Beginning", descriptor: "RUBRIC-LOW a claim without evidence."}
      student: ["STUDENT-RUBRIC makes a clear claim", "cites at least two sentences"]
"""
TEACHER_ONLY = ("RUBRIC-TOP", "RUBRIC-LOW", "ASSESS-TOP", "ASSESS-LOW", "ASSESS-MODEL", "MODEL-CLAIM",
                "MODEL-EVIDENCE")


def text_of(pdf: Path) -> str:
    raw = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return " ".join(re.sub(r"-\n(?=[a-z])", "", raw).split())


def differentiated_kit(root: Path) -> Path:
    """The mini kit with an adapted excerpt, an organizer, a rubric, an assessment and three classes."""
    content = root / "content"
    shutil.copytree(FIXTURES / "mini", content)
    sample = content / "lessons" / "sample.yaml"
    text = sample.read_text()
    text = text.replace("        note: governing itself\n", "        note: governing itself\n" + ADAPTED, 1)
    text = text.replace("glossary: [KWP", RUBRIC.lstrip("\n") + "glossary: [KWP", 1) + EXTRA
    sample.write_text(text)
    (content / "classes").mkdir()
    for cid, keys in (("plain", ""), ("adapted", "excerpts: adapted\norganizer: true\n"),
                      ("both", "excerpts: both\nstudent_rubric: true\n")):
        (content / "classes" / f"{cid}.yaml").write_text(f"id: {cid}\nname: Class {cid}\nlessons: [sample]\n{keys}")
    return content


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff")
    content = differentiated_kit(root)
    build(content, root / "output")
    return root / "output"


def test_adapted_class_prints_the_adaptation_labelled_and_not_the_quote(built):
    text = text_of(built / "adapted" / "students" / "sample-student.pdf")
    assert "Excerpt 1, adapted" in text and "Adapted from s. 91-93" in text
    assert "No party leads, and no party is led." in text
    assert "is no such thing as a leading party" not in text  # the original excerpt is replaced
    assert "not the source's words" in text and "wilsoncenter" in text  # the original's citation
    plain = text_of(built / "plain" / "students" / "sample-student.pdf")
    assert "is no such thing as a leading party" in plain and "adapted" not in plain.lower()


def test_both_prints_original_then_adaptation(built):
    text = text_of(built / "both" / "students" / "sample-student.pdf")
    assert text.index("is no such thing as a leading party") < text.index("No party leads, and no party is led.")


def test_adapted_text_is_never_styled_as_a_quotation(tmp_path):
    kit = load_kit(differentiated_kit(tmp_path))
    html = Renderer().html(kit.lessons[0], Edition(excerpts="adapted"))
    block = re.search(r'<section class="adapted".*?</section>', html, flags=re.S)[0]
    assert "<blockquote" not in block and "<q>" not in block
    assert not re.search(r"[\u201c\u201d\"]No party", block)


def test_no_teacher_notes_in_student_files_unless_asked(built):
    for cid in ("plain", "adapted", "both"):
        text = text_of(built / cid / "students" / "sample-student.pdf")
        for phrase in TEACHER_ONLY:
            assert phrase not in text, (cid, phrase)
        assert "ARGUE-PROMPT" in text and "ASSESS-PROMPT" in text
    assert "STUDENT-RUBRIC" not in text_of(built / "plain" / "students" / "sample-student.pdf")
    asked = text_of(built / "both" / "students" / "sample-student.pdf")
    assert "A strong answer:" in asked and "STUDENT-RUBRIC" in asked and "ASSESS-STUDENT" in asked


def test_organizer_blank_for_students_filled_for_teachers(built):
    student = text_of(built / "adapted" / "students" / "sample-student.pdf")
    assert "Graphic organizer" in student and "Does another document agree?" in student
    assert "Graphic organizer" not in text_of(built / "plain" / "students" / "sample-student.pdf")
    teacher = text_of(built / "plain" / "teacher" / "sample-teacher.pdf")
    assert "Graphic organizer: model entries" in teacher
    assert "MODEL-CLAIM" in teacher and "MODEL-EVIDENCE" in teacher


def test_teacher_edition_has_rubrics_assessment_and_adaptation(built):
    text = text_of(built / "plain" / "teacher" / "sample-teacher.pdf")
    for phrase in ("RUBRIC-TOP", "RUBRIC-LOW", "ASSESS-TOP", "ASSESS-MODEL", "Adapted from s. 91-93",
                   "Flesch-Kincaid grade"):
        assert phrase in text, phrase
    assert text.index("RUBRIC-TOP") < text.index("RUBRIC-LOW")


def test_organizer_starts_its_own_page(built):
    pages = [p.extract_text() for p in PdfReader(built / "adapted" / "students" / "sample-student.pdf").pages]
    at = [i for i, page in enumerate(pages) if "Graphic organizer" in page]
    assert at and pages[at[0]].lstrip().startswith(("Graphic organizer", "Sample lesson"))


def shipped():
    return load_kit(ROOT / "content")


def test_every_shipped_excerpt_has_an_adaptation_at_grade_7():
    for lesson in shipped().lessons:
        assert lesson.spec.adapted_grade <= 7
        for excerpt in lesson.excerpts:
            assert excerpt.adapted is not None, (lesson.id, excerpt.id)
            words = " ".join(s.text for s in excerpt.adapted.sentences if s.text != "[...]")
            assert flesch_kincaid(words) <= 7, (lesson.id, excerpt.id)


def test_every_shipped_argument_has_a_rubric_and_every_lesson_an_assessment_and_organizer():
    for lesson in shipped().lessons:
        assert lesson.spec.assessment is not None and lesson.spec.assessment.rubric.levels, lesson.id
        for question in lesson.questions:
            if question.type == "argument":
                assert question.rubric is not None and question.rubric.student, question.id
        model = lesson.spec.organizer.model
        from kit.organizer import columns
        keys = [key for key, _ in columns(lesson.spec)]
        for excerpt in lesson.excerpts:
            assert set(model[excerpt.id]) == set(keys), (lesson.id, excerpt.id)


def test_check_catches_a_changed_date_and_a_dropped_sentence(tmp_path, cli):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    lesson = content / "lessons" / "four-conditions.yaml"
    data = yaml.safe_load(lesson.read_text())
    items = next(e for e in data["excerpts"] if e["id"] == "point-three")["adapted"]["sentences"]
    dated = next(item for item in items if "1964" in item["text"])
    dated["text"] = dated["text"].replace("1964", "1963")
    items.remove(next(item for item in items if item["s"] == 109))
    lesson.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    code, _, err = cli("check", "--content", "content")
    assert code == 2
    assert "drops the number '1964'" in err and "adds the number '1963'" in err
    assert "excerpt 'point-three' leaves out s. 109" in err
    assert re.search(r"four-conditions\.yaml:\d+:\d+: ", err)


def test_shipped_student_handouts_hold_no_rubric_levels_or_model_entries():
    kit = shipped()
    renderer = Renderer()
    for cls in kit.classes:
        p = cls.profile
        for item in cls.lessons:
            lesson = item.lesson
            html = renderer.html(lesson, Edition(excerpts=p.excerpts, organizer=p.organizer,
                                                 student_rubric=p.student_rubric))
            html = " ".join(html.replace("&#39;", "'").split())
            secrets = [level.descriptor for q in lesson.questions if q.rubric for level in q.rubric.levels]
            secrets += [level.descriptor for level in lesson.spec.assessment.rubric.levels]
            secrets += [entry for row in lesson.spec.organizer.model.values() for entry in row.values()]
            secrets.append(lesson.spec.assessment.answer)
            for secret in secrets:
                assert " ".join(secret.split()) not in html, (cls.id, lesson.id, secret[:40])
            if p.student_rubric:
                assert "A strong answer:" in html
