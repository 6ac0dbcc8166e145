"""One night over portals serving the *whole* hostile corpus (tests/hostile/make_hostile.py): does
it finish, load every readable report and quarantine every other with the reason that names what
stopped it? (The test, tests/test_hostile_night.py, serves one case of each kind to stay cheap.)

    .venv/bin/python -m bench.hostile_night                # every case, test scale
    .venv/bin/python -m bench.hostile_night --scale issue  # the sizes the issue measured

Each case is the one report of an agency of its own on a loopback site; the real crawler, bounded
workers and loader handle it. Prints one row per case (outcome, facts, reason, as expected or not),
the night's wall time and the flow process's peak RSS. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["test", "issue"], default="test")
    ap.add_argument("names", nargs="*", help="cases (default: all)")
    args = ap.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ["OGI_MIN_INTERVAL"] = "0"
    import duckdb
    from prefect.testing.utilities import prefect_test_harness

    from ogi.demo_server import serve_directory
    from ogi.flows.nightly import nightly
    from tests.test_hostile import EXPECTED
    from tests.test_hostile_night import _site

    cases = args.names or sorted(EXPECTED)
    with tempfile.TemporaryDirectory(prefix="ogi-hostile-night-") as tmp:
        root = Path(tmp)
        registry = root / "sites.csv"
        registry.write_text("\n".join(_site(root / "site", root / "corpus", cases, args.scale)) + "\n",
                            encoding="utf-8")
        with prefect_test_harness(server_startup_timeout=180), serve_directory(root / "site") as base_url:
            t0 = time.monotonic()
            summary = nightly(registry=str(registry), base_url=base_url, home=str(root / "home"),
                              expected_years=[2024], include_universe=False, export=False)
            wall = time.monotonic() - t0
        con = duckdb.connect(str(root / "home" / "snapshot" / "ogi.duckdb"), read_only=True)
        docs = {url.rsplit("/", 1)[-1]: (status, reason or "", facts) for url, status, reason, facts in con.execute(
            "SELECT d.url, d.status, d.quarantine_reason, (SELECT count(*) FROM facts f WHERE f.sha256 = d.sha256) "
            "FROM documents d").fetchall()}
        fetch_errors = {url.rsplit("/", 1)[-1]: err for url, err in con.execute(
            "SELECT url, error FROM fetches WHERE error IS NOT NULL").fetchall()}
    print("| case | outcome | facts | as expected | reason |\n|---|---|---|---|---|")
    good = 0
    for i, name in enumerate(cases):
        got = next((v for k, v in docs.items() if k.startswith(f"report{i}.")), None)
        want_status, pattern, want_facts = EXPECTED[name]
        if got is None:
            err = next((e for k, e in fetch_errors.items() if k.startswith(f"report{i}.")), "not fetched")
            print(f"| {name} | fetch failed | 0 | no | {err[:120]} |")
            continue
        status, reason, facts = got
        ok = (status == "loaded" and facts == want_facts) if want_status == "parsed" else (
            status == want_status and bool(re.search(pattern, reason)))
        good += ok
        print(f"| {name} | {status} | {facts} | {'yes' if ok else 'no'} | {reason[:120]} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{len(cases)} cases, {good} as expected; night {summary['status']} in {wall:.1f} s, "
          f"flow process peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
