"""Spreadsheets as agencies fill them in: preamble rows above each grid, as statistical forms have.

A 填报单位 / 单位：件 row (and sometimes a title and a date row) sits above the grid; the grid may start
in column B; each table may have its own sheet (表二/表三/表四) or all share one; numbers may be typed
as text; zero cells may hold "/" or "无"; headers carry line breaks ("结果\\n维持"); a 填表人 row may
close a table. The measured failure: table 四's preamble row taken for its header.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from bench.corpus import Key, ReportSpec, TableGrid, report_title
from bench.producers import Job, ProducerLayout
from bench.producers.common import choose_marks, marked_grids, write_truth_marked


@dataclass(frozen=True)
class SheetStyle:
    one_sheet: bool
    col0: int  # 1 = column A
    title_rows: bool
    date_row: bool
    unit_cell: str  # "last" (单位 in the last column of the preamble row) | "same" (one merged text)
    numbers_as_text: bool
    two_line_headers: bool
    signature_row: bool
    marker: str


def draw_style(rng: random.Random) -> SheetStyle:
    return SheetStyle(one_sheet=rng.random() < 0.4, col0=rng.choice([1, 1, 2]), title_rows=rng.random() < 0.7,
                      date_row=rng.random() < 0.4, unit_cell=rng.choice(["last", "same"]),
                      numbers_as_text=rng.random() < 0.35, two_line_headers=rng.random() < 0.6,
                      signature_row=rng.random() < 0.5, marker=rng.choice(["0", "/", "无", "—"]))


def _unit(grid: TableGrid) -> str:
    return "单位：件、万元" if grid.n_cols == 4 else "单位：件"


def _write_grid(ws, grid: TableGrid, spec: ReportSpec, st: SheetStyle, r0: int, marks: dict[Key, str]) -> int:
    """One table with its preamble at row r0; returns the next free row."""
    from openpyxl.styles import Alignment, Border, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    c0, last = st.col0, st.col0 + grid.n_cols - 1
    if st.title_rows:
        ws.cell(r0, c0, grid.title)
        ws.merge_cells(start_row=r0, start_column=c0, end_row=r0, end_column=last)
        r0 += 1
    if st.unit_cell == "last":
        ws.cell(r0, c0, f"填报单位：{spec.agency}")
        ws.cell(r0, last, _unit(grid))
    else:
        ws.cell(r0, c0, f"填报单位：{spec.agency}　　　　{_unit(grid)}")
        ws.merge_cells(start_row=r0, start_column=c0, end_row=r0, end_column=last)
    r0 += 1
    if st.date_row:
        ws.cell(r0, c0, f"填报日期：{spec.year + 1}年1月{10 + spec.seed % 18}日")
        r0 += 1
    for gc in grid.cells:
        cell = ws.cell(r0 + gc.r, c0 + gc.c)
        text = gc.text
        if gc.key is not None and gc.key not in marks and not text.endswith("万元") and not st.numbers_as_text:
            cell.value = spec.values[gc.key]
        else:
            if grid.n_cols == 15 and gc.r == 2 and st.two_line_headers and len(text) == 4:
                text = text[:2] + "\n" + text[2:]
            cell.value = text
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = border
        if gc.rowspan > 1 or gc.colspan > 1:
            ws.merge_cells(start_row=r0 + gc.r, start_column=c0 + gc.c, end_row=r0 + gc.r + gc.rowspan - 1,
                           end_column=c0 + gc.c + gc.colspan - 1)
    r0 += grid.n_rows
    if st.signature_row:
        ws.cell(r0, c0, "填表人：　　　　审核人：　　　　联系电话：")
        r0 += 1
    return r0 + 1


def write_xlsx(spec: ReportSpec, path, st: SheetStyle, marks: dict[Key, str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "年报" if st.one_sheet else "表二"
    r = 1
    if st.one_sheet and st.title_rows:
        ws.cell(1, st.col0, report_title(spec))
        r = 3
    for i, grid in enumerate(marked_grids(spec, marks)):
        if not st.one_sheet and i:
            ws = wb.create_sheet(f"表{'二三四'[i]}")
            r = 1
        r = _write_grid(ws, grid, spec, st, r, marks)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    metas = []
    for job in jobs:
        rng = random.Random(job.seed)
        st = draw_style(rng)
        marks = choose_marks(job.spec, rng, marker=st.marker)
        write_xlsx(job.spec, job.path, st, marks)
        meta = {"layout": name, "kind": layout.kind, "producer": "openpyxl, statistical-form preamble",
                "style": asdict(st), "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    return metas
