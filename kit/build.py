"""The build, top to bottom: gather and check everything, render what changed, bundle, then commit."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import multiprocessing
import os
import shutil
import stat
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import TEMPLATES
from .bundle import bundle_class, outside
from .cache import Keys, load_state, reusable, save_state, templates_digest
from .content import load_kit
from .errors import KitError, Problem, display_path
from .plan import plan
from .render import Renderer
from .write import atomic_write, inside

STAGING = ".kit-staging"
MEMORY_PER_WORKER_MB = 200  # a worker's measured peak is 150-185 MB (README, Performance)
LOCK = ".kit.lock"


@dataclass(frozen=True)
class Report:
    """What a build did, for the CLI to print."""

    documents: int
    rendered: int
    reused: int
    pages: int
    seconds: float
    output: str
    warnings: tuple[str, ...] = ()
    written: tuple[tuple[str, int], ...] = ()  # (what, how many) of the files this build wrote
    unchanged: int = 0
    removed: int = 0
    bundle_seconds: float = 0.0  # copies, packs, indexes, zips and cartridges (bench reports the share)

    def __str__(self) -> str:
        count = sum(n for _, n in self.written)
        kinds = f" ({', '.join(f'{n} {what}' for what, n in self.written)})" if self.written else ""
        removed = f", {self.removed} removed" if self.removed else ""
        documents = f"{self.documents} document{'s' * (self.documents != 1)} ({self.pages} page{'s' * (self.pages != 1)})"
        return (f"{documents} in {self.output}/: {self.rendered} rendered, "
                f"{self.reused} reused from the cache; {count} file{'s' * (count != 1)} written{kinds}, "
                f"{self.unchanged} unchanged{removed}; in {self.seconds:.1f} s")


# What the summary calls each kind of file, in the order it lists them.
KINDS = {"copy": ("named copy", "named copies"), "student": ("handout", "handouts"),
         "teacher": ("teacher edition", "teacher editions"), "print-pack": ("print pack", "print packs"),
         "html": ("HTML page", "HTML pages"), "index": ("index page", "index pages"),
         "manifest": ("manifest", "manifests"), "shuffle-key": ("shuffle key", "shuffle keys"),
         "zip": ("zip", "zips"), "cartridge": ("cartridge", "cartridges")}


def tally(kinds: list[str]) -> tuple[tuple[str, int], ...]:
    """('handouts', 3), ('zip', 1) ...: how many files of each kind, every kind counted."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    order = list(KINDS) + sorted(set(counts) - set(KINDS))
    return tuple((KINDS.get(k, (k, k + "s"))[counts[k] != 1], counts[k]) for k in order if k in counts)


def build(content: Path, output: Path, paper: str | None = None, classes: list[str] | None = None,
          workers: int | None = None, progress=None, templates: Path = TEMPLATES) -> Report:
    """Build every document; the output folder changes only once everything has succeeded."""
    started = time.monotonic()
    kit = load_kit(content)
    jobs = plan(kit, paper or "a4", classes)
    digest = templates_digest(templates)
    keys = Keys(digest, content)
    keyed = [(job, keys.job(job)) for job in jobs]
    for job in jobs:
        inside(output, job.path)
    _check_output(output)
    try:
        return _write(kit, jobs, keyed, digest, content, output, workers, progress, templates, started)
    except OSError as exc:  # the disk, not the content: a full disk, a read-only folder
        raise KitError(_os_problem(exc, output))


def _check_output(output: Path) -> None:
    """The output folder is a folder, or can be made one."""
    shown = display_path(output)
    if output.is_symlink() and not output.exists():
        raise KitError(Problem(shown, 1, 1, "the output folder is a link to nothing",
                               "remove the link, or pass --output with a folder"))
    if output.exists() and not output.is_dir():
        raise KitError(Problem(shown, 1, 1, "the output path is a file, not a folder",
                               "pass --output with a folder name (kit creates it)"))


def _os_problem(exc: OSError, output: Path) -> Problem:
    hints = {errno.ENOSPC: "the disk is full: free some space and build again",
             errno.EDQUOT: "your disk quota is used up: free some space and build again",
             errno.EROFS: "the disk is read-only: choose another --output folder",
             errno.EACCES: "you may not write here: choose another --output folder or fix its permissions",
             errno.EPERM: "you may not write here: choose another --output folder or fix its permissions"}
    where = display_path(exc.filename) if exc.filename else display_path(output)
    return Problem(where, 1, 1, f"cannot write: {exc.strerror or exc}",
                   hints.get(exc.errno, "check the output folder") + "; the previous output is unchanged")


