"""The grid primitives every PDF table reader shares: a page's table, how table-like a grid is,
and a reading's identity key. They sit below the readers (ruled, borderless, OCR) so that no reader
imports another."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ogi.core.models import RawTable

_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)*(?:万?元|件|项|%)?$")
_BLANKISH = {"/", "—", "-", "－", "无", "——", "/ "}


@dataclass
class PageTable:
    """One Camelot table on one page, as a clean grid plus what stitching needs to know."""

    page: int
    rows: list[list[str | None]]
    method: str
    confidence: float | None
    col_edges: list[float] = field(default_factory=list)  # x of column boundaries (PDF units)
    # cells of text-less merged regions touching row 0 (a merge continued from the page before)
    top_regions: list[set[tuple[int, int]]] = field(default_factory=list)
    note: str = ""
    # where the table starts and ends, as fractions of the page height from the top (None: unknown)
    top_frac: float | None = None
    bottom_frac: float | None = None

    @property
    def ncols(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def is_number(text: str | None) -> bool:
    return bool(text) and bool(_NUMBER.match((text or "").replace(" ", "")))


def grid_consistency(rows: list[list[str | None]]) -> float:
    """0..1: how much a grid looks like a statistics table (uniform width, numbers that parse).

    Scored per row: full width, and value cells (all but the leading label cells) that are
    numbers or accepted placeholders. Text fragments split into value columns (a stream parse
    cutting labels apart) lower the score.
    """
    if not rows:
        return 0.0
    width = max(len(r) for r in rows)
    if width < 2:
        return 0.0
    width_ok = sum(1 for r in rows if len(r) == width) / len(rows)
    value_cells = 0
    good = 0
    numeric_rows = 0
    for r in rows:
        vals = [v for v in r[1:] if v]
        nums = [v for v in vals if is_number(v) or v.strip() in _BLANKISH]
        if len(nums) >= max(1, len(vals) // 2):
            numeric_rows += 1
            value_cells += len(vals)
            good += len(nums)
    cell_ok = good / value_cells if value_cells else 0.0
    has_numbers = numeric_rows / len(rows)
    return round(0.4 * width_ok + 0.4 * cell_ok + 0.2 * min(1.0, 2 * has_numbers), 4)


def grid_key(tables: Sequence[PageTable | RawTable]) -> tuple:
    """The tables' cell texts without whitespace: equal keys mean the same reading."""
    return tuple(tuple(tuple(re.sub(r"\s+", "", c or "") for c in r) for r in t.rows) for t in tables)
