"""Reading the package's reference tables (data/*.csv) wherever the package is installed.

``importlib.resources`` hands out Traversables, whose ``open`` takes no ``newline`` (csv needs it);
reading the whole small file and wrapping it is portable and as fast.
"""

from __future__ import annotations

import io
from importlib.resources.abc import Traversable
from pathlib import Path


def open_text(path: Traversable | Path, *, encoding: str = "utf-8") -> io.StringIO:
    """A data file's text, ready for ``csv.DictReader`` (a leading BOM dropped)."""
    return io.StringIO(path.read_text(encoding=encoding).removeprefix("\ufeff"), newline="")
