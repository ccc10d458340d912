"""Explain a misquote: align its words with the source and name the first that differ."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass

from .quotes import MAX_INSERTION, Segment, SourceText, Token, word_tokens

CONTEXT = 3


def explain(source: SourceText, parts: list[tuple[str, Segment | None]], after: int = 0) -> str:
    """The hint for a quote whose text parts (each with the gap before it) are not in `source`."""
    return _Diagnosis(source, parts, after).explain()


@dataclass
class _Placed:
    """One text part of a quote aligned with the source."""

    words: list[Token]
    text: str
    first: int  # source token index where the aligned span starts
    last: int   # source token index where it ends (inclusive)
    ops: list[tuple[str, int, int, int, int]]


class _Diagnosis:
    """Why a quote is not in the source: the first words that differ, and where."""

    def __init__(self, source: SourceText, parts: list[tuple[str, Segment | None]], after: int = 0):
        self.source = source
        self.parts = parts
        self.after = after

    def explain(self) -> str:
        placed = self._place_all()
        if not any(placed):
            if self.after:
                return "none of these words come after the 'from:' words in the source; check the order"
            return "none of its words are in the source; check that the lesson names the right source"
        for index, part in enumerate(placed):
            part = part or self._between(placed, index)
            if part is None:
                label = "" if index == 0 else " after [...]" if self.parts[index][1].kind == "elision" else \
                    f" after {self.parts[index][1].text}"
                where = "near the rest of the quote" if any(w.text in self.source.where for w in
                                                            word_tokens(self.parts[index][0])) else "at all"
                return f"the words{label} '{self.parts[index][0]}' are not in the source {where}; {self._closest(placed)}"
            problem = self._difference(part)
            elsewhere = self.source.folded.find(self.parts[index][0]) if len(placed) > 1 else -1
            if problem and elsewhere >= 0:
                return (f"the words '{self.parts[index][0]}' are in the source "
                        f"(s. {self.source.sentence_at(elsewhere)}), but not in this order with the rest of "
                        f"the quote; {self._closest(placed)}")
            if problem:
                return f"{problem}; {self._closest(placed)}"
        return ("every part is in the source, but not in this order or not this close together "
                f"(an [insertion] stands for at most {MAX_INSERTION} characters); {self._closest(placed)}")

    def _between(self, placed: list[_Placed | None], k: int) -> _Placed | None:
        """A part with no word in the source, set beside a neighbour it is joined to by an [insertion]."""
        words, tokens = word_tokens(self.parts[k][0]), self.source.tokens
        nxt = placed[k + 1] if k + 1 < len(placed) and self.parts[k + 1][1].kind == "insertion" else None
        prev = placed[k - 1] if k and self.parts[k][1].kind == "insertion" else None
        if nxt is not None:
            end = nxt.first - (1 if nxt.first and tokens[nxt.first - 1].text.startswith("[") else 0)
            start = max(0, end - len(words))
        elif prev is not None:
            start = prev.last + 1 + (1 if prev.last + 1 < len(tokens) and tokens[prev.last + 1].text.startswith("[") else 0)
            end = min(len(tokens), start + len(words))
        else:
            return None
        if end <= start:
            return None
        return _Placed(words, self.parts[k][0], start, end - 1, [("replace", 0, len(words), start, end)])

    def _closest(self, placed: list[_Placed | None]) -> str:
        found = [p for p in placed if p is not None] or [self._between(placed, 0)]
        first, last = found[0].first, found[-1].last
        passage = self.source.passage(first, max(first, last))
        close = passage if len(passage) <= 160 else passage[:157] + "..."
        return f'closest passage ({self._cite(first, max(first, last))}): "{close}"'

    def _cite(self, first: int, last: int) -> str:
        a = self.source.sentence_at(self.source.tokens[first].start)
        b = self.source.sentence_at(self.source.tokens[last].start)
        return f"s. {a}" if a == b else f"s. {a}-{b}"

    def _place_all(self) -> list[_Placed | None]:
        """Align the best-matching part first, then its neighbours forward and backward."""
        n = len(self.source.tokens)
        words = [word_tokens(text) for text, _ in self.parts]
        scored = [self._vote(w, self.after, n, late=False) for w in words]
        if not any(score for score, _ in scored):
            return []
        placed: list[_Placed | None] = [None] * len(words)
        for k in sorted(range(len(words)), key=lambda i: (-scored[i][0], i)):  # surest part first
            before = max((j for j in range(k) if placed[j] is not None), default=None)
            after = min((j for j in range(k + 1, len(words)) if placed[j] is not None), default=None)
            lo = placed[before].last + 1 if before is not None else self.after
            hi = placed[after].first if after is not None else n
            if before == k - 1 and self.parts[k][1].kind == "insertion":
                hi = min(hi, lo + len(words[k]) + MAX_INSERTION // 3)
            if after == k + 1 and self.parts[k + 1][1].kind == "insertion":
                lo = max(lo, hi - len(words[k]) - MAX_INSERTION // 3)
            if lo < hi:
                placed[k] = self._aligned(words[k], self.parts[k][0], lo, hi, late=before is None and after is not None)
        return placed

    def _aligned(self, words: list[Token], text: str, lo: int, hi: int, late: bool) -> _Placed | None:
        score, diagonal = self._vote(words, lo, hi, late)
        return self._align(words, text, diagonal, lo, hi) if score else None

    def _vote(self, words: list[Token], lo: int, hi: int, late: bool) -> tuple[int, int]:
        """The offset in the source at which most of the part's words line up."""
        votes: Counter = Counter()
        for i, word in enumerate(words):
            for j in self.source.where.get(word.text, ()):
                if lo <= j < hi:
                    votes[j - i] += 1
        if not votes:
            return 0, lo
        # a word added or left out shifts the rest of the part by one: count near diagonals together
        near = {d: sum(votes.get(d + k, 0) for k in (-2, -1, 0, 1, 2)) for d in votes}
        best = max((v, votes[d]) for d, v in near.items())
        ties = [d for d, v in near.items() if (v, votes[d]) == best]
        d = max(ties) if late else min(ties)
        return votes[d], d

    def _align(self, words: list[Token], text: str, diagonal: int, lo: int, hi: int) -> _Placed:
        slack = CONTEXT + 1  # room for a few words left out, not for far-off matches of common words
        a, b = max(lo, diagonal - slack), min(hi, diagonal + len(words) + slack)
        window = [t.text for t in self.source.tokens[a:b]]
        ops = difflib.SequenceMatcher(None, [w.text for w in words], window, autojunk=False).get_opcodes()
        ops = [(tag, i1, i2, j1 + a, j2 + a) for tag, i1, i2, j1, j2 in ops]
        while ops and ops[0][0] == "insert":
            ops.pop(0)
        while ops and ops[-1][0] == "insert":
            ops.pop()
        if ops and ops[0][0] == "replace":  # the quote starts with other words: as many source words
            tag, i1, i2, j1, j2 = ops[0]
            ops[0] = (tag, i1, i2, max(j1, j2 - (i2 - i1)), j2)
        if ops and ops[-1][0] == "replace":
            tag, i1, i2, j1, j2 = ops[-1]
            ops[-1] = (tag, i1, i2, j1, min(j2, j1 + (i2 - i1)))
        first = next((j1 for tag, _, _, j1, j2 in ops if j2 > j1), diagonal)
        last = max((j2 - 1 for tag, _, _, j1, j2 in ops if j2 > j1), default=first)
        return _Placed(words, text, max(lo, first), max(first, last), ops)

    def _difference(self, part: _Placed) -> str:
        """The first place where the part's words and the source's differ, with context."""
        changes = [op for op in part.ops if op[0] != "equal"]
        if not changes:
            return ""
        _, i1, i2, j1, j2 = changes[0]
        for op in part.ops[part.ops.index(changes[0]) + 1:]:  # a swap is one change, not two
            if op[0] == "equal" and op[2] - op[1] > 1:
                break
            if op[0] != "equal":
                i2, j2 = op[2], op[4]
        said = _slice(part.text, part.words, i1, i2)
        has = self.source.passage(j1, j2 - 1) if j2 > j1 else ""
        if has and said:
            head = f"the quote has '{said}' where the source has '{has}'"
        elif has:
            head = f"the quote leaves out '{has}'"
        else:
            head = f"the quote adds '{said}'"
        quoted = _slice(part.text, part.words, max(0, i1 - CONTEXT), min(len(part.words), i2 + CONTEXT))
        at = j1 if j2 > j1 else max(0, j1 - 1)
        lo, hi = max(0, j1 - CONTEXT), min(len(self.source.tokens), max(j2, j1) + CONTEXT)
        return (f'{head}: "{quoted}" against {self._cite(at, at)} "{self.source.passage(lo, hi - 1)}"')


def _slice(text: str, words: list[Token], i1: int, i2: int) -> str:
    return text[words[i1].start:words[i2 - 1].end] if i2 > i1 else ""
