"""Phase 1: gather every file in content/, validate it, and resolve excerpts against sources."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import adapted, organizer, yamlfile
from .citations import evidence_problems
from .errors import Collector, KitError, Problem, display_path
from .files import check_file, check_path, read_bytes, read_image
from .glyphs import missing_glyphs
from .lessonplan import planned, timing_problems
from .models import Context, ContextMeta, Event, Glossary, LessonSpec, Question, Source, Term, Timeline, ID_RE
from .quotes import QuoteError, Segment, SourceText
from .partial import Partial, ids, items
from .markup import IMAGE_TYPES, image_sources, markdown_problems
from .validate import validate

MAX_FILES = 2_000
MAX_EXCERPT_WORDS = 1_500


@dataclass(frozen=True)
class Excerpt:
    """An excerpt proven to be in its source."""

    id: str
    title: str
    text: str
    segments: tuple[Segment, ...]
    first: int
    last: int
    glosses: tuple
    adapted: object = None  # models.Adapted, checked against the source
    grade: float | None = None  # Flesch-Kincaid grade of the adapted text

    @property
    def cite(self) -> str:
        return f"s. {self.first}" if self.first == self.last else f"s. {self.first}-{self.last}"


@dataclass(frozen=True)
class Lesson:
    """A lesson with its source, excerpts, readings, glossary and timeline resolved."""

    spec: LessonSpec
    path: str
    source: Source
    excerpts: tuple[Excerpt, ...]
    context: tuple[Context, ...]
    glossary: tuple[Term, ...]
    timeline: tuple[Event, ...]
    planned: tuple[str, ...] = ()  # the lesson's question ids its timing names (kept in every class's copy)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def questions(self) -> tuple[Question, ...]:
        return self.spec.questions


@dataclass(frozen=True)
class Kit:
    """Everything in a content folder, validated."""

    root: Path
    sources: dict[str, Source]
    contexts: dict[str, Context]
    glossary: Glossary
    timeline: Timeline
    lessons: tuple[Lesson, ...]
    classes: tuple = ()


def load_kit(root: Path) -> Kit:
    """Read and check a whole content folder; raise one KitError listing every problem."""
    root = Path(root)
    if not root.is_dir():
        raise KitError(Problem(str(root), 1, 1, "content folder not found",
                               "pass --content DIR pointing at a folder with lessons/ and sources/"))
    problems = Collector()
    sources = load_all(root / "sources", "*.yaml", Source, problems, root)
    contexts, broken = {}, set()
    for file in content_files(root / "context", "*.md", problems, root):
        try:
            context = load_context(file, display_path(file, root), root)
            contexts[context.id] = context
        except KitError as exc:
            problems.extend(exc)
            broken.add(file.stem)
    glossary = _load_one(root / "glossary.yaml", Glossary, problems, root)
    if glossary is None and ((root / "glossary.yaml").exists() or (root / "glossary.yaml").is_symlink()):
        broken.add("glossary.yaml")
    glossary = glossary or Glossary()
    timeline = _load_one(root / "timeline.yaml", Timeline, problems, root) or Timeline()
    _check_shared(root, glossary, timeline, problems)
    invalid: list = []
    specs = load_all(root / "lessons", "*.yaml", LessonSpec, problems, root, invalid)
    lessons = []
    texts = {sid: SourceText([s.text for s in src.sentences]) for sid, (src, _) in sources.items()}
    for spec, doc in specs.values():
        lesson = _resolve(spec, doc, sources, texts, contexts, glossary, timeline, problems, broken)
        if lesson:
            lessons.append(lesson)
        else:
            broken.add(spec.id)
    for doc in invalid:  # check what is valid in a lesson with schema errors, so all problems show at once
        _resolve(Partial.of(doc), doc, sources, texts, contexts, glossary, timeline, problems, broken)
    broken |= {f.stem for f in content_files(root / "lessons", "*.yaml", Collector(), root)} - set(specs)
    from .classes import load_classes  # classes build on resolved lessons
    classes = load_classes(root, {lesson.id: lesson for lesson in lessons}, broken, problems,
                           {k: v for k, (v, _) in sources.items()})
    if not problems.problems:
        _check_glyphs(root, problems)
    problems.raise_if_any()
    return Kit(root, {k: v for k, (v, _) in sources.items()}, contexts, glossary, timeline,
               tuple(sorted(lessons, key=lambda l: l.id)), classes)


def _check_glyphs(root: Path, problems: Collector) -> None:
    """Every character in content is printable with the bundled fonts (no empty boxes on paper)."""
    for folder, dirs, names in os.walk(root):  # does not descend into linked folders
        dirs.sort()
        for name in sorted(names):
            file = Path(folder) / name
            if file.suffix not in (".yaml", ".md", ".csv") or file.is_symlink():
                continue
            try:
                text = read_bytes(file, root).decode("utf-8", errors="replace")
            except KitError as exc:
                problems.extend(exc)
                continue
            for problem in missing_glyphs(text, display_path(file, root)):
                problems.append(problem)


def content_files(folder: Path, pattern: str, problems: Collector, root: Path) -> list[Path]:
    if not folder.is_dir() and not folder.is_symlink():
        return []
    try:
        check_path(folder, root)
    except KitError as exc:
        problems.extend(exc)
        return []
    files = sorted(folder.glob(pattern))
    if len(files) > MAX_FILES:
        problems.add(display_path(folder, root), 1, 1, f"{len(files)} files, over the limit of {MAX_FILES}",
                     "split the kit into several content folders")
        return []
    out = []
    for file in files:
        try:
            check_file(file, root)
            out.append(file)
        except KitError as exc:
            problems.extend(exc)
    return out


def _load_one(file: Path, model, problems: Collector, root: Path):
    if not file.exists() and not file.is_symlink():
        return None
    try:
        return validate(yamlfile.load(file, display_path(file, root), root), model)
    except KitError as exc:
        problems.extend(exc)
        return None


def load_all(folder: Path, pattern: str, model, problems: Collector, root: Path, invalid: list | None = None) -> dict:
    """Every file of a kind, keyed by id, each id matching its file name; `invalid` gets the rest's YAML."""
    out: dict = {}
    for file in content_files(folder, pattern, problems, root):
        path = display_path(file, root)
        try:
            doc = yamlfile.load(file, path, root)
        except KitError as exc:
            problems.extend(exc)
            continue
        try:
            item = validate(doc, model)
        except KitError as exc:
            problems.extend(exc)
            if invalid is not None and isinstance(doc.data, dict):
                invalid.append(doc)
            continue
        if item.id != file.stem:
            problems.append(doc.problem(("id",), f"id '{item.id}' does not match the file name '{file.name}'",
                                        f"rename the file to {item.id}{file.suffix} or set id: {file.stem}"))
            continue
        out[item.id] = (item, doc)
    return out


