"""Shuffled copies: only the question pages are laid out per student, yet each copy is the full render."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pikepdf
import pytest
from pdfua import Severity, validate
from pypdf import PdfReader

from kit.build import build
from kit.classes import student_slug
from kit.content import load_kit
from kit.plan import plan
from kit.render import Renderer

from .conftest import FIXTURES, ROOT
from .test_classes import NAMES, make_class


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory):
    root = tmp_path_factory.mktemp("shuffled")
    shutil.copytree(FIXTURES / "mini", root / "content")
    make_class(root / "content", shuffle=True)
    build(root / "content", root / "out", workers=2)
    return root


def full_render(root, name: str, target) -> None:
    """The student's copy printed the plain way: the whole HTML laid out and written."""
    from kit import pdf

    job = next(j for j in plan(load_kit(root / "content"), classes=["tenth"]) if j.student == name)
    html = Renderer(content=root / "content").html(job.lesson, job.edition)
    if pdf.printer() is None:
        pdf.init_worker(str(root / "content"), str(ROOT / "templates"))
    pdf.render_to(html, job.edition.paper, job.edition.large_print, str(target))


def _titles(pdf) -> list[str]:
    with pdf.open_outline() as outline:
        def walk(items):
            return [t for item in items for t in [item.title, *walk(item.children)]]
        return walk(outline.root)


def test_a_shuffled_copy_reads_like_a_full_render(shuffled, tmp_path):
    for index, name in enumerate(NAMES, start=1):
        copy = shuffled / "out" / "tenth" / "students" / student_slug(index, name) / "sample-student.pdf"
        full_render(shuffled, name, tmp_path / "full.pdf")
        cheap = [p.extract_text() for p in PdfReader(copy).pages]
        whole = [p.extract_text() for p in PdfReader(tmp_path / "full.pdf").pages]
        assert len(cheap) == len(whole) and f"Page {len(whole)} of {len(whole)}" in cheap[-1]
        assert cheap[1:] == whole[1:]  # the question pages: numbers, order, wording, "page x of y"
        # The stamped name is drawn after the page's own text, so text extraction lists it last.
        assert name in cheap[0] and " ".join(cheap[0].replace(name, "").split()) == \
            " ".join(whole[0].replace(name, "").split())
        with pikepdf.open(copy) as a, pikepdf.open(tmp_path / "full.pdf") as b:
            assert _titles(a) == _titles(b) and len(_titles(a)) > 3
            assert str(a.docinfo.Title) == str(b.docinfo.Title)


def test_shuffled_copies_are_accessible(shuffled):
    copies = sorted((shuffled / "out" / "tenth" / "students").glob("*/*.pdf"))
    assert len(copies) == len(NAMES)
    for copy in copies:
        assert not [f.rule_id for f in validate(str(copy)).findings if f.severity == Severity.ERROR]
        with pikepdf.open(copy) as pdf:
            parts = pdf.Root.StructTreeRoot.K[0].K
            assert [str(p.S) for p in parts] == ["/Part", "/Part"]  # shared pages, then the student's questions


def test_shuffled_copies_are_byte_identical_in_any_process(shuffled, tmp_path):
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(shuffled / "content"), "--output",
                    str(tmp_path / "again"), "--quiet", "-j", "1"], check=True, cwd=ROOT,
                   env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "7"})
    first = sorted((shuffled / "out" / "tenth").rglob("*.pdf"))
    assert len(first) > len(NAMES)
    for file in first:
        again = tmp_path / "again" / file.relative_to(shuffled / "out")
        assert again.read_bytes() == file.read_bytes(), file


