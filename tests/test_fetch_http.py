"""PoliteClient against a loopback server that misbehaves on purpose: every fault ends in a
bounded number of attempts and a recorded reason, never an exception or a hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ogi.core.config import USER_AGENT, Settings
from ogi.fetch.http_client import PoliteClient, parse_retry_after
from tests.fixtures_sites.fault_server import reset_connection, send, serve

FAST = dict(http_timeout_s=0.3, http_retries=2, http_backoff_s=0.01, per_host_min_interval_s=0.0,
            http_max_bytes=100_000, http_max_redirects=3, host_failure_limit=100)


def _settings(tmp_path: Path, **over) -> Settings:
    return Settings(home=tmp_path, **{**FAST, **over})


@pytest.fixture
def site():
    with serve() as s:
        yield s


@pytest.fixture
def client(site, tmp_path):
    c = PoliteClient(_settings(tmp_path), site.base_url)
    yield c
    c.close()


def test_ok_page_sends_user_agent_and_keeps_headers(site, client):
    seen = {}

    def route(h):
        seen["ua"] = h.headers.get("User-Agent")
        send(h, 200, b"<html>ok</html>", {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"',
                                          "Last-Modified": "Mon, 20 Jan 2025 08:00:00 GMT"})
    site.routes["/ok"] = route
    res = client.get(site.url("/ok"))
    assert res.ok and res.content == b"<html>ok</html>" and res.attempts == 1
    assert seen["ua"] == USER_AGENT
    assert res.headers["etag"] == '"v1"' and res.headers["last-modified"].startswith("Mon, 20 Jan 2025")
    assert res.content_type == "text/html" and res.charset == "utf-8"


def test_timeout_is_retried_then_reported(site, client):
    def slow(h):
        time.sleep(1.0)  # longer than the 0.3 s read timeout
        send(h, 200, b"late")
    site.routes["/slow"] = slow
    t0 = time.monotonic()
    res = client.get(site.url("/slow"))
    assert res.content is None and res.status is None
    assert res.error.startswith("timeout") and "3 attempts" in res.error
    assert res.attempts == 3 and site.count("/slow") == 3
    assert time.monotonic() - t0 < 3.0


def test_server_errors_then_success(site, client):
    calls = []

    def flaky(h):
        calls.append(1)
        if len(calls) <= 2:
            send(h, 500, b"oops")
        else:
            send(h, 200, b"fine", {"Content-Type": "text/plain"})
    site.routes["/flaky"] = flaky
    res = client.get(site.url("/flaky"))
    assert res.ok and res.content == b"fine" and res.attempts == 3


def test_server_errors_exhaust_retries(site, client):
    site.routes["/down"] = lambda h: send(h, 503, b"maintenance")
    res = client.get(site.url("/down"))
    assert res.status == 503 and res.error == "http 503 (after 3 attempts)" and site.count("/down") == 3


def test_429_honours_retry_after(site, client):
    calls = []

    def limited(h):
        calls.append(time.monotonic())
        if len(calls) == 1:
            send(h, 429, b"slow down", {"Retry-After": "1"})
        else:
            send(h, 200, b"thanks")
    site.routes["/limited"] = limited
    res = client.get(site.url("/limited"))
    assert res.ok and res.attempts == 2
    assert calls[1] - calls[0] >= 0.95  # waited as told, not the 0.01 s backoff


def test_retry_after_past_the_cap_leaves_the_host_alone(site, tmp_path):
    site.routes["/limited"] = lambda h: send(h, 429, b"", {"Retry-After": "3600"})
    site.routes["/other"] = lambda h: send(h, 200, b"fine")
    with PoliteClient(_settings(tmp_path, http_retries=3, retry_after_cap_s=0.2), site.base_url) as c:
        t0 = time.monotonic()
        res = c.get(site.url("/limited"))
        other = c.get(site.url("/other"))
        state = c.state()
    assert res.status == 429 and res.attempts == 1 and time.monotonic() - t0 < 1
    assert res.error == "http 429, Retry-After 3600 s (over the cap of 0.2 s) (after 1 attempt)"
    # the host asked us to go away: its other URLs are not requested tonight, and say why
    assert other.attempts == 0 and site.count("/other") == 0
    assert other.error == "host skipped: asked to wait 3600 s (http 429 Retry-After), more than this crawl waits for one host"
    assert state.down_reason and state.retry_after_spent_s == 0


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_connection_reset_is_retried_and_reported(site, client):
    site.routes["/reset"] = reset_connection
    res = client.get(site.url("/reset"))
    assert res.content is None and res.error.startswith("network error") and res.attempts == 3


def test_reset_then_success(site, client):
    calls = []

    def once(h):
        calls.append(1)
        if len(calls) == 1:
            reset_connection(h)
        else:
            send(h, 200, b"back")
    site.routes["/once"] = once
    res = client.get(site.url("/once"))
    assert res.ok and res.content == b"back" and res.attempts == 2


def test_redirect_loop_is_detected_without_retry(site, client):
    site.routes["/a"] = lambda h: send(h, 302, b"", {"Location": "/b"})
    site.routes["/b"] = lambda h: send(h, 301, b"", {"Location": site.url("/a")})
    res = client.get(site.url("/a"))
    assert res.error.startswith("redirect loop") and res.attempts == 1
    assert site.count("/a") == 1 and site.count("/b") == 1


def test_redirect_chain_limit(site, client):
    for i in range(6):
        site.routes[f"/r{i}"] = (lambda n: lambda h: send(h, 302, b"", {"Location": f"/r{n + 1}"}))(i)
    res = client.get(site.url("/r0"))
    assert res.error.startswith("too many redirects") and site.count("/r4") == 0


def test_redirect_is_followed_and_final_url_kept(site, client):
    site.routes["/old"] = lambda h: send(h, 301, b"", {"Location": "/new"})
    site.routes["/new"] = lambda h: send(h, 200, b"moved here")
    res = client.get(site.url("/old"))
    assert res.ok and res.final_url == site.url("/new") and res.content == b"moved here"


def test_redirect_off_the_origin_is_refused(site, client):
    with serve() as other:
        site.routes["/out"] = lambda h: send(h, 302, b"", {"Location": "http://outside.invalid/x"})
        site.routes["/port"] = lambda h: send(h, 302, b"", {"Location": other.url("/trs/zfxxgknb/index.html")})
        res = client.get(site.url("/out"))
        assert res.error == f"redirect leaves {site.base_url[7:]}: http://outside.invalid/x (after 1 attempt)"
        res = client.get(site.url("/port"))  # the same host, another port
        assert res.error.startswith(f"redirect leaves {site.base_url[7:]}: {other.base_url}/") and other.hits == []


def test_other_origins_are_never_requested(site, tmp_path):
    """Same scheme, host and port only: another port of the same host, another name for it and
    another scheme are other origins (their own crawl task's business)."""
    with serve() as other, PoliteClient(_settings(tmp_path), site.base_url) as c:
        port = site.base_url.rsplit(":", 1)[1]
        for url in (other.url("/trs/zfxxgknb/index.html"),
                    site.url("/x").replace("127.0.0.1", "localhost"),
                    site.url("/x").replace("http://", "https://"),
                    "ftp://127.0.0.1/x"):
            res = c.get(url)
            assert res.error.startswith("host not allowed") and res.attempts == 0, url
        assert other.hits == [] and site.hits == []
        assert c.is_allowed(f"http://127.0.0.1:{port}/any/path") and c.is_allowed(f"HTTP://127.0.0.1:{port}/")


def test_oversized_response_is_abandoned(site, client):
    big = b"x" * 300_000
    site.routes["/big"] = lambda h: send(h, 200, big)
    site.routes["/big-stream"] = lambda h: send(h, 200, big, content_length=False)
    res = client.get(site.url("/big"))
    assert res.content is None and res.error.startswith("too large: Content-Length 300000")
    res = client.get(site.url("/big-stream"))
    assert res.content is None and res.error.startswith("too large: more than 100000 bytes")
    assert site.count("/big-stream") == 1  # not retried: the same file would be as big again


def test_http_404_is_not_retried(site, client):
    res = client.get(site.url("/nothing-here"))
    assert res.status == 404 and res.error == "http 404 (after 1 attempt)"


def test_conditional_request_gets_304(site, client):
    first = client.get(site.url("/trs/zfxxgknb/index.html"))
    assert first.ok and first.headers.get("etag")
    again = client.get(site.url("/trs/zfxxgknb/index.html"), etag=first.headers["etag"])
    assert again.not_modified and again.content is None and again.error is None


def test_gbk_page_decoded_from_meta_charset(site, client):
    res = client.get(site.url("/gbk/xxgk/nb/index.html"))
    assert res.ok and res.charset is None
    assert "样例市交通运输局2024年政府信息公开工作年度报告" in res.text()


def test_per_host_min_interval(site, tmp_path):
    site.routes["/tick"] = lambda h: send(h, 200, b"t")
    with PoliteClient(_settings(tmp_path, per_host_min_interval_s=0.2), site.base_url) as c:
        t0 = time.monotonic()
        for _ in range(3):
            assert c.get(site.url("/tick")).ok
        assert time.monotonic() - t0 >= 0.39


def test_concurrency_cap_per_host(site, tmp_path):
    import threading

    active, peak, lock = [0], [0], threading.Lock()

    def busy(h):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        send(h, 200, b"b")
    site.routes["/busy"] = busy
    with PoliteClient(_settings(tmp_path, per_host_concurrency=2), site.base_url) as c:
        threads = [threading.Thread(target=c.get, args=(site.url("/busy"),)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=5)
    assert peak[0] == 2


def test_robots_txt_disallow_is_obeyed_and_reported(site, client):
    site.routes["/robots.txt"] = lambda h: send(h, 200, b"User-agent: *\nDisallow: /private/\n",
                                                 {"Content-Type": "text/plain"})
    site.routes["/private/report.pdf"] = lambda h: send(h, 200, b"%PDF-1.4")
    site.routes["/public/report.html"] = lambda h: send(h, 200, b"<html>ok</html>")
    res = client.get(site.url("/private/report.pdf"))
    assert res.content is None and res.error.startswith("disallowed by robots.txt") and res.attempts == 0
    assert site.count("/private/report.pdf") == 0
    assert client.get(site.url("/public/report.html")).ok
    assert site.count("/robots.txt") == 1  # read once per host


def test_robots_txt_group_for_our_agent_and_crawl_delay(site, tmp_path):
    site.routes["/robots.txt"] = lambda h: send(
        h, 200, b"User-agent: ogi\nDisallow: /nb/draft\nCrawl-delay: 1\n\nUser-agent: *\nDisallow: /\n")
    site.routes["/nb/index.html"] = lambda h: send(h, 200, b"<html>list</html>")
    with PoliteClient(_settings(tmp_path), site.base_url) as c:
        assert not c.get(site.url("/nb/draft1.html")).ok
        t0 = time.monotonic()
        assert c.get(site.url("/nb/index.html")).ok and c.get(site.url("/nb/index.html")).ok
        assert time.monotonic() - t0 >= 0.95  # Crawl-delay widened the host's spacing


def test_missing_or_broken_robots_txt_means_no_rules(site, client):
    site.routes["/robots.txt"] = lambda h: send(h, 500, b"oops")
    site.routes["/a.html"] = lambda h: send(h, 200, b"<html>a</html>")
    assert client.get(site.url("/a.html")).ok
    assert site.count("/robots.txt") == 1  # not retried: one attempt, then no rules


def test_redirect_into_a_disallowed_path_is_refused(site, client):
    site.routes["/robots.txt"] = lambda h: send(h, 200, b"User-agent: *\nDisallow: /admin/\n")
    site.routes["/go"] = lambda h: send(h, 302, b"", {"Location": "/admin/secret.html"})
    res = client.get(site.url("/go"))
    assert res.content is None and "disallowed by robots.txt" in res.error
    assert site.count("/admin/secret.html") == 0
