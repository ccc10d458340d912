"""`serve` in a real browser: live preview, the problems overlay, the class editor, builds; and what it refuses."""

from __future__ import annotations

import difflib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from pypdf import PdfReader

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = os.environ.get("KIT_SCREENSHOTS")  # `make screenshots`: the README's pictures
LESSON = "no-leading-party"
HOSTILE = "<script>alert(1)</script> {{ 7*7 }} <img src=x onerror=alert(2)>"
CLASS = """# A small class for the editor test: these comments must survive a save.
id: test-class
name: "Test class"          # printed on every handout
teacher: "Ms. T. Example"
teacher_edition: false      # handouts only
lessons:
  # the one lesson this class is taught
  - no-leading-party
"""
HOSTILE_CLASS = f"""id: hostile
name: {json.dumps(HOSTILE)}
lessons:
  - id: no-leading-party
    reword:
      nl-equal: {json.dumps(HOSTILE)}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python build.py serve` on a copy of the shipped kit; Ctrl-C (SIGINT) must stop it cleanly."""
    root = tmp_path_factory.mktemp("serve")
    shutil.copytree(ROOT / "content", root / "content")
    for extra in ("seminar", "ap-world"):  # rosters and shuffles are not what these tests are about
        (root / "content" / "classes" / f"{extra}.yaml").unlink()
    (root / "content" / "classes" / "test-class.yaml").write_text(CLASS)
    (root / "content" / "classes" / "hostile.yaml").write_text(HOSTILE_CLASS)
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--no-open", "--port", "0"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        pytest.fail(f"serve did not start: {line}{proc.stderr.read()}")
    assert "127.0.0.1 only" in line
    yield SimpleNamespace(url=match[0].rstrip("/"), port=int(match[1]), root=root, content=root / "content")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh tab; `page.state(name)` keeps a screenshot, written to tests/artifacts/ when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    shots: list[tuple[str, bytes]] = []
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def state(name: str, readme: str | None = None) -> None:
        data = tab.screenshot(full_page=False)
        shots.append((name, data))
        if SCREENSHOTS and readme:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            (Path(SCREENSHOTS) / f"{readme}.png").write_bytes(data)
    tab.state, tab.dialogs = state, dialogs
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        shots.append(("at-failure", tab.screenshot(full_page=True)))
        for i, (name, data) in enumerate(shots, start=1):
            (folder / f"{i:02d}-{name}.png").write_bytes(data)
    context.close()


