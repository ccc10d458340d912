"""Shuffled copies: the class handout laid out once, each student's questions placed in their order.

A shuffled class's handout is laid out once per worker. A student's copy reuses its pages before
the questions (as PDF pages, with the name stamped on) and, for the question pages, lays out a
light document in which every question the student shares with the handout is an empty block of
the same height: WeasyPrint paginates those exactly as it would the questions, and the handout's
laid-out question boxes are then moved into the blocks, numbered for the student. Only what
differs (a question whose text differs, the exit ticket, the running heads) is laid out per copy.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
from pathlib import Path

from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

from . import pdf
from .pdf import classes_of as _classes

# One question of the student template: its own section, no section inside, number in a span.
QUESTION = re.compile(r'<section class="question"(?P<attrs>[^>]*)>(?P<body>.*?)</section>', re.S)
NUMBER = re.compile(r'<span class="qnum">(?P<text>[^<]*)</span>')
_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner", "right-top", "right-middle",
          "right-bottom", "bottom-right-corner", "bottom-right", "bottom-center", "bottom-left", "bottom-left-corner",
          "left-bottom", "left-middle", "left-top")
# Laid out from a blank document instead (Shared._furnish): WeasyPrint sizes margin boxes by their text.
_NONE = " ".join(f"@{name} {{ content: none; }}" for name in _BOXES)
NO_MARGINS = f" @page {{ {_NONE} }} @page :first {{ {_NONE} }}"


def questions_part(html: str) -> str | None:
    """The document with only its questions (and whatever follows them) in the body."""
    body = html.find("<body")
    opened = html.find(">", body) + 1
    start = html.find('<section class="questions')
    if body < 0 or start < 0:
        return None
    return html[:opened] + "\n" + html[start:]


def running_strings(html: str) -> tuple[str, str]:
    """The handout's running head texts: its title (masthead h1) and the source's short title."""
    from weasyprint import HTML

    root = HTML(string=html).etree_element

    def text(path: str) -> str:
        found = root.find(path)
        return " ".join("".join(found.itertext()).split()) if found is not None else ""
    return (text(".//{*}header[@class='masthead']/{*}h1"),
            text(".//{*}section[@class='source']/{*}p[@class='about']/{*}em"))


def css_string(text: str) -> str:
    """`text` as a quoted CSS string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_of_class(document, name: str) -> int | None:
    """The index of the first page holding an element of class `name`."""
    def holds(box) -> bool:
        return name in _classes(box) or any(holds(child) for child in getattr(box, "children", ()))

    return next((i for i, page in enumerate(document.pages) if holds(page._page_box)), None)


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _key(attrs: str, body: str) -> tuple[str, str] | None:
    """A question's id and its text with the number left out; None for what cannot be moved."""
    found = re.search(r'\bdata-question="([^"]*)"', attrs)
    if found is None or "style=" in attrs or "<section" in body or len(NUMBER.findall(body)) != 1:
        return None
    return found[1], NUMBER.sub('<span class="qnum"></span>', body)


def _number(box):
    """The text box of a laid-out question's number, if it is movable: nothing inside it has a
    background, bookmark, link, anchor, form field, transform or running string (WeasyPrint places
    those at layout time) and it has one number."""
    numbers = []
    for inner in _walk(box):
        if inner is box:
            continue
        style = inner.style
        if (inner.background is not None or style["bookmark_level"] != "none" or style["anchor"]
                or style["string_set"] != "none" or style["transform"] or getattr(inner, "link", None)
                or inner.is_input() or inner.is_form()):
            return None
        if isinstance(inner, boxes.TextBox) and "qnum" in _classes(inner):
            numbers.append(inner)
    return numbers[0] if len(numbers) == 1 else None


def _questions_in(document, first: int = 0) -> dict[str, list]:
    """Each question's laid-out boxes (more than one when it is split across pages)."""
    found: dict[str, list] = {}
    for page in document.pages[first:]:
        for box in _walk(page._page_box):
            if isinstance(box, boxes.BlockBox) and "question" in _classes(box) and box.element_tag == "section":
                found.setdefault(box.element.get("data-question"), []).append(box)
    return found


