"""A night that changes nothing leaves the CSV exports as they are; anything that would change them,
or a missing file, exports again (the demo's two nights, the session fixture ``demo_runs``)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from ogi.core.config import Settings
from ogi.flows.nightly import EXPORT_FILES, _export_current, export_inputs
from ogi.store.db import connect


def test_a_night_that_changes_nothing_skips_the_export_and_keeps_the_files(demo_runs):
    home, first, second = demo_runs
    settings = Settings.from_env_with_home(home)
    assert set(first["export"]) == set(EXPORT_FILES)  # the first night exported
    assert second["nothing_changed"]
    assert "unchanged, skipped" in second["export"]["skipped"], second["export"]
    assert second["export_inputs"] == first["export_inputs"]
    con = connect(settings.db_path, read_only=True)
    try:
        second_started = con.execute("SELECT started_at FROM runs WHERE run_id = ?",
                                     [second["run_id"]]).fetchone()[0]
        for name in EXPORT_FILES:
            path = settings.export_dir / f"{name}.csv"
            assert path.stat().st_size > 0
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
            assert written < second_started, f"{name}.csv was rewritten by the no-change night"
        # what the snapshot holds is what the second night fingerprinted
        inputs = export_inputs(con)
        assert inputs == second["export_inputs"]
        assert _export_current(con, settings.export_dir, {"unchanged": ["x"]}, inputs)
        # a changed document, a changed input or a missing file: export again
        assert not _export_current(con, settings.export_dir, {"replaced": ["x"]}, inputs)
        assert not _export_current(con, settings.export_dir, {"kept": ["x"]}, inputs)
        assert not _export_current(con, settings.export_dir, {}, "0" * 64)
    finally:
        con.close()


def test_a_missing_export_file_is_exported_again(demo_runs, tmp_path):
    home, _, second = demo_runs
    export = tmp_path / "export"
    shutil.copytree(Settings.from_env_with_home(home).export_dir, export)
    con = connect(Settings.from_env_with_home(home).db_path, read_only=True)
    try:
        assert _export_current(con, export, {}, second["export_inputs"])
        (export / "unplaced.csv").unlink()
        assert not _export_current(con, export, {}, second["export_inputs"])
    finally:
        con.close()
