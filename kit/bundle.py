"""Distribution files for a class: a students' folder and zip, a teacher folder and zip, an LMS cartridge.

Layout of one class (every path relative to output/):
  <class>/students/   what students may see: handouts, web handouts, named copies, index.html
  <class>/teacher/    teacher editions, print pack, shuffle key, index.html
  <class>/manifest.json, <class>-students.zip, <class>-teacher.zip, <class>.imscc
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import jinja2

from . import TEMPLATES, __version__
from .cache import reusable
from .cartridge import LessonFiles, cartridge
from .classes import student_slug
from .copies import NamedCopies, TaggedPack, overlay_html
from .write import atomic_write, reproducible_zip


def outside(class_id: str) -> tuple[str, ...]:
    """A class's files next to its folder in output/."""
    return (f"{class_id}-students.zip", f"{class_id}-teacher.zip", f"{class_id}.imscc")


def audience(cls, rel: str) -> str:
    """'students' for what may be handed to students; 'teacher' for everything else."""
    if rel.startswith(f"{cls.id}/students/") or rel == f"{cls.id}-students.zip":
        return "students"
    if rel == f"{cls.id}.imscc" and not cls.profile.lms_teacher_files:
        return "students"
    return "teacher"


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

    def keep(rel, key) -> bool:
        if reusable(state.get(rel), key, output / rel):
            files[rel] = {**state[rel], "group": cls.id}
            return True
        return False

    p = cls.profile
    students, teacher = f"{cls.id}/students", f"{cls.id}/teacher"
    stamped = bool(cls.students) and not p.shuffle
    named: dict[str, NamedCopies] = {}

    def copies_of(handout: str) -> NamedCopies:
        if not named:  # one overlay document holds every name for every handout of the class
            handouts = [f"{students}/{i.lesson.id}-student.pdf" for i in cls.lessons]
            named.update(_stamped(cls, {h: where(h) for h in handouts}, files, content, templates))
        return named[handout]

    members = []  # (title, lesson id, student, key, pages-or-file)
    for item in cls.lessons:
        lesson = item.lesson
        handout = f"{students}/{lesson.id}-student.pdf"
        if p.shuffle:
            for index, name in enumerate(cls.students, start=1):
                rel = f"{students}/{student_slug(index, name)}/{lesson.id}-student.pdf"
                members.append((f"{name}: {lesson.spec.title}", lesson.id, name, files[rel]["key"], where(rel)))
        elif stamped:
            for index, name in enumerate(cls.students, start=1):
                key = hashlib.sha256(f"{files[handout]['key']}\0{name}".encode()).hexdigest()
                members.append((f"{name}: {lesson.spec.title}", lesson.id, name, key, (handout, index - 1)))
            if p.student_files:
                for index, name in enumerate(cls.students, start=1):
                    rel = f"{students}/{student_slug(index, name)}/{lesson.id}-student.pdf"
                    key = members[-len(cls.students) + index - 1][3]
                    if keep(rel, key):
                        continue
                    copies = copies_of(handout)
                    data = copies.write_copy(index - 1, f"{lesson.spec.title} ({name})")
                    stage(rel, data, "student", key, copies.pages, lesson.id, name)
        else:
            members.append((lesson.spec.title, lesson.id, "", files[handout]["key"], where(handout)))
    pack = f"{teacher}/{cls.id}-print-pack.pdf"
    key = hashlib.sha256("\0".join(m[0] + m[3] for m in members).encode()).hexdigest()
    if not keep(pack, key):
        data, pages = print_pack(cls, members, copies_of)
        stage(pack, data, "print-pack", key, pages)
    if p.shuffle:
        stage(f"{teacher}/{cls.id}-shuffle-key.csv", shuffle_key(cls).encode(), "shuffle-key")
    from .plan import class_edition
    from .render import Renderer
    renderer = Renderer(templates, content)  # cheap: templates load only when a page is rendered
    for item in cls.lessons:  # the web handout has the printed handout's inputs, so its cache key too
        rel = f"{students}/{item.lesson.id}-student.html"
        key = hashlib.sha256(f"{files[f'{students}/{item.lesson.id}-student.pdf']['key']}\0web".encode()).hexdigest()
        if not keep(rel, key):
            web = renderer.html(item.lesson, class_edition(cls, item), "web.html.j2").encode()
            stage(rel, web, "html", key, lesson=item.lesson.id)

    def listing(prefix: str) -> list[dict]:
        return [{"path": rel.removeprefix(f"{cls.id}/"), "sha256": f["sha256"], "pages": f["pages"], "size": f["size"],
                 "kind": f["kind"], "lesson": f.get("lesson", ""), "student": f.get("student", ""),
                 "audience": audience(cls, rel)}
                for rel, f in sorted(files.items()) if f.get("group") == cls.id and rel.startswith(prefix)]

    stage(f"{students}/index.html", index_page(cls, listing(students + "/"), "students", templates).encode(), "index")
    zip_rel, _, imscc = outside(cls.id)
    entries = [(rel.removeprefix(f"{students}/"), rel) for rel in sorted(files) if rel.startswith(students + "/")]
    zip_key = hashlib.sha256("\0".join(f"{name}\0{files[rel]['sha256']}" for name, rel in entries).encode()).hexdigest()
    if not keep(zip_rel, zip_key):
        stage(zip_rel, reproducible_zip([(f"{cls.id}-students/{name}", where(rel)) for name, rel in entries]),
              "zip", zip_key)
    lessons = [_lesson_files(cls, item, files, where) for item in cls.lessons]
    imscc_key = _cartridge_key(cls, lessons, files, digest)
    if not keep(imscc, imscc_key):
        stage(imscc, cartridge(cls, [entry for entry, _ in lessons]), "cartridge", imscc_key)
    shipped = listing(f"{cls.id}/") + [{**listing(rel)[0], "path": f"../{rel}"} for rel in (zip_rel, imscc)]
    stage(f"{teacher}/index.html", index_page(cls, shipped, "teacher", templates).encode(), "index")
    shipped = listing(f"{cls.id}/") + [{**listing(rel)[0], "path": f"../{rel}"} for rel in (zip_rel, imscc)]
    text = manifest(cls, [{k: v for k, v in f.items() if k != "size"} for f in shipped],
                    sorted({i.lesson.source.id for i in cls.lessons}), digest).encode()
    stage(f"{cls.id}/manifest.json", text, "manifest")
    teacher_zip = outside(cls.id)[1]
    teacher_key = hashlib.sha256(text).hexdigest()
    if not keep(teacher_zip, teacher_key):
        stage(teacher_zip, reproducible_zip([(rel, where(rel)) for rel in sorted(files)
                                             if rel.startswith(f"{cls.id}/")]), "zip", teacher_key)
    return files


