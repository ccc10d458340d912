"""Class profiles and rosters: each class's selection, order and wording of a lesson's questions."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import io
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from . import yamlfile
from .citations import evidence_problems
from .errors import Collector, KitError, Problem, display_path
from .files import read_bytes
from .write import name_clashes
from .models import DIFFICULTIES, Id, Model, Question, Short, Text

MAX_STUDENTS = 500
MAX_NAME = 80  # characters; kit/copies.py fits a name this long on the name line
ANSWER_SPACES = ("lines", "compact", "none")


class ClassLessonSpec(Model):
    """How one class uses one lesson."""

    id: Id
    include: tuple[Id, ...] | None = None
    exclude: tuple[Id, ...] = ()
    add: tuple[Question, ...] = ()
    reword: dict[str, Text] = {}
    max_difficulty: Literal[DIFFICULTIES] | None = None  # type: ignore[valid-type]
    # A number scales the ruled lines; a word overrides the class's answer_space for this lesson.
    answer_space: Annotated[float, Field(ge=0.25, le=4.0)] | Literal[ANSWER_SPACES] = 1.0  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value):
        return {"id": value} if isinstance(value, str) else value


class ClassProfile(Model):
    """A class as its teacher describes it in content/classes/<id>.yaml."""

    id: Id
    name: Short
    teacher: str = ""
    school: str = ""
    term: str = ""
    paper: Literal["a4", "letter"] = "a4"
    large_print: bool = False
    teacher_edition: bool = True
    roster: str | None = None
    shuffle: bool = False
    student_files: bool = False
    lessons: tuple[ClassLessonSpec, ...] = Field(min_length=1)
    excerpts: Literal["original", "adapted", "both"] = "original"
    organizer: bool = False
    student_rubric: bool = False
    lms: Literal["discussions", "quiz", "both"] = "discussions"  # questions in the .imscc cartridge
    lms_teacher_files: bool = False  # the cartridge also carries teacher editions, for instructors only
    # Paper choices: what the student handouts print (teacher editions always print everything).
    reading: Literal["full", "summary", "none"] = "full"
    timeline: Literal["all", "lesson", "none"] = "all"
    glossary: Literal["all", "used"] = "all"
    answer_space: Literal[ANSWER_SPACES] = "lines"  # type: ignore[valid-type]


@dataclass(frozen=True)
class ClassLesson:
    """A lesson as this class gets it, and each student's question order when shuffled."""

    lesson: object  # content.Lesson with the class's questions
    answer_scale: float
    orders: tuple[tuple[str, tuple[int, ...]], ...]  # (student, 1-based question numbers)
    answers: str = "lines"  # lines | compact | none: the student handout's room to write


@dataclass(frozen=True)
class ClassPlan:
    """Everything needed to print one class's materials."""

    profile: ClassProfile
    path: str
    lessons: tuple[ClassLesson, ...]
    students: tuple[str, ...]
    digest: str

    @property
    def id(self) -> str:
        return self.profile.id


def student_slug(index: int, name: str) -> str:
    """'Ana Müller' -> '01-ana-muller': safe in paths, ordered like the roster."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40] or "student"
    return f"{index:02d}-{slug}"


def shuffled(class_id: str, lesson_id: str, student: str, count: int) -> tuple[int, ...]:
    """A reproducible question order for one student's copy."""
    seed = hashlib.sha256(f"{class_id}\0{lesson_id}\0{student}".encode()).digest()
    order = list(range(1, count + 1))
    random.Random(seed).shuffle(order)
    return tuple(order)


def read_roster(file: Path, path: str, root: Path | None = None) -> tuple[str, ...]:
    """Student names from a CSV with a `name` column (or `first name` and `last name`)."""
    text = yamlfile.read_text(file, path, limit=200_000, root=root)
    # Editors and spreadsheets often leave empty or space-only lines at the end: they are not rows.
    reader, rows, start = csv.reader(io.StringIO(text.rstrip() + "\n")), [], 1
    try:
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:  # e.g. a field over the csv module's limit: an unclosed quote, usually
        raise KitError(Problem(path, start, 1, f"the roster cannot be read as CSV: {exc}",
                               "close every quote (\") you open; a name is one short field"))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise KitError(Problem(path, 1, 1, "the roster has no header row",
                               "start with a header line such as: name"))
    header = [re.sub(r"[\s_]+", " ", cell.strip().lower()) for cell in rows[0]]
    if "name" in header:
        pick = [header.index("name")]
    elif "first name" in header and "last name" in header:
        pick = [header.index("first name"), header.index("last name")]
    else:
        raise KitError(Problem(path, 1, 1, f"no 'name' column in the header ({', '.join(rows[0])})",
                               "name a column 'name', or 'first name' and 'last name'"))
    problems = Collector()
    names: list[str] = []
    first: dict[str, int] = {}
    lines = text.splitlines()
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            if number <= len(lines):
                problems.add(path, number, 1, "blank line in the roster", "delete the line, or write a name on it")
            continue
        name = " ".join(" ".join(row[i] for i in pick if i < len(row)).split())
        if not name:
            problems.add(path, number, 1, "this row has no name", "fill in the name, or delete the row")
            continue
        if len(name) > MAX_NAME:
            problems.add(path, number, 1, f"name is {len(name)} characters long, over the limit of {MAX_NAME}",
                         "shorten it to the name the student goes by; it must fit the name line")
            continue
        key = unicodedata.normalize("NFC", name).casefold()  # "José" typed two ways is one student
        if key in first:
            problems.add(path, number, 1, f"'{name}' is listed twice (first on line {first[key]})",
                         "add an initial to tell the two students apart")
            continue
        first[key] = number
        names.append(name)
    if len(names) > MAX_STUDENTS:
        problems.add(path, 1, 1, f"{len(names)} students, over the limit of {MAX_STUDENTS}",
                     "split the class into several rosters")
    problems.raise_if_any()
    return tuple(names)


