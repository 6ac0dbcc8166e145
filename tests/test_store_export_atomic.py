"""The export is one set: replaced as a whole, never new files beside old ones presented as one export;
what a killed export leaves is cleared or, when it is the only complete set, moved into place. The
database appears with its schema or not at all. (tests/test_crash.py kills real nights; these tests
build each leftover a kill can leave and check what the next run makes of it.)"""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from ogi.store import loader
from ogi.store.db import connect
from ogi.store.export import ExportFilter, IncompleteExport, export_all, verify_export
from tests.storedb import document, make_home


@pytest.fixture()
def home(tmp_path):
    return make_home(tmp_path / "home", n_docs=4)


def _con(home):
    return connect(home / "ogi.duckdb", read_only=True)


def _add_document(home, i):
    con = connect(home / "ogi.duckdb")
    loader.load_document(con, *document(i), "run-2")
    con.close()


def test_a_second_export_replaces_the_whole_set(home, tmp_path):
    out = tmp_path / "export"
    export_all(_con(home), out)
    first = verify_export(out)
    _add_document(home, 9)
    con = connect(home / "ogi.duckdb")  # the live file: the snapshot is the previous night's
    export_all(con, out)
    con.close()
    second = verify_export(out)
    assert second["files"]["facts.csv"]["rows"] == first["files"]["facts.csv"]["rows"] + 20
    assert sorted(p.name for p in out.iterdir()) == ["checks.csv", "codebook.csv", "facts.csv", "manifest.json",
                                                       "unplaced.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export.")]  # the old set is gone
    assert second["run"]["run_id"] == "run-1" and second["filter"] == ""


def test_a_mixed_set_is_not_a_complete_export(home, tmp_path):
    """What kill -9 left before: the new facts.csv beside the previous export's siblings."""
    old, new = tmp_path / "old", tmp_path / "new"
    export_all(_con(home), old)
    _add_document(home, 9)
    con = connect(home / "ogi.duckdb")
    export_all(con, new)
    con.close()
    shutil.copy(new / "facts.csv", old / "facts.csv")
    with pytest.raises(IncompleteExport, match="facts.csv: .* not the export the manifest describes"):
        verify_export(old)
    (new / "manifest.json").unlink()
    with pytest.raises(IncompleteExport, match="no manifest.json"):
        verify_export(new)


def test_leftovers_of_a_killed_export_are_cleared_or_completed(home, tmp_path):
    out = tmp_path / "export"
    export_all(_con(home), out)
    # killed while staging (half a set), and killed between the two renames of the fallback swap
    # (no export directory, the complete new set beside it)
    half = tmp_path / ".export.stage-killed1"
    half.mkdir()
    (half / "facts.csv").write_text("agency_id\n")
    os.rename(out, tmp_path / ".export.stage-killed2")
    export_all(_con(home), tmp_path / "other")  # another directory's export leaves these alone
    assert half.exists() and not out.exists()
    from ogi.store.export import recover_export

    recover_export(out)
    assert verify_export(out) and not half.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export.")]


def test_a_folder_holding_other_files_keeps_them(home, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    export_all(_con(home), out, ExportFilter(years=(2020,)))
    assert (out / "notes.txt").read_text() == "mine"
    manifest = verify_export(out)
    assert manifest["filter"] == "--year 2020"
    assert json.loads((out / "manifest.json").read_text())["files"].keys() == manifest["files"].keys()


def test_database_creation_leaves_no_file_without_tables(tmp_path):
    db = tmp_path / "ogi.duckdb"
    # a creation killed half-way: its temporary file (and log) beside, nothing at the final name
    duckdb.connect(str(tmp_path / ".ogi.duckdb.creating")).close()
    (tmp_path / ".ogi.duckdb.creating.wal").write_bytes(b"torn")
    con = connect(db)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert {"runs", "documents", "facts", "checks", "unplaced"} <= tables
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ogi.duckdb"]


def test_a_file_an_older_version_left_without_tables_is_completed(tmp_path):
    db = tmp_path / "ogi.duckdb"
    duckdb.connect(str(db), config={"storage_compatibility_version": "v1.0.0"}).close()  # killed before its schema
    con = connect(db)
    assert con.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]
    con.close()
