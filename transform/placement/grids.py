"""Which report section (二 / 三 / 四) each extracted table holds, and one grid per section.

Extractors cut tables at page breaks (the 三 table of a PDF often arrives as two tables) and some
deliver several sections in one table. This module reasons on rows: a row with a section's start
marker (data/section_markers.csv) opens that section; rows without one belong to the section being
read; a table that starts without any marker is classified by the codebook labels it contains, and
when it has none it continues the previous table's section. The result keeps every row's provenance
(table index, row index in that table, page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ogi.core.models import RawTable
from ogi.transform.knowledge.markers import SECTIONS, row_section_votes, row_start_section


@dataclass(frozen=True)
class GridRow:
    """One row of a section grid with where it came from."""

    cells: tuple[str | None, ...]
    table_index: int
    row_index: int
    page: int | None
    method: str = ""  # the reader of its table (RawTable.method): "ocr" values are never certain


@dataclass
class SectionGrid:
    """The rows of one report section, in document order, possibly from several tables."""

    section: str
    rows: list[GridRow] = field(default_factory=list)
    table_indices: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
            current.rows.append(GridRow(tuple(cells), table.index, r, table.page_of_row(r), table.method))
            if table.index not in current.table_indices:
                current.table_indices.append(table.index)
        last_width = width
    return [g for g in grids if g.rows]
