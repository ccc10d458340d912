"""The command line: exit codes, the JSON inventory, and what a build leaves behind."""

import json

from .conftest import ROOT


def test_check_shipped_content_is_clean(cli):
    code, out, err = cli("check", "--content", ROOT / "content")
    assert code == 0, err
    assert out.startswith("ok:")


def test_list_json_inventory(cli, mini):
    code, out, err = cli("list", "--json", "--content", mini)
    assert code == 0, err
    data = json.loads(out)
    assert {"id", "title", "date"} <= set(data["sources"][0])
    lesson = data["lessons"][0]
    assert {"id", "title", "source", "excerpts", "questions", "glossary", "timeline", "context"} <= set(lesson)
    assert lesson["excerpts"][0]["text"].startswith("All parties are equal and autonomous.")
    assert "[...]" in lesson["excerpts"][0]["text"]
    question = lesson["questions"][0]
    assert {"id", "type", "difficulty", "prompt", "notes"} <= set(question)
    assert [t["term"] for t in lesson["glossary"]] == ["CCP", "CPSU", "KWP", "Splittism"]  # alphabetical
    assert lesson["glossary"][2] == {"term": "KWP", "definition": "The Korean Workers' Party, the ruling party of North Korea.",
                                     "original": "조선로동당"}
    assert [e["date"] for e in lesson["timeline"]] == ["1950-06-25", "1964-08-28", "1964-09-11", "1964-10-13"]
    context = lesson["context"][0]
    assert {"id", "title", "words", "text"} <= set(context) and context["words"] > 10


def test_list_human(cli, mini):
    code, out, err = cli("list", "--content", mini)
    assert code == 0 and "lesson  sample" in out and "Flesch-Kincaid" in out


def test_one_changed_word_fails_check_with_file_and_line(cli, mini):
    lesson = mini / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace("to be led.", "to be lead."))
    code, out, err = cli("check", "--content", mini)
    assert code == 2
    assert "content/lessons/sample.yaml:18:12: excerpt 'equal'" in err
    assert "the quote has 'lead' where the source has 'led'" in err


def test_missing_content_folder(cli, tmp_path):
    code, out, err = cli("check", "--content", tmp_path / "nope")
    assert code == 2 and "content folder not found" in err


def test_failed_build_leaves_previous_output_byte_identical(cli, mini, tmp_path):
    code, out, err = cli("--content", mini, "--output", tmp_path / "out", "--quiet")
    assert code == 0, err
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    lesson = mini / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace("duration: 45", "duration: many"))
    code, out, err = cli("--content", mini, "--output", tmp_path / "out")
    assert code == 2 and "Traceback" not in err
    after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before


def test_internal_error_exits_1(cli, mini, monkeypatch):
    import kit.content
    monkeypatch.setattr(kit.content, "load_context", lambda *a: 1 / 0)
    code, out, err = cli("check", "--content", mini)
    assert code == 1 and "internal error" in err and "Traceback" not in err


def test_list_source_prints_the_numbers_a_citation_error_sends_the_teacher_to(cli, mini):
    import re
    import yaml
    lesson = mini / "lessons" / "sample.yaml"
    lesson.write_text(lesson.read_text().replace('evidence: ["s. 91-93"]', 'evidence: ["s. 91-950"]'))
    code, out, err = cli("check", "--content", mini)
    assert code == 2
    command = re.search(r"'python build\.py (list [a-z0-9-]+)'", err)[1].split()
    code, out, err = cli(*command, "--content", mini)  # works while the kit itself does not load
    assert code == 0, err
    sentences = yaml.safe_load((mini / "sources" / "kwp-letter-1964.yaml").read_text())["sentences"]
    numbered = re.findall(r"^ +(\d+)  (.+)$", out, flags=re.M)
    assert [(int(n), text) for n, text in numbered] == [(s["n"], s["text"]) for s in sentences]
    assert "Archival header (not numbered" in out and \
        "  [archival-signature] Archival Signature: SAPMO-BA, Berlin, DY 30, IV A2/20/251\n" in out
    assert "\nLetter\n  [heading]\n   12  " in out and "  [point 2]\n   83  2. One cannot allow" in out
    code, out, err = cli("list", "kwp-letter-1964", "--json", "--content", mini)
    data = json.loads(out)
    assert data["header"][0] == {"part": "Archival header", "block": "archive-department",
                                 "text": "SED Central Committee Department of International Relations"}
    assert data["sentences"][90] == {"n": 91, "text": "All parties are equal and autonomous.",
                                     "part": "Letter", "block": "point 2"}
    code, out, err = cli("list", "kwp-leter-1964", "--content", mini)
    assert code == 2 and "no source 'kwp-leter-1964' in this folder (did you mean 'kwp-letter-1964'?)" in err


def test_list_into_a_reader_that_stops_early_is_not_an_error(mini):
    import subprocess
    import sys
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "list", "kwp-letter-1964", "--content",
                                str(mini)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    process.stdout.close()  # like `| head`: gone before kit prints
    err = process.stderr.read().decode()
    assert process.wait() == 0 and err == ""
