"""Build progress: a bar on a terminal, one line per class otherwise, nothing when quiet."""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def reporter(quiet: bool):
    """A callback `progress(group, done, total)` suited to where the output goes."""
    if quiet:
        yield None
        return
    if not sys.stdout.isatty():
        def plain(group: str, done: int, total: int) -> None:
            if done == total:
                print(f"{group}: {total} document{'s' * (total != 1)}", flush=True)
        yield plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(group: str, done: int, total: int) -> None:
            if group not in tasks:
                tasks[group] = bar.add_task(group, total=total)
            bar.update(tasks[group], completed=done)
        yield update
