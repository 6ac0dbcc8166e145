"""Say when a night needs a person: the verdict on a run, and the optional webhook alert.

A night "needs a person" when it failed (raised) or when a source broke (every fetch of an agency
failed, its listing pages included). ``ogi nightly`` exits non-zero then, and when
``OGI_ALERT_WEBHOOK`` is set a small JSON summary is POSTed there — with a timeout and bounded
retries, and never raising: an unreachable alert endpoint must not turn a good night into a
failed one (the failure to alert is logged and returned instead).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from ogi.core.config import Settings

log = logging.getLogger(__name__)

MAX_LISTED = 20  # broken sources named in one alert (the count is always complete)


def broken_names(summary: dict[str, Any]) -> list[str]:
    """The broken sources' agency ids, in the summary's order, each once."""
    return list(dict.fromkeys(b["agency_id"] for b in summary.get("broken_sources") or []))


def verdict(summary: dict[str, Any]) -> str:
    """One line: ``ok``, or what went wrong (the run's failure, the broken sources named)."""
    problems = []
    if summary.get("status") == "failed":
        problems.append(f"run failed: {summary.get('error')}")
    names = broken_names(summary)
    if names:
        shown = ", ".join(names[:MAX_LISTED]) + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED
                                                  else "")
        problems.append(f"{len(names)} source(s) broke: {shown}")
    return "; ".join(problems) or "ok"


def needs_attention(summary: dict[str, Any]) -> bool:
    return summary.get("status") == "failed" or bool(summary.get("broken_sources"))


def alert_payload(summary: dict[str, Any]) -> dict[str, Any]:
    """The small JSON body: enough to triage from a chat message, not the whole summary."""
    return {
        "source": "ogi-nightly",
        "run_id": summary.get("run_id"),
        "status": summary.get("status"),
        "message": verdict(summary),
        "error": summary.get("error"),
        "broken_sources": (summary.get("broken_sources") or [])[:MAX_LISTED],
        "broken_count": len(summary.get("broken_sources") or []),
        "fetch_errors": len(summary.get("fetch_errors") or []),
        "facts_loaded": summary.get("facts_loaded"),
        "db_path": summary.get("db_path"),
    }


def send_alert(summary: dict[str, Any], settings: Settings) -> str | None:
    """POST the alert when the night needs attention and a webhook is set. Returns None when sent
    or not needed, else the one-line reason it could not be delivered (after the retries)."""
    url = settings.alert_webhook
    if not url or not needs_attention(summary):
        return None
    body = alert_payload(summary)
    attempts = settings.alert_retries + 1
    problem = ""
    for attempt in range(attempts):
        try:
            resp = httpx.post(url, json=body, timeout=settings.alert_timeout_s)
            if resp.status_code < 400:
                return None
            problem = f"http {resp.status_code}"
            if resp.status_code < 500 and resp.status_code != 429:
                break  # the endpoint refuses this request: asking again will not help
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < attempts:
            time.sleep(min(0.5 * 2**attempt, 5.0))
    reason = f"alert to {url} not delivered after {attempt + 1} attempt(s): {problem}"
    log.warning(reason)
    return reason
