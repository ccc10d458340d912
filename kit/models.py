"""The validated, frozen model of a kit: sources, context, glossary, timeline, lessons."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
QUESTION_TYPES = ("comprehension", "sourcing", "contextualization", "corroboration", "close-reading", "argument")
DIFFICULTIES = ("easy", "medium", "hard")
DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _check_id(value: str) -> str:
    if not ID_RE.fullmatch(value) or len(value) > 64:
        raise ValueError("an id uses only lowercase letters, digits and hyphens, starts with a letter or "
                         "digit, and is at most 64 characters (no '/', '.' or spaces)")
    return value


def _check_date(value: str) -> str:
    match = DATE_RE.fullmatch(value)
    if not match:
        raise ValueError("a date is written YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(x) if x else None for x in match.groups())
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    if day is not None:
        import calendar
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise ValueError(f"day {day} does not exist in {year}-{month:02d}")
    return value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _printable(value: str) -> str:
    # Control characters print as nothing and cannot be written in XML at all (the LMS cartridge).
    found = CONTROL_RE.search(value)
    if found:
        raise ValueError(f"the text holds the control character U+{ord(found[0]):04X} at position "
                         f"{found.start() + 1}; delete it (it is invisible, often pasted from another program)")
    return value


def _as_text(value):
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


Id = Annotated[str, AfterValidator(_check_id)]
Text = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=20_000), AfterValidator(_printable)]
Short = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=300), AfterValidator(_printable)]
Date = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check_date)]


class Model(BaseModel):
    """Frozen, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# --- sources --------------------------------------------------------------------------------

class Block(Model):
    """A run of numbered sentences, or (an archival header block) unnumbered text."""

    kind: str
    label: str = ""
    number: int | None = None
    sentences: tuple[int, int] | None = None
    text: str = ""


class Part(Model):
    id: str
    title: str
    blocks: tuple[Block, ...]


class Sentence(Model):
    n: int
    text: str


class Repair(Model):
    kind: str
    original: str
    repaired: str
    page: int | None = None
    word: str = ""
    sentence: int | None = None


class ImportInfo(Model):
    sha256: str
    debris_lines_dropped: int
    pages: int


class Source(Model):
    """A primary source as imported: metadata, audit trail, structure, numbered sentences."""

    id: Id
    title: Text
    date: Date
    citation: Text
    archive: str = ""
    signature: str = ""
    url: str = ""
    summary: str = ""
    credits: str = ""
    original_language: str = ""
    contents: str = ""
    translator: str = ""
    other_fields: dict[str, str] = {}
    imported_from: str = ""
    import_: ImportInfo | None = Field(default=None, alias="import")
    repairs: tuple[Repair, ...] = ()
    structure: tuple[Part, ...] = ()
    sentences: tuple[Sentence, ...] = Field(min_length=1)
    original_pages: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _numbered(self):
        for i, sentence in enumerate(self.sentences, start=1):
            if sentence.n != i:
                raise ValueError(f"sentences must be numbered 1, 2, 3 ... in order; found {sentence.n} at position {i}")
        return self


# --- shared content ---------------------------------------------------------------------------

class ContextMeta(Model):
    """The front matter of a context reading."""

    title: Short
    summary: str = ""  # Markdown: the short version printed for classes with `reading: summary`


class Context(Model):
    """A context reading: a Markdown file with a title."""

    id: Id
    title: Short
    markdown: str
    words: int
    summary: str = ""


class Term(Model):
    term: Short
    definition: Text
    original: str = ""
    lang: Literal["", "ko", "ru", "zh", "de", "en", "fr", "ja"] = ""

    @model_validator(mode="after")
    def _lang_with_original(self):
        if self.original and not self.lang:
            raise ValueError("'original' needs 'lang' (ko, ru, zh, de, ...) so the right font and "
                             "language are used")
        return self


class Glossary(Model):
    terms: tuple[Term, ...] = ()


class Event(Model):
    date: Date
    end: Date | None = None
    event: Text

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.date:
            raise ValueError("'end' is before 'date'")
        return self


class Timeline(Model):
    events: tuple[Event, ...] = ()


class GlossaryRef(Model):
    """A lesson's glossary entry: a term from content/glossary.yaml, or one defined here."""

    term: Short
    definition: str = ""
    original: str = ""
    lang: Literal["", "ko", "ru", "zh", "de", "en", "fr", "ja"] = ""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value):
        return {"term": value} if isinstance(value, str) else value


class LessonTimeline(Model):
    """Events of content/timeline.yaml between `from` and `to`, plus the lesson's own."""

    from_: Date | None = Field(default=None, alias="from")
    to: Date | None = None
    events: tuple[Event, ...] = ()


# --- lessons ------------------------------------------------------------------------------------

class Gloss(Model):
    term: Short
    note: Short


