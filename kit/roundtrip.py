"""A filled-in class form written back into the class file: only what changed, comments and order kept."""

from __future__ import annotations

import io
import types
import typing
from typing import Literal

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from .classes import ClassLessonSpec, ClassProfile
from .errors import KitError, Problem
from .models import DIFFICULTIES

SPECIAL = {"id", "lessons", "roster"}  # profile keys with a form of their own
LESSON_SPECIAL = {"id", "include", "exclude", "add", "reword"}
HELP = {  # a line under a field; keys added later show their pydantic description, if any
    "name": "printed on every handout",
    "paper": "a4 or US letter",
    "large_print": "body text at 16 pt, more room to write",
    "teacher_edition": "also print the teacher edition",
    "shuffle": "a different question order for each student (needs a roster)",
    "student_files": "also one PDF per student",
    "max_difficulty": "leave out harder questions",
    "answer_space": "1.5 = 50% more ruled lines",
}


def widget(info) -> dict | None:
    """How a model field is edited: a tick box, a choice, a number or a line of text; None for anything else."""
    kind, optional = info.annotation, False
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        optional, kind = True, args[0] if len(args) == 1 else None
    if kind is bool:
        return {"kind": "bool"}
    if typing.get_origin(kind) is Literal:
        return {"kind": "choice", "choices": [""] * optional + [str(c) for c in typing.get_args(kind)]}
    if kind in (int, float):
        bounds = {type(m).__name__.lower(): getattr(m, type(m).__name__.lower()) for m in info.metadata
                  if type(m).__name__ in ("Ge", "Le")}
        return {"kind": "number", "step": "1" if kind is int else "any", **bounds}
    if kind is str:
        return {"kind": "text", "required": info.is_required()}
    return None


def fields(model, data: dict, skip: set[str]) -> list[dict]:
    """The simple fields of a model (every key a helper adds appears here without edits), with their values."""
    out = []
    for name, info in model.model_fields.items():
        how = widget(info)
        if name in skip or how is None:
            continue
        value = data.get(name, info.default if not info.is_required() else "")
        out.append({"name": name, "label": name.replace("_", " ").capitalize(), "value": "" if value is None else value,
                    "description": info.description or HELP.get(name, ""), **how})
    return out




def _yaml() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096  # never fold a teacher's long line
    return rt


def _scalar(value, old=None):
    """A new value in the style of the one it replaces; quoted when PyYAML would read it as something else."""
    if not isinstance(value, str):
        return value
    if isinstance(old, ScalarString):
        return type(old)(value)
    try:
        plain_ok = yaml.safe_load(value) == value and "\n" not in value
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok else DoubleQuotedScalarString(value)


def _put(mapping: CommentedMap, key: str, value, order: list[str]) -> None:
    """Set a key, changing nothing when the value is the same; a new key goes where the model lists it."""
    if key in mapping:
        if mapping[key] != value:
            mapping[key] = _scalar(value, mapping[key]) if not isinstance(value, list) else value
        return
    later = order[order.index(key) + 1:] if key in order else []
    position = next((i for i, k in enumerate(mapping) if k in later), len(mapping))
    mapping.insert(position, key, _scalar(value) if not isinstance(value, list) else value)


def _flow(items) -> CommentedSeq:
    seq = CommentedSeq([_scalar(i) for i in items])
    seq.fa.set_flow_style()
    return seq


def _coerce(spec: dict, raw):
    if spec["kind"] == "bool":
        return bool(raw)
    raw = "" if raw is None else str(raw).strip()
    if spec["kind"] == "choice":
        return raw or None
    if spec["kind"] == "number":
        if raw == "":
            return None
        try:
            number = float(raw)
        except ValueError:
            return raw  # the model reports it with the field's line
        return int(number) if spec["step"] == "1" or number.is_integer() and "." not in raw else number
    return raw


def _apply_fields(mapping: CommentedMap, model, skip: set[str], values: dict) -> None:
    order = list(model.model_fields)
    for spec in fields(model, {}, skip):
        name = spec["name"]
        if name not in values:
            continue
        value = _coerce(spec, values[name])
        default = model.model_fields[name].default
        if value is None or value == "" and not spec.get("required"):
            if name in mapping:
                del mapping[name]
            continue
        if name not in mapping and value == default:
            continue
        _put(mapping, name, value, order)


def apply(text: str | None, data: dict, lessons: dict) -> str:
    """The class file with the form's values; comments, key order and untouched values stay as they were."""
    rt = _yaml()
    if text:
        _, indent, offset = load_yaml_guess_indent(text)
        rt.indent(mapping=2, sequence=max(indent or 2, (offset or 0) + 2), offset=offset or 0)
        doc = rt.load(text)
    else:
        doc = CommentedMap(id=data["id"])
        rt.indent(mapping=2, sequence=4, offset=2)
    if not isinstance(doc, CommentedMap):
        raise KitError(Problem("form", 1, 1, "the class file is not a mapping of keys", "fix it in a text editor"))
    _apply_fields(doc, ClassProfile, SPECIAL, data.get("fields", {}))
    if data.get("roster") is not None:
        if data["roster"]:
            _put(doc, "roster", data["roster"], list(ClassProfile.model_fields))
        elif "roster" in doc:
            del doc["roster"]
    old = {(e if isinstance(e, str) else e.get("id")): e for e in doc.get("lessons") or []
           if isinstance(e, (str, CommentedMap))}
    entries = CommentedSeq()
    for item in data.get("lessons", []):
        entry = old.get(item["id"], item["id"])
        entries.append(_apply_lesson(entry, item, lessons.get(item["id"])))
    if "lessons" in doc and isinstance(doc["lessons"], CommentedSeq) and [_lid(e) for e in doc["lessons"]] == [_lid(e) for e in entries]:
        for i, entry in enumerate(entries):  # same lessons in the same order: keep the list and its comments
            if doc["lessons"][i] is not entry:
                doc["lessons"][i] = entry
    else:
        _put(doc, "lessons", entries, list(ClassProfile.model_fields))
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def _lid(entry) -> str:
    return entry if isinstance(entry, str) else entry.get("id")


