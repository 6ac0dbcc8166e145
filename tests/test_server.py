"""Operations: ``ogi server`` runs a real Prefect server, and ``ogi deploy`` against it fires on its own.

Both run as real subprocesses on loopback (the server with SQLite under a fresh home), the
deployment serves a one-agency registry of the demo sites every few seconds, and the test only
waits: the nightly flow must have completed at least twice without anyone triggering it, in
Prefect's API and in the home's ``runs`` table. Then both are stopped as an operator would
(Ctrl-C, SIGTERM) and no process of theirs may be left behind.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from ogi.core.config import DATA_DIR
from ogi.demo_server import serve_directory
from ogi.store.db import connect
from tests.fixtures_sites.local_s3 import free_port

DEMO = DATA_DIR / "demo"


def _lines(proc: subprocess.Popen) -> queue.Queue:
    """The process's output lines, read in a thread (so waiting on them has a timeout)."""
    q: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_for_line(q: queue.Queue, prefix: str, timeout_s: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting {prefix!r} within {timeout_s} s; output:\n{''.join(seen[-40:])}")


def _completed_runs(api: str) -> int:
    r = httpx.post(f"{api}/flow_runs/filter", timeout=10, json={
        "flows": {"name": {"any_": ["ogi-nightly"]}},
        "deployments": {"name": {"any_": ["nightly"]}},
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    r.raise_for_status()
    return len(r.json())


def _stop(proc: subprocess.Popen, sig: int, timeout_s: float = 60) -> int:
    proc.send_signal(sig)
    return proc.wait(timeout=timeout_s)


def _kill_all(procs: list[psutil.Process]) -> list[str]:
    """Kill what is still alive; return what was."""
    names = []
    for p in procs:
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            names.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            p.kill()
        except psutil.NoSuchProcess:  # gone, as it should be
            continue
    return names


def test_deployment_on_a_short_interval_runs_twice_on_its_own(tmp_path: Path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update({
        "OGI_HOME": str(home), "PREFECT_HOME": str(tmp_path / "prefect"), "OGI_MIN_INTERVAL": "0",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # the server's scheduler looks for deployments to schedule every 2 s (default 60 s), the
        # deployment's runner for due runs every 2 s (default 10 s): the test waits less, the
        # schedule itself is untouched
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2", "PREFECT_RUNNER_POLL_FREQUENCY": "2",
    })
    ogi = [sys.executable, "-m", "ogi"]
    port = free_port()
    seen: list[str] = []
    children: list[psutil.Process] = []
    server = subprocess.Popen([*ogi, "server", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deploy = None
    t_start = time.monotonic()
    try:
        line = _wait_for_line(_lines(server), "PREFECT_API_URL=", 150, seen)
        api = line.removeprefix("PREFECT_API_URL=")
        assert api == f"http://127.0.0.1:{port}/api"
        print(f"ogi server answered after {time.monotonic() - t_start:.0f} s")
        assert (home / "prefect-server" / "prefect.db").is_file()  # SQLite under the home
        assert any(line.startswith(f"Prefect server ready, database sqlite+aiosqlite:///{home}/prefect-server/")
                   for line in seen), seen[-5:]
        children += psutil.Process(server.pid).children(recursive=True)

        with serve_directory(DEMO) as base_url:
            registry = tmp_path / "one-site.csv"
            rows = (DEMO / "sites.csv").read_text(encoding="utf-8").splitlines()
            header, first = rows[0], next(r for r in rows[1:] if r.startswith("yunxi-shi-zrzy,"))
            path = first.rsplit(",", 1)[1]
            registry.write_text(f"{header}\n{first.rsplit(',', 1)[0]},{base_url}{path}\n", encoding="utf-8")

            deploy_log = tmp_path / "deploy.log"
            with deploy_log.open("w") as log:
                t0 = time.monotonic()
                deploy = subprocess.Popen([*ogi, "deploy", "--interval", "5", "--registry", str(registry)],
                                          env={**env, "PREFECT_API_URL": api}, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
                runs = 0
                while time.monotonic() - t0 < 100 and deploy.poll() is None:
                    children += [c for c in psutil.Process(deploy.pid).children(recursive=True) if c not in children]
                    runs = _completed_runs(api)
                    if runs >= 2:
                        break
                    time.sleep(1)
                took = time.monotonic() - t0
                assert runs >= 2, (f"{runs} completed runs after {took:.0f} s; deploy exit {deploy.poll()}:\n"
                                   + deploy_log.read_text(errors="replace")[-3000:])
                print(f"two scheduled runs completed {took:.0f} s after ogi deploy started")
                children += psutil.Process(deploy.pid).children(recursive=True)
                t1 = time.monotonic()
                assert _stop(deploy, signal.SIGINT) in (0, -signal.SIGINT, 130)  # Ctrl-C
                print(f"ogi deploy stopped in {time.monotonic() - t1:.1f} s")
        t1 = time.monotonic()
        assert _stop(server, signal.SIGTERM) == 0
        print(f"ogi server stopped in {time.monotonic() - t1:.1f} s")
    finally:
        for proc in (deploy, server):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        left = _kill_all(children)
    assert not left, f"processes left behind: {left}"

    con = connect(home / "ogi.duckdb", read_only=True)
    try:
        statuses = [s for (s,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
        facts = con.execute("SELECT count(*) FROM facts").fetchone()[0]
    finally:
        con.close()
    assert statuses.count("completed") >= 2, statuses
    assert facts > 0


def _ogi(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ogi", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_deploy_without_a_server_is_one_clear_line(tmp_path: Path):
    """Prefect would accept the schedule on its temporary server and never fire it: refuse instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update({"OGI_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(tmp_path / "prefect")})
    done = _ogi(["deploy", "--interval", "5"], env)
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [
        "ogi deploy: schedules need a Prefect server (Prefect's temporary one cannot run them): start one "
        "with `ogi server` and set the PREFECT_API_URL it prints"]
    dead = f"http://127.0.0.1:{free_port()}/api"
    done = _ogi(["deploy", "--cron", "0 3 * * *"], {**env, "PREFECT_API_URL": dead})
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [
        f"ogi deploy: no Prefect server answers at PREFECT_API_URL={dead} (start it with `ogi server`)"]
    assert "Cannot schedule flows on an ephemeral server" not in done.stdout + done.stderr
    assert not (tmp_path / "home" / "ogi.duckdb").exists()


def test_a_cluster_beyond_this_machine_needs_a_configured_server():
    """Workers elsewhere cannot reach the flow's temporary loopback server: say so before anything runs."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from ogi.flows.runners import NoSharedApi, check_shared_api, is_loopback

    assert is_loopback("tcp://127.0.0.1:8786") and is_loopback("localhost:8786") and is_loopback("tcp://[::1]:1")
    assert not is_loopback("tcp://10.0.0.5:8786") and not is_loopback("ray://head.example:10001")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        check_shared_api(None)
        check_shared_api("tcp://127.0.0.1:8786")  # a cluster here shares the temporary server
        with pytest.raises(NoSharedApi, match=r"--scheduler tcp://10\.0\.0\.5:8786: workers on other machines"):
            check_shared_api("tcp://10.0.0.5:8786")
    with temporary_settings(updates={PREFECT_API_URL: "http://10.0.0.1:4200/api"}):
        check_shared_api("tcp://10.0.0.5:8786")


def test_server_database_is_sqlite_under_the_home_unless_configured(tmp_path: Path, monkeypatch):
    from ogi.flows.server import database_url, shown

    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    assert database_url(tmp_path) == f"sqlite+aiosqlite:///{tmp_path.resolve()}/prefect-server/prefect.db"
    pg = "postgresql+asyncpg://prefect:s3cret@db-host:5432/prefect"
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", pg)
    assert database_url(tmp_path) == pg
    assert shown(pg) == "postgresql+asyncpg://prefect:***@db-host:5432/prefect"  # printed without its password
