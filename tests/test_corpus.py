"""The synthetic report generator (bench/corpus.py) and the bundled demo sites (data/demo/)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from bench.corpus import (
    PLANT_KINDS,
    S3_COLS,
    ReportSpec,
    docx_to_pdf,
    failed_identities,
    generate_corpus,
    make_spec,
    read_truth,
    s3_value_rows,
    scan_pdf,
    template_keys,
    write_docx,
    write_html,
    write_xlsx,
)
from ogi.core.config import DATA_DIR
from tests.capabilities import needs_libreoffice

DEMO = DATA_DIR / "demo"
needs_soffice = needs_libreoffice("writer")

OFFICIAL_S3_LABELS_2021 = [
    "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果", "（一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "（三）不予公开", "1.属于国家秘密",
    "3.危及“三安全一稳定”", "8.属于行政查询事项", "（四）无法提供", "3.补正后申请内容仍不明确", "（五）不予处理",
    "5.要求行政机关确认或重新出具已获取信息", "（六）其他处理",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "3.其他", "（七）总计",
    "四、结转下年度继续办理", "自然人", "法人或其他组织", "商业企业", "法律服务机构", "申请人情况",
    "第二十条第（一）项", "行政规范性文件", "本年制发件数", "本年收费金额（单位：万元）", "未经复议直接起诉", "复议后起诉",
    "尚未审结",
]


# ----------------------------------------------------------------------------- the spec


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_specs_satisfy_every_identity_unless_planted(version):
    for seed in range(40):
        spec = make_spec(seed, version=version, year=2020 if version == "2019" else 2023)
        assert failed_identities(spec) == [], (seed, failed_identities(spec))
        assert set(spec.values) == set(template_keys(version))
        assert all(v >= 0 for k, v in spec.values.items() if k[2] != "s2c.change")


def test_identities_are_computed_not_assumed():
    """Break a cell by hand: the checker must see it (a check that cannot fail is a defect)."""
    spec = make_spec(3, version="2021")
    spec.values[("s3", "s3.granted", "s3c.natural_person")] += 1
    failed = failed_identities(spec)
    assert "s3.outcome_sum[s3c.natural_person]" in failed
    assert "s3.row_sum[s3.granted]" in failed


@pytest.mark.parametrize("kind", PLANT_KINDS)
def test_planted_errors_fail_the_identity_they_name(kind):
    spec = make_spec(11, version="2021", plant=kind)
    family = {"s3_balance": "s3.balance", "s3_outcome_sum": "s3.outcome_sum", "s3_row_sum": "s3.row_sum",
              "s4_block_total": "s4.block_total"}[kind]
    fails = failed_identities(spec)
    assert any(f.startswith(family) for f in fails), fails
    assert spec.planted[0]["kind"] == kind and spec.planted[0]["fails"] == fails


def test_specs_are_deterministic_and_seed_dependent():
    a, b, c = make_spec(7, plant="s3_balance"), make_spec(7, plant="s3_balance"), make_spec(8)
    assert a.values == b.values and a.planted == b.planted
    assert a.values != c.values


def test_template_shapes():
    assert len(s3_value_rows("2021")) == 25 and len(s3_value_rows("2019")) == 23
    assert "s3.other" in s3_value_rows("2019") and "s3.other" not in s3_value_rows("2021")
    keys19, keys21 = template_keys("2019"), template_keys("2021")
    assert ("s2", "s2.procurement", "s2c.procurement_amount") in keys19
    assert not any(k[1] == "s2.procurement" for k in keys21)
    assert sum(k[0] == "s4" for k in keys21) == 15


# ----------------------------------------------------------------------------- renderers (no LibreOffice)


def _row_values(table, first_label: str) -> list[str]:
    for tr in table.iter("tr"):
        cells = [" ".join(td.text_content().split()) for td in tr.iter("td")]
        if cells and cells[0].startswith(first_label):
            return cells
    raise AssertionError(f"no row {first_label}")


def test_gbk_html_has_official_labels_spans_and_values(tmp_path):
    spec = make_spec(5, version="2021", year=2024)
    path = write_html(spec, tmp_path / "r.html", encoding="gbk", seed=5)
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert 'charset=gbk' in text
    for lab in OFFICIAL_S3_LABELS_2021:
        assert lab in text, lab
    tree = lxml_html.fromstring(text)
    tables = tree.findall(".//table")
    assert len(tables) == 3
    assert tree.xpath("//td[@rowspan='22']") and tree.xpath("//td[@colspan='7']") and tree.xpath("//td//span/font")
    new_row = _row_values(tables[1], "一、本年新收")
    assert new_row[1:] == [str(int(spec.values[("s3", "s3.new", c)])) for c in S3_COLS]


def test_xlsx_has_merged_template_cells_and_numbers(tmp_path):
    from openpyxl import load_workbook

    spec = make_spec(6, version="2019", year=2020)
    ws = load_workbook(write_xlsx(spec, tmp_path / "r.xlsx")).active
    cells = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    for lab in ["三、本年度办理结果", "（六）其他处理", "规范性文件", "本年新制作数量", "第二十条第（九）项", "采购总金额",
                "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"]:
        assert lab in cells, lab
    assert "行政规范性文件" not in cells  # the 2019 template says 规范性文件
    merged = [str(r) for r in ws.merged_cells.ranges]
    assert len(merged) > 10
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] and str(r[0]).startswith("一、本年新收"))
    assert row[3] == spec.values[("s3", "s3.new", "s3c.natural_person")]
    assert row[9] == spec.values[("s3", "s3.new", "s3c.total")]


def test_docx_has_merged_vertical_labels(tmp_path):
    from docx import Document

    from bench.corpus import Style

    spec = make_spec(9, version="2021")
    doc = Document(str(write_docx(spec, tmp_path / "r.docx", Style(vertical=True), seed=9)))
    assert len(doc.tables) == 3
    t3 = doc.tables[1]
    texts = [c.text for c in t3.column_cells(0)]
    assert "三\n、\n本\n年\n度\n办\n理\n结\n果" in texts  # one character per line, merged down 22 rows
    assert sum(1 for t in texts if t.startswith("三\n")) == 22  # a merged cell repeats over its rows
    body = "\n".join(p.text for p in doc.paragraphs)
    assert f"共收到政府信息公开申请{int(spec.values[('s3', 's3.new', 's3c.total')])}件" in body


def test_corpus_without_soffice_layouts_writes_truth(tmp_path):
    docs = generate_corpus(tmp_path, per_layout=3, layouts=["xlsx_2021", "html_gbk_2019", "docx_2021"], seed=2)
    assert len(docs) == 9
    for d in docs:
        assert d.path.exists() and d.truth_path.exists()
        truth = read_truth(d.truth_path)
        assert set(truth) == set(template_keys(d.spec.version))
        meta = json.loads(d.meta_path.read_text(encoding="utf-8"))
        assert meta["layout"] == d.layout and meta["failed_identities"] == failed_identities(d.spec)
    assert sum(1 for d in docs if d.spec.planted) == 3  # every third report carries a planted error


# ----------------------------------------------------------------------------- PDFs (LibreOffice)


@needs_soffice
def test_pdf_and_scan_render(tmp_path):
    import pypdfium2 as pdfium

    spec = make_spec(4, version="2021")
    docx = write_docx(spec, tmp_path / "r.docx")
    [pdf] = docx_to_pdf([docx], tmp_path / "pdf")
    doc = pdfium.PdfDocument(str(pdf))
    try:
        text = "".join(p.get_textpage().get_text_range() for p in doc)
        n_pages = len(doc)
    finally:
        doc.close()
    flat = re.sub(r"\s+", "", text)
    assert "收到和处理政府信息公开申请情况" in flat and "结转下年度继续办理" in flat
    assert n_pages >= 2
    scan = tmp_path / "scan.pdf"
    info = scan_pdf(pdf, scan, dpi=200, seed=1)
    assert 0.3 <= abs(info["angle"]) <= 1.0
    sdoc = pdfium.PdfDocument(str(scan))
    try:
        assert len(sdoc) == n_pages
        assert "".join(p.get_textpage().get_text_range() for p in sdoc).strip() == ""  # image only
    finally:
        sdoc.close()


# ----------------------------------------------------------------------------- demo sites


def _sites() -> list[dict]:
    with (DEMO / "sites.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    m = re.search(rb"charset=([\w-]+)", raw[:500])
    return raw.decode(m.group(1).decode() if m else "utf-8")


def _local(url_path: str) -> Path:
    return DEMO / url_path.lstrip("/")


def test_demo_sites_listings_link_to_existing_files():
    sites = _sites()
    assert len(sites) == 3
    assert all(re.fullmatch(r"\d{6}", s["division_code"]) for s in sites)
    reports = 0
    for site in sites:
        queue, seen = [site["listing_url"]], set()
        while queue:  # follow the pager too
            page = queue.pop()
            seen.add(page)
            tree = lxml_html.fromstring(_decode(_local(page)))
            for a in tree.iter("a"):
                target = urljoin(page, a.get("href"))
                assert _local(target).is_file(), f"{page} links to missing {target}"
                if re.search(r"index(_\d+)?\.html$", target) and target not in seen:
                    queue.append(target)
                if re.search(r"\d{4}年.*政府信息公开工作年度报告", a.text_content()):
                    reports += 1
                    article = lxml_html.fromstring(_decode(_local(target)))
                    for att in article.xpath("//a[contains(@href, '.pdf')]"):
                        assert _local(urljoin(target, att.get("href"))).is_file()
        if site["agency_id"] == "qingwu-xian":
            assert len(seen) == 2  # the paginated site
    expected = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))
    assert reports == len(expected["reports"]) == 7


def test_demo_broken_documents_are_really_broken():
    import pypdfium2 as pdfium

    expected = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))
    by_suffix = {Path(r["pdf"] or "").name: r for r in expected["reports"]}
    for q in expected["quarantined"]:
        if q["url_suffix"].endswith(".pdf"):
            path = _local(by_suffix[q["url_suffix"]]["pdf"])
            with pytest.raises(pdfium.PdfiumError):
                pdfium.PdfDocument(str(path))
        else:
            page = next(r for r in expected["reports"] if r["article"].endswith(q["url_suffix"]))
            tree = lxml_html.fromstring(_decode(_local(page["article"])))
            assert not tree.findall(".//table") and not tree.xpath("//a[contains(@href, '.pdf')]")
    assert len(expected["quarantined"]) == 2


def test_demo_gbk_site_and_identity_failure():
    gbk = next(s for s in _sites() if s["agency_id"] == "yunxi-shi-zrzy")
    raw = _local(gbk["listing_url"]).read_bytes()
    assert b"charset=gbk" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    exp = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))["identity_failure"]
    truth = read_truth(DEMO / "truth" / f"{exp['agency_id']}__{exp['report_year']}__report.csv")
    spec = ReportSpec(agency="", year=exp["report_year"], version="2021", values=truth, seed=0)
    assert failed_identities(spec) == exp["identities"]
    for path in (DEMO / "truth").glob("*.csv"):
        agency, year, _ = path.stem.split("__")
        if (agency, int(year)) != (exp["agency_id"], exp["report_year"]):
            version = "2019" if int(year) <= 2020 else "2021"
            clean = ReportSpec(agency="", year=int(year), version=version, values=read_truth(path), seed=0)
            assert failed_identities(clean) == [], path.name


def test_demo_is_small():
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert total < 3_000_000


# ----------------------------------------------------------------------------- benchmark scoring


def test_benchmark_score_counts_right_wrong_missing_extra():
    from bench.run import score
    from ogi.core.models import Fact, ParsedReport, Unplaced

    truth = {("s3", "s3.new", "s3c.total"): 5.0, ("s3", "s3.granted", "s3c.total"): 3.0,
             ("s3", "s3.partial", "s3c.total"): 0.0}

    def fact(row: str, value: float | None) -> Fact:
        return Fact("s3", row, "s3c.total", value, "number", "件", str(value), 1, 0, 0, 0)

    report = ParsedReport(sha256="x", template_version="2021", report_year=2024,
                          facts=[fact("s3.new", 5.0), fact("s3.granted", 4.0), fact("s3.carried_out", 1.0)],
                          unplaced=[Unplaced("s3", "7", "?", "?", 1, 0, 0, 0, "no label")])
    assert score(report, truth) == {"cells": 3, "right": 1, "wrong": 1, "missing": 1, "extra": 1, "unplaced": 1,
                                    "silent_wrong": 1, "silent_missing": 1}
    # The same wrong value is no longer silent when a failed identity names its cell …
    from ogi.core.models import CheckResult
    report.checks = [CheckResult("s3.outcomes[s3c.total]", "s3", "failed", 5.0, 4.0, "outcomes",
                                 "5 = 4: s3.total@s3c.total=5 = s3.granted@s3c.total=4", "error")]
    assert score(report, truth)["silent_wrong"] == 0
    # … or when it was placed with less than full confidence.
    report.checks = []
    report.facts[1].confidence = 0.8
    assert score(report, truth)["silent_wrong"] == 0
    # A missing cell stops being silent when a failed error check names its row or its section.
    assert score(report, truth)["silent_missing"] == 1
    report.checks = [CheckResult("completeness.s3", "s3", "failed", None, None, "table 三 incomplete", "", "error")]
    assert score(report, truth)["silent_missing"] == 0
