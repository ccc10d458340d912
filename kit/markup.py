"""Markdown for context readings: a safe subset, images only from inside the content folder."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from markdown_it import MarkdownIt

from .files import read_image
from .glyphs import control_characters, missing_glyphs

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif")
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# What the printer can lay out in seconds: deeper nesting overflows WeasyPrint's recursion, and
# every element costs it a few milliseconds (50,000 links took minutes).
MAX_NESTING = 16
MAX_ELEMENTS = 5_000
MAX_LINKS = 500


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


def markdown_problems(text: str) -> list[tuple[int, str, str]]:
    """(line, message, hint) for Markdown nested too deeply or holding too many elements to print."""
    depth, elements, links, line = 0, 0, 0, 1
    typed, found = set(text), []
    for token in markdown_parser().parse(text):
        line = (token.map[0] + 1) if token.map else line
        for item in [token, *(token.children or ())]:
            added = "".join(c for c in item.content if c not in typed) if item.type == "text" else ""
            if added:  # written as an entity, such as &#x1F600;
                for problem in control_characters(added, "") + missing_glyphs(added, ""):
                    found.append((line, problem.message + " (written as an entity)", problem.hint))
                typed.update(added)
            depth += item.nesting
            elements += item.nesting == 1 or item.type == "image"
            links += item.type in ("link_open", "image")
            if depth > MAX_NESTING:
                return found + [(line, f"Markdown is nested more than {MAX_NESTING} levels deep",
                         "use fewer nested *emphasis*, lists or > quotes")]
    if elements > MAX_ELEMENTS:
        return found + [(1, f"{elements:,} Markdown elements (paragraphs, emphasis, links...), over the limit of "
                 f"{MAX_ELEMENTS:,}", "split the reading into several shorter ones")]
    if links > MAX_LINKS:
        return found + [(1, f"{links:,} links and images, over the limit of {MAX_LINKS:,}",
                 "keep the links a student needs; split the reading")]
    return found


def markdown_to_html(text: str, folder: Path | None = None, images: dict | None = None) -> str:
    """Safe Markdown; images (checked when content is loaded) are embedded as data: URIs, never dropped."""
    md = markdown_parser()
    tokens = md.parse(text)
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                src = child.attrGet("src") or ""
                if folder is None or not src or ":" in src:
                    child.type, child.tag, child.children = "text", "", None  # printed as its alt text
                    continue
                target = Path(os.path.abspath(folder / src))
                if images is None or target not in images:
                    # The printed HTML carries the image itself: no path of this computer in it.
                    data = read_image(target, folder.parent)
                    uri = f"data:{MIME[target.suffix.lower()]};base64,{base64.b64encode(data).decode()}"
                    if images is None:
                        child.attrSet("src", uri)
                        continue
                    images[target] = uri
                child.attrSet("src", images[target])
    html = md.renderer.render(tokens, md.options, {})
    # Readings sit under the document's h2/h3, so their own headings move down two levels.
    return re.sub(r"<(/?)h([1-6])>", lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}>", html)
