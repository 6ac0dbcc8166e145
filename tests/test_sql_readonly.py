"""`ogi sql` is read-only for real: every way DuckDB has to write a file, read one, reach another
database or fetch an extension fails with one line, and nothing in the home changes."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pytest

from ogi.cli import main


@pytest.fixture()
def home(demo_runs, tmp_path):
    """A copy of the demo home, so that a test which failed to stop a write harms only itself."""
    copy = tmp_path / "home"
    shutil.copytree(demo_runs[0], copy, ignore=shutil.ignore_patterns("prefect", "*.lock"))
    return copy


def _state(home):
    con = duckdb.connect(str(home / "ogi.duckdb"), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("facts", "documents", "checks")}
    finally:
        con.close()
    files = {p.relative_to(home): hashlib.sha256(p.read_bytes()).hexdigest() for p in home.rglob("*") if p.is_file()}
    return counts, files


def test_reads_work(home, capsys):
    assert main(["--home", str(home), "sql", "--csv", "SELECT count(*) AS n FROM facts"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 0


def test_every_way_out_fails_and_nothing_changes(home, tmp_path, capsys):
    archived = next(p for p in (home / "archive").rglob("*") if p.is_file())
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    attacks = [
        f"COPY facts TO '{archived}'",  # overwrite an archived document
        f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
        f"EXPORT DATABASE '{tmp_path / 'exp'}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"ATTACH '{other}' AS x (READ_ONLY false)",
        f"ATTACH '{home / 'ogi.duckdb'}' AS rw (READ_ONLY false)",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "DELETE FROM facts",
        "DROP VIEW panel",
    ]
    before = _state(home)
    for query in attacks:
        assert main(["--home", str(home), "sql", query]) == 1, query
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("ogi sql: ") and "Traceback" not in err[0], (query, err)
    assert _state(home) == before
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "exp").exists()
