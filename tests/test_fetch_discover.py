"""Report-link, pagination and attachment discovery on listing/article markup (pure functions)."""

from __future__ import annotations

import json

from ogi.fetch.discover import is_report_title, parse_listing, parse_report_page, scope_of, year_of
from tests.fixtures_sites.fault_server import SITES_DIR

BASE = "https://www.example.gov.cn/zwgk/zfxxgk/zfxxgknb/index.html"


def test_trs_list_with_truncated_text_uses_title_attribute_and_date():
    html = """<ul class="list">
    <li><a href="./202501/t20250120_123.html" target="_blank"
           title="某某县人民政府2024年政府信息公开工作年度报告">某某县人民政府2024年政府信息公开...</a><span>2025-01-20</span></li>
    <li><a href="./202501/t20250110_100.html" title="关于开展2024年度政务公开工作培训的通知">关于开展...</a><span>2025-01-10</span></li>
    <li><a href="./202412/t20241201_1.html" title="2024年政府信息公开指南">2024年政府信息公开指南</a></li>
    </ul>"""
    listing = parse_listing(html, BASE)
    assert [r.to_dict() for r in listing.reports] == [{
        "url": "https://www.example.gov.cn/zwgk/zfxxgk/zfxxgknb/202501/t20250120_123.html",
        "title": "某某县人民政府2024年政府信息公开工作年度报告", "report_year": 2024, "scope": None,
        "published": "2025-01-20",
    }]


def test_table_listing_and_next_page_link():
    html = """<table><tr><td><a href="/art/2023/1.html">某某市发展和改革委员会2023年政府信息公开工作年度报告</a></td>
    <td>2024-01-31</td></tr><tr><td><a href="/art/2022/1.pdf">某某市发展和改革委员会2022年政府信息公开年报</a></td>
    <td>2023/01/29</td></tr></table>
    <div class="page"><a href="?page=1">首页</a><a href="list_2.shtml">下一页</a><a href="javascript:void(0)">尾页</a></div>"""
    listing = parse_listing(html, "http://fgw.example.gov.cn/xxgk/nb/list.shtml")
    assert [(r.report_year, r.scope, r.published) for r in listing.reports] == [
        (2023, "本机关", "2024-01-31"), (2022, "本机关", "2023-01-29")]
    assert listing.reports[1].url == "http://fgw.example.gov.cn/art/2022/1.pdf"
    assert "http://fgw.example.gov.cn/xxgk/nb/list_2.shtml" in listing.next_pages
    assert "http://fgw.example.gov.cn/xxgk/nb/list.shtml?page=1" in listing.next_pages


def test_trs_create_page_html_paging():
    html = '<ul></ul><script>createPageHTML(4, 1, "index", "shtml");</script>'
    listing = parse_listing(html, "https://www.example.gov.cn/col/nb/index_1.shtml")
    assert listing.next_pages == ["https://www.example.gov.cn/col/nb/index_2.shtml",
                                  "https://www.example.gov.cn/col/nb/index_3.shtml"]


def test_numbered_page_links():
    html = '<div class="pager"><a href="index_1.html">2</a><a href="index_2.html">3</a><a href="/about.html">关于</a></div>'
    listing = parse_listing(html, "https://x.gov.cn/nb/index.html")
    assert listing.next_pages == ["https://x.gov.cn/nb/index_1.html", "https://x.gov.cn/nb/index_2.html"]


def test_json_listing():
    data = {"code": 0, "data": {"rows": [
        {"docTitle": "某区人民政府2021年政府信息公开工作年度报告", "docPubUrl": "/c/2022/1.html", "docRelTime": "2022-01-28 10:00"},
        {"docTitle": "机构职能", "docPubUrl": "/c/jgzn.html"}]}}
    listing = parse_listing(json.dumps(data, ensure_ascii=False), "https://q.gov.cn/api/list.json")
    assert [(r.url, r.report_year, r.published) for r in listing.reports] == [
        ("https://q.gov.cn/c/2022/1.html", 2021, "2022-01-28")]


