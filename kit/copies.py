"""Named copies without re-rendering: stamp each student's name onto the class handout's name line."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

NAME_EM = 0.857  # the name line's font size in rem, as in handout.css
NAME_GAP_EM = 0.3  # .student-name's margin-left
MIN_NAME_PT = 5.0  # a long name shrinks down to this size, on two lines


def find_name_label(document) -> tuple[float, float, float] | None:
    """Right edge, top and the room to its right in the name field (CSS px) of the first page's 'Name' label."""
    found = []

    def walk(box, block=None):
        element = getattr(box, "element", None)
        if element is not None and "name-label" in (element.get("class") or "").split():
            right = box.position_x + box.margin_width()
            room = block.content_box_x() + block.width - right if block is not None else 0.0
            found.append((right, box.position_y, room))
            return
        inline = type(box).__name__ in ("LineBox", "InlineBox", "TextBox")
        for child in getattr(box, "children", ()):
            walk(child, block if inline else box)

    if document.pages:
        walk(document.pages[0]._page_box)
    return found[0] if found else None


def overlay_html(names: list[str], places: list[tuple[float, float]], paper: str, large: bool) -> str:
    """For each handout's name-line position, one page per student holding only the name."""
    import html as escape

    size = NAME_EM * (16 if large else 10.5)
    pages = []
    for x, y, *room in places:
        left = x + NAME_GAP_EM * size * 4 / 3
        width = (room[0] if room else 0.0) - NAME_GAP_EM * size * 4 / 3
        pages += [f'<div class="p"><strong style="{_fit(n, size, left, y, width)}">{escape.escape(n)}</strong></div>'
                  for n in names]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>names</title><style>'
            f'@page {{ size: {"letter" if paper == "letter" else "A4"}; margin: 0; }}'
            f'body {{ margin: 0; }} .p {{ position: relative; break-after: page; height: 10px; }}'
            f'.p strong {{ position: absolute; white-space: nowrap;'
            f' font: bold {size:.3f}pt/1.45 "Kit Sans", "Kit CJK"; color: #111; }}'
            f'</style></head><body>{"".join(pages)}</body></html>')


def _fit(name: str, size: float, left: float, top: float, width: float) -> str:
    """CSS placing a name on the name line: as is, shrunk onto one line, or on two smaller lines."""
    style = f"left: {left:.3f}px; top: {top:.3f}px"
    need = name_width(name, size) * 4 / 3  # pt to CSS px
    if width <= 0 or need <= width:
        return style
    if need * 0.6 <= width:  # shrink, stay on one line
        return f"{style}; font-size: {size * width / need * 0.98:.3f}pt"
    # Two lines, each with a fifth to spare for where the words break; 80 characters fit at 5 pt.
    small = max(MIN_NAME_PT, min(0.75 * size, size * 2 * width * 0.8 / need))
    # Two lines ending where the one line would have ended: the name stays above the rule.
    lift = 2 * small * 1.05 - size * 1.45
    return (f"left: {left:.3f}px; top: {top - lift * 4 / 3:.3f}px; width: {width:.3f}px; font-size: {small:.3f}pt;"
            f" line-height: 1.05; white-space: normal; overflow-wrap: anywhere")


@lru_cache(maxsize=1)
def _bold_widths() -> tuple[dict[int, int], int]:
    from fontTools.ttLib import TTFont

    from . import TEMPLATES
    font = TTFont(str(TEMPLATES / "fonts" / "NotoSans-Bold.ttf"), lazy=True)
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    widths = {code: metrics[glyph][0] for code, glyph in cmap.items()}
    return widths, font["head"].unitsPerEm


def name_width(name: str, size: float) -> float:
    """Width in points of a name in the bold sans at `size` (a glyph the font lacks counts as 1 em: CJK)."""
    widths, units = _bold_widths()
    return sum(widths.get(ord(c), units) for c in name) * size / units


class NamedCopies:
    """The class handout once per student, each with that student's name on its first page.

    The name is drawn from a form XObject added after the page's own content, so the handout's
    content streams and fonts are shared by every copy instead of being parsed and rewritten.
    """

    def __init__(self, handout: Path, names: PdfReader, offset: int = 0):
        self.handout = PdfReader(handout)
        self.names, self.offset = names, offset

    @property
    def pages(self) -> int:
        return len(self.handout.pages)

    def add_to(self, writer: PdfWriter, index: int) -> int:
        """Append student `index`'s copy to `writer`; returns the page number its first page got."""
        start = len(writer.pages)
        added = [writer.add_page(page) for page in self.handout.pages]
        self._stamp(writer, added[0], index)
        return start

    def write_copy(self, index: int, title: str) -> bytes:
        """Student `index`'s copy as a file of its own, keeping the handout's tags and bookmarks."""
        writer = PdfWriter(clone_from=self.handout)
        self._stamp(writer, writer.pages[0], index)
        writer.add_metadata({"/Title": title})
        return finish(writer, title.encode())

    def _stamp(self, writer: PdfWriter, first, index: int) -> None:
        """Draw the name after the page's own content, as an artifact (not part of the tag tree)."""
        name_page = self.names.pages[self.offset + index]
        form = StreamObject()
        form.set_data(name_page.get_contents().get_data())
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                     NameObject("/BBox"): ArrayObject(name_page.mediabox),
                     NameObject("/Resources"): name_page["/Resources"].clone(writer)})
        resources = DictionaryObject(first["/Resources"].get_object())
        xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
        xobjects[NameObject("/KitStudentName")] = writer._add_object(form)
        resources[NameObject("/XObject")] = xobjects
        first[NameObject("/Resources")] = resources
        contents = first["/Contents"].get_object()
        streams = list(contents) if isinstance(contents, ArrayObject) else [first.raw_get("/Contents")]
        first[NameObject("/Contents")] = ArrayObject([
            self._stream(writer, b"q\n"), *streams,
            self._stream(writer, b"\nQ /Artifact BMC q /KitStudentName Do Q EMC\n")])

    @staticmethod
    def _stream(writer: PdfWriter, data: bytes):
        stream = StreamObject()
        stream.set_data(data)
        return writer._add_object(stream)


def finish(writer: PdfWriter, seed: bytes) -> bytes:
    """Write with a fixed document identifier so the bytes are the same on every build."""
    import hashlib

    from pypdf.generic import ArrayObject, ByteStringObject

    digest = ByteStringObject(hashlib.sha256(seed).digest()[:16])
    writer._ID = ArrayObject([digest, digest])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
