"""The thin storage layer: open the one DuckDB file and keep its schema and reference tables current.

DuckDB allows one writing process per file, so only the flow's loader opens it read-write; analysts'
queries (``ogi sql``) open it read-only.

The file is written in DuckDB's v1.0 storage format (``STORAGE_COMPATIBILITY``), which every DuckDB
1.x client (Python, R, the CLI, DBeaver …) can open; duckdb 2.0's own default format cannot be read
by them. A file created earlier in the newer format is converted once, when the writer opens it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path

import duckdb
import pandas as pd

SCHEMA_SQL = files("ogi.store") / "schema.sql"
VIEWS_SQL = files("ogi.store") / "views.sql"
# The oldest storage format DuckDB 1.x reads (v1.0.0 also reads everything 1.1–1.4 wrote).
STORAGE_COMPATIBILITY = "v1.0.0"


def storage_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The storage format of the connection's main database file, as DuckDB reports it."""
    rows = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchall()
    return rows[0][0] if rows else None


def _open_writer(db_path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db_path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})


def _convert_storage(db_path: Path) -> None:
    """Rewrite a file of a newer storage format in the 1.x-readable one, keeping every row.

    The copy is written beside the file, its row counts compared with the original's, and only
    then renamed over it: a failure leaves the original untouched.
    """
    tmp = db_path.with_name(db_path.name + ".v1-convert")
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"ATTACH '{tmp}' AS converted (STORAGE_VERSION '{STORAGE_COMPATIBILITY}')")
        con.execute(f"COPY FROM DATABASE \"{con.execute('SELECT current_database()').fetchall()[0][0]}\" TO converted")
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
        for t in tables:
            a = con.execute(f'SELECT count(*) FROM "{t}"').fetchall()
            b = con.execute(f'SELECT count(*) FROM converted."{t}"').fetchall()
            if a != b:
                raise RuntimeError(f"{db_path}: storage conversion lost rows of {t} ({a} → {b}); original kept")
        con.execute("DETACH converted")
    finally:
        con.close()
    os.replace(tmp, db_path)


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and make sure the schema exists."""
    if read_only:
        if not Path(db_path).exists():
            raise FileNotFoundError(f"{db_path}: no database yet — run the pipeline first (ogi demo / ogi nightly)")
        return duckdb.connect(str(db_path), read_only=True)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    con = _open_writer(db_path)
    if not storage_version(con).startswith(STORAGE_COMPATIBILITY):  # type: ignore[union-attr]
        con.close()
        _convert_storage(Path(db_path))
        con = _open_writer(db_path)
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    return con


# What an analyst's `ogi sql` may not do: touch files (COPY TO, EXPORT DATABASE, read_csv of any
# path, ATTACH another database read-write), install or load extensions, or change these settings
# back. DuckDB's own sandbox, so that every way in (table functions, COPY, ATTACH, INSTALL) is
# closed by one switch rather than by a list of statements we would have to keep complete.
ANALYST_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def connect_analyst(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection for ad-hoc queries: it can read the database and nothing else."""
    if not Path(db_path).exists():
        raise FileNotFoundError(f"{db_path}: no database yet — run the pipeline first (ogi demo / ogi nightly)")
    return duckdb.connect(str(db_path), read_only=True, config=dict(ANALYST_CONFIG))  # type: ignore[arg-type]


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
    """(Re)create the analyst views, then comment every table, view and column from the data
    dictionary (a recreated view loses its comments)."""
    from ogi.store.dictionary import apply_comments

    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
    apply_comments(con)
