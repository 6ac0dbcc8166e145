"""Operations: a run that raises is recorded ``failed`` with its reason; ``ogi nightly`` exits
non-zero and names the broken sources when a host fails everything; the webhook alert reaches a
real loopback HTTP server, retries a 5xx a bounded number of times, and never raises."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ogi.core.config import Settings
from ogi.flows.alert import send_alert
from ogi.store.db import connect
from tests.fixtures_sites.universe import LoopbackHost, many, serve_universe, write_registry

NIGHT_ENV = {
    "OGI_HTTP_DEADLINE": "2", "OGI_HTTP_TIMEOUT": "5", "OGI_HTTP_RETRIES": "1", "OGI_HTTP_BACKOFF": "0.01",
    "OGI_MIN_INTERVAL": "0", "OGI_HOST_FAILURE_LIMIT": "2", "OGI_RETRY_AFTER_BUDGET": "1",
    "OGI_EXTRACT_WORKERS": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
}


@contextmanager
def webhook(statuses: list[int]) -> Iterator[tuple[str, list[dict]]]:
    """A loopback endpoint answering the given statuses in turn (then 200); yields (url, bodies)."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length", "0"))
            bodies.append(json.loads(self.rfile.read(n)))
            status = statuses[len(bodies) - 1] if len(bodies) <= len(statuses) else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_run_that_raises_is_recorded_failed_and_alerted(prefect_harness, tmp_path, monkeypatch):
    from ogi.flows.nightly import nightly

    for k, v in NIGHT_ENV.items():
        monkeypatch.setenv(k, v)
    bad = tmp_path / "corrections.csv"
    bad.write_text("this,is,not\nthe,corrections,format\n", encoding="utf-8")
    monkeypatch.setenv("OGI_CORRECTIONS", str(bad))
    host = LoopbackHost()
    host.add(many("ok", 1)[0])
    home = tmp_path / "home"
    with serve_universe(host, process=False) as hosts, webhook([]) as (url, bodies):
        monkeypatch.setenv("OGI_ALERT_WEBHOOK", url)
        registry = write_registry(tmp_path / "registry.csv", hosts)
        with pytest.raises(ValueError):
            nightly(registry=str(registry), home=str(home), export=False, include_universe=False,
                    expected_years=[2023])
    con = connect(Settings(home=home).db_path, read_only=True)
    try:
        runs = con.execute("SELECT status, finished_at IS NOT NULL, summary_json FROM runs").fetchall()
    finally:
        con.close()
    assert len(runs) == 1
    status, finished, summary_json = runs[0]
    assert (status, finished) == ("failed", True)
    recorded = json.loads(summary_json)
    assert recorded["error"].startswith("ValueError: ") and "corrections.csv" in recorded["error"]
    assert len(bodies) == 1
    assert bodies[0]["status"] == "failed" and bodies[0]["error"] == recorded["error"]
    assert bodies[0]["message"].startswith("run failed: ValueError")


def test_broken_source_exits_nonzero_names_it_and_alerts(prefect_harness, tmp_path, monkeypatch, capsys):
    from ogi.cli import main

    for k, v in NIGHT_ENV.items():
        monkeypatch.setenv(k, v)
    healthy, broken = LoopbackHost(), LoopbackHost(mode="500")
    healthy.add(many("good", 1)[0])
    for a in many("down", 2):
        broken.add(a)
    home = tmp_path / "home"
    # the endpoint fails once with 503: the alert is sent again and delivered
    with serve_universe(healthy, broken, process=False) as hosts, webhook([503]) as (url, bodies):
        monkeypatch.setenv("OGI_ALERT_WEBHOOK", url)
        registry = write_registry(tmp_path / "registry.csv", hosts)
        code = main(["--home", str(home), "nightly", "--registry", str(registry)])
    out = capsys.readouterr().out
    assert code == 1
    night = [line for line in out.splitlines() if line.strip().startswith("night ")]
    assert len(night) == 1
    assert "2 source(s) broke: down-0, down-1" in night[0]
    con = connect(Settings(home=home).db_path, read_only=True)
    try:
        status = con.execute("SELECT status FROM runs").fetchall()
        errors = con.execute("SELECT DISTINCT agency_id FROM fetches WHERE outcome = 'error'").fetchall()
        loaded = con.execute("SELECT agency_id FROM documents WHERE status = 'loaded'").fetchall()
    finally:
        con.close()
    assert status == [("completed",)]  # the data of the night is good; the exit code says a source broke
    assert {r[0] for r in errors} == {"down-0", "down-1"}  # listing failures are in fetches
    assert loaded == [("good-0",)]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[1]["broken_count"] == 2
    assert {b["agency_id"] for b in bodies[1]["broken_sources"]} == {"down-0", "down-1"}


