"""Hostile and careless inputs from the second red-team pass: each is exit 0 with correct output or a located exit 2."""

import errno
import json
import os
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit import build as build_module
from kit.build import build
from kit.cache import STATE
from kit.cli import main
from kit.copies import find_name_label, overlay_html

from .conftest import FIXTURES, ROOT, SEED
from .test_classes import make_class

SECRET = "TOP-SECRET-LINE"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file outside the content folder that kit must never read or echo."""
    path = tmp_path / "elsewhere" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f"name,{SECRET}\n{SECRET},x\n")
    return path


def _templates(tmp_path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", target)
    return target


# --- 1. templates are code: sandboxed ----------------------------------------------------------


def test_a_template_cannot_run_python(cli, mini, tmp_path):
    templates = _templates(tmp_path)
    marker = tmp_path / "ran"
    student = templates / "student.html.j2"
    student.write_text(student.read_text().replace(
        "<h1>{{ spec.title }}</h1>", f'<h1>{{{{ cycler.__init__.__globals__.os.popen("touch {marker}").read() }}}}</h1>'))
    line = 1 + student.read_text().split("cycler.__init__")[0].count("\n")
    code, out, err = cli("check", "--content", mini, "--templates", templates)
    assert code == 2 and "unsafe" in err and f"student.html.j2:{line}:" in err
    assert not marker.exists()


def test_a_template_cannot_include_through_a_link(cli, mini, tmp_path, outside):
    templates = _templates(tmp_path)
    (templates / "secret.html.j2").symlink_to(outside)
    student = templates / "student.html.j2"
    student.write_text(student.read_text().replace("<h1>{{ spec.title }}</h1>", '{% include "secret.html.j2" %}'))
    code, out, err = cli("check", "--content", mini, "--templates", templates)
    assert code == 2 and "templates/secret.html.j2:1:1: is a link; kit does not follow links" in err
    assert SECRET not in err + out
    code, out, err = cli("build", "--content", mini, "--templates", templates, "--output", tmp_path / "out")
    assert code == 2 and SECRET not in err + out  # the cache digest of templates/ refuses the link too


# --- 2. nothing is read through a link; every path is a regular file ----------------------------


@pytest.mark.parametrize("where", ["glossary.yaml", "timeline.yaml", "lessons", "classes/tenth.csv",
                                   "context/background.md"])
def test_a_link_anywhere_in_content_is_refused_without_echoing_its_target(where, cli, mini, tmp_path, outside):
    make_class(mini)
    target = mini / where
    if target.is_dir():
        moved = tmp_path / "moved"
        shutil.move(target, moved)
        target.symlink_to(moved, target_is_directory=True)
    else:
        target.unlink()
        target.symlink_to(outside)
    code, out, err = cli("check", "--content", mini)
    assert code == 2, err
    assert f"content/{where}:1:1: is a link; kit does not follow links" in err
    assert SECRET not in err + out and "Traceback" not in err


def test_an_image_in_a_linked_folder_is_refused(cli, mini, tmp_path):
    (tmp_path / "pictures").mkdir()
    shutil.copy(FIXTURES / "pixel.png", tmp_path / "pictures" / "pixel.png")
    (mini / "images").symlink_to(tmp_path / "pictures", target_is_directory=True)
    reading = mini / "context" / "background.md"
    reading.write_text(reading.read_text() + "\n![A one-pixel test image](../images/pixel.png)\n")
    code, out, err = cli("check", "--content", mini)
    assert code == 2 and "image '../images/pixel.png' is in a linked folder (content/images)" in err, err


def test_a_pipe_a_folder_or_a_device_where_a_file_belongs_is_a_located_error(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", content)
    make_class(content)
    os.mkfifo(content / "lessons" / "piped.yaml")
    (content / "glossary.yaml").unlink()
    (content / "glossary.yaml").mkdir()
    (content / "timeline.yaml").unlink()
    os.mkfifo(content / "timeline.yaml")
    (content / "classes" / "tenth.csv").unlink()
    os.mkfifo(content / "classes" / "tenth.csv")
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--content", "content"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    for line in ("content/lessons/piped.yaml:1:1: is a named pipe, not a file",
                 "content/glossary.yaml:1:1: is a folder, not a file",
                 "content/timeline.yaml:1:1: is a named pipe, not a file",
                 "content/classes/tenth.csv:1:1: is a named pipe, not a file"):
        assert line in result.stderr


def test_the_lock_file_never_leads_outside_the_output_folder(cli, mini, tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    planted = tmp_path / "elsewhere" / "lock"
    planted.parent.mkdir()
    (output / ".kit.lock").symlink_to(planted)
    code, out, err = cli("build", "--content", mini, "--output", output)
    assert code == 2 and "out/.kit.lock:1:1: kit's lock file is a link" in err
    assert not planted.exists()
    (output / ".kit.lock").unlink()
    (output / ".kit.lock").mkdir()
    code, out, err = cli("build", "--content", mini, "--output", output)
    assert code == 2 and "kit's lock file is a folder" in err


# --- 3. nothing hangs, crashes or balloons ----------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_jobs_must_be_a_positive_number(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "-j", value])
    assert exit_info.value.code == 2 and "number of workers" in capsys.readouterr().err


def test_jobs_are_capped_by_cores_and_memory(monkeypatch):
    from kit.build import max_workers
    cores = len(os.sched_getaffinity(0))
    assert max_workers(1000) == cores and max_workers(None) == cores and max_workers(1) == 1
    monkeypatch.setattr(build_module, "_available_mb", lambda: 450.0)
    assert max_workers(1000) == min(cores, 2)
    monkeypatch.setattr(build_module, "_available_mb", lambda: 50.0)
    assert max_workers(8) == 1


# --- 4. user and environment mistakes: exit 2 with a located message --------------------------


def test_an_output_path_that_is_a_file_or_a_dangling_link(cli, mini, tmp_path):
    (tmp_path / "afile").write_text("keep me")
    code, out, err = cli("build", "--content", mini, "--output", "afile")
    assert code == 2 and "afile:1:1: the output path is a file, not a folder" in err
    assert (tmp_path / "afile").read_text() == "keep me"
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    code, out, err = cli("build", "--content", mini, "--output", "dangling")
    assert code == 2 and "dangling:1:1: the output folder is a link to nothing" in err
    assert not (tmp_path / "nowhere").exists()


@pytest.fixture(scope="module")
def built_mini(tmp_path_factory):
    """The fixture kit built once, with a class; tests copy the output before changing it."""
    root = tmp_path_factory.mktemp("hardening")
    shutil.copytree(FIXTURES / "mini", root / "content")
    make_class(root / "content")
    build(root / "content", root / "out", workers=1)
    return root


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("code_, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"),
                                          (errno.EACCES, "you may not write here")])
def test_a_full_disk_or_read_only_folder_names_the_path_and_keeps_the_old_output(code_, words, built_mini, cli,
                                                                                 tmp_path, monkeypatch):
    content, output = tmp_path / "content", tmp_path / "out"
    shutil.copytree(built_mini / "content", content)
    shutil.copytree(built_mini / "out", output)
    lesson = content / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace("Sample lesson: no leading party", "Sample lesson, edited"))
    before = _snapshot(output)

    def refuse(*args, dir=None, **kwargs):
        raise OSError(code_, os.strerror(code_), str(dir))
    monkeypatch.setattr("kit.write.tempfile.mkstemp", refuse)
    code, out, err = cli("build", "--content", content, "--output", output, "-j", "1")
    assert code == 2 and words in err and "internal error" not in err, err
    assert err.startswith("out/.kit-staging/") or err.startswith("out/")
    assert _snapshot(output) == before


@pytest.mark.parametrize("state", ['{"kit": "%s", "files": [1, 2]}', '{"kit": "%s", "files": {"a": 5}}', '[]'])
def test_a_malformed_state_file_is_ignored_and_everything_rebuilt(state, built_mini, cli, tmp_path):
    from kit import __version__
    output = tmp_path / "out"
    shutil.copytree(built_mini / "out", output)
    (output / STATE).write_text(state.replace("%s", __version__))
    code, out, err = cli("build", "--content", built_mini / "content", "--output", output, "-j", "1")
    assert code == 0, err
    assert " 0 reused from the cache" in out
    assert json.loads((output / STATE).read_text())["files"]


def test_a_broken_stylesheet_is_a_located_error_without_a_worker_traceback(mini, tmp_path):
    templates = _templates(tmp_path)
    with open(templates / "handout.css", "a") as css:
        css.write("\n@page { size: nonsense; }\n")
    lines = (templates / "handout.css").read_text().count("\n")
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", "content", "--templates",
                             "templates", "--output", "out", "-j", "2", "--quiet"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"templates/handout.css:{lines}:9: stylesheet: Ignored `size: nonsense`" in result.stderr


# --- 5. output is where the README says, and only there ----------------------------------------


def test_bundled_html_carries_its_images_and_the_bundle_does_not_depend_on_the_current_folder(tmp_path):
    content = tmp_path / "a" / "content"
    shutil.copytree(FIXTURES / "mini", content)
    make_class(content)
    (content / "images").mkdir()
    shutil.copy(FIXTURES / "pixel.png", content / "images" / "pixel.png")
    reading = content / "context" / "background.md"
    # At the Markdown limits (nesting, links), the reading still prints in seconds.
    deep = "*" * 15 + "deep" + "*" * 15
    links = " ".join(f"[{i}](https://example.org/{i})" for i in range(490))
    reading.write_text(reading.read_text() + f"\n![A one-pixel test image](../images/pixel.png)\n\n{deep}\n\n{links}\n")
    (tmp_path / "b").mkdir()
    outputs = []
    for cwd, content_arg in ((tmp_path / "a", "content"), (tmp_path / "b", "../a/content")):
        result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", content_arg, "--output", "out",
                                 "--class", "tenth", "--quiet", "-j", "2"], cwd=cwd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append(cwd / "out")
    first, second = outputs
    bundles = ("tenth-students.zip", "tenth-teacher.zip", "tenth.imscc")
    for bundle in bundles:
        assert (first / bundle).read_bytes() == (second / bundle).read_bytes(), bundle
    manifest = json.loads((first / "tenth" / "manifest.json").read_text())
    assert manifest["built_from"]["class_profile"] == "classes/tenth.yaml"
    # The class's web handout leaves the readings to the PDF; any HTML it bundles carries no local path.
    for bundle in bundles:
        with zipfile.ZipFile(first / bundle) as archive:
            for name in archive.namelist():
                data = archive.read(name)
                assert b"file://" not in data and str(tmp_path).encode() not in data, name
    for page in PdfReader(first / "tenth" / "students" / "sample-student.pdf").pages:
        if any(x.get_object().get("/Subtype") == "/Image" for x in page["/Resources"].get("/XObject", {}).values()):
            break
    else:
        raise AssertionError("the image is missing from the printed handout")


# --- 6. names and text fit the page --------------------------------------------------------------


@pytest.mark.parametrize("large", [False, True])
def test_a_long_name_stays_inside_the_name_field(large, mini):
    from kit.content import load_kit
    from kit.pdf import Printer
    from kit.plan import plan
    from kit.render import Renderer

    kit = load_kit(mini)
    job = plan(kit)[0]
    printer = Printer(mini)
    handout, _ = printer.render(Renderer(content=mini).html(job.lesson, job.edition))
    right, top, room = find_name_label(handout)
    names = ["Bo Chen", "Maximiliana Alexandrina Wolkenstein-Trostburg Nakamura",
             "Maria Fernanda de los Angeles Guadalupe Hernandez-Villalobos y Montenegro-Sanz"]
    overlay, _ = printer.render(overlay_html(names, [(right, top, room)], "a4", large), bare=True)
    field_right = right + room
    for page, name in zip(overlay.pages, names):
        boxes = []

        def walk(box):
            if type(box).__name__ == "TextBox":
                boxes.append(box)
            for child in getattr(box, "children", ()):
                walk(child)
        walk(page._page_box)
        assert "".join(b.text for b in boxes).replace(" ", "") == name.replace(" ", "")
        assert max(b.position_x + b.width for b in boxes) <= field_right + 0.5, name
        assert len({b.position_y for b in boxes}) <= 2  # at most two lines
        assert min(b.position_y for b in boxes) >= top - 6 and max(b.position_y + b.height for b in boxes) <= top + (30 if large else 21)  # the rule


def test_a_very_long_word_breaks_instead_of_running_off_the_page(mini, tmp_path):
    lesson = mini / "lessons" / "sample.yaml"
    word = "x" * 3000
    lesson.write_text(lesson.read_text().replace('prompt: What does the letter say about a "leading party"?',
                                                 f"prompt: What does {word} say?", 1))
    build(mini, tmp_path / "out", workers=1)
    reader = PdfReader(tmp_path / "out" / "lessons" / "sample" / "sample-student.pdf")
    found = 0
    for page in reader.pages:
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size):
            nonlocal found
            if "xxxxxxxx" in text:
                found += text.count("x")
                x = tm[4] * cm[0] + cm[4]
                assert x + len(text.strip()) * size * 0.45 <= width, "a line runs off the page"
        page.extract_text(visitor_text=visit)
    assert found >= 3000


# --- 7. imports never destroy reviewed work ------------------------------------------------------


def test_import_over_an_existing_source_needs_force_and_keeps_reviewed_repairs(cli, tmp_path):
    content = tmp_path / "content"
    code, out, err = cli("import-source", SEED, "--id", "letter", "--content", content)
    assert code == 0, err
    target = content / "sources" / "letter.yaml"
    data = yaml.safe_load(target.read_text())
    sentence = data["sentences"][40]
    word = sentence["text"].split()[3]
    sentence["text"] = sentence["text"].replace(word, word.upper(), 1)
    data["repairs"].append({"kind": "reviewer: transcription error", "original": word, "repaired": word.upper(),
                            "sentence": 41})
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    reviewed = target.read_bytes()
    code, out, err = cli("import-source", SEED, "--id", "letter", "--content", content)
    assert code == 2 and "exists already" in err and "--force" in err
    assert target.read_bytes() == reviewed
    code, out, err = cli("import-source", SEED, "--id", "letter", "--content", content, "--force")
    assert code == 0, err
    again = yaml.safe_load(target.read_text())
    assert again["sentences"][40]["text"] == sentence["text"]
    assert again["repairs"] == data["repairs"]


def test_roster_names_equal_after_normalisation_are_one_student(mini, cli):
    make_class(mini, roster="name\n" + unicodedata.normalize("NFC", "José") + "\n"
               + unicodedata.normalize("NFD", "JOSÉ") + "\n")
    code, out, err = cli("check", "--content", mini)
    assert code == 2 and "content/classes/tenth.csv:3:1:" in err and "listed twice" in err
