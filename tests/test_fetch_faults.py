"""One bad thing costs only itself: hosts that drip headers, rate-limit, reset; pages no parser
expected; crawler bugs; links and redirects that leave the host — each ends bounded, recorded
with its reason, and never holds or loses anyone else's results. Real HTTP on loopback."""

from __future__ import annotations

import time

import pytest

import ogi.fetch.crawl as crawl_mod
import ogi.fetch.schedule as schedule_mod
from ogi.core.config import Settings
from ogi.fetch.archive import Archive
from ogi.fetch.http_client import PoliteClient
from ogi.fetch.registry import Agency
from ogi.fetch.schedule import crawl_locally
from tests.fixtures_sites.fault_server import reset_connection, send, serve
from tests.fixtures_sites.universe import LoopbackHost, SimAgency, many, serve_host

FAST = dict(http_timeout_s=5.0, http_retries=0, http_backoff_s=0.01, per_host_min_interval_s=0.0,
            http_deadline_s=1.0)


def _settings(tmp_path, **over) -> Settings:
    return Settings(home=tmp_path, **{**FAST, **over})


def _agency(aid: str, name: str, url: str, **kw) -> Agency:
    return Agency(aid, name, "government", "county", None, listing_urls=[url], **kw)


def _run(tmp_path, agencies, **over):
    settings = _settings(tmp_path, **over)
    return crawl_locally(agencies, settings, Archive(settings.archive_dir))


def _by_agency(results):
    out: dict[str, list] = {}
    for r, _ in results:
        for d in r.all_documents():
            out.setdefault(d.agency_id, []).append(d)
    return out


def _rows(results):
    return [row for r, kept in results for row in r.fetch_rows() + [n.fetch_row() for n in kept]]


# ------------------------------------------------------------------ time: one deadline per request

def test_header_dripping_server_is_cut_at_the_deadline(tmp_path):
    host = LoopbackHost(mode="drip", drip_interval_s=0.2)
    host.add(SimAgency("a", "测试县人民政府"))
    with serve_host(host), PoliteClient(_settings(tmp_path, http_deadline_s=1.0), host.base_url) as c:
        t0 = time.monotonic()
        res = c.get(host.listing_url("a"))
        took = time.monotonic() - t0
    # robots.txt (one attempt) and the page each cost one deadline; every read was under the 5 s timeout
    assert res.error == "timeout: no complete response within the 1 s deadline (after 1 attempt)"
    assert res.content is None and 1.9 < took < 3.5, took


def test_body_dripping_server_is_cut_at_the_deadline(tmp_path):
    with serve() as site:
        def slow_body(h):
            h.send_response(200)
            h.send_header("Content-Length", "1000")
            h.end_headers()
            try:
                for _ in range(1000):
                    h.wfile.write(b"x")
                    h.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
        site.routes["/slow"] = slow_body
        with PoliteClient(_settings(tmp_path, http_deadline_s=0.8), site.base_url) as c:
            t0 = time.monotonic()
            res = c.get(site.url("/slow"))
            assert res.error.startswith("timeout: no complete response within the 0.8 s deadline")
            assert time.monotonic() - t0 < 2.5


# ------------------------------------------------------------------ Retry-After: per host, budgeted

def test_retry_after_pauses_the_whole_host_within_its_budget(tmp_path):
    with serve() as site:
        calls: list[float] = []

        def limited(h):
            calls.append(time.monotonic())
            send(h, 429, b"", {"Retry-After": "1"}) if len(calls) == 1 else send(h, 200, b"ok")
        site.routes["/a"] = limited
        site.routes["/b"] = lambda h: (calls.append(time.monotonic()), send(h, 200, b"b"))
        site.routes["/robots.txt"] = lambda h: send(h, 404, b"")
        with PoliteClient(_settings(tmp_path, http_retries=2, retry_after_budget_s=1.5), site.base_url) as c:
            assert c.get(site.url("/a")).ok  # waited 1 s of the 1.5 s budget
            assert c.get(site.url("/b")).ok
            assert calls[1] - calls[0] >= 0.95 and c.state().retry_after_spent_s == 1.0
            # the next Retry-After of 1 s does not fit in what is left (0.5 s): the host is left alone
            calls.clear()
            t0 = time.monotonic()
            res = c.get(site.url("/a"))
            again = c.get(site.url("/b"))
            assert time.monotonic() - t0 < 0.5
    assert res.error == "http 429, Retry-After 1 s (over what is left of the night's budget, 0.5 s) (after 1 attempt)"
    assert again.error.startswith("host skipped: asked to wait 1 s") and len(calls) == 1


