"""The class editor's form <-> YAML: hand-written files survive a save; only the changes are written."""

from __future__ import annotations

import shutil

import pytest
import yaml

from kit import editor
from kit.content import load_kit
from kit.errors import KitError

from .conftest import ROOT


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    content = tmp_path_factory.mktemp("editor") / "content"
    shutil.copytree(ROOT / "content", content)
    return load_kit(content)


def _filled(kit, class_id: str) -> dict:
    """The form as the browser sends it back when the teacher changed nothing."""
    form = editor.form(kit.root, class_id, {l.id: l for l in kit.lessons})
    return {"id": class_id, "base": form["base"], "fields": {f["name"]: f["value"] for f in form["fields"]},
            "lessons": [{"id": l["id"], "keep": l.get("keep", False),
                         "fields": {f["name"]: f["value"] for f in l["fields"]},
                         "questions": [{"id": q["id"], "include": q["include"], "prompt": q["prompt"]}
                                       for q in l["questions"]]} for l in form["lessons"]]}


@pytest.mark.parametrize("class_id", ["grade10-b", "seminar", "ap-world"])
def test_an_unchanged_form_writes_the_file_byte_for_byte(kit, class_id):
    text = (kit.root / "classes" / f"{class_id}.yaml").read_text()
    assert editor.apply(text, _filled(kit, class_id), {l.id: l for l in kit.lessons}) == text


def test_moving_a_question_writes_include_and_new_values_stay_strings(kit):
    data = _filled(kit, "grade10-b")
    lesson = next(l for l in data["lessons"] if l["id"] == "no-leading-party")
    rows = lesson["questions"]
    rows[0], rows[1] = rows[1], rows[0]
    data["fields"]["term"] = "yes"          # PyYAML would read a plain `yes` as true
    data["fields"]["school"] = "12: North"  # and this as a mapping
    text = editor.apply((kit.root / "classes" / "grade10-b.yaml").read_text(), data, {l.id: l for l in kit.lessons})
    parsed = yaml.safe_load(text)
    assert parsed["term"] == "yes" and parsed["school"] == "12: North"
    entry = next(e for e in parsed["lessons"] if e["id"] == "no-leading-party")
    assert entry["include"] == [r["id"] for r in rows if r["include"]]
    assert "# body text at 16 pt" in text and "# drop the hard questions" in text
    assert editor.check(kit.root, kit.root.parent / "output", "grade10-b", text, None, kit) == []


def test_a_lesson_the_editor_cannot_show_is_kept_as_written(kit):
    text = (kit.root / "classes" / "grade10-b.yaml").read_text()
    data = _filled(kit, "grade10-b")
    lessons = {l.id: l for l in kit.lessons if l.id != "four-conditions"}  # as if it had a problem now
    assert editor.apply(text, data, lessons) == text


def test_save_refuses_a_file_changed_since_the_form_loaded_and_a_bad_id(kit, tmp_path):
    data = _filled(kit, "grade10-b")
    file = kit.root / "classes" / "grade10-b.yaml"
    before = file.read_text()
    file.write_text(before + "# changed elsewhere\n")
    try:
        with pytest.raises(editor.Conflict, match="changed on disk"):
            editor.save(kit.root, tmp_path, data, kit)
        assert file.read_text() == before + "# changed elsewhere\n"
    finally:
        file.write_text(before)
    with pytest.raises(KitError, match="not a valid class id"):
        editor.save(kit.root, tmp_path, {**data, "id": "../../etc/x"}, kit)
    data["fields"]["paper"] = "a3"
    with pytest.raises(KitError) as caught:
        editor.save(kit.root, tmp_path, data, kit)
    assert any("classes/grade10-b.yaml:7:" in str(p) for p in caught.value.problems), caught.value.problems
    assert file.read_text() == before
