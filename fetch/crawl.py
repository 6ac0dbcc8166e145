"""Crawl one agency: listing pages → report links → report pages and their attachments → archive.

Returns plain records (no database): the loader records every fetch and the flow decides what to
extract. A report's article page is itself a document (it often holds the tables) and each of its
attachments is another. With ``known`` (URL → last sha256/etag/last_modified from the database)
unchanged documents are recognised by a 304 or by an identical hash, and changed ones are marked
``revised`` with ``supersedes`` = the old hash; the old bytes stay in the archive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ogi.core import media
from ogi.core.textcodec import decode_html
from ogi.fetch.archive import Archive
from ogi.fetch.discover import Attachment, ReportLink, load_rules, parse_listing, parse_report_page
from ogi.fetch.http_client import FetchResult, PoliteClient
from ogi.fetch.registry import Agency

# Parents too broad to make two hosts one site.
_PUBLIC_SUFFIXES = {"gov.cn", "com.cn", "org.cn", "net.cn", "edu.cn", "ac.cn", "cn", "com", "net", "org"}
OUTCOMES = ("new", "unchanged", "not_modified", "revised", "error")


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
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DocumentRecord:
        return cls(**d)


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
class AgencyCrawl:
    agency_id: str
    listing_pages: list[ListingVisit] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    broken: bool = False
    broken_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AgencyCrawl:
        return cls(
            agency_id=d["agency_id"],
            listing_pages=[ListingVisit(**v) for v in d.get("listing_pages", [])],
            documents=[DocumentRecord.from_dict(x) for x in d.get("documents", [])],
            broken=d.get("broken", False), broken_reason=d.get("broken_reason"),
        )


def sniff_media_type(data: bytes, content_type: str, url: str, filename: str | None = None) -> str:
    """Media type from the bytes first (portals mislabel files), then the name, then the header —
    the extractor's own sniffing, so the crawler and the extractor never disagree on a document."""
    return media.sniff_media_type(data, filename or unquote(urlsplit(url).path), content_type or None)


def _ext(name: str) -> str:
    last = unquote(name).split("?")[0].rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def same_site(url: str, hosts: set[str]) -> bool:
    """Whether ``url``'s host is one of ``hosts`` or a sibling under the same parent domain
    (www.x.gov.cn and xxgk.x.gov.cn), the usual split of a portal and its disclosure platform."""
    host = urlsplit(url).hostname or ""
    for allowed in hosts:
        a = allowed.split(":")[0]
        if host == a:
            return True
        parent = a.split(".", 1)[1] if a.count(".") >= 2 and not a.replace(".", "").isdigit() else None
        if parent and parent not in _PUBLIC_SUFFIXES and host.endswith("." + parent):
            return True
    return False


def _hinted_filter(agency: Agency, links: list[ReportLink]) -> list[ReportLink]:
    """A listing shared by several agencies (a portal-wide 年报 column) is narrowed by the
    registry hint ``title_regex``: only titles it matches belong to this agency."""
    pattern = agency.hints.get("title_regex")
    if not pattern:
        return links
    rx = re.compile(pattern)
    return [r for r in links if rx.search(r.title)]


def _is_file_url(url: str) -> bool:
    return _ext(urlsplit(url).path) in load_rules().attachment_ext


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


def crawl_agency(
    agency: Agency,
    client: PoliteClient,
    archive: Archive,
    known: Mapping[str, KnownUrl | Mapping[str, Any]] | None = None,
    *,
    max_pages: int = 20,
) -> AgencyCrawl:
    """Discover and fetch every report of one agency. Never raises for network or HTTP faults."""
    known_urls = {u: (k if isinstance(k, KnownUrl) else KnownUrl.from_dict(k)) for u, k in (known or {}).items()}
    crawl = AgencyCrawl(agency_id=agency.agency_id)
    if not agency.listing_urls:
        crawl.broken, crawl.broken_reason = True, "no listing URL in the registry"
        return crawl

    # 1. listing pages (breadth first, bounded)
    queue = list(agency.listing_urls)
    seen_pages: set[str] = set()
    links: dict[str, ReportLink] = {}
    while queue and len(crawl.listing_pages) < max_pages:
        page_url = queue.pop(0)
        if page_url in seen_pages:
            continue
        seen_pages.add(page_url)
        res = client.get(page_url)
        found = 0
        if res.ok:
            listing = parse_listing(res.text(), res.final_url)
            for link in _hinted_filter(agency, listing.reports):
                if link.url not in links:
                    links[link.url] = link
                    found += 1
            queue.extend(u for u in listing.next_pages if u not in seen_pages and client.is_allowed(u))
        crawl.listing_pages.append(ListingVisit(page_url, res.status, res.error if not res.ok else None,
                                                found, res.fetched_at))
    if not links:
        errors = [v.error for v in crawl.listing_pages if v.error]
        crawl.broken = True
        if errors and len(errors) == len(crawl.listing_pages):
            crawl.broken_reason = f"listing not fetched: {errors[0]}"
        else:
            crawl.broken_reason = f"no report links on {len(crawl.listing_pages)} listing page(s)"
        return crawl

    # 2. report documents: the article page (or file), then its attachments
    for link in links.values():
        scope = link.scope or agency.hints.get("scope")
        base = dict(agency_id=agency.agency_id, report_year=link.report_year, title=link.title, scope=scope)
        if not client.is_allowed(link.url) and same_site(link.url, agency.hosts()):
            client.allow_host(link.url)  # the portal's sibling host (e.g. its disclosure platform)
        role = "file" if _is_file_url(link.url) else "page"
        filename = unquote(urlsplit(link.url).path.rsplit("/", 1)[-1]) or None
        rec, data = _fetch_document(link.url, client, archive, known_urls.get(link.url),
                                    {**base, "role": role, "filename": filename})
        crawl.documents.append(rec)
        if data is None or role != "page" or rec.media_type not in (media.HTML, media.JAVASCRIPT):
            continue
        attachments: list[Attachment] = parse_report_page(decode_html(data), link.url)
        rec.attachments = [a.url for a in attachments]
        for att in attachments:
            client.allow_host(att.url)  # attachments often live on a file server of the portal
            arec, _ = _fetch_document(
                att.url, client, archive, known_urls.get(att.url),
                {**base, "role": "attachment", "parent_url": link.url, "filename": att.filename},
            )
            if arec.media_type is None:
                arec.media_type = att.media_type  # failed fetch: keep the hint from the link
            crawl.documents.append(arec)
    return crawl
