"""The thin storage layer: open the one DuckDB file and keep its schema and reference tables current.

DuckDB allows one writing process per file, so only the flow's loader opens it read-write; analysts'
queries (``ogi sql``) open it read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path

import duckdb
import pandas as pd

SCHEMA_SQL = files("ogi.store") / "schema.sql"
VIEWS_SQL = files("ogi.store") / "views.sql"


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and make sure the schema exists."""
    if read_only:
        if not Path(db_path).exists():
            raise FileNotFoundError(f"{db_path}: no database yet — run the pipeline first (ogi demo / ogi nightly)")
        return duckdb.connect(str(db_path), read_only=True)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    return con


def replace_table(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Mapping]) -> int:
    """Replace a reference table's content with ``rows`` (dicts keyed by column name)."""
    df = pd.DataFrame(list(rows))
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    for c in cols:
        if c not in df.columns:
            df[c] = None
    df = df[cols]
    con.execute("BEGIN")
    try:
        con.execute(f"DELETE FROM {table}")
        if len(df):
            con.register("_incoming", df)
            con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
            con.unregister("_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(df)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the analyst views; they depend on reference tables loaded by the flow."""
    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
