"""Cache keys: a change to each input re-renders exactly the documents it can change; workers stay small."""

import json
import shutil

import pytest

from kit import cache
from kit.build import build
from kit.cache import Keys, templates_digest
from kit.content import load_kit
from kit.plan import plan

from .conftest import FIXTURES, ROOT

OTHER = """\
id: other
title: "A second lesson"
grade_band: "10-12"
duration: 30
source: kwp-letter-1964
objectives: [Read one sentence closely.]
excerpts:
  - id: equal
    quote: "All parties are equal and autonomous."
questions:
  - id: o-one
    type: comprehension
    difficulty: easy
    prompt: What does the sentence claim?
    excerpts: [equal]
    notes:
      answer: That parties are equal.
      evidence: ["s. 91"]
glossary: [CCP]
"""
TENTH = """\
id: tenth
name: "10A History"
paper: letter
roster: tenth.csv
shuffle: true
lessons:
  - id: sample
"""
ELEVENTH = """\
id: eleventh
name: "11B History"
lessons:
  - id: other
"""


@pytest.fixture
def dept(tmp_path):
    """Content and templates for two lessons and two classes (one shuffled with a roster)."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", content)
    (content / "lessons" / "other.yaml").write_text(OTHER)
    (content / "classes").mkdir()
    (content / "classes" / "tenth.yaml").write_text(TENTH)
    (content / "classes" / "tenth.csv").write_text("name\nAna Müller\nBo Chen\nCiara O'Neil\n")
    (content / "classes" / "eleventh.yaml").write_text(ELEVENTH)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return content, tmp_path / "templates"


def keys(content, templates, paper="a4") -> dict[str, str]:
    """Every planned document's cache key, by output path, without rendering anything."""
    k = Keys(templates_digest(templates), content)
    return {job.path: k.job(job) for job in plan(load_kit(content), paper)}


def changed(before: dict, after: dict) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def edit(path, old, new):
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


SAMPLE = {"lessons/sample/sample-student.pdf", "lessons/sample/sample-teacher.pdf"}
OTHERS = {"lessons/other/other-student.pdf", "lessons/other/other-teacher.pdf"}
TENTH_ALL = {"tenth/students/sample-student.pdf", "tenth/teacher/sample-teacher.pdf", "tenth/students/01-ana-muller/sample-student.pdf",
             "tenth/students/02-bo-chen/sample-student.pdf", "tenth/students/03-ciara-o-neil/sample-student.pdf"}
ELEVENTH_ALL = {"eleventh/students/other-student.pdf", "eleventh/teacher/other-teacher.pdf"}


def test_the_plan_is_what_the_other_tests_expect(dept):
    assert set(keys(*dept)) == SAMPLE | OTHERS | TENTH_ALL | ELEVENTH_ALL


def test_nothing_changed_means_the_same_keys(dept):
    assert keys(*dept) == keys(*dept)


@pytest.mark.parametrize("change, expected", [
    # a lesson spec: its own editions and every class copy of it
    (("lessons/sample.yaml", "title: \"Sample lesson", "title: \"Sample lesson, edited"), SAMPLE | TENTH_ALL),
    (("lessons/other.yaml", "What does the sentence claim?", "What does it claim?"), OTHERS | ELEVENTH_ALL),
    # the source: every lesson that quotes it
    (("sources/kwp-letter-1964.yaml", "title:", "title: Edited"),
     SAMPLE | OTHERS | TENTH_ALL | ELEVENTH_ALL),
    # a context reading: only lessons that assign it
    (("context/background.md", "two blocs", "two camps"), SAMPLE | TENTH_ALL),
    # shared glossary and timeline entries: only lessons that use them
    (("glossary.yaml", "The Chinese Communist Party.", "The Communist Party of China."),
     SAMPLE | OTHERS | TENTH_ALL | ELEVENTH_ALL),
    (("glossary.yaml", "The Communist Party of the Soviet Union.", "The CPSU."), SAMPLE | TENTH_ALL),
    (("timeline.yaml", "The Korean War begins.", "The Korean War breaks out."), SAMPLE | TENTH_ALL),
    (("timeline.yaml", "Outside the range.", "Still outside the range."), set()),
    # a class profile: that class only
    (("classes/tenth.yaml", "10A History", "10A History (Room 4)"), TENTH_ALL),
    (("classes/eleventh.yaml", "11B History", "11B"), ELEVENTH_ALL),
])
def test_each_content_change_invalidates_exactly_its_documents(dept, change, expected):
    content, templates = dept
    before = keys(content, templates)
    edit(content / change[0], change[1], change[2])
    assert changed(before, keys(content, templates)) == expected


def test_a_roster_row_changes_that_student_and_the_teacher_edition_only(dept):
    content, templates = dept
    before = keys(content, templates)
    edit(content / "classes" / "tenth.csv", "Bo Chen", "Bo Cheng")
    after = keys(content, templates)
    # the renamed student's copy has a new path; the teacher edition lists every copy's order
    assert changed(before, after) == {"tenth/teacher/sample-teacher.pdf", "tenth/students/02-bo-chen/sample-student.pdf",
                                      "tenth/students/02-bo-cheng/sample-student.pdf"}


