"""Named copies without re-rendering: stamp each student's name onto the class handout's name line."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter

NAME_EM = 0.857  # the name line's font size in rem, as in handout.css
NAME_GAP_EM = 0.3  # .student-name's margin-left


def find_name_label(document) -> tuple[float, float] | None:
    """Right edge and top (CSS px) of the 'Name' label on the first page, if the document has one."""
    found = []

    def walk(box):
        element = getattr(box, "element", None)
        if element is not None and "name-label" in (element.get("class") or "").split():
            found.append((box.position_x + box.margin_width(), box.position_y))
            return
        for child in getattr(box, "children", ()):
            walk(child)

    if document.pages:
        walk(document.pages[0]._page_box)
    return found[0] if found else None


def overlay_html(names: list[str], at: tuple[float, float], paper: str, large: bool) -> str:
    """One page per student holding only the name, placed where the class handout's name line is."""
    import html as escape

    root = 16 if large else 10.5
    size = NAME_EM * root
    left = at[0] + NAME_GAP_EM * size * 4 / 3
    pages = "".join(f'<div class="p"><strong>{escape.escape(n)}</strong></div>' for n in names)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>names</title><style>'
            f'@page {{ size: {"letter" if paper == "letter" else "A4"}; margin: 0; }}'
            f'body {{ margin: 0; }} .p {{ position: relative; break-after: page; height: 10px; }}'
            f'.p strong {{ position: absolute; left: {left:.3f}px; top: {at[1]:.3f}px; white-space: nowrap;'
            f' font: bold {size:.3f}pt/1.45 "Kit Sans", "Kit CJK"; color: #111; }}'
            f'</style></head><body>{pages}</body></html>')


def stamp(handout: Path, overlay: bytes) -> list[list[PageObject]]:
    """For each overlay page, the handout's pages with that name stamped on the first."""
    reader = PdfReader(handout)
    names = PdfReader(io.BytesIO(overlay))
    box = reader.pages[0].mediabox
    copies = []
    for name_page in names.pages:
        first = PageObject.create_blank_page(width=box.width, height=box.height)
        first.merge_page(reader.pages[0])
        first.merge_page(name_page)
        copies.append([first, *reader.pages[1:]])
    return copies


def write_pages(pages: list[PageObject], title: str) -> bytes:
    """A standalone PDF of some pages (one student's copy)."""
    writer = PdfWriter()
    for page in pages:
        writer.add_page(page)
    writer.add_metadata({"/Title": title, "/Producer": "kit"})
    return finish(writer, title.encode())


def finish(writer: PdfWriter, seed: bytes) -> bytes:
    """Write with a fixed document identifier so the bytes are the same on every build."""
    import hashlib

    from pypdf.generic import ArrayObject, ByteStringObject

    digest = ByteStringObject(hashlib.sha256(seed).digest()[:16])
    writer._ID = ArrayObject([digest, digest])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
