"""Markdown for context readings: a safe subset, images only from inside the content folder."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif")


def markdown_parser() -> MarkdownIt:
    """CommonMark with raw HTML off; markdown-it itself refuses javascript:, vbscript: and file: links."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def image_sources(text: str) -> list[tuple[int, str, str]]:
    """(line, src, alt) of every image in a Markdown text; lines count from 1."""
    found = []
    for token in markdown_parser().parse(text):
        for child in token.children or ():
            if child.type == "image":
                line = (token.map[0] + 1) if token.map else 1
                found.append((line, child.attrGet("src") or "", child.content))
    return found


def markdown_to_html(text: str, folder: Path | None = None) -> str:
    """Safe Markdown; images resolve inside `folder` (checked when content is loaded) or are dropped."""
    md = markdown_parser()
    tokens = md.parse(text)
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                src = child.attrGet("src") or ""
                target = (folder / src).resolve() if folder and src and ":" not in src else None
                if target is None or not target.is_relative_to(folder.parent.resolve()) or not target.is_file():
                    child.type, child.tag, child.children = "text", "", None
                else:
                    child.attrSet("src", target.as_uri())
    html = md.renderer.render(tokens, md.options, {})
    # Readings sit under the document's h2/h3, so their own headings move down two levels.
    return re.sub(r"<(/?)h([1-6])>", lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}>", html)
