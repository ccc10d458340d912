"""Prove that every excerpt is its source's own words, and find where it stands."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass

# One character for one: offsets in the normalized text are offsets in the source.
_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
BRACKET = re.compile(r"\[([^\[\]]*)\]")
ELISION = re.compile(r"(?:^|\s+)\.\.\.(?=\s|$)\s*|\s*\u2026\s*")
WORD = re.compile(r"\[[^\[\]]*\]|\w+(?:['-]\w+)*|[^\w\s]")
MAX_INSERTION = 80


def normalize(text: str) -> str:
    """Fold typographic quotes and dashes; collapse whitespace."""
    return " ".join(text.translate(_TYPOGRAPHIC).split())


@dataclass(frozen=True)
class Segment:
    """A run of an excerpt as printed: source text, an omission, or an insertion."""

    kind: str  # "text" | "elision" | "insertion"
    text: str


@dataclass(frozen=True)
class Match:
    """Where a verified excerpt stands in its source."""

    text: str
    start: int
    end: int
    first_sentence: int
    last_sentence: int
    segments: tuple[Segment, ...]


class QuoteError(ValueError):
    """The quote is not in the source, or stands in it more than once."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def word_tokens(text: str, offset: int = 0) -> list[Token]:
    return [Token(m[0], m.start() + offset, m.end() + offset) for m in WORD.finditer(text)]


class SourceText:
    """A source's sentences joined into one searchable text."""

    def __init__(self, sentences: list[str]):
        self.sentences = sentences
        self.text = " ".join(sentences)
        self.folded = self.text.translate(_TYPOGRAPHIC)
        self.starts = [0]
        for sentence in sentences[:-1]:
            self.starts.append(self.starts[-1] + len(sentence) + 1)
        self.tokens = word_tokens(self.folded)
        self.where: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(self.tokens):
            self.where[token.text].append(i)

    def sentence_at(self, offset: int) -> int:
        """1-based number of the sentence holding `offset`."""
        return bisect.bisect_right(self.starts, offset)

    def find_quote(self, quote: str) -> Match:
        """Locate a quote with `[...]` omissions and `[insertions]`."""
        quote = normalize(quote)
        if len(quote) > 2 and quote[0] == quote[-1] == '"':
            quote = quote[1:-1].strip()
        tokens = _tokens(quote)
        while tokens and tokens[0].kind == "elision":
            tokens = tokens[1:]
        while tokens and tokens[-1].kind == "elision":
            tokens = tokens[:-1]
        if not any(t.kind == "text" and t.text.strip() for t in tokens):
            raise QuoteError("the quote has no words from the source", "quote at least a few words")
        chains = _Chains(self.folded, tokens)
        starts = chains.starts()
        if not starts:
            raise self._misquote(tokens)
        if len(starts) > 1:
            raise self._ambiguous(starts)
        spans = chains.chain(starts[0])
        segments, start, end = _printed(tokens, spans, self.folded)
        return self._match(start, end, " ".join(s.text for s in segments), tuple(segments))

    def find_span(self, first: str, last: str) -> Match:
        """Locate a long passage by its first and last words."""
        first_n, last_n = normalize(first), normalize(last)
        starts = [m.start() for m in re.finditer(re.escape(first_n), self.folded)]
        if not starts:
            raise self._misquote(_tokens(first_n), what="the 'from:' words")
        if len(starts) > 1:
            raise self._ambiguous(starts)
        end = self.folded.find(last_n, starts[0] + len(first_n) - len(last_n) if len(last_n) <= len(first_n) else starts[0])
        if end < 0 or end < starts[0]:
            raise self._misquote(_tokens(last_n), what="the 'to:' words (after the 'from:' words)",
                                 after=self._token_at(starts[0] + len(first_n)))
        end += len(last_n)
        text = self.text[starts[0]:end]
        return self._match(starts[0], end, text, (Segment("text", text),))

    def _match(self, start: int, end: int, printed: str, segments: tuple[Segment, ...]) -> Match:
        return Match(printed, start, end, self.sentence_at(start), self.sentence_at(max(start, end - 1)), segments)

    def _token_at(self, offset: int) -> int:
        """Index of the first source token starting at or after `offset`."""
        return bisect.bisect_left([t.start for t in self.tokens], offset)

    def _misquote(self, tokens: list[Segment], what: str = "the quoted words", after: int = 0) -> QuoteError:
        words = " ".join("".join(" [...] " if t.kind == "elision" else t.text for t in tokens).split())
        shown = words if len(words) <= 120 else words[:117] + "..."
        from .misquote import explain  # the diagnosis reads this module's source text
        diagnosis = explain(self, _parts(tokens), after)
        return QuoteError(f'{what} are not in the source: "{shown}"', diagnosis)

    def _ambiguous(self, offsets: list[int]) -> QuoteError:
        numbers = sorted({self.sentence_at(o) for o in offsets})
        where = ", ".join(f"s. {n}" for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
        return QuoteError(f"the quote stands {len(offsets)} times in the source ({where})",
                          "quote a few more words so it matches one place only")

    def passage(self, first: int, last: int) -> str:
        """The source's text from token `first` to token `last` inclusive, as printed."""
        return self.text[self.tokens[first].start:self.tokens[last].end]


class _Chains:
    """Every way the quote's text parts stand in order in the source, found without backtracking.

    Each part is found by plain substring search; gaps are checked between neighbouring
    occurrences, so the work grows with the number of occurrences, never exponentially.
    """

    def __init__(self, folded: str, tokens: list[Segment]):
        self.folded = folded
        self.parts = [text for text, _ in _parts(tokens)]
        self.gaps = [gap for _, gap in _parts(tokens)]  # the gap before each part
        self.occurrences = [self._find(i, part) for i, part in enumerate(self.parts)]
        self.ok = self._completing()

    def _find(self, index: int, part: str) -> list[int]:
        out, at = [], self.folded.find(part)
        last = index == len(self.parts) - 1
        while at >= 0:
            end = at + len(part)
            if (index or self._edge(at - 1, part[0])) and (not last or self._edge(end, part[-1])):
                out.append(at)
            at = self.folded.find(part, at + 1)
        return out

    def _edge(self, i: int, inner: str) -> bool:
        """An excerpt does not start or end inside a word."""
        return not inner.isalnum() or i < 0 or i >= len(self.folded) or not self.folded[i].isalnum()

    def _fits(self, gap: Segment, between: str) -> bool:
        if gap.kind == "elision":
            return len(between) >= 1
        core = between[1:] if between[:1].isspace() else between
        core = core[:-1] if core[-1:].isspace() else core
        return core == gap.text or (len(core) <= MAX_INSERTION and "[" not in core and "]" not in core)

    def _next(self, k: int, end: int, allowed: list[int]) -> list[int]:
        """Starts of part k (among `allowed`, sorted) that may follow a part ending at `end`."""
        gap = self.gaps[k]
        if gap.kind == "elision":
            return allowed[bisect.bisect_right(allowed, end):]
        reach = end + max(len(gap.text), MAX_INSERTION) + 2
        lo, hi = bisect.bisect_left(allowed, end), bisect.bisect_right(allowed, reach)
        return [s for s in allowed[lo:hi] if self._fits(gap, self.folded[end:s])]

    def _follows(self, k: int, end: int, allowed: list[int]) -> bool:
        """Whether some start of part k among `allowed` may follow a part ending at `end` (an insertion gap)."""
        gap = self.gaps[k]
        reach = end + max(len(gap.text), MAX_INSERTION) + 2
        for i in range(bisect.bisect_left(allowed, end), len(allowed)):
            if allowed[i] > reach:
                return False
            if self._fits(gap, self.folded[end:allowed[i]]):
                return True
        return False

    def _completing(self) -> list[list[int]]:
        """For each part, the occurrences from which the rest of the quote follows."""
        ok: list[list[int]] = [[] for _ in self.parts]
        ok[-1] = self.occurrences[-1]
        for k in range(len(self.parts) - 2, -1, -1):
            size = len(self.parts[k])
            if self.gaps[k + 1].kind == "elision":
                ok[k] = [s for s in self.occurrences[k] if ok[k + 1] and ok[k + 1][-1] > s + size]
            else:
                ok[k] = [s for s in self.occurrences[k] if self._follows(k + 1, s + size, ok[k + 1])]
        return ok

    def starts(self) -> list[int]:
        return self.ok[0]

    def chain(self, start: int) -> list[tuple[int, int]]:
        """The parts' spans from `start`, each next part as early as possible."""
        spans = [(start, start + len(self.parts[0]))]
        for k in range(1, len(self.parts)):
            nxt = self._next(k, spans[-1][1], self.ok[k])[0]
            spans.append((nxt, nxt + len(self.parts[k])))
        return spans


def _tokens(quote: str) -> list[Segment]:
    """Split a normalized quote into text, `[...]` elisions and `[insertions]`."""
    out: list[Segment] = []
    pos = 0
    for m in BRACKET.finditer(quote):
        out.extend(_elisions(quote[pos:m.start()]))
        inner = m[1].strip()
        if inner in ("...", "\u2026", ". . .", ""):
            out.append(Segment("elision", "[...]"))
        else:
            out.append(Segment("insertion", m[0]))
        pos = m.end()
    out.extend(_elisions(quote[pos:]))
    return [t for t in out if t.kind != "text" or t.text]


def _elisions(text: str) -> list[Segment]:
    """Bare '...' in a quote is an omission too."""
    parts = ELISION.split(text)
    out: list[Segment] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Segment("elision", "[...]"))
        if part:
            out.append(Segment("text", part))
    return out