def test_429_host_costs_one_request_not_one_wait_per_url(tmp_path):
    host = LoopbackHost(mode="429")
    for a in many("r", 5):
        host.add(a)
    with serve_host(host):
        agencies = [_agency(a.agency_id, a.name, host.listing_url(a.agency_id)) for a in host.agencies.values()]
        t0 = time.monotonic()
        results = _run(tmp_path, agencies, http_retries=3)
        took = time.monotonic() - t0
    assert took < 3 and sum(host.hits.values()) == 1  # robots.txt got the 429; nothing after it
    crawls = [c for r, _ in results for c in r.agencies]
    assert len(crawls) == 5 and all(c.broken for c in crawls)
    assert {c.broken_reason for c in crawls} == {
        "listing not fetched: host skipped: asked to wait 3600 s (http 429 Retry-After), more than this crawl waits "
        "for one host"}
    rows = _rows(results)
    assert len([r for r in rows if r["outcome"] == "error" and r["error"].startswith("listing page: host skipped")]) == 5
    assert any(r["outcome"] == "warning" and r["error"].startswith("host given up for tonight") for r in rows)


def test_a_dead_host_is_given_up_after_a_few_failures(tmp_path):
    with serve() as site:
        site.routes["/robots.txt"] = lambda h: send(h, 404, b"")
        for i in range(6):
            site.routes[f"/l{i}/index.html"] = reset_connection
        agencies = [_agency(f"a{i}", f"测试{i}县人民政府", site.url(f"/l{i}/index.html")) for i in range(6)]
        results = _run(tmp_path, agencies, http_retries=1, host_failure_limit=2, per_host_concurrency=1)
    reasons = sorted(c.broken_reason for r, _ in results for c in r.agencies)
    assert sum(r.startswith("listing not fetched: network error") for r in reasons) == 2
    assert sum(r.startswith("listing not fetched: host skipped: 2 requests in a row failed") for r in reasons) == 4
    assert sum(site.count(f"/l{i}/index.html") for i in range(6)) == 4  # 2 URLs × 2 attempts, then none


# ------------------------------------------------------------------ pages and bugs cost only themselves

def test_malformed_report_page_is_stored_and_its_attachment_found(tmp_path):
    host = LoopbackHost()
    host.add(SimAgency("bad", "测试坏县人民政府", malformed=True))
    host.add(SimAgency("good", "测试好县人民政府"))
    with serve_host(host):
        results = _run(tmp_path, [_agency(a.agency_id, a.name, host.listing_url(a.agency_id))
                                  for a in host.agencies.values()])
    docs = _by_agency(results)
    assert [(d.role, d.outcome) for d in docs["bad"]] == [("page", "new"), ("attachment", "new")]
    assert docs["bad"][1].url == f"{host.base_url}/bad/nb/2023/files/report.pdf"
    assert [(d.role, d.outcome) for d in docs["good"]] == [("page", "new")]
    assert not [r for r in _rows(results) if r["outcome"] == "error"]


