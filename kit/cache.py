"""What an output file was built from, so a rebuild renders only what changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import TEMPLATES, __version__
from .markup import image_sources
from .write import atomic_write

STATE = ".kit-state.json"


def templates_digest(templates: Path = TEMPLATES) -> str:
    """One hash of kit's version and every template, stylesheet and font."""
    digest = hashlib.sha256(__version__.encode())
    for file in sorted(p for p in templates.rglob("*") if p.is_file()):
        digest.update(file.relative_to(templates).as_posix().encode() + b"\0" + file.read_bytes())
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
                image = (self.content / "context" / src)
                if image.is_file():
                    digest.update(image.read_bytes())
        self._lessons[id(lesson)] = digest.hexdigest()
        return self._lessons[id(lesson)]

    def job(self, job) -> str:
        """A document: its lesson and everything about its edition (class, student, order, paper)."""
        return hashlib.sha256(f"{self.base}\0{self.lesson(job.lesson)}\0{job.edition!r}".encode()).hexdigest()


def load_state(output: Path) -> dict:
    """What the last successful build wrote, by path; empty when missing or from another kit version."""
    try:
        data = json.loads((output / STATE).read_text("utf-8"))
        return data["files"] if data.get("kit") == __version__ else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def save_state(output: Path, files: dict) -> None:
    atomic_write(output / STATE, json.dumps({"kit": __version__, "files": files}, indent=1, sort_keys=True))


def reusable(entry: dict | None, key: str, file: Path) -> bool:
    """The file on disk is the one the last build wrote for this key."""
    return bool(entry) and entry.get("key") == key and file.is_file() and file.stat().st_size == entry.get("size")
