"""Live preview for `serve`: the kit as it is on disk now, its problems, and each edition's printed pages."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from . import TEMPLATES
from .cache import Keys, load_state, reusable, save_state, templates_digest
from .content import Kit, load_kit
from .errors import KitError, Problem
from .models import ID_RE
from .plan import class_jobs, plan
from .render import Renderer

PREVIEW = ".kit-preview"  # inside the output folder: the preview's own cache of rendered editions
PAGE_SCALE = 1.5  # 108 dpi: readable on screen, small enough to send


def valid_id(value: str) -> bool:
    """An id kit would accept in a file name (and so in a URL)."""
    return bool(ID_RE.fullmatch(value)) and len(value) <= 64


@dataclass(frozen=True)
class Snapshot:
    """The content folder as last read: the kit (None when it has problems) and every problem."""

    generation: int
    kit: Kit | None
    problems: tuple[Problem, ...]
    digest: str


@dataclass
class Printed:
    """One rendered edition: where its PDF is and the text of each page."""

    path: Path
    sha: str
    texts: list[str] = field(default_factory=list)


class Workspace:
    """The content, output and templates folders `serve` works on, reloaded when a file changes."""

    def __init__(self, content: Path, output: Path, templates: Path = TEMPLATES, workers: int = 2):
        self.content, self.output, self.templates = Path(content), Path(output), Path(templates)
        self.preview = self.output / PREVIEW
        self.generation = 0
        self.workers = workers
        self.last_good: Kit | None = None
        self._snapshot: Snapshot | None = None
        self._load = threading.Lock()
        self._render = threading.Lock()
        self._pdfium = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_digest = ""
        self._printed: dict[str, Printed] = {}
        self._pngs: dict[tuple[str, int], bytes] = {}
        self.closed = False
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}  # the last preview of each page

    def changed(self) -> None:
        """A file changed on disk: the next request reads the kit again."""
        self.generation += 1

    def snapshot(self) -> Snapshot:
        """The kit as it is on disk now (read again only after a change)."""
        with self._load:
            if self._snapshot is None or self._snapshot.generation != self.generation:
                generation = self.generation
                try:
                    kit, problems = load_kit(self.content), ()
                    self.last_good = kit
                except KitError as exc:
                    kit, problems = None, tuple(exc.problems)
                self._snapshot = Snapshot(generation, kit, problems, templates_digest(self.templates))
            return self._snapshot

    def jobs(self, kind: str, ident: str) -> list:
        """The editions a lesson or class page shows (a class's handouts, not its per-student copies)."""
        kit = self.snapshot().kit or self.last_good
        if kit is None:
            return []
        if kind == "lesson":
            return [j for j in plan(kit, "a4", []) if j.group == "lessons" and j.lesson.id == ident]
        for cls in kit.classes:
            if cls.id == ident:
                return [j for j in class_jobs(cls) if not j.student]
        return []

    def print_jobs(self, jobs: list) -> tuple[list[Printed], list[Problem]]:
        """Each job's PDF: the build's own file or the preview's when the cache key matches, else rendered now."""
        snap = self.snapshot()
        keys = Keys(snap.digest, self.content)
        built, problems = load_state(self.output), []
        with self._render:
            mine = load_state(self.preview)
            todo, out = [], {}
            renderer = Renderer(self.templates, self.content)
            for job in jobs:
                key = keys.job(job)
                if reusable(built.get(job.path), key, self.output / job.path):
                    out[job.path] = self._remember(self.output / job.path, built[job.path]["sha256"])
                elif reusable(mine.get(job.path), key, self.preview / job.path):
                    out[job.path] = self._remember(self.preview / job.path, mine[job.path]["sha256"])
                else:
                    try:
                        todo.append((job, key, renderer.html(job.lesson, job.edition)))
                    except KitError as exc:
                        problems.extend(exc.problems)
            if todo and self.closed:
                problems.append(Problem("serve", 1, 1, "the server is stopping", "start it again"))
            elif todo:
                from . import pdf
                pool = self._workers(snap.digest)
                futures = [(job, key, pool.submit(pdf.render_to, html, job.edition.paper, job.edition.large_print,
                                                  str(self.preview / job.path))) for job, key, html in todo]
                for job, key, future in futures:
                    try:
                        pages, sha, _, _ = future.result()
                    except KitError as exc:
                        problems.extend(exc.problems)
                        continue
                    except (CancelledError, BrokenProcessPool):
                        if not self.closed:
                            raise
                        problems.append(Problem("serve", 1, 1, "the server is stopping", "start it again"))
                        continue
                    target = self.preview / job.path
                    mine[job.path] = {"key": key, "sha256": sha, "pages": pages, "size": target.stat().st_size}
                    out[job.path] = self._remember(target, sha)
                save_state(self.preview, mine)
        return [out[j.path] for j in jobs if j.path in out], problems

    def _workers(self, digest: str) -> ProcessPoolExecutor:
        # A worker keeps the stylesheets it parsed: after a template or CSS change it must start afresh.
        if self._pool is not None and self._pool_digest != digest:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._pool is None:
            from .worker import pool_worker
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=pool_worker,
                                             initargs=(str(self.content), str(self.templates)))
            self._pool_digest = digest
        return self._pool

    def _remember(self, path: Path, sha: str) -> Printed:
        if sha not in self._printed:
            import pypdfium2
            with self._pdfium:
                document = pypdfium2.PdfDocument(str(path))
                try:
                    texts = [page.get_textpage().get_text_range() for page in document]
                finally:
                    document.close()
            self._printed[sha] = Printed(path, sha, texts)
        return self._printed[sha]

    def pdf(self, sha: str) -> Path | None:
        """A PDF the preview has shown, by its hash."""
        printed = self._printed.get(sha)
        if printed is None or not printed.path.is_file():
            return None
        return printed.path if hashlib.sha256(printed.path.read_bytes()).hexdigest() == sha else None

    def pdf_known(self, url: str) -> bool:
        """A preview's PDF (by its /pdf/<sha>.pdf address) is still on disk."""
        printed = self._printed.get(url.rsplit("/", 1)[-1].removesuffix(".pdf"))
        return printed is not None and printed.path.is_file()

    def page_png(self, sha: str, number: int) -> bytes | None:
        """Page `number` (1-based) of a shown PDF as a PNG image."""
        if (sha, number) in self._pngs:
            return self._pngs[(sha, number)]
        path = self.pdf(sha)
        if path is None or not 1 <= number <= len(self._printed[sha].texts):
            return None
        import io

        import pypdfium2
        with self._pdfium:
            document = pypdfium2.PdfDocument(str(path))
            try:
                image = document[number - 1].render(scale=PAGE_SCALE).to_pil()
            finally:
                document.close()
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=False)
        if len(self._pngs) > 400:  # a long session: forget the oldest pages
            self._pngs.pop(next(iter(self._pngs)))
        self._pngs[(sha, number)] = buffer.getvalue()
        return self._pngs[(sha, number)]

    def close(self) -> None:
        """Stop the render workers (without waiting: a render under way ends on its own)."""
        self.closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def problems_of(file: Path, problems, content: Path) -> list[Problem]:
    """The problems reported in one file (paths are shown relative to the current folder or content/)."""
    target = file.resolve()
    found = []
    for problem in problems:
        for base in (Path.cwd(), content):
            if (base / problem.path).resolve() == target:
                found.append(problem)
                break
    return found
