"""Which report section (二 / 三 / 四) each extracted table holds, and one grid per section.

Extractors cut tables at page breaks (the 三 table of a PDF often arrives as two tables) and some
deliver several sections in one table. This module reasons on rows: a row with a section's start
marker (data/section_markers.csv) opens that section; rows without one belong to the section being
read; a table that starts without any marker is classified by the codebook labels it contains, and
when it has none it continues the previous table's section. The result keeps every row's provenance
(table index, row index in that table, page).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from ogi.config import DATA_DIR
from ogi.models import RawTable
from transform.codebook import Codebook, load_codebook
from transform.labels import canonical_text

MARKERS_PATH = DATA_DIR / "section_markers.csv"
SECTIONS = ("s2", "s3", "s4")


@dataclass(frozen=True)
class GridRow:
    """One row of a section grid with where it came from."""

    cells: tuple[str | None, ...]
    table_index: int
    row_index: int
    page: int | None


@dataclass
class SectionGrid:
    """The rows of one report section, in document order, possibly from several tables."""

    section: str
    rows: list[GridRow] = field(default_factory=list)
    table_indices: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@cache
def _markers() -> tuple[tuple[str, str, bool], ...]:
    with MARKERS_PATH.open(encoding="utf-8", newline="") as f:
        return tuple(
            (r["section"], canonical_text(r["marker"]), r["starts_section"].strip().lower() == "true")
            for r in csv.DictReader(f)
        )


def section_markers(section: str) -> tuple[str, ...]:
    """Canonical header/title markers of one section (信息内容, 申请人情况, …)."""
    return tuple(marker for sec, marker, _ in _markers() if sec == section)


@cache
def _section_labels() -> dict[str, frozenset[str]]:
    """Canonical codebook labels that belong to exactly one section (总计, 其他 do not)."""
    cb: Codebook = load_codebook()
    owners: dict[str, set[str]] = {}
    for e in cb.entries.values():
        owners.setdefault(canonical_text(e.label_zh), set()).add(e.section)
    out: dict[str, set[str]] = {s: set() for s in SECTIONS}
    for label, secs in owners.items():
        if len(secs) == 1 and len(label) >= 2 and next(iter(secs)) in out:
            out[next(iter(secs))].add(label)
    return {s: frozenset(v) for s, v in out.items()}


def _row_texts(cells: Sequence[str | None]) -> list[str]:
    return [t for t in (canonical_text(c) for c in cells if c) if t]


def row_start_section(cells: Sequence[str | None]) -> str | None:
    """The section a row opens (its start marker), or None."""
    texts = _row_texts(cells)
    for section, marker, starts in _markers():
        if starts and any(marker in t for t in texts):
            return section
    # 四's header row: 行政复议 and 行政诉讼 side by side.
    if any(t == "行政复议" for t in texts) and any(t == "行政诉讼" for t in texts):
        return "s4"
    return None


def row_section_votes(cells: Sequence[str | None]) -> dict[str, int]:
    """How many cells of the row carry a label (or marker) unique to each section."""
    votes = dict.fromkeys(SECTIONS, 0)
    labels = _section_labels()
    for t in _row_texts(cells):
        for s in SECTIONS:
            if t in labels[s] or any(len(lab) >= 4 and lab in t for lab in labels[s]):
                votes[s] += 1
        for section, marker, _ in _markers():
            if marker in t:
                votes[section] += 1
    return votes


def classify_table(table: RawTable) -> str:
    """"s2" / "s3" / "s4" by the labels the table holds, or "other"."""
    totals = dict.fromkeys(SECTIONS, 0)
    for row in table.rows:
        for s, n in row_section_votes(row).items():
            totals[s] += n
    best = max(SECTIONS, key=lambda s: totals[s])
    return best if totals[best] > 0 else "other"


def section_grids(tables: Sequence[RawTable]) -> list[SectionGrid]:
    """Cut the document's tables into per-section grids, in document order.

    A grid is started by a section start marker, or by a table whose first labelled rows belong to
    another section than the one being read; a table with no label at all continues the previous
    grid when it has the same width (a page-break split). Tables before any section are skipped.
    """
    grids: list[SectionGrid] = []
    current: SectionGrid | None = None
    last_width: int | None = None
    for table in sorted(tables, key=lambda t: t.index):
        if not table.rows:
            continue
        width = max(len(r) for r in table.rows)
        table_class = classify_table(table)
        if table_class == "other":
            if current is None or width != last_width:
                continue  # a layout table or prose box, not a template table
            current.notes.append(f"table {table.index} has no label: read as continuation of {current.section}")
        elif (current is None or table_class != current.section) and row_start_section(table.rows[0]) is None:
            # A new table whose first row is no marker: its labels decide (a continuation keeps
            # its section because it holds that section's labels).
            current = SectionGrid(table_class)
            grids.append(current)
        for r, cells in enumerate(table.rows):
            start = row_start_section(cells)
            if start is not None and (current is None or start != current.section):
                current = SectionGrid(start)
                grids.append(current)
            if current is None:
                continue
            current.rows.append(GridRow(tuple(cells), table.index, r, table.page_of_row(r)))
            if table.index not in current.table_indices:
                current.table_indices.append(table.index)
        last_width = width
    return [g for g in grids if g.rows]
