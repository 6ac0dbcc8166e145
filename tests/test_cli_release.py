"""The command line an analyst meets: release, report, corrections, matrix --summary, and one-line
errors (bad SQL, locked database, existing output, unwritable path, broken pipe, no match)."""

from __future__ import annotations

import csv
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ogi.cli import main
from ogi.core.config import DATA_DIR

OGI = [sys.executable, "-m", "ogi"]


@pytest.fixture(scope="module")
def home(demo_runs):
    return demo_runs[0]


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_release_and_report_commands(home, tmp_path, capsys):
    out = tmp_path / "rel"
    assert main(["--home", str(home), "release", str(out), "--date", "2025-03-01"]) == 0
    assert "ogi-release-2025-03-01" in capsys.readouterr().out
    assert (out / "datapackage.json").is_file() and (tmp_path / "rel.zip").is_file()
    assert main(["--home", str(home), "release", str(out)]) == 2
    assert "exists (use --force" in _one_error_line(capsys)
    assert main(["--home", str(home), "release", str(out), "--force", "--date", "2025-03-02"]) == 0
    assert main(["--home", str(home), "release", str(tmp_path / "x"), "--year", "1999"]) == 1
    assert "no facts match" in _one_error_line(capsys)
    assert not (tmp_path / "x").exists()
    assert main(["--home", str(home), "release", "/etc/passwd/inside"]) == 2
    assert "/etc/passwd" in _one_error_line(capsys)
    assert main(["--home", str(home), "report", str(tmp_path / "q.html")]) == 0
    assert (tmp_path / "q.html").stat().st_size > 10_000


def test_filters_that_match_nothing_exit_non_zero(home, tmp_path, capsys):
    assert main(["--home", str(home), "export", "--year", "1999", "--out", str(tmp_path)]) == 1
    assert "no facts match --year 1999" in _one_error_line(capsys)
    assert not list(tmp_path.iterdir())
    assert main(["--home", str(home), "matrix", "--province", "88"]) == 1
    assert "no agency-year matches" in _one_error_line(capsys)


def test_matrix_summary_and_filters(home, tmp_path, capsys):
    out = tmp_path / "summary.csv"
    assert main(["--home", str(home), "matrix", "--summary", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert {"county", "prefecture", "township"} <= {r["level"] for r in rows}
    county_2024 = next(r for r in rows if r["level"] == "county" and r["report_year"] == "2024"
                       and r["province"] == "990000")
    assert (county_2024["agency_years"], county_2024["loaded"], county_2024["province"]) == ("1", "1", "990000")
    capsys.readouterr()
    assert main(["--home", str(home), "matrix", "--level", "township", "--year", "2023"]) == 0
    printed = capsys.readouterr().out
    assert "shiqiao-zhen" in printed and "qingwu-xian" not in printed


def test_corrections_check(home, tmp_path, capsys):
    assert main(["--home", str(home), "corrections", "check", "--file",
                 str(DATA_DIR / "demo" / "corrections.csv")]) == 0
    assert "2 correction(s)" in capsys.readouterr().out
    demo = (DATA_DIR / "demo" / "corrections.csv").read_text(encoding="utf-8").splitlines()
    sha = demo[1].split(",")[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([
        demo[0],
        f"{'0' * 64},s3.new,s3c.total,5,why,me,2025-01-01,",          # unknown document
        f"{sha},s3.nothing,s3c.total,5,why,me,2025-01-01,",           # cell not found
        f"{sha},s3.granted,s3c.total,{_extracted(home, sha)},why,me,2025-01-01,",  # value unchanged
        f"{sha},s3.new,s3c.total,abc,why,me,2025-01-01,",             # not a number
    ]) + "\n", encoding="utf-8")
    assert main(["--home", str(home), "corrections", "check", "--file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown document" in err and "cell not found" in err and "value unchanged" in err
    assert "is not a number" in err and f"{bad}:5:" in err


def _extracted(home: Path, sha: str) -> str:
    import duckdb

    con = duckdb.connect(str(home / "ogi.duckdb"), read_only=True)
    try:
        v = con.execute("SELECT value FROM facts WHERE sha256 = ? AND row_code = 's3.granted' "
                        "AND col_code = 's3c.total'", [sha]).fetchall()[0][0]
    finally:
        con.close()
    return str(int(v))


def test_bad_sql_is_one_line(home, capsys):
    assert main(["--home", str(home), "sql", "SELEC 1"]) == 1
    assert _one_error_line(capsys).startswith("ogi sql: Parser Error")


def test_locked_database_is_one_line(home, tmp_path, capsys):
    locked = tmp_path / "home"
    locked.mkdir()
    shutil.copy(home / "ogi.duckdb", locked / "ogi.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); time.sleep(60)", str(locked / "ogi.duckdb")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["--home", str(locked), "sql", "SELECT 1"]) == 2
        assert "locked by another process" in _one_error_line(capsys)
    finally:
        holder.kill()
        holder.wait()


def test_broken_pipe_is_quiet(home):
    env = {**os.environ, "OGI_HOME": str(home)}
    done = subprocess.run(f"{' '.join(OGI)} sql --csv 'SELECT * FROM range(200000)' | head -1", shell=True,
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "range"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def _run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(leader)
    return out.decode("utf-8", "replace")


def test_progress_bars_only_on_a_terminal(home, tmp_path):
    env = {**os.environ, "OGI_HOME": str(home), "COLUMNS": "100"}
    shown = _run_in_terminal([*OGI, "export", "--out", str(tmp_path / "tty")], env)
    assert "export" in shown and "4/4" in shown and "━" in shown, shown
    piped = subprocess.run([*OGI, "export", "--out", str(tmp_path / "pipe")], capture_output=True, text=True,
                           env=env, timeout=120)
    assert piped.returncode == 0 and "━" not in piped.stdout and "4/4" not in piped.stdout