def _clone(box):
    """A deep copy of a laid-out box (WeasyPrint's own drops absolute placeholders)."""
    if isinstance(box, AbsolutePlaceholder):
        clone = AbsolutePlaceholder(_clone(box._box))
        object.__setattr__(clone, "_layout_done", box._layout_done)
        return clone
    clone = box.copy()
    if isinstance(box, boxes.ParentBox):
        clone.children = [_clone(child) for child in box.children]
    return clone


class Shared:
    """A class handout laid out once: its pages before the questions and its movable questions."""

    def __init__(self, html: str, paper: str, large: bool, students: tuple):
        import pikepdf

        from .copies import find_name_label, overlay_html

        worker = pdf.printer()
        self.html, self.paper, self.large = html, paper, large
        self.document, self.warnings = worker.render(html, paper, large)
        start, self.label = page_of_class(self.document, "questions"), find_name_label(self.document)
        self.before = start if start and self.label else 0
        self.total = len(self.document.pages)
        self.strings = running_strings(html)
        self._pdfs: dict[int, bytes] = {}
        self._blanks: dict[int, list] = {}
        self.versions: dict[tuple[str, str], dict[float, object]] = {}  # (id, text) -> number width -> box
        self.widths: dict[str, float] = {}  # number text -> its width
        if self.before:
            self._questions()
            # One page per student holding only the name, stamped onto page 1 of each copy.
            names, _ = worker.render(overlay_html(list(students), [self.label], paper, large), paper, bare=True)
            self.names = pikepdf.open(io.BytesIO(names.write_pdf()))

    def _questions(self) -> None:
        """Each question laid out with a number of every width the copies print (a number as wide
        as another leaves the words after it where they were), for questions on one page only."""
        keys, numbers = {}, {}
        for match in QUESTION.finditer(self.html):
            key = _key(match["attrs"], match["body"])
            if key is not None:
                keys[key[0]] = key
                numbers[key[0]] = NUMBER.search(match["body"])["text"]
        self._collect(_questions_in(self.document, self.before), keys)
        for (qid, _), versions in self.versions.items():  # so far, each question as the handout numbers it
            self.widths[numbers[qid]] = next(iter(versions))
        texts = {}  # a number text of each width
        for text, width in self.widths.items():
            texts.setdefault(width, text)
        for _ in range(len(texts) - 1):  # lay out the questions again, each with a number of a width it lacks
            wanted = {key[0]: next((t for w, t in texts.items() if w not in self.versions.get(key, {})), None)
                      for key in keys.values()}
            wanted = {qid: text for qid, text in wanted.items() if text is not None and keys[qid] in self.versions}
            if not wanted:
                break

            def renumber(match):
                qid = (_key(match["attrs"], match["body"]) or ("",))[0]
                if qid not in wanted:
                    return match[0]
                return match[0].replace(NUMBER.search(match["body"])[0], f'<span class="qnum">{wanted[qid]}</span>')

            part = QUESTION.sub(renumber, questions_part(self.html))
            document, _ = pdf.printer().render(part, self.paper, self.large, extra=self.css(self.total))
            self._collect(_questions_in(document), keys)

    def _collect(self, found: dict, keys: dict) -> None:
        """Keep each movable question's box by the width of its number."""
        for qid, laid in found.items():
            number = _number(laid[0]) if qid in keys and len(laid) == 1 else None
            if number is not None:
                self.versions.setdefault(keys[qid], {}).setdefault(number.width, laid[0])

    def pdf(self, total: int) -> bytes:
        """The shared pages as a tagged PDF whose footers count `total` pages."""
        if total not in self._pdfs:
            worker = pdf.printer()
            pages = self.document.pages[:self.before]
            if total != self.total:  # footers only: the pages break as before
                pages = retotal(pages, self.total, total)
                if pages is None:
                    document, _ = worker.render(self.html, self.paper, self.large, extra=self.css(total, first=False))
                    pages = document.pages[:self.before]
            self._pdfs[total] = worker.pdf(self.document.copy(pages), f"{self.html}\0{total}")
        return self._pdfs[total]

    def css(self, total: int, first: bool = True) -> str:
        """Page numbers (and, for the question pages, running heads) as in the whole handout."""
        count = f'@bottom-right {{ content: "Page " counter(page) " of {total}"; }}'
        if not first:
            return f"@page {{ {count} }}"
        title, source = (css_string(s) for s in self.strings)
        margins = f"@top-left {{ content: {title}; }} @bottom-left {{ content: {source}; }} {count}"
        return (f"@page {{ {margins} }} @page :first {{ counter-set: page {self.before + 1}; {margins} }}"
                " body.split .questions { break-before: auto; }")

    def light(self, part: str) -> tuple[str, dict]:
        """The questions part with each movable question an empty block of its height; what fills each."""
        fills = {}

        def hollow(match):
            key = _key(match["attrs"], match["body"])
            number = NUMBER.search(match["body"])["text"] if key else ""
            box = self.versions.get(key, {}).get(self.widths.get(number))
            if box is None:
                return match[0]
            fills[key[0]] = (box, number)
            return f'<section class="question"{match["attrs"]} style="height: {box.height!r}px"></section>'

        return QUESTION.sub(hollow, part), fills

    def questions_pages(self, part: str):
        """The student's question pages and their page count with the shared pages: laid out light,
        filled, and given running heads from a layout of blank pages; or in full when that fails."""
        worker = pdf.printer()
        light, fills = self.light(part)
        document, warnings = worker.render(light, self.paper, self.large, extra=self.css(self.total) + NO_MARGINS)
        total = self.before + len(document.pages)
        if _fill(document, fills) and self._furnish(document, part, total):
            return document, warnings, total
        guess = self.total  # "of N" in the footers; the footer text does not move a page break
        document, warnings = worker.render(part, self.paper, self.large, extra=self.css(guess))
        total = self.before + len(document.pages)
        if total != guess:
            pages = retotal(document.pages, guess, total)
            if pages is None:
                document, warnings = worker.render(part, self.paper, self.large, extra=self.css(total))
            else:
                document = document.copy(pages)
        return document, warnings, total

    def _furnish(self, document, part: str, total: int) -> bool:
        """Give each page the margin boxes (running heads, "Page x of y") of the same page of a blank
        document; False if the light layout made margin boxes of its own or its pages differ in kind."""
        pages = [page._page_box for page in document.pages]
        if any(isinstance(child, boxes.MarginBox) and child.at_keyword != pdf.LIFTED
               for page in pages for child in page.children):
            return False
        blank = self._blank(part, total, len(pages))
        if any(a.page_type != b.page_type for a, b in zip(pages, blank)):
            return False
        for page, model in zip(pages, blank):
            page.children = (*page.children, *(_clone(c) for c in model.children if isinstance(c, boxes.MarginBox)))
        return True

    def _blank(self, part: str, total: int, count: int) -> list:
        """`count` laid-out blank question pages of a copy with `total` pages (kept per total)."""
        cached = self._blanks.get(total)
        if cached is None or len(cached) < count:
            head = part[:part.index('<section class="questions')]
            html = head + '<div style="break-after: page"></div>' * (count - 1) + "<div></div></body></html>"
            document, _ = pdf.printer().render(html, self.paper, self.large, extra=self.css(total))
            cached = self._blanks[total] = [page._page_box for page in document.pages]
        return cached[:count]


