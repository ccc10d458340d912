"""Check a teacher's adapted excerpt against the source: coverage, reading grade, names and numbers."""

from __future__ import annotations

import re

from .errors import Problem
from .models import Adapted
from .quotes import Match, SourceText, normalize

DROPPED = "[...]"
NUMBER = re.compile(r"(?<![\w/.-])\d+(?:[.,/]\d+)*")
NAME = re.compile(r"[A-Z][\w'’/-]*")
SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“]|\d\.)\s*$")


def sentence_parts(match: Match, text: SourceText) -> dict[int, str]:
    """The words each source sentence gives to the excerpt (sentences the excerpt omits are absent)."""
    parts: dict[int, str] = {}
    cursor = match.start
    for segment in match.segments:
        if segment.kind != "text":
            continue
        words = normalize(segment.text)
        at = text.folded.find(words, cursor)
        if at < 0:  # the quote's own spacing differs from the source's: count the whole range
            return {n: text.sentences[n - 1] for n in range(match.first_sentence, match.last_sentence + 1)}
        end = at + len(words)
        for n in range(text.sentence_at(at), text.sentence_at(max(at, end - 1)) + 1):
            lo = max(at, text.starts[n - 1])
            hi = min(end, text.starts[n - 1] + len(text.sentences[n - 1]))
            piece = text.text[lo:hi].strip()
            if re.search(r"\w", piece):
                parts[n] = (parts.get(n, "") + " " + piece).strip()
        cursor = end
    return parts


def key_words(text: str) -> tuple[set[str], set[str]]:
    """The proper names (capitalised, not opening a sentence) and numbers in a text."""
    names = set()
    for m in NAME.finditer(text):
        word = m[0].rstrip("'’-/")
        if word != "I" and (len(word) > 1 and word.isupper() or not SENTENCE_START.search(text[:m.start()])):
            names.add(re.sub(r"['’]s$", "", word))
    return names, set(NUMBER.findall(text))


def _union(pairs) -> tuple[set[str], set[str]]:
    names: set[str] = set()
    numbers: set[str] = set()
    for a, b in pairs:
        names |= a
        numbers |= b
    return names, numbers


def _has(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}", text) is not None


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def plain(adapted: Adapted) -> str:
    """The adapted text a student reads, without the `[...]` markers."""
    return " ".join(item.text for item in adapted.sentences if item.text != DROPPED)


def check(excerpt_id: str, adapted: Adapted, match: Match, text: SourceText, target: float,
          where) -> tuple[list[Problem], float]:
    """Every problem with an adapted excerpt, located by `where(j, key)`, and its reading grade."""
    from .inventory import flesch_kincaid  # the grade `list` shows for readings (inventory imports content)
    problems = []
    count = len(text.sentences)
    parts = sentence_parts(match, text)
    span = f"s. {match.first_sentence}-{match.last_sentence}"
    cited: set[int] = set()
    for j, item in enumerate(adapted.sentences):
        for n in item.s:
            if n > count:
                problems.append(where((j, "s"), f"adapted sentence {j + 1} of excerpt '{excerpt_id}' cites s. {n}; "
                                      f"the source has sentences 1-{count}",
                                      "cite sentence numbers as listed by 'python build.py list'"))
            elif n not in parts and item.text != DROPPED:
                problems.append(where((j, "s"), f"adapted sentence {j + 1} of excerpt '{excerpt_id}' cites s. {n}, "
                                      f"which the excerpt does not print ({span})",
                                      "an adapted text may only stand for sentences the excerpt prints"))
            cited.add(n)
    missing = sorted(set(range(match.first_sentence, match.last_sentence + 1)) - cited)
    if missing:
        problems.append(where((), f"the adapted text of excerpt '{excerpt_id}' leaves out s. {_ranges(missing)}",
                              f"add a sentence for it, or drop it visibly: '- s: {missing[0]}' with "
                              f"'text: \"{DROPPED}\"'"))
    reading = plain(adapted)
    exact = flesch_kincaid(reading) if reading else 0.0
    grade = round(exact, 1)
    if exact > target:
        shown = grade if grade > target else round(exact, 2)  # 7.04 is above 7 even if it rounds to 7.0
        problems.append(where((), f"the adapted text of excerpt '{excerpt_id}' reads at Flesch-Kincaid grade "
                              f"{shown}, above the lesson's adapted_grade {target:g}",
                              "use shorter sentences and shorter words, or raise adapted_grade"))
    changed = " ".join(adapted.changed)
    names, numbers = _union(key_words(parts[n]) for item in adapted.sentences if item.text != DROPPED
                            for n in item.s if n in parts)
    for word in sorted(names | numbers):
        if not _has(word, reading) and not _has(word, changed):
            kind = "number" if word in numbers else "name"
            problems.append(where((), f"the adapted text of excerpt '{excerpt_id}' drops the {kind} '{word}'",
                                  f"keep the source's names, dates and numbers, or list '{word}' under 'changed:'"))
    source_words = " ".join(parts.values())
    new_names, new_numbers = _union(key_words(item.text) for item in adapted.sentences if item.text != DROPPED)
    for word in sorted(new_names | new_numbers):
        if not _has(word, source_words) and not _has(word, changed):
            kind = "number" if word in new_numbers else "name"
            problems.append(where((), f"the adapted text of excerpt '{excerpt_id}' adds the {kind} '{word}', "
                                  "which the excerpt does not have",
                                  "an adaptation may not add facts; list it under 'changed:' if it replaces "
                                  "the source's wording"))
    return problems, grade
