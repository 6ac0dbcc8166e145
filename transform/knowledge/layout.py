"""The layout of table 二 (主动公开): its sub-tables by 第二十条 item, with their rows and columns
(data/section2_layout.csv), for the grid placer and the text readers alike."""

from __future__ import annotations

import csv
import re
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.transform.knowledge.labels import canonical_text

S2_LAYOUT_PATH = DATA_DIR / "section2_layout.csv"
S2_ITEM = re.compile(r"第二十条第\((?P<item>[一二三四五六七八九十]+)\)项")  # in canonical text


@cache
def s2_layout() -> dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]]:
    """(version, "(N)" item of 第二十条) → (row codes, column codes) of that 二 sub-table."""
    with open_text(S2_LAYOUT_PATH) as f:
        return {
            (r["version"], canonical_text(r["item"])): (tuple(r["rows"].split("|")), tuple(r["cols"].split("|")))
            for r in csv.DictReader(f)
        }


def s2_cols(version: str, row_code: str,
            item: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The columns of a 二 row: its current sub-table's when the row belongs to it, else those of
    the sub-table that has the row."""
    if item and row_code in item[0]:
        return item[1]
    return next((c for (v, _i), (rows, c) in s2_layout().items() if v == version and row_code in rows), ())
