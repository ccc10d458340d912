"""Distribution files for a class: print pack, manifest, index page and zip, all reproducible."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import jinja2
from pypdf import PdfReader, PdfWriter

from . import TEMPLATES, __version__

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def print_pack(members: list[tuple[str, Path]]) -> tuple[bytes, int]:
    """One PDF of every handout in order, each starting on a right-hand (odd) page."""
    writer = PdfWriter()
    for title, file in members:
        start = len(writer.pages)
        reader = PdfReader(file)
        for page in reader.pages:
            writer.add_page(page)
        writer.add_outline_item(title=title, page_number=start)
        if len(writer.pages) % 2:
            box = reader.pages[0].mediabox
            writer.add_blank_page(width=box.width, height=box.height)
    writer.add_metadata({"/Title": "Print pack", "/Producer": f"kit {__version__}"})
    # A fixed identifier keeps the pack byte-identical from build to build.
    digest = hashlib.sha256(b"".join(t.encode() + f.read_bytes() for t, f in members)).digest()[:16]
    from pypdf.generic import ArrayObject, ByteStringObject
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), len(writer.pages)


def manifest(cls, files: list[dict], sources: dict, templates_digest: str) -> str:
    """manifest.json: every file with its hash, pages, kind, lesson and student; what it was built from."""
    data = {
        "class": cls.id,
        "name": cls.profile.name,
        "teacher": cls.profile.teacher,
        "school": cls.profile.school,
        "term": cls.profile.term,
        "paper": cls.profile.paper,
        "students": len(cls.students),
        "files": sorted(files, key=lambda f: f["path"]),
        "built_from": {
            "kit": __version__,
            "class_profile": cls.path,
            "class_sha256": cls.digest,
            "lessons": [{"id": item.lesson.id, "file": item.lesson.path,
                         "questions": [q.id for q in item.lesson.questions]} for item in cls.lessons],
            "sources": sorted(sources),
            "templates_sha256": templates_digest,
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def index_page(cls, files: list[dict], templates: Path = TEMPLATES) -> str:
    """index.html: the class's materials with page counts and sizes, ready to post."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    by_lesson = []
    for item in cls.lessons:
        rows = [f for f in files if f.get("lesson") == item.lesson.id and f["kind"] in ("student", "teacher")]
        by_lesson.append({"lesson": item.lesson, "files": sorted(rows, key=lambda f: (f["student"], f["kind"]))})
    packs = [f for f in files if f["kind"] == "print-pack"]
    return env.get_template("index.html.j2").render(cls=cls, profile=cls.profile, lessons=by_lesson, packs=packs,
                                                     size=_size)


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MB"


def zip_folder(entries: list[tuple[str, Path]], name: str) -> bytes:
    """A zip of a class folder with fixed dates, permissions and order: the same bytes every build."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for rel, file in sorted(entries):
            info = zipfile.ZipInfo(f"{name}/{rel}", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes(), compresslevel=6)
    return buffer.getvalue()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
