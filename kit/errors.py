"""The one exception family: every problem a teacher can cause has a place and a hint."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem: `path:line:col: message (hint)`."""

    path: str
    line: int = 1
    col: int = 1
    message: str = ""
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.path}:{self.line}:{self.col}: {self.message}{hint}"


class KitError(Exception):
    """Base of every error kit reports to a teacher; carries one or more problems."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("kit", 1, 1, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(set(problems), key=lambda p: (p.path, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # a worker process's error reaches the build with its problems intact
        return (type(self), (self.problems,))


class RenderError(KitError):
    """A template or the PDF printer failed on valid content."""


def display_path(path: Path | str, root: Path | None = None) -> str:
    """Path as a teacher sees it: relative to the current folder when possible."""
    path = Path(path)
    for base in (Path.cwd(), root):
        if base is None:
            continue
        for here, there in ((os.path.abspath(path), os.path.abspath(base)), (path.resolve(), base.resolve())):
            try:  # the link's own name first: an error about a link must not show where it points
                return str(Path(here).relative_to(there))
            except ValueError:
                pass
    return str(path)


class Collector:
    """Gathers problems across a whole phase so they are reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, line: int, col: int, message: str, hint: str = "") -> None:
        self.problems.append(Problem(path, line, col, message, hint))

    def append(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, error: KitError) -> None:
        self.problems.extend(error.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise KitError(self.problems)