def test_good_night_exits_zero_without_alert(prefect_harness, tmp_path, monkeypatch, capsys):
    from ogi.cli import main

    for k, v in NIGHT_ENV.items():
        monkeypatch.setenv(k, v)
    host = LoopbackHost()
    host.add(many("fine", 1)[0])
    with serve_universe(host, process=False) as hosts, webhook([]) as (url, bodies):
        monkeypatch.setenv("OGI_ALERT_WEBHOOK", url)
        registry = write_registry(tmp_path / "registry.csv", hosts)
        code = main(["--home", str(tmp_path / "home"), "nightly", "--registry", str(registry)])
    assert code == 0
    assert "  night                   ok" in capsys.readouterr().out
    assert bodies == []


def test_alert_retries_are_bounded_and_never_raise():
    summary = {"run_id": "r", "status": "completed", "broken_sources": [{"agency_id": "x", "reason": "down"}]}
    with webhook([500, 500, 500, 500]) as (url, bodies):
        t0 = time.monotonic()
        reason = send_alert(summary, Settings(alert_webhook=url, alert_retries=2, alert_timeout_s=2))
        took = time.monotonic() - t0
    assert len(bodies) == 3  # one try and two retries
    assert reason is not None and "after 3 attempt(s): http 500" in reason
    assert took < 10
    with webhook([404]) as (url, bodies):  # a refusal is not retried
        reason = send_alert(summary, Settings(alert_webhook=url, alert_retries=2))
    assert len(bodies) == 1 and reason is not None and "http 404" in reason
    # nobody listening: a one-line reason, no exception
    with webhook([]) as (url, _):
        pass
    reason = send_alert(summary, Settings(alert_webhook=url, alert_retries=1, alert_timeout_s=1))
    assert reason is not None and "ConnectError" in reason


def test_runner_selection_maps_to_prefect_task_runners():
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from ogi.flows.nightly import nightly
    from ogi.flows.runners import nightly_flow, task_runner

    assert nightly_flow() is nightly  # default: threads in this process
    threads = task_runner("threads", 3)
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 3
    assert isinstance(task_runner(None, 2), ProcessPoolTaskRunner)  # --workers 2 alone: processes, as before
    assert isinstance(nightly_flow(2, "process").task_runner, ProcessPoolTaskRunner)
    with pytest.raises(ValueError, match="--scheduler is for --runner dask or ray"):
        task_runner("threads", None, "tcp://127.0.0.1:8786")


@pytest.mark.parametrize("runner, module", [("dask", "prefect_dask"), ("ray", "prefect_ray")])
def test_missing_runner_extra_is_one_clear_line(runner, module, tmp_path, capsys):
    import importlib.util

    from ogi.cli import main

    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed: the missing-extra error cannot happen here")
    code = main(["--home", str(tmp_path), "nightly", "--runner", runner, "--workers", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"ogi nightly: --runner {runner} needs the '{runner}' extra ({module.replace('_', '-')}): "
                   f"pip install 'ogi[{runner}]'"]
    assert not (tmp_path / "ogi.duckdb").exists()  # stopped before anything ran


def test_documents_are_processed_in_batches_cached_per_document(demo_runs, tmp_path):
    """The demo (OGI_BATCH_SIZE=3, 10 documents) ran as 4 processing tasks, not 10; and a batch
    regrouped later takes each document's result from its own cache entry, without its bytes."""
    from ogi.flows.crawl import task_settings
    from ogi.flows.nightly import process_batch_task

    home, first, _second = demo_runs
    con = connect(Settings(home=home).db_path, read_only=True)
    try:
        docs = con.execute("SELECT sha256, status FROM documents ORDER BY sha256").fetchall()
    finally:
        con.close()
    assert len(docs) == 10 and first["documents_processed"] == 10

    from prefect import get_client

    async def batch_runs() -> int:
        from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

        async with get_client() as client:
            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="process batch")))
            # the session's other nights ran batches too ("batch 1/1"): the demo's are "batch k/4"
            demo = [r for r in runs if r.name.endswith("/4")]
            return len({r.flow_run_id for r in demo}), sorted(r.name for r in demo)

    import asyncio

    flows_with_batches, n_batches = asyncio.run(batch_runs())
    assert flows_with_batches == 1  # first night only: the second had nothing new to process
    assert n_batches == [f"process batch {k}/4" for k in range(1, 5)]

    # an empty archive: a document whose result is cached never needs its bytes
    settings = task_settings(Settings(home=home, archive_url=(tmp_path / "empty").as_uri()))
    regrouped = [{"sha256": sha, "filename": None, "media_type": None, "report_year": None,
                  "has_attachments": False} for sha, _ in (docs[-1], docs[0])]
    results = process_batch_task("regrouped", regrouped, settings)
    loaded = {"parsed": "loaded"}
    assert [loaded.get(r["status"], r["status"]) for r in results] == [docs[-1][1], docs[0][1]]
    with pytest.raises(FileNotFoundError):  # and one never processed does need them
        process_batch_task("new", [{**regrouped[0], "sha256": "0" * 64}], settings)
