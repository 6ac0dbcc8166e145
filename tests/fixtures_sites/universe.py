"""A loopback universe of simulated agencies on several hosts, healthy and faulty, for the crawl
and night tests (and bench scripts).

Each ``LoopbackHost`` is a real HTTP server on its own loopback port serving generated agency
columns: ``/<agency>/nb/index.html`` (and ``index_<n>.html`` pages chained by 下一页 links), a
report page per year (the demo's HTML report with the agency's name, so it parses into facts), and
optionally a malformed report page: the report inside an escaped JS string that also holds
escapes beyond Unicode. A host can
misbehave as a whole: ``drip`` sends its response headers a byte at a time, ``429`` answers every
request "Too Many Requests" with a huge Retry-After. Every host counts what it saw: requests per
path, the most requests in flight at once, and request start times (for spacing).
"""

from __future__ import annotations

import contextlib
import csv
import json
import multiprocessing
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ogi.core.config import DATA_DIR

REPORT_TEMPLATE_PATH = "qingwu-xian/gkml/ndbg/202401/t20240117_23101.html"
TEMPLATE_NAME = "青梧县人民政府"
# Appended to the escaped page inside a malformed report's JS string: escapes beyond Unicode
# (``chr()`` raised on them) and the attachment link the page carries.
MALFORMED_TAIL = '<p>\\u{110000}\\u{FFFFFFFF}<\\/p><p>附件：<a href=\\"files/report.pdf\\">年报.pdf<\\/a><\\/p>'


@dataclass
class SimAgency:
    agency_id: str
    name: str
    years: tuple[int, ...] = (2023,)
    pages: int = 1  # listing pages; the reports sit on the last one
    malformed: bool = False  # the report page is the report inside a JS string with MALFORMED_TAIL


@dataclass
class LoopbackHost:
    mode: str = "ok"  # ok / drip / 429 / 500 (every path, robots.txt included, answers 500)
    agencies: dict[str, SimAgency] = field(default_factory=dict)
    robots: str | None = "User-agent: *\nDisallow: /private/\n"
    delay_s: float = 0.0  # time each response takes (so requests overlap when the client allows)
    drip_interval_s: float = 0.2
    base_url: str = ""
    hits: Counter = field(default_factory=Counter)
    starts: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, agency: SimAgency) -> SimAgency:
        self.agencies[agency.agency_id] = agency
        return agency

    def listing_url(self, agency_id: str) -> str:
        return f"{self.base_url}/{agency_id}/nb/index.html"

    def min_spacing(self) -> float | None:
        s = sorted(self.starts)
        return min((b - a for a, b in zip(s, s[1:], strict=False)), default=None)

    # -- content -------------------------------------------------------------------------------
    def page(self, path: str) -> tuple[int, bytes, str]:
        if path == "/robots.txt":
            return (200, self.robots.encode(), "text/plain") if self.robots is not None else (404, b"", "text/plain")
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[1] != "nb" or parts[0] not in self.agencies:
            return 404, b"not found", "text/plain"
        ag = self.agencies[parts[0]]
        leaf = parts[2]
        if len(parts) == 3 and (leaf == "index.html" or leaf.startswith("index_")):
            n = 0 if leaf == "index.html" else int(leaf[6:].split(".")[0])
            return 200, self._listing(ag, n), "text/html; charset=utf-8"
        if len(parts) == 4 and parts[3] == "report.html" and parts[2].isdigit() and int(parts[2]) in ag.years:
            return 200, self._report(ag, int(parts[2])), "text/html; charset=utf-8"
        if len(parts) == 5 and parts[3] == "files":
            return 200, b"%PDF-1.4\n% not a real report\n%%EOF\n", "application/pdf"
        return 404, b"not found", "text/plain"

    def _listing(self, ag: SimAgency, n: int) -> bytes:
        items = ""
        if n == ag.pages - 1:
            items = "".join(f'<li><a href="{y}/report.html" title="{ag.name}{y}年政府信息公开工作年度报告">'
                            f"{ag.name}{y}年政府信息公开工作年度报告</a><span>{y + 1}-01-20</span></li>"
                            for y in ag.years)
        items += f'<li><a href="notice{n}.html">关于{ag.name}政务公开工作培训的通知</a></li>'
        pager = f'<a href="index_{n + 1}.html">下一页</a>' if n + 1 < ag.pages else ""
        return (f"<html><head><meta charset='utf-8'><title>{ag.name} 政府信息公开年报</title></head><body>"
                f"<ul class='list'>{items}</ul><div class='page'>{pager}</div></body></html>").encode()

    def _report(self, ag: SimAgency, year: int) -> bytes:
        html = report_template().replace(TEMPLATE_NAME, ag.name)
        if ag.malformed:  # the page as some portals deliver it: HTML in an escaped JS string
            return f'var content = "{json.dumps(html)[1:-1].replace("/", chr(92) + "/")}{MALFORMED_TAIL}";'.encode()
        return html.encode()


