"""Every file kit reads from content/ or templates/ is opened here: no links, regular files, size limits."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from .errors import KitError, Problem, display_path

# Bytes per file, by kind. Anything larger is refused before it is read.
LIMITS = {".yaml": 1_000_000, ".md": 1_000_000, ".csv": 200_000, ".txt": 5_000_000, ".css": 1_000_000,
          ".j2": 1_000_000, ".png": 10_000_000, ".jpg": 10_000_000, ".jpeg": 10_000_000, ".gif": 10_000_000,
          ".ttf": 30_000_000, ".otf": 30_000_000}
DEFAULT_LIMIT = 1_000_000
MAX_PIXELS = 20_000_000  # a printed page needs under 9 million; WeasyPrint holds about 9 bytes a pixel
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF"}
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def limit_for(file: Path) -> int:
    return LIMITS.get(file.suffix.lower(), DEFAULT_LIMIT)


def _problem(shown: str, message: str, hint: str) -> KitError:
    return KitError(Problem(shown, 1, 1, message, hint))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_path(path: Path, root: Path, shown: str | None = None) -> None:
    """Refuse `path` if it, or any folder between `root` and it, is a link, or if it leaves `root`."""
    path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    shown = shown or display_path(path, root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise _problem(shown, "path leaves its folder", "keep every file inside the content or templates folder")
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            what = "is a link" if current == path else f"is in a linked folder ({display_path(current, root)})"
            raise _problem(shown, f"{what}; kit does not follow links",
                           "copy the file or folder itself into place instead of linking to it")


def check_file(path: Path, root: Path, shown: str | None = None) -> None:
    """Refuse anything but a regular file reached without links (without opening it)."""
    shown = shown or display_path(path, root)
    check_path(path, root, shown)
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise _problem(shown, f"cannot read: {exc.strerror}", "check that the file exists and is readable")
    if not stat.S_ISREG(mode):
        raise _problem(shown, f"is {_kind(mode)}, not a file", "put a regular file here")


def read_bytes(path: Path, root: Path, shown: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of a regular file under `root`, reached without links, within its size limit."""
    shown = shown or display_path(path, root)
    limit = limit_for(path) if limit is None else limit
    check_path(path, root, shown)
    try:
        # O_NONBLOCK: a named pipe opens at once instead of waiting for a writer; O_NOFOLLOW: no link swapped in.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _problem(shown, "file not found", "check the file name")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _problem(shown, "is a link; kit does not follow links", "copy the file itself into place")
        raise _problem(shown, f"cannot read: {exc.strerror}", "check that the file exists and is readable")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _problem(shown, f"is {_kind(info.st_mode)}, not a file", "put a regular file here")
        raise _problem(shown, f"file is {info.st_size:,} bytes, over the {limit:,}-byte limit",
                       "split it into smaller files" if limit < 5_000_000 else "make the file smaller")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _problem(shown, f"file is over the {limit:,}-byte limit", "make the file smaller")
    return data


def check_image(data: bytes, path: Path, shown: str) -> None:
    """The image is what its extension says and small enough to decode: read from its header only."""
    from PIL import Image, UnidentifiedImageError

    expected = IMAGE_FORMATS.get(path.suffix.lower())
    if expected is None:
        raise _problem(shown, "not a PNG, JPEG or GIF file name", "kit prints .png, .jpg, .jpeg and .gif images")
    scale = "scale the image down (a printed page needs at most about 2500 x 3500 pixels)"
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header, decodes nothing
            found, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        raise _problem(shown, f"has more than {MAX_PIXELS:,} pixels, the limit", scale)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _problem(shown, f"is not a readable {expected} image", "save the image again as PNG or JPEG")
    if found != expected:
        raise _problem(shown, f"is a {found or 'different'} file, not {expected} as its name says",
                       f"rename it to end in .{(found or 'png').lower()} or save it as {expected}")
    if width * height > MAX_PIXELS:
        raise _problem(shown, f"has {width:,} x {height:,} pixels, over the limit of {MAX_PIXELS:,}", scale)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # the file's structure and checksums, without decoding a pixel
    except Exception:  # noqa: BLE001 - Pillow reports damage with many exception types
        raise _problem(shown, f"is a damaged {expected} file", "save the image again from the program that made it")


def read_image(path: Path, root: Path, shown: str | None = None) -> bytes:
    """An image's bytes after checking its file, its format and its size in pixels."""
    shown = shown or display_path(path, root)
    data = read_bytes(path, root, shown)
    check_image(data, path, shown)
    return data
