"""Phase 2 primitives: files appear whole or not at all, and only inside their folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import KitError, Problem


# Names directly in output/ that belong to kit, and the names each class makes from its id. A class
# id is refused when one of its names is reserved or made by another class: extend the lists here.
RESERVED_NAMES = ("lessons",)
CLASS_NAMES = ("{id}", "{id}.zip", "{id}-students.zip", "{id}-teacher.zip", "{id}.imscc")


def class_names(class_id: str) -> tuple[str, ...]:
    """Everything a class puts directly in output/."""
    return tuple(name.format(id=class_id) for name in CLASS_NAMES)


def name_clashes(class_ids: list[str]) -> dict[str, str]:
    """Class id -> what its output would overwrite (a reserved name, or another class's file)."""
    owner = {name: "kept by kit itself" for name in RESERVED_NAMES}
    clashes = {}
    for class_id in sorted(class_ids, key=lambda i: (len(i), i)):  # the shorter id keeps its names
        names = class_names(class_id)
        taken = next((name for name in names if name in owner), None)
        if taken:
            clashes[class_id] = f"output/{taken} ({owner[taken]})"
        else:
            owner.update(dict.fromkeys(names, f"made by class '{class_id}'"))
    return clashes


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


ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def reproducible_zip(members: list[tuple[str, bytes | Path]]) -> bytes:
    """A zip with fixed dates, permissions and order: the same bytes on every build."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in sorted(members, key=lambda m: m[0]):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            # PDFs are compressed already; deflating them again costs time and saves almost nothing.
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
            archive.writestr(info, data if isinstance(data, bytes) else data.read_bytes())
    return buffer.getvalue()
