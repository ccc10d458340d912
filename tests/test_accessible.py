"""Every PDF kit writes is accessible: tagged, with language, title and bookmarks, and passes pdfua."""

from __future__ import annotations

import pikepdf
import pytest
from pdfua import Severity, validate


@pytest.fixture(scope="module")
def pdfs(shipped):
    files = sorted(shipped.rglob("*.pdf"))
    kinds = {f.name.split("-")[-1] for f in files}
    assert {"student.pdf", "teacher.pdf", "pack.pdf"} <= kinds
    assert any("students" in f.parts for f in files)  # per-student copies are part of the check
    return files


def _errors(file: str) -> list[str]:
    return [f"{f.rule_id}: {f.message}" for f in validate(file).findings if f.severity == Severity.ERROR][:3]


def test_every_pdf_of_the_shipped_kit_passes_pdfua(pdfs):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:  # one checker per core: the check is CPU-bound
        found = dict(zip(map(str, pdfs), pool.map(_errors, map(str, pdfs), chunksize=8)))
    errors = {file: problems for file, problems in found.items() if problems}
    assert len(found) == len(pdfs) and not errors, errors


def test_every_pdf_is_tagged_with_language_title_and_bookmarks(pdfs):
    for file in pdfs:
        with pikepdf.open(file) as pdf:
            assert "/StructTreeRoot" in pdf.Root and pdf.Root.MarkInfo.Marked, file
            assert str(pdf.Root.Lang) == "en", file
            assert str(pdf.docinfo.Title).strip(), file
            with pdf.open_outline() as outline:
                assert outline.root, file


def _structure(pdf) -> tuple[int, int]:
    """(structure elements pointing at a page other than the one whose parent tree entry holds them, entries)."""
    tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    wrong = seen = 0
    for page in pdf.pages:
        if "/StructParents" not in page.obj:
            continue
        for element in tree[int(page.obj.StructParents)]:
            seen += 1
            wrong += element.Pg.objgen != page.obj.objgen
    return wrong, seen


def test_a_print_pack_keeps_each_handouts_structure_tree(shipped):
    pack = next(shipped.glob("ap-world/teacher/*print-pack.pdf"))
    with pikepdf.open(pack) as pdf:
        parts = pdf.Root.StructTreeRoot.K[0].K
        with pdf.open_outline() as outline:
            handouts = len(outline.root)
        assert len(parts) == handouts > 1 and all(p.S == "/Part" for p in parts)
        wrong, seen = _structure(pdf)
        assert seen > 100 * handouts and wrong == 0


def test_a_stamped_name_is_an_artifact(shipped):
    copy = next(shipped.glob("ap-world/students/*/*-student.pdf"))
    with pikepdf.open(copy) as pdf:
        marks, drawn = [], []
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            if str(operator) in ("BMC", "BDC"):
                marks.append(str(operands[0]))
            elif str(operator) == "EMC":
                marks.pop()
            elif str(operator) == "Do" and str(operands[0]) == "/KitStudentName":
                drawn.append(list(marks))
        assert drawn == [["/Artifact"]]


def test_a_stamped_name_moves_with_each_handouts_name_line(shipped):
    """One name page per student serves every handout: the stamp is shifted by the label's offset."""
    from pypdf import PdfReader

    def label_and_shift(copy):
        found = {}

        def visit(text, cm, tm, font, size):
            if text.strip() == "Name":
                found.setdefault("y", tm[5] * cm[3] + cm[5])
        PdfReader(copy).pages[0].extract_text(visitor_text=visit)
        with pikepdf.open(copy) as pdf:
            shifts = [ops for ops, op in pikepdf.parse_content_stream(pdf.pages[0]) if str(op) == "cm"]
        return found["y"], float(shifts[-1][5])

    copies = sorted(next(p for p in sorted((shipped / "ap-world" / "students").iterdir()) if p.is_dir()).glob("*.pdf"))
    measured = [label_and_shift(copy) for copy in copies]
    base = measured[0][0] - measured[0][1]
    assert len({round(y) for y, _ in measured}) > 1  # the shipped lessons' name lines do differ
    assert all(abs((y - shift) - base) < 0.5 for y, shift in measured)


