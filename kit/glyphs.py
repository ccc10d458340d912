"""Refuse content whose characters the bundled fonts cannot print (no empty boxes on paper)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

from .errors import Problem
from . import TEMPLATES


@lru_cache(maxsize=4)
def covered(fonts: Path = TEMPLATES / "fonts") -> frozenset[int]:
    """Every code point some bundled font has a glyph for."""
    points: set[int] = set()
    for file in sorted(fonts.glob("*.[ot]tf")):
        font = TTFont(str(file), lazy=True)
        points.update(font.getBestCmap() or {})
        font.close()
    return frozenset(points)


CONTROL = ("Cc", "Zl", "Zp", "Cs")  # invisible in an editor, and they break lines or the PDF writer


def is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char) in CONTROL


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '')}".rstrip()


def control_characters(text: str, path: str) -> list[Problem]:
    """One problem per control character (first place it occurs): they print as nothing or break the page."""
    problems, seen = [], set()
    for number, line in enumerate(text.split("\n"), start=1):
        for col, char in enumerate(line, start=1):
            if char not in seen and is_control(char):
                seen.add(char)
                problems.append(Problem(path, number, col, f"control character {_describe(char)} in the text",
                                        "delete it (most editors do not show it); retype the text around it"))
    return problems


def missing_glyphs(text: str, path: str) -> list[Problem]:
    """One problem per character (first place it occurs) that no bundled font can print."""
    have = covered()
    seen: set[str] = set()
    problems = []
    line, col = 1, 0
    for char in text:
        if char == "\n":
            line, col = line + 1, 0
            continue
        col += 1
        if char in "\t\r" or char in seen or ord(char) in have or unicodedata.category(char) in ("Cf", "Zs"):
            continue
        if is_control(char):
            seen.add(char)
            problems.append(Problem(path, line, col, f"control character {_describe(char)} in the text",
                                    "delete it (most editors do not show it); retype the text around it"))
            continue
        seen.add(char)
        name = unicodedata.name(char, "unnamed character")
        problems.append(Problem(path, line, col, f"no bundled font can print '{char}' (U+{ord(char):04X} {name})",
                                "replace the character, or add a font covering it to templates/fonts/"))
    return problems
