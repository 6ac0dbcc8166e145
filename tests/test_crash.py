"""kill -9 at every stage of a night, then rerun: the same facts, documents, checks and unplaced values
as a night never interrupted; no half export presented as complete; every killed run marked
interrupted; no process left behind. Two runs at once on one home: one refused, nothing corrupted.

Real subprocesses (``python -m ogi demo`` on the bundled demo sites over loopback), real SIGKILL sent
to the night's main process only (as the OOM killer or ``kill -9 PID`` would), at moments found by
watching the home: the database being created, the archive filling, Prefect's result store filling
(extraction), the write-ahead log growing (loading), the export's staging directory, the published
export, the snapshot's temporary copy. The children report to the session's Prefect server, so no
child pays for a server of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from ogi.store.export import verify_export

TABLES = ("runs", "agencies", "documents", "fetches", "facts", "unplaced", "checks", "expected_reports")
# what two nights over the same sites may differ in: run ids and clocks
VOLATILE = {"run_id", "first_run_id", "last_run_id", "loaded_at", "fetched_at"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nights:
    """Starts nights as forks of ``crash_zygote.py`` (imports paid once), each ``ogi --home H demo``
    in a session of its own; the zygote is their parent and reaps them."""

    def __init__(self, root: Path, port: int):
        from prefect.settings import PREFECT_API_URL

        self.env = {**os.environ, "OGI_DEMO_PORT": str(port), "OGI_BATCH_SIZE": "3", "OGI_EXTRACT_WORKERS": "2",
                    "PREFECT_LOGGING_LEVEL": "ERROR", "PREFECT_API_URL": str(PREFECT_API_URL.value()),
                    "PREFECT_HOME": str(root / "prefect")}
        self.env.pop("OGI_HOME", None)
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_zygote.py"))],
                                     env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _ask(self, req: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the zygote died"
        return json.loads(line)

    def start(self, home: Path, storage: Path, log: Path, command: str = "demo") -> int:
        return self._ask({"op": "start", "argv": ["--home", str(home), command], "env": self.env,
                          "log": str(log), "storage": str(storage)})["pid"]

    def wait(self, pid: int) -> int:
        return self._ask({"op": "wait", "pid": pid})["rc"]

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _exited(pid: int) -> bool:
    """The child ended (a zombie until the zygote reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def _group(pgid: int) -> list[str]:
    """The processes still in the child's process group (its workers, servers …), as 'pid cmdline'."""
    alive = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:160]
                alive.append(f"{d.name} {cmd}")
        except (OSError, ValueError):
            continue
    return alive