def _apply_lesson(entry, item: dict, lesson):
    """One lesson of the class: its fields, selection, order, rewordings and added questions."""
    if item.get("keep") or lesson is None:
        return entry
    node = entry if isinstance(entry, CommentedMap) else CommentedMap(id=_scalar(entry))
    order = list(ClassLessonSpec.model_fields)
    _apply_fields(node, ClassLessonSpec, LESSON_SPECIAL, item.get("fields", {}))
    rows = item.get("questions", [])
    base = {q.id: q.prompt for q in lesson.questions} if lesson else {}
    added_old = {a.get("id"): a for a in node.get("add") or [] if isinstance(a, dict)}
    added = list(node.get("add") or [])
    for new in item.get("add", []):
        if new.get("id") not in added_old and new.get("id") not in base:
            added.append(_new_question(new))
            added_old[new["id"]] = added[-1]
    reword = node.get("reword") if isinstance(node.get("reword"), CommentedMap) else CommentedMap()
    for row in rows:
        qid, prompt = row["id"], " ".join(str(row.get("prompt", "")).split())
        if qid in added_old:
            if prompt and " ".join(str(added_old[qid].get("prompt", "")).split()) != prompt:
                added_old[qid]["prompt"] = _scalar(prompt, added_old[qid].get("prompt"))
        elif qid in base:
            if prompt and prompt != " ".join(base[qid].split()):
                if reword.get(qid) != prompt:
                    reword[qid] = _scalar(prompt, reword.get(qid))
            elif qid in reword:
                del reword[qid]
    if added and "add" not in node:
        _put(node, "add", CommentedSeq(added), order)
    elif added:
        for extra in added[len(node["add"]):]:
            node["add"].append(extra)
    if reword:
        _put(node, "reword", reword, order)
    elif "reword" in node:
        del node["reword"]
    difficulty = {q.id: q.difficulty for q in lesson.questions} if lesson else {}
    difficulty.update({qid: str(a.get("difficulty", "easy")) for qid, a in added_old.items()})
    _apply_selection(node, [r["id"] for r in rows if r.get("include")], list(base) + list(added_old), order,
                     difficulty)
    return entry if node.keys() == {"id"} and isinstance(entry, str) else node


def _apply_selection(node: CommentedMap, wanted: list[str], every: list[str], order: list[str],
                     difficulty: dict[str, str]) -> None:
    """`exclude` when the wanted questions keep the lesson's order, else `include` with the new order."""
    ceiling = node.get("max_difficulty")
    default = every
    if ceiling in DIFFICULTIES:
        default = [q for q in every if DIFFICULTIES.index(difficulty.get(q, "easy")) <= DIFFICULTIES.index(ceiling)]
    left = iter(default)
    in_order = all(q in left for q in wanted)
    if "include" in node or not in_order:
        if list(node.get("include") or []) != wanted:
            _put(node, "include", _flow(wanted), order)
        exclude = [q for q in node.get("exclude") or [] if q not in wanted]
    else:
        exclude = [q for q in default if q not in wanted]
        exclude += [q for q in node.get("exclude") or [] if q not in default and q not in exclude]
    if exclude:
        if sorted(node.get("exclude") or []) != sorted(exclude):
            _put(node, "exclude", _flow(exclude), order)
    elif "exclude" in node:
        del node["exclude"]


def _new_question(raw: dict) -> CommentedMap:
    """An added question, keys in the order a person writes them (the same as a lesson's questions)."""
    q = CommentedMap()
    q["id"] = _scalar(str(raw.get("id", "")).strip())
    q["type"] = _scalar(str(raw.get("type", "")).strip())
    q["difficulty"] = _scalar(str(raw.get("difficulty", "")).strip())
    q["prompt"] = _scalar(" ".join(str(raw.get("prompt", "")).split()))
    excerpts = [e for e in raw.get("excerpts") or [] if isinstance(e, str)]
    if excerpts:
        q["excerpts"] = _flow(excerpts)
    try:
        lines = int(raw.get("answer_lines") or 6)
    except ValueError:
        lines = raw.get("answer_lines")
    if lines != 6:
        q["answer_lines"] = lines
    notes = CommentedMap()
    notes["answer"] = _scalar(" ".join(str(raw.get("answer", "")).split()))
    notes["evidence"] = _flow([e.strip() for e in str(raw.get("evidence", "")).splitlines() if e.strip()])
    if str(raw.get("look_for", "")).strip():
        notes["look_for"] = _scalar(" ".join(str(raw["look_for"]).split()))
    q["notes"] = notes
    return q
