"""Entry point: `python build.py [build|check|list|import-source] ...`."""

import sys

from kit.cli import main

if __name__ == "__main__":
    sys.exit(main())