def test_exceptions_cost_only_their_agency_document_or_task(tmp_path, monkeypatch):
    host = LoopbackHost()
    for a in many("x", 4):
        host.add(a)
    other = LoopbackHost()
    other.add(SimAgency("y-0", "测试y0县人民政府"))
    real_judge, real_page, real_site = crawl_mod.judge, crawl_mod.parse_report_page, schedule_mod.crawl_site

    def judge(title, owner):
        if owner.agency_id == "x-0":
            raise RuntimeError("a bug met in x-0's links")
        return real_judge(title, owner)

    def parse_report_page(html, url):
        if "/x-1/" in url:
            raise ValueError("chr() arg not in range(0x110000)")
        return real_page(html, url)

    def crawl_site(origin, *a, **kw):
        if origin == other_origin:
            raise MemoryError("the worker ran out of memory")
        return real_site(origin, *a, **kw)

    monkeypatch.setattr(crawl_mod, "judge", judge)
    monkeypatch.setattr(crawl_mod, "parse_report_page", parse_report_page)
    monkeypatch.setattr(schedule_mod, "crawl_site", crawl_site)
    with serve_host(host), serve_host(other):
        other_origin = other.base_url + ""
        agencies = [_agency(a.agency_id, a.name, h.listing_url(a.agency_id))
                    for h in (host, other) for a in h.agencies.values()]
        results = _run(tmp_path, agencies)
    crawls = {c.agency_id: c for r, _ in results for c in r.agencies}
    docs = _by_agency(results)
    assert crawls["x-0"].broken and crawls["x-0"].broken_reason == "crawler error: RuntimeError: a bug met in x-0's links"
    assert [d.outcome for d in docs["x-1"]] == ["new"]  # the page is kept; only its attachments are unknown
    assert [n.message for n in crawls["x-1"].notes] == [
        "attachments not read: ValueError: chr() arg not in range(0x110000)"]
    assert [d.outcome for d in docs["x-2"]] == ["new"] and [d.outcome for d in docs["x-3"]] == ["new"]
    assert crawls["y-0"].broken and crawls["y-0"].broken_reason == (
        f"crawl task for {other_origin} failed: MemoryError: the worker ran out of memory")
    rows = _rows(results)
    errors = {(r["agency_id"], r["error"].split(":")[0]) for r in rows if r["outcome"] == "error"}
    assert errors == {("x-0", "crawler error"), ("x-1", "attachments not read"), ("y-0", "crawl task for http")}


def test_a_stalled_host_does_not_hold_the_others_results(tmp_path):
    slow = LoopbackHost(mode="drip", drip_interval_s=0.2)
    slow.add(SimAgency("s", "测试慢县人民政府"))
    fast = LoopbackHost()
    for a in many("f", 3):
        fast.add(a)
    arrived: dict[str, float] = {}
    settings = _settings(tmp_path, http_deadline_s=2.0, http_retries=1)
    with serve_host(slow), serve_host(fast):
        agencies = [_agency(a.agency_id, a.name, h.listing_url(a.agency_id))
                    for h in (slow, fast) for a in h.agencies.values()]
        scheduler = schedule_mod.CrawlScheduler(agencies)
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        t0 = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            schedule_mod.drive(
                scheduler, lambda job: pool.submit(schedule_mod.run_job, job, settings, Archive(settings.archive_dir)),
                lambda fs: next(iter(wait(fs, return_when=FIRST_COMPLETED).done)), lambda f: f.result(),
                lambda r, _: arrived.setdefault(r.origin, time.monotonic() - t0), max_parallel=4)
    assert arrived[f"{fast.base_url}"] < 2.0 < arrived[f"{slow.base_url}"]


# ------------------------------------------------------------------ staying on the registry's hosts

