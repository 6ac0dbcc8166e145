"""Real CMS listing shapes on loopback: pagination that exists only as a script's API call, and a
column that reposts other agencies' reports — plus the pure rules behind them (script paging,
publisher in the title, public-suffix sites, RFC 9309 robots.txt)."""

from __future__ import annotations

import json

import pytest

from ogi.core.config import Settings
from ogi.fetch.archive import Archive
from ogi.fetch.attribution import RegistryIndex, judge, publisher_in_title
from ogi.fetch.discover import parse_listing
from ogi.fetch.registry import Agency
from ogi.fetch.schedule import crawl_locally
from ogi.fetch.sites import document_refusal, origin_of, registrable_domain, same_site
from tests.fixtures_sites.cms import install_script_paged_column
from tests.fixtures_sites.fault_server import send, serve

FAST = dict(http_timeout_s=1.0, http_retries=1, http_backoff_s=0.01, per_host_min_interval_s=0.0)


@pytest.fixture
def site():
    with serve() as s:
        yield s


def _run(tmp_path, agencies, **over):
    settings = Settings(home=tmp_path, **{**FAST, **over})
    return crawl_locally(agencies, settings, Archive(settings.archive_dir))


def _docs(results):
    return [d for r, _ in results for d in r.all_documents()]


# ------------------------------------------------------------------ pagination only a script knows

def test_script_api_pagination_is_followed(site, tmp_path):
    listing = install_script_paged_column(site, total=23, page_size=10)
    agency = Agency("tjj", "示范市统计局", "department", "prefecture", "990300", listing_urls=[listing])
    results = _run(tmp_path, [agency])
    docs = _docs(results)
    assert sorted(d.report_year for d in docs) == list(range(2001, 2024))  # all 23, not the first 10
    assert {d.outcome for d in docs} == {"new"} and len({d.url for d in docs}) == 23
    api = sorted(h for h in site.hits if "list2.trsapi" in h)
    assert api == [f"/cms/api/list2.trsapi?channelid=4412&pageNo={n}&pageSize=10&sort=-docreltime" for n in (1, 2, 3)]
    crawl = results[0][0].agencies[0]
    assert not crawl.broken and not crawl.warnings and len(crawl.listing_pages) == 4


def test_script_api_pagination_within_the_page_cap_says_so(site, tmp_path):
    listing = install_script_paged_column(site, prefix="/big", total=10_000, page_size=10)
    agency = Agency("tjj", "示范市统计局", "department", "prefecture", "990300", listing_urls=[listing])
    results = _run(tmp_path, [agency], max_listing_pages=5)
    crawl = results[0][0].agencies[0]
    assert len(crawl.listing_pages) == 5 and len(_docs(results)) == 10 + 4 * 10 - 10  # page 1 twice (HTML, API)
    [warning] = crawl.warnings
    assert warning.outcome == "warning" and warning.url == listing
    assert warning.message.startswith("listing page cap reached: 5 pages visited (OGI_MAX_LISTING_PAGES), ")
    assert "the listing says 1000 pages" in warning.message
    rows = results[0][0].fetch_rows()
    assert [r["error"] for r in rows if r["outcome"] == "warning"] == [warning.message]


def test_script_paging_shapes():
    base = "https://x.gov.cn/col/nb/index.html"
    concatenated = """<script>var total = 35; function go(p){ fetch('/api/page?page=' + p + '&size=10') }</script>"""
    assert parse_listing(concatenated, base).next_pages == [f"https://x.gov.cn/api/page?page={n}&size=10" for n in (1, 2, 3, 4)]
    in_query = """<script>$.getJSON("/api/list.do?channel=nb&pageIndex=1&rows=20"); var recordCount = "41";</script>"""
    listing = parse_listing(in_query, base)
    assert listing.next_pages == [f"https://x.gov.cn/api/list.do?channel=nb&pageIndex={n}&rows=20" for n in (1, 2, 3)]
    assert listing.announced_pages == 3
    no_count = """<script>$.ajax({url: "/api/l", data: {pageNo: n, pageSize: 15, col: "nb"}})</script>"""
    assert parse_listing(no_count, base).next_pages == ["https://x.gov.cn/api/l?pageNo=1&pageSize=15&col=nb",
                                                        "https://x.gov.cn/api/l?pageNo=2&pageSize=15&col=nb"]
    # an API page that says how many there are names the rest
    answer = {"data": {"total": 45, "list": [{"title": f"某局{y}年政府信息公开工作年度报告", "url": f"/a/{y}.html"}
                                             for y in range(2014, 2024)]}}
    more = parse_listing(json.dumps(answer, ensure_ascii=False), "https://x.gov.cn/api/l?pageNo=2&pageSize=10")
    assert more.next_pages == [f"https://x.gov.cn/api/l?pageNo={n}&pageSize=10" for n in (3, 4, 5)]
    nothing = """<script>var pageSize = 10; $.ajax({url: "/api/other", data: {id: 3}})</script>"""
    assert parse_listing(nothing, base).next_pages == []


# ------------------------------------------------------------------ reposts of other agencies' reports

