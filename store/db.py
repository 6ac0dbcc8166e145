"""The thin storage layer: open the one DuckDB file and keep its schema and reference tables current.

DuckDB allows one writing process per file, so only the flow's loader opens it read-write. Readers
never touch that file while a night runs: after each successful load the writer publishes a copy
(``publish_snapshot``), and analysts, exports, reports and releases open the copy read-only
(``reader_path``). ``ogi sql`` opens it locked down as well (``analyst_connect``): no file, network
or extension access, configuration locked, so a query cannot write or read anything but the tables.

The file is written in DuckDB's v1.0 storage format (``STORAGE_COMPATIBILITY``), which every DuckDB
1.x client (Python, R, the CLI, DBeaver …) can open; duckdb 2.0's own default format cannot be read
by them. A file created earlier in the newer format is converted once, when the writer opens it.
"""

from __future__ import annotations

import os
import shutil
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


# The analyst's connection: read-only, and no access outside the database file. Without these an
# arbitrary query could COPY … TO any path, read any file (read_csv('/etc/passwd')), INSTALL/LOAD
# extensions (httpfs) or ATTACH the live file read-write; ``lock_configuration`` keeps the query
# from switching them back on.
ANALYST_CONFIG: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def snapshot_path(db_path: Path) -> Path:
    """Where the published read-only copy of ``db_path`` lives: a folder beside it, the same file
    name, so the copy's catalog is still called ``ogi`` (queries naming ``ogi.facts`` keep working)."""
    return Path(db_path).parent / "snapshot" / Path(db_path).name


def reader_path(db_path: Path) -> Path:
    """The file readers open: the published snapshot, else (never published) the live file."""
    snap = snapshot_path(db_path)
    return snap if snap.exists() else Path(db_path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_path: Path) -> Path:
    """Checkpoint the writer's database and publish a copy of the file for readers, atomically.

    The copy is written beside the snapshot under a temporary name, flushed to disk, then renamed
    over it: a reader that has the old snapshot open keeps reading the old file (its inode lives on
    until it closes), a new reader gets the whole new file, and the writer is never blocked by
    either. Called between loads only (no statement runs on ``con`` meanwhile).
    """
    con.execute("CHECKPOINT")  # everything in the main file, the write-ahead log empty
    snap = snapshot_path(db_path)
    snap.parent.mkdir(parents=True, exist_ok=True)
    # copies a killed publisher left half-written (the run lock makes this process the only publisher)
    for stale in snap.parent.glob(f".{snap.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    tmp = snap.with_name(f".{snap.name}.{os.getpid()}.tmp")
    try:
        with open(db_path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, snap)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(snap.parent)
    return snap


def _missing(db_path: Path) -> FileNotFoundError:
    return FileNotFoundError(f"{db_path}: no database yet — run the pipeline first (ogi demo / ogi nightly)")


def analyst_connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection for arbitrary queries (``ogi sql``): the snapshot if published, and
    nothing reachable but its tables and views (see ``ANALYST_CONFIG``)."""
    path = reader_path(db_path)
    if not path.exists():
        raise _missing(db_path)
    con = duckdb.connect(str(path), read_only=True, config=dict(ANALYST_CONFIG))
    con.execute("SET lock_configuration = true")
    return con


def _creating_path(db_path: Path) -> Path:
    return Path(db_path).with_name(f".{Path(db_path).name}.creating")


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing of the schema in one transaction: a kill half-way leaves the file as it
    was (DuckDB's write-ahead log rolls the unfinished transaction back), never half a schema."""
    con.execute("BEGIN")
    try:
        con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _create(db_path: Path) -> None:
    """Create a new database file under a temporary name — the schema in it, checkpointed,
    flushed — and only then link it to ``db_path``: a kill -9 during creation leaves
    no file at ``db_path`` (the next run starts over), never a file without tables. A temporary
    file a killed creation left is removed first."""
    tmp = _creating_path(db_path)
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = _open_writer(tmp)
    try:
        _apply_schema(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    try:
        os.link(tmp, db_path)  # never over a file another writer created meanwhile
    except FileExistsError:
        pass  # theirs stands; ours is dropped
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(Path(db_path).parent)


def connect(db_path: Path, *, read_only: bool = False, memory_mb: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and make sure the schema exists.

    ``read_only``: open what readers read (``reader_path``: the snapshot when published), never
    creating anything. A new file appears complete or not at all (``_create``); an existing one
    missing tables (created by an older version and killed, or older than the schema) gets them here.
    ``memory_mb``: DuckDB's memory limit for this connection (by default 80 % of the machine's RAM,
    which its buffer cache fills as the tables grow; past the limit it spills to ``<db>.tmp``).
    """
    if read_only:
        path = reader_path(db_path)
        if not path.exists():
            raise _missing(db_path)
        return duckdb.connect(str(path), read_only=True)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    if not Path(db_path).exists():
        _create(Path(db_path))
    con = _open_writer(db_path)
    if not storage_version(con).startswith(STORAGE_COMPATIBILITY):  # type: ignore[union-attr]
        con.close()
        _convert_storage(Path(db_path))
        con = _open_writer(db_path)
    if memory_mb:
        con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
    _apply_schema(con)
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
    """(Re)create the analyst views, then comment every table, view and column from the data
    dictionary (a recreated view loses its comments)."""
    from ogi.store.dictionary import apply_comments

    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
    apply_comments(con)
