"""What an output file was built from, so a rebuild renders only what changed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import TEMPLATES, __version__
from .errors import KitError
from .files import read_bytes
from .markup import image_sources
from .write import atomic_write

STATE = ".kit-state.json"


def templates_digest(templates: Path = TEMPLATES) -> str:
    """One hash of kit's version and every template, stylesheet and font."""
    digest = hashlib.sha256(__version__.encode())
    for folder, dirs, names in os.walk(templates):
        dirs.sort()
        if Path(folder) == templates:
            # templates/web/ is the `serve` app's own pages, never printed: changing them re-renders nothing.
            dirs[:] = [d for d in dirs if d != "web"]
        for name in sorted(names + [d for d in dirs if Path(folder, d).is_symlink()]):
            file = Path(folder) / name
            digest.update(file.relative_to(templates).as_posix().encode() + b"\0" + read_bytes(file, templates))
    return digest.hexdigest()


class Keys:
    """Cache keys of documents: a hash of everything that can change a printed page."""

    def __init__(self, templates_digest: str, content: Path):
        self.base = templates_digest
        self.content = content
        self._lessons: dict[int, str] = {}
        self._sources: dict[str, str] = {}

    def lesson(self, lesson) -> str:
        """Spec (with a class's questions), source, readings and their images, glossary, timeline."""
        cached = self._lessons.get(id(lesson))
        if cached:
            return cached
        if lesson.source.id not in self._sources:
            self._sources[lesson.source.id] = hashlib.sha256(lesson.source.model_dump_json().encode()).hexdigest()
        digest = hashlib.sha256()
        for part in (lesson.spec.model_dump_json(), self._sources[lesson.source.id],
                     repr(lesson.excerpts), repr(lesson.glossary), repr(lesson.timeline)):
            digest.update(part.encode() + b"\0")
        for reading in lesson.context:
            digest.update(f"{reading.title}\0{reading.markdown}\0{reading.summary}\0".encode())
            for _, src, _ in image_sources(reading.markdown):
                image = Path(os.path.abspath(self.content / "context" / src))
                digest.update(read_bytes(image, self.content))
        self._lessons[id(lesson)] = digest.hexdigest()
        return self._lessons[id(lesson)]

    def job(self, job) -> str:
        """A document: its lesson and everything about its edition (class, student, order, paper)."""
        return hashlib.sha256(f"{self.base}\0{self.lesson(job.lesson)}\0{job.edition!r}".encode()).hexdigest()


def load_state(output: Path) -> dict:
    """What the last successful build wrote, by path; empty when missing or from another kit version."""
    try:
        data = json.loads(read_bytes(output / STATE, output, limit=50_000_000))
    except (KitError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("kit") == __version__ else None
    # A state file of the wrong shape (edited, truncated, from elsewhere) is ignored: what it lists is rebuilt.
    if not isinstance(files, dict):
        return {}
    return {rel: entry for rel, entry in files.items() if isinstance(rel, str) and _entry_ok(entry)}


def _entry_ok(entry) -> bool:
    types = {"key": str, "sha256": str, "size": int, "pages": int, "kind": str}
    return isinstance(entry, dict) and all(isinstance(entry.get(k), t) for k, t in types.items()) and \
        isinstance(entry.get("group", ""), str) and isinstance(entry.get("lesson", ""), str) and \
        isinstance(entry.get("student", ""), str) and (entry.get("name_at") is None or (
            isinstance(entry["name_at"], list) and len(entry["name_at"]) in (2, 3)
            and all(isinstance(x, (int, float)) for x in entry["name_at"])))


def save_state(output: Path, files: dict) -> None:
    atomic_write(output / STATE, json.dumps({"kit": __version__, "files": files}, indent=1, sort_keys=True))


def reusable(entry: dict | None, key: str, file: Path) -> bool:
    """The file on disk is the one the last build wrote for this key."""
    return bool(entry) and entry.get("key") == key and file.is_file() and file.stat().st_size == entry.get("size")
