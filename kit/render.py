"""Phase 2a: turn a resolved lesson into the HTML of each edition (no PDF here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from . import organizer
from .content import Excerpt, Lesson
from .errors import Problem, RenderError, display_path
from .files import read_bytes
from .lessonplan import question_refs
from .yamlfile import decode
from .markup import markdown_to_html
from .models import Question, Source

from . import TEMPLATES
SOURCE_BRACKET = re.compile(r"\[[^\[\]]+\]")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


@dataclass(frozen=True)
class Edition:
    """What varies between printed copies of one lesson."""

    teacher: bool = False
    paper: str = "a4"
    large_print: bool = False
    class_name: str = ""
    teacher_name: str = ""
    school: str = ""
    term: str = ""
    student: str = ""
    answer_scale: float = 1.0
    questions: tuple[Question, ...] | None = None
    copies: tuple = field(default=())  # teacher edition: (student, [question numbers]) per shuffled copy
    excerpts: str = "original"  # student handout: original, adapted or both
    organizer: bool = False  # student handout: a blank graphic organizer
    student_rubric: bool = False  # student handout: what a strong answer does
    reading: str = "full"  # student handout paper choices (kit/classes.py ClassProfile)
    timeline: str = "all"
    glossary: str = "all"
    answers: str = "lines"
    split: bool = False  # questions start on a new page (shuffled classes: copies share the pages before)


def format_date(value: str) -> str:
    """'1964-08-28' -> '28 August 1964'; '1964-08' -> 'August 1964'."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return f"{MONTHS[parts[1] - 1]} {parts[0]}"
    return f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}"


def date_range(start: str, end: str | None = None) -> str:
    """Compact dates for a timeline: '13-14 Oct 1964', 'Feb 1946', '1958'."""
    def short(value: str) -> list[str]:
        parts = [int(p) for p in value.split("-")]
        out = [str(parts[0])]
        if len(parts) > 1:
            out.insert(0, MONTHS[parts[1] - 1][:3] + ("" if parts[1] == 5 else ""))
        if len(parts) > 2:
            out.insert(0, str(parts[2]))
        return out
    a = short(start)
    if not end:
        return " ".join(a)
    b = short(end)
    if len(a) == len(b) == 3 and a[1:] == b[1:]:
        return f"{a[0]}\u2013{b[0]} {a[1]} {a[2]}"
    if len(a) == len(b) and a[-1] == b[-1]:
        return f"{' '.join(a[:-1])} \u2013 {' '.join(b)}"
    return f"{' '.join(a)} \u2013 {' '.join(b)}"


def chicago_date(value: str) -> str:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return f"{MONTHS[parts[1] - 1]} {parts[2]}, {parts[0]}"
    return format_date(value)


def citation(source: Source) -> str:
    """A Chicago-style note for an archival document in a digital archive."""
    pieces = [f"\u201c{source.title},\u201d {chicago_date(source.date)}"]
    if source.signature:
        pieces.append(source.signature)
    if source.original_language:
        pieces.append(f"Original language: {source.original_language}")
    if source.translator:
        pieces.append(f"Translated by {source.translator}")
    if source.archive:
        pieces.append(source.archive + (", Wilson Center" if "Wilson" not in source.archive and "wilsoncenter" in source.url else ""))
    if source.url:
        pieces.append(source.url)
    return ". ".join(p.rstrip(".") for p in pieces) + "."


def excerpt_runs(excerpt: Excerpt, source: Source) -> list[dict]:
    """The excerpt as runs: text, sentence markers, the translator's brackets, our [...] and [insertions]."""
    starts = {}
    for n in range(excerpt.first, excerpt.last + 1):
        head = source.sentences[n - 1].text[:40]
        starts[n] = head
    runs: list[dict] = []
    pending = sorted(starts.items())
    for segment in excerpt.segments:
        if runs and not re.match(r"[.,;:!?)\]]", segment.text):
            runs.append({"kind": "text", "text": " "})
        if segment.kind != "text":
            runs.append({"kind": segment.kind, "text": segment.text})
            continue
        text = segment.text
        while text:
            cut, number = len(text), None
            for n, head in pending:
                at = text.find(head[: min(len(head), 25)])
                if at >= 0 and at < cut:
                    cut, number = at, n
            if number is None:
                _brackets(text, runs)
                break
            _brackets(text[:cut], runs)
            runs.append({"kind": "sentence", "text": str(number)})
            pending = [(n, h) for n, h in pending if n != number]
            text = text[cut:]
            if not pending:
                _brackets(text, runs)
                break
    return runs


def _brackets(text: str, runs: list[dict]) -> None:
    pos = 0
    for m in SOURCE_BRACKET.finditer(text):
        if text[pos:m.start()]:
            runs.append({"kind": "text", "text": text[pos:m.start()]})
        runs.append({"kind": "source-bracket", "text": m[0]})
        pos = m.end()
    if text[pos:]:
        runs.append({"kind": "text", "text": text[pos:]})


