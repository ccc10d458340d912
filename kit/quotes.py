"""Prove that every excerpt is its source's own words, and find where it stands."""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

# One character for one: offsets in the normalized text are offsets in the source.
_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
BRACKET = re.compile(r"\[([^\[\]]*)\]")
ELISION = re.compile(r"(?:^|\s+)\.\.\.(?=\s|$)\s*|\s*\u2026\s*")
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


class SourceText:
    """A source's sentences joined into one searchable text."""

    def __init__(self, sentences: list[str]):
        self.sentences = sentences
        self.text = " ".join(sentences)
        self.folded = self.text.translate(_TYPOGRAPHIC)
        self.starts = [0]
        for sentence in sentences[:-1]:
            self.starts.append(self.starts[-1] + len(sentence) + 1)

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
        pattern = "".join(_pattern(i, t) for i, t in enumerate(tokens))
        found = list(re.finditer(pattern, self.folded, flags=re.S))
        if not found:
            raise self._misquote(" [...] ".join(t.text.strip() for t in tokens if t.kind == "text"))
        if len(found) > 1:
            raise self._ambiguous(found)
        m = found[0]
        segments = tuple(_printed(tokens, m))
        return self._match(m.start(), m.end(), " ".join(s.text for s in segments), segments)

    def find_span(self, first: str, last: str) -> Match:
        """Locate a long passage by its first and last words."""
        first_n, last_n = normalize(first), normalize(last)
        starts = [m.start() for m in re.finditer(re.escape(first_n), self.folded)]
        if not starts:
            raise self._misquote(first_n, what="the 'from:' words")
        if len(starts) > 1:
            raise self._ambiguous([re.search(re.escape(first_n), self.folded[s:]) for s in starts],
                                  offsets=starts)
        end = self.folded.find(last_n, starts[0] + len(first_n) - len(last_n) if len(last_n) <= len(first_n) else starts[0])
        if end < 0 or end < starts[0]:
            raise self._misquote(last_n, what="the 'to:' words (after the 'from:' words)")
        end += len(last_n)
        text = self.text[starts[0]:end]
        return self._match(starts[0], end, text, (Segment("text", text),))

    def _match(self, start: int, end: int, printed: str, segments: tuple[Segment, ...]) -> Match:
        return Match(printed, start, end, self.sentence_at(start), self.sentence_at(max(start, end - 1)), segments)

    def _misquote(self, words: str, what: str = "the quoted words") -> QuoteError:
        words = words.strip()
        plain = words.replace(" [...] ", " ")
        best = fuzz.partial_ratio_alignment(plain, self.folded, score_cutoff=0)
        passage = self.text[best.dest_start:best.dest_end] if best else ""
        lead = len(passage) - len(passage.lstrip(" .,;:!?"))
        passage = passage.lstrip(" .,;:!?").strip()
        where = f"s. {self.sentence_at(best.dest_start + lead)}" if best else ""
        diff = _first_difference(plain, normalize(passage))
        shown = words if len(words) <= 120 else words[:117] + "..."
        close = passage if len(passage) <= 160 else passage[:157] + "..."
        return QuoteError(f'{what} are not in the source: "{shown}"',
                          f'{diff}closest passage ({where}): "{close}"')

    def _ambiguous(self, found, offsets=None) -> QuoteError:
        offsets = offsets or [m.start() for m in found]
        where = ", ".join(f"s. {self.sentence_at(o)}" for o in offsets[:5])
        return QuoteError(f"the quote stands {len(offsets)} times in the source ({where})",
                          "quote a few more words so it matches one place only")


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


def _pattern(index: int, token: Segment) -> str:
    if token.kind == "text":
        return re.escape(token.text.strip())
    if token.kind == "elision":
        return r"\s?.+?\s?"
    # A bracket the source itself has (the translator's) matches literally; otherwise it is the
    # teacher's insertion, which may stand in for a few words of the source.
    literal = re.escape(token.text)
    return rf"\s?(?:(?P<lit{index}>{literal})|[^\[\]]{{0,{MAX_INSERTION}}}?)\s?"


def _printed(tokens: list[Segment], m: re.Match) -> list[Segment]:
    """Segments as printed; a bracket found in the source is source text, not an insertion."""
    out: list[Segment] = []
    for index, token in enumerate(tokens):
        if token.kind == "insertion" and m.group(f"lit{index}"):
            token = Segment("text", token.text)
        if token.kind == "text" and out and out[-1].kind == "text":
            out[-1] = Segment("text", out[-1].text + token.text)  # the quote's own spacing
        else:
            out.append(token)
    return [Segment(s.kind, " ".join(s.text.split())) for s in out]


def _first_difference(quote: str, passage: str) -> str:
    a, b = quote.split(), passage.split()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal" or (tag == "insert" and (i1 == 0 or i1 == len(a))):
            continue
        said = " ".join(a[i1:i2]) or "(nothing)"
        has = " ".join(b[j1:j2]) or "(nothing)"
        return f"the quote has '{said}' where the source has '{has}'; "
    return ""