def load_context(file: Path, path: str, root: Path | None = None) -> Context:
    """A context reading: YAML front matter with a title, then Markdown."""
    root = root or file.parent.parent
    text = yamlfile.read_text(file, path, root=root)
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*\n?", text, flags=re.S)
    if not match:
        raise KitError(Problem(path, 1, 1, "no front matter with a title",
                               "start the file with '---', 'title: ...', '---' lines"))
    if not ID_RE.fullmatch(file.stem):
        raise KitError(Problem(path, 1, 1, f"file name '{file.stem}' is not a valid id",
                               "use lowercase letters, digits and hyphens, e.g. cold-war-intro.md"))
    doc = yamlfile.parse(match[1], path)
    doc = yamlfile.Doc(path, doc.data, {k: (l + 1, c) for k, (l, c) in doc.marks.items()},
                       {k: (l + 1, c) for k, (l, c) in doc.key_marks.items()})
    meta = validate(doc, ContextMeta)
    body = text[match.end():]
    offset = text[:match.end()].count("\n")
    problems = []
    for line, src, alt in image_sources(body):
        target = Path(os.path.abspath(file.parent / src)) if src and ":" not in src and not src.startswith("/") \
            else None
        if target is None or not target.is_relative_to(os.path.abspath(root)):
            problems.append(Problem(path, offset + line, 1, f"image '{src}' is not a file inside the content folder",
                                    "put the image in content/ and give a relative path, e.g. images/map.png"))
        elif not (target.exists() or target.is_symlink()) or target.suffix.lower() not in IMAGE_TYPES:
            problems.append(Problem(path, offset + line, 1, f"image '{src}' not found or not PNG, JPEG or GIF",
                                    "check the file name; kit prints PNG, JPEG and GIF images"))
        else:
            try:
                read_image(target, root)
            except KitError as exc:  # said at the line that uses the image
                problems += [Problem(path, offset + line, 1, f"image '{src}' {p.message}", p.hint) for p in exc.problems]
        if not alt.strip():
            problems.append(Problem(path, offset + line, 1, f"image '{src}' has no alt text",
                                    "describe the image for screen readers: ![a map of Korea in 1953](map.png)"))
    problems += [Problem(path, offset + line, 1, message, hint) for line, message, hint in markdown_problems(body)]
    if problems:
        raise KitError(problems)
    return Context(id=file.stem, title=meta.title, markdown=body, words=len(re.findall(r"[\w'’-]+", body)),
                   summary=meta.summary.strip())