def load_classes(root: Path, lessons: dict, broken: set[str], problems: Collector,
                 sources: dict | None = None) -> tuple[ClassPlan, ...]:
    """Every class profile in content/classes/, checked against the kit's lessons."""
    from .content import load_all  # the content loader's file rules apply to classes too

    plans = []
    profiles = load_all(root / "classes", "*.yaml", ClassProfile, problems, root)
    for class_id, clash in name_clashes(list(profiles)).items():
        problems.append(profiles[class_id][1].problem(("id",), f"class id '{class_id}' would overwrite {clash}",
                                                      "choose another id (and rename the file to match)"))
        del profiles[class_id]
    for profile, doc in profiles.values():
        plan = _plan(profile, doc, root / "classes" / f"{profile.id}.yaml", root, lessons, broken, problems,
                     sources or {})
        if plan:
            plans.append(plan)
    return tuple(sorted(plans, key=lambda p: p.id))


def _plan(profile, doc, file: Path, root: Path, lessons: dict, broken: set[str], problems,
          sources: dict) -> ClassPlan | None:
    before = len(problems.problems)
    students: tuple[str, ...] = ()
    roster_text = ""
    if profile.roster:
        roster = (file.parent / profile.roster)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.csv", profile.roster) or not (
                roster.exists() or roster.is_symlink()):
            problems.append(doc.problem(("roster",), f"roster '{profile.roster}' not found next to {file.name}",
                                        "put the CSV file in content/classes/ and give its file name"))
        else:
            try:
                students = read_roster(roster, display_path(roster, root), root)
                roster_text = read_bytes(roster, root).decode("utf-8-sig")
            except KitError as exc:
                problems.extend(exc)
    if profile.shuffle and not profile.roster:
        problems.append(doc.problem(("shuffle",), "shuffle needs a roster", "add 'roster: FILE.csv' or remove shuffle"))
    if profile.lms_teacher_files and not profile.teacher_edition:
        problems.append(doc.problem(("lms_teacher_files",), "lms_teacher_files needs the teacher edition",
                                    "remove 'teacher_edition: false', or 'lms_teacher_files: true'"))
    seen: set[str] = set()
    class_lessons = []
    for i, spec in enumerate(profile.lessons):
        if spec.id in seen:
            problems.append(doc.problem(("lessons", i), f"lesson '{spec.id}' is listed twice", "list it once"))
            continue
        seen.add(spec.id)
        if spec.id not in lessons:
            if spec.id not in broken:
                close = difflib.get_close_matches(spec.id, list(lessons), n=1, cutoff=0.6)
                problems.append(doc.problem(("lessons", i), f"unknown lesson '{spec.id}'",
                                            f"did you mean '{close[0]}'?" if close else
                                            f"known lessons: {', '.join(sorted(lessons))}"))
            continue
        selected = _questions(lessons[spec.id], spec, doc, i, problems, sources)
        if selected is None:
            continue
        lesson = lessons[spec.id]
        variant = dataclasses.replace(lesson, spec=lesson.spec.model_copy(update={"questions": selected}))
        orders = tuple((s, shuffled(profile.id, spec.id, s, len(selected))) for s in students) if profile.shuffle else ()
        if profile.reading == "summary":
            for reading in lesson.context:
                if not reading.summary:
                    problems.append(doc.problem(("reading",), f"context reading '{reading.id}' (lesson '{spec.id}') "
                                                "has no summary", f"add 'summary: ...' to the front matter of "
                                                f"content/context/{reading.id}.md, or use reading: full"))
        scale, answers = ((spec.answer_space, profile.answer_space) if isinstance(spec.answer_space, float)
                          else (1.0, spec.answer_space))
        class_lessons.append(ClassLesson(variant, scale, orders, answers))
    if len(problems.problems) > before:
        return None
    digest = hashlib.sha256(read_bytes(file, root) + b"\0" + roster_text.encode()).hexdigest()
    return ClassPlan(profile, display_path(file, root), tuple(class_lessons), students, digest)