def _lesson_files(cls, item, files, where) -> tuple[LessonFiles, list[str]]:
    """A lesson's parts of the cartridge, and the output files they come from (for its cache key)."""
    lid = item.lesson.id
    used = [f"{cls.id}/students/{lid}-student.pdf", f"{cls.id}/students/{lid}-student.html"]
    teacher = None
    if cls.profile.lms_teacher_files and cls.profile.teacher_edition:
        used.append(f"{cls.id}/teacher/{lid}-teacher.pdf")
        teacher = where(used[2])
    return LessonFiles(item.lesson, where(used[0]), where(used[1]), teacher), used


def _cartridge_key(cls, lessons, files, digest: str) -> str:
    """Everything the cartridge is made of: settings, titles, questions and the files it carries."""
    p = cls.profile
    parts = [digest, p.name, p.lms, str(p.lms_teacher_files)]
    for entry, used in lessons:
        parts += [entry.lesson.id, entry.lesson.spec.title, *(files[rel]["sha256"] for rel in used)]
        parts += [f"{q.id}\0{q.type}\0{q.prompt}\0{','.join(q.excerpts)}" for q in entry.lesson.questions]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def shuffle_key(cls) -> str:
    """CSV: which question order each student's copy has, as numbers of the class handout and as ids."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "lesson", "copy", "order (class handout numbers)", "order (question ids)"])
    for item in cls.lessons:
        questions = item.lesson.questions
        for index, (name, order) in enumerate(item.orders, start=1):
            writer.writerow([name, item.lesson.id, f"students/{student_slug(index, name)}/{item.lesson.id}-student.pdf",
                             " ".join(str(n) for n in order), " ".join(questions[n - 1].id for n in order)])
    return buffer.getvalue()


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
            for (rel, path), (x, y, *_) in zip(handouts.items(), places)}


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
    """manifest.json: every file with its hash, pages, kind, audience, lesson, student; what it was built from."""
    data = {
        "class": cls.id,
        "name": cls.profile.name,
        "teacher": cls.profile.teacher,
        "school": cls.profile.school,
        "term": cls.profile.term,
        "paper": cls.profile.paper,
        "students": len(cls.students),
        "lms": cls.profile.lms,
        "files": sorted(files, key=lambda f: f["path"]),
        "built_from": {
            "kit": __version__,
            "class_profile": f"classes/{cls.id}.yaml",  # inside the content folder: the same from any folder
            "class_sha256": cls.digest,
            "lessons": [{"id": item.lesson.id, "file": f"lessons/{item.lesson.id}.yaml",
                         "questions": [q.id for q in item.lesson.questions]} for item in cls.lessons],
            "sources": sources,
            "templates_sha256": templates_digest,
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def index_page(cls, files: list[dict], who: str, templates: Path = TEMPLATES) -> str:
    """index.html of the students' folder (student files only) or of the teacher folder (everything)."""
    from .errors import RenderError
    from .render import environment, template_problem

    env = environment(templates)
    here = "students/" if who == "students" else "teacher/"

    def link(f):  # manifest paths are relative to the class folder; links, to this index's folder
        return f["path"][len(here):] if f["path"].startswith(here) else "../" + f["path"]

    rows = [{**f, "href": link(f)} for f in files if who == "teacher" or f["audience"] == "students"]
    by_lesson = []
    for item in cls.lessons:
        mine = [f for f in rows if f.get("lesson") == item.lesson.id and f["kind"] in ("student", "teacher", "html")]
        by_lesson.append({"lesson": item.lesson, "files": sorted(mine, key=lambda f: (f["student"], f["kind"]))})
    extras = [f for f in rows if f["kind"] in ("print-pack", "shuffle-key", "zip", "cartridge")]
    try:
        return env.get_template("index.html.j2").render(cls=cls, profile=cls.profile, lessons=by_lesson,
                                                         extras=extras, students=cls.students, size=_size, who=who)
    except jinja2.TemplateError as exc:
        raise RenderError(template_problem(exc, templates))


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MB"
