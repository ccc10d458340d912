"""Which documents a build prints: every lesson's editions, and each class's copies."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .classes import ClassPlan, student_slug
from .content import Kit, Lesson
from .errors import KitError, Problem
from .render import Edition


@dataclass(frozen=True)
class Job:
    """One PDF to print: where it goes, which edition of which lesson, for whom."""

    path: str
    lesson: Lesson
    edition: Edition
    kind: str
    group: str = "lessons"
    student: str = ""
    keep_html: bool = True
    shared: Edition | None = None  # a shuffled copy: the edition whose pages before the questions it reuses
    classmates: tuple[str, ...] = ()  # a shuffled copy: every student of the class (names stamped in one go)


def select_classes(kit: Kit, wanted: list[str]) -> tuple[ClassPlan, ...]:
    """The classes named on the command line (all when none are)."""
    known = {c.id: c for c in kit.classes}
    problems = []
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"known classes: {', '.join(sorted(known)) or 'none'}"
            problems.append(Problem("--class", 1, 1, f"unknown class '{name}'", hint))
    if problems:
        raise KitError(problems)
    return tuple(known[n] for n in dict.fromkeys(wanted)) if wanted else kit.classes


def plan(kit: Kit, paper: str = "a4", classes: list[str] | None = None) -> list[Job]:
    """Every document to print, in a stable order."""
    chosen = select_classes(kit, classes or [])
    jobs: list[Job] = []
    if not classes:
        for lesson in kit.lessons:
            for kind in ("student", "teacher"):
                jobs.append(Job(f"lessons/{lesson.id}/{lesson.id}-{kind}.pdf", lesson,
                                Edition(teacher=kind == "teacher", paper=paper), kind))
    for cls in chosen:
        jobs.extend(class_jobs(cls))
    return jobs


def class_jobs(cls: ClassPlan) -> list[Job]:
    """A class's handouts, teacher editions and named copies."""
    p = cls.profile
    jobs = []
    for item in cls.lessons:
        lesson = item.lesson
        base = class_edition(cls, item)
        # Class folders hold the web handout (kit/cartridge.py), not the HTML a PDF was printed from.
        jobs.append(Job(f"{cls.id}/students/{lesson.id}-student.pdf", lesson, base, "student", cls.id,
                        keep_html=False, classmates=cls.students if p.shuffle else ()))
        if p.teacher_edition:
            copies = tuple((name, order) for name, order in item.orders)
            jobs.append(Job(f"{cls.id}/teacher/{lesson.id}-teacher.pdf", lesson,
                            _replace(base, teacher=True, copies=copies, reading="full", timeline="all",
                                     glossary="all", answers="lines", split=False), "teacher", cls.id,
                            keep_html=False))
        # Without a shuffle every named copy is the class handout with a name stamped on it
        # (kit/copies.py); a shuffled copy lays out only its question pages (kit/shuffled.py).
        orders = dict(item.orders)
        for index, name in enumerate(cls.students if p.shuffle else (), start=1):
            questions = tuple(lesson.questions[n - 1] for n in orders[name])
            jobs.append(Job(f"{cls.id}/students/{student_slug(index, name)}/{lesson.id}-student.pdf", lesson,
                            _replace(base, student=name, questions=questions), "student", cls.id, name,
                            keep_html=False, shared=base, classmates=cls.students))
    return jobs


def class_edition(cls: ClassPlan, item) -> Edition:
    """The class's own handout of one lesson: its paper, print size, answer space and names."""
    p = cls.profile
    return Edition(paper=p.paper, large_print=p.large_print, class_name=p.name, answer_scale=item.answer_scale,
                   teacher_name=p.teacher, school=p.school, term=p.term, excerpts=p.excerpts,
                   organizer=p.organizer, student_rubric=p.student_rubric, reading=p.reading,
                   timeline=p.timeline, glossary=p.glossary, answers=item.answers, split=p.shuffle)


def _replace(edition: Edition, **changes) -> Edition:
    from dataclasses import replace
    return replace(edition, **changes)
