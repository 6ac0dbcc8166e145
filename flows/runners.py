"""How the nightly flow runs: threads in this process, or a pool of worker processes.

Documents are extracted in parallel only across processes (PDFium is not thread-safe); the tasks
take and return plain data, so the same flow runs on a local process pool here and on Dask or Ray
workers beyond one machine. The loader stays in the flow's process: one writer for DuckDB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from prefect import Flow
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.task_runners import ProcessPoolTaskRunner

from ogi.flows.nightly import nightly


def nightly_flow(workers: int | None = None) -> Flow:
    """The nightly flow, on ``workers`` processes when more than one (else threads here)."""
    if workers and workers > 1:
        return nightly.with_options(task_runner=ProcessPoolTaskRunner(max_workers=workers))  # type: ignore[arg-type]
    return nightly


@contextmanager
def shared_api(workers: int | None) -> Iterator[None]:
    """Make worker processes report to the flow's Prefect API.

    With a server configured (PREFECT_API_URL) nothing is needed. Without one, every worker process
    would start a temporary server of its own (10–20 s each, and runs split across databases), so
    one is started here and handed to the workers through the environment.
    """
    if not workers or workers <= 1 or PREFECT_API_URL.value():
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