def _orphans_after(pgid: int, grace: float = 4.0) -> list[str]:
    """What is left of the group ``grace`` seconds after its leader died (then killed, so the test
    leaves nothing either)."""
    deadline = time.monotonic() + grace
    while (left := _group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        os.killpg(pgid, signal.SIGKILL)
    return left


def _files(root: Path, pattern: str = "*") -> list[Path]:
    return [p for p in root.rglob(pattern) if p.is_file()] if root.is_dir() else []


def _archive_objects(home: Path) -> int:
    return sum(1 for p in _files(home / "archive") if not p.name.startswith("."))


def _results(storage: Path) -> int:
    return len(_files(storage))


def _stage(home: Path, base: dict) -> list[Path]:
    """Staging directories of this night's export (not those a night killed earlier left)."""
    return [p for p in home.glob(".export.stage-*") if p.is_dir() and p.name not in base["stages"]]


def _snapshot_tmp(home: Path, base: dict) -> list[Path]:
    snap = home / "snapshot"
    return [p for p in snap.glob(".ogi.duckdb.*.tmp") if p.name not in base["snapshot_tmp"]] if snap.is_dir() else []


class Point:
    """A kill point: a name, the phase it is in, and when it is reached (given the home and what the
    home looked like when the run started)."""

    def __init__(self, name: str, reached: Callable[[Path, Path, dict], bool]):
        self.name, self.reached = name, reached


def _baseline(home: Path, storage: Path) -> dict:
    wal = home / "ogi.duckdb.wal"
    return {"archive": _archive_objects(home), "results": _results(storage),
            "wal": wal.stat().st_size if wal.exists() else 0, "t0": time.time(),
            "stages": {p.name for p in home.glob(".export.stage-*")},
            "parts": {f.name for f in _files(home / "archive", ".tmp-*.part")},
            "snapshot_tmp": {p.name for p in (home / "snapshot").glob(".ogi.duckdb.*.tmp")}}


def _wal_grew(home: Path, base: dict) -> bool:
    wal = home / "ogi.duckdb.wal"
    try:
        return wal.stat().st_size > base["wal"] + 4096
    except FileNotFoundError:
        return False


def _export_published_now(home: Path, base: dict) -> bool:
    try:
        manifest = json.loads((home / "export" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest["created_at"] >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base["t0"] - 1))


POINTS = [
    Point("db-create: the database file being created",
          lambda h, p, b: (h / ".ogi.duckdb.creating").exists() or (h / "ogi.duckdb").exists()),
    Point("crawl: first report fetched and archived", lambda h, p, b: _archive_objects(h) >= 1),
    Point("archive write: more reports being archived", lambda h, p, b: _archive_objects(h) > b["archive"]
          or bool({f.name for f in _files(h / "archive", ".tmp-*.part")} - b["parts"])),
    Point("extraction: first document result stored", lambda h, p, b: _results(p) > b["results"]),
    Point("loading: results of a batch going into DuckDB",
          lambda h, p, b: _results(p) >= 4 and _wal_grew(h, b)),
    Point("export: staging directory created", lambda h, p, b: bool(_stage(h, b))),
    Point("export: facts.csv written, siblings pending",
          lambda h, p, b: any((s / "facts.csv").exists() for s in _stage(h, b))),
    Point("export published, run not yet finished", lambda h, p, b: _export_published_now(h, b)),
    Point("snapshot: copy being published", lambda h, p, b: bool(_snapshot_tmp(h, b))),
]

# the measured failure: kill -9 during ``ogi export`` left facts.csv beside the previous export's siblings
EXPORT_CLI = Point("ogi export: facts.csv written, siblings pending", POINTS[6].reached)


def _kill_at(point: Point, nights: Nights, home: Path, storage: Path, log: Path, timeout: float = 90,
             command: str = "demo") -> dict:
    base = _baseline(home, storage)
    t0 = time.monotonic()
    pid = nights.start(home, storage, log, command)
    killed = False
    try:
        while not point.reached(home, storage, base):
            if _exited(pid) or time.monotonic() > t0 + timeout:
                break
            time.sleep(0.001)
        else:
            os.kill(pid, signal.SIGKILL)  # the main process only: what it started must go by itself
            killed = True
    finally:
        if not _exited(pid) and not killed:
            os.killpg(pid, signal.SIGKILL)
        rc = nights.wait(pid)
    return {"point": point.name, "killed": killed and rc == -signal.SIGKILL, "rc": rc,
            "s": round(time.monotonic() - t0, 1), "orphans": _orphans_after(pid)}


def _assert_nothing_half(home: Path, label: str) -> dict[str, str]:
    """After a kill: the database has every table or does not exist; an export directory holds one
    complete export (its manifest verifies) or does not exist. Returns the runs recorded (id → status)."""
    db = home / "ogi.duckdb"
    runs: dict[str, str] = {}
    if db.exists():
        con = duckdb.connect(str(db))  # read-write, as the next run opens it (replays the log)
        try:
            have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            if "runs" in have:
                runs = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
        finally:
            con.close()
        assert set(TABLES) <= have, f"{label}: {db} lacks tables {set(TABLES) - have}"
    export = home / "export"
    if export.exists():
        verify_export(export)  # raises IncompleteExport naming what differs
    snap = home / "snapshot" / "ogi.duckdb"
    if snap.exists():
        duckdb.connect(str(snap), read_only=True).execute("SELECT count(*) FROM facts").fetchall()
    return runs


def _rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in VOLATILE]
        sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
        return sorted(con.execute(f"SELECT {sel} FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


def _export_rows(export: Path) -> dict[str, list[str]]:
    return {n: sorted(((export / n).read_text(encoding="utf-8-sig")).splitlines())
            for n in ("facts.csv", "checks.csv", "unplaced.csv", "codebook.csv")}


@pytest.fixture(scope="module")
def nights(prefect_harness, tmp_path_factory):
    """(reference home, crashed-and-rerun home, kill results, concurrency results)."""
    root = tmp_path_factory.mktemp("crash")
    ref, crash = root / "ref", root / "crash"
    t0 = time.monotonic()
    runner = Nights(root, _free_port())
    try:
        # the reference night, and a second night started on the same home while it runs
        first = runner.start(ref, root / "results-ref", root / "ref.log")
        deadline = time.monotonic() + 60
        while not ((ref / "ogi.lock").exists() and (ref / "ogi.lock").read_text().strip()):
            assert not _exited(first) and time.monotonic() < deadline, (root / "ref.log").read_text()
            time.sleep(0.005)
        second = runner.start(ref, root / "results-ref", root / "second.log")
        concurrent = {"rc": runner.wait(second), "stderr": (root / "second.log").read_text(), "first_pid": first}
        assert runner.wait(first) == 0, (root / "ref.log").read_text()
        t_ref = time.monotonic() - t0
        print(f"\nreference night (and the refused one) {t_ref:.1f} s", file=sys.stderr)

        kills = []
        storage = root / "results-crash"
        seen: dict[str, str] = {}
        for point in POINTS:
            kills.append(_kill_at(point, runner, crash, storage, root / "crash.log"))
            runs = _assert_nothing_half(crash, point.name)
            # the run the kill left, as recorded at that moment (None: killed before it was recorded)
            kills[-1]["run"] = next(((r, st) for r, st in runs.items() if r not in seen), None)
            seen = runs
            print(f"kill: {kills[-1]}", file=sys.stderr)
        final = runner.start(crash, storage, root / "final.log")
        assert runner.wait(final) == 0, (root / "final.log").read_text()
        # ``ogi export`` killed half-way through its files: the night's export stays, whole
        before = _export_rows(crash / "export")
        kills.append(_kill_at(EXPORT_CLI, runner, crash, storage, root / "export.log", command="export"))
        print(f"kill: {kills[-1]}", file=sys.stderr)
        _assert_nothing_half(crash, EXPORT_CLI.name)
        assert _export_rows(crash / "export") == before
        again = runner.start(crash, storage, root / "export.log", "export")
        assert runner.wait(again) == 0, (root / "export.log").read_text()
    finally:
        runner.close()
    print(f"timing: reference {t_ref:.1f} s, all {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return ref, crash, kills, concurrent


def test_second_run_on_the_same_home_is_refused(nights):
    ref, _, _, concurrent = nights
    assert concurrent["rc"] == 3, concurrent
    assert "another run is using this home" in concurrent["stderr"], concurrent["stderr"]
    assert f"pid {concurrent['first_pid']} on " in concurrent["stderr"]
    runs = duckdb.connect(str(ref / "snapshot" / "ogi.duckdb"), read_only=True).execute(
        "SELECT status, count(*) FROM runs GROUP BY 1").fetchall()
    assert runs == [("completed", 1)]  # the refused run left no trace
    verify_export(ref / "export")


def test_kill_points_are_reached_and_leave_no_process(nights):
    _, _, kills, _ = nights
    missed = [k["point"] for k in kills if not k["killed"]]
    landed = [k for k in kills if k["killed"]]
    assert len(landed) >= 8, f"kill points not reached: {missed}"
    left = {k["point"]: k["orphans"] for k in landed if k["orphans"]}
    assert not left, f"processes outlived the killed night: {left}"


def test_rerun_after_kills_equals_an_uninterrupted_night(nights):
    ref, crash, _, _ = nights
    left = [p.name for p in [*crash.glob(".export.*"), *crash.glob(".ogi.duckdb.*"), *(crash / "snapshot").glob(".*")]]
    assert not left, f"what killed nights left was not cleared: {left}"
    for table in ("documents", "facts", "checks", "unplaced", "agencies", "expected_reports"):
        a, b = _rows(ref / "snapshot" / "ogi.duckdb", table), _rows(crash / "snapshot" / "ogi.duckdb", table)
        assert a == b, f"{table}: {len(a)} rows uninterrupted, {len(b)} after the kills"
    assert verify_export(ref / "export")["files"].keys() == verify_export(crash / "export")["files"].keys()
    assert _export_rows(ref / "export") == _export_rows(crash / "export")


def test_killed_runs_are_marked_interrupted(nights):
    _, crash, kills, _ = nights
    final = dict(duckdb.connect(str(crash / "snapshot" / "ogi.duckdb"), read_only=True).execute(
        "SELECT run_id, status FROM runs").fetchall())
    assert "running" not in final.values(), final
    left = {k["run"][0]: k["point"] for k in kills if k.get("run")}
    # a kill after the run was recorded leaves it 'running' (until the next start marks it); one
    # that lands after the run recorded itself completed (publishing the snapshot) leaves that
    running = [r for k in kills if k.get("run") and (r := k["run"])[1] == "running"]
    assert len(left) >= 7 and len(running) >= 6, kills
    assert all(final[r] == "interrupted" for r, _ in running), {left[r]: final[r] for r, _ in running}
    assert list(final.values()).count("interrupted") == len(running), final


ORPHANING = """
import subprocess, sys, time
if sys.argv[1] == "reaped":
    from ogi.core.reaper import reap_descendants_when_gone
    dog = reap_descendants_when_gone(0.05)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
time.sleep(0.5)  # the watchdog has seen the child
print(child.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("mode", ["reaped", "control"])
def test_what_a_killed_run_started_dies_with_it(mode):
    """The watchdog ``ogi demo|nightly|deploy`` start (``ogi.core.reaper``) kills what the run started
    (Prefect's temporary server, pool workers) once the run is killed; without it the child lives on."""
    run = subprocess.Popen([sys.executable, "-c", ORPHANING, mode], stdout=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        child = int(run.stdout.readline())
        run.send_signal(signal.SIGKILL)
        run.wait()
        left = _orphans_after(run.pid, grace=3.0)
        if mode == "reaped":
            assert not left, left
        else:
            assert [p.split()[0] for p in left] == [str(child)], left
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
