"""The nightly flow at scale: N simulated agencies on several loopback hosts, a first night and a
night over unchanged sources, through the real flow (crawl → extract → load → export).

    .venv/bin/python -m bench.scale                          # N = 100 and 1000, 4 hosts
    .venv/bin/python -m bench.scale --agencies 100 --hosts 2
    .venv/bin/python -m bench.scale --agencies 1000 --runner process --workers 2

Each N runs in a process of its own (so its peak RSS is its own), with the universe served from
another process (``tests/fixtures_sites/universe.py``: every agency one HTML report, the demo's,
under its own name, so every report is a distinct document that parses into facts) and a temporary
Prefect server. Reported per night: wall time, documents/s, the flow's phases (``phases_s`` of the
run summary: setup, crawl, extract, load, export), peak RSS of the flow's process so far, the
DuckDB file and archive sizes. Prints a table, then one JSON object. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _size_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 1e6, 1)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1) if path.exists() else 0.0


def one(n: int, hosts: int, runner: str | None = None, workers: int | None = None) -> dict:
    """Two nights over ``n`` agencies spread over ``hosts`` loopback hosts (this process)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ["OGI_MIN_INTERVAL"] = "0"  # loopback: no politeness wait between requests
    results = tempfile.mkdtemp(prefix="ogi-scale-results-")
    # a result store of its own: Prefect's default (~/.prefect/storage) is shared by every run on
    # the machine, and documents an earlier run extracted would make this first night a cached one
    os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = results
    try:
        return _nights(n, hosts, runner, workers)
    finally:
        shutil.rmtree(results, ignore_errors=True)


def _nights(n: int, hosts: int, runner: str | None, workers: int | None) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from ogi.flows.runners import nightly_flow
    from tests.fixtures_sites.universe import LoopbackHost, many, serve_universe, write_registry

    servers = [LoopbackHost() for _ in range(hosts)]
    for i, agency in enumerate(many("s", n)):
        servers[i % hosts].add(agency)
    nights = []
    with tempfile.TemporaryDirectory() as tmp, serve_universe(*servers), \
            prefect_test_harness(server_startup_timeout=120):
        registry = write_registry(Path(tmp) / "registry.csv", servers)
        home = Path(tmp) / "home"
        nightly = nightly_flow(workers, runner)
        for night in ("first", "no-change"):
            t0 = time.monotonic()
            s = nightly(registry=str(registry), home=str(home), include_universe=False, expected_years=[2023])
            wall = time.monotonic() - t0
            docs = s["documents_processed"] + s["unchanged"]
            nights.append({
                "agencies": n, "hosts": hosts, "runner": runner or "threads", "workers": workers, "night": night, "wall_s": round(wall, 1),
                "documents": docs, "processed": s["documents_processed"], "facts": s["totals"]["facts"],
                "docs_per_s": round(docs / wall, 1) if wall else None, "phases_s": s.get("phases_s"),
                "export": "skipped" if "skipped" in (s.get("export") or {}) else "written",
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "duckdb_mb": _size_mb(home / "ogi.duckdb"), "archive_mb": _size_mb(home / "archive"),
                "fetch_errors": len(s["fetch_errors"]) if isinstance(s["fetch_errors"], list) else s["fetch_errors"],
            })
    return {"nights": nights}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agencies", default="100,1000", help="N, comma separated (default 100,1000)")
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--runner", choices=("threads", "process", "dask", "ray"), help="task runner (default threads)")
    ap.add_argument("--workers", type=int, help="worker processes for process/dask/ray")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child: run one N, print JSON
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.hosts, args.runner, args.workers), ensure_ascii=False))
        return 0
    rows: list[dict] = []
    for n in (int(x) for x in args.agencies.split(",")):
        extra = [*(["--runner", args.runner] if args.runner else []), *(["--workers", str(args.workers)] if args.workers else [])]
        proc = subprocess.run([sys.executable, "-m", "bench.scale", "--one", str(n), "--hosts", str(args.hosts), *extra],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            print(f"N={n} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            return 1
        got = json.loads(proc.stdout.strip().splitlines()[-1])["nights"]
        for r in got:
            print(json.dumps(r, ensure_ascii=False), flush=True)
        rows += got
    head = (f"{'N':>6} | {'night':<9} | {'wall s':>7} | {'docs':>5} | {'docs/s':>6} | {'crawl':>6} | {'extract':>7} | "
            f"{'load':>6} | {'export':>6} | {'RSS MB':>6} | {'duckdb MB':>9} | {'archive MB':>10}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        ph = r["phases_s"] or {}
        print(f"{r['agencies']:>6} | {r['night']:<9} | {r['wall_s']:>7} | {r['documents']:>5} | {r['docs_per_s']:>6} | "
              f"{ph.get('crawl', 0):>6} | {ph.get('extract', 0):>7} | {ph.get('load', 0):>6} | "
              f"{ph.get('export', 0):>6} | {r['peak_rss_mb']:>6} | {r['duckdb_mb']:>9} | {r['archive_mb']:>10}")
    print(json.dumps({"rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