def _sentence_numbers(value):
    """`54`, `"54-56"` or `[54, 55]` -> a list of sentence numbers."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:[-\u2013]\s*(\d+))?\s*", value)
        if not match:
            raise ValueError("write a sentence number (54), a range (\"54-56\") or a list ([54, 56])")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low or high - low > 200:
            raise ValueError(f"the range {value} runs backwards or is too long")
        return list(range(low, high + 1))
    return value


Sentences = Annotated[tuple[Annotated[int, Field(ge=1)], ...], BeforeValidator(_sentence_numbers),
                      Field(min_length=1)]


class AdaptedSentence(Model):
    """One teacher-written sentence and the source sentences it stands for; `[...]` drops them."""

    s: Sentences
    text: Text


class Adapted(Model):
    """A simplified version of an excerpt, sentence by sentence."""

    sentences: tuple[AdaptedSentence, ...] = Field(min_length=1)
    changed: tuple[Short, ...] = ()


class ExcerptSpec(Model):
    """Where an excerpt is in its source: a quote, or its first and last words."""

    id: Id
    title: str = ""
    quote: Text | None = None
    from_: Short | None = Field(default=None, alias="from")
    to: Short | None = None
    glosses: tuple[Gloss, ...] = ()
    adapted: Adapted | None = None

    @model_validator(mode="after")
    def _one_locator(self):
        if self.quote is None and (self.from_ is None or self.to is None):
            raise ValueError("an excerpt needs 'quote:', or both 'from:' and 'to:'")
        if self.quote is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("use either 'quote:' or 'from:'/'to:', not both")
        return self


class Notes(Model):
    answer: Text
    evidence: tuple[Short, ...] = Field(min_length=1)
    look_for: str = ""


class Level(Model):
    """One score of a rubric and what earns it."""

    score: int = Field(ge=0, le=100)
    label: Short
    descriptor: Text


class Rubric(Model):
    """Score levels for the teacher; `student:` is what a strong answer does, for the handout."""

    levels: tuple[Level, ...] = Field(min_length=1, max_length=10)
    student: tuple[Short, ...] = ()

    @model_validator(mode="after")
    def _distinct(self):
        scores = [level.score for level in self.levels]
        if len(set(scores)) != len(scores):
            raise ValueError("two levels have the same score; give each level its own score")
        return self


class Question(Model):
    id: Id
    type: Literal[QUESTION_TYPES]  # type: ignore[valid-type]
    difficulty: Literal[DIFFICULTIES]  # type: ignore[valid-type]
    prompt: Text
    notes: Notes
    excerpts: tuple[Id, ...] = ()
    answer_lines: int = Field(default=6, ge=0, le=40)
    rubric: Rubric | None = None

    @model_validator(mode="after")
    def _rubric_for_arguments(self):
        if self.rubric is not None and self.type != "argument":
            raise ValueError("only a question of type 'argument' carries a rubric; grade the others with "
                             "their notes")
        return self


ORGANIZER_COLUMNS = {
    "sourcing": "Who wrote it, and why?",
    "claim": "Main claim",
    "evidence": "Evidence (s. N)",
    "context": "What was happening at the time?",
    "corroboration": "Does another document agree?",
}
ColumnKey = Literal[tuple(ORGANIZER_COLUMNS)]  # type: ignore[valid-type]


class Organizer(Model):
    """A graphic organizer: the lesson's excerpts as rows; model entries for the teacher edition."""

    columns: tuple[ColumnKey, ...] | None = None  # type: ignore[valid-type]
    model: dict[str, dict[ColumnKey, Text]] = {}  # type: ignore[valid-type]


class Assessment(Model):
    """A short final task with its rubric."""

    kind: Literal["exit-ticket", "document-task"]
    title: Short = "Exit ticket"
    prompt: Text
    excerpts: tuple[Id, ...] = ()
    answer_lines: int = Field(default=8, ge=0, le=40)
    answer: Text
    rubric: Rubric


class Step(Model):
    minutes: int = Field(ge=1, le=240)
    activity: Text


class LessonSpec(Model):
    """A lesson as the teacher wrote it, before excerpts are resolved."""

    id: Id
    title: Short
    subtitle: str = ""
    grade_band: Short
    duration: int = Field(ge=5, le=600)
    source: Id
    objectives: tuple[Short, ...] = Field(min_length=1)
    timing: tuple[Step, ...] = ()
    context: tuple[Id, ...] = ()
    excerpts: tuple[ExcerptSpec, ...] = Field(min_length=1, max_length=30)
    questions: tuple[Question, ...] = Field(min_length=1, max_length=100)
    glossary: tuple[GlossaryRef, ...] = ()
    timeline: LessonTimeline = LessonTimeline()
    adapted_grade: float = Field(default=8, ge=1, le=16)
    organizer: Organizer | None = None
    assessment: Assessment | None = None
