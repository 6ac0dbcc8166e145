"""Each sheet of a spreadsheet report (.xlsx via openpyxl, .xls/.et via xlrd) as one table.

Cells come out as printed: an integral float is "12", not "12.0"; a percentage keeps its "%".
Merged ranges keep their text in the top-left cell and None in the covered cells.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath

from ogi.core import limits
from ogi.core.config import EXTRACTOR_VERSION
from ogi.core.limits import LimitExceeded
from ogi.core.models import ExtractedDocument, ExtractionError, RawTable
from ogi.core.textcodec import INVISIBLE_CHARS
from ogi.extract.budget import check_zip

XLSX_EXTRACTOR = f"xlsx:{EXTRACTOR_VERSION}"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_MEDIA_TYPE = "application/vnd.ms-excel"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Grid = list[list[str | None]]
Merge = tuple[int, int, int, int]  # first row, first col, last row, last col; 0-based, inclusive


def extract_spreadsheet(data: bytes, *, sha256: str, filename: str | None = None) -> ExtractedDocument:
    """Every non-empty sheet as a RawTable (``note`` names the sheet), text = cells row by row.

    Portals often serve an HTML table saved as ".xls"; such a file is read as HTML.
    """
    if not data:
        raise ExtractionError(f"empty spreadsheet{_named(filename)}")
    if data.startswith(b"PK"):
        sheets, media_type, method = _xlsx_sheets(data, filename), XLSX_MEDIA_TYPE, "xlsx"
    elif data.startswith(_OLE2_MAGIC):
        sheets, media_type, method = _xls_sheets(data, filename), XLS_MEDIA_TYPE, "xls"
    elif b"<table" in data[:200_000].lower():
        from ogi.extract.html_tables import extract_html

        doc = extract_html(data, sha256=sha256)
        doc.warnings.append(f"spreadsheet{_named(filename)} is an HTML table; read as HTML")
        return doc
    else:
        suffix = PurePosixPath(filename or "").suffix.lower() or "(none)"
        raise ExtractionError(
            f"not a spreadsheet{_named(filename)}: neither an .xlsx (zip) nor an .xls (OLE2) file "
            f"(extension {suffix}, starts with {data[:8]!r})"
        )
    tables: list[RawTable] = []
    text_lines: list[str] = []
    for name, grid in sheets:
        grid = _trim(grid)
        if not grid:
            continue
        tables.append(RawTable(index=len(tables), rows=grid, method=method, note=f"sheet {name}"))
        for row in grid:
            line = "\t".join(c or "" for c in row).strip()
            if line:
                text_lines.append(line)
    return ExtractedDocument(
        sha256=sha256,
        media_type=media_type,
        tables=tables,
        text="\n".join(text_lines),
        extractor=XLSX_EXTRACTOR,
    )


def _named(filename: str | None) -> str:
    return f" ({filename})" if filename else ""


def _grid(n_rows: int, n_cols: int, value_at, merges: Iterable[Merge]) -> Grid:
    grid: Grid = [[value_at(r, c) for c in range(n_cols)] for r in range(n_rows)]
    for r0, c0, r1, c1 in merges:
        for r in range(max(r0, 0), min(r1, n_rows - 1) + 1):
            for c in range(max(c0, 0), min(c1, n_cols - 1) + 1):
                if (r, c) != (r0, c0):
                    grid[r][c] = None
    return grid


def _trim(grid: Grid) -> Grid:
    """Drop empty rows and columns around the content: formatting inflates the used range, and
    .xls sheets always start at A1. Leading rows/columns go only when wholly "" (not covered)."""
    while grid and not any(grid[-1]):
        grid.pop()
    while grid and all(v == "" for v in grid[0]):
        grid.pop(0)
    if not grid:
        return grid
    width = max((c + 1 for row in grid for c, v in enumerate(row) if v), default=0)
    first = 0
    while first < width and all(row[first] == "" for row in grid):
        first += 1
    return [row[first:width] for row in grid] if width else []


# ------------------------------------------------------------------ .xlsx


def _xlsx_sheets(data: bytes, filename: str | None) -> list[tuple[str, Grid]]:
    """Sheets read in openpyxl's streaming mode: cells as the file stores them, never the
    rectangle a sheet's declared dimension (or its merges) would make openpyxl fill in. The
    content's bounding box and the merged ranges are checked against the table-size limit before
    the grid is built."""
    import openpyxl

    check_zip(data, f"spreadsheet{_named(filename)}")
    try:
        merges_by_part = _scan_sheet_parts(data)
        with warnings.catch_warnings():  # "extension is not supported" noise on WPS/Excel extras
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except LimitExceeded:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(f"not a readable .xlsx file{_named(filename)}: {exc}") from exc
    except Exception as exc:  # openpyxl raises InvalidFileException and XML errors on bad parts
        raise ExtractionError(
            f"not a readable .xlsx file{_named(filename)}: {type(exc).__name__}: {exc}"
        ) from exc
    sheets = []
    try:
        for ws in wb.worksheets:
            try:
                ranges = merges_by_part.get(str(getattr(ws, "_worksheet_path", "")).lstrip("/"), [])
                values = _sheet_values(ws)
                if not values:
                    continue
            except LimitExceeded:
                raise
            except Exception as exc:  # XML errors (entities, bad markup) surface while streaming
                raise ExtractionError(
                    f"not a readable .xlsx file{_named(filename)}: sheet {ws.title}: {type(exc).__name__}: {exc}"
                ) from exc
            r_off = min(r for r, _ in values)
            c_off = min(c for _, c in values)
            n_rows = max(r for r, _ in values) - r_off + 1
            n_cols = max(c for _, c in values) - c_off + 1
            merges = [(r0 - r_off, c0 - c_off, r1 - r_off, c1 - c_off) for r0, c0, r1, c1 in ranges]

            def value_at(r: int, c: int, values=values, r_off=r_off, c_off=c_off) -> str:
                return values.get((r + r_off, c + c_off), "")

            sheets.append((ws.title, _grid(n_rows, n_cols, value_at, merges)))
    finally:
        wb.close()
    return sheets


def _sheet_values(ws) -> dict[tuple[int, int], str]:
    """(row, column) → printed value of every cell holding one, 1-based. Stops as soon as the
    cells' bounding box would exceed the table-size limit (styling alone can stretch a sheet's
    used range to 1,048,576 rows; a stray value in a far corner stretches the content's)."""
    ws.reset_dimensions()  # the declared dimension is not trusted: rows are read as stored
    values: dict[tuple[int, int], str] = {}
    r_min = c_min = 1 << 30
    r_max = c_max = 0
    for row in ws.iter_rows():
        for cell in row:
            value = getattr(cell, "value", None)
            if value is None:
                continue
            text = format_value(value, getattr(cell, "number_format", ""))
            if not text:
                continue
            r, c = cell.row, cell.column
            r_min, r_max, c_min, c_max = min(r_min, r), max(r_max, r), min(c_min, c), max(c_max, c)
            area = (r_max - r_min + 1) * (c_max - c_min + 1)
            if area > limits.current().max_table_cells:
                span = f"{_ref(r_min, c_min)}:{_ref(r_max, c_max)}"
                limits.check_cells(area, f"sheet {ws.title}: its content from {span}")
            values[(r, c)] = text
    return values


