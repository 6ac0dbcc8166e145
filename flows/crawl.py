"""The nightly flow's crawl: one Prefect task per origin at a time, results recorded as they come.

``crawl_registry`` hands the scheduler's jobs (``ogi.fetch.schedule``) to ``crawl_site_task`` —
at most ``crawl_parallel_sites`` at once, never two for one origin — and passes each result to
``record`` the moment its task finishes, so a stalled host holds back only its own results. Tasks
take and return plain data (a job dict, the settings without secrets) and write bytes to the
archive URL (``file://`` or ``s3://``), so they run the same on threads, processes, Dask or Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from ogi.core.config import Settings
from ogi.fetch.archive import Archive
from ogi.fetch.attribution import RegistryIndex
from ogi.fetch.crawl import Note, SiteCrawl
from ogi.fetch.registry import Agency
from ogi.fetch.schedule import CrawlScheduler, SiteJob, drive, run_job
from ogi.fetch.sites import host_port

_SECRET_FIELDS = {"s3_secret_access_key"}  # workers read secrets from their own environment


def task_settings(settings: Settings) -> dict[str, Any]:
    """The flow's settings as plain data for tasks (no secrets; the archive URL resolved, so every
    worker writes where the flow reads)."""
    d = settings.model_dump(mode="json", exclude=_SECRET_FIELDS)
    d["archive_url"] = settings.archive_location
    return d


@task(name="crawl-site", task_run_name="crawl {origin}", cache_policy=NO_CACHE, retries=0)
def crawl_site_task(origin: str, job: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Crawl one origin's job (its agencies' listings, documents routed to it) into the archive."""
    s = Settings(**settings)
    return run_job(SiteJob.from_dict(job), s, Archive.from_settings(s)).to_dict()


@dataclass
class CrawlOutcome:
    """What the rest of the night needs from the crawl (the rows themselves are already recorded)."""

    agencies: int = 0
    documents: list[dict[str, Any]] = field(default_factory=list)  # fetched records with a sha256
    reports_found: int = 0
    fetch_errors: list[dict[str, Any]] = field(default_factory=list)
    broken_sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # host → requests, max in flight, …
    tasks: int = 0

    def take(self, result: SiteCrawl, kept_out: list[Note]) -> None:
        for doc in result.all_documents():
            self.reports_found += 1
            if doc.outcome == "error":
                self.fetch_errors.append({"url": doc.url, "agency_id": doc.agency_id, "error": doc.error})
            elif doc.sha256:
                self.documents.append(doc.to_dict())
        notes = [n for a in result.agencies for n in a.notes] + result.notes
        for n in notes:
            entry = {"url": n.url, "agency_id": n.agency_id, "error": n.message}
            (self.warnings if n.outcome == "warning" else self.fetch_errors).append(entry)
        self.skipped += [{"url": n.url, "agency_id": n.agency_id, "reason": n.message} for n in kept_out]
        self.broken_sources += [{"agency_id": a.agency_id, "reason": a.broken_reason}
                                for a in result.agencies if a.broken]
        if result.host:
            h = result.host
            self.hosts[host_port(result.origin)] = {
                k: h.get(k) for k in ("requests", "max_in_flight", "min_spacing_s", "tasks", "robots_fetched",
                                      "down_reason", "retry_after_spent_s")}


def crawl_registry(
    agencies: list[Agency],
    settings: Settings,
    *,
    record: Callable[[list[Mapping[str, Any]]], None],
    known_for: Callable[[list[str]], dict[str, dict[str, dict[str, Any]]]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CrawlOutcome:
    """Crawl every agency, calling ``record(fetch_rows)`` for each task's result as it finishes
    (and ``progress(n)`` with the agencies it crawled). Must run inside the flow (it submits
    Prefect tasks)."""
    outcome = CrawlOutcome(agencies=len(agencies))
    scheduler = CrawlScheduler(agencies, chunk=settings.crawl_chunk_agencies, index=RegistryIndex(agencies))
    plain = task_settings(settings)

    def on_result(result: SiteCrawl, kept_out: list[Note]) -> None:
        outcome.tasks += 1 if result.origin != "(registry)" else 0
        rows: list[Mapping[str, Any]] = [*result.fetch_rows(), *(n.fetch_row() for n in kept_out)]
        record(rows)
        outcome.take(result, kept_out)
        if progress is not None and result.agencies:
            progress(len(result.agencies))

    if scheduler.unroutable:
        on_result(SiteCrawl(origin="(registry)", agencies=scheduler.unroutable), [])
    drive(
        scheduler,
        submit=lambda job: crawl_site_task.submit(job.origin, job.to_dict(), plain),
        wait_first=lambda futures: next(as_completed(futures)),
        result_of=lambda fut: fut.result(),
        on_result=on_result,
        max_parallel=settings.crawl_parallel_sites,
        known_for=known_for,
    )
    return outcome