def _check_shared(root: Path, glossary: Glossary, timeline: Timeline, problems: Collector) -> None:
    seen: dict[str, int] = {}
    for i, term in enumerate(glossary.terms):
        key = term.term.casefold()
        if key in seen:
            problems.add(display_path(root / "glossary.yaml", root), 1, 1,
                         f"term '{term.term}' is defined twice (items {seen[key] + 1} and {i + 1})",
                         "keep one definition")
        seen[key] = i


def _date_key(date: str, upper: bool = False) -> tuple[int, int, int]:
    parts = [int(p) for p in date.split("-")]
    pad = [12, 31] if upper else [0, 0]
    return tuple(parts + pad[len(parts) - 1:])  # type: ignore[return-value]


def _resolve(spec: LessonSpec, doc, sources, texts, contexts, glossary, timeline, problems,
             broken: set[str]) -> Lesson | None:
    """Check a lesson's references and find each excerpt in its source."""
    before = len(problems.problems)
    if spec.source is None:
        return None
    if spec.source not in sources:
        problems.append(doc.problem(("source",), f"unknown source '{spec.source}'",
                                    _did_you_mean(spec.source, sources, "content/sources/")))
        return None
    source, text = sources[spec.source][0], texts[spec.source]
    _unique(doc, "excerpts", ids(spec, "excerpts"), problems)
    _unique(doc, "questions", ids(spec, "questions"), problems)
    excerpts = []
    for i, ex in items(spec, "excerpts"):
        try:
            match = text.find_quote(ex.quote) if ex.quote is not None else text.find_span(ex.from_, ex.to)
        except QuoteError as err:
            key = "quote" if ex.quote is not None else "from"
            problems.append(doc.problem(("excerpts", i, key), f"excerpt '{ex.id}': {err.message}", err.hint)
                            if "not in the source" not in err.message else
                            _misquote(doc, ("excerpts", i, key), ex, err, source, texts))
            continue
        words = len(match.text.split())
        if words > MAX_EXCERPT_WORDS:
            key = "quote" if ex.quote is not None else "from"
            problems.append(doc.problem(("excerpts", i, key), f"excerpt '{ex.id}' is {words} words long, over the "
                                        f"limit of {MAX_EXCERPT_WORDS}", "split it into shorter excerpts"))
        for j, gloss in enumerate(ex.glosses):
            if gloss.term.casefold() not in match.text.casefold():
                problems.append(doc.problem(("excerpts", i, "glosses", j, "term"),
                                            f"glossed word '{gloss.term}' is not in excerpt '{ex.id}'",
                                            "gloss a word or phrase exactly as the excerpt prints it"))
        grade = None
        if ex.adapted is not None:
            found, grade = adapted.check(ex.id, ex.adapted, match, text, spec.adapted_grade,
                                         _adapted_at(doc, i))
            problems.problems.extend(found)
        excerpts.append(Excerpt(ex.id, ex.title, match.text, match.segments, match.first_sentence,
                                match.last_sentence, ex.glosses, ex.adapted, grade))
    known = {e for e in ids(spec, "excerpts") if e is not None}
    if not isinstance(spec, Partial):  # positions in the organizer and plan need the whole, valid lesson
        problems.problems.extend(organizer.check(spec, doc, len(source.sentences)))
        problems.problems.extend(timing_problems(spec, doc))
    for i, q in items(spec, "questions"):
        for j, ref in enumerate(q.excerpts):
            if ref not in known:
                problems.append(doc.problem(("questions", i, "excerpts", j), f"question '{q.id}' refers to "
                                            f"unknown excerpt '{ref}'", _did_you_mean(ref, known, "excerpts")))
        problems.problems.extend(evidence_problems(doc, ("questions", i, "notes", "evidence"), q.notes.evidence,
                                                   source, {k: v for k, (v, _) in sources.items()}))
    readings = []
    for i, cid in items(spec, "context"):
        if cid in contexts:
            readings.append(contexts[cid])
        elif cid not in broken:  # a reading that failed to load is reported already
            problems.append(doc.problem(("context", i), f"unknown context reading '{cid}'",
                                        _did_you_mean(cid, contexts, "content/context/")))
    shared = {t.term.casefold(): t for t in glossary.terms}
    terms = []
    for i, ref in items(spec, "glossary"):
        if ref.definition:
            terms.append(Term(term=ref.term, definition=ref.definition, original=ref.original, lang=ref.lang))
        elif ref.term.casefold() in shared:
            terms.append(shared[ref.term.casefold()])
        elif "glossary.yaml" not in broken:
            problems.append(doc.problem(("glossary", i), f"term '{ref.term}' is not in content/glossary.yaml",
                                        _did_you_mean(ref.term, [t.term for t in glossary.terms],
                                                      "the glossary, or give it a 'definition:'")))
    tl = spec.timeline
    events = list(tl.events)
    if tl.from_ or tl.to:
        lo = _date_key(tl.from_) if tl.from_ else (0, 0, 0)
        hi = _date_key(tl.to, upper=True) if tl.to else (9999, 12, 31)
        events += [e for e in timeline.events if lo <= _date_key(e.date) <= hi]
    events.sort(key=lambda e: _date_key(e.date))
    if len(problems.problems) > before or isinstance(spec, Partial):
        return None
    terms.sort(key=lambda t: t.term.casefold())
    return Lesson(spec, doc.path, source, tuple(excerpts), tuple(readings), tuple(terms), tuple(events),
                  planned(spec))


