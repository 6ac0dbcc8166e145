"""One nightly run per home: a second is refused naming the holder; a killed holder's lock is free,
and the run it left ``running`` is marked ``interrupted`` at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import duckdb
import pytest

from ogi.store import loader
from ogi.store.db import connect
from ogi.store.runlock import RunLocked, run_lock

HOLDER = """
import sys, time
from pathlib import Path
from ogi.store.runlock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_second_run_refused_then_free_after_kill(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked) as info, run_lock(tmp_path):
            pass
        msg = str(info.value)
        assert f"pid {holder.pid} on " in msg and "since 20" in msg and str(tmp_path / "ogi.lock") in msg
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run_lock(tmp_path):  # the dead holder's lock is free
        assert f"pid {os.getpid()} " in (tmp_path / "ogi.lock").read_text()


def test_run_left_running_is_marked_interrupted(tmp_path):
    db = tmp_path / "ogi.duckdb"
    con = connect(db)
    loader.start_run(con, "killed", "ogi-nightly")
    con.close()
    con = connect(db)
    loader.start_run(con, "next", "ogi-nightly")
    con.close()
    rows = dict(duckdb.connect(str(db), read_only=True).execute("SELECT run_id, status FROM runs").fetchall())
    assert rows == {"killed": "interrupted", "next": "running"}
