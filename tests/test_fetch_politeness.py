"""Politeness across crawl tasks, for real: Prefect tasks (the session's harness) crawling 50
agencies on one loopback host in several tasks, beside another host crawled at the same time.
The host itself counts what it saw: requests in flight, spacing of request starts, robots.txt."""

from __future__ import annotations

import time

from prefect import flow

from ogi.core.config import Settings
from ogi.fetch.registry import load_registry
from ogi.flows.crawl import crawl_registry
from tests.fixtures_sites.universe import LoopbackHost, many, serve_universe, write_registry

INTERVAL = 0.1
CONCURRENCY = 2
# How much later than the crawler's gate a request may reach the server's handler on a loaded
# 2-core machine (thread scheduling under a load average of 10-30; the server runs in a process of
# its own). The gate's own spacing is checked exactly; two tasks on one host would show ~0 here.
JITTER = 0.05


def test_50_agencies_on_one_host_across_tasks(prefect_harness, tmp_path):
    big = LoopbackHost(delay_s=0.25)  # responses slower than the interval: the concurrency cap binds
    for a in many("p", 50):
        big.add(a)
    other = LoopbackHost(delay_s=0.25)
    for a in many("q", 12):
        other.add(a)
    settings = Settings(home=tmp_path, per_host_min_interval_s=INTERVAL, per_host_concurrency=CONCURRENCY,
                        crawl_chunk_agencies=10, crawl_parallel_sites=4, http_timeout_s=5, http_retries=1)
    rows: list = []

    @flow(name="crawl-only")
    def crawl_only(registry: str):
        return crawl_registry(load_registry(registry), settings, record=rows.extend)

    with serve_universe(big, other):
        registry = write_registry(tmp_path / "registry.csv", [big, other])
        t0 = time.monotonic()
        outcome = crawl_only(str(registry))
        seconds = time.monotonic() - t0

    # every agency's report fetched, nothing failed
    got = {r["agency_id"] for r in rows if r["outcome"] == "new" and r["sha256"]}
    assert got == set(big.agencies) | set(other.agencies)
    assert not [r for r in rows if r["outcome"] == "error"], rows
    # the big host was crawled in 5 tasks (chunks of 10), never two at once
    assert outcome.hosts[big.base_url[7:]]["tasks"] == 5 and outcome.tasks == 5 + 2
    for host in (big, other):
        assert host.hits["/robots.txt"] == 1  # once a night, not once per agency or per task
        assert host.max_in_flight <= CONCURRENCY
        assert host.min_spacing() >= INTERVAL - JITTER, host.min_spacing()
    assert big.max_in_flight == CONCURRENCY  # the cap was reached (so the check above could fail)
    for stats in outcome.hosts.values():  # the gate's own record, task by task: exact
        assert stats["max_in_flight"] <= CONCURRENCY and stats["min_spacing_s"] >= INTERVAL
    assert sum(big.hits.values()) == 1 + 50 * 2
    # the two hosts were crawled side by side (their request times overlap), each under its own gate
    assert min(other.starts) < max(big.starts) and min(big.starts) < max(other.starts)
    print(f"\npoliteness: {sum(big.hits.values())} requests to one host in {outcome.hosts[big.base_url[7:]]['tasks']} "
          f"tasks, max in flight {big.max_in_flight}, min spacing {big.min_spacing():.4f} s, "
          f"robots.txt {big.hits['/robots.txt']}x, {seconds:.1f} s")
