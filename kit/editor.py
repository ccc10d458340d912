"""The class editor: a class profile as form data, and a filled-in form checked and saved like `check` would."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

import yaml

from . import yamlfile
from .classes import ClassLessonSpec, ClassProfile, read_roster
from .errors import Collector, KitError, Problem, display_path
from .glyphs import missing_glyphs
from .models import DIFFICULTIES, QUESTION_TYPES, Question
from .preview import PREVIEW, valid_id
from .roundtrip import LESSON_SPECIAL, SPECIAL, apply, fields
from .validate import validate
from .write import atomic_write

ROSTER_LIMIT = 200_000

def file_base(content: Path, class_id: str) -> str:
    """A fingerprint of the class file and its roster as they are on disk ('' for a class not saved yet)."""
    file = content / "classes" / f"{class_id}.yaml"
    if not file.is_file():
        return ""
    digest = hashlib.sha256(file.read_bytes())
    try:
        roster = (yaml.safe_load(file.read_text("utf-8")) or {}).get("roster")
    except (yaml.YAMLError, AttributeError):
        roster = None
    if isinstance(roster, str) and valid_roster_name(roster) and (file.parent / roster).is_file():
        digest.update(b"\0" + (file.parent / roster).read_bytes())
    return digest.hexdigest()


def valid_roster_name(name: str) -> bool:
    """A plain CSV file name next to the class file (what the class loader accepts)."""
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.csv", name)) and ".." not in name


def form(content: Path, class_id: str, lessons: dict) -> dict:
    """Everything the editor shows for a class: its fields, its lessons and their questions, in print order."""
    file = content / "classes" / f"{class_id}.yaml"
    data = {}
    if file.is_file():
        loaded = yamlfile.load(file, display_path(file, content.parent)).data
        data = loaded if isinstance(loaded, dict) else {}
    entries = []
    for entry in data.get("lessons") or []:
        spec = {"id": entry} if isinstance(entry, str) else entry if isinstance(entry, dict) else {}
        if spec.get("id") in lessons:
            entries.append(_lesson_form(spec, lessons[spec["id"]]))
        elif isinstance(spec.get("id"), str):  # kept as written: its lesson is missing or has problems
            entries.append({"id": spec["id"], "title": "lesson not found or has problems; kept as written",
                            "keep": True, "fields": [], "questions": [], "excerpts": []})
    return {"id": class_id, "exists": file.is_file(), "base": file_base(content, class_id),
            "fields": fields(ClassProfile, data, SPECIAL), "roster": data.get("roster") or "",
            "lessons": entries, "available": [{"id": l.id, "title": l.spec.title} for l in lessons.values()],
            "templates": {l.id: _lesson_form({"id": l.id}, l) for l in lessons.values()},
            "types": QUESTION_TYPES, "difficulties": DIFFICULTIES}


def _lesson_form(spec: dict, lesson) -> dict:
    base = {q.id: q for q in lesson.questions}
    added = {}
    for raw in spec.get("add") or []:
        try:
            added[raw["id"]] = Question.model_validate(raw)
        except (ValueError, TypeError, KeyError):
            continue
    every = {**base, **added}
    reword = spec.get("reword") if isinstance(spec.get("reword"), dict) else {}
    chosen = [q for q in (spec.get("include") or list(every)) if q in every]
    chosen = [q for q in chosen if q not in (spec.get("exclude") or [])]
    ceiling = spec.get("max_difficulty")
    if ceiling in DIFFICULTIES:
        chosen = [q for q in chosen if DIFFICULTIES.index(every[q].difficulty) <= DIFFICULTIES.index(ceiling)]
    rows = [{"id": q, "include": q in chosen, "prompt": str(reword.get(q, every[q].prompt)),
             "original": every[q].prompt, "type": every[q].type, "difficulty": every[q].difficulty,
             "added": q in added} for q in chosen + [q for q in every if q not in chosen]]
    return {"id": lesson.id, "title": lesson.spec.title, "fields": fields(ClassLessonSpec, spec, LESSON_SPECIAL),
            "questions": rows, "excerpts": [{"id": e.id, "title": e.title} for e in lesson.excerpts]}


# --- checking and saving ------------------------------------------------------------------------

class Conflict(KitError):
    """The class file changed on disk after the form was loaded."""


def check(content: Path, output: Path, class_id: str, text: str, roster: tuple[str, str] | None, kit) -> list[Problem]:
    """Every problem `check` would report for this class file (and roster), without writing into content/."""
    file = content / "classes" / f"{class_id}.yaml"
    path = display_path(file, content.parent)
    problems = Collector()
    for problem in missing_glyphs(text, path):
        problems.append(problem)
    try:
        doc = yamlfile.parse(text, path)
        profile = validate(doc, ClassProfile)
    except KitError as exc:
        return problems.problems + exc.problems
    if kit is None:
        return problems.problems + [Problem(path, 1, 1, "the kit has problems, so lessons cannot be checked",
                                            "fix the problems listed on the home page first")]
    scratch = output / PREVIEW
    scratch.mkdir(parents=True, exist_ok=True)
    # The class alone in a scratch content folder, loaded exactly as `check` loads content/classes/.
    with tempfile.TemporaryDirectory(dir=scratch, prefix="check-") as tmp:
        root = Path(tmp)
        (root / "classes").mkdir()
        (root / "classes" / file.name).write_text(text, "utf-8")
        if profile.roster and valid_roster_name(profile.roster):
            if roster and roster[0] == profile.roster:
                (root / "classes" / profile.roster).write_text(roster[1], "utf-8")
                problems.problems.extend(missing_glyphs(roster[1], display_path(file.parent / roster[0], content.parent)))
            elif (content / "classes" / profile.roster).is_file():
                shutil.copyfile(content / "classes" / profile.roster, root / "classes" / profile.roster)
        from .classes import load_classes
        found = Collector()
        load_classes(root, {l.id: l for l in kit.lessons}, set(), found)
        scratch_paths = (display_path(root / "classes", root), str(root), display_path(root))
        for problem in found.problems:
            if problem.path.startswith(scratch_paths):
                problem = Problem(display_path(content / "classes" / Path(problem.path).name, content.parent),
                                  problem.line, problem.col, problem.message, problem.hint)
            problems.append(problem)
    return problems.problems


def check_roster(output: Path, content: Path, name: str, data: bytes) -> tuple[list[str], list[Problem]]:
    """The names in an uploaded roster, or its problems line by line (nothing is written into content/)."""
    path = display_path(content / "classes" / name, content.parent)
    if len(data) > ROSTER_LIMIT:
        return [], [Problem(path, 1, 1, f"file is {len(data):,} bytes, over the {ROSTER_LIMIT:,}-byte limit",
                            "split the class into several rosters")]
    scratch = output / PREVIEW
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="roster-") as tmp:
        file = Path(tmp) / "roster.csv"
        file.write_bytes(data)
        try:
            return list(read_roster(file, path)), []
        except KitError as exc:
            return [], list(exc.problems)


def save(content: Path, output: Path, data: dict, kit) -> str:
    """Check the filled-in form and write content/classes/<id>.yaml (and its roster) atomically; returns the text."""
    class_id = str(data.get("id", ""))
    if not valid_id(class_id):
        raise KitError(Problem("form", 1, 1, f"'{class_id}' is not a valid class id",
                               "use lowercase letters, digits and hyphens, e.g. grade9-a"))
    file = content / "classes" / f"{class_id}.yaml"
    if file_base(content, class_id) != data.get("base", ""):
        what = "was created" if not data.get("base") else "changed on disk"
        raise Conflict(Problem(display_path(file, content.parent), 1, 1,
                               f"this class {what} since the editor loaded it; nothing was saved",
                               "reload the editor to see the file as it is now, then make your changes again"))
    roster = None
    if data.get("roster_csv") is not None:
        name = data.get("roster") or f"{class_id}.csv"
        if not valid_roster_name(name):
            name = f"{class_id}.csv"
        roster = (name, str(data["roster_csv"]))
        data = {**data, "roster": name}
    lessons = {l.id: l for l in kit.lessons} if kit else {}
    text = apply(file.read_text("utf-8") if file.is_file() else None, data, lessons)
    problems = check(content, output, class_id, text, roster, kit)
    if problems:
        raise KitError(problems)
    if roster:
        atomic_write(content / "classes" / roster[0], roster[1])
    atomic_write(file, text)
    return text
