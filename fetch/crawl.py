"""Crawl one origin's share of the registry: listing pages → report links → report pages and their
attachments → archive.

A crawl task owns one origin (scheme, host, port) and one ``PoliteClient`` for it; it runs the
agencies whose listings are there (``crawl_agency``) and the single documents other tasks routed
to it (``fetch_item``) on a thread pool no larger than the host's concurrency. A document on
another origin is never fetched here: when the registry's rules allow it (``ogi.fetch.sites``) it
becomes a ``FetchItem`` for that origin's task, else a recorded refusal. Listing links, pagination
and redirects stay on the origin.

Returns plain records (no database): the loader records every fetch and the flow decides what to
extract. A report's article page is itself a document (it often holds the tables) and each of its
attachments is another. With ``known`` (URL → last sha256/etag/last_modified from the database)
unchanged documents are recognised by a 304 or by an identical hash, and changed ones are marked
``revised`` with ``supersedes`` = the old hash; the old bytes stay in the archive. Anything that
goes wrong — a network fault, a malformed page, a bug — costs only the agency or document it
happened in, and is recorded with its reason.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import unquote, urlsplit

from ogi.core import media
from ogi.core.config import Settings
from ogi.core.textcodec import decode_html
from ogi.fetch.archive import Archive
from ogi.fetch.attribution import judge
from ogi.fetch.discover import Listing, ReportLink, load_rules, parse_listing, parse_report_page
from ogi.fetch.http_client import FetchResult, HostState, PoliteClient, utc_now_iso
from ogi.fetch.registry import Agency
from ogi.fetch.sites import document_refusal, host_port, origin_of, try_origin

# What a row of ``fetches`` can say: a document fetch ended new/unchanged/not_modified/revised or
# in an error; an error on a listing page or in the crawler itself; a listing page cap hit or
# another warning; a report link kept out (a repost of another agency's report) — skipped.
OUTCOMES = ("new", "unchanged", "not_modified", "revised", "error", "warning", "skipped")
LISTING_CACHE_SIZE = 512  # parsed listing pages kept per task (agencies sharing a column share them)


@dataclass
class KnownUrl:
    """What the database remembers of a URL's last good fetch."""

    sha256: str | None
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KnownUrl:
        return cls(d.get("sha256"), d.get("etag"), d.get("last_modified"))


@dataclass
class DocumentRecord:
    """One fetched (or failed) report document: an article page, an attachment, or a direct file."""

    url: str
    agency_id: str
    report_year: int | None
    title: str
    scope: str | None
    sha256: str | None  # None only when the fetch failed and nothing was archived before
    media_type: str | None
    fetched_at: str
    http_status: int | None
    etag: str | None
    last_modified: str | None
    outcome: str  # new / unchanged / not_modified / revised / error
    error: str | None = None
    supersedes: str | None = None  # earlier sha256 at this URL when outcome == revised
    role: str = "page"  # page (HTML article) / attachment / file (listing links straight to a file)
    parent_url: str | None = None  # the article page an attachment was linked from
    filename: str | None = None
    size_bytes: int | None = None
    attachments: list[str] = field(default_factory=list)  # attachment URLs of a page
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        # by hand, not ``asdict`` (a deep copy field by field): called several times per
        # document a night, and every field but ``attachments`` (a list of str) is immutable
        d = {f: getattr(self, f) for f in _DOCUMENT_FIELDS}
        d["attachments"] = list(self.attachments)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DocumentRecord:
        return cls(**d)


_DOCUMENT_FIELDS = tuple(f.name for f in fields(DocumentRecord))


@dataclass
class ListingVisit:
    url: str
    http_status: int | None
    error: str | None
    reports_found: int
    fetched_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Note:
    """A fetch row that is not a document: a failed listing page, a crawler error, a warning,
    a skipped link. ``outcome`` is one of OUTCOMES."""

    url: str
    agency_id: str | None
    outcome: str
    message: str
    fetched_at: str
    http_status: int | None = None
    report_year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fetch_row(self) -> dict[str, Any]:
        return {"url": self.url, "agency_id": self.agency_id, "report_year": self.report_year,
                "fetched_at": self.fetched_at, "http_status": self.http_status, "outcome": self.outcome,
                "sha256": None, "error": self.message, "etag": None, "last_modified": None}


