"""Pool worker processes: set up to print, and exit the moment the build that started them is gone."""

from __future__ import annotations

import multiprocessing
import os
import threading


def pool_worker(content: str, templates: str) -> None:
    """Initializer of a pool worker: first a watch on the build process, then a Printer."""
    exit_with_parent()
    from .pdf import init_pool_worker  # WeasyPrint is imported only once the watch is in place

    init_pool_worker(content, templates)


def exit_with_parent() -> None:
    """End this process as soon as its parent dies, even by SIGKILL, even if it died already."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return
    # The parent holds the spawn pipe open for as long as it lives; its end of file is the death
    # notice. Unlike polling os.getppid(), it cannot miss a parent that died before the watch
    # started (the old watch then saw init's pid as its parent and waited forever), and unlike
    # prctl(PR_SET_PDEATHSIG) it does not fire when merely the spawning thread ends.
    threading.Thread(target=_exit_after, args=(parent,), daemon=True, name="kit-parent-watch").start()


def _exit_after(parent) -> None:
    parent.join()
    os._exit(1)