def test_links_and_attachments_stay_on_the_registry_hosts(tmp_path):
    with serve() as site, serve() as files:
        port_b = files.base_url.rsplit(":", 1)[1]
        # The listing links a next page and a report on another port of the same host; a report
        # page links attachments on another host (allowed by the registry) and on a third (not).
        site.routes["/col/index.html"] = lambda h: send(h, 200, (
            '<a href="/art/1.html">测试县人民政府2024年政府信息公开工作年度报告</a>'
            f'<a href="{files.base_url}/art/2.html">测试县人民政府2023年政府信息公开工作年度报告</a>'
            f'<a href="{files.base_url}/col/index_1.html">下一页</a>').encode(), {"Content-Type": "text/html; charset=utf-8"})
        site.routes["/art/1.html"] = lambda h: send(h, 200, (
            f'<a href="{files.base_url}/f/1.pdf">附件.pdf</a>'
            f'<iframe src="{files.base_url.replace("127.0.0.1", "localhost")}/f/3.pdf"></iframe>').encode(),
            {"Content-Type": "text/html; charset=utf-8"})
        files.routes["/f/1.pdf"] = lambda h: send(h, 200, b"%PDF-1.4 attachment")
        files.routes["/art/2.html"] = lambda h: send(h, 200, b"<html>2023</html>", {"Content-Type": "text/html"})
        agency = _agency("t", "测试县人民政府", site.url("/col/index.html"),
                         hints={"attachment_hosts": [f"127.0.0.1:{port_b}"]})
        results = _run(tmp_path, [agency])
    docs = {d.url.rsplit("/", 1)[-1]: d for d in _by_agency(results)["t"]}
    assert docs["1.html"].outcome == "new" and docs["1.pdf"].outcome == "new"  # allowed for the attachment
    assert docs["2.html"].outcome == "new"  # the registry allows that host for documents
    assert docs["3.pdf"].outcome == "error" and docs["3.pdf"].error.startswith("host not allowed: localhost:")
    assert files.hits.count("/col/index_1.html") == 0  # never trusted for listing links
    assert sorted(files.hits) == ["/art/2.html", "/f/1.pdf", "/robots.txt"]


def test_without_the_hint_another_port_is_another_site(tmp_path):
    with serve() as site, serve() as files:
        site.routes["/col/index.html"] = lambda h: send(h, 200, (
            '<a href="/art/1.html">测试县人民政府2024年政府信息公开工作年度报告</a>').encode(),
            {"Content-Type": "text/html; charset=utf-8"})
        site.routes["/art/1.html"] = lambda h: send(h, 200, f'<a href="{files.base_url}/f/1.pdf">附件.pdf</a>'.encode(),
                                                    {"Content-Type": "text/html; charset=utf-8"})
        results = _run(tmp_path, [_agency("t", "测试县人民政府", site.url("/col/index.html"))])
    docs = {d.url.rsplit("/", 1)[-1]: d for d in _by_agency(results)["t"]}
    assert docs["1.pdf"].error == (f"host not allowed: {files.base_url[7:]} is not on the site of {site.base_url[7:]} "
                                   "(the agency's attachment_hosts hint can allow it)")
    assert files.hits == []


def test_listing_page_failures_are_fetch_rows(tmp_path):
    with serve() as site:
        site.routes["/down/index.html"] = lambda h: send(h, 503, b"")
        results = _run(tmp_path, [_agency("m", "测试县人民政府", site.url("/moved/index.html")),
                                  _agency("d", "测试二县人民政府", site.url("/down/index.html"))], http_retries=1)
    rows = sorted(((r["agency_id"], r["url"].rsplit("/", 2)[1], r["outcome"], r["http_status"], r["error"])
                   for r in _rows(results)), key=str)
    assert rows == [("d", "down", "error", 503, "listing page: http 503 (after 2 attempts)"),
                    ("m", "moved", "error", 404, "listing page: http 404 (after 1 attempt)")]


@pytest.mark.parametrize("source", [
    "\\u{110000}", "\\u{FFFFFFFF}", '"\\' * 50_000, "`" * 200_000, "`\\" * 100_000, "'\"`" * 60_000,
    '"a"+' * 50_000])
def test_js_strings_never_raise_and_stay_linear(source):
    from ogi.core.jsstrings import js_string_literals, unescape_js_string

    t0 = time.monotonic()
    for body in js_string_literals(source):
        unescape_js_string(body)
    unescape_js_string(source)
    assert time.monotonic() - t0 < 10  # the budget: quadratic scanning took minutes on these
    assert unescape_js_string("a\\u{110000}b\\u{1F600}") == "a\\u{110000}b😀"
