"""Lesson plans: the question ids a lesson's timing names, checked, and printed as each edition's numbers."""

from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

from .errors import Problem

WORD = re.compile(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])")  # id-shaped: lowercase, with a hyphen


def _ids(ids) -> re.Pattern:
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")


def planned(spec) -> tuple[str, ...]:
    """The lesson's question ids its timing mentions, in order of first mention."""
    pattern = _ids(q.id for q in spec.questions)
    return tuple(dict.fromkeys(m[1] for step in spec.timing for m in pattern.finditer(step.activity)))


def timing_problems(spec, doc) -> list[Problem]:
    """Words in the timing that look like one of the lesson's question ids but are none (a misspelt id)."""
    ids = [q.id for q in spec.questions]
    others = {e.id for e in spec.excerpts} | set(spec.context)
    heads = [qid.split("-")[0] + "-" for qid in ids]
    shared = {h for h in heads if heads.count(h) > 1}  # 'fc-' when the lesson's ids share it
    problems = []
    for i, step in enumerate(spec.timing):
        for word in dict.fromkeys(WORD.findall(step.activity)):
            if word in ids or word in others:
                continue
            close = difflib.get_close_matches(word, ids, n=1, cutoff=0.8)
            if close or word.startswith(tuple(shared)):
                hint = difflib.get_close_matches(word, ids, n=1, cutoff=0.5)
                problems.append(doc.problem(("timing", i, "activity"), f"the lesson plan names unknown question "
                                            f"'{word}'", f"did you mean '{hint[0]}'?" if hint else
                                            f"the lesson's questions: {', '.join(ids)}"))
    return problems


def question_refs(text: str, questions, mentioned: tuple[str, ...] = ()) -> Markup:
    """A plan step with question ids as this edition's numbers ("fc-tone" -> "Q4"), and those it leaves out marked."""
    numbers = {q.id: n for n, q in enumerate(questions, start=1)}
    known = set(numbers) | set(mentioned)
    if not known:
        return escape(text)

    def ref(match: re.Match) -> str:
        qid = match[1]
        if qid in numbers:
            return f"Q{numbers[qid]}"
        return f'<span class="not-printed">{qid} (not in this edition)</span>'

    return Markup(_ids(known).sub(ref, str(escape(text))))
