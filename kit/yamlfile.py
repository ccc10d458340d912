"""Read a teacher's YAML file safely, keeping the line and column of every value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import KitError, Problem
from .files import read_bytes
from .glyphs import control_characters, missing_glyphs

MAX_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 40

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HINTS = {
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
    "found a tab character": "indent with spaces, not tabs",
    "found unexpected end of stream": "a quote is probably left open: close it on the same line",
    "mapping values are not allowed here": "check the indentation, or quote a value that contains ': '",
    "expected <block end>, but found": "check the indentation of this line against the ones above",
    "could not find expected ':'": "a key needs ': ' after it, or a quote is left open",
    "found undefined alias": "define the &anchor before using *alias",
    "did not find expected key": "check the indentation of this line against the ones above",
    "did not find expected '-' indicator": "check the indentation of this list item",
    "exceeded maximum nesting depth": f"use at most {MAX_DEPTH} levels of nesting",
}


@dataclass(frozen=True)
class Doc:
    """Parsed YAML plus where each value and key came from."""

    path: str
    data: Any
    marks: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False)
    key_marks: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False)

    def where(self, loc: tuple, key: bool = False) -> tuple[int, int]:
        """Line and column of the deepest known prefix of `loc`."""
        loc = tuple(loc)
        if key and loc in self.key_marks:
            return self.key_marks[loc]
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, loc: tuple, message: str, hint: str = "", key: bool = False) -> Problem:
        """A problem located at `loc` in this file."""
        line, col = self.where(loc, key=key)
        return Problem(self.path, line, col, message, hint)


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def decode(raw: bytes, path: str) -> str:
    """UTF-8 text or a located error naming the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise KitError(Problem(path, line, col, f"byte 0x{raw[exc.start]:02x} is not UTF-8",
                               "save the file as UTF-8 (in most editors: Save As, encoding UTF-8)"))


def read_text(file: Path, path: str, limit: int = MAX_BYTES, root: Path | None = None) -> str:
    """A content file's text (no links below `root`), refusing oversized or non-UTF-8 files."""
    return decode(read_bytes(file, root or file.parent, path, limit), path)


def parse(text: str, path: str) -> Doc:
    """Parse one YAML document into plain data with positions."""
    found = control_characters(text, path)  # before YAML, which reads U+2028 as a line break
    if found:
        raise KitError(found)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark else (1, 1)
        message = " ".join(str(p) for p in (exc.problem, ) if p) or "invalid YAML"
        if exc.context:
            message = f"{exc.context}: {message}"
        hint = next((h for k, h in _HINTS.items() if k in message), "check the YAML syntax here")
        lines = text.splitlines()
        if 0 < line <= len(lines) and "\t" in lines[line - 1]:
            hint = "indent with spaces, not tabs"
        elif "expected" in message or "end of stream" in message:
            opened = [i for i, text_line in enumerate(lines[:line], start=1)
                      if text_line.replace('\\"', "").count('"') % 2 == 1]
            if opened:
                hint = f"line {opened[0]} opens a quote (\") that is not closed on that line"
        raise KitError(Problem(path, line, col, f"YAML syntax error: {message}", hint))
    except yaml.reader.ReaderError as exc:
        before = text[:exc.position]
        raise KitError(Problem(path, before.count("\n") + 1, exc.position - before.rfind("\n"),
                               f"YAML cannot hold character U+{exc.character:04X}" if isinstance(exc.character, int)
                               else "YAML cannot hold this character", "delete it"))
    except yaml.YAMLError as exc:
        raise KitError(Problem(path, 1, 1, f"YAML error: {exc}", "check the YAML syntax"))
    except RecursionError:
        raise KitError(Problem(path, 1, 1, "YAML is nested too deeply", f"use at most {MAX_DEPTH} levels"))
    if node is None:
        raise KitError(Problem(path, 1, 1, "file is empty", "write the fields this file needs; see README"))
    return _Builder(path, text).build(node)


def load(file: Path, path: str, root: Path | None = None) -> Doc:
    """Read and parse a YAML file."""
    return parse(read_text(file, path, root=root), path)


class _Builder:
    """Turns composed nodes into plain data, refusing duplicate keys and alias bombs."""

    def __init__(self, path: str, text: str = ""):
        self.path, self.text = path, text
        self.problems: list[Problem] = []
        self.count = 0
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.key_marks: dict[tuple, tuple[int, int]] = {}
        self.constructor = yaml.SafeLoader("")

    def build(self, node) -> Doc:
        data = self.walk(node, ())
        if self.problems:
            raise KitError(self.problems)
        return Doc(self.path, data, self.marks, self.key_marks)

    def fail(self, node, message: str, hint: str) -> KitError:
        line, col = _pos(node.start_mark)
        return KitError(Problem(self.path, line, col, message, hint))

    def walk(self, node, loc: tuple) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"file expands to more than {MAX_NODES:,} values",
                            "YAML aliases (*name) may not multiply content; write values out")
        if len(loc) > MAX_DEPTH:
            raise self.fail(node, "YAML is nested too deeply", f"use at most {MAX_DEPTH} levels")
        self.marks.setdefault(loc, _pos(node.start_mark))
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            first: dict = {}
            for key_node, value_node in node.value:
                key = self.walk(key_node, loc + ("<key>",))
                if isinstance(key, (list, dict)):
                    raise self.fail(key_node, "a key must be a plain word", "remove the brackets around the key")
                if key in first:
                    raise self.fail(key_node, f"duplicate key '{key}' (first at line {first[key]})",
                                    "remove one of them; YAML would silently keep only the last")
                first[key] = key_node.start_mark.line + 1
                self.key_marks[loc + (key,)] = _pos(key_node.start_mark)
                out[key] = self.walk(value_node, loc + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, loc + (i,)) for i, item in enumerate(node.value)]
        if node.tag.endswith(":timestamp"):
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, f"cannot read this value: {getattr(exc, 'problem', exc)}",
                            "quote the value")
        except (ValueError, OverflowError):  # Python refuses to convert integers of thousands of digits
            raise self.fail(node, "this number is too long", "write a smaller number, or quote it if it is text")
        if isinstance(value, int) and value.bit_length() > 64:  # Python cannot even print one of 5,000 digits
            raise self.fail(node, "this number is too long", "write a smaller number, or quote it if it is text")
        if isinstance(value, str) and node.style == '"' and "\\" in self.text[node.start_mark.index:node.end_mark.index]:
            self.escaped(value, node)
        return value

    def escaped(self, value: str, node) -> None:
        """Characters written as escapes ("\\e", "\\U0001F600") get the checks typed characters get."""
        typed = set(self.text[node.start_mark.index:node.end_mark.index])
        added = "".join(dict.fromkeys(c for c in value if c not in typed))
        line, col = _pos(node.start_mark)
        for problem in control_characters(added, self.path) + missing_glyphs(added, self.path):
            self.problems.append(Problem(self.path, line, col, problem.message + " (written as an escape)",
                                         problem.hint))
