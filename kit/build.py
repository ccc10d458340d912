"""The build, top to bottom: gather and check everything, render what changed, then commit."""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import TEMPLATES, __version__
from .bundle import index_page, manifest, print_pack, sha256_file, zip_folder
from .content import load_kit
from .errors import KitError, Problem, display_path
from .plan import Job, plan
from .render import Renderer
from .write import atomic_write, inside

STATE = ".kit-state.json"
STAGING = ".kit-staging"
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

    def __str__(self) -> str:
        return (f"{self.documents} PDFs ({self.pages} pages) in {self.output}/: {self.rendered} rendered, "
                f"{self.reused} reused from the cache, in {self.seconds:.1f} s")


def templates_digest(templates: Path = TEMPLATES) -> str:
    """One hash of every template, stylesheet and font: a change to any re-renders everything."""
    digest = hashlib.sha256(__version__.encode())
    for file in sorted(p for p in templates.rglob("*") if p.is_file()):
        digest.update(file.relative_to(templates).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def job_key(job: Job, html: str, digest: str) -> str:
    """Everything that affects a PDF: its HTML (content, class, student), paper, print size, templates."""
    return hashlib.sha256(f"{digest}\0{job.edition.paper}\0{job.edition.large_print}\0{html}".encode()).hexdigest()


def build(content: Path, output: Path, paper: str | None = None, classes: list[str] | None = None,
          workers: int | None = None, progress=None, templates: Path = TEMPLATES) -> Report:
    """Build every document; the output folder changes only once everything has succeeded."""
    started = time.monotonic()
    kit = load_kit(content)
    jobs = plan(kit, paper or "a4", classes)
    renderer = Renderer(templates, content)
    # Gather every document's HTML before printing any, so a template error costs no output.
    htmls = [renderer.html(job.lesson, job.edition) for job in jobs]
    digest = templates_digest(templates)
    keys = [job_key(job, html, digest) for job, html in zip(jobs, htmls)]
    for job in jobs:
        inside(output, job.path)
    output.mkdir(parents=True, exist_ok=True)
    with build_lock(output):
        state = _load_state(output)
        staging = output / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            files, warnings, rendered = _render(jobs, htmls, keys, state, output, staging, (content, templates),
                                                workers, progress)
            for cls in (c for c in kit.classes if any(j.group == c.id for j in jobs)):
                _bundle(cls, jobs, files, state, output, staging, digest, templates)
            built = {job.group for job in jobs}
            kept = {rel: info for rel, info in state.items()
                    if info.get("group") not in built and not (info.get("kind") == "zip" and rel[:-4] in built)}
            _commit(files, kept, state, output, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    pages = sum(f["pages"] for rel, f in files.items() if rel.endswith(".pdf") and f.get("kind") != "print-pack")
    return Report(len(jobs), rendered, len(jobs) - rendered, pages, time.monotonic() - started,
                  display_path(output), tuple(warnings))


def _render(jobs, htmls, keys, state, output, staging, folders, workers, progress):
    """Print each document whose key changed into staging; reuse the others as they are."""
    files: dict[str, dict] = {}
    todo = []
    totals: dict[str, int] = {}
    for job in jobs:
        totals[job.group] = totals.get(job.group, 0) + 1
    done = dict.fromkeys(totals, 0)

    def tick(job):
        done[job.group] += 1
        if progress:
            progress(job.group, done[job.group], totals[job.group])

    for job, html, key in zip(jobs, htmls, keys):
        meta = {"key": key, "kind": job.kind, "lesson": job.lesson.id, "student": job.student, "group": job.group}
        old = state.get(job.path)
        current = output / job.path
        if old and old.get("key") == key and current.is_file() and current.stat().st_size == old.get("size"):
            files[job.path] = {**old, **meta}
            tick(job)
        else:
            todo.append((job, html, meta))
        if job.keep_html:
            rel = job.path.removesuffix(".pdf") + ".html"
            data = html.encode()
            sha = hashlib.sha256(data).hexdigest()
            files[rel] = {"key": sha, "sha256": sha, "size": len(data), "pages": 0, "kind": "html",
                          "lesson": job.lesson.id, "student": "", "group": job.group}
            if not (state.get(rel, {}).get("sha256") == sha and (output / rel).is_file()):
                atomic_write(staging / rel, data)
                files[rel]["new"] = True
    warnings: list[str] = []
    if not todo:
        return files, warnings, 0
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    args = [(html, job.edition.paper, job.edition.large_print, str(staging / job.path)) for job, html, _ in todo]
    if workers == 1 or len(todo) < 4:
        from . import pdf
        pdf.init_worker(*map(str, folders))
        results = ((i, pdf.render_to(*a)) for i, a in enumerate(args))
        for i, (pages, sha, found) in results:
            _done(todo[i], pages, sha, found, files, warnings, staging)
            tick(todo[i][0])
    else:
        from . import pdf
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=pdf.init_worker,
                                 initargs=tuple(map(str, folders)), max_tasks_per_child=200) as pool:
            futures = {pool.submit(pdf.render_to, *a): i for i, a in enumerate(args)}
            for future in as_completed(futures):
                i = futures[future]
                pages, sha, found = future.result()
                _done(todo[i], pages, sha, found, files, warnings, staging)
                tick(todo[i][0])
    return files, warnings, len(todo)


def _done(item, pages, sha, found, files, warnings, staging):
    job, _, meta = item
    files[job.path] = {**meta, "pages": pages, "sha256": sha, "size": (staging / job.path).stat().st_size, "new": True}
    warnings.extend(f"{job.path}: {w}" for w in found)


def _bundle(cls, jobs, files, state, output, staging, digest, templates) -> None:
    """A class's print pack, index page, manifest and zip."""
    members = [j for j in jobs if j.group == cls.id and j.kind == "student" and (j.student or not cls.students)]
    members.sort(key=lambda j: [i.lesson.id for i in cls.lessons].index(j.lesson.id))
    pack = f"{cls.id}/{cls.id}-print-pack.pdf"
    key = hashlib.sha256("\0".join(files[j.path]["key"] + j.student for j in members).encode()).hexdigest()
    old = state.get(pack)
    if old and old.get("key") == key and (output / pack).is_file() and (output / pack).stat().st_size == old.get("size"):
        files[pack] = {**old, "group": cls.id}
    else:
        titles = [(f"{j.student + ': ' if j.student else ''}{j.lesson.spec.title}", _path(files, j.path, staging, output)) for j in members]
        data, pages = print_pack(titles)
        _stage(files, staging, pack, data, kind="print-pack", pages=pages, group=cls.id, key=key)
    listing = [{"path": rel.removeprefix(f"{cls.id}/"), "sha256": f["sha256"], "pages": f["pages"], "size": f["size"],
                "kind": f["kind"], "lesson": f.get("lesson", ""), "student": f.get("student", "")}
               for rel, f in sorted(files.items()) if f.get("group") == cls.id]
    index = index_page(cls, listing, templates).encode()
    _stage(files, staging, f"{cls.id}/index.html", index, kind="index", group=cls.id)
    listing.append({"path": "index.html", "sha256": hashlib.sha256(index).hexdigest(), "pages": 0,
                    "size": len(index), "kind": "index", "lesson": "", "student": ""})
    for entry in listing:
        entry.pop("size")
    text = manifest(cls, listing, sorted({i.lesson.source.id for i in cls.lessons}), digest).encode()
    _stage(files, staging, f"{cls.id}/manifest.json", text, kind="manifest", group=cls.id)
    zip_key = hashlib.sha256(text).hexdigest()
    old = state.get(f"{cls.id}.zip")
    target = f"{cls.id}.zip"
    if old and old.get("key") == zip_key and (output / target).is_file():
        files[target] = {**old, "group": ""}
    else:
        entries = [(rel.removeprefix(f"{cls.id}/"), _path(files, rel, staging, output))
                   for rel, f in sorted(files.items()) if f.get("group") == cls.id]
        _stage(files, staging, target, zip_folder(entries, cls.id), kind="zip", group="", key=zip_key)


def _path(files, rel, staging, output) -> Path:
    return staging / rel if files[rel].get("new") else output / rel


def _stage(files, staging, rel, data: bytes, kind: str, group: str, pages: int = 0, key: str = "") -> None:
    sha = hashlib.sha256(data).hexdigest()
    files[rel] = {"key": key or sha, "sha256": sha, "size": len(data), "pages": pages, "kind": kind,
                  "group": group, "lesson": "", "student": "", "new": True}
    atomic_write(staging / rel, data)


def _commit(files: dict, kept: dict, state: dict, output: Path, staging: Path) -> None:
    """Move what changed into place, one atomic rename per file; drop files no longer built."""
    for rel, info in sorted(files.items()):
        target = inside(output, rel)
        if info.pop("new", False):
            if target.is_file() and sha256_file(target) == info["sha256"]:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
    for rel in sorted(set(state) - set(files) - set(kept)):
        try:
            stale = inside(output, rel)
        except KitError:
            continue
        if stale.is_file():
            stale.unlink()
            _prune(stale.parent, output)
    atomic_write(output / STATE, json.dumps({"kit": __version__, "files": {**kept, **files}}, indent=1,
                                            sort_keys=True))


def _prune(folder: Path, output: Path) -> None:
    while folder != output.resolve() and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _load_state(output: Path) -> dict:
    try:
        data = json.loads((output / STATE).read_text("utf-8"))
        return data["files"] if data.get("kit") == __version__ else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@contextmanager
def build_lock(output: Path):
    """One build at a time per output folder; a second one refuses at once."""
    handle = open(output / LOCK, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise KitError(Problem(display_path(output), 1, 1, "another build is writing to this output folder",
                               "wait for it to finish, or use --output for a different folder"))
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


