"""kit: classroom teaching kits from verbatim primary sources."""

__version__ = "0.1.0"

from pathlib import Path as _Path

TEMPLATES = _Path(__file__).resolve().parent.parent / "templates"
