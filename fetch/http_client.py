"""A polite HTTP client for government portals: slow, bounded, and never raising on faults.

Per host it keeps a minimum interval between requests and a concurrency cap; every request has
connect/read timeouts and a wall-clock cap; 429/5xx/network faults are retried a bounded number of
times with exponential backoff (``Retry-After`` honoured up to a cap); redirects are followed by
hand so each hop is checked against the allowed hosts and loops are caught; bodies are streamed
and abandoned past ``settings.http_max_bytes``; each host's robots.txt is read once and obeyed
(Disallow for our User-Agent or ``*``; a Crawl-delay widens the host's spacing, capped). Whatever
goes wrong is *reported* in the
``FetchResult`` (``error``), so a crawl of a thousand agencies is never stopped by one of them.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ogi.core.config import USER_AGENT, Settings
from ogi.core.textcodec import decode_html

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 520, 521, 522, 523, 524})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
KEPT_HEADERS = ("content-type", "etag", "last-modified", "content-disposition", "content-length")
ROBOTS_MAX_BYTES = 512 * 1024
CRAWL_DELAY_CAP_S = 30.0
ROBOTS_AGENT = USER_AGENT.split("/")[0]  # "ogi": the product token robots.txt groups match on


def utc_now_iso() -> str:
    """Naive UTC timestamp text (what DuckDB's TIMESTAMP takes as is)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@dataclass
class FetchResult:
    """What one ``get`` ended with: content, a 304, or the reason it failed."""

    url: str
    final_url: str
    status: int | None  # last HTTP status seen (None: no response at all)
    content: bytes | None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case subset: KEPT_HEADERS
    fetched_at: str = ""
    error: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200 and self.content is not None

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            k, _, v = part.partition("=")
            if k.strip().lower() == "charset" and v.strip():
                return v.strip().strip("\"'")
        return None

    def text(self) -> str:
        """The body decoded as an HTML page (GBK/GB2312/UTF-8 aware); '' without a body."""
        return decode_html(self.content, self.charset) if self.content else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FetchResult:
        return cls(**d)


class _HostGate:
    """Concurrency cap and minimum spacing of request starts, for one host."""

    def __init__(self, concurrency: int, min_interval: float) -> None:
        self.sem = threading.BoundedSemaphore(max(1, concurrency))
        self.lock = threading.Lock()
        self.min_interval = min_interval
        self.next_start = 0.0

    def __enter__(self) -> _HostGate:
        self.sem.acquire()
        with self.lock:
            now = time.monotonic()
            wait = self.next_start - now
            self.next_start = max(now, self.next_start) + self.min_interval
        if wait > 0:
            time.sleep(wait)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sem.release()


class _Fault(Exception):
    """A failed attempt; ``retry`` says whether another attempt may help."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.retry, self.status, self.wait = reason, retry, status, wait


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class PoliteClient:
    """Sync HTTP client, safe to share between threads. Use as a context manager or ``close()``."""

    def __init__(
        self,
        settings: Settings,
        allowed_hosts: set[str],
        *,
        retry_after_cap_s: float = 60.0,
        backoff_cap_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.retry_after_cap_s = retry_after_cap_s
        self.backoff_cap_s = backoff_cap_s
        # The whole exchange (headers + streamed body) must finish within this wall-clock time,
        # so a server trickling bytes under the read timeout cannot hold a worker forever.
        self.total_timeout_s = settings.http_timeout_s * 4
        t = settings.http_timeout_s
        self._client = httpx.Client(
            timeout=httpx.Timeout(connect=t, read=t, write=t, pool=t * 4),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"},
            transport=transport,
        )
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self._robots: dict[str, RobotFileParser | None] = {}  # host → rules (None: no rules)
        self._robots_lock = threading.Lock()

    # -- hosts ---------------------------------------------------------------------------------
    def allow_host(self, host_or_url: str) -> None:
        """Allow a host (e.g. of an attachment linked from an allowed page)."""
        host = _host(host_or_url) if "//" in host_or_url else host_or_url.lower()
        if host:
            self.allowed_hosts.add(host)

    def is_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and parts.netloc.lower() in self.allowed_hosts

    def _gate(self, host: str) -> _HostGate:
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = _HostGate(self.settings.per_host_concurrency, self.settings.per_host_min_interval_s)
                self._gates[host] = gate
            return gate

    # -- robots.txt ----------------------------------------------------------------------------
    def _robots_rules(self, url: str) -> RobotFileParser | None:
        """The host's robots.txt, fetched once per client (one attempt, small cap).

        No robots.txt (4xx), or one that cannot be fetched (5xx, network error, too large), means
        no rules: a portal's broken robots.txt must not silently drop a year of reports, and the
        host's rate limit still applies.
        """
        parts = urlsplit(url)
        host = parts.netloc.lower()
        with self._robots_lock:
            if host in self._robots:
                return self._robots[host]
        rules: RobotFileParser | None = None
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            status, content, _headers, _loc = self._once(robots_url, None, None, max_bytes=ROBOTS_MAX_BYTES)
            if status == 200 and content:
                rules = RobotFileParser(robots_url)
                rules.parse(decode_html(content).splitlines())
                delay = rules.crawl_delay(ROBOTS_AGENT)
                if delay:
                    gate = self._gate(host)
                    gate.min_interval = max(gate.min_interval, min(float(delay), CRAWL_DELAY_CAP_S))
        except _Fault:
            rules = None
        with self._robots_lock:
            self._robots[host] = rules
        return rules

    def robots_allows(self, url: str) -> bool:
        if not self.settings.respect_robots_txt:
            return True
        rules = self._robots_rules(url)
        return rules is None or rules.can_fetch(ROBOTS_AGENT, url)

    # -- requests ------------------------------------------------------------------------------
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url``; conditional when ``etag``/``last_modified`` are given (→ status 304)."""
        started = utc_now_iso()
        if not self.is_allowed(url):
            return FetchResult(url, url, None, None, fetched_at=started,
                               error=f"host not allowed: {_host(url) or url}", attempts=0)
        if not self.robots_allows(url):
            return FetchResult(url, url, None, None, fetched_at=started,
                               error=f"disallowed by robots.txt of {_host(url)}", attempts=0)
        max_attempts = 1 + max(0, self.settings.http_retries)
        fault: _Fault | None = None
        for attempt in range(1, max_attempts + 1):
            try:
                final_url, status, content, headers = self._follow(url, etag, last_modified)
            except _Fault as f:
                fault = f
                if not f.retry or attempt == max_attempts:
                    break
                delay = self.settings.http_backoff_s * (2 ** (attempt - 1))
                if f.wait is not None:
                    delay = max(delay, f.wait)
                time.sleep(min(delay, self.backoff_cap_s if f.wait is None else self.retry_after_cap_s))
                continue
            return FetchResult(url, final_url, status, content, headers, utc_now_iso(), None, attempt)
        assert fault is not None
        return FetchResult(url, url, fault.status, None, fetched_at=utc_now_iso(),
                           error=f"{fault.reason} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                           attempts=attempt)

    def _follow(self, url: str, etag: str | None, last_modified: str | None):
        visited = [url]
        current = url
        for _ in range(self.settings.http_max_redirects + 1):
            status, content, headers, location = self._once(current, etag, last_modified)
            if location is None:
                return current, status, content, headers
            nxt = urljoin(current, location)
            if nxt in visited:
                raise _Fault(f"redirect loop: {' -> '.join(visited + [nxt])}", retry=False, status=status)
            if not self.is_allowed(nxt):
                raise _Fault(f"redirect to host not allowed: {nxt}", retry=False, status=status)
            if not self.robots_allows(nxt):
                raise _Fault(f"redirect to a URL disallowed by robots.txt: {nxt}", retry=False, status=status)
            visited.append(nxt)
            current = nxt
        raise _Fault(f"too many redirects (> {self.settings.http_max_redirects}): {' -> '.join(visited)}",
                     retry=False, status=status)

    def _once(self, url: str, etag: str | None, last_modified: str | None, *, max_bytes: int | None = None):
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        max_bytes = max_bytes or self.settings.http_max_bytes
        with self._gate(_host(url)):
            deadline = time.monotonic() + self.total_timeout_s
            try:
                with self._client.stream("GET", url, headers=headers) as resp:
                    status = resp.status_code
                    kept = {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers}
                    if status in REDIRECT_STATUSES:
                        loc = resp.headers.get("location")
                        if not loc:
                            raise _Fault(f"http {status} without Location", retry=False, status=status)
                        return status, None, kept, loc
                    if status == 304:
                        return status, None, kept, None
                    if status in RETRY_STATUSES:
                        wait = parse_retry_after(resp.headers.get("retry-after")) if status in (429, 503) else None
                        raise _Fault(f"http {status}", retry=True, status=status, wait=wait)
                    if status != 200:
                        raise _Fault(f"http {status}", retry=False, status=status)
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise _Fault(f"too large: Content-Length {declared} > {max_bytes} bytes",
                                     retry=False, status=status)
                    chunks: list[bytes] = []
                    total = 0
                    for chunk in resp.iter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise _Fault(f"too large: more than {max_bytes} bytes", retry=False, status=status)
                        if time.monotonic() > deadline:
                            raise _Fault(f"timeout: body not complete within {self.total_timeout_s:g} s",
                                         retry=True, status=status)
                        chunks.append(chunk)
                    return status, b"".join(chunks), kept, None
            except httpx.TimeoutException as e:
                raise _Fault(f"timeout: {type(e).__name__}", retry=True) from e
            except httpx.TransportError as e:  # connection refused/reset, protocol errors, bad gzip
                raise _Fault(f"network error: {type(e).__name__}: {e}", retry=True) from e
            except httpx.HTTPError as e:  # decoding errors and the like: the same bytes would fail again
                raise _Fault(f"http error: {type(e).__name__}: {e}", retry=False) from e
            except (httpx.InvalidURL, ValueError) as e:
                raise _Fault(f"invalid url: {e}", retry=False) from e

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
