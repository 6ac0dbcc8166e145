"""``ogi sql`` is read-only for real: every way a query could write, read a file, reach the network,
load an extension or re-attach the live file read-write fails with one line, and nothing changes.

Each attack runs through the real command line in its own process, against a real database; then
the facts, the database files' bytes, an archived document's bytes and the directory listing are
compared with what they were."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.storedb import make_home

OGI = [sys.executable, "-m", "ogi"]


def _attacks(home: Path, archived: Path, out: Path) -> dict[str, str]:
    live = home / "ogi.duckdb"
    return {
        "copy_to": f"COPY facts TO '{out / 'facts.csv'}'",
        "copy_over_archive": f"COPY (SELECT 'x') TO '{archived}' (FORMAT csv)",
        "export_database": f"EXPORT DATABASE '{out / 'dump'}'",
        "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
        "read_archive": f"SELECT * FROM read_blob('{archived}')",
        "glob": "SELECT * FROM glob('/etc/*')",
        "install_httpfs": "INSTALL httpfs",
        "load_httpfs": "LOAD httpfs",
        "url": "SELECT * FROM 'https://example.invalid/x.csv'",
        "attach_write": (f"ATTACH '{out / 'x.db'}' AS x (READ_ONLY false); USE x; DETACH ogi; "
                         f"ATTACH '{live}' AS rw (READ_ONLY false); DELETE FROM rw.facts"),
        "attach_live": f"ATTACH '{live}' AS rw (READ_ONLY false); DELETE FROM rw.facts",
        "unlock": "SET enable_external_access = true; COPY facts TO '{}'".format(out / "again.csv"),
        "unlock_config": "SET lock_configuration = false",
        "reset_config": "RESET enable_external_access",
        "delete": "DELETE FROM facts",
        "drop": "DROP VIEW facts_labeled",
        "temp_dir": f"SET temp_directory = '{out}'",
    }


def _state(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content hash."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _facts(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM facts").fetchall()[0][0]
    finally:
        con.close()


def _sql(home: Path, query: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OGI_HOME": str(home)}
    return subprocess.run([*OGI, "sql", "--csv", query], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module", params=["snapshot", "live-file"])
def setup(request, tmp_path_factory):
    """A loaded home (with its published snapshot, or without: ogi sql then opens the live file),
    an archived document and an empty directory an attack would write into."""
    root = tmp_path_factory.mktemp(f"sqlro-{request.param}")
    home = make_home(root / "home", publish=request.param == "snapshot")
    archived = home / "archive" / "ab" / "abcdef"
    archived.parent.mkdir(parents=True)
    archived.write_bytes(b"%PDF-1.4 archived report bytes")
    out = root / "out"
    out.mkdir()
    return request.param, root, home, archived, out


ATTACK_NAMES = list(_attacks(Path("h"), Path("a"), Path("o")))


@pytest.mark.parametrize("attack", ATTACK_NAMES)
def test_attack_fails_and_changes_nothing(setup, attack):
    kind, root, home, archived, out = setup
    expected = (home / "snapshot" / "ogi.duckdb") if kind == "snapshot" else home / "ogi.duckdb"
    assert expected.is_file()
    before, facts = _state(root), _facts(home / "ogi.duckdb")
    done = _sql(home, _attacks(home, archived, out)[attack])
    err = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert len(err) == 1 and err[0].startswith("ogi sql: ") and "Traceback" not in done.stderr, err
    assert done.stdout == ""
    assert _state(root) == before  # no file written, none changed (databases, archive, out/)
    assert _facts(home / "ogi.duckdb") == facts == 100
    assert not list(out.iterdir())


def test_permission_errors_say_why(setup):
    _kind, _root, home, archived, out = setup
    done = _sql(home, f"COPY facts TO '{out / 'f.csv'}'")
    assert "file system operations are disabled" in done.stderr
    assert "reads the database's tables and views only" in done.stderr


def test_selects_and_views_still_work(setup):
    _kind, _root, home, _archived, _out = setup
    done = _sql(home, "SELECT count(*) AS n FROM facts_labeled")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "100"]
    done = _sql(home, "SELECT count(*) AS n FROM ogi.facts; CREATE TEMP TABLE t AS SELECT 1 AS one; "
                      "SELECT one AS s FROM t")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["s", "1"]