@dataclass
class Repost:
    """A report link in an agency's column whose title names another publisher."""

    url: str
    title: str
    named: str
    owner_id: str  # the column's owner (never the report's agency)
    listing_url: str
    report_year: int | None
    scope: str | None
    found_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FetchItem:
    """One document to fetch on an origin other than where it was found (plain data)."""

    url: str
    agency_id: str
    role: str  # page / attachment / file
    report_year: int | None
    title: str
    scope: str | None
    parent_url: str | None = None
    filename: str | None = None
    media_type_hint: str | None = None
    known: dict[str, Any] | None = None
    site_origins: list[str] = field(default_factory=list)  # the agency's listing origins (site rules)
    extra_hosts: list[str] = field(default_factory=list)  # the agency's attachment_hosts hint

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FetchItem:
        return cls(**d)


@dataclass
class AgencyCrawl:
    agency_id: str
    listing_pages: list[ListingVisit] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    broken: bool = False
    broken_reason: str | None = None
    notes: list[Note] = field(default_factory=list)  # listing failures, warnings, crawler errors
    reposts: list[Repost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AgencyCrawl:
        return cls(
            agency_id=d["agency_id"],
            listing_pages=[ListingVisit(**v) for v in d.get("listing_pages", [])],
            documents=[DocumentRecord.from_dict(x) for x in d.get("documents", [])],
            broken=d.get("broken", False), broken_reason=d.get("broken_reason"),
            notes=[Note(**n) for n in d.get("notes", [])],
            reposts=[Repost(**r) for r in d.get("reposts", [])],
        )

    @property
    def warnings(self) -> list[Note]:
        return [n for n in self.notes if n.outcome == "warning"]


@dataclass
class SiteCrawl:
    """What one crawl task of one origin did (plain data, shipped back to the flow)."""

    origin: str
    agencies: list[AgencyCrawl] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)  # routed single documents
    notes: list[Note] = field(default_factory=list)
    deferred: list[FetchItem] = field(default_factory=list)  # documents for other origins' tasks
    host: dict[str, Any] | None = None  # HostState after this task
    error: str | None = None  # the task itself failed (every agency and item is marked with it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SiteCrawl:
        return cls(
            origin=d["origin"],
            agencies=[AgencyCrawl.from_dict(a) for a in d.get("agencies", [])],
            documents=[DocumentRecord.from_dict(x) for x in d.get("documents", [])],
            notes=[Note(**n) for n in d.get("notes", [])],
            deferred=[FetchItem.from_dict(x) for x in d.get("deferred", [])],
            host=d.get("host"), error=d.get("error"),
        )

    def all_documents(self) -> list[DocumentRecord]:
        return [d for a in self.agencies for d in a.documents] + self.documents

    def fetch_rows(self) -> list[dict[str, Any]]:
        """Rows for ``fetches``: every document fetch, failed listing page, warning and error."""
        rows = [d.to_dict() for d in self.all_documents()]
        rows += [n.fetch_row() for a in self.agencies for n in a.notes]
        rows += [n.fetch_row() for n in self.notes]
        return rows


def sniff_media_type(data: bytes, content_type: str, url: str, filename: str | None = None) -> str:
    """Media type from the bytes first (portals mislabel files), then the name, then the header —
    the extractor's own sniffing, so the crawler and the extractor never disagree on a document."""
    return media.sniff_media_type(data, filename or unquote(urlsplit(url).path), content_type or None)


def _ext(name: str) -> str:
    last = unquote(name).split("?")[0].rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def _is_file_url(url: str) -> bool:
    return _ext(urlsplit(url).path) in load_rules().attachment_ext


def _hinted_filter(agency: Agency, links: list[ReportLink]) -> list[ReportLink]:
    """A listing shared by several agencies (a portal-wide 年报 column) is narrowed by the
    registry hint ``title_regex``: only titles it matches belong to this agency."""
    pattern = agency.hints.get("title_regex")
    if not pattern:
        return links
    rx = re.compile(pattern)
    return [r for r in links if rx.search(r.title)]


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:500]


