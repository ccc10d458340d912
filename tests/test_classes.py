"""Class profiles: selection, order, additions and rewording reach the PDFs; rosters, shuffles, packs."""

import hashlib
import json
import subprocess
import sys
import zipfile

import pytest
from pypdf import PdfReader

from kit.build import build
from kit.content import load_kit
from kit.classes import read_roster, shuffled, student_slug
from kit.errors import KitError

from .conftest import ROOT
from .test_render import text_of

PROFILE = """\
id: tenth
name: "10A History"
teacher: "Ms. Example"
school: "Example School"
term: "Spring"
paper: letter
large_print: true
roster: tenth.csv
shuffle: {shuffle}
student_files: true
lessons:
  - id: sample
    include: [s-equal]                 # the added question follows the included one
    answer_space: 1.5
    reword:
      s-equal: "In your own words: what is a 'leading party'?"
    add:
      - id: s-added
        type: argument
        difficulty: medium
        prompt: "An added question for this class only."
        excerpts: [equal]
        notes:
          answer: "Any reasoned answer."
          evidence: ["s. 92"]
"""
ROSTER = "name\nAna Müller\nBo Chen\nCiara O'Neil\n"


def make_class(mini, shuffle=False, roster=ROSTER):
    (mini / "classes").mkdir(exist_ok=True)
    (mini / "classes" / "tenth.yaml").write_text(PROFILE.format(shuffle=str(shuffle).lower()))
    (mini / "classes" / "tenth.csv").write_text(roster)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("classes")
    import shutil
    from .conftest import FIXTURES
    shutil.copytree(FIXTURES / "mini", root / "content")
    make_class(root / "content")
    lesson = root / "content" / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace("Answer the questions.", "Answer s-equal, then s-context."))
    COLD.append(build(root / "content", root / "out", workers=2))
    return root / "out"


COLD = []  # the report of the `built` fixture's build


def prompts_in_order(text, prompts):
    positions = [text.find(p) for p in prompts]
    assert all(p >= 0 for p in positions), positions
    return positions == sorted(positions)


def test_selection_order_additions_and_rewording_reach_the_pdf(built):
    text = text_of(built / "tenth" / "students" / "sample-student.pdf")
    assert prompts_in_order(text, ["1. In your own words: what is a 'leading party'?",
                                   "2. An added question for this class only."])
    assert "What does the letter say about a" not in text  # reworded away
    assert "Why might the KWP stress equality" not in text  # not included


def test_the_lesson_plan_numbers_questions_as_each_edition_prints_them(built):
    whole = " ".join(text_of(built / "lessons" / "sample" / "sample-teacher.pdf").split())
    assert "Answer Q1, then Q2." in whole
    for_class = " ".join(text_of(built / "tenth" / "teacher" / "sample-teacher.pdf").split())
    assert "Answer Q1, then s-context (not in this edition)." in for_class  # the class does not include it


def test_class_options_reach_the_pdf(built):
    reader = PdfReader(built / "tenth" / "students" / "sample-student.pdf")
    assert round(float(reader.pages[0].mediabox.width)) == 612  # letter
    html = (built / "tenth" / "students" / "sample-student.html").read_text()  # the web handout
    assert '<body class="large">' in html
    assert "10A History" in text_of(built / "tenth" / "students" / "sample-student.pdf")


def test_difficulty_ceiling(mini, tmp_path):
    make_class(mini)
    profile = mini / "classes" / "tenth.yaml"
    profile.write_text(profile.read_text().replace("    include: [s-equal] ", "    max_difficulty: easy "))
    with pytest.raises(KitError) as caught:  # an added question always prints: the ceiling may not drop it
        load_kit(mini)
    assert [p.message for p in caught.value.problems] == [
        "added question 's-added' is medium, above this class's max_difficulty 'easy'"]
    profile.write_text(profile.read_text().replace("max_difficulty: easy", "max_difficulty: medium"))
    build(mini, tmp_path / "out", classes=["tenth"])
    text = text_of(tmp_path / "out" / "tenth" / "students" / "sample-student.pdf")
    assert "Why might the KWP stress equality" not in text  # hard
    assert prompts_in_order(text, ["1. In your own words", "2. An added question for this class only."])


NAMES = ["Ana Müller", "Bo Chen", "Ciara O'Neil"]


def test_roster_copies_carry_their_names(built):
    for index, name in enumerate(NAMES, start=1):
        copy = built / "tenth" / "students" / student_slug(index, name) / "sample-student.pdf"
        reader = PdfReader(copy)
        first = reader.pages[0].extract_text()
        assert name in first and all(other not in first for other in NAMES if other != name)
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])  # still an accessible PDF
    assert student_slug(1, "Ana Müller") == "01-ana-muller"
    pack = PdfReader(built / "tenth" / "teacher" / "tenth-print-pack.pdf")
    firsts = [pack.pages[pack.get_destination_page_number(item)].extract_text() for item in _handouts(pack)]
    assert [next(n for n in NAMES if n in text) for text in firsts] == NAMES


