"""Nothing gets in, nothing is lost: hostile content, refused fetches, kills, concurrency, limits."""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from pypdf import PdfReader

from kit import yamlfile
from kit.build import build
from kit.content import load_kit
from kit.errors import KitError, RenderError
from kit.markup import markdown_to_html
from kit.models import LessonSpec
from kit.pdf import Printer, SafeFetcher
from kit.validate import validate

from .conftest import FIXTURES, ROOT

# --- nothing gets in --------------------------------------------------------------------------


def test_fetcher_serves_only_project_files_and_data(tmp_path):
    fetcher = SafeFetcher([ROOT / "templates", tmp_path])
    assert fetcher.fetch((ROOT / "templates" / "handout.css").as_uri()).read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url in ("file:///etc/passwd", "http://example.com/a.css", "https://127.0.0.1/x.png",
                "ftp://example.com/x", (ROOT / "kit" / "cli.py").as_uri(), f"file://{tmp_path}/../x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


@pytest.mark.weasyprint_warnings
def test_hostile_html_reads_no_outside_file_and_opens_no_socket(monkeypatch, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened")
    monkeypatch.setattr(socket, "socket", no_socket)
    html = f"""<html lang="en"><head><title>x</title>
      <link rel="stylesheet" href="https://example.com/evil.css">
      <link rel="attachment" href="{secret.as_uri()}">
      <link rel="attachment" href="file:///etc/hostname"></head>
      <body><p>Text</p><img src="{secret.as_uri()}" alt="x"><img src="http://127.0.0.1:9/x.png" alt="y">
      <iframe src="file:///etc/passwd"></iframe></body></html>"""
    printer = Printer(FIXTURES / "mini")
    document, warnings = printer.render(html)
    assert len(warnings) >= 3 and all("refuses" in w or "Failed" in w for w in warnings)
    with pytest.raises(RenderError, match="kit refuses to read"):  # the attachment, at write time
        printer.pdf(document, html)
    data = printer.pdf(printer.render(html.replace("attachment", "nothing"))[0], html)
    assert b"TOP-SECRET" not in data and b"/EmbeddedFile" not in data


def test_markdown_subset():
    html = markdown_to_html('<script>alert(1)</script>\n\n[click](javascript:alert(1)) '
                            '[ok](https://example.org) ![x](file:///etc/passwd)')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "<img" not in html


def test_context_image_must_stay_inside_content(mini, cli):
    (mini / "images").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "pixel.png", mini / "images" / "pixel.png")
    reading = mini / "context" / "background.md"
    reading.write_text(reading.read_text() + "\n![A one-pixel test image](../images/pixel.png)\n")
    code, out, err = cli("check", "--content", mini)
    assert code == 0, err
    reading.write_text(reading.read_text() + "\n![secret](../../../../etc/passwd)\n")
    code, out, err = cli("check", "--content", mini)
    assert code == 2 and "is not a file inside the content folder" in err


def test_output_never_follows_a_symlink_out(mini, tmp_path):
    from .test_classes import make_class
    make_class(mini)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "tenth").symlink_to(elsewhere)
    with pytest.raises(KitError, match="leaves the output folder"):
        build(mini, out)
    assert list(elsewhere.iterdir()) == []


def test_a_build_never_writes_into_content(mini, tmp_path):
    def snapshot():
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in mini.rglob("*") if p.is_file()}
    before = snapshot()
    build(mini, tmp_path / "out")
    assert snapshot() == before