@pytest.mark.parametrize("file", ["handout.css", "student.html.j2", "fonts/NotoSerif-Regular.ttf"])
def test_templates_css_and_fonts_invalidate_everything(dept, file):
    content, templates = dept
    before = keys(content, templates)
    target = templates / file
    assert target.is_file(), target
    with open(target, "ab") as handle:
        handle.write(b"\n/* edited */\n" if file.endswith((".css", ".j2")) else b"\0")
    after = keys(content, templates)
    assert changed(before, after) == set(before)


def test_kit_version_invalidates_everything(dept, monkeypatch):
    before = keys(*dept)
    monkeypatch.setattr(cache, "__version__", "999.0")
    assert changed(before, keys(*dept)) == set(before)


def test_paper_option_changes_only_the_unclassed_lessons(dept):
    # a class prints on its own paper; --paper only sets it for lessons/
    assert changed(keys(*dept, paper="a4"), keys(*dept, paper="letter")) == SAMPLE | OTHERS


def test_an_image_in_a_reading_is_part_of_the_key(dept):
    content, templates = dept
    shutil.copy(FIXTURES / "pixel.png", content / "context" / "map.png")
    edit(content / "context" / "background.md", "- One point", "![A map](map.png)\n\n- One point")
    before = keys(content, templates)
    with open(content / "context" / "map.png", "ab") as handle:
        handle.write(b"\0")
    assert changed(before, keys(content, templates)) == SAMPLE | TENTH_ALL


# --- the build uses the keys ------------------------------------------------------------------------


def _state(out):
    return json.loads((out / cache.STATE).read_text())["files"]


def _snapshot(out):
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in out.rglob("*") if p.is_file() and not p.name.startswith(".kit")}


def test_builds_render_only_what_changed_and_the_cache_survives_a_failure(dept):
    content, templates = dept
    out = content.parent / "out"
    first = build(content, out, workers=1, templates=templates)
    assert first.rendered == first.documents == len(SAMPLE | OTHERS | TENTH_ALL | ELEVENTH_ALL)
    files = _snapshot(out)

    again = build(content, out, workers=1, templates=templates)
    assert (again.rendered, again.reused) == (0, first.documents)
    assert _snapshot(out) == files  # not rewritten: same bytes and same dates

    edit(content / "classes" / "eleventh.yaml", "11B History", "11B")
    one = build(content, out, workers=1, templates=templates)
    assert one.rendered == len(ELEVENTH_ALL)
    now = _snapshot(out)
    assert {p for p in now if now[p] != files.get(p)} >= ELEVENTH_ALL
    assert not {p for p in now if now[p] != files.get(p) and not p.startswith("eleventh")}

    # a build that fails (a misquote) changes nothing, and the next good build still reuses the cache
    state = _state(out)
    edit(content / "lessons" / "other.yaml", "equal and autonomous", "equal and independent")
    with pytest.raises(Exception):
        build(content, out, workers=1, templates=templates)
    assert _state(out) == state and _snapshot(out) == now
    edit(content / "lessons" / "other.yaml", "equal and independent", "equal and autonomous")
    assert build(content, out, workers=1, templates=templates).rendered == 0

    with open(templates / "handout.css", "a") as handle:
        handle.write("\n/* edited */\n")
    assert build(content, out, workers=1, templates=templates).rendered == first.documents


# --- workers ----------------------------------------------------------------------------------------


def test_a_worker_whose_memory_grows_starts_afresh(dept, monkeypatch):
    from pypdf import PdfReader

    from kit import pdf
    from kit.render import Edition, Renderer

    content, templates = dept
    monkeypatch.setattr(pdf, "_WORKER", None)
    pdf.init_worker(str(content), str(templates))
    lesson = load_kit(content).lessons[0]
    html = Renderer(templates, content).html(lesson, Edition())
    first = pdf.printer()
    pdf.render_to(html, "a4", False, str(content.parent / "a.pdf"))
    assert pdf.printer() is first  # well under the limit: fonts and stylesheets are kept
    monkeypatch.setattr(pdf, "MEMORY_LIMIT_MB", 0)
    result = pdf.render_to(html, "a4", False, str(content.parent / "b.pdf"))
    assert pdf.printer() is not first and pdf.printer() is not None
    assert result[0] == len(PdfReader(content.parent / "b.pdf").pages) > 0
    assert (content.parent / "a.pdf").read_bytes() == (content.parent / "b.pdf").read_bytes()


def test_the_pool_keeps_going_past_hundreds_of_documents_per_worker(dept):
    # CPython gh-115634: a pool with max_tasks_per_child stalls once a worker retires.
    import os

    from kit.build import _pool

    with _pool(2, dept) as pool:
        futures = [pool.submit(os.getpid) for _ in range(600)]
        pids = {future.result(timeout=120) for future in futures}
    assert 1 <= len(pids) <= 2
