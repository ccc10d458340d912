"""Shared fixtures: paths, an in-process CLI runner, and 'no WeasyPrint warning' for every test."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import os
from collections import Counter

import pytest
from hypothesis import settings

from kit.cli import main

# Property tests run the same examples everywhere unless HYPOTHESIS_PROFILE=explore asks for new ones.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
CASES: Counter = Counter()  # property-test cases run, by kind; printed at the end of the session


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.write_line("property cases checked: " + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = ROOT.parent / "shared" / "sources" / "000_c8a5c0fc44dcd763.txt"
if not SEED.exists():  # CI clones next to a copy of shared/
    SEED = FIXTURES / "seed" / "000_c8a5c0fc44dcd763.txt"


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_weasyprint_warnings(request):
    """WeasyPrint's own test habit: a render that logs a warning fails the test."""
    if request.node.get_closest_marker("weasyprint_warnings"):
        yield
        return
    handler = _Warnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    assert not [r.getMessage() for r in handler.records]


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `python build.py ...` in-process from tmp_path; returns (code, stdout, stderr)."""
    def run(*args: str, cwd: Path | None = None):
        monkeypatch.chdir(cwd or tmp_path)
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture
def mini(tmp_path) -> Path:
    """A writable copy of the small fixture kit, as tmp_path/content."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", target)
    return target


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def shipped(tmp_path_factory) -> Path:
    """The shipped kit (content/), built once per test session; the output folder."""
    from kit.build import build

    output = tmp_path_factory.mktemp("shipped") / "output"
    build(ROOT / "content", output, workers=2)
    return output
