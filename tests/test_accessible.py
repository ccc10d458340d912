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