def _adapted_at(doc, i: int):
    """Locate a problem in excerpt i's `adapted:`."""
    base = ("excerpts", i, "adapted", "sentences")

    def where(sub: tuple, message: str, hint: str) -> Problem:
        if not sub:
            return doc.problem(("excerpts", i, "adapted"), message, hint, key=True)
        return doc.problem(base + sub, message, hint)
    return where


def _misquote(doc, loc: tuple, ex, err: QuoteError, own, texts: dict) -> Problem:
    """A misquote, words of the source's archival header, or a quote from another source than the lesson's."""
    source, fold = own.id, lambda t: " ".join(t.split()).casefold()
    header = [fold(b.text) for part in own.structure for b in part.blocks if b.sentences is None and b.text]
    pieces = re.split(r"\[\.\.\.\]|\.\.\.", ex.quote) if ex.quote is not None else [ex.from_, ex.to]
    body = fold(" ".join(s.text for s in own.sentences)) if header else ""
    inside = next((p.strip() for p in pieces
                   if p.strip() and any(fold(p) in h for h in header) and fold(p) not in body), None)
    if inside:
        return doc.problem(loc, f"excerpt '{ex.id}': '{inside[:80]}' is in the archive's header of '{source}', "
                           "which is not numbered text and cannot be quoted",
                           f"start the excerpt at sentence 1 or later ('python build.py list {source}'); "
                           "mention the header in a note as the archive's header")
    for other, text in sorted(texts.items()):
        if other == source:
            continue
        try:
            match = text.find_quote(ex.quote) if ex.quote is not None else text.find_span(ex.from_, ex.to)
        except QuoteError:
            continue
        where = f"s. {match.first_sentence}" + (f"-{match.last_sentence}" if match.last_sentence != match.first_sentence else "")
        return doc.problem(loc, f"excerpt '{ex.id}': the quote is from source '{other}' ({where}), not from "
                           f"the lesson's source '{source}'",
                           f"set 'source: {other}' in this lesson, or quote '{source}'")
    return doc.problem(loc, f"excerpt '{ex.id}': {err.message}", err.hint)


def _unique(doc, key: str, ids: list[str | None], problems: Collector) -> None:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item is None:
            continue
        if item in seen:
            problems.append(doc.problem((key, i, "id"), f"duplicate id '{item}' in {key}", "give each a unique id"))
        seen.add(item)


def _did_you_mean(word: str, choices, where: str) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"check the id against {where}"
