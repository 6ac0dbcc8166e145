"""A real Prefect server, so deployments' schedules fire: ``ogi server``.

Prefect's temporary server (started by a flow when no ``PREFECT_API_URL`` is set) has no scheduler
and dies with its process, so a schedule served against it never fires. ``ogi server`` runs
``prefect server start`` in a child process with its database under the home (SQLite,
``<home>/prefect-server/prefect.db``) unless ``PREFECT_API_DATABASE_CONNECTION_URL`` names another
one (Postgres, for a server that workers on several machines share), waits until its API answers
and prints the ``PREFECT_API_URL`` that ``ogi deploy``, ``ogi nightly`` and every worker use.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import httpx

DEFAULT_PORT = 4200
_WILDCARD = ("0.0.0.0", "::", "")


class NoServer(RuntimeError):
    """No Prefect server is configured or none answers (one line, naming what to do)."""


def database_url(home: Path) -> str:
    """The server's database: ``PREFECT_API_DATABASE_CONNECTION_URL`` if set, else SQLite under the home."""
    if url := os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        return url
    return f"sqlite+aiosqlite:///{(home / 'prefect-server' / 'prefect.db').resolve()}"


def shown(url: str) -> str:
    """A database URL fit to print (the password masked)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy reads: show only its scheme
        return url.split("://", 1)[0] + "://…"


def api_url(host: str, port: int) -> str:
    """The API URL clients use (a wildcard bind is reached through this machine's name)."""
    name = socket.gethostname() if host in _WILDCARD else host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}/api"


def healthy(api: str, timeout_s: float = 2.0) -> bool:
    """Whether the Prefect API at ``api`` answers its health check."""
    try:
        r = httpx.get(api.rstrip("/") + "/health", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and r.text.strip() == "true"


def configured_api() -> str:
    """The configured Prefect API, which must answer; else ``NoServer`` saying what to do."""
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        raise NoServer("schedules need a Prefect server (Prefect's temporary one cannot run them): start "
                       "one with `ogi server` and set the PREFECT_API_URL it prints")
    if not healthy(api, timeout_s=5.0):
        raise NoServer(f"no Prefect server answers at PREFECT_API_URL={api} (start it with `ogi server`)")
    return api


@contextlib.contextmanager
def prefect_server(home: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                   timeout_s: float = 180.0, output: TextIO | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``prefect server start`` until the block ends; yield (API URL, process) once it answers.

    The server gets its own process group, so stopping it (SIGTERM, then SIGKILL after 20 s)
    leaves none of its children behind. A fresh SQLite database is migrated on first start
    (10–30 s), hence the generous ``timeout_s``.
    """
    db = database_url(home)
    if db.startswith("sqlite"):
        (home / "prefect-server").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the server is not its own client
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = db
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                            start_new_session=True)
    api = api_url(host, port)
    probe = api_url("127.0.0.1", port) if host in _WILDCARD else api
    try:
        t0 = time.monotonic()
        while not healthy(probe):
            if proc.poll() is not None:
                raise NoServer(f"prefect server start exited with code {proc.returncode} before answering "
                               f"(port {port} in use? see its output above)")
            if time.monotonic() - t0 > timeout_s:
                raise NoServer(f"the Prefect server did not answer at {probe} within {timeout_s:.0f} s")
            time.sleep(0.5)
        yield api, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, grace_s: float = 20.0) -> None:
    """Stop a child started in its own session, and everything in its process group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):  # the group's stragglers, if any
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
