"""Distribution files for a class: named copies, print pack, index page, manifest and zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import jinja2

from . import TEMPLATES, __version__
from .cache import reusable
from .classes import student_slug
from .copies import NamedCopies, TaggedPack, overlay_html
from .write import atomic_write

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def bundle_class(cls, files, state, output, staging, digest, templates, content) -> dict:
    """Everything a class folder holds beyond its rendered handouts; returns the class's file entries."""
    def where(rel):
        return staging / rel if files[rel].get("new") else output / rel

    def stage(rel, data: bytes, kind: str, key: str = "", pages: int = 0, lesson: str = "", student: str = ""):
        sha = hashlib.sha256(data).hexdigest()
        files[rel] = {"key": key or sha, "sha256": sha, "size": len(data), "pages": pages, "kind": kind,
                      "group": cls.id, "lesson": lesson, "student": student}
        if not reusable(state.get(rel), key or sha, output / rel):  # unchanged files keep their date
            files[rel]["new"] = True
            atomic_write(staging / rel, data)

    p = cls.profile
    stamped = bool(cls.students) and not p.shuffle
    named: dict[str, NamedCopies] = {}

    def copies_of(handout: str) -> NamedCopies:
        if not named:  # one overlay document holds every name for every handout of the class
            handouts = [f"{cls.id}/{i.lesson.id}-student.pdf" for i in cls.lessons]
            named.update(_stamped(cls, {h: where(h) for h in handouts}, files, content, templates))
        return named[handout]

    members = []  # (title, lesson id, student, key, pages-or-file)
    for item in cls.lessons:
        lesson = item.lesson
        handout = f"{cls.id}/{lesson.id}-student.pdf"
        if p.shuffle:
            for index, name in enumerate(cls.students, start=1):
                rel = f"{cls.id}/students/{student_slug(index, name)}/{lesson.id}-student.pdf"
                members.append((f"{name}: {lesson.spec.title}", lesson.id, name, files[rel]["key"], where(rel)))
        elif stamped:
            for index, name in enumerate(cls.students, start=1):
                key = hashlib.sha256(f"{files[handout]['key']}\0{name}".encode()).hexdigest()
                members.append((f"{name}: {lesson.spec.title}", lesson.id, name, key, (handout, index - 1)))
            if p.student_files:
                for index, name in enumerate(cls.students, start=1):
                    rel = f"{cls.id}/students/{student_slug(index, name)}/{lesson.id}-student.pdf"
                    key = members[-len(cls.students) + index - 1][3]
                    if reusable(state.get(rel), key, output / rel):
                        files[rel] = {**state[rel], "group": cls.id}
                        continue
                    copies = copies_of(handout)
                    data = copies.write_copy(index - 1, f"{lesson.spec.title} ({name})")
                    stage(rel, data, "student", key, copies.pages, lesson.id, name)
        else:
            members.append((lesson.spec.title, lesson.id, "", files[handout]["key"], where(handout)))
    pack = f"{cls.id}/{cls.id}-print-pack.pdf"
    key = hashlib.sha256("\0".join(m[0] + m[3] for m in members).encode()).hexdigest()
    if reusable(state.get(pack), key, output / pack):
        files[pack] = {**state[pack], "group": cls.id}
    else:
        data, pages = print_pack(cls, members, copies_of)
        stage(pack, data, "print-pack", key, pages)
    listing = [{"path": rel.removeprefix(f"{cls.id}/"), "sha256": f["sha256"], "pages": f["pages"], "size": f["size"],
                "kind": f["kind"], "lesson": f.get("lesson", ""), "student": f.get("student", "")}
               for rel, f in sorted(files.items()) if f.get("group") == cls.id]
    index = index_page(cls, listing, templates).encode()
    stage(f"{cls.id}/index.html", index, "index")
    listing.append({"path": "index.html", "sha256": hashlib.sha256(index).hexdigest(), "pages": 0,
                    "size": len(index), "kind": "index", "lesson": "", "student": ""})
    text = manifest(cls, [{k: v for k, v in f.items() if k != "size"} for f in listing],
                    sorted({i.lesson.source.id for i in cls.lessons}), digest).encode()
    stage(f"{cls.id}/manifest.json", text, "manifest")
    zip_rel = f"{cls.id}.zip"
    zip_key = hashlib.sha256(text).hexdigest()
    if reusable(state.get(zip_rel), zip_key, output / zip_rel):
        files[zip_rel] = {**state[zip_rel], "group": cls.id}
    else:
        entries = [(rel.removeprefix(f"{cls.id}/"), where(rel)) for rel, f in sorted(files.items())
                   if f.get("group") == cls.id and rel.startswith(f"{cls.id}/")]
        stage(zip_rel, zip_folder(entries, cls.id), "zip", zip_key)
    return files


def _stamped(cls, handouts: dict[str, Path], files, content, templates) -> dict[str, NamedCopies]:
    """Each class handout once per student, each with the student's name on its first page."""
    from . import pdf
    from .errors import Problem, RenderError

    if pdf.printer() is None:
        pdf.init_worker(str(content), str(templates))
    for rel in handouts:
        if not files[rel].get("name_at"):
            raise RenderError(Problem(rel, 1, 1, "the handout has no name line to print names on",
                                      "keep the element with class 'name-label' in student.html.j2"))
    places = [tuple(files[rel]["name_at"]) for rel in handouts]
    # One page per student, at the first handout's name line; the others are drawn shifted (px -> pt).
    html = overlay_html(list(cls.students), places[:1], cls.profile.paper, cls.profile.large_print)
    document, warnings = pdf.printer().render(html, cls.profile.paper, False, bare=True)
    if warnings:
        raise RenderError(Problem(cls.path, 1, 1, f"printing names: {warnings[0]}", "report this"))
    import pikepdf
    names = pikepdf.open(io.BytesIO(document.write_pdf()))
    return {rel: NamedCopies(path, names, shift=((x - places[0][0]) * 0.75, (places[0][1] - y) * 0.75))
            for (rel, path), (x, y) in zip(handouts.items(), places)}


def print_pack(cls, members, copies_of) -> tuple[bytes, int]:
    """One tagged PDF of every handout in order, each starting on a right-hand (odd) page."""
    import gc

    pack = TaggedPack()
    gc.disable()  # thousands of short-lived object handles, no cycles: scanning the heap for them is waste
    try:
        for title, lesson_id, _, _, source in members:
            if isinstance(source, tuple):
                handout, index = source
                copies_of(handout).add_to(pack, index, title)
            else:
                pack.add(Path(source).read_bytes(), title)
            if pack.pages % 2:
                pack.blank()
        return pack.write(f"{cls.profile.name}: print pack"), pack.pages
    finally:
        gc.enable()


def manifest(cls, files: list[dict], sources: list[str], templates_digest: str) -> str:
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
            "sources": sources,
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
                                                     students=cls.students, size=_size)


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MB"


def zip_folder(entries: list[tuple[str, Path]], name: str) -> bytes:
    """A zip of a class folder with fixed dates, permissions and order: the same bytes every build."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for rel, file in sorted(entries):
            info = zipfile.ZipInfo(f"{name}/{rel}", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            # PDFs are compressed already; deflating them again costs time and saves almost nothing.
            info.compress_type = zipfile.ZIP_STORED if rel.endswith(".pdf") else zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()
