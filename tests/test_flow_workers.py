"""The nightly flow on a pool of worker processes: tasks take and return plain data, so the same
flow gives the same database when documents are extracted in other processes (as on Dask or Ray)."""

from __future__ import annotations

import pytest
from prefect.task_runners import ProcessPoolTaskRunner

from ogi.core.config import DATA_DIR
from ogi.demo_server import serve_directory
from ogi.flows.runners import nightly_flow, shared_api
from ogi.store.db import connect

DEMO = DATA_DIR / "demo"


def _facts(home) -> list[tuple]:
    con = connect(home / "ogi.duckdb", read_only=True)
    try:
        return con.execute(
            """SELECT d.url, f.section, f.row_code, f.col_code, f.value, f.value_status, f.page, f.row_index,
                      f.col_index
               FROM facts f JOIN documents d USING (sha256)
               ORDER BY ALL"""
        ).fetchall()
    finally:
        con.close()


def _relative(rows: list[tuple], base_url: str) -> list[tuple]:
    return [(r[0].removeprefix(base_url), *r[1:]) for r in rows]


def test_process_pool_gives_the_same_facts_as_threads(prefect_harness, tmp_path_factory):
    threads_home = tmp_path_factory.mktemp("threads")
    pool_home = tmp_path_factory.mktemp("pool")
    with serve_directory(DEMO) as base_url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OGI_MIN_INTERVAL", "0")
        one = nightly_flow(None)(registry=str(DEMO / "sites.csv"), base_url=base_url, home=str(threads_home),
                                 include_universe=False)
        with shared_api(2, "process"):  # a server is configured (the harness): nothing to start
            pool_flow = nightly_flow(2, "process")
            assert isinstance(pool_flow.task_runner, ProcessPoolTaskRunner)
            two = pool_flow(registry=str(DEMO / "sites.csv"), base_url=base_url, home=str(pool_home),
                                  include_universe=False)
        facts_one = _relative(_facts(threads_home), base_url)
        facts_two = _relative(_facts(pool_home), base_url)
    assert two["parsed"] == one["parsed"] > 0
    assert len(two["quarantined"]) == len(one["quarantined"]) == 2
    assert two["identity_failures"] == one["identity_failures"] > 0
    assert len(facts_two) == len(facts_one) > 1000
    assert facts_two == facts_one