# --- property-based: any input gives a model or a KitError -----------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
trees = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                   st.dictionaries(st.text(max_size=10), c, max_size=4)), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_a_model_or_a_kit_error(text):
    try:
        validate(yamlfile.parse(text, "x.yaml"), LessonSpec)
    except KitError as exc:
        assert all(p.line >= 1 and p.col >= 1 for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_arbitrary_yaml_data_is_a_model_or_a_kit_error(data):
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        validate(yamlfile.parse(text, "x.yaml"), LessonSpec)
    except KitError:
        pass


SHIPPED = sorted((ROOT / "content" / "lessons").glob("*.yaml"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_shipped_specs_give_a_kit_or_a_kit_error(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("mutant")
    shutil.copytree(ROOT / "content", root / "content")
    victim = root / "content" / "lessons" / data.draw(st.sampled_from(SHIPPED)).name
    lines = victim.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "char", "swap", "noise"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "  " + lines[i]
        elif action == "dedent":
            lines[i] = lines[i].lstrip()
        elif action == "char" and lines[i]:
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:j] + data.draw(st.sampled_from(list(":-[]{}\"'#&*!|>%@` \tx9"))) + lines[i][j + 1:]
        elif action == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif action == "noise":
            lines.insert(i, data.draw(st.text(max_size=20)))
        if not lines:
            lines = [""]
    victim.write_text("\n".join(lines) + "\n")
    try:
        load_kit(root / "content")
    except KitError as exc:
        assert exc.problems


# --- nothing is lost ------------------------------------------------------------------------------


def _department(tmp_path) -> Path:
    """The fixture kit plus a rostered class: a build that takes a few seconds."""
    from .test_classes import make_class
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", content)
    make_class(content, roster="name\n" + "\n".join(f"Student {i}" for i in range(1, 7)) + "\n")
    return content


def _build_cmd(content, output):
    return [sys.executable, str(ROOT / "build.py"), "--content", str(content), "--output", str(output),
            "--quiet", "-j", "2"]


def _complete(output: Path) -> None:
    for file in output.rglob("*"):
        if any(part.startswith(".") for part in file.relative_to(output).parts) or not file.is_file():
            continue
        if file.suffix == ".pdf":
            assert len(PdfReader(file).pages) > 0, file
        assert not file.name.endswith(".tmp"), file


def _pool_workers(parent: int) -> set[int]:
    """Process ids of the multiprocessing workers started by `parent` (Linux /proc)."""
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (proc / "cmdline").read_bytes():
                found.add(int(proc.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


@contextmanager
def every_core_busy():
    """A busy loop on every core for the length of the block, as on a machine shared with other work."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def test_a_killed_build_leaves_complete_files_and_the_next_build_succeeds(tmp_path):
    content = _department(tmp_path)
    output = tmp_path / "out"
    subprocess.run(_build_cmd(content, output), check=True, cwd=ROOT)
    lesson = content / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace("Sample lesson: no leading party", "Sample lesson, edited"))
    workers: set[int] = set()
    with every_core_busy():
        # Kill once while the build checks its input, then at three moments after its workers started
        # (however long a loaded machine takes to get there).
        for after_workers, delay in ((False, 0.5), (True, 0.0), (True, 1.0), (True, 2.5)):
            process = subprocess.Popen(_build_cmd(content, output), cwd=ROOT)
            until = None if after_workers else time.monotonic() + delay
            give_up = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < give_up and (until is None or time.monotonic() < until):
                found = _pool_workers(process.pid)  # this build's own workers, none of another's
                workers |= found
                if until is None and found:
                    until = time.monotonic() + delay
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait()
            _complete(output)  # old files or new ones, each complete
        assert workers, "no build got as far as starting its workers"
        deadline = time.monotonic() + 10
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(workers), "workers outlived the build that was killed"
    subprocess.run(_build_cmd(content, output), check=True, cwd=ROOT)
    _complete(output)
    assert "Sample lesson, edited" in (output / "lessons" / "sample" / "sample-student.html").read_text()
    assert not (output / ".kit-staging").exists()


def test_two_builds_at_once_serialize_or_refuse(tmp_path):
    content = _department(tmp_path)
    output = tmp_path / "out"
    first = subprocess.Popen(_build_cmd(content, output), cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    second = subprocess.run(_build_cmd(content, output), cwd=ROOT, stderr=subprocess.PIPE, text=True)
    first.wait()
    assert first.returncode == 0, first.stderr.read()
    assert second.returncode in (0, 2)
    if second.returncode == 2:
        assert "another build is writing to this output folder" in second.stderr
    import json
    manifest = json.loads((output / "tenth" / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert hashlib.sha256((output / "tenth" / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]


# --- limits ------------------------------------------------------------------------------------


def test_a_large_but_valid_lesson_builds(mini, tmp_path):
    spec = yaml.safe_load((mini / "lessons" / "sample.yaml").read_text())
    question = spec["questions"][0]
    spec["questions"] = [{**question, "id": f"q-{i}", "prompt": f"Question number {i}?"} for i in range(100)]
    spec["excerpts"].append({"id": "long", "from": "Over the course of time, differences",
                             "to": "the following is required:"})
    (mini / "lessons" / "sample.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    report = build(mini, tmp_path / "out", workers=1)
    assert report.pages > 20
    spec["questions"].append({**question, "id": "q-extra"})
    (mini / "lessons" / "sample.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    with pytest.raises(KitError, match="at most 100 items"):
        load_kit(mini)