def _listing_origins(agency: Agency) -> list[str]:
    return sorted({o for o in (try_origin(u) for u in agency.listing_urls) if o})


def _extra_hosts(agency: Agency) -> list[str]:
    hosts = agency.hints.get("attachment_hosts") or []
    return [h for h in hosts if isinstance(h, str)] if isinstance(hosts, list) else []


# ------------------------------------------------------------------ fetching one document

def _fetch_document(
    url: str, client: PoliteClient, archive: Archive, known: KnownUrl | None, base: dict[str, Any],
) -> tuple[DocumentRecord, bytes | None]:
    """Fetch one document (conditionally when known) and archive it; returns the record and bytes."""
    # Ask "changed since?" only when the archive still holds what we would fall back on.
    have = bool(known and known.sha256 and archive.has(known.sha256))
    res: FetchResult = client.get(url, etag=known.etag if known and have else None,
                                  last_modified=known.last_modified if known and have else None)
    common = dict(url=url, fetched_at=res.fetched_at, http_status=res.status, attempts=res.attempts, **base)
    if res.error is not None:
        # Nothing is written: what the archive holds for this URL stays as it was.
        return DocumentRecord(sha256=None, media_type=None, etag=None, last_modified=None,
                              outcome="error", error=res.error, **common), None
    if res.not_modified and known and known.sha256:
        data = archive.get(known.sha256)
        return DocumentRecord(
            sha256=known.sha256, media_type=sniff_media_type(data, "", url, base.get("filename")),
            etag=res.headers.get("etag") or known.etag,
            last_modified=res.headers.get("last-modified") or known.last_modified,
            outcome="not_modified", size_bytes=len(data), **common), data
    data = res.content or b""
    sha = archive.put(data)
    if known is None or not known.sha256:
        outcome, supersedes = "new", None
    elif known.sha256 == sha:
        outcome, supersedes = "unchanged", None
    else:
        outcome, supersedes = "revised", known.sha256
    return DocumentRecord(
        sha256=sha, media_type=sniff_media_type(data, res.content_type, res.final_url, base.get("filename")),
        etag=res.headers.get("etag"), last_modified=res.headers.get("last-modified"),
        outcome=outcome, supersedes=supersedes, size_bytes=len(data), **common), data


