"""A polite HTTP client for one origin of a government portal: slow, bounded, never raising on faults.

One client serves one origin (scheme, host, port) and every request it makes passes that host's
gate (``ogi.fetch.gate``: concurrency cap, minimum interval, Crawl-delay, Retry-After pauses).
URLs on any other origin are refused without a request — the crawler routes them to the task that
owns that origin (``ogi.fetch.schedule``) — and so are redirects that leave the origin.

Every attempt has one wall-clock deadline covering connect, TLS, headers and body
(``http_deadline_s``): the socket timeouts of each read are cut to what is left of it, so a
server that drips its headers a byte at a time is dropped on time (and not asked again). 429/5xx/network faults are
retried a bounded number of times with exponential backoff; Retry-After pauses the whole host,
within a per-host budget for the night — a host asking for more is left alone for the night. After
``host_failure_limit`` requests in a row fail, the host's remaining URLs fail fast with the reason.
robots.txt is read once per host and night with protego (RFC 9309: wildcards, ``$``, longest
match; the group for our product token ``ogi`` or ``*``). Whatever goes wrong is *reported* in the
``FetchResult`` (``error``).
"""

from __future__ import annotations

import contextlib
import email.utils
import ssl
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx
from protego import Protego

from ogi.core.config import USER_AGENT, Settings
from ogi.core.textcodec import decode_html
from ogi.fetch.gate import HostGate
from ogi.fetch.sites import host_port, origin_of, try_origin

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


@dataclass
class HostState:
    """What one night has learned about a host, handed from one crawl task of the host to the next
    (plain data): its robots.txt (read once a night), whether it is down, Retry-After spent."""

    origin: str
    robots_fetched: bool = False
    robots_txt: str | None = None  # None: no rules (absent, or could not be fetched)
    robots_note: str | None = None  # why there are no rules, when fetched without success
    down_reason: str | None = None  # set: every further URL of the host fails with this reason
    retry_after_spent_s: float = 0.0
    tasks: int = 0  # crawl tasks of this host so far tonight (a continuation starts one interval late)
    requests: int = 0
    max_in_flight: int = 0
    min_spacing_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HostState:
        return cls(**d)


class _Fault(Exception):
    """A failed attempt; ``retry`` says whether another attempt may help, ``host`` whether it says
    something about the host (timeouts, resets, 5xx) rather than about the URL (404, too large)."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None, wait: float | None = None,
                 host: bool = False):
        super().__init__(reason)
        self.reason, self.retry, self.status, self.wait, self.host = reason, retry, status, wait, host


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


# ------------------------------------------------------------------ one deadline per attempt

_deadline = threading.local()  # .at: time.monotonic() by which the current attempt must be done


def _left(timeout: float | None, exc: type[Exception]) -> float | None:
    end = getattr(_deadline, "at", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise exc("request deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation waits at most until the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        gate = getattr(_deadline, "gate", None)
        if gate is not None:  # the request's first bytes: hold them to the host's spacing
            _deadline.gate = None
            gate.before_send()
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sync backend, with the deadline applied to connect and every read/write.

    httpx has per-read timeouts only; a total deadline needs the socket operations themselves to
    wait no longer than what is left (a watchdog thread could not interrupt a blocked read)."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One CA bundle load per process (~50 ms each), shared by every client."""
    return httpx.create_ssl_context()


def _transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=_ssl_context())
    pool = transport._pool  # httpcore pool (or proxy pool): both take their backend from here
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


# ------------------------------------------------------------------ the client


