"""kit: classroom teaching kits from verbatim primary sources."""

__version__ = "0.1.0"
