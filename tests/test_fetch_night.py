"""A whole night (the real Prefect flow ``ogi.flows.nightly``) over a loopback universe where one
report page is malformed, one host drips its headers and one answers 429 with a huge Retry-After,
among healthy agencies: every healthy agency's reports are stored, every fault is recorded with
its reason, and the night ends in seconds, not the 900 s one dripping host used to cost."""

from __future__ import annotations

import time

import pytest

from ogi.core.config import Settings
from ogi.store.db import connect
from tests.fixtures_sites.universe import LoopbackHost, SimAgency, many, serve_universe, write_registry

NIGHT_ENV = {
    "OGI_HTTP_DEADLINE": "1", "OGI_HTTP_TIMEOUT": "5", "OGI_HTTP_RETRIES": "1", "OGI_HTTP_BACKOFF": "0.01",
    "OGI_MIN_INTERVAL": "0", "OGI_HOST_FAILURE_LIMIT": "2", "OGI_RETRY_AFTER_BUDGET": "1",
}


def test_faulty_night(prefect_harness, tmp_path, monkeypatch):
    from ogi.flows.nightly import nightly

    for k, v in NIGHT_ENV.items():
        monkeypatch.setenv(k, v)
    healthy_a, healthy_b = LoopbackHost(), LoopbackHost()
    for a in many("ha", 4):
        healthy_a.add(a)
    healthy_b.add(SimAgency("hb-0", "测试hb0县人民政府"))
    bad = healthy_b.add(SimAgency("hb-bad", "测试坏县人民政府", malformed=True))
    drip, limited = LoopbackHost(mode="drip", drip_interval_s=0.3), LoopbackHost(mode="429")
    for a in many("drip", 2):
        drip.add(a)
    for a in many("lim", 2):
        limited.add(a)
    home = tmp_path / "home"
    with serve_universe(healthy_a, healthy_b, drip, limited) as hosts:
        registry = write_registry(tmp_path / "registry.csv", hosts)
        t0 = time.monotonic()
        summary = nightly(registry=str(registry), home=str(home), export=False, include_universe=False,
                          expected_years=[2023])
        night_s = time.monotonic() - t0
    healthy = [*healthy_a.agencies, "hb-0"]
    con = connect(Settings(home=home).db_path, read_only=True)
    try:
        loaded = dict(con.execute(
            """SELECT d.agency_id, count(*) FROM documents d WHERE d.status = 'loaded'
               AND EXISTS (SELECT 1 FROM facts f WHERE f.sha256 = d.sha256) GROUP BY ALL""").fetchall())
        stored = {r[0] for r in con.execute("SELECT agency_id FROM documents").fetchall()}
        errors = con.execute(
            "SELECT agency_id, error FROM fetches WHERE outcome = 'error' ORDER BY agency_id").fetchall()
        warnings = [r[0] for r in con.execute("SELECT error FROM fetches WHERE outcome = 'warning'").fetchall()]
        bad_urls = {r[0] for r in con.execute("SELECT url FROM fetches WHERE agency_id = ?", [bad.agency_id]).fetchall()}
        run = con.execute("SELECT status FROM runs").fetchall()
    finally:
        con.close()

    # every healthy agency's report is stored and loaded with facts
    assert {a: loaded.get(a, 0) for a in healthy} == {a: 1 for a in healthy}
    # the malformed page is stored (it no longer ends the night), and its attachment was found
    assert bad.agency_id in stored
    assert any(u.endswith("/hb-bad/nb/2023/files/report.pdf") for u in bad_urls)
    # each fault is recorded with its reason, for every agency of the faulty hosts
    by_agency: dict[str, list[str]] = {}
    for agency_id, error in errors:
        by_agency.setdefault(agency_id, []).append(error)
    assert set(by_agency) == set(drip.agencies) | set(limited.agencies)
    drip_errors = [e for a in drip.agencies for e in by_agency[a]]
    assert all(e.startswith("listing page: ") for e in drip_errors)
    assert any("no complete response within the 1 s deadline" in e for e in drip_errors)
    for a in limited.agencies:
        assert by_agency[a] == ["listing page: host skipped: asked to wait 3600 s (http 429 Retry-After), "
                                "more than this crawl waits for one host"]
    assert sum(w.startswith("host given up for tonight") for w in warnings) == 2
    broken = {b["agency_id"] for b in summary["broken_sources"]}
    assert broken == set(drip.agencies) | set(limited.agencies)
    assert run == [("completed",)]
    assert sum(limited.hits.values()) == 1  # the 429 host was asked once, then left alone
    assert night_s < 120, night_s
    print(f"\nfaulty night: {night_s:.1f} s, {len(healthy)} healthy agencies loaded, "
          f"{len(errors)} fault rows, {len(warnings)} warnings; crawl {summary['crawl']}")


@pytest.fixture(autouse=True)
def _quiet_prefect(monkeypatch):
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
