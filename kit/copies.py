"""Named copies without re-rendering: stamp each student's name onto the class handout's name line."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

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


def overlay_html(names: list[str], places: list[tuple[float, float]], paper: str, large: bool) -> str:
    """For each handout's name-line position, one page per student holding only the name."""
    import html as escape

    size = NAME_EM * (16 if large else 10.5)
    pages = []
    for x, y in places:
        left = x + NAME_GAP_EM * size * 4 / 3
        style = f"left: {left:.3f}px; top: {y:.3f}px"
        pages += [f'<div class="p"><strong style="{style}">{escape.escape(n)}</strong></div>' for n in names]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>names</title><style>'
            f'@page {{ size: {"letter" if paper == "letter" else "A4"}; margin: 0; }}'
            f'body {{ margin: 0; }} .p {{ position: relative; break-after: page; height: 10px; }}'
            f'.p strong {{ position: absolute; white-space: nowrap;'
            f' font: bold {size:.3f}pt/1.45 "Kit Sans", "Kit CJK"; color: #111; }}'
            f'</style></head><body>{"".join(pages)}</body></html>')


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
