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
from .errors import Collector, KitError, Problem, display_path
from .models import DIFFICULTIES, Id, Model, Question, Short, Text

MAX_STUDENTS = 500
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


def read_roster(file: Path, path: str) -> tuple[str, ...]:
    """Student names from a CSV with a `name` column (or `first name` and `last name`)."""
    text = yamlfile.read_text(file, path, limit=200_000)
    rows = list(csv.reader(io.StringIO(text)))
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
        key = name.casefold()
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


def load_classes(root: Path, lessons: dict, broken: set[str], problems: Collector) -> tuple[ClassPlan, ...]:
    """Every class profile in content/classes/, checked against the kit's lessons."""
    from .content import load_all  # the content loader's file rules apply to classes too

    plans = []
    for profile, doc in load_all(root / "classes", "*.yaml", ClassProfile, problems, root).values():
        plan = _plan(profile, doc, root / "classes" / f"{profile.id}.yaml", root, lessons, broken, problems)
        if plan:
            plans.append(plan)
    return tuple(sorted(plans, key=lambda p: p.id))


def _plan(profile, doc, file: Path, root: Path, lessons: dict, broken: set[str], problems) -> ClassPlan | None:
    before = len(problems.problems)
    students: tuple[str, ...] = ()
    roster_text = ""
    if profile.roster:
        roster = (file.parent / profile.roster)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.csv", profile.roster) or not roster.is_file():
            problems.append(doc.problem(("roster",), f"roster '{profile.roster}' not found next to {file.name}",
                                        "put the CSV file in content/classes/ and give its file name"))
        else:
            try:
                students = read_roster(roster, display_path(roster, root))
                roster_text = roster.read_text("utf-8")
            except KitError as exc:
                problems.extend(exc)
    if profile.shuffle and not profile.roster:
        problems.append(doc.problem(("shuffle",), "shuffle needs a roster", "add 'roster: FILE.csv' or remove shuffle"))
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
        selected = _questions(lessons[spec.id], spec, doc, i, problems)
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
    digest = hashlib.sha256((file.read_text("utf-8") + "\0" + roster_text).encode()).hexdigest()
    return ClassPlan(profile, display_path(file, root), tuple(class_lessons), students, digest)


def _questions(lesson, spec: ClassLessonSpec, doc, i: int, problems) -> tuple[Question, ...] | None:
    """The class's questions for one lesson, in print order."""
    base = {q.id: q for q in lesson.questions}
    added = {}
    excerpts = {e.id for e in lesson.excerpts}
    for j, question in enumerate(spec.add):
        if question.id in base or question.id in added:
            problems.append(doc.problem(("lessons", i, "add", j, "id"), f"question id '{question.id}' is already used",
                                        "give the added question a new id"))
        for ref in question.excerpts:
            if ref not in excerpts:
                problems.append(doc.problem(("lessons", i, "add", j, "excerpts"),
                                            f"unknown excerpt '{ref}' in lesson '{lesson.id}'",
                                            _suggest(ref, excerpts)))
        added[question.id] = question
    every = {**base, **added}
    bad = False
    for key in ("include", "exclude"):
        for j, qid in enumerate(getattr(spec, key) or ()):
            if qid not in every:
                problems.append(doc.problem(("lessons", i, key, j), f"unknown question '{qid}' in lesson '{lesson.id}'",
                                            _suggest(qid, every)))
                bad = True
    for qid in spec.reword:
        if qid not in every:
            problems.append(doc.problem(("lessons", i, "reword", qid), f"cannot reword unknown question '{qid}'",
                                        _suggest(qid, every), key=True))
            bad = True
    if bad:
        return None
    order = list(spec.include) if spec.include is not None else list(base) + list(added)
    order = [qid for qid in order if qid not in spec.exclude]
    if spec.max_difficulty:
        ceiling = DIFFICULTIES.index(spec.max_difficulty)
        for j, qid in enumerate(spec.include or ()):
            if DIFFICULTIES.index(every[qid].difficulty) > ceiling:
                problems.append(doc.problem(("lessons", i, "include", j), f"question '{qid}' is "
                                            f"{every[qid].difficulty}, above this class's max_difficulty "
                                            f"'{spec.max_difficulty}'", "remove it from include, or raise max_difficulty"))
                return None
        order = [qid for qid in order if DIFFICULTIES.index(every[qid].difficulty) <= ceiling]
    if not order:
        problems.append(doc.problem(("lessons", i), f"no questions left for lesson '{lesson.id}'",
                                    "include at least one question"))
        return None
    return tuple(every[qid].model_copy(update={"prompt": spec.reword[qid]}) if qid in spec.reword else every[qid]
                 for qid in order)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else f"known ids: {', '.join(sorted(choices))}"