class PoliteClient:
    """Sync HTTP client for one origin, safe to share between threads. Use as a context manager
    or ``close()``; ``state()`` gives what the next task of the host needs (robots.txt, down, …)."""

    def __init__(
        self,
        settings: Settings,
        origin: str,
        *,
        state: HostState | None = None,
        backoff_cap_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.origin = origin_of(origin)
        self.backoff_cap_s = backoff_cap_s
        self._state = HostState.from_dict(state.to_dict()) if state else HostState(self.origin)
        if self._state.origin != self.origin:
            raise ValueError(f"host state of {self._state.origin} given to a client of {self.origin}")
        t = settings.http_timeout_s
        # Requests go straight to the transport (see ``_exchange``): one per origin, keep-alive
        # connections reused across the task's requests.
        self._transport = transport or _transport()
        self._timeout = httpx.Timeout(connect=t, read=t, write=t, pool=t).as_dict()
        self._headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        self._cookies = httpx.Cookies()
        self._cookies_lock = threading.Lock()
        # A continuing task waits one interval before its first request, so the spacing holds
        # across tasks of the host as within one.
        not_before = time.monotonic() + settings.per_host_min_interval_s if self._state.tasks else 0.0
        self._state.tasks += 1
        self.gate = HostGate(settings.per_host_concurrency, settings.per_host_min_interval_s, not_before=not_before)
        self._robots: Protego | None = None
        self._robots_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._failures_in_a_row = 0
        if self._state.robots_fetched:
            self._apply_robots(self._state.robots_txt)

    # -- where ---------------------------------------------------------------------------------
    def is_allowed(self, url: str) -> bool:
        """Only this client's origin: same scheme, host and port."""
        return try_origin(url) == self.origin

    def state(self) -> HostState:
        stats = self.gate.stats()
        with self._state_lock:
            s = HostState.from_dict(self._state.to_dict())
        s.requests += int(stats["requests"] or 0)
        s.max_in_flight = max(s.max_in_flight, int(stats["max_in_flight"] or 0))
        spacing = stats["min_spacing_s"]
        if spacing is not None:
            s.min_spacing_s = spacing if s.min_spacing_s is None else min(s.min_spacing_s, float(spacing))
        return s

    @property
    def down_reason(self) -> str | None:
        return self._state.down_reason

    def _set_down(self, reason: str) -> None:
        with self._state_lock:
            if self._state.down_reason is None:
                self._state.down_reason = reason

    # -- robots.txt ----------------------------------------------------------------------------
    def _apply_robots(self, text: str | None) -> None:
        self._robots = Protego.parse(text) if text else None
        if self._robots is not None:
            delay = self._robots.crawl_delay(ROBOTS_AGENT)
            if delay:
                self.gate.widen(min(float(delay), CRAWL_DELAY_CAP_S))

    def _ensure_robots(self) -> None:
        """The host's robots.txt, fetched once a night (one attempt, small cap).

        No robots.txt (4xx), or one that cannot be fetched (5xx, network error, too large), means
        no rules: a portal's broken robots.txt must not silently drop a year of reports, and the
        host's rate limit still applies. The note says which it was.
        """
        with self._robots_lock:
            if self._state.robots_fetched:
                return
            text: str | None = None
            note: str | None = None
            try:
                status, content, _h, _loc = self._once(f"{self.origin}/robots.txt", None, None,
                                                       max_bytes=ROBOTS_MAX_BYTES)
                if status == 200 and content:
                    text = decode_html(content)
                else:
                    note = f"robots.txt: http {status}, no rules"
            except _Fault as f:
                if f.status is None or not 400 <= f.status < 500:  # a 4xx is no robots.txt: nothing to say
                    note = f"robots.txt not fetched ({f.reason}), no rules"
                if f.wait is not None:  # 429/503 with Retry-After: the host's pause (or its night off)
                    self._retry_after(f)
                elif f.host:
                    self._count_failure(f"robots.txt: {f.reason}")
            self._apply_robots(text)
            with self._state_lock:
                self._state.robots_fetched, self._state.robots_txt, self._state.robots_note = True, text, note

    def robots_allows(self, url: str) -> bool:
        if not self.settings.respect_robots_txt:
            return True
        self._ensure_robots()
        return self._robots is None or self._robots.can_fetch(url, ROBOTS_AGENT)

    # -- requests ------------------------------------------------------------------------------
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url``; conditional when ``etag``/``last_modified`` are given (→ status 304)."""
        started = utc_now_iso()

        def refused(reason: str) -> FetchResult:
            return FetchResult(url, url, None, None, fetched_at=started, error=reason, attempts=0)

        if not self.is_allowed(url):
            other = try_origin(url)
            return refused(f"host not allowed: {host_port(other) if other else url} "
                           f"(this crawl stays on {host_port(self.origin)})")
        if self._state.down_reason:
            return refused(f"host skipped: {self._state.down_reason}")
        if not self.robots_allows(url):
            return refused(f"disallowed by robots.txt of {host_port(self.origin)}")
        if self._state.down_reason:  # robots.txt may have found the host down
            return refused(f"host skipped: {self._state.down_reason}")
        max_attempts = 1 + max(0, self.settings.http_retries)
        fault: _Fault | None = None
        attempt = 0
        for attempt in range(1, max_attempts + 1):
            try:
                final_url, status, content, headers = self._follow(url, etag, last_modified)
            except _Fault as f:
                fault = f
                if f.wait is not None and not self._retry_after(f):
                    break
                if not f.retry or attempt == max_attempts:
                    break
                if f.wait is None:
                    time.sleep(min(self.settings.http_backoff_s * (2 ** (attempt - 1)), self.backoff_cap_s))
                continue
            self._failures_in_a_row = 0
            return FetchResult(url, final_url, status, content, headers, utc_now_iso(), None, attempt)
        assert fault is not None
        if fault.host:
            self._count_failure(fault.reason)
        else:
            self._failures_in_a_row = 0
        return FetchResult(url, url, fault.status, None, fetched_at=utc_now_iso(),
                           error=f"{fault.reason} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                           attempts=attempt)

    def _retry_after(self, f: _Fault) -> bool:
        """Honour a Retry-After host-wide: pause the gate, or leave the host alone for the night
        when the wait is past the cap or the host's remaining budget. True: retry the URL."""
        wait = f.wait or 0.0
        cap, budget = self.settings.retry_after_cap_s, self.settings.retry_after_budget_s
        with self._state_lock:
            left = max(0.0, budget - self._state.retry_after_spent_s)
            if wait <= cap and wait <= left:
                self._state.retry_after_spent_s += wait
                ok = True
            else:
                ok = False
        if ok:
            self.gate.pause(wait)
            return f.retry
        why = "over the cap of" if wait > cap else "over what is left of the night's budget,"
        f.reason = f"{f.reason}, Retry-After {wait:g} s ({why} {cap if wait > cap else left:g} s)"
        self._set_down(f"asked to wait {wait:g} s (http {f.status} Retry-After), more than this crawl waits for one host")
        return False

    def _count_failure(self, reason: str) -> None:
        with self._state_lock:
            self._failures_in_a_row += 1
            n = self._failures_in_a_row
        if n >= self.settings.host_failure_limit:
            self._set_down(f"{n} requests in a row failed (last: {reason})")

    def _follow(self, url: str, etag: str | None, last_modified: str | None):
        visited = [url]
        current = url
        status: int | None = None
        for _ in range(self.settings.http_max_redirects + 1):
            status, content, headers, location = self._once(current, etag, last_modified)
            if location is None:
                return current, status, content, headers
            nxt = urljoin(current, location)
            if nxt in visited:
                raise _Fault(f"redirect loop: {' -> '.join(visited + [nxt])}", retry=False, status=status)
            if not self.is_allowed(nxt):
                raise _Fault(f"redirect leaves {host_port(self.origin)}: {nxt}", retry=False, status=status)
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
        deadline_s = self.settings.http_deadline_s
        with self.gate.slot():
            _deadline.at = time.monotonic() + deadline_s
            _deadline.gate = self.gate
            try:
                return self._exchange(url, headers, max_bytes)
            except httpx.TimeoutException as e:
                if time.monotonic() >= _deadline.at - 0.01:
                    # Not retried: a server that kept a request busy a whole deadline would again.
                    raise _Fault(f"timeout: no complete response within the {deadline_s:g} s deadline",
                                 retry=False, host=True) from e
                raise _Fault(f"timeout: {type(e).__name__}", retry=True, host=True) from e
            except httpx.TransportError as e:  # connection refused/reset, protocol errors, bad gzip
                raise _Fault(f"network error: {type(e).__name__}: {e}", retry=True, host=True) from e
            except httpx.HTTPError as e:  # decoding errors and the like: the same bytes would fail again
                raise _Fault(f"http error: {type(e).__name__}: {e}", retry=False) from e
            except (httpx.InvalidURL, ValueError) as e:
                raise _Fault(f"invalid url: {e}", retry=False) from e
            finally:
                _deadline.at = None
                _deadline.gate = None

    def _send(self, url: str, headers: dict[str, str]) -> httpx.Response:
        """One GET on the transport, without ``httpx.Client``'s layers: its URL merging, auth,
        redirect and event-hook machinery cost ~20% of the crawl's CPU on a night of unchanged
        pages (redirects are followed here, by ``_follow``). Cookies are kept as the client kept
        them: what the origin sets is sent back."""
        request = httpx.Request("GET", url, headers={**self._headers, **headers},
                                extensions={"timeout": self._timeout})
        if self._cookies.jar:
            with self._cookies_lock:
                self._cookies.set_cookie_header(request)
        response = self._transport.handle_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            with self._cookies_lock:
                self._cookies.extract_cookies(response)
        return response

    def _exchange(self, url: str, headers: dict[str, str], max_bytes: int):
        with contextlib.closing(self._send(url, headers)) as resp:
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
                raise _Fault(f"http {status}", retry=True, status=status, wait=wait, host=True)
            if status != 200:
                raise _Fault(f"http {status}", retry=False, status=status)
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Fault(f"too large: Content-Length {declared} > {max_bytes} bytes", retry=False, status=status)
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise _Fault(f"too large: more than {max_bytes} bytes", retry=False, status=status)
                chunks.append(chunk)
            return status, b"".join(chunks), kept, None

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