def test_reposts_go_to_the_agency_the_title_names_or_stay_out(site, tmp_path):
    tjj = Agency("dept-tjj", "示范市统计局", "department", "prefecture", "990300", parent_id="gov-city",
                 listing_urls=[site.url("/repost/tjj/nb/index.html")])
    city = Agency("gov-city", "示范市人民政府", "government", "prefecture", "990300",
                  listing_urls=[site.url("/repost/gov/nb/index.html")])
    results = _run(tmp_path, [tjj, city])
    by_agency: dict[str, set[str]] = {}
    for d in _docs(results):
        assert d.outcome == "new", d
        by_agency.setdefault(d.agency_id, set()).add(d.url.rsplit("/", 1)[-1])
    assert by_agency == {"dept-tjj": {"tjj2023.html", "tjj2022.html"},  # its own, named or not
                         "gov-city": {"city2022.html", "city2023.html", "cityall2023.html"}}
    skipped = [n for _, kept_out in results for n in kept_out]
    assert [(n.url.rsplit("/", 1)[-1], n.agency_id, n.outcome) for n in skipped] == [
        ("prov2023.html", "dept-tjj", "skipped")]
    assert skipped[0].message == ("not this agency's report: title names 示范省人民政府, "
                                  "not this column's owner and not in the registry")
    assert "/repost/art/prov2023.html" not in site.hits  # kept out: not even fetched


def test_publisher_in_title_and_judgement():
    assert publisher_in_title("上海市人民政府办公厅2023年政府信息公开工作年度报告") == "上海市人民政府办公厅"
    assert publisher_in_title("2023年上海市政府信息公开工作年度报告") == "上海市"
    assert publisher_in_title("示范县二〇一九年政府信息公开工作年度报告") == "示范县"
    for nobody in ("2023年度政府信息公开工作年度报告", "本机关2023年政府信息公开工作年度报告", "全市2023年政府信息公开工作年度报告"):
        assert publisher_in_title(nobody) is None
    county = Agency("gov-1", "淮安市洪泽区人民政府", "government", "county", "320813")
    for own in ("洪泽区2022年政府信息公开年报", "淮安市洪泽区人民政府2023年政府信息公开工作年度报告",
                "洪泽区人民政府2021年政府信息公开工作年度报告", "2020年度政府信息公开工作年度报告"):
        assert judge(own, county).owner, own
    assert judge("淮安市人民政府2023年政府信息公开工作年度报告", county).named == "淮安市人民政府"
    assert judge("洪泽区交通运输局2023年政府信息公开工作年度报告", county).named == "洪泽区交通运输局"
    dept = Agency("d", "上海市人民政府办公厅", "department", "province", "310000")
    assert judge("2023年上海市政府信息公开工作年度报告", dept).named == "上海市"
    shared = Agency("d2", "某局", "department", "county", None, hints={"title_regex": "某某中心"})
    assert judge("某某中心2023年政府信息公开工作年度报告", shared).owner  # the registry says so
    index = RegistryIndex([county, dept, Agency("gov-sh", "上海市人民政府", "government", "province", "310000"),
                           Agency("a", "朝阳区人民政府", "government", "county", "110105"),
                           Agency("b", "朝阳区人民政府", "government", "county", "220104"),
                           Agency("c", "长春市人民政府", "government", "prefecture", "220100")])
    assert index.resolve("上海市", "d")[0] == "gov-sh"
    assert index.resolve("朝阳区", "c")[0] == "b"  # the one under the owner's city
    assert index.resolve("朝阳区", "d") == (None, "title names 朝阳区, which fits several registry agencies (a, b)")


# ------------------------------------------------------------------ sites and robots.txt

def test_public_suffix_sites():
    assert registrable_domain("abc.sh.cn") == "abc.sh.cn" and registrable_domain("www.sh.cn") == "www.sh.cn"
    assert registrable_domain("xxgk.shanghai.gov.cn") == "shanghai.gov.cn"
    assert registrable_domain("127.0.0.1") == "127.0.0.1" and registrable_domain("localhost") == "localhost"
    assert not same_site("http://abc.sh.cn/a.pdf", ["http://www.sh.cn:80"])  # two sites under sh.cn
    assert same_site("https://xxgk.shanghai.gov.cn/a.pdf", ["https://www.shanghai.gov.cn:443"])
    assert not same_site("http://xxgk.shanghai.gov.cn/a.pdf", ["https://www.shanghai.gov.cn:443"])  # scheme
    assert not same_site("http://127.0.0.1:81/a.pdf", ["http://127.0.0.1:80"])  # another port
    assert origin_of("HTTP://WWW.X.gov.cn/a") == "http://www.x.gov.cn:80"
    assert origin_of("https://x.gov.cn:8443/a") == "https://x.gov.cn:8443"
    assert document_refusal("http://files.x.gov.cn/a.pdf", ["http://www.x.gov.cn:80"]) is None
    assert document_refusal("http://cdn.example.com/a.pdf", ["http://www.x.gov.cn:80"], ["cdn.example.com"]) is None
    assert document_refusal("http://cdn.example.com/a.pdf", ["http://www.x.gov.cn:80"]).startswith(
        "host not allowed: cdn.example.com:80 is not on the site of www.x.gov.cn:80")


def test_robots_txt_as_rfc_9309_reads_it(site, tmp_path):
    """protego, not urllib.robotparser: ``$`` anchors and the longest match wins, whatever the order."""
    from ogi.fetch.http_client import PoliteClient

    site.routes["/robots.txt"] = lambda h: send(h, 200, (
        b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /files/\nAllow: /files/public/\n"))
    for path in ("/r/a.pdf", "/r/a.pdf?download=1", "/files/x.html", "/files/public/y.html", "/r/a.html"):
        site.routes[path] = lambda h: send(h, 200, b"ok")
    with PoliteClient(Settings(home=tmp_path, **FAST), site.base_url) as c:
        got = {p: c.get(site.url(p)).ok for p in ("/r/a.pdf", "/r/a.pdf?download=1", "/files/x.html",
                                                   "/files/public/y.html", "/r/a.html")}
    assert got == {"/r/a.pdf": False, "/r/a.pdf?download=1": True, "/files/x.html": False,
                   "/files/public/y.html": True, "/r/a.html": True}
    assert site.count("/robots.txt") == 1
