"""The canonical codes of the report template (data/codebook.csv), loaded once.

Every placed value is keyed on a codebook row code and column code; this module is the only reader of
the CSV so the rest of transform/ asks questions ("which value rows does the 2021 三 table have?")
instead of re-parsing it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text

CODEBOOK_PATH = DATA_DIR / "codebook.csv"

# Grouping rows that only frame their children and add nothing to a path a reader needs.
_PATH_SKIP = frozenset({"s3.results"})
_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）][、.．]?|\d+[、.．])")


@dataclass(frozen=True)
class CodeEntry:
    """One row of data/codebook.csv."""

    code: str
    section: str  # "s2", "s3", "s4"
    axis: str  # "row" or "col"
    parent: str | None
    order: int
    label_zh: str
    label_en: str
    unit: str | None
    versions: tuple[str, ...]
    signed: bool


class Codebook:
    """Lookup over the codebook entries, in file order."""

    def __init__(self, entries: list[CodeEntry]):
        self.entries: dict[str, CodeEntry] = {e.code: e for e in entries}
        self._children: dict[str, list[str]] = {}
        for e in entries:
            if e.parent:
                if e.parent not in self.entries:
                    raise ValueError(f"codebook: {e.code} has unknown parent {e.parent}")
                self._children.setdefault(e.parent, []).append(e.code)
        for kids in self._children.values():
            kids.sort(key=lambda c: self.entries[c].order)

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def get(self, code: str) -> CodeEntry:
        try:
            return self.entries[code]
        except KeyError:
            raise KeyError(f"unknown codebook code {code!r}") from None

    def children(self, code: str, version: str | None = None) -> list[str]:
        """Direct children in template order (only those of ``version`` when given)."""
        kids = self._children.get(code, [])
        if version is None:
            return list(kids)
        return [k for k in kids if version in self.entries[k].versions]

    def top_level(self, section: str, axis: str, version: str | None = None) -> list[str]:
        out = [
            e.code
            for e in self.entries.values()
            if e.section == section and e.axis == axis and not e.parent
            and (version is None or version in e.versions)
        ]
        return sorted(out, key=lambda c: self.entries[c].order)

    def _leaves(self, section: str, axis: str, version: str) -> list[str]:
        """Depth-first, template order; a code is a leaf when it has no children in ``version``."""
        out: list[str] = []

        def walk(code: str) -> None:
            kids = self.children(code, version)
            if kids:
                for k in kids:
                    walk(k)
            else:
                out.append(code)

        for c in self.top_level(section, axis, version):
            walk(c)
        return out

    def rows(self, section: str, version: str) -> list[str]:
        """Value-bearing row codes of ``section`` in template order for ``version``."""
        return self._leaves(section, "row", version)

    def cols(self, section: str, version: str) -> list[str]:
        """Value-bearing column codes of ``section`` in template order for ``version``."""
        return self._leaves(section, "col", version)

    def codes(self, section: str, axis: str) -> list[str]:
        """Every code of one section and axis, any version, in file order."""
        return [e.code for e in self.entries.values() if e.section == section and e.axis == axis]

    def ancestors(self, code: str) -> list[str]:
        """From the top-most ancestor down to the direct parent."""
        chain: list[str] = []
        parent = self.get(code).parent
        while parent:
            chain.append(parent)
            parent = self.entries[parent].parent
        return chain[::-1]

    def label_path(self, code: str) -> str:
        """Official labels from the top-most meaningful ancestor to ``code``, joined by "/"."""
        parts = [c for c in [*self.ancestors(code), code] if c not in _PATH_SKIP]
        return "/".join(_NUMBERING.sub("", self.entries[c].label_zh).strip() for c in parts)


def _parse_entry(row: dict[str, str], path: Path | Traversable, line: int) -> CodeEntry:
    try:
        return CodeEntry(
            code=row["code"].strip(),
            section=row["section"].strip(),
            axis=row["axis"].strip(),
            parent=row["parent"].strip() or None,
            order=int(row["order"]),
            label_zh=row["label_zh"].strip(),
            label_en=row["label_en"].strip(),
            unit=row["unit"].strip() or None,
            versions=tuple(v for v in row["versions"].strip().split("|") if v),
            signed=row["signed"].strip().lower() == "true",
        )
    except (KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}:{line}: bad codebook row {row!r}: {exc}") from exc


def read_codebook(path: Path | Traversable) -> Codebook:
    with open_text(path) as f:
        entries = [_parse_entry(r, path, i) for i, r in enumerate(csv.DictReader(f), start=2)]
    return Codebook(entries)


@cache
def load_codebook() -> Codebook:
    """The project codebook: data/codebook.csv plus every other data/*codebook*.csv (the legacy
    pre-2019 items live in their own file). Cached: read once per process."""
    others = [p for p in DATA_DIR.iterdir() if fnmatch(p.name, "*codebook*.csv") and p.name != CODEBOOK_PATH.name]
    paths = [CODEBOOK_PATH, *sorted(others, key=lambda p: p.name)]
    entries: list[CodeEntry] = []
    for path in paths:
        entries += read_codebook(path).entries.values()
    return Codebook(entries)
