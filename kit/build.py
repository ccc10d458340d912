"""The build, top to bottom: gather and check everything, render every document, then write."""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .content import Kit, Lesson, load_kit
from .errors import KitError, Problem, display_path
from .pdf import Printer
from .render import Edition, Renderer
from .write import atomic_write, inside

STATE = ".kit-files.json"


@dataclass(frozen=True)
class Job:
    """One document to print: where it goes and what edition of which lesson it is."""

    path: str
    lesson: Lesson
    edition: Edition
    kind: str


@dataclass(frozen=True)
class Report:
    """What a build did, for the CLI to print."""

    documents: int
    pages: int
    seconds: float
    output: str
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (f"built {self.documents} PDFs ({self.pages} pages) into {self.output}/ "
                f"in {self.seconds:.1f} s")


def plan(kit: Kit, paper: str = "a4") -> list[Job]:
    """Every lesson's student handout and teacher edition."""
    jobs = []
    for lesson in kit.lessons:
        for kind in ("student", "teacher"):
            jobs.append(Job(f"lessons/{lesson.id}/{lesson.id}-{kind}.pdf", lesson,
                            Edition(teacher=kind == "teacher", paper=paper), kind))
    return jobs


def build(content: Path, output: Path, paper: str | None = None, classes: list[str] | None = None,
          progress=None) -> Report:
    """Build every document; nothing in `output` changes unless everything succeeded."""
    started = time.monotonic()
    kit = load_kit(content)
    jobs = plan(kit, paper or "a4")
    renderer = Renderer()
    # Gather every document's HTML before printing any, so a template error costs no output.
    pages = [(job, renderer.html(job.lesson, job.edition)) for job in jobs]
    output.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes | str] = {}
    warnings: list[str] = []
    total_pages = 0
    with build_lock(output):
        printer = Printer(content)
        for job, html in pages:
            document, found = printer.render(html, job.edition.paper, job.edition.large_print, job.path)
            warnings += [f"{job.path}: {w}" for w in found]
            total_pages += len(document.pages)
            files[job.path] = printer.pdf(document, html)
            files[job.path.removesuffix(".pdf") + ".html"] = html
            if progress:
                progress(f"  {job.path} ({len(document.pages)} pages)")
        write_all(output, files)
    return Report(len(jobs), total_pages, time.monotonic() - started, display_path(output), tuple(warnings))


def write_all(output: Path, files: dict[str, bytes | str]) -> None:
    """Write each file atomically, then remove files an earlier build wrote that are gone now."""
    targets = {rel: inside(output, rel) for rel in files}
    for rel, data in sorted(files.items()):
        atomic_write(targets[rel], data)
    state = output / STATE
    try:
        previous = set(json.loads(state.read_text("utf-8")))
    except (OSError, ValueError):
        previous = set()
    for rel in sorted(previous - set(files)):
        try:
            stale = inside(output, rel)
            if stale.is_file():
                stale.unlink()
        except (KitError, OSError):
            continue
    atomic_write(state, json.dumps(sorted(files), indent=1))


@contextmanager
def build_lock(output: Path):
    """One build at a time per output folder; a second one refuses at once."""
    path = output / ".kit.lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise KitError(Problem(display_path(output), 1, 1, "another build is writing to this output folder",
                               "wait for it to finish, or use --output for a different folder"))
    try:
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
