"""The usable parts of a lesson file with schema errors, so its quotes and references are still checked."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from .models import ID_RE, ExcerptSpec, GlossaryRef, LessonSpec, LessonTimeline, Question


@dataclass(frozen=True)
class Partial:
    """The pieces of a lesson file with schema errors that are valid on their own, at their positions."""

    source: str | None
    excerpts: tuple[ExcerptSpec, ...]
    questions: tuple[Question, ...]
    context: tuple[str, ...]
    glossary: tuple[GlossaryRef, ...]
    timeline: LessonTimeline
    positions: dict[str, list[int]]
    ids: dict[str, list[str | None]]
    adapted_grade: float = 8

    @classmethod
    def of(cls, doc) -> "Partial":
        data = doc.data
        items, positions, ids = {}, {}, {}
        for key, model in (("excerpts", ExcerptSpec), ("questions", Question), ("glossary", GlossaryRef),
                           ("context", None)):
            raw = data.get(key) if isinstance(data.get(key), list) else []
            valid = [(i, _valid(model, value)) for i, value in enumerate(raw)]
            items[key] = tuple(v for _, v in valid if v is not None)
            positions[key] = [i for i, v in valid if v is not None]
            ids[key] = [v.get("id") if isinstance(v, dict) and isinstance(v.get("id"), str) else None for v in raw]
        source = data.get("source")
        return cls(_valid(None, source), items["excerpts"], items["questions"], items["context"],
                   items["glossary"], _valid(LessonTimeline, data.get("timeline", {})) or LessonTimeline(),
                   positions, ids, _grade(data.get("adapted_grade")))


def _grade(value) -> float:
    """A lesson's adapted_grade as written, or the default when it is not a usable number."""
    default = LessonSpec.model_fields["adapted_grade"].default
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 16 else default


def _valid(model, value):
    """`value` as a `model` (an id when no model), or None."""
    if model is None:
        return value if isinstance(value, str) and ID_RE.fullmatch(value) and len(value) <= 64 else None
    try:
        return model.model_validate(value)
    except (ValidationError, ValueError, TypeError):
        return None


def items(spec, key: str) -> list[tuple[int, object]]:
    """(position in the file, item) for each usable item of a lesson's list."""
    items = getattr(spec, key)
    return list(zip(spec.positions[key], items)) if isinstance(spec, Partial) else list(enumerate(items))


def ids(spec, key: str) -> list[str | None]:
    """The ids written in a lesson's list, valid item or not, by position."""
    return spec.ids[key] if isinstance(spec, Partial) else [item.id for item in getattr(spec, key)]