def _validate_bytes(data: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        return validate(file.name)


def _line_numbers(data: bytes) -> list[tuple[int, int]]:
    """(page, marked-content id) of each margin line number: digits only, 7.5 pt, left of the quote."""
    import io

    from pypdf import PdfReader

    found = []
    for index, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        mcid = [None]

        def before(op, args, cm, tm):
            if op == b"BDC":
                mcid[0] = args[1].get("/MCID") if len(args) > 1 and hasattr(args[1], "get") else None
            elif op == b"EMC":
                mcid[0] = None

        def text(value, cm, tm, font, size):  # sizes in CSS px: 7.5 pt is 10 px
            if value.strip().isdigit() and abs(size - 10) < 0.01 and tm[4] < 120:
                found.append((index, mcid[0]))

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return found


def _read_aloud(data: bytes) -> set[tuple[int, int]]:
    """(page, marked-content id) of all content the structure tree reaches from its root."""
    import io

    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        reached = set()

        def walk(element, page=None):
            page = element.get("/Pg", page)
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]):
                if isinstance(kid, int):
                    reached.add((pages[page.objgen], int(kid)))
                elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
                    reached.add((pages[kid.get("/Pg", page).objgen], int(kid.MCID)))
                elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid, page)

        walk(pdf.Root.StructTreeRoot)
        return reached


def test_a_screen_reader_does_not_read_the_margin_line_numbers(monkeypatch):
    # The numbers "5 10 15" beside each quote are printed but kept out of the reading order, like a
    # running head; the sentence numbers inside the quote are read.
    import pypdfium2 as pdfium

    from kit import pdf as module
    from kit.content import load_kit
    from kit.render import Edition, Renderer

    from .conftest import ROOT

    lesson = next(item for item in load_kit(ROOT / "content").lessons if item.id == "four-conditions")
    printer = module.Printer(ROOT / "content")
    html = Renderer(content=ROOT / "content").html(lesson, Edition())
    lifted = printer.pdf(printer.render(html)[0], html)
    monkeypatch.setattr(module, "_lift_line_numbers", lambda page: None)
    plain = printer.pdf(printer.render(html)[0], html)
    numbers, read = _line_numbers(lifted), _read_aloud(lifted)
    assert len(numbers) >= 8 and not set(numbers) & read
    assert len(read) > 300  # everything else is still read
    assert set(_line_numbers(plain)) <= _read_aloud(plain)  # without lifting they would be read: the test can fail

    def pixels(data):
        document = pdfium.PdfDocument(data)
        return [document[i].render(scale=0.5).to_pil().tobytes() for i in range(len(document))]
    assert pixels(lifted) == pixels(plain)  # printed exactly where they were
    assert not [f.rule_id for f in _validate_bytes(lifted).findings if f.severity == Severity.ERROR]


def _reading_order(data: bytes) -> tuple[list[tuple[int, int]], int, bool]:
    """(page, marked-content id) in the structure tree's order, the number of elements, and whether
    the parent tree names, for every piece of content, the element that holds it."""
    import io

    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        order, count, consistent = [], [0], [True]

        def walk(element, page=None):
            count[0] += 1
            page = element.get("/Pg", page)
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid, page)
                    continue
                on, mcid = (page, int(kid)) if isinstance(kid, int) else (kid.get("/Pg", page), int(kid.MCID))
                order.append((pages[on.objgen], mcid))
                holder = parents[int(pdf.pages[pages[on.objgen]].obj.StructParents)][mcid]
                consistent[0] &= holder.objgen == element.objgen

        walk(pdf.Root.StructTreeRoot)
        return order, count[0], consistent[0]


def test_print_packs_fold_one_line_spans_without_changing_what_is_read(shipped):
    from kit.copies import compact

    handout = shipped / "grade10-b" / "students" / "four-conditions-student.pdf"
    data = handout.read_bytes()
    before, elements, consistent = _reading_order(data)
    after, fewer, still = _reading_order(compact(data))
    assert consistent and still and before == after and len(before) > 300
    assert fewer < elements * 0.6  # most of WeasyPrint's one-line spans are gone
    assert not [f.rule_id for f in _validate_bytes(compact(data)).findings if f.severity == Severity.ERROR]
