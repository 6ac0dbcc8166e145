"""The small Python API for notebooks: read one report file, open the database.

    >>> import ogi
    >>> report = ogi.extract_file("2024_report.pdf")      # a ParsedReport
    >>> len(report.facts), [c.identity_id for c in report.checks if c.status == "failed"]
    >>> con = ogi.connect()                                 # read-only DuckDB connection
    >>> con.sql("SELECT * FROM facts_labeled LIMIT 5").df()
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from ogi.core.config import Settings
from ogi.core.models import ParsedReport


def extract_file(path: str | os.PathLike[str], *, report_year: int | None = None) -> ParsedReport:
    """Extract, place and check one report file (PDF, HTML, Word, Excel, text) as ``ogi extract`` does.

    Raises ``ogi.core.models.ExtractionError`` (its message names the reason) when the file cannot be
    read at all; a report that reads but does not add up comes back with failed checks.
    """
    from ogi.flows.process import analyse

    p = Path(path)
    data = p.read_bytes()
    return analyse(data, sha256=hashlib.sha256(data).hexdigest(), filename=p.name, report_year=report_year)


def connect(home: str | os.PathLike[str] | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database of ``home`` (default ``$OGI_HOME`` or the per-user data directory), read-only
    unless asked: the nightly loader is the one writer."""
    from ogi.store.db import connect as db_connect

    settings = Settings.from_env_with_home(Path(home)) if home else Settings.from_env()
    return db_connect(settings.db_path, read_only=read_only)
