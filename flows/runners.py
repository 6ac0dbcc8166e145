"""How the nightly flow runs: ``--runner threads|process|dask|ray``, mapped to Prefect task runners.

Documents are extracted in parallel only across processes (PDFium is not thread-safe); the tasks
take and return plain data and read and write bytes through the archive URL (``file://`` or
``s3://``), so the same flow runs on threads here, a local process pool, or Dask and Ray workers
beyond one machine. The loader stays in the flow's process: one writer for DuckDB.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from prefect import Flow
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from ogi.flows.nightly import nightly

RUNNERS = ("threads", "process", "dask", "ray")
# runner → (module it needs, the pyproject extra that installs it)
_EXTRAS = {"dask": ("prefect_dask", "dask"), "ray": ("prefect_ray", "ray")}


class RunnerUnavailable(ValueError):
    """The runner's optional package is not installed (one line naming the extra)."""


class NoSharedApi(ValueError):
    """Workers on other machines would have no Prefect API to report to (one line saying what to do)."""


def is_loopback(address: str) -> bool:
    """Whether a scheduler address (``tcp://host:port``, ``ray://host:port``, ``host:port``) is this machine."""
    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_shared_api(scheduler: str | None) -> None:
    """Refuse a cluster beyond this machine without a Prefect server configured.

    Without ``PREFECT_API_URL`` the flow starts a temporary server on loopback and hands its URL
    to the workers; a worker on another machine would reach its own loopback instead (its task
    runs unrecorded, or failing). A cluster on this machine shares the temporary server.
    """
    if scheduler and not is_loopback(scheduler) and not PREFECT_API_URL.value():
        raise NoSharedApi(f"--scheduler {scheduler}: workers on other machines need a Prefect server they "
                          "reach: run `ogi server --host 0.0.0.0` (README, Operations) and set the "
                          "PREFECT_API_URL it prints, here and on every worker")


def resolve_runner(runner: str | None, workers: int | None) -> str:
    """The runner to use: the one asked for; else ``process`` for ``--workers`` > 1 (as before), else threads."""
    if runner is None:
        return "process" if workers and workers > 1 else "threads"
    if runner not in RUNNERS:
        raise ValueError(f"--runner {runner!r}: choose one of {', '.join(RUNNERS)}")
    return runner


def task_runner(runner: str | None = None, workers: int | None = None, scheduler: str | None = None) -> Any:
    """The Prefect task runner for ``runner``. ``scheduler``: the address of a running Dask
    scheduler or Ray cluster (without it, a local cluster of ``workers`` processes is started)."""
    name = resolve_runner(runner, workers)
    if scheduler and name not in ("dask", "ray"):
        raise ValueError(f"--scheduler is for --runner dask or ray, not {name}")
    check_shared_api(scheduler)
    if name == "threads":
        return ThreadPoolTaskRunner(max_workers=workers) if workers else ThreadPoolTaskRunner()
    if name == "process":
        return ProcessPoolTaskRunner(max_workers=workers or os.cpu_count() or 1)
    module, extra = _EXTRAS[name]
    if importlib.util.find_spec(module) is None:
        raise RunnerUnavailable(f"--runner {name} needs the '{extra}' extra ({module.replace('_', '-')}): "
                                f"pip install 'ogi[{extra}]'")
    if name == "dask":
        from prefect_dask import DaskTaskRunner

        if scheduler:
            return DaskTaskRunner(address=scheduler)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers or os.cpu_count() or 1, "processes": True,
                                              "threads_per_worker": 1})
    from prefect_ray import RayTaskRunner

    return RayTaskRunner(address=scheduler) if scheduler else RayTaskRunner()


def nightly_flow(workers: int | None = None, runner: str | None = None, scheduler: str | None = None) -> Flow:
    """The nightly flow on the chosen runner (default: threads here; ``workers`` > 1: processes)."""
    if resolve_runner(runner, workers) == "threads" and not workers:
        return nightly
    return nightly.with_options(task_runner=task_runner(runner, workers, scheduler))


def needs_shared_api(runner: str | None, workers: int | None) -> bool:
    """Whether tasks run in other processes (which must report to this flow's Prefect API)."""
    return resolve_runner(runner, workers) != "threads"


@contextmanager
def shared_api(workers: int | None, runner: str | None = None) -> Iterator[None]:
    """Make worker processes report to the flow's Prefect API.

    With a server configured (PREFECT_API_URL) nothing is needed. Without one, every worker process
    would start a temporary server of its own (10–20 s each, and runs split across databases), so
    one is started here and handed to the workers through the environment.
    """
    if not needs_shared_api(runner, workers) or PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        _drain_workers()  # send the last logs and events while the server still listens
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _drain_workers() -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with suppress(RuntimeError):  # a worker that never started
        APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all()