def _fill(document, fills: dict) -> bool:
    """Move each handout question into its empty block, numbered for the student; False if a block
    did not come out as one block of the question's height (the copy is then laid out in full)."""
    placed = {}
    for page in document.pages:
        for box in _walk(page._page_box):
            qid = box.element.get("data-question") if "question" in _classes(box) else None
            if qid in fills and box.element_tag == "section":
                if qid in placed or abs(box.height - fills[qid][0].height) > 1e-6:
                    return False
                placed[qid] = box
    if placed.keys() != fills.keys():
        return False
    for qid, box in placed.items():
        source, number = fills[qid]
        dx, dy = box.content_box_x() - source.content_box_x(), box.content_box_y() - source.content_box_y()
        box.children = [_clone(child) for child in source.children]
        for child in box.children:
            child.translate(dx, dy)
        for inner in _walk(box):
            if isinstance(inner, boxes.TextBox) and "qnum" in _classes(inner):
                _retext(inner, number)
    return True


def _retext(text, value: str) -> None:
    """Give a laid-out text box (of a clone) other text of the same width; drawing shapes it again."""
    text.pango_layout = copy.copy(text.pango_layout)  # the original box shares it
    text.text = text.pango_layout.text = value


def retotal(pages: list, old: int, new: int) -> list | None:
    """Copies of laid-out pages whose footers say "of NEW" instead of "of OLD"; None unless both
    numbers are as wide (tabular digits: no text moves)."""
    if len(str(old)) != len(str(new)):
        return None
    result = []
    for page in pages:
        children = []
        for child in page._page_box.children:
            if isinstance(child, boxes.MarginBox):
                child = _clone(child)
                for text in _walk(child):
                    if isinstance(text, boxes.TextBox) and text.text.endswith(f" of {old}"):
                        _retext(text, text.text[:-len(str(old))] + str(new))
            children.append(child)
        page = copy.copy(page)
        page._page_box = page._page_box.copy()
        page._page_box.children = tuple(children)
        result.append(page)
    return result


