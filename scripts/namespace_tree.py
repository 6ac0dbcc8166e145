"""Build a tree of symlinks with the installed package layout (ogi/extract → ../extract, …).

The stage folders sit at the top of the repository and become ``ogi.<stage>`` through setuptools'
``package-dir`` mapping; type checkers resolve imports by folder and cannot follow that mapping,
so they check this tree instead. The mapping is read from pyproject.toml: one source.
"""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    if out.exists():
        shutil.rmtree(out)
    pkg = out / "ogi"
    pkg.mkdir(parents=True)
    for entry in (ROOT / mapping["ogi"]).iterdir():
        if entry.name != "__pycache__":
            os.symlink(entry, pkg / entry.name)
    for name, folder in mapping.items():
        if name != "ogi":
            os.symlink(ROOT / folder, out / name.replace(".", "/"))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "typecheck"))