def _write(kit, jobs, keyed, digest, content, output, workers, progress, templates, started) -> Report:
    """Phase 2: render into staging, bundle, and move everything into place under the lock."""
    output.mkdir(parents=True, exist_ok=True)
    with build_lock(output):
        state = load_state(output)
        staging = output / STAGING
        if staging.is_symlink():
            staging.unlink()
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            with _pool(workers, (content, templates)) as pool:
                files, warnings, rendered = _render(keyed, state, output, staging, Renderer(templates, content),
                                                    (content, templates), pool, progress)
                groups = {job.group for job in jobs}
                bundling = time.monotonic()
                _bundle_all([c for c in kit.classes if c.id in groups], files, state,
                            (output, staging, digest, templates, content), pool)
                bundling = time.monotonic() - bundling
            kept = {rel: info for rel, info in state.items() if info.get("group") not in groups}
            written, removed = _commit(files, kept, state, output, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    pages = sum(f["pages"] for f in files.values() if f["kind"] in ("student", "teacher"))
    return Report(len(jobs), rendered, len(jobs) - rendered, pages, time.monotonic() - started,
                  display_path(output), tuple(warnings), tally(written), len(files) - len(written), removed,
                  bundling)


def max_workers(requested: int | None) -> int:
    """Workers to start: as asked (default: the cores), but no more than the cores or the memory allow."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    by_memory = max(1, int(_available_mb() // MEMORY_PER_WORKER_MB)) if _available_mb() else cores
    return max(1, min(requested or cores, cores, by_memory))


def _available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class _Pool:
    """Spawned worker processes, started only if there is work for them (a no-op build has none)."""

    def __init__(self, workers: int, folders):
        self.workers, self.folders, self.executor = workers, tuple(map(str, folders)), None

    def submit(self, fn, *args):
        if self.executor is None:
            from .worker import pool_worker
            # spawn, not fork: a forked WeasyPrint/Pango state is not safe to share.
            context = multiprocessing.get_context("spawn")
            # No max_tasks_per_child: on Python 3.11-3.13 it deadlocks once a worker retires (CPython
            # gh-115634); a worker whose memory grows renews its own state instead (pdf.render_to).
            self.executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=pool_worker,
                                                initargs=self.folders)
        return self.executor.submit(fn, *args)


@contextmanager
def _pool(workers: int | None, folders):
    """A lazily started process pool, or None to work in this process."""
    workers = max_workers(workers)
    if workers == 1:
        yield None
        return
    pool = _Pool(workers, folders)
    try:
        yield pool
    finally:
        if pool.executor is not None:
            pool.executor.shutdown(cancel_futures=True)


def _bundle_all(classes, files, state, where, pool) -> None:
    """Each class's copies, print pack, indexes, manifest, zips and cartridge; in parallel when there is a pool."""
    def subset(entries, cls):
        return {rel: f for rel, f in entries.items() if rel.startswith(f"{cls.id}/") or rel in outside(cls.id)}
    # A class whose handouts are all unchanged only refreshes its index and manifest: cheaper here
    # than in a worker process that would first have to start.
    heavy = [c for c in classes if any(f.get("new") for f in subset(files, c).values())]
    if pool is None or len(heavy) < 2:
        heavy = []
    for cls in classes:
        if cls not in heavy:
            files.update(bundle_class(cls, subset(files, cls), subset(state, cls), *where))
    futures = [pool.submit(bundle_class, cls, subset(files, cls), subset(state, cls), *where) for cls in heavy]
    for future in futures:
        files.update(future.result())


def _render(keyed, state, output, staging, renderer, folders, pool, progress):
    """Print each document whose key changed into staging; the others stay as they are."""
    files: dict[str, dict] = {}
    todo = []
    totals: dict[str, int] = {}
    for job, _ in keyed:
        totals[job.group] = totals.get(job.group, 0) + 1
    done = dict.fromkeys(totals, 0)

    def tick(job):
        done[job.group] += 1
        if progress:
            progress(job.group, done[job.group], totals[job.group])

    for job, key in keyed:
        meta = {"key": key, "kind": job.kind, "lesson": job.lesson.id, "student": job.student, "group": job.group}
        html_rel = job.path.removesuffix(".pdf") + ".html"
        fresh = reusable(state.get(job.path), key, output / job.path) and (
            not job.keep_html or reusable(state.get(html_rel), key, output / html_rel))
        if fresh:
            files[job.path] = {**state[job.path], **meta}
            if job.keep_html:
                files[html_rel] = {**state[html_rel], "group": job.group}
            tick(job)
            continue
        # Only documents that changed are turned into HTML; a template error stops the build here,
        # before anything outside the staging folder is touched.
        html = renderer.html(job.lesson, job.edition)
        todo.append((job, html, meta))
        if job.keep_html:
            data = html.encode()
            _stage(files, staging, html_rel, data, {**meta, "kind": "html", "student": ""})
    warnings: list[str] = []
    if not todo:
        return files, warnings, 0
    from . import pdf
    tasks, groups, shared = [], {}, {}
    for i, (job, html, _) in enumerate(todo):
        paper, large, target = job.edition.paper, job.edition.large_print, str(staging / job.path)
        if job.shared is None and not job.edition.split:
            tasks.append(((None, [(html, target, -1)], paper, large, ()), [i]))
            continue
        # A shuffled class's handout and its copies go to one worker, which lays out their shared pages once.
        key = (job.group, job.lesson.id)
        if key not in groups:
            shared[key] = html if job.shared is None else renderer.html(job.lesson, job.shared)
            groups[key] = ((shared[key], [], paper, large, job.classmates), [])
            tasks.append(groups[key])
        index = job.classmates.index(job.student) if job.shared is not None else -1
        groups[key][0][1].append((html, target, index))
        groups[key][1].append(i)
    if pool is None or len(tasks) < 2:
        if pdf.printer() is None:
            pdf.init_worker(*map(str, folders))
        for args, indices in tasks:
            for i, result in zip(indices, pdf.render_group(*args)):
                _done(todo[i], result, files, warnings, staging)
                tick(todo[i][0])
    else:
        futures = {pool.submit(pdf.render_group, *args): indices for args, indices in tasks}
        for future in as_completed(futures):
            for i, result in zip(futures[future], future.result()):
                _done(todo[i], result, files, warnings, staging)
                tick(todo[i][0])
    return files, warnings, len(todo)


def _done(item, result, files, warnings, staging):
    job, _, meta = item
    pages, sha, found, name_at = result
    files[job.path] = {**meta, "pages": pages, "sha256": sha, "size": (staging / job.path).stat().st_size,
                       "name_at": name_at, "new": True}
    warnings.extend(f"{job.path}: {w}" for w in found)


def _stage(files, staging, rel, data: bytes, meta: dict) -> None:
    sha = hashlib.sha256(data).hexdigest()
    files[rel] = {"pages": 0, "lesson": "", "student": "", **meta, "sha256": sha, "size": len(data), "new": True}
    atomic_write(staging / rel, data)


def _commit(files: dict, kept: dict, state: dict, output: Path, staging: Path) -> tuple[list[str], int]:
    """Move what changed into place, one atomic rename per file; drop files no longer built.

    Returns the kind of each file written ('copy' for a student's own) and how many were removed."""
    written = []
    for rel, info in sorted(files.items()):
        target = inside(output, rel)
        if info.pop("new", False):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
            written.append("copy" if info.get("student") and info["kind"] == "student" else info["kind"])
    removed = 0
    for rel in sorted(set(state) - set(files) - set(kept)):
        try:
            stale = inside(output, rel)
        except KitError:
            continue
        if stale.is_file():
            stale.unlink()
            removed += 1
            _prune(stale.parent, output)
    save_state(output, {**kept, **files})
    return written, removed


def _prune(folder: Path, output: Path) -> None:
    while folder != output.resolve() and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


@contextmanager
def build_lock(output: Path):
    """One build at a time per output folder; a second one refuses at once."""
    shown = display_path(output / LOCK)
    try:  # O_NOFOLLOW: a link planted as the lock must not create a file elsewhere
        fd = os.open(output / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EISDIR):
            raise
        raise KitError(Problem(shown, 1, 1, f"kit's lock file is {'a link' if exc.errno == errno.ELOOP else 'a folder'}",
                               "delete it; kit creates it as a plain file"))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise KitError(Problem(shown, 1, 1, "kit's lock file is not a plain file", "delete it; kit creates it"))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise KitError(Problem(display_path(output), 1, 1, "another build is writing to this output folder",
                               "wait for it to finish, or use --output for a different folder"))
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