def _parts(tokens: list[Segment]) -> list[tuple[str, Segment | None]]:
    """The quote's text parts, each with the gap before it; next to `[...]` a gap is an omission."""
    out: list[tuple[str, Segment | None]] = []
    gap: Segment | None = None
    for token in tokens:
        if token.kind == "text" and token.text.strip():
            out.append((token.text.strip(), gap))
            gap = None
        elif token.kind == "elision" or (gap is not None and gap.kind == "elision"):
            gap = Segment("elision", "[...]")
        elif token.kind == "insertion":
            gap = token if gap is None else Segment("insertion", gap.text + " " + token.text)
    return out


def _printed(tokens: list[Segment], spans: list[tuple[int, int]], folded: str):
    """Segments as printed and the span they cover; a bracket found in the source is source text."""
    start, end = spans[0][0], spans[-1][1]
    out: list[Segment] = []
    part = -1
    for token in tokens:
        if token.kind == "text" and token.text.strip():
            part += 1
        elif token.kind == "insertion":
            if part < 0:
                before = folded[max(0, start - len(token.text) - 1):start]
                if before.strip() == token.text:
                    token, start = Segment("text", token.text), start - len(before.lstrip())
            elif part == len(spans) - 1:
                after = folded[end:end + len(token.text) + 1]
                if after.strip() == token.text:
                    token, end = Segment("text", token.text), end + len(after.rstrip())
            elif folded[spans[part][1]:spans[part + 1][0]].strip() == token.text:
                token = Segment("text", token.text)
        if token.kind == "text" and out and out[-1].kind == "text":
            out[-1] = Segment("text", out[-1].text + token.text)  # the quote's own spacing
        else:
            out.append(token)
    return [Segment(s.kind, " ".join(s.text.split())) for s in out if s.text.strip()], start, end