def _handouts(pack: PdfReader) -> list:
    """The print pack's top-level bookmarks (each handout's own bookmarks are nested lists under it)."""
    return [item for item in pack.outline if not isinstance(item, list)]


def _positions(page) -> dict[str, tuple[float, float]]:
    found = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.setdefault(text.strip(), (tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))
    page.extract_text(visitor_text=visit)
    return found


def test_stamped_name_sits_on_the_name_line(built, mini, tmp_path):
    """The stamped name stands where a rendered copy prints it: on the label's line, just after it."""
    copy = PdfReader(built / "tenth" / "students" / "01-ana-muller" / "sample-student.pdf")
    stamped = _positions(copy.pages[0])
    from .test_copies import full_render

    make_class(mini, shuffle=True)
    full_render(mini.parent, "Ana Müller", tmp_path / "rendered.pdf")  # the name printed from the HTML
    rendered = _positions(PdfReader(tmp_path / "rendered.pdf").pages[0])
    assert abs(stamped["Ana Müller"][1] - stamped["Name"][1]) < 1
    assert abs(stamped["Ana Müller"][0] - rendered["Ana Müller"][0]) < 1.5
    assert abs(stamped["Ana Müller"][1] - rendered["Ana Müller"][1]) < 1.5


def test_print_pack_starts_every_handout_on_a_right_hand_page(built):
    reader = PdfReader(built / "tenth" / "teacher" / "tenth-print-pack.pdf")
    starts = [reader.get_destination_page_number(item) for item in _handouts(reader)]
    assert len(starts) == 3 and all(start % 2 == 0 for start in starts)  # 0-based even = odd page
    single = len(PdfReader(built / "tenth" / "students" / "01-ana-muller" / "sample-student.pdf").pages)
    assert len(reader.pages) == 3 * (single + single % 2)
    assert "Ana Müller" in reader.outline[0].title


def test_shuffle_is_reproducible_and_differs_between_students(mini, tmp_path):
    orders = {name: shuffled("tenth", "sample", name, 8) for name in ("Ana", "Bo", "Ciara", "Dev")}
    assert orders == {name: shuffled("tenth", "sample", name, 8) for name in orders}
    assert len(set(orders.values())) > 1
    make_class(mini, shuffle=True, roster="name\n" + "\n".join(f"Student {i}" for i in range(1, 9)) + "\n")
    profile = mini / "classes" / "tenth.yaml"
    profile.write_text(profile.read_text().replace("    include: [s-equal] ", "    # "))
    build(mini, tmp_path / "out", classes=["tenth"])
    firsts = set()
    for index in range(1, 9):
        text = text_of(tmp_path / "out" / "tenth" / "students" / student_slug(index, f"Student {index}") / "sample-student.pdf")
        q1 = text.split("Questions", 1)[1][:60]
        firsts.add(q1)
    assert len(firsts) > 1
    teacher = text_of(tmp_path / "out" / "tenth" / "teacher" / "sample-teacher.pdf")
    assert "Question order in each student's copy" in teacher and "Student 8" in teacher


def test_manifest_hashes_and_pages_match_the_files(built):
    data = json.loads((built / "tenth" / "manifest.json").read_text())
    assert data["class"] == "tenth" and data["built_from"]["lessons"][0]["id"] == "sample"
    kinds = {f["kind"] for f in data["files"]}
    assert {"student", "teacher", "print-pack", "html", "index", "zip", "cartridge"} <= kinds
    for entry in data["files"]:
        file = built / "tenth" / entry["path"]
        assert hashlib.sha256(file.read_bytes()).hexdigest() == entry["sha256"], entry["path"]
        if entry["path"].endswith(".pdf"):
            assert len(PdfReader(file).pages) == entry["pages"]
    named = [f for f in data["files"] if f["student"]]
    assert {f["student"] for f in named} == {"Ana Müller", "Bo Chen", "Ciara O'Neil"}
    index = (built / "tenth" / "teacher" / "index.html").read_text()
    assert "tenth-print-pack.pdf" in index and "Ana Müller" in index and " KB" in index
    index = (built / "tenth" / "students" / "index.html").read_text()
    assert "Ana Müller" in index and "print-pack" not in index and "-teacher.pdf" not in index


