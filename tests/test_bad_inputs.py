"""Every case in tests/bad_inputs/ gives its exact messages, exit code 2, no traceback, no output.

A case folder holds files laid over a copy of tests/fixtures/mini (content/...), `expected.txt`
with the exact problem lines, and optionally `templates/` (laid over a copy of templates/),
`args.txt` (the command; default `check`) and
`generate.txt` ("RELATIVE-PATH BYTES": a file too large to commit). Refresh expectations after a
deliberate wording change with `KIT_REFRESH=1 pytest tests/test_bad_inputs.py`, then review the diff.
"""

import os
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT

CASES = Path(__file__).parent / "bad_inputs"


def _cases():
    # A broken stylesheet is found through WeasyPrint's own warnings, which kit turns into problems.
    return [pytest.param(name, marks=pytest.mark.weasyprint_warnings) if name.startswith("stylesheet-") else name
            for name in sorted(p.name for p in CASES.iterdir() if p.is_dir())]


@pytest.mark.parametrize("name", _cases())
def test_bad_input(name, cli, mini, tmp_path):
    case = CASES / name
    if (case / "content").exists():
        shutil.copytree(case / "content", mini, dirs_exist_ok=True)
    if (case / "generate.txt").exists():
        rel, size = (case / "generate.txt").read_text().split()
        (mini / rel).write_text("# padding\n" * (int(size) // 10 + 1))
    args = (case / "args.txt").read_text().split() if (case / "args.txt").exists() else ["check"]
    if (case / "templates").exists():
        shutil.copytree(ROOT / "templates", tmp_path / "templates")
        shutil.copytree(case / "templates", tmp_path / "templates", dirs_exist_ok=True)
        args += ["--templates", "templates"]
    args = [a.replace("{content}", "content").replace("{case}", str(case)) for a in args]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, out, err = cli(*args, "--content", "content")
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("kit: ")]
    expected = case / "expected.txt"
    if os.environ.get("KIT_REFRESH"):
        expected.write_text("\n".join(lines) + "\n")
    assert code == 2, err
    assert lines == expected.read_text().splitlines()
    for line in lines:
        path, line_no, col, rest = line.split(":", 3)
        assert line_no.isdigit() and col.isdigit() and rest.strip().endswith(")"), line  # has a hint
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written
