"""The politeness gate of one host: every request to it passes here.

At most ``concurrency`` requests in flight, request starts at least ``min_interval`` apart (widened
by robots.txt's Crawl-delay), and a host-wide pause when the host answers Retry-After — the pause
holds every thread, and the time paused is counted so a night never waits on one host past its
budget. It holds across crawl tasks because the flow never runs two tasks for one host at once
(``ogi.fetch.schedule``); a task that continues a host starts one interval after it begins
(``not_before``), so two tasks' requests are as far apart as one task's.

It also keeps what the tests and the report need to see: requests made, the most in flight at
once and the smallest spacing of two starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class HostGate:
    def __init__(self, concurrency: int, min_interval: float, *, not_before: float = 0.0) -> None:
        self.concurrency = max(1, concurrency)
        self.min_interval = max(0.0, min_interval)
        self._sem = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._next_start = not_before  # time.monotonic() before which no request may start
        self._last_start: float | None = None
        self._last_send: float | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.min_spacing_s: float | None = None
        self.paused_s = 0.0  # host-wide Retry-After pauses granted so far

    def widen(self, interval: float) -> None:
        """Crawl-delay: never start requests closer than ``interval``."""
        with self._lock:
            if interval > self.min_interval:
                if self._last_start is not None:
                    self._next_start = max(self._next_start, self._last_start + interval)
                self.min_interval = interval

    def pause(self, seconds: float) -> None:
        """Hold every request to the host for ``seconds`` from now (Retry-After)."""
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._next_start:
                self.paused_s += until - max(self._next_start, time.monotonic())
                self._next_start = until

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One request's turn: a free slot, then the host's next start time."""
        with self._sem:
            while True:
                with self._lock:
                    now = time.monotonic()
                    wait = self._next_start - now
                    if wait <= 0:
                        if self._last_start is not None:
                            spacing = now - self._last_start
                            self.min_spacing_s = spacing if self.min_spacing_s is None else min(
                                self.min_spacing_s, spacing)
                        self._last_start = now
                        self._next_start = now + self.min_interval
                        self.in_flight += 1
                        self.max_in_flight = max(self.max_in_flight, self.in_flight)
                        self.requests += 1
                        break
                # Re-check after sleeping: a pause or a Crawl-delay may have moved the start time.
                time.sleep(min(wait, 1.0))
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight -= 1

    def before_send(self) -> None:
        """Called when a request's first byte is about to leave: a thread delayed between its slot
        and its send (a loaded machine) must not send closer to the previous request than the
        interval, so the spacing the host sees is the spacing kept here."""
        while True:
            with self._lock:
                now = time.monotonic()
                wait = 0.0 if self._last_send is None else self._last_send + self.min_interval - now
                if wait <= 0:
                    self._last_send = now
                    return
            time.sleep(wait)

    def stats(self) -> dict[str, float | int | None]:
        with self._lock:
            return {"requests": self.requests, "max_in_flight": self.max_in_flight,
                    "min_spacing_s": None if self.min_spacing_s is None else round(self.min_spacing_s, 4),
                    "paused_s": round(self.paused_s, 3), "min_interval_s": self.min_interval}
