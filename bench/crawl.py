"""Crawl politeness and fault cost, measured on a loopback universe through the real nightly flow.

    .venv/bin/python -m bench.crawl politeness --agencies 50 --interval 0.5
    .venv/bin/python -m bench.crawl faulty

``politeness``: N agencies on one host (responses take ``--delay`` s, so requests overlap when the
crawler lets them), the host counting what it saw: most requests in flight at once, smallest
spacing of two request starts, robots.txt fetches, total requests, wall time. ``faulty``: healthy
agencies beside one malformed report page, one host that drips its headers and one that answers
429 with Retry-After 3600: wall time, what got stored, what was recorded. The universe is served
from a process of its own (``tests/fixtures_sites/universe.py``); Prefect is a temporary server.
Prints one JSON object. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def _night(registry: Path, home: Path, env: dict[str, str]) -> tuple[dict | None, float, str | None]:
    os.environ.update(env)
    from prefect.testing.utilities import prefect_test_harness

    from ogi.flows.nightly import nightly

    with prefect_test_harness(server_startup_timeout=120):
        t0 = time.monotonic()
        try:
            summary = nightly(registry=str(registry), home=str(home), export=False, include_universe=False,
                              expected_years=[2023])
            return summary, time.monotonic() - t0, None
        except Exception as e:  # the old crawler ended the night on a malformed page
            return None, time.monotonic() - t0, f"{type(e).__name__}: {e}"[:300]


def _stored(home: Path) -> dict:
    import duckdb

    db = home / "ogi.duckdb"
    if not db.exists():
        return {"documents": 0, "fetches": 0}
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {"documents": con.execute("SELECT count(*) FROM documents").fetchone()[0],
                "documents_with_facts": con.execute(
                    "SELECT count(DISTINCT sha256) FROM facts").fetchone()[0],
                "fetches": con.execute("SELECT count(*) FROM fetches").fetchone()[0],
                "fetch_errors": con.execute("SELECT count(*) FROM fetches WHERE outcome = 'error'").fetchone()[0]}
    finally:
        con.close()


def politeness(args) -> dict:
    from tests.fixtures_sites.universe import LoopbackHost, many, serve_universe, write_registry

    host = LoopbackHost(delay_s=args.delay)
    for a in many("p", args.agencies):
        host.add(a)
    with tempfile.TemporaryDirectory() as tmp, serve_universe(host):
        registry = write_registry(Path(tmp) / "registry.csv", [host])
        summary, seconds, error = _night(registry, Path(tmp) / "home", {"OGI_MIN_INTERVAL": str(args.interval)})
        stored = _stored(Path(tmp) / "home")
    return {"scenario": "politeness", "agencies": args.agencies, "interval_s": args.interval,
            "response_s": args.delay, "requests": sum(host.hits.values()), "max_in_flight": host.max_in_flight,
            "min_spacing_s": round(host.min_spacing() or 0, 4), "robots_fetches": host.hits["/robots.txt"],
            "night_s": round(seconds, 1), "error": error, "stored": stored}


def faulty(args) -> dict:
    from tests.fixtures_sites.universe import LoopbackHost, SimAgency, many, serve_universe, write_registry

    healthy = LoopbackHost()
    for a in many("h", args.agencies):
        healthy.add(a)
    healthy.add(SimAgency("bad", "测试坏县人民政府", malformed=True))
    hosts = [healthy]
    if not args.no_drip:
        drip = LoopbackHost(mode="drip", drip_interval_s=2.0)  # 1 byte / 2 s, as measured on a portal
        drip.add(SimAgency("drip-0", "测试滴县人民政府"))
        hosts.append(drip)
    limited = LoopbackHost(mode="429")
    for a in many("lim", 3):
        limited.add(a)
    hosts.append(limited)
    with tempfile.TemporaryDirectory() as tmp, serve_universe(*hosts):
        registry = write_registry(Path(tmp) / "registry.csv", hosts)
        summary, seconds, error = _night(registry, Path(tmp) / "home", {"OGI_MIN_INTERVAL": "0"})
        stored = _stored(Path(tmp) / "home")
    return {"scenario": "faulty", "healthy_agencies": args.agencies, "night_s": round(seconds, 1), "error": error,
            "stored": stored, "429_host_requests": sum(limited.hits.values()),
            "broken_sources": len(summary["broken_sources"]) if summary else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("politeness")
    p.add_argument("--agencies", type=int, default=50)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--delay", type=float, default=0.6, help="seconds each response takes")
    p.set_defaults(func=politeness)
    p = sub.add_parser("faulty")
    p.add_argument("--agencies", type=int, default=5)
    p.add_argument("--no-drip", action="store_true", help="leave out the header-dripping host")
    p.set_defaults(func=faulty)
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    print(json.dumps(args.func(args), ensure_ascii=False))


if __name__ == "__main__":
    main()
