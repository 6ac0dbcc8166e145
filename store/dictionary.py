"""The one data dictionary (``data/dictionary.csv``): what every table, view, release file and
column holds. It feeds the DuckDB COMMENTs and the release's ``datapackage.json``; nothing else
describes them.

Rows are (object, column, unit, description). A row with an empty column describes the object
itself. Release files are objects named ``release.<resource>``. A column described once under
object ``*`` is described so wherever it appears, unless the object has its own row for it.
Series (the panel's variables, the wide panel's columns) are described by the crosswalk.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

import duckdb

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text

ANY = "*"


@dataclass(frozen=True)
class Entry:
    object: str
    column: str
    unit: str
    description: str


class Dictionary:
    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self._by_key = {(e.object, e.column): e for e in entries}

    def entry(self, obj: str, column: str = "") -> Entry | None:
        hit = self._by_key.get((obj, column))
        if hit is None and column:
            hit = self._by_key.get((ANY, column))
        return hit

    def describe(self, obj: str, column: str = "") -> str | None:
        e = self.entry(obj, column)
        return e.description if e else None

    def unit(self, obj: str, column: str = "") -> str | None:
        e = self.entry(obj, column)
        return (e.unit or None) if e else None


@cache
def load_dictionary() -> Dictionary:
    with open_text(DATA_DIR / "dictionary.csv") as fh:
        rows = list(csv.DictReader(fh))
    entries = [Entry(r["object"].strip(), (r.get("column") or "").strip(), (r.get("unit") or "").strip(),
                     " ".join((r.get("description") or "").split())) for r in rows]
    keys = [(e.object, e.column) for e in entries]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"data/dictionary.csv: described twice: {dupes}")
    return Dictionary(entries)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def db_objects(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """name → (TABLE or VIEW, columns in order) of the main database's own tables and views."""
    kinds = {r[0]: "TABLE" for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary"
    ).fetchall()}
    kinds |= {r[0]: "VIEW" for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal "
        "AND NOT temporary").fetchall()}
    cols: dict[str, list[str]] = {}
    for name, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY table_name, column_index"
    ).fetchall():
        cols.setdefault(name, []).append(column)
    return {n: (k, cols.get(n, [])) for n, k in sorted(kinds.items())}


def apply_comments(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT ON every table, view and column the dictionary describes (a writer connection)."""
    d = load_dictionary()
    for name, (kind, columns) in db_objects(con).items():
        text = d.describe(name)
        if text:
            con.execute(f'COMMENT ON {kind} "{name}" IS {_quote(text)}')
        for c in columns:
            text = d.describe(name, c)
            if text:
                unit = d.unit(name, c)
                con.execute(f'COMMENT ON COLUMN "{name}"."{c}" IS {_quote(text + (f" [{unit}]" if unit else ""))}')
