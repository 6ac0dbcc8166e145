"""What the producer modules share: blank markers with their truth, label wrapping, page footers.

Real reports print a zero as "0", "/", "—" or "无", or leave it blank; the truth must say what the
cell printed (a "/" carries no value), so markers are chosen here once and written into both the
document and its truth file.
"""

from __future__ import annotations

import copy
import csv
import random
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.corpus import _FILLER, Key, ReportSpec, TableGrid, format_number, report_grids, write_truth

# printed marker → value_status of the truth (README "Values and their status")
MARKER_STATUS = {"/": "not_applicable", "—": "not_applicable", "－": "not_applicable", "无": "none_stated",
                 "": "blank"}
FOOTERS = ["— {n} —", "- {n} -", "-{n}-", "第 {n} 页", "{n}", "第{n}页 共{total}页"]
# a line may not start with these (Chinese line breaking): they stick to the character before
_NO_LINE_START = set("，、。；：）》”’」）%")


def choose_marks(spec: ReportSpec, rng: random.Random, marker: str | None = None,
                 share: float | None = None) -> dict[Key, str]:
    """Zero cells printed as a blank marker instead of 0 (``marker`` "0" prints them as 0)."""
    marker = rng.choice(["0", "/", "—", "无", "/"]) if marker is None else marker
    if marker == "0":
        return {}
    share = rng.choice([0.3, 0.6, 1.0]) if share is None else share
    amounts = ("s2c.fee_amount", "s2c.procurement_amount")
    zeros = [k for k, v in spec.values.items() if v == 0 and k[2] not in amounts]
    return {k: marker for k in zeros if rng.random() < share}


def cell_text(spec: ReportSpec, key: Key, marks: Mapping[Key, str]) -> str:
    return marks[key] if key in marks else format_number(spec.values[key])


def marked_grids(spec: ReportSpec, marks: Mapping[Key, str], vertical: bool = False) -> list[TableGrid]:
    """The template grids with marked zero cells printing their marker."""
    grids = copy.deepcopy(report_grids(spec, vertical=vertical))
    for g in grids:
        for c in g.cells:
            if c.key is not None and c.key in marks:
                c.text = marks[c.key]
    return grids


def write_truth_marked(spec: ReportSpec, truth_path: Path, meta: dict[str, Any],
                       marks: Mapping[Key, str]) -> None:
    """The corpus truth files, with each marked cell's value empty and its status what it printed."""
    write_truth(spec, truth_path, {**meta, "blank_marks": {"|".join(k): m for k, m in marks.items()}})
    if not marks:
        return
    with truth_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        key = (r["section"], r["row_code"], r["col_code"])
        if key in marks:
            r["value"], r["value_status"] = "", MARKER_STATUS[marks[key]]
    with truth_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["section", "row_code", "col_code", "value", "value_status"])
        w.writeheader()
        w.writerows(rows)


def char_em(ch: str) -> float:
    """Width of a character in em: CJK and full-width 1, everything else half."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def text_em(text: str) -> float:
    return sum(char_em(ch) for ch in text)


def wrap(text: str, width_em: float) -> list[str]:
    """Break a label into lines of at most ``width_em`` as a word processor does with CJK text
    (anywhere, except before closing punctuation); explicit newlines are kept."""
    lines: list[str] = []
    for para in text.split("\n"):
        line, w = "", 0.0
        for ch in para:
            cw = char_em(ch)
            if line and w + cw > width_em + 1e-6 and ch not in _NO_LINE_START:
                lines.append(line)
                line, w = "", 0.0
            line += ch
            w += cw
        lines.append(line)
    return lines


def footer_text(fmt: str, n: int, total: int) -> str:
    return fmt.format(n=n, total=total)


def header_rows(grid: TableGrid) -> int:
    """How many leading rows are header rows (repeated on a continuation page)."""
    n = 0
    for r in range(grid.n_rows):
        cells = [c for c in grid.cells if c.r == r]
        if cells and all(c.header for c in cells):
            n = r + 1
        else:
            break
    return n


def fill_prose(rng: random.Random, n: int) -> list[str]:
    """Filler paragraphs of report prose: their number decides where the tables' page breaks fall."""
    return [rng.choice(_FILLER) for _ in range(n)]