_SHARED: dict[tuple, Shared] = {}


def shared_pages(html: str, paper: str, large: bool, students: tuple) -> Shared:
    """The class handout's shared layout, made once per worker (the latest two classes are kept)."""
    import gc

    key = (hashlib.sha256(html.encode()).hexdigest(), paper, large, students)
    if key not in _SHARED:
        if len(_SHARED) >= 2:  # a worker moves on from class to class: keep only the latest
            _SHARED.pop(next(iter(_SHARED)))
            gc.unfreeze()
        _SHARED[key] = Shared(html, paper, large, students)
        # The shared layout lives on through every copy: keep the collector from scanning it again and again.
        gc.collect()
        gc.freeze()
    return _SHARED[key]


def forget() -> None:
    """Drop every shared layout (a worker starting afresh)."""
    _SHARED.clear()


def handout_to(html: str, paper: str, large: bool, target: str, classmates: tuple):
    """Print a shuffled class's handout from the layout its copies share."""
    from .write import atomic_write

    shared = shared_pages(html, paper, large, classmates)
    data = pdf.printer().pdf(shared.document, html)
    atomic_write(Path(target), data)
    return shared.total, hashlib.sha256(data).hexdigest(), shared.warnings, shared.label


def copy_to(shared_html: str, html: str, paper: str, large: bool, target: str, students: tuple, index: int):
    """Print one shuffled copy: the shared pages with the student's name stamped on, then the
    student's question pages (see the module's docstring)."""
    from .copies import TaggedPack
    from .write import atomic_write

    shared = shared_pages(shared_html, paper, large, students)
    part = questions_part(html) if shared.before else None
    if part is None:  # a template without a name line or questions section: print it whole
        return pdf.render_to(html, paper, large, target)
    document, warnings, total = shared.questions_pages(part)
    pack = TaggedPack()
    pack.add(shared.pdf(total), "", stamp=shared.names.pages[index].as_form_xobject())
    pack.add(pdf.printer().pdf(document, f"{part}\0{total}"), "")
    data = pack.write(shared.strings[0], nested=False)
    atomic_write(Path(target), data)
    return total, hashlib.sha256(data).hexdigest(), warnings, shared.label
