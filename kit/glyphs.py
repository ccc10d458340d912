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
        if char in seen or ord(char) in have or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            continue
        seen.add(char)
        name = unicodedata.name(char, "unnamed character")
        problems.append(Problem(path, line, col, f"no bundled font can print '{char}' (U+{ord(char):04X} {name})",
                                "replace the character, or add a font covering it to templates/fonts/"))
    return problems
