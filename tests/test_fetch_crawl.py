"""crawl_agency against fixture websites on loopback: TRS-like, table and JSON listings, paging,
attachments, GBK pages, revisions, broken sources — and nothing archived is ever lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ogi.core.config import DATA_DIR, Settings
from ogi.fetch.archive import Archive, sha256_of
from ogi.fetch.crawl import AgencyCrawl, SiteCrawl
from ogi.fetch.registry import Agency, load_registry
from ogi.fetch.schedule import crawl_locally
from tests.fixtures_sites.fault_server import SITES_DIR, reset_connection, send, serve

FAST = dict(http_timeout_s=0.5, http_retries=2, http_backoff_s=0.01, per_host_min_interval_s=0.0,
            http_max_bytes=1_000_000, host_failure_limit=100)


@pytest.fixture
def site():
    with serve() as s:
        yield s


def _agency(site, path: str, **kw) -> Agency:
    return Agency(agency_id=kw.pop("agency_id", "a1"), name=kw.pop("name", "示范县人民政府"), kind="government",
                  level="county", division_code="990321", listing_urls=[site.url(path)], **kw)


def _crawl(agency: Agency, tmp_path: Path, known=None, **settings_over) -> AgencyCrawl:
    """The agency's crawl as the flow runs it (one task per origin; documents on other origins
    routed to theirs), folded into one record: listing visits, documents, notes, broken."""
    settings = Settings(home=tmp_path, **{**FAST, **settings_over})
    results = crawl_locally([agency], settings, Archive(settings.archive_dir),
                            known_for=lambda ids: {i: dict(known or {}) for i in ids})
    merged = AgencyCrawl(agency.agency_id)
    for site, kept_out in results:
        # What the flow ships between tasks must survive a round trip through plain data.
        assert SiteCrawl.from_dict(site.to_dict()) == site
        for c in site.agencies:
            merged.listing_pages += c.listing_pages
            merged.documents += c.documents
            merged.notes += c.notes
            merged.reposts += c.reposts
            merged.broken, merged.broken_reason = c.broken, c.broken_reason
        merged.documents += site.documents
        merged.notes += site.notes + kept_out
    return merged


def _known(crawl: AgencyCrawl) -> dict[str, dict]:
    return {d.url: {"sha256": d.sha256, "etag": d.etag, "last_modified": d.last_modified}
            for d in crawl.documents if d.sha256}


def _by_name(crawl: AgencyCrawl) -> dict[str, object]:
    return {d.url.rsplit("/", 1)[-1]: d for d in crawl.documents}


def test_trs_site_paging_attachments_and_outside_host(site, tmp_path):
    crawl = _crawl(_agency(site, "/trs/zfxxgknb/index.html"), tmp_path)
    assert not crawl.broken
    assert [v.url.rsplit("/", 1)[-1] for v in crawl.listing_pages] == ["index.html", "index_1.html", "index_2.html"]
    docs = _by_name(crawl)
    assert {k: (d.role, d.report_year, d.outcome, d.media_type) for k, d in docs.items()} == {
        "t20250120_123.html": ("page", 2024, "new", "text/html"),
        "P020250120123.pdf": ("attachment", 2024, "new", "application/pdf"),
        "download.jsp?id=77": ("attachment", 2024, "new",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "t20240118_99.html": ("page", 2023, "new", "text/html"),
        "P020240118099.pdf": ("attachment", 2023, "new", "application/pdf"),
        "t20240101_1.html": ("page", 2022, "error", None),
        "t20200115_55.html": ("page", 2019, "new", "text/html"),
    }
    outside = docs["t20240101_1.html"]
    assert outside.error == (f"host not allowed: outside.invalid:80 is not on the site of {site.base_url[7:]} "
                             "(the agency's attachment_hosts hint can allow it)") and outside.sha256 is None
    assert docs["t20200115_55.html"].scope == "本级政府汇总"
    pdf = docs["P020250120123.pdf"]
    assert pdf.parent_url == docs["t20250120_123.html"].url and pdf.filename.endswith(".pdf")
    assert docs["t20250120_123.html"].attachments == [pdf.url, docs["download.jsp?id=77"].url]
    archive = Archive(tmp_path / "archive")
    raw = (SITES_DIR / "trs/zfxxgknb/202501/P020250120123.pdf").read_bytes()
    assert archive.get(pdf.sha256) == raw and pdf.sha256 == sha256_of(raw) and pdf.size_bytes == len(raw)
    assert docs["download.jsp?id=77"].filename == "统计表.xlsx"
    assert not any("outside" in h for h in site.hits)
    assert not any("t20250110_100" in h or "t20250105_101" in h for h in site.hits)  # notices not fetched


def test_gbk_table_listing_with_next_page_and_direct_pdf(site, tmp_path):
    crawl = _crawl(_agency(site, "/gbk/xxgk/nb/index.html", name="样例市交通运输局"), tmp_path)
    docs = _by_name(crawl)
    assert {k: (d.role, d.report_year, d.scope, d.media_type) for k, d in docs.items()} == {
        "content_2024.html": ("page", 2024, "本机关", "text/html"),
        "2024nb.docx": ("attachment", 2024, "本机关",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "2022nb.pdf": ("file", 2022, "本机关", "application/pdf"),
        "content_2023.html": ("page", 2023, "本机关", "text/html"),
    }
    assert docs["content_2024.html"].title == "样例市交通运输局2024年政府信息公开工作年度报告"
    assert len(crawl.listing_pages) == 2 and site.count("/gbk/xxgk/nb/list_2.html") == 1


def test_json_listing(site, tmp_path):
    crawl = _crawl(_agency(site, "/json/api/list.json", name="试验区管委会"), tmp_path)
    assert [(d.url, d.report_year, d.outcome) for d in crawl.documents] == [(site.url("/json/art/2024.html"), 2024, "new")]


def test_title_regex_hint_narrows_a_shared_listing(site, tmp_path):
    ag = _agency(site, "/gbk/xxgk/nb/index.html", name="样例市交通运输局", hints={"title_regex": "2023年"})
    assert [d.report_year for d in _crawl(ag, tmp_path).documents] == [2023]


def test_broken_sources(site, tmp_path):
    empty = _crawl(_agency(site, "/empty/index.html"), tmp_path)
    assert empty.broken and empty.broken_reason == "no report links on 1 listing page(s)"
    gone = _crawl(_agency(site, "/moved/index.html"), tmp_path)
    assert gone.broken and gone.broken_reason == "listing not fetched: http 404 (after 1 attempt)"
    site.routes["/down/index.html"] = lambda h: send(h, 502, b"bad gateway")
    down = _crawl(_agency(site, "/down/index.html"), tmp_path)
    assert down.broken and down.broken_reason == "listing not fetched: http 502 (after 3 attempts)"
    none = _crawl(Agency("x", "某镇人民政府", "government", "township", None), tmp_path)
    assert none.broken and none.broken_reason == "no listing URL in the registry"


def _archive_state(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_second_run_not_modified_then_revision_then_failure(site, tmp_path):
    ag = _agency(site, "/gbk/xxgk/nb/index.html", name="样例市交通运输局")
    first = _crawl(ag, tmp_path)
    second = _crawl(ag, tmp_path, _known(first))
    assert {d.outcome for d in second.documents} == {"not_modified"}
    assert [d.sha256 for d in second.documents] == [d.sha256 for d in first.documents]
    assert _by_name(second)["content_2024.html"].attachments  # attachments read from the archived page

    # the portal republishes the 2023 report with a corrected number
    page = "/gbk/xxgk/nb/content_2023.html"
    old = _by_name(first)["content_2023.html"]
    site.overrides[page] = (SITES_DIR / page.lstrip("/")).read_bytes().replace(b"<td>2</td>", b"<td>3</td>")
    third = _crawl(ag, tmp_path, _known(second))
    rev = _by_name(third)["content_2023.html"]
    assert rev.outcome == "revised" and rev.supersedes == old.sha256 and rev.sha256 != old.sha256
    archive = Archive(tmp_path / "archive")
    assert archive.has(old.sha256) and archive.has(rev.sha256)
    assert {d.outcome for d in third.documents if d is not rev} == {"not_modified"}

    # then the site fails: nothing archived is touched
    before = _archive_state(tmp_path / "archive")
    site.routes[page] = lambda h: send(h, 500, b"error")
    site.routes["/gbk/upload/2024nb.docx"] = reset_connection
    fourth = _crawl(ag, tmp_path, _known(third))
    failed = _by_name(fourth)
    assert failed["content_2023.html"].outcome == "error"
    assert failed["content_2023.html"].error == "http 500 (after 3 attempts)"
    assert failed["2024nb.docx"].outcome == "error" and failed["2024nb.docx"].error.startswith("network error")
    assert _archive_state(tmp_path / "archive") == before
    assert archive.get(rev.sha256) and archive.get(old.sha256)


def test_unchanged_when_server_ignores_conditional_requests(site, tmp_path):
    ag = _agency(site, "/json/api/list.json", name="试验区管委会")
    first = _crawl(ag, tmp_path)
    known = {u: {**k, "etag": None} for u, k in _known(first).items()}  # nothing to be conditional on
    again = _crawl(ag, tmp_path, known)
    assert [d.outcome for d in again.documents] == ["unchanged"]


def test_demo_registry_end_to_end(tmp_path):
    from ogi.demo_server import serve_directory

    with serve_directory() as base:
        agencies = load_registry(DATA_DIR / "demo" / "sites.csv", base_url=base)
        crawls = [_crawl(a, tmp_path) for a in agencies]
        docs = [d for c in crawls for d in c.documents]
        assert len(docs) == 10 and sum(d.role == "attachment" for d in docs) == 3
        assert {d.outcome for d in docs} == {"new"} and not any(c.broken for c in crawls)
        known = {u: k for c in crawls for u, k in _known(c).items()}
        again = [d for a in agencies for d in _crawl(a, tmp_path, known).documents]
        assert {d.outcome for d in again} == {"not_modified"}
    assert os.listdir(tmp_path / "archive")