def _request(server, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    if method == "POST":
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def test_home_lists_lessons_and_classes_with_their_state(server, page):
    page.goto(server.url + "/")
    lessons = sorted(f.stem for f in (server.content / "lessons").glob("*.yaml"))
    assert page.locator("#lessons tbody tr").evaluate_all("rows => rows.map(r => r.dataset.lesson)") == lessons
    assert page.locator("#lessons .ok").count() == len(lessons)
    assert page.locator('#classes tr[data-class="test-class"] .ok').inner_text() == "valid"
    # The hostile class name is shown as typed, never run.
    assert page.locator('#classes tr[data-class="hostile"] a').inner_text() == HOSTILE
    assert page.dialogs == []
    page.state("home", readme="home")


def test_lesson_preview_follows_the_file_and_shows_problems(server, page):
    file = server.content / "lessons" / f"{LESSON}.yaml"
    original = file.read_text()
    page.goto(f"{server.url}/lesson/{LESSON}")
    student = page.locator('.edition[data-kind="student"] figcaption.pagetext')
    student.first.wait_for(timeout=30_000)
    assert page.locator('.edition[data-kind="teacher"] img').count() >= 1
    page.wait_for_function("() => [...document.querySelectorAll('.edition')].every("
                           "e => e.querySelector('img').naturalWidth > 500)")  # real page images
    page.state("lesson", readme="lesson-preview")

    new_prompt = "Which words of the letter deny that any one party may lead the others?"
    old_prompt = yaml.safe_load(original)["questions"][0]["prompt"]
    changed = original.replace(json.dumps(old_prompt), json.dumps(new_prompt))
    assert changed != original
    file.write_text(changed)
    page.wait_for_function("text => [...document.querySelectorAll('.edition[data-kind=student] .pagetext')]"
                           ".some(p => p.textContent.replace(/\\s+/g, ' ').includes(text))", arg=new_prompt,
                           timeout=30_000)
    page.state("after-edit")

    lines = changed.splitlines(keepends=True)
    number = next(i for i, l in enumerate(lines) if "difficulty:" in l and i > lines.index(next(
        l for l in lines if "- id: nl-equal" in l)))
    lines[number] = lines[number].replace(lines[number].split(":")[1].strip(), "trivial")
    file.write_text("".join(lines))
    overlay = page.locator("#problems")
    overlay.wait_for(state="visible", timeout=30_000)
    text = page.locator("#problems-list").inner_text()
    assert f"content/lessons/{LESSON}.yaml:{number + 1}:" in text, text
    assert page.locator('.edition[data-kind="student"] img').count() >= 1  # the last good pages stay
    page.state("problem", readme="lesson-problem")

    file.write_text(changed)
    overlay.wait_for(state="hidden", timeout=30_000)
    assert page.dialogs == []
    file.write_text(original)


def _pdf_text(data: bytes) -> str:
    import io
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_class_editor_saves_only_the_changes_and_builds(server, page):
    file = server.content / "classes" / "test-class.yaml"
    questions = yaml.safe_load((server.content / "lessons" / f"{LESSON}.yaml").read_text())["questions"]
    ids = [q["id"] for q in questions]
    page.goto(f"{server.url}/class/test-class")
    lesson = page.locator(f'fieldset.lesson[data-lesson="{LESSON}"]')
    assert lesson.locator("ol.questions > li").evaluate_all("li => li.map(x => x.dataset.question)") == ids
    page.locator('[data-field="name"]').first.wait_for()
    assert page.locator('#profile [data-field="name"]').input_value() == "Test class"
    page.state("editor")

    lesson.locator(f'li[data-question="{ids[1]}"] input.include').uncheck()
    reworded = "In your own words: which two rules for how parties treat each other does the letter give?"
    lesson.locator(f'li[data-question="{ids[0]}"] textarea.prompt').fill(reworded)
    add = lesson.locator("details.add-question")
    add.locator("summary").click()
    add.locator('[data-field="id"]').fill("tc-own-question")
    add.locator('[data-field="type"]').select_option("sourcing")
    add.locator('[data-field="difficulty"]').select_option("easy")
    added_prompt = "Who signed the letter, and on which date?"
    add.locator('[data-field="prompt"]').fill(added_prompt)
    add.locator('[data-field="answer"]').fill("The Central Committee of the KWP, on 28 August 1964.")
    add.locator('[data-field="evidence"]').fill("s. 1-11")
    add.locator("button.add-q").click()
    page.locator("#save").click()
    page.wait_for_function("() => document.querySelector('#save-status').textContent.startsWith('Saved')",
                           timeout=30_000)
    page.state("saved")

    saved = file.read_text()
    diff = [l for l in difflib.unified_diff(CLASS.splitlines(), saved.splitlines(), lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert diff == [
        "-  - no-leading-party",
        f"+  - id: {LESSON}",
        f"+    exclude: [{ids[1]}]",
        "+    add:",
        "+      - id: tc-own-question",
        "+        type: sourcing",
        "+        difficulty: easy",
        f"+        prompt: {added_prompt}",
        "+        notes:",
        "+          answer: The Central Committee of the KWP, on 28 August 1964.",
        "+          evidence: [s. 1-11]",
        "+    reword:",
        f'+      {ids[0]}: "{reworded}"',
    ], "\n".join(diff)
    check = subprocess.run([sys.executable, str(ROOT / "build.py"), "check"], cwd=server.root,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    # The preview beside the form follows the save.
    page.wait_for_function("text => [...document.querySelectorAll('.edition[data-kind=student] .pagetext')]"
                           ".some(p => p.textContent.replace(/\\s+/g, ' ').includes(text))", arg=added_prompt,
                           timeout=30_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("() => document.querySelector('.edition img').naturalWidth > 500")
    page.state("preview-follows-save", readme="class-editor")

    page.locator("#build").click()
    link = page.locator("#build-files a", has_text=f"{LESSON}-student.pdf")
    link.first.wait_for(timeout=60_000)
    page.evaluate("document.querySelector('#build-status').scrollIntoView({block: 'start'})")
    page.state("built", readme="class-built")
    response = page.request.get(server.url + link.first.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = _pdf_text(response.body())
    text = text[text.find(reworded):]  # the questions (readings may quote the same facts)
    wanted = [reworded, *(q["prompt"] for q in questions[2:]), added_prompt]
    places = [text.find(" ".join(p.split())[:80]) for p in wanted]
    assert -1 not in places and places == sorted(places), places
    assert " ".join(questions[1]["prompt"].split())[:80] not in text
    assert " ".join(questions[0]["prompt"].split())[:80] not in text

    # Changed on disk since the form loaded: not overwritten, and the editor offers to reload.
    file.write_text(saved + "# edited elsewhere\n")
    lesson.locator(f'li[data-question="{ids[2]}"] input.include').uncheck()
    page.locator("#save").click()
    page.locator(".conflict").wait_for(timeout=15_000)
    assert "changed on disk" in page.locator(".conflict").inner_text()
    assert page.locator("#conflict-reload").is_visible()
    assert file.read_text() == saved + "# edited elsewhere\n"
    assert page.dialogs == []


def test_a_new_class_with_a_roster_from_the_forms_alone(server, page):
    page.goto(f"{server.url}/class/new")
    page.locator('#profile [data-field="__id"]').fill("grade9-c")
    page.locator('#profile [data-field="name"]').fill("9C History: the Cold War")
    page.locator("#add-lesson-id").select_option("four-conditions")
    page.locator("#add-lesson").click()
    roster = page.locator("#roster-file")
    roster.set_input_files(files=[{"name": "9c.csv", "mimeType": "text/csv",
                                   "buffer": b"name\nAna Lee\n\nAna Lee\nBo Chen\n"}])
    problems = page.locator("#roster-problems li")
    problems.nth(1).wait_for(timeout=15_000)
    assert problems.all_inner_texts() == [
        "content/classes/grade9-c.csv:3:1: blank line in the roster (delete the line, or write a name on it)",
        "content/classes/grade9-c.csv:4:1: 'Ana Lee' is listed twice (first on line 2) "
        "(add an initial to tell the two students apart)"]
    page.state("roster-problems")
    roster.set_input_files(files=[{"name": "9c.csv", "mimeType": "text/csv", "buffer": b"name\nAna Lee\nBo Chen\n"}])
    page.wait_for_function("() => document.querySelector('#roster-now').textContent.includes('2 students')")
    page.locator("#save").click()
    page.wait_for_url(f"{server.url}/class/grade9-c", timeout=30_000)
    saved = (server.content / "classes" / "grade9-c.yaml").read_text()
    assert yaml.safe_load(saved) == {"id": "grade9-c", "name": "9C History: the Cold War", "roster": "grade9-c.csv",
                                     "lessons": ["four-conditions"]}, saved
    assert (server.content / "classes" / "grade9-c.csv").read_text() == "name\nAna Lee\nBo Chen\n"
    from kit.content import load_kit
    kit = load_kit(server.content)
    assert next(c for c in kit.classes if c.id == "grade9-c").students == ("Ana Lee", "Bo Chen")


def test_hostile_content_is_text_in_the_editor(server, page):
    page.goto(f"{server.url}/class/hostile")
    page.locator('#profile [data-field="name"]').wait_for()
    assert page.locator('#profile [data-field="name"]').input_value() == HOSTILE
    assert page.locator('li[data-question="nl-equal"] textarea.prompt').input_value() == HOSTILE
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("script").count() == 3  # the page's own: form data, editor, preview
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_foreign_host_missing_token_and_foreign_origin_are_refused(server):
    own = {"Host": f"127.0.0.1:{server.port}"}
    status, html = _request(server, "GET", "/", own)
    assert status == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    assert _request(server, "GET", "/", {"Host": f"attacker.example:{server.port}"})[0] == 400
    assert _request(server, "GET", "/", {"Host": f"localhost:{server.port}"})[0] == 200
    body = json.dumps({"id": "test-class", "base": "", "fields": {}, "lessons": []}).encode()
    origin = {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}
    before = (server.content / "classes" / "test-class.yaml").read_bytes()
    assert _request(server, "POST", "/class/test-class/save", {**own, **origin}, body)[0] == 403
    assert _request(server, "POST", "/class/test-class/save", {**own, **origin, "X-CSRF-Token": "guess"}, body)[0] == 403
    assert _request(server, "POST", "/class/test-class/save",
                    {**own, "Origin": "http://attacker.example", "X-CSRF-Token": token}, body)[0] == 403
    assert _request(server, "POST", "/class/test-class/build",
                    {"Host": f"attacker.example:{server.port}", **origin, "X-CSRF-Token": token}, body)[0] == 400
    assert (server.content / "classes" / "test-class.yaml").read_bytes() == before
    for path in ("/lesson/..%2F..%2Fetc%2Fpasswd", "/files/..%2Fcontent%2Fclasses%2Ftest-class.yaml",
                 "/files/.kit-state.json", "/class/..%2Fx", "/static/..%2F..%2F..%2Fkit%2Fcli.py"):
        assert _request(server, "GET", path, own)[0] == 404, path
    big = b"--x\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\"\r\n\r\n" + b"a" * 400_000
    status, _ = _request(server, "POST", "/class/test-class/roster",
                         {**own, **origin, "X-CSRF-Token": token, "Content-Type": "multipart/form-data; boundary=x"}, big)
    assert status == 413