def test_the_summary_counts_every_file_the_build_writes(built):
    files = [p.relative_to(built) for p in built.rglob("*") if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(built).parts)]

    def count(pattern, where=lambda p: True):
        return sum(1 for p in files if p.match(pattern) and where(p))

    def own(p):  # a student's own copy: output/<class>/students/<student>/<file>
        return len(p.parts) == 4 and p.parts[1] == "students"
    expected = {"named copies": count("*-student.pdf", own), "handouts": count("*-student.pdf", lambda p: not own(p)),
                "teacher editions": count("*-teacher.pdf"), "print pack": count("*-print-pack.pdf"),
                "HTML pages": count("*.html") - count("index.html"), "index pages": count("index.html"),
                "manifest": count("manifest.json"), "zips": count("*.zip"), "cartridge": count("*.imscc")}
    expected = {k: v for k, v in expected.items() if v}
    report = COLD[0]
    assert dict(report.written) == expected and sum(expected.values()) == len(files)
    assert f"{len(files)} files written (3 named copies, 2 handouts, 2 teacher editions, 1 print pack" in str(report)
    again = build(built.parent / "content", built, workers=2)  # nothing changed: nothing written
    assert again.written == () and again.unchanged == len(files)
    assert f"0 files written, {len(files)} unchanged" in str(again)


def test_teacher_zip_holds_the_class_folder(built):
    with zipfile.ZipFile(built / "tenth-teacher.zip") as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert "tenth/manifest.json" in names and "tenth/teacher/tenth-print-pack.pdf" in names
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.read("tenth/manifest.json") == (built / "tenth" / "manifest.json").read_bytes()


def test_two_builds_are_byte_identical_in_any_process(built, tmp_path):
    content = built.parent / "content"
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(content), "--output",
                    str(tmp_path / "again"), "--quiet", "-j", "1"], check=True, cwd=ROOT,
                   env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "123"})
    def files(folder):
        return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
                if p.is_file() and not p.name.startswith(".")}
    first, second = files(built), files(tmp_path / "again")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_build_one_class_alone(mini, tmp_path, cli):
    make_class(mini)
    code, out, err = cli("--content", mini, "--output", tmp_path / "out", "--class", "tenth", "--quiet")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == ["tenth", "tenth-students.zip", "tenth-teacher.zip", "tenth.imscc"]
    code, out, err = cli("--content", mini, "--output", tmp_path / "out", "--class", "tenht")
    assert code == 2 and "unknown class 'tenht' (did you mean 'tenth'?)" in err


def test_list_json_shows_each_class_in_print_order(mini, cli):
    make_class(mini)
    code, out, err = cli("list", "--json", "--content", mini)
    cls = json.loads(out)["classes"][0]
    assert cls["id"] == "tenth" and cls["roster"] == 3
    assert cls["lms"] == "discussions" and cls["cartridge"] == "tenth.imscc" and not cls["lms_teacher_files"]
    assert [q["id"] for q in cls["lessons"][0]["questions"]] == ["s-equal", "s-added"]
    assert cls["lessons"][0]["questions"][0]["prompt"] == "In your own words: what is a 'leading party'?"


@pytest.mark.parametrize("ending", ["\n\n", "\n \n\t\n", "\r\n\r\n  \r\n", "\n\n\n   "])
def test_a_roster_may_end_in_blank_or_space_only_lines(tmp_path, ending):
    roster = tmp_path / "r.csv"
    roster.write_bytes(("name\nAna Müller\nBo Chen" + ending).encode())
    assert read_roster(roster, "r.csv") == ("Ana Müller", "Bo Chen")
    roster.write_text("name\nAna Müller\n\nBo Chen" + ending)
    with pytest.raises(KitError) as caught:  # a blank line between names is still a mistake
        read_roster(roster, "r.csv")
    assert [str(p) for p in caught.value.problems] == [
        "r.csv:3:1: blank line in the roster (delete the line, or write a name on it)"]


ADDED = """\
    add:
      - id: s-added
        type: argument
        difficulty: medium
        prompt: "Added."
        notes: {answer: "Any.", evidence: ["s. 92"]}
"""


@pytest.mark.parametrize("keys, printed", [
    ("include: [s-equal]\n" + ADDED, ["s-equal", "s-added"]),  # add prints even when include leaves it out
    ("include: [s-added, s-equal]\n" + ADDED, ["s-added", "s-equal"]),  # include can place it
    ("include: [s-context, s-added, s-equal]\n" + ADDED, ["s-context", "s-added", "s-equal"]),
    (ADDED, ["s-equal", "s-context", "s-added"]),  # after the lesson's own
    ("exclude: [s-context]\n" + ADDED, ["s-equal", "s-added"]),
    ("max_difficulty: medium\n" + ADDED, ["s-equal", "s-added"]),
    ("include: [s-equal]\nreword: {s-added: Reworded.}\n" + ADDED, ["s-equal", "s-added: Reworded."]),
])
def test_every_class_key_changes_what_is_printed(mini, keys, printed):
    (mini / "classes").mkdir()
    body = "".join(f"    {line.strip()}\n" if not line.startswith("    ") else f"{line}\n" for line in keys.splitlines())
    (mini / "classes" / "tenth.yaml").write_text(f"id: tenth\nname: T\nlessons:\n  - id: sample\n{body}")
    questions = load_kit(mini).classes[0].lessons[0].lesson.questions
    assert [q.id + (f": {q.prompt}" if q.prompt == "Reworded." else "") for q in questions] == printed
