"""Phase 2 primitives: files appear whole or not at all, and only inside their folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import KitError, Problem


def inside(base: Path, relative: str | Path) -> Path:
    """`base/relative`, refusing any path that would leave `base` (through '..' or a link)."""
    base = base.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise KitError(Problem(str(relative), 1, 1, "output path leaves the output folder",
                               "ids may use only lowercase letters, digits and hyphens"))
    return target


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file in the same folder, flush it, then rename it into place."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