def test_html_inside_escaped_javascript_string():
    js = r'var list = "<li><a href=\"\/nb\/2020.html\" title=\"某市人民政府办公室2020年政府信息公开工作年度报告\">x<\/a><\/li>";'
    listing = parse_listing(js, "https://m.gov.cn/js/list.js")
    assert [(r.url, r.report_year, r.scope) for r in listing.reports] == [("https://m.gov.cn/nb/2020.html", 2020, "本机关")]


def test_titles_years_and_scopes():
    assert is_report_title("平潭综合实验区地方税务局2013年信息公开年度报告")
    assert is_report_title("某镇2024年政务公开工作年度报告")
    assert not is_report_title("关于做好2023年政府信息公开工作年度报告编制工作的通知")
    assert not is_report_title("2023年政府信息公开指南")
    assert not is_report_title("2023年工作总结")
    assert year_of("某县二〇一九年政府信息公开工作年度报告") == 2019
    assert year_of("某县政府信息公开年报", "https://x.gov.cn/2018nb/index.html") == 2018
    assert year_of("某县政府信息公开年报", "https://x.gov.cn/202001/t20200115_1.html") is None
    assert scope_of("平潭综合实验区2019年度政府信息公开工作年度报告") == "本级政府汇总"
    assert scope_of("2019年上海市政府信息公开工作年度报告") == "本级政府汇总"
    assert scope_of("某市2023年政府信息公开工作年度报告（汇总）") == "本级政府汇总"
    assert scope_of("上海市人民政府办公厅2019年政府信息公开工作年度报告") == "本机关"
    assert scope_of("平潭县人民政府2011年政府信息公开工作年度报告") is None


def test_attachments_by_extension_filename_text_and_viewer():
    html = """<div><a href="./P020250120123.pdf">报告.pdf</a>
    <a href="/download.jsp?id=77">附件2：统计表.xlsx</a>
    <a href="/u/2024nb.WPS">年报</a>
    <iframe src="/pdfjs/web/viewer.html?file=/files/P0202401.pdf"></iframe>
    <a href="../index.html">返回</a><a href="mailto:a@b.cn">a@b.cn.pdf</a></div>"""
    atts = parse_report_page(html, "https://x.gov.cn/nb/202501/t20250120_123.html")
    assert [(a.url, a.filename, a.media_type) for a in atts] == [
        ("https://x.gov.cn/nb/202501/P020250120123.pdf", "P020250120123.pdf", "application/pdf"),
        ("https://x.gov.cn/download.jsp?id=77", "统计表.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("https://x.gov.cn/u/2024nb.WPS", "2024nb.WPS", "application/vnd.ms-works"),
        ("https://x.gov.cn/files/P0202401.pdf", "P0202401.pdf", "application/pdf"),
    ]


def test_fixture_listings_parse_the_same_offline():
    """The fixture sites' markup (used by the crawl tests) as plain strings."""
    gbk = (SITES_DIR / "gbk/xxgk/nb/index.html").read_bytes().decode("gbk")
    listing = parse_listing(gbk, "http://h/gbk/xxgk/nb/index.html")
    assert sorted(r.report_year for r in listing.reports) == [2022, 2024]  # not the 编制说明
    assert listing.next_pages == ["http://h/gbk/xxgk/nb/list_2.html"]


def test_demo_listing_skips_column_neighbours():
    from ogi.core.config import DATA_DIR

    html = (DATA_DIR / "demo/qingwu-xian/gkml/ndbg/index.html").read_text(encoding="utf-8")
    listing = parse_listing(html, "http://h/qingwu-xian/gkml/ndbg/index.html")
    assert [r.report_year for r in listing.reports] == [2024, 2023]
    assert listing.next_pages == ["http://h/qingwu-xian/gkml/ndbg/index_1.html"]