def _questions(lesson, spec: ClassLessonSpec, doc, i: int, problems, sources: dict) -> tuple[Question, ...] | None:
    """The class's questions for one lesson, in print order; every key must change what is printed."""
    before = len(problems.problems)

    def problem(loc, message, hint, key=False):
        problems.append(doc.problem(("lessons", i) + loc, message, hint, key=key))

    base = {q.id: q for q in lesson.questions}
    added: dict[str, Question] = {}
    excerpts = {e.id for e in lesson.excerpts}
    for j, question in enumerate(spec.add):
        if question.id in base or question.id in added:
            problem(("add", j, "id"), f"question id '{question.id}' is already used", "give the added question a new id")
        for k, ref in enumerate(question.excerpts):
            if ref not in excerpts:
                problem(("add", j, "excerpts", k), f"unknown excerpt '{ref}' in lesson '{lesson.id}'",
                        _suggest(ref, excerpts))
        problems.problems.extend(evidence_problems(doc, ("lessons", i, "add", j, "notes", "evidence"),
                                                   question.notes.evidence, lesson.source, sources))
        added.setdefault(question.id, question)
    every = {**base, **added}
    include = spec.include
    for key in ("include", "exclude"):
        seen: set[str] = set()
        for j, qid in enumerate(getattr(spec, key) or ()):
            if qid not in every:
                problem((key, j), f"unknown question '{qid}' in lesson '{lesson.id}'", _suggest(qid, every))
            elif qid in seen:
                problem((key, j), f"question '{qid}' is listed twice in {key}", "list it once")
            seen.add(qid)
    for qid in spec.reword:
        if qid not in every:
            problem(("reword", qid), f"cannot reword unknown question '{qid}' in lesson '{lesson.id}'",
                    _suggest(qid, every), key=True)
    ceiling = DIFFICULTIES.index(spec.max_difficulty) if spec.max_difficulty else len(DIFFICULTIES)

    def above(qid: str) -> bool:
        return qid in every and DIFFICULTIES.index(every[qid].difficulty) > ceiling

    above_hint = "lower its difficulty, or raise max_difficulty"
    for j, qid in enumerate(include or ()):
        if above(qid):
            problem(("include", j), f"question '{qid}' is {every[qid].difficulty}, above this class's max_difficulty "
                    f"'{spec.max_difficulty}'", "remove it from include, or raise max_difficulty")
    for j, question in enumerate(spec.add):
        if above(question.id):
            problem(("add", j, "difficulty"), f"added question '{question.id}' is {question.difficulty}, above this "
                    f"class's max_difficulty '{spec.max_difficulty}'", above_hint)
    for j, qid in enumerate(spec.exclude):
        if qid not in every:
            continue
        if qid in added:
            problem(("exclude", j), f"'{qid}' is added by this class: excluding it has no effect",
                    "added questions always print: delete it from add instead")
        elif include is not None and qid in include:
            problem(("exclude", j), f"question '{qid}' is both included and excluded", "keep it in one list only")
        elif include is not None:
            problem(("exclude", j), f"question '{qid}' is not in include: excluding it has no effect",
                    "delete it from exclude; include alone says what is printed")
        elif above(qid):
            problem(("exclude", j), f"question '{qid}' is {every[qid].difficulty}: max_difficulty "
                    f"'{spec.max_difficulty}' drops it already, so excluding it has no effect", "delete it from exclude")
    if include is not None:  # added questions not placed by include follow the included ones
        order = list(include) + [qid for qid in added if qid not in include]
    else:
        order = [qid for qid in base if qid not in spec.exclude and not above(qid)] + list(added)
    for qid in spec.reword:
        if qid in every and qid not in order:
            why = ("it is excluded" if qid in spec.exclude else "it is not in include" if include is not None
                   else f"max_difficulty '{spec.max_difficulty}' drops it")
            problem(("reword", qid), f"cannot reword '{qid}': {why}, so this class's edition does not print it",
                    "delete the reword, or print the question", key=True)
    if len(problems.problems) > before:
        return None
    if not order:
        problem((), f"no questions left for lesson '{lesson.id}'", "include at least one question")
        return None
    return tuple(every[qid].model_copy(update={"prompt": spec.reword[qid]}) if qid in spec.reword else every[qid]
                 for qid in order)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else f"known ids: {', '.join(sorted(choices))}"