_TEMPLATE: list[str] = []


def report_template() -> str:
    if not _TEMPLATE:
        _TEMPLATE.append((DATA_DIR / "demo" / REPORT_TEMPLATE_PATH).read_text(encoding="utf-8"))
    return _TEMPLATE[0]


def _handler(host: LoopbackHost):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY, as web servers set it (nginx's tcp_nodelay is on by default): http.server
        # writes the headers and the body in two sends, and with Nagle's algorithm the body waits
        # for the client's delayed ACK — ~40 ms a keep-alive request, which made the simulated
        # sites, not the crawler, set the pace of a night
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = self.path.split("?")[0]
            if path == "/__stats__":  # for the test, not counted
                with host._lock:
                    stats = {"hits": dict(host.hits), "starts": list(host.starts), "max_in_flight": host.max_in_flight}
                self._send(200, json.dumps(stats).encode(), "application/json")
                return
            with host._lock:
                host.hits[path] += 1
                host.starts.append(time.monotonic())
                host.in_flight += 1
                host.max_in_flight = max(host.max_in_flight, host.in_flight)
            try:
                if host.delay_s:
                    time.sleep(host.delay_s)
                status, body, ctype = host.page(path)
            finally:
                # counted out before the response is written: a client that has read the whole
                # response and starts its next request is never counted twice
                with host._lock:
                    host.in_flight -= 1
            if host.mode == "drip":
                self._drip(body)
            elif host.mode == "429":
                self._send(429, b"too many requests", "text/plain", {"Retry-After": "3600"})
            elif host.mode == "500":
                self._send(500, b"internal server error", "text/plain")
            else:
                self._send(status, body, ctype)

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def _drip(self, body: bytes) -> None:
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Padding: " + b"." * 400 + b"\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode())
            self.close_connection = True
            try:
                for i in range(len(head)):
                    self.wfile.write(head[i:i + 1])
                    self.wfile.flush()
                    time.sleep(host.drip_interval_s)
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up: that is the point

    return Handler


@contextlib.contextmanager
def serve_host(host: LoopbackHost) -> Iterator[LoopbackHost]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    server.daemon_threads = True
    host.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def serve_universe(*hosts: LoopbackHost, process: bool = True) -> Iterator[list[LoopbackHost]]:
    """Serve the hosts, by default from a process of their own: timings seen by a server that
    shares the crawler's interpreter (and its GIL) would be off by tens of milliseconds. On exit
    (or ``sync``) each host's counters are copied back into the objects given."""
    if not process:
        with contextlib.ExitStack() as stack:
            yield [stack.enter_context(serve_host(h)) for h in hosts]
        return
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    specs = [{"mode": h.mode, "agencies": h.agencies, "robots": h.robots, "delay_s": h.delay_s,
              "drip_interval_s": h.drip_interval_s} for h in hosts]
    proc = ctx.Process(target=_serve_in_child, args=(specs, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(120):
            raise TimeoutError("loopback universe did not start within 120 s")
        for h, url in zip(hosts, parent.recv(), strict=True):
            h.base_url = url
        yield list(hosts)
        sync(*hosts)
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def sync(*hosts: LoopbackHost) -> None:
    """Copy each host's counters from its server."""
    for h in hosts:
        with urllib.request.urlopen(h.base_url + "/__stats__", timeout=10) as resp:
            stats = json.loads(resp.read())
        h.hits = Counter(stats["hits"])
        h.starts = stats["starts"]
        h.max_in_flight = stats["max_in_flight"]


def _serve_in_child(specs: list[dict], conn) -> None:
    hosts = [LoopbackHost(**spec) for spec in specs]
    with contextlib.ExitStack() as stack:
        for h in hosts:
            stack.enter_context(serve_host(h))
        conn.send([h.base_url for h in hosts])
        with contextlib.suppress(EOFError, OSError):
            conn.recv()


def write_registry(path: Path, hosts: list[LoopbackHost]) -> Path:
    """A registry CSV of every agency on the (running) hosts."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["agency_id", "name", "kind", "level", "division_code", "parent_id", "listing_urls", "hints"])
        for h in hosts:
            for a in h.agencies.values():
                w.writerow([a.agency_id, a.name, "government", "county", "", "", h.listing_url(a.agency_id), ""])
    return path


def many(prefix: str, n: int, **kw) -> list[SimAgency]:
    """``n`` agencies with distinct names ("测试甲3县人民政府")."""
    return [SimAgency(f"{prefix}-{i}", f"测试{prefix}{i}县人民政府", **kw) for i in range(n)]
