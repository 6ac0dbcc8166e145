"""Which crawl task runs when: one task per origin at a time, so the politeness gate holds everywhere.

The registry's agencies are grouped by the origin of their listing pages; each origin's agencies
go in chunks (``crawl_chunk_agencies``), agencies sharing a listing in the same chunk. The
scheduler hands out a job for an origin only while no other job of that origin runs, so every
request to a host passes the one gate of the one task that owns it — whatever runner the tasks
run on (threads, processes, Dask or Ray workers, several machines), with no shared limiter to
reach: the flow, the only one handing out jobs, is the lock. A host's next job carries what the
night learned of it (``HostState``: robots.txt, down, Retry-After spent) and starts one interval
late, so neither robots.txt nor the spacing starts over between chunks.

Documents found on another origin (attachments on a file server, articles on the disclosure
platform's host) come back as ``FetchItem`` s and are queued as jobs of *their* origin; reports
reposted from other agencies come back as ``Repost`` s and are linked to the agency their title
names (``RegistryIndex``) — queued for it — or kept out with the reason.

Why not a shared rate limiter (Prefect global concurrency limits, pyrate-limiter on SQLite or
Redis)? Every request would pay a round trip to it, it would need a service every worker reaches,
and a lease lost with a dead worker would stall the host; partitioning by origin gives the same
guarantee for free and also makes robots.txt a once-a-night fetch. Two separate runs crawling the
same hosts at once are not coordinated (a run holds its home's lock; separate homes are the
operator's choice).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from ogi.fetch.attribution import RegistryIndex
from ogi.fetch.crawl import AgencyCrawl, FetchItem, Note, SiteCrawl, _is_file_url, crawl_site, failed_site
from ogi.fetch.http_client import HostState, utc_now_iso
from ogi.fetch.registry import Agency
from ogi.fetch.sites import try_origin

ITEMS_PER_JOB = 200


@dataclass
class SiteJob:
    """One crawl task's work: an origin, its agencies (a chunk), routed documents, host state."""

    job_id: int
    origin: str
    agencies: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    host: dict[str, Any] | None = None
    known: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # agency → URL → validators

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SiteJob:
        return cls(**d)

    @property
    def agency_ids(self) -> list[str]:
        return [a["agency_id"] for a in self.agencies]


def run_job(job: SiteJob, settings, archive) -> SiteCrawl:
    """Run one job (what a crawl task does)."""
    return crawl_site(
        job.origin, [Agency.from_dict(a) for a in job.agencies], [FetchItem.from_dict(i) for i in job.items],
        settings, archive, known=job.known, host=HostState.from_dict(job.host) if job.host else None,
    )


