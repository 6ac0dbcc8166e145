"""Readers never block the night: an analyst holding the published snapshot open does not stop a
second load and publish; the analyst keeps seeing the old data, a new connection sees the new."""

from __future__ import annotations

import subprocess
import sys

from ogi.store import loader
from ogi.store.db import connect, publish_snapshot
from tests.storedb import document, make_home

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("SELECT count(*) FROM facts").fetchall()[0][0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""


def test_reader_holds_old_snapshot_while_writer_publishes(tmp_path):
    home = make_home(tmp_path / "home", n_docs=5)
    snap = home / "snapshot" / "ogi.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snap)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "100"
        con = connect(home / "ogi.duckdb")  # the writer: the reader's open snapshot does not stop it
        try:
            for i in range(5, 10):
                loader.load_document(con, *document(i), "run-2")
            publish_snapshot(con, home / "ogi.duckdb")
        finally:
            con.close()
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "100"  # the old, consistent snapshot
    finally:
        reader.kill()
        reader.wait()
    new = subprocess.run([sys.executable, "-c", "import sys, duckdb; print(duckdb.connect(sys.argv[1], "
                          "read_only=True).execute('SELECT count(*) FROM facts').fetchall()[0][0])", str(snap)],
                         capture_output=True, text=True, timeout=60)
    assert new.stdout.strip() == "200", new.stderr
    assert not [p for p in snap.parent.iterdir() if p.name != "ogi.duckdb"]  # no temporary left
