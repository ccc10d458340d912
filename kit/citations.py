"""Sentence citations in teacher notes ('s. 41', 'ss. 41-44', 'kwp-letter-1964 s. 93-96'), checked against sources."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from .errors import Problem
from .models import Source

CITATION = re.compile(r"(?:(?<![\w-])(?P<source>[a-z0-9][a-z0-9-]*)[ \t]+)?"
                      r"\bss?\.\s*(?P<first>\d+)(?:\s*[-\u2013]\s*(?P<last>\d+))?")
NAMED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")  # an id with a hyphen names a source even when misspelt


def evidence_problems(doc, at: tuple, evidence: Sequence[str], own: Source,
                      sources: Mapping[str, Source]) -> list[Problem]:
    """Every citation in a question's evidence that names no source or no sentence of it."""
    problems = []
    sources = {own.id: own, **sources}
    for j, item in enumerate(evidence):
        for m in CITATION.finditer(item):
            name, shown = m["source"], m[0]
            if name and name not in sources and not NAMED.fullmatch(name):
                # an ordinary word before 's.' ("see s. 4") is not a source: this cites the lesson's own
                name, shown = None, item[m.end("source"):m.end()].strip()
            if name and name not in sources:
                close = difflib.get_close_matches(name, list(sources), n=1, cutoff=0.6)
                problems.append(doc.problem(at + (j,), f"citation '{shown}' names unknown source '{name}'",
                                            f"did you mean '{close[0]}'?" if close else
                                            f"known sources: {', '.join(sorted(sources))}"))
                continue
            source = sources[name] if name else own
            first, last = int(m["first"]), int(m["last"] or m["first"])
            count = len(source.sentences)
            if first < 1 or last > count or last < first:
                whose = "the source's" if source.id == own.id else f"{source.id}'s"
                problems.append(doc.problem(at + (j,), f"citation '{shown}' is outside {whose} sentences 1-{count}",
                                            f"see the numbered sentences with 'python build.py list {source.id}'"))
    return problems
