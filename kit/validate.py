"""Turn parsed YAML into frozen models, reporting pydantic's findings at their line and column."""

from __future__ import annotations

import difflib
import typing
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import KitError, Problem
from .yamlfile import Doc

M = TypeVar("M", bound=BaseModel)


def validate(doc: Doc, model: type[M], context: dict | None = None) -> M:
    """A frozen model of `doc`, or a KitError listing every problem in it."""
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"a single value ({type(doc.data).__name__})"
        raise KitError(doc.problem((), f"expected a mapping of keys to values, found {kind}",
                                   "start the file with 'key: value' lines; see README"))
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        raise KitError([_problem(doc, model, error) for error in exc.errors()])


def _data_path(data, loc: tuple) -> tuple:
    """The part of pydantic's `loc` that names real keys and indexes in the data."""
    path = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
            path.append(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
            path.append(part)
    return tuple(path)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _fields_at(model: type[BaseModel], path: tuple) -> list[str]:
    """Keys allowed in the mapping at `path`."""
    models = [model]
    for part in path:
        if isinstance(part, int):
            continue
        nxt = []
        for m in models:
            for name, info in m.model_fields.items():
                if (info.alias or name) == part:
                    nxt.extend(_models_in(info.annotation))
        models = nxt or models
    return sorted({info.alias or name for m in models for name, info in m.model_fields.items()})


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(choices)}"


def _problem(doc: Doc, model: type[BaseModel], error: dict) -> Problem:
    path = _data_path(doc.data, error["loc"])
    kind, msg = error["type"], error["msg"].removeprefix("Value error, ")
    loc = error["loc"]
    field = loc[-1] if loc and isinstance(loc[-1], str) and not loc[-1].startswith(("function-", "tuple[")) else ""
    msg = msg.replace("valid tuple", "list")
    if kind == "extra_forbidden":
        key = path[-1] if path else field
        return doc.problem(path, f"unknown key '{key}'", _suggest(key, _fields_at(model, path[:-1])), key=True)
    if kind == "missing":
        field = loc[-1]
        where = " in this item" if path and isinstance(path[-1], int) else ""
        return doc.problem(path, f"missing required key '{field}'{where}", f"add '{field}: ...'")
    if kind == "literal_error":
        allowed = [a.strip().strip("'") for a in msg.removeprefix("Input should be ").replace(" or ", ", ").split(",")]
        given = error.get("input")
        close = difflib.get_close_matches(str(given), allowed, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else "use one of the listed values"
        return doc.problem(path, f"'{field}' must be one of {', '.join(allowed)}; found '{given}'", hint)
    label = f"'{field}': " if field else ""
    hints = {
        "string_type": "write text here (quote it if it looks like a number or date)",
        "int_type": "write a whole number",
        "int_parsing": "write a whole number",
        "tuple_type": "write a list: one '- item' per line",
        "model_type": "write 'key: value' lines here",
        "too_short": "add at least one",
        "too_long": "split it into several lessons; see 'Limits' in README",
        "string_too_short": "this may not be empty",
        "string_too_long": "shorten it",
        "greater_than_equal": "use a larger number",
        "less_than_equal": "use a smaller number",
    }
    return doc.problem(path, f"{label}{msg}", hints.get(kind, "see the format in README"))