class CrawlScheduler:
    """Pure bookkeeping of the night's crawl jobs (no I/O); the flow submits what it hands out."""

    def __init__(self, agencies: Iterable[Agency], *, chunk: int = 100, index: RegistryIndex | None = None) -> None:
        agencies = list(agencies)
        self.index = index if index is not None else RegistryIndex(agencies)
        self.unroutable: list[AgencyCrawl] = []  # agencies no job can crawl, with the reason
        self._next_id = 0
        self._queue: dict[str, deque[SiteJob]] = {}
        self._ready: deque[str] = deque()  # origins with queued jobs and none running
        self._in_ready: set[str] = set()
        self._busy: set[str] = set()
        self._hosts: dict[str, dict[str, Any]] = {}
        self._planned: set[tuple[str, str]] = set()  # (agency_id, url) fetched or queued tonight
        self.jobs_run = 0
        by_origin: dict[str, list[Agency]] = {}
        for a in agencies:
            origins = a.origins()
            if not a.listing_urls:
                self.unroutable.append(AgencyCrawl(a.agency_id, broken=True,
                                                   broken_reason="no listing URL in the registry"))
            elif not origins:
                reason = f"no usable http(s) listing URL in the registry: {a.listing_urls[0]}"
                self.unroutable.append(AgencyCrawl(a.agency_id, broken=True, broken_reason=reason, notes=[
                    Note(a.listing_urls[0], a.agency_id, "error", reason, utc_now_iso())]))
            for o in origins:
                by_origin.setdefault(o, []).append(a)
        for origin, members in by_origin.items():
            # agencies sharing a listing stand together, so one chunk fetches that listing once
            members.sort(key=lambda a: next(u for u in a.listing_urls if try_origin(u) == origin))
            for start in range(0, len(members), max(1, chunk)):
                self._add(SiteJob(self._new_id(), origin,
                                  agencies=[a.to_dict() for a in members[start:start + chunk]]))

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _add(self, job: SiteJob) -> None:
        q = self._queue.setdefault(job.origin, deque())
        q.append(job)
        self._mark_ready(job.origin)

    def _mark_ready(self, origin: str) -> None:
        if origin in self._queue and origin not in self._busy and origin not in self._in_ready:
            self._ready.append(origin)
            self._in_ready.add(origin)

    def pending(self) -> int:
        return sum(len(q) for q in self._queue.values())

    def running(self) -> int:
        return len(self._busy)

    def next_job(self) -> SiteJob | None:
        """A job whose origin has no job running, or None (all idle origins are done)."""
        while self._ready:
            origin = self._ready.popleft()
            self._in_ready.discard(origin)
            q = self._queue.get(origin)
            if not q or origin in self._busy:
                continue
            job = q.popleft()
            if not q:
                del self._queue[origin]
            job.host = self._hosts.get(origin)
            self._busy.add(origin)
            self.jobs_run += 1
            return job
        return None

    def failed(self, job: SiteJob, reason: str) -> SiteCrawl:
        """What to record when a job's task raised or was lost."""
        return failed_site(job.origin, [Agency.from_dict(a) for a in job.agencies],
                           [FetchItem.from_dict(i) for i in job.items], reason,
                           HostState.from_dict(job.host) if job.host else None)

    def complete(self, job: SiteJob, result: SiteCrawl) -> list[Note]:
        """Take a finished job's result: free its origin, queue the documents it found for other
        origins and the reposts linked to other agencies. Returns the notes of reposts kept out."""
        origin = job.origin
        self._busy.discard(origin)
        if result.host:
            self._hosts[origin] = result.host
        for d in result.all_documents():
            self._planned.add((d.agency_id, d.url))
        for item in result.deferred:
            self._queue_item(item)
        kept_out = [n for c in result.agencies for n in self._route_reposts(c)]
        self._mark_ready(origin)
        return kept_out

    def _queue_item(self, item: FetchItem) -> None:
        key = (item.agency_id, item.url)
        origin = try_origin(item.url)
        if key in self._planned or origin is None:
            return
        self._planned.add(key)
        q = self._queue.get(origin)
        last = q[-1] if q else None
        if last is not None and not last.agencies and len(last.items) < ITEMS_PER_JOB:
            last.items.append(item.to_dict())
            return
        self._add(SiteJob(self._new_id(), origin, items=[item.to_dict()]))

    def _route_reposts(self, crawl: AgencyCrawl) -> list[Note]:
        notes: list[Note] = []
        for r in crawl.reposts:
            agency_id, why = self.index.resolve(r.named, r.owner_id)
            if agency_id is None:
                notes.append(Note(r.url, r.owner_id, "skipped", f"not this agency's report: {why}", r.found_at,
                                  report_year=r.report_year))
                continue
            agency = self.index.get(agency_id)
            owner = self.index.get(r.owner_id)
            site = sorted(set((agency.origins() if agency else []) + (owner.origins() if owner else [])))
            extra = list((agency.hints.get("attachment_hosts") or []) if agency else [])
            self._queue_item(FetchItem(
                url=r.url, agency_id=agency_id, role="file" if _is_file_url(r.url) else "page",
                report_year=r.report_year, title=r.title, scope=r.scope,
                filename=r.url.rsplit("/", 1)[-1] or None, site_origins=site, extra_hosts=extra))
        return notes


F = TypeVar("F")


def drive(
    scheduler: CrawlScheduler,
    submit: Callable[[SiteJob], F],
    wait_first: Callable[[list[F]], F],
    result_of: Callable[[F], Mapping[str, Any] | SiteCrawl],
    on_result: Callable[[SiteCrawl, list[Note]], None],
    *,
    max_parallel: int,
    known_for: Callable[[list[str]], dict[str, dict[str, dict[str, Any]]]] | None = None,
) -> None:
    """Run the night's jobs, at most ``max_parallel`` at once and never two of one origin, and hand
    each result to ``on_result`` as it arrives (a stalled host holds only its own results)."""
    running: dict[F, SiteJob] = {}
    while True:
        while len(running) < max_parallel:
            job = scheduler.next_job()
            if job is None:
                break
            if known_for is not None and job.agencies:
                job.known = known_for(job.agency_ids)
            running[submit(job)] = job
        if not running:
            return
        fut = wait_first(list(running))
        job = running.pop(fut)
        try:
            raw = result_of(fut)
            result = raw if isinstance(raw, SiteCrawl) else SiteCrawl.from_dict(raw)
        except Exception as e:  # the task died: its agencies and items are recorded with the reason
            result = scheduler.failed(job, f"crawl task for {job.origin} failed: {type(e).__name__}: {e}"[:500])
        on_result(result, scheduler.complete(job, result))


def crawl_locally(
    agencies: Iterable[Agency],
    settings,
    archive,
    *,
    known_for: Callable[[list[str]], dict[str, dict[str, dict[str, Any]]]] | None = None,
    workers: int | None = None,
) -> list[tuple[SiteCrawl, list[Note]]]:
    """The whole crawl in this process on a thread pool (tests, scripts): the flow's schedule,
    without Prefect."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    scheduler = CrawlScheduler(agencies, chunk=settings.crawl_chunk_agencies)
    out: list[tuple[SiteCrawl, list[Note]]] = []
    if scheduler.unroutable:
        out.append((SiteCrawl(origin="(registry)", agencies=scheduler.unroutable), []))
    parallel = workers or settings.crawl_parallel_sites

    def first(futs: list[Future]) -> Future:
        return next(iter(wait(futs, return_when=FIRST_COMPLETED).done))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        drive(scheduler, lambda job: pool.submit(run_job, job, settings, archive), first,
              lambda f: f.result(), lambda r, notes: out.append((r, notes)),
              max_parallel=parallel, known_for=known_for)
    return out
