"""Tagged PDFs joined without re-rendering: print packs, and named copies with the name stamped on."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

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


class TaggedPack:
    """Tagged PDFs joined into one, keeping each one's structure tree, bookmarks and language.

    Each handout becomes a /Part of one /Document; its pages' StructParents keys are shifted so the
    parent tree stays one number tree. A handout added again (a named copy) shares its content
    streams and resources with the first copy; only its page objects and structure elements are new.
    """

    def __init__(self):
        self.pdf = pikepdf.new()
        self.root = self.pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = self.pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root,
                                                          K=Array()))
        self.nums: list = []
        self.key = 0
        self.lang = None
        self.shared: dict[str, list] = {}  # handout id -> per page (contents, resources) in this pack
        self.outline: list = []  # (title, first page, copied /Outlines or None) per PDF added
        self.count = 0

    @property
    def pages(self) -> int:
        return self.count

    def add(self, data: bytes, title: str, share: str = "", stamp=None, shift=(0.0, 0.0)) -> int:
        """Append one tagged PDF under a bookmark `title`; returns its first page index.

        `share`: an id for PDFs added more than once (their content is stored once);
        `stamp`: a form XObject (a page of a names document) drawn on the first page as an artifact,
        moved by `shift` (points).
        """
        src = pikepdf.open(io.BytesIO(data))
        start = self.count
        base = self.shared.get(share) if share else None
        if base:  # copy only the light objects; content and fonts are the first copy's
            for page in src.pages:
                page.obj.Contents, page.obj.Resources = Array(), Dictionary()
        for page in src.pages:
            self.pdf.pages.append(page)
        added = [self.pdf.pages[i].obj for i in range(start, start + len(src.pages))]
        if base:
            for page, (contents, resources) in zip(added, base):
                page.Contents, page.Resources = contents, resources
        elif share:
            self.shared[share] = [(p.Contents, p.Resources) for p in added]
        tree = src.Root.get("/StructTreeRoot")
        if tree is not None:
            self._graft(self.pdf.copy_foreign(tree), added)
            self.lang = self.lang or src.Root.get("/Lang")
        if stamp is not None:
            self._stamp(added[0], stamp, shift)
        outline = src.Root.get("/Outlines")
        self.outline.append((title, added[0], self.pdf.copy_foreign(outline) if outline is not None else None))
        self.count += len(added)
        return start

    def _graft(self, tree, pages) -> None:
        """Hang a copied structure tree under the pack's document, renumbering its parent tree keys."""
        offset, last = self.key, -1
        for key, value in pikepdf.NumberTree(tree.ParentTree).items():
            self.nums += [key + offset, value]
            last = max(last, key)
        for page in pages:
            if "/StructParents" in page:
                page.StructParents = int(page.StructParents) + offset
            for annot in page.get("/Annots", ()):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        self.key = offset + last + 1
        for key in ("/RoleMap", "/ClassMap", "/Namespaces"):
            if key in tree and key not in self.root:
                self.root[key] = tree[key]
        kids = tree.K if isinstance(tree.K, Array) else [tree.K]
        for kid in kids:
            if kid.get("/S") == Name.Document:
                kid.S = Name.Part
            kid.P = self.document
            self.document.K.append(kid)

    def _stamp(self, page, form, shift=(0.0, 0.0)) -> None:
        """Draw the name after the page's own content, marked as an artifact (not part of the tag tree)."""
        resources = Dictionary({k: v for k, v in page.Resources.items()})
        xobjects = resources.get("/XObject")
        xobjects = Dictionary({k: v for k, v in xobjects.items()}) if xobjects is not None else Dictionary()
        xobjects[Name("/KitStudentName")] = self.pdf.copy_foreign(form)
        resources.XObject = xobjects
        page.Resources = resources
        contents = page.Contents
        streams = list(contents) if isinstance(contents, Array) else [contents]
        page.Contents = Array([self.pdf.make_stream(b"q\n"), *streams,
                               self.pdf.make_stream(b"\nQ /Artifact BMC q 1 0 0 1 %.3f %.3f cm /KitStudentName Do Q EMC\n"
                                                    % shift)])

    def blank(self) -> None:
        """An empty page of the last page's size (the next handout then starts on a right-hand page)."""
        box = self.pdf.pages[-1].mediabox
        self.pdf.add_blank_page(page_size=(float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
        self.count += 1

    def write(self, title: str, nested: bool = True) -> bytes:
        """The pack's bytes: the same on every build (deterministic identifier, no dates)."""
        pdf = self.pdf
        self.root.K = Array([self.document])
        self.root.ParentTree = pdf.make_indirect(Dictionary(Nums=Array(self.nums)))
        self.root.ParentTreeNextKey = self.key
        pdf.Root.StructTreeRoot = self.root
        pdf.Root.MarkInfo = Dictionary(Marked=True)
        pdf.Root.Lang = self.lang or pikepdf.String("en")
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        pdf.docinfo = pdf.make_indirect(Dictionary(Title=pikepdf.String(title), Creator=pikepdf.String("kit")))
        pdf.Root.Outlines = _outlines(pdf, self.outline, nested)
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True, compress_streams=True, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return buffer.getvalue()


def _outlines(pdf, parts: list, nested: bool):
    """One outline: a bookmark per PDF added, holding that PDF's own bookmarks (already copied)."""
    root = pdf.make_indirect(Dictionary(Type=Name.Outlines))
    if nested:
        items = []
        for title, page, copied in parts:
            item = pdf.make_indirect(Dictionary(Title=pikepdf.String(title), Parent=root,
                                                Dest=Array([page, Name.Fit])))
            if copied is not None and "/First" in copied:
                _adopt(item, copied)
            items.append(item)
    else:  # one document in parts: the first part's bookmarks, the later parts' under its last one
        items = []
        for _, _, copied in parts:
            kids = _children(copied) if copied is not None and "/First" in copied else []
            if items and kids:
                _link(items[-1], _children(items[-1]) + kids)
            else:
                items += kids
    _link(root, items)
    root.Count = _visible(root)
    return root


def _visible(item) -> int:
    """Bookmarks shown under an item: its children, and theirs when open (a positive /Count)."""
    return sum(1 + (_visible(kid) if int(kid.get("/Count", 0)) > 0 else 0) for kid in _children(item))


def _children(outline) -> list:
    items, item = [], outline.get("/First")
    while item is not None:
        items.append(item)
        item = item.get("/Next")
    return items


def _adopt(parent, copied) -> None:
    kids = _children(copied)
    for kid in kids:
        kid.Parent = parent
    parent.First, parent.Last = kids[0], kids[-1]
    parent.Count = -len(kids)  # closed: the pack's list of handouts stays short


def _link(parent, items: list) -> None:
    for item in items:
        item.Parent = parent
    for a, b in zip(items, items[1:]):
        a.Next, b.Prev = b, a
    if items:
        parent.First, parent.Last = items[0], items[-1]
        for item, key in ((items[0], "/Prev"), (items[-1], "/Next")):
            if key in item:
                del item[key]
    parent.Count = len(items) if int(parent.get("/Count", 1)) >= 0 else -len(items)


# Structure elements that hold content themselves: a plain span of one line inside one of these
# says nothing the element does not, and is folded into it (compact()).
_HOLDERS = {Name(f"/{n}") for n in ("P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "LBody", "Lbl", "TD", "TH",
                                      "Caption", "Span", "Quote", "Note", "Code")}
_PLAIN = {"/Type", "/S", "/K", "/P", "/Pg"}


def compact(data: bytes) -> bytes:
    """The tagged PDF with each plain one-line span folded into the element that holds it.

    WeasyPrint tags every line of text as a span of its own: about two thirds of a handout's
    structure elements. A handout copied a hundred times into a print pack is copied faster and
    stored smaller without them; what a screen reader reads, and in which order, is unchanged.
    """
    pdf = pikepdf.open(io.BytesIO(data))
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None or "/ParentTree" not in tree:
        return data
    holder_of: dict[tuple, object] = {}  # (page, marked-content id) -> the element it now belongs to

    def fold(element) -> None:
        kids = element.get("/K")
        if not isinstance(kids, Array):
            return
        folding = element.get("/S") in _HOLDERS and "/Pg" in element
        result = []
        for kid in kids:
            if (folding and isinstance(kid, Dictionary) and kid.get("/S") == Name.Span and set(kid.keys()) <= _PLAIN
                    and isinstance(kid.get("/K"), Array) and len(kid.K) == 1 and isinstance(kid.K[0], int)
                    and "/Pg" in kid):
                mcid = int(kid.K[0])
                same = kid.Pg.objgen == element.Pg.objgen
                result.append(mcid if same else Dictionary(Type=Name.MCR, Pg=kid.Pg, MCID=mcid))
                holder_of[kid.Pg.objgen, mcid] = element
                continue
            if isinstance(kid, Dictionary) and "/S" in kid:
                fold(kid)
            result.append(kid)
        element.K = Array(result)

    fold(tree)
    if not holder_of:
        return data
    parents = pikepdf.NumberTree(tree.ParentTree)
    for page in pdf.pages:
        if "/StructParents" in page.obj:
            marked = parents[int(page.obj.StructParents)]
            for mcid in range(len(marked)):
                holder = holder_of.get((page.objgen, mcid))
                if holder is not None:
                    marked[mcid] = holder
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return buffer.getvalue()


class NamedCopies:
    """The class handout once per student, each with that student's name on its first page."""

    def __init__(self, handout: Path, names, offset: int = 0, shift: tuple[float, float] = (0.0, 0.0)):
        self.handout = Path(handout)
        self.data = compact(self.handout.read_bytes())
        self.names, self.offset, self.shift = names, offset, shift
        self.count = len(pikepdf.open(io.BytesIO(self.data)).pages)

    @property
    def pages(self) -> int:
        return self.count

    def stamp(self, index: int):
        """Student `index`'s name as a form XObject (one page of the class's names document)."""
        return self.names.pages[self.offset + index].as_form_xobject()

    def add_to(self, pack: TaggedPack, index: int, title: str) -> int:
        """Append student `index`'s copy to `pack`; returns the page number its first page got."""
        return pack.add(self.data, title, share=str(self.handout), stamp=self.stamp(index), shift=self.shift)

    def write_copy(self, index: int, title: str) -> bytes:
        """Student `index`'s copy as a file of its own, keeping the handout's tags and bookmarks."""
        pack = TaggedPack()
        pack.add(self.data, title, stamp=self.stamp(index), shift=self.shift)
        return pack.write(title, nested=False)
