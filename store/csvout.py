"""CSV for researchers, written by DuckDB COPY: UTF-8 with a BOM (Excel shows the Chinese labels;
pandas, R and DuckDB read the BOM transparently), integral numbers without ``.0``, timestamps in
ISO 8601 UTC, empty cells for NULL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from ogi.core.atomic import atomic_file

BOM = "\ufeff".encode()
COPY_CSV = "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULL '')"


def csv_expr(name: str, dtype: str) -> str:
    """How one column is written: integral numbers without '.0', timestamps as ISO 8601 UTC."""
    q = f'"{name}"'
    t = dtype.upper()
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return (f"CASE WHEN {q} = trunc({q}) AND abs({q}) < 1e15 THEN CAST(CAST({q} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({q} AS VARCHAR) END AS {q}")
    if t.startswith("TIMESTAMP"):
        return f"strftime({q}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {q}"
    if t.endswith("]") or t.startswith(("STRUCT", "MAP")):
        return f"CAST({q} AS VARCHAR) AS {q}"
    return q


def columns(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {query}", params or []).fetchall()]


def copy_csv(con: duckdb.DuckDBPyConnection, query: str, params: list | None, path: Path) -> int:
    """Write the query's rows to ``path`` (atomically); return the number of rows."""
    path = Path(path)
    select = ", ".join(csv_expr(n, t) for n, t in columns(con, query, params))
    tmp = path.with_name(f".{path.name}.nobom")
    try:
        rows = int(con.execute(f"COPY (SELECT {select} FROM ({query})) TO '{tmp}' {COPY_CSV}",
                               params or []).fetchall()[0][0])
        with atomic_file(path, "wb") as out, open(tmp, "rb") as src:
            out.write(BOM)
            shutil.copyfileobj(src, out, 1 << 20)
    finally:
        tmp.unlink(missing_ok=True)
    return rows