def _pixels(path, first: int = 0) -> list[bytes]:
    """Each page from `first` on, rendered at 50 dpi."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return [document[i].render(scale=50 / 72).to_pil().tobytes() for i in range(first, len(document))]
    finally:
        document.close()


def _full(content, job, target) -> None:
    from kit import pdf

    if pdf.printer() is None:
        pdf.init_worker(str(content), str(ROOT / "templates"))
    html = Renderer(content=content).html(job.lesson, job.edition)
    pdf.render_to(html, job.edition.paper, job.edition.large_print, str(target))


def test_a_shuffled_copy_looks_exactly_like_a_full_render(shuffled, shipped, tmp_path):
    # The question pages are the handout's laid-out questions moved into place: every pixel of every
    # page after the first must match a full render (letter and large print here, A4 in the seminar).
    cases = [(shuffled / "content", shuffled / "out", "tenth", name) for name in NAMES]
    seminar = [j for j in plan(load_kit(ROOT / "content"), classes=["seminar"]) if j.student]
    cases += [(ROOT / "content", shipped, "seminar", j.student) for j in (seminar[0], seminar[-1])]
    for content, out, cls, name in cases:
        job = next(j for j in plan(load_kit(content), classes=[cls]) if j.student == name)
        _full(content, job, tmp_path / "full.pdf")
        cheap, whole = _pixels(out / job.path, 1), _pixels(tmp_path / "full.pdf", 1)
        assert len(cheap) == len(whole) > 0 and cheap == whole, (cls, name)


def test_a_shuffled_copy_without_answer_lines_looks_exactly_like_a_full_render(tmp_path):
    # A4, normal print, no ruled lines (the questions sit close together, the exit ticket follows them).
    from .test_classes import PROFILE, ROSTER

    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", content)
    (content / "classes").mkdir()
    profile = PROFILE.format(shuffle="true").replace("paper: letter", "paper: a4").replace(
        "large_print: true", "large_print: false").replace("answer_space: 1.5", "answer_space: none")
    (content / "classes" / "tenth.yaml").write_text(profile)
    (content / "classes" / "tenth.csv").write_text(ROSTER)
    build(content, tmp_path / "out", workers=1)
    for job in [j for j in plan(load_kit(content), classes=["tenth"]) if j.student]:
        assert job.edition.answers == "none" and job.edition.paper == "a4"
        _full(content, job, tmp_path / "full.pdf")
        cheap, whole = _pixels(tmp_path / "out" / job.path, 1), _pixels(tmp_path / "full.pdf", 1)
        assert len(cheap) == len(whole) > 0 and cheap == whole, job.student


def test_copies_lay_out_only_what_differs(shuffled, tmp_path, monkeypatch):
    # The light path: one layout with the questions as empty blocks. A question whose text differs
    # from the handout's is laid out for real, and the copy still equals a full render.
    from kit import pdf, shuffled as shuffling

    content = shuffled / "content"
    jobs = [j for j in plan(load_kit(content), classes=["tenth"]) if j.student]
    renderer = Renderer(content=content)
    if pdf.printer() is None:
        pdf.init_worker(str(content), str(ROOT / "templates"))
    shared_html = renderer.html(jobs[0].lesson, jobs[0].shared)
    e = jobs[0].edition
    shared = shuffling.Shared(shared_html, e.paper, e.large_print, jobs[0].classmates)
    assert shared.before and len(shared.versions) == 2
    html = renderer.html(jobs[1].lesson, jobs[1].edition)
    part = shuffling.questions_part(html)
    light, fills = shared.light(part)
    assert len(fills) == 2 and "In your own words" not in light and "An added question" not in light

    changed = html.replace("An added question for this class only.", "An added question, reworded for this copy.")
    light, fills = shared.light(shuffling.questions_part(changed))
    assert len(fills) == 1 and "reworded for this copy" in light
    layouts = []
    render = pdf.Printer.render
    monkeypatch.setattr(pdf.Printer, "render", lambda self, *a, **k: layouts.append(a[0]) or render(self, *a, **k))
    document, _, total = shared.questions_pages(shuffling.questions_part(changed))
    assert len(layouts) <= 2 and "reworded" in layouts[0]  # the light layout (and maybe one of blank pages)
    target = tmp_path / "copy.pdf"
    target.write_bytes(pdf.printer().pdf(document, "x"))
    (tmp_path / "full.html").write_text(changed)
    pdf.render_to(changed, e.paper, e.large_print, str(tmp_path / "full.pdf"))
    assert _pixels(target) == _pixels(tmp_path / "full.pdf", shared.before)


def _structure(path) -> list[str]:
    """The structure tree's element types in reading order, without the parts a pack wraps them in."""
    def walk(element):
        kind = str(element.get("/S", ""))
        kids = element.get("/K")
        kids = [] if kids is None else (list(kids) if isinstance(kids, pikepdf.Array) else [kids])
        inner = [t for kid in kids if isinstance(kid, pikepdf.Dictionary) and "/S" in kid for t in walk(kid)]
        return inner if kind in ("/Document", "/Part") else [kind, *inner]

    with pikepdf.open(path) as pdf:
        return walk(pdf.Root.StructTreeRoot.K[0] if isinstance(pdf.Root.StructTreeRoot.K, pikepdf.Array)
                    else pdf.Root.StructTreeRoot.K)


def test_a_shuffled_copy_has_the_tag_tree_of_a_full_render(shuffled, shipped, tmp_path):
    # The stamped name is an artifact (not in the tree); a full render types it in: leave it out there.
    from dataclasses import replace

    seminar = next(j for j in plan(load_kit(ROOT / "content"), classes=["seminar"]) if j.student)
    _full(ROOT / "content", replace(seminar, edition=replace(seminar.edition, student="")), tmp_path / "full.pdf")
    tree = _structure(shipped / seminar.path)
    assert len(tree) > 200 and tree.count("/P") > 20
    assert tree == _structure(tmp_path / "full.pdf")
