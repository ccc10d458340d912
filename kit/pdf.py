"""Phase 2b: print HTML to PDF with WeasyPrint, reusing fonts and stylesheets across documents."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

# fontTools stamps the current time into subset fonts unless this is set (reproducible PDFs).
os.environ.setdefault("SOURCE_DATE_EPOCH", "315532800")

from PIL import Image  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.formatting_structure.boxes import LineBox, MarginBox  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from .errors import KitError, Problem, RenderError, display_path  # noqa: E402
from .files import MAX_PIXELS, read_bytes  # noqa: E402
from .yamlfile import decode  # noqa: E402
from . import TEMPLATES  # noqa: E402

PAPER = {"a4": "A4", "letter": "letter"}
# Images are checked when content is loaded; this is the decoder's own backstop against a bomb.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


LARGE_PRINT = ("html { font-size: 16pt; line-height: 1.5; } .quote p, .quote .linenos { line-height: 24pt; }"
               " .quote .linenos span { height: 24pt; }")


def page_css(paper: str, large: bool) -> str:
    """The small per-edition stylesheet: paper size, and large print."""
    return f"@page {{ size: {PAPER[paper]}; }}" + (" " + LARGE_PRINT if large else "")


class SafeFetcher(URLFetcher):
    """Serves data: URIs and files under the allowed folders; refuses everything else."""

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols=("file", "data"))
        self.roots = [Path(os.path.abspath(r)) for r in roots]

    def fetch(self, url, headers=None):
        scheme = urlparse(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise ValueError(f"kit refuses to fetch {url!r}: only files inside the project are allowed")
        path = Path(os.path.abspath(unquote(urlparse(url).path)))
        root = next((root for root in self.roots if path.is_relative_to(root)), None)
        if root is None or not path.is_file():
            raise ValueError(f"kit refuses to read {path}: outside templates/ and content/")
        try:
            data = read_bytes(path, root)
        except KitError as exc:
            raise ValueError(f"kit refuses to read {path}: {exc.problems[0].message}")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), data, {"Content-Type": kind})


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def collect_warnings():
    """Every WeasyPrint warning raised inside the block, as text."""
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    old = logger.propagate
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = old


class Printer:
    """One FontConfiguration and one parsed copy of each stylesheet for a whole build."""

    def __init__(self, content: Path, templates: Path = TEMPLATES):
        self.content, self.templates = Path(content), Path(os.path.abspath(templates))
        self._extra: dict[str, CSS] = {}
        self.fetcher = SafeFetcher([self.templates, Path(content)])
        self.fonts = FontConfiguration()
        self._sheets: dict[tuple, list[CSS]] = {}
        self.base = [self._sheet(name) for name in ("fonts.css", "handout.css")]

    def _sheet(self, name: str) -> CSS:
        """A stylesheet of the templates folder, read like every other file; a broken one is a located error."""
        path = self.templates / name
        shown = display_path(path)
        text = decode(read_bytes(path, self.templates, shown), shown)
        with collect_warnings() as warnings:
            try:
                sheet = CSS(string=text, base_url=path.as_uri(), font_config=self.fonts, url_fetcher=self.fetcher)
            except Exception as exc:  # noqa: BLE001 - tinycss2/WeasyPrint may raise on any malformed input
                warnings.append(f"{type(exc).__name__}: {exc}")
        if warnings:
            at = [re.search(r" at (\d+):(\d+)", w) for w in warnings]
            raise RenderError([Problem(shown, int(m[1]) if m else 1, int(m[2]) if m else 1, f"stylesheet: {w}",
                                       "fix the stylesheet") for w, m in zip(warnings, at)])
        return sheet

    def sheets(self, paper: str, large: bool) -> list[CSS]:
        key = (paper, large)
        if key not in self._sheets:
            extra = page_css(paper, large)
            self._sheets[key] = self.base + [CSS(string=extra, font_config=self.fonts)]
        return self._sheets[key]

    def render(self, html: str, paper: str = "a4", large: bool = False, bare: bool = False, extra: str = ""):
        """Lay out one document (`bare`: with fonts only, no handout stylesheet); returns it and its warnings."""
        sheets = self.base[:1] if bare else self.sheets(paper, large)
        if extra:
            if extra not in self._extra:
                if len(self._extra) > 64:
                    self._extra.clear()
                self._extra[extra] = CSS(string=extra, font_config=self.fonts)
            sheets = sheets + [self._extra[extra]]
        with collect_warnings() as warnings:
            document = HTML(string=html, base_url=str(self.templates) + "/", url_fetcher=self.fetcher).render(
                stylesheets=sheets, font_config=self.fonts, pdf_tags=True)
        for page in document.pages:
            _trim_line_numbers(page._page_box)
            _lift_line_numbers(page._page_box)
        return document, list(warnings)

    def pdf(self, document, html: str) -> bytes:
        """The PDF bytes, with an identifier derived from the HTML so builds are reproducible."""
        identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
        with collect_warnings() as warnings:
            data = document.write_pdf(pdf_tags=True, pdf_identifier=identifier)
        if warnings:
            raise RenderError(Problem("output", 1, 1, f"PDF writer: {warnings[0]}", "report this"))
        return data


def classes_of(box) -> list[str]:
    """The class names of the element a laid-out box comes from."""
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []


def _trim_line_numbers(box, quote=None) -> None:
    """Drop margin line numbers below the end of their quote (WeasyPrint does not clip them)."""
    classes = classes_of(box)
    if "quote" in classes:
        quote = box
    if "linenos" in classes:
        if quote is None:  # a piece that pagination pushed onto a page without its quote
            box.children = []
            return
        bottom = quote.position_y + quote.margin_height() - quote.margin_bottom - quote.padding_bottom
        box.children = [c for c in box.children if c.position_y + c.height <= bottom + 1]
        return
    if isinstance(box, LineBox):  # quotes and their line numbers are blocks: no need to walk the text
        return
    for child in getattr(box, "children", ()):
        _trim_line_numbers(child, quote)


LIFTED = "@kit-line-numbers"  # the at-keyword of the margin boxes holding lifted line numbers


def _lift_line_numbers(page) -> None:
    """Move the quotes' margin line numbers out of the reading order: drawn where they were, but
    held like a running head, so a screen reader does not read "5 10 15" before each excerpt."""
    lifted = []

    def walk(box):
        children = getattr(box, "children", None)
        if not children or isinstance(box, LineBox):
            return
        kept = []
        for child in children:
            inner = getattr(child, "_box", child)  # an absolutely positioned box sits in a placeholder
            if "linenos" in classes_of(inner) and inner.element_tag == "div":
                lifted.append(inner)
            else:
                kept.append(child)
                walk(child)
        if len(kept) != len(children):
            box.children = kept

    walk(page)
    if lifted:
        page.children = (*page.children, *(_held(box) for box in lifted))


def _held(box) -> MarginBox:
    """The box as a margin box (WeasyPrint leaves those out of the tag tree's reading order)."""
    holder = MarginBox.__new__(MarginBox)
    holder.__dict__.update(box.__dict__)
    holder.at_keyword = LIFTED
    return holder


_WORKER: Printer | None = None
# A worker whose resident memory passes this starts afresh: new fonts, new stylesheets, a full
# collection (WeasyPrint's caches can grow when rendering in a loop, WeasyPrint issue #2130).
MEMORY_LIMIT_MB = int(os.environ.get("KIT_WORKER_MEMORY_MB", "400"))


def init_worker(content: str, templates: str) -> None:
    """Process-pool initializer: one Printer (fonts, parsed CSS) per worker process."""
    global _WORKER
    _WORKER = Printer(Path(content), Path(templates))


_INIT_ERROR: KitError | None = None


def init_pool_worker(content: str, templates: str) -> None:
    """init_worker in a pool: a KitError is raised by the first task, as the build's own error (no traceback)."""
    global _INIT_ERROR
    try:
        init_worker(content, templates)
    except KitError as exc:
        _INIT_ERROR = exc


def resident_mb() -> float:
    """This process's resident memory now (not its peak)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0  # no /proc (not Linux): never recycle rather than recycle on a stale peak


def _recycle_if_grown() -> None:
    global _WORKER
    if resident_mb() > MEMORY_LIMIT_MB:
        import gc

        from . import shuffled
        shuffled.forget()
        gc.unfreeze()
        folders = (_WORKER.content, _WORKER.templates)
        _WORKER = None
        gc.collect()
        _WORKER = Printer(*folders)


def render_to(html: str, paper: str, large: bool, target: str):
    """Print one document into `target`: page count, sha256, warnings, where the name line's label ends."""
    from .copies import find_name_label
    from .write import atomic_write

    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    document, warnings = _WORKER.render(html, paper, large)
    data = _WORKER.pdf(document, html)
    atomic_write(Path(target), data)
    pages, label = len(document.pages), find_name_label(document)
    del document
    _recycle_if_grown()
    return pages, hashlib.sha256(data).hexdigest(), warnings, label


_PRINTED = 0  # documents this process has printed


def render_group(shared_html: str | None, items: list, paper: str, large: bool, classmates: tuple) -> list:
    """Print documents in this worker: (html, target, student index) each; a shuffled class's handout
    (index -1, the shared HTML) and its copies share one layout of the pages before the questions."""
    import gc

    results = []
    global _PRINTED
    # A layout's boxes die all at once: collect once per document, not many times during its layout
    # (and the whole heap now and then, for what outlived a document).
    gc.disable()
    try:
        for item in items:
            results.append(_render_one(shared_html, *item, paper, large, classmates))
            _PRINTED += 1
            gc.collect(2 if _PRINTED % 25 == 0 else 1)
    finally:
        gc.enable()
    return results


def _render_one(shared_html, html, target, index, paper, large, classmates):
    from . import shuffled

    if shared_html is None or (index < 0 and html != shared_html):
        return render_to(html, paper, large, target)
    if index < 0:
        return shuffled.handout_to(html, paper, large, target, classmates)
    return shuffled.copy_to(shared_html, html, paper, large, target, classmates, index)


def printer() -> Printer:
    """This process's Printer (the build's parent uses it for name overlays)."""
    return _WORKER