_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_MERGE_TAG = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]{0,200}?\bref=[\"']([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)[\"']")


def _scan_sheet_parts(data: bytes) -> dict[str, list[Merge]]:
    """Each worksheet part's merged ranges (1-based, inclusive), by part name, read from the raw
    XML chunk by chunk before openpyxl sees it. Refuses a sheet that stores more cells than a
    table may have, or whose merges expand past that: openpyxl would otherwise spend minutes on
    a million stored rows (even to find the sheet's size) or fill in every merged position, and
    streaming worksheets do not keep merges at all."""
    from openpyxl.utils.cell import range_boundaries

    out: dict[str, list[Merge]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            cells, refs = 0, []
            with zf.open(info) as src:
                buf = b""
                while chunk := src.read(1 << 20):
                    buf += chunk
                    cut = max(0, len(buf) - 300)  # a tag across the cut is counted in the next round
                    cells += sum(1 for m in _CELL_TAG.finditer(buf) if m.start() < cut)
                    refs += [m.group(1) for m in _MERGE_TAG.finditer(buf) if m.start() < cut]
                    buf = buf[cut:]
                cells += len(_CELL_TAG.findall(buf))
                refs += _MERGE_TAG.findall(buf)
            part = info.filename
            limits.check_cells(cells, f"sheet {part}", verb=f"stores {cells:,} cells;")
            ranges: list[Merge] = []
            for ref in refs:
                try:
                    c0, r0, c1, r1 = range_boundaries(ref.decode("ascii").upper())
                except (ValueError, TypeError):
                    continue
                if c0 is not None and r0 is not None and c1 is not None and r1 is not None:
                    ranges.append((r0, c0, r1, c1))
            _check_merges(part, ranges)
            out[part] = ranges
    return out


def _check_merges(sheet: str, merges: list[Merge]) -> None:
    """Each merged range, and all of them together, must expand to no more cells than a table may
    have (one merge over a whole sheet is 17 G cells; 2,000 full-width merges 33 M)."""
    total = 0
    for r0, c0, r1, c1 in merges:
        area = (r1 - r0 + 1) * (c1 - c0 + 1)
        if area > limits.current().max_table_cells:
            limits.check_cells(area, f"sheet {sheet}: merged range {_ref(r0, c0)}:{_ref(r1, c1)}")
        total += area
    limits.check_cells(total, f"sheet {sheet}: its {len(merges):,} merged ranges", verb="expand to")


def _ref(r: int, c: int) -> str:
    """A1-style reference of a cell (1-based row and column)."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(c)}{r}" if 1 <= c <= 18278 else f"R{r}C{c}"


# ------------------------------------------------------------------ .xls


def _xls_sheets(data: bytes, filename: str | None) -> list[tuple[str, Grid]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except NotImplementedError:
        book = None
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error, ...
        raise ExtractionError(
            f"not a readable .xls file{_named(filename)}: {type(exc).__name__}: {exc}"
        ) from exc
    if book is None:  # formatting (hence merge) records unsupported for this file
        try:
            book = xlrd.open_workbook(file_contents=data, on_demand=True)
        except Exception as exc:
            raise ExtractionError(
                f"not a readable .xls file{_named(filename)}: {type(exc).__name__}: {exc}"
            ) from exc
    sheets = []
    try:
        for i in range(book.nsheets):
            sh = book.sheet_by_index(i)
            if sh.nrows == 0 or sh.ncols == 0:
                continue

            def value_at(r: int, c: int, sh=sh) -> str:
                if c >= sh.row_len(r):
                    return ""
                return _xls_value(sh.cell(r, c), book)

            limits.check_cells(sh.nrows * sh.ncols, f"sheet {sh.name}: {sh.nrows:,} rows × {sh.ncols:,} columns")
            merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in getattr(sh, "merged_cells", [])]
            _check_merges(sh.name, [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for r0, c0, r1, c1 in merges])
            sheets.append((sh.name, _grid(sh.nrows, sh.ncols, value_at, merges)))
    finally:
        book.release_resources()
    return sheets


def _xls_value(cell, book) -> str:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        fmt = ""
        if book.formatting_info and cell.xf_index is not None:
            xf = book.xf_list[cell.xf_index]
            fmt_obj = book.format_map.get(xf.format_key)
            fmt = fmt_obj.format_str if fmt_obj else ""
        return format_value(cell.value, fmt)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return format_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode), "")
        except (ValueError, OverflowError):
            return format_value(cell.value, "")
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return format_value(cell.value, "")


# ------------------------------------------------------------------ values


def format_value(value, number_format: str | None = "") -> str:
    """A cell value as the sheet prints it (near enough): 12.0 → "12", 0.25 with "0%" → "25%"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if number_format and "%" in number_format:
            return _number(value * 100) + "%"
        return _number(value)
    text = str(value).translate(INVISIBLE_CHARS)
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _number(x: float) -> str:
    x = round(x, 10)  # binary noise from the *100 above or from formulas: 0.30000000000000004
    if x == int(x):
        return str(int(x))
    s = repr(x)
    if "e" in s or "E" in s:
        s = f"{x:.10f}".rstrip("0").rstrip(".")
    return s