class TemplateLoader(jinja2.BaseLoader):
    """Templates from one folder only: no '..', no links, regular files within the size limit."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def get_source(self, environment, template):
        path = self.folder.joinpath(*jinja2.loaders.split_template_path(template))  # refuses '..'
        if not path.exists() and not path.is_symlink():
            raise jinja2.TemplateNotFound(template)
        shown = display_path(path)
        return decode(read_bytes(path, self.folder, shown), shown), str(path), lambda: True


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox, plus no string of a billion characters or number of a million digits."""

    intercepted_binops = frozenset(("*", "**"))

    def call_binop(self, context, operator, left, right):
        sizes = [len(x) for x in (left, right) if isinstance(x, (str, list, tuple))]
        counts = [x for x in (left, right) if isinstance(x, int)]
        if operator == "*" and sizes and counts and sizes[0] * max(counts) > 1_000_000 or (
                operator == "**" and isinstance(right, (int, float)) and abs(right) > 1_000):
            raise SecurityError(f"the result of '{operator}' would be too large to print")
        return super().call_binop(context, operator, left, right)


def environment(templates: Path, **options) -> jinja2.Environment:
    """A sandboxed Jinja environment: a template (perhaps downloaded) can format data but not run code."""
    return _Sandbox(loader=TemplateLoader(templates), autoescape=True, undefined=jinja2.StrictUndefined, **options)


class Renderer:
    """One Jinja environment for every document of a build."""

    def __init__(self, templates: Path = TEMPLATES, content: Path | None = None):
        self.templates = Path(templates)
        folder = Path(content) / "context" if content else None
        self.env = environment(self.templates, trim_blocks=True, lstrip_blocks=True)
        images: dict = {}  # each image read and encoded once per build
        self.env.filters["markdown"] = lambda text: Markup(markdown_to_html(text, folder, images))
        self.env.filters["date"] = format_date
        self.env.globals["date_range"] = date_range

    def html(self, lesson: Lesson, edition: Edition, template: str = "") -> str:
        """The full HTML document of one edition of a lesson (or of another template given by name)."""
        questions = edition.questions if edition.questions is not None else lesson.questions
        if not edition.teacher:
            lesson, questions, edition = paper_choices(lesson, questions, edition)
        excerpt_numbers = {e.id: i for i, e in enumerate(lesson.excerpts, start=1)}
        try:
            chosen = self.env.get_template(template or ("teacher.html.j2" if edition.teacher else "student.html.j2"))
            return chosen.render(
                lesson=lesson, spec=lesson.spec, source=lesson.source, edition=edition,
                questions=questions, excerpt_numbers=excerpt_numbers,
                runs={e.id: excerpt_runs(e, lesson.source) for e in lesson.excerpts},
                citation=citation(lesson.source),
                line_height=_line_height(edition),
                numbered=lambda text: question_refs(text, questions, lesson.planned),
                organizer_columns=organizer.columns(lesson.spec),
            )
        except jinja2.TemplateError as exc:
            raise RenderError(template_problem(exc, self.templates))


def paper_choices(lesson: Lesson, questions, edition: Edition):
    """The lesson, questions and edition as a student handout prints them under the class's paper choices."""
    changes: dict = {}
    if edition.reading == "none":
        changes["context"] = ()
    elif edition.reading == "summary":
        changes["context"] = tuple(r.model_copy(update={"markdown": r.summary}) for r in lesson.context if r.summary)
    if edition.timeline == "none":
        changes["timeline"] = ()
    elif edition.timeline == "lesson":
        own = {(e.date, e.end, e.event) for e in lesson.spec.timeline.events}
        changes["timeline"] = tuple(e for e in lesson.timeline if (e.date, e.end, e.event) in own)
    if edition.glossary == "used":
        text = " ".join([e.text for e in lesson.excerpts] + [g.term + " " + g.note for e in lesson.excerpts
                                                             for g in e.glosses] + [q.prompt for q in questions])
        text = " ".join(text.casefold().split())
        changes["glossary"] = tuple(t for t in lesson.glossary if re.search(
            rf"(?<!\w){re.escape(' '.join(t.term.casefold().split()))}(?!\w)", text))
    if edition.answers != "lines":
        def room(q: Question) -> int:
            lines = round(q.answer_lines * edition.answer_scale)
            return 0 if edition.answers == "none" else min(lines, max(2, round(lines / 3)))
        questions = tuple(q.model_copy(update={"answer_lines": room(q)}) for q in questions)
        edition = replace(edition, answer_scale=1.0)
    return (replace(lesson, **changes) if changes else lesson), questions, edition


def template_problem(exc: jinja2.TemplateError, templates: Path) -> Problem:
    """Where in which template rendering failed: syntax errors say so; runtime errors via the traceback."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    message = exc.message or str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        hint = "a template uses a variable kit does not provide; check its spelling against the templates shipped with kit"
    elif isinstance(exc, SecurityError):
        hint = "templates run in a sandbox: they may format kit's data, not reach into Python"
    elif isinstance(exc, jinja2.TemplateNotFound):
        message = f"template '{exc.name}' not found in the templates folder"
        hint = "include or extend only templates inside the templates folder (no '..', no links)"
    else:
        hint = "fix the template"
    shown = display_path(name) if name else str(templates)
    return Problem(shown, line or 1, 1, f"template error: {message}", hint)


def _line_height(edition: Edition) -> float:
    return 1.5 if edition.large_print else 1.45


