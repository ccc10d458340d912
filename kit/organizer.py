"""The graphic organizer's columns, and the checks on a lesson's organizer and assessment."""

from __future__ import annotations

import re

from .errors import Problem
from .models import ORGANIZER_COLUMNS, LessonSpec

CITATION = re.compile(r"\bss?\.\s*(\d+)(?:\s*[-\u2013]\s*(\d+))?")
# Which column each kind of question asks students to fill, in the order columns print.
FROM_TYPES = (("sourcing", ("sourcing",)), ("claim", ()), ("evidence", ()),
              ("context", ("contextualization",)), ("corroboration", ("corroboration",)))


def columns(spec: LessonSpec) -> tuple[tuple[str, str], ...]:
    """(key, heading) of each column: the lesson's own list, or derived from its question types."""
    if spec.organizer is not None and spec.organizer.columns:
        keys = spec.organizer.columns
    else:
        types = {q.type for q in spec.questions}
        keys = tuple(key for key, need in FROM_TYPES if not need or types & set(need))
    return tuple((key, ORGANIZER_COLUMNS[key]) for key in dict.fromkeys(keys))


def check(spec: LessonSpec, doc, count: int) -> list[Problem]:
    """References in the organizer and the assessment point at real excerpts, columns and sentences."""
    problems = []
    excerpts = [e.id for e in spec.excerpts]
    if spec.organizer is not None:
        keys = {key for key, _ in columns(spec)}
        for eid, entries in spec.organizer.model.items():
            if eid not in excerpts:
                problems.append(doc.problem(("organizer", "model", eid), f"the organizer has entries for unknown "
                                            f"excerpt '{eid}'", f"known excerpts: {', '.join(excerpts)}", key=True))
            for key, entry in entries.items():
                if key not in keys:
                    problems.append(doc.problem(("organizer", "model", eid, key), f"column '{key}' is not on this "
                                                f"lesson's organizer ({', '.join(sorted(keys))})",
                                                "add it to 'columns:', or remove the entry", key=True))
                for m in CITATION.finditer(entry):
                    if int(m[1]) < 1 or int(m[2] or m[1]) > count or int(m[2] or m[1]) < int(m[1]):
                        problems.append(doc.problem(("organizer", "model", eid, key), f"citation '{m[0]}' is "
                                                    f"outside the source's sentences 1-{count}",
                                                    "cite sentence numbers as listed by 'python build.py list'"))
    if spec.assessment is not None:
        for j, ref in enumerate(spec.assessment.excerpts):
            if ref not in excerpts:
                problems.append(doc.problem(("assessment", "excerpts", j), f"the assessment refers to unknown "
                                            f"excerpt '{ref}'", f"known excerpts: {', '.join(excerpts)}"))
    return problems