def _refused(url: str, reason: str, base: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(url=url, sha256=None, media_type=base.pop("media_type_hint", None), fetched_at=utc_now_iso(),
                          http_status=None, etag=None, last_modified=None, outcome="error", error=reason,
                          attempts=0, **base)


class _Context:
    """What one document fetch needs besides the URL: where to put records and deferred items."""

    def __init__(self, client: PoliteClient, archive: Archive, known: Mapping[str, KnownUrl],
                 defer: Callable[[FetchItem], None] | None) -> None:
        self.client, self.archive, self.known, self.defer = client, archive, known, defer

    def route(self, url: str, base: dict[str, Any], site_origins: list[str], extra_hosts: list[str],
              out: list[DocumentRecord], notes: list[Note], *, hint: str | None = None) -> None:
        """Fetch ``url`` here when it is on this origin; else hand it to its origin's task when
        the site rules allow it, or record the refusal."""
        if self.client.is_allowed(url):
            self.fetch(url, base, site_origins, extra_hosts, out, notes, hint=hint)
            return
        refusal = document_refusal(url, site_origins, extra_hosts)
        if refusal is None and self.defer is not None and try_origin(url):
            known = self.known.get(url)
            self.defer(FetchItem(url=url, media_type_hint=hint, known=asdict(known) if known else None,
                                 site_origins=site_origins, extra_hosts=extra_hosts, **base))
            return
        reason = refusal or f"not fetched: {url} is on another host and this crawl has no task to hand it to"
        out.append(_refused(url, reason, {**base, "media_type_hint": hint}))

    def fetch(self, url: str, base: dict[str, Any], site_origins: list[str], extra_hosts: list[str],
              out: list[DocumentRecord], notes: list[Note], *, hint: str | None = None) -> None:
        rec, data = _fetch_document(url, self.client, self.archive, self.known.get(url), base)
        if rec.media_type is None:
            rec.media_type = hint  # failed fetch: keep the hint from the link
        out.append(rec)
        if data is None or base.get("role") != "page" or rec.media_type not in (media.HTML, media.JAVASCRIPT):
            return
        try:
            attachments = parse_report_page(decode_html(data), url)
        except Exception as e:  # a malformed page costs only its attachments, with the reason
            notes.append(Note(url, base["agency_id"], "error", f"attachments not read: {_error_text(e)}",
                              utc_now_iso(), report_year=base.get("report_year")))
            return
        rec.attachments = [a.url for a in attachments]
        for att in attachments:
            abase = {**base, "role": "attachment", "parent_url": url, "filename": att.filename}
            self.route(att.url, abase, site_origins, extra_hosts, out, notes, hint=att.media_type)


# ------------------------------------------------------------------ listings

@dataclass
class _ListingPage:
    url: str
    status: int | None
    error: str | None
    fetched_at: str
    listing: Listing | None
    body_sha: str | None


class ListingCache:
    """Listing pages fetched once per task: agencies sharing a column (a portal-wide 年报 listing
    narrowed by ``title_regex``) share its pages. Holds parsed links, not page bodies."""

    def __init__(self, client: PoliteClient, size: int = LISTING_CACHE_SIZE) -> None:
        self.client = client
        self.size = size
        self._pages: OrderedDict[str, _ListingPage] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> _ListingPage:
        while True:
            with self._lock:
                page = self._pages.get(url)
                if page is not None:
                    self._pages.move_to_end(url)
                    return page
                event = self._inflight.get(url)
                if event is None:
                    event = self._inflight[url] = threading.Event()
                    break
            event.wait()
        try:
            page = self._fetch(url)
        except Exception as e:  # parsing a hostile page: this page fails, with the reason
            page = _ListingPage(url, None, f"listing not read: {_error_text(e)}", utc_now_iso(), None, None)
        with self._lock:
            self._pages[url] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
            self._inflight.pop(url).set()
        return page

    def _fetch(self, url: str) -> _ListingPage:
        res = self.client.get(url)
        if not res.ok:
            return _ListingPage(url, res.status, res.error or f"http {res.status}", res.fetched_at, None, None)
        body_sha = hashlib.sha256(res.content or b"").hexdigest()
        return _ListingPage(url, res.status, None, res.fetched_at, parse_listing(res.text(), res.final_url), body_sha)


def crawl_agency(
    agency: Agency,
    client: PoliteClient,
    archive: Archive,
    known: Mapping[str, KnownUrl | Mapping[str, Any]] | None = None,
    *,
    max_pages: int = 50,
    defer: Callable[[FetchItem], None] | None = None,
    listings: ListingCache | None = None,
) -> AgencyCrawl:
    """Discover and fetch the reports of one agency from its listings on the client's origin.

    Never raises: network and HTTP faults are in the records, and any other exception (a bug, a
    page no parser expected) ends this agency's crawl with the reason as its fetch error, keeping
    what was fetched before it.
    """
    crawl = AgencyCrawl(agency_id=agency.agency_id)
    try:
        _crawl_agency_into(crawl, agency, client, archive, known or {}, max_pages, defer,
                           listings or ListingCache(client))
    except Exception as e:
        reason = f"crawler error: {_error_text(e)}"
        where = next(iter(agency.listing_urls), "")
        crawl.notes.append(Note(where, agency.agency_id, "error", reason, utc_now_iso()))
        if not crawl.documents:
            crawl.broken, crawl.broken_reason = True, reason
    return crawl


def _crawl_agency_into(
    crawl: AgencyCrawl, agency: Agency, client: PoliteClient, archive: Archive,
    known: Mapping[str, KnownUrl | Mapping[str, Any]], max_pages: int,
    defer: Callable[[FetchItem], None] | None, listings: ListingCache,
) -> None:
    known_urls = {u: (k if isinstance(k, KnownUrl) else KnownUrl.from_dict(k)) for u, k in known.items()}
    if not agency.listing_urls:
        crawl.broken, crawl.broken_reason = True, "no listing URL in the registry"
        return
    start = [u for u in agency.listing_urls if client.is_allowed(u)]
    if not start:
        return  # this agency's listings are another origin's

    # 1. listing pages (breadth first, bounded, on this origin only)
    queue: deque[str] = deque(start)
    seen_pages: set[str] = set(start)
    bodies: set[str] = set()
    links: dict[str, ReportLink] = {}
    announced = 0
    while queue and len(crawl.listing_pages) < max_pages:
        page_url = queue.popleft()
        page = listings.get(page_url)
        found = 0
        if page.listing is not None:
            if page.body_sha in bodies:  # the same page again (an API ignoring its page number)
                page = _ListingPage(page.url, page.status, None, page.fetched_at, Listing(), page.body_sha)
            else:
                bodies.add(page.body_sha or "")
            assert page.listing is not None
            announced = max(announced, page.listing.announced_pages or 0)
            for link in _hinted_filter(agency, page.listing.reports):
                if link.url not in links:
                    links[link.url] = link
                    found += 1
            for u in page.listing.next_pages:
                if u not in seen_pages and client.is_allowed(u):
                    seen_pages.add(u)
                    queue.append(u)
        else:
            crawl.notes.append(Note(page_url, agency.agency_id, "error", f"listing page: {page.error}",
                                    page.fetched_at, http_status=page.status))
        crawl.listing_pages.append(ListingVisit(page_url, page.status, page.error, found, page.fetched_at))
    if queue:
        said = f"; the listing says {announced} pages" if announced > len(crawl.listing_pages) else ""
        crawl.notes.append(Note(
            start[0], agency.agency_id, "warning",
            f"listing page cap reached: {len(crawl.listing_pages)} pages visited (OGI_MAX_LISTING_PAGES), "
            f"{len(queue)} more queued{said}; reports on later pages are not seen", utc_now_iso()))

    # 2. whose reports: a title naming another agency is a repost, never the owner's
    own: list[ReportLink] = []
    for link in links.values():
        verdict = judge(link.title, agency)
        if verdict.owner:
            own.append(link)
        else:
            crawl.reposts.append(Repost(link.url, link.title, verdict.named or "", agency.agency_id,
                                        start[0], link.report_year, link.scope or agency.hints.get("scope"),
                                        utc_now_iso()))
    if not own:
        errors = [v.error for v in crawl.listing_pages if v.error]
        crawl.broken = True
        if errors and len(errors) == len(crawl.listing_pages):
            crawl.broken_reason = f"listing not fetched: {errors[0]}"
        elif crawl.reposts:
            crawl.broken_reason = (f"no report links of its own on {len(crawl.listing_pages)} listing page(s) "
                                   f"({len(crawl.reposts)} of other agencies)")
        else:
            crawl.broken_reason = f"no report links on {len(crawl.listing_pages)} listing page(s)"
        return

    # 3. report documents: the article page (or file), then its attachments
    ctx = _Context(client, archive, known_urls, defer)
    site_origins, extra = _listing_origins(agency), _extra_hosts(agency)
    for link in own:
        scope = link.scope or agency.hints.get("scope")
        role = "file" if _is_file_url(link.url) else "page"
        filename = unquote(urlsplit(link.url).path.rsplit("/", 1)[-1]) or None
        base = dict(agency_id=agency.agency_id, report_year=link.report_year, title=link.title, scope=scope,
                    role=role, filename=filename)
        try:
            ctx.route(link.url, base, site_origins, extra, crawl.documents, crawl.notes)
        except Exception as e:  # one bad document costs only itself
            crawl.notes.append(Note(link.url, agency.agency_id, "error", f"crawler error: {_error_text(e)}",
                                    utc_now_iso(), report_year=link.report_year))


def fetch_item(item: FetchItem, client: PoliteClient, archive: Archive,
               defer: Callable[[FetchItem], None] | None = None) -> tuple[list[DocumentRecord], list[Note]]:
    """Fetch one routed document (and, for an article page, its attachments). Never raises."""
    docs: list[DocumentRecord] = []
    notes: list[Note] = []
    known = {item.url: KnownUrl.from_dict(item.known)} if item.known else {}
    base = dict(agency_id=item.agency_id, report_year=item.report_year, title=item.title, scope=item.scope,
                role=item.role, parent_url=item.parent_url, filename=item.filename)
    try:
        _Context(client, archive, known, defer).fetch(item.url, base, item.site_origins, item.extra_hosts,
                                                      docs, notes, hint=item.media_type_hint)
    except Exception as e:
        notes.append(Note(item.url, item.agency_id, "error", f"crawler error: {_error_text(e)}", utc_now_iso(),
                          report_year=item.report_year))
    return docs, notes


# ------------------------------------------------------------------ one task: one origin

def crawl_site(
    origin: str,
    agencies: list[Agency],
    items: list[FetchItem],
    settings: Settings,
    archive: Archive,
    *,
    known: Mapping[str, Mapping[str, Any]] | None = None,
    host: HostState | None = None,
) -> SiteCrawl:
    """Crawl one origin: its agencies' listings and the documents routed to it, with one client
    (one robots.txt, one gate) and at most the host's concurrency of threads. Never raises."""
    result = SiteCrawl(origin=origin)
    deferred: list[FetchItem] = []
    lock = threading.Lock()

    def defer(item: FetchItem) -> None:
        with lock:
            deferred.append(item)

    try:
        client = PoliteClient(settings, origin, state=host)
    except Exception as e:
        return failed_site(origin, agencies, items, f"crawl of {origin} failed: {_error_text(e)}", host)
    try:
        listings = ListingCache(client)
        units = len(agencies) + len(items)
        with ThreadPoolExecutor(max_workers=max(1, min(settings.per_host_concurrency, units)),
                                thread_name_prefix=f"crawl-{host_port(origin)}") as pool:
            agency_futures = [pool.submit(crawl_agency, a, client, archive, (known or {}).get(a.agency_id),
                                          max_pages=settings.max_listing_pages, defer=defer, listings=listings)
                              for a in agencies]
            item_futures = [pool.submit(fetch_item, it, client, archive, defer) for it in items]
            result.agencies = [f.result() for f in agency_futures]
            for f in item_futures:
                docs, notes = f.result()
                result.documents += docs
                result.notes += notes
    except Exception as e:  # never expected (the units catch their own): the whole task fails
        client.close()
        return failed_site(origin, agencies, items, f"crawl of {origin} failed: {_error_text(e)}",
                           client.state())
    client.close()
    state = client.state()
    result.deferred = deferred
    result.host = state.to_dict()
    if state.robots_note and state.tasks == 1:
        result.notes.append(Note(f"{origin}/robots.txt", None, "warning", state.robots_note, utc_now_iso()))
    if state.down_reason and not (host and host.down_reason):
        result.notes.append(Note(origin, None, "warning", f"host given up for tonight: {state.down_reason}",
                                 utc_now_iso()))
    return result


def failed_site(origin: str, agencies: list[Agency], items: list[FetchItem], reason: str,
                host: HostState | None = None) -> SiteCrawl:
    """The result of a crawl task that could not run: each agency and item carries the reason."""
    now = utc_now_iso()
    crawls = []
    for a in agencies:
        where = next((u for u in a.listing_urls if try_origin(u) == origin), origin)
        crawls.append(AgencyCrawl(a.agency_id, broken=True, broken_reason=reason,
                                  notes=[Note(where, a.agency_id, "error", reason, now)]))
    docs = [_refused(it.url, reason, dict(agency_id=it.agency_id, report_year=it.report_year, title=it.title,
                                          scope=it.scope, role=it.role, parent_url=it.parent_url,
                                          filename=it.filename, media_type_hint=it.media_type_hint))
            for it in items]
    return SiteCrawl(origin=origin, agencies=crawls, documents=docs, host=host.to_dict() if host else None,
                     error=reason)
