"""Reports that reach us as a PDF converter's Markdown (MinerU, marker, docling), and labels that a
reader cut over several rows.

The converter-style documents come from bench/producers (their truth says every cell); their
accuracy is measured by the benchmark, here the outcomes that must hold: tables are read from the
Markdown (pipe tables and HTML fragments), wrapped labels are joined by the template and noted, and
nothing is silently wrong or missing. Hand-made grids pin the joining rules, including the rows
that must *not* be joined.
"""

from __future__ import annotations

import hashlib

import pytest

from bench.corpus import generate_corpus, read_truth
from bench.run import read_truth_statuses
from bench.run import score as truth_score
from ogi.core.models import ExtractedDocument, RawTable
from ogi.extract import extract_document
from ogi.extract.markdown_tables import fold_repeats, has_markdown_tables, pipe_tables
from ogi.flows.process import analyse
from ogi.transform.arbitrate import best_report
from tests.test_arbitrate import HEADER, TEXT

PIPE = """# 某局2024年政府信息公开工作年度报告

| 信息内容 | 本年制发件数 |
|---|---|
| 规章 | 3 |
"""


def test_markdown_is_told_from_html_pages_scripts_and_prose():
    assert has_markdown_tables(PIPE)
    assert has_markdown_tables("# 一、总体情况\n\n<table><tr><td>规章</td><td>3</td></tr></table>\n")
    assert not has_markdown_tables("<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>")
    assert not has_markdown_tables('var html = "<table><tr><td>1</td></tr></table>";')
    assert not has_markdown_tables("一、总体情况 | 本年 | 3\n没有分隔行的竖线不是表格\n")
    doc = extract_document(PIPE.encode(), sha256="0" * 64, filename="report.md")
    assert doc.media_type == "text/markdown" and [t.rows for t in doc.tables] == [[["信息内容", "本年制发件数"],
                                                                                ["规章", "3"]]]
    assert "|" not in doc.text and "规章\t3" in doc.text


def test_repeated_labels_fold_into_merged_cells_but_numbers_and_headers_never():
    rows = [
        ["三、本年度办理结果", "三、本年度办理结果", "结果", "结果"],
        ["三、本年度办理结果", "（一）予以公开", "5", "5"],
        ["三、本年度办理结果", "（二）部分公开", "/", "/"],
    ]
    assert fold_repeats(rows) == [
        ["三、本年度办理结果", None, "结果", "结果"],  # right of the labels: two columns may wrap alike
        [None, "（一）予以公开", "5", "5"],  # equal counts side by side are two counts
        [None, "（二）部分公开", "/", "/"],
    ]
    text = "| a | b |\n|:---|---:|\n| x \\| y | **3**<br>4 |\n"
    assert pipe_tables(text) == [(0, [["a", "b"], ["x | y", "3\n4"]])]


def _doc(body: list[list[str | None]]) -> ExtractedDocument:
    rows = [list(r) for r in HEADER] + body
    return ExtractedDocument(sha256="0" * 64, media_type="text/markdown",
                             tables=[RawTable(index=0, rows=rows, method="markdown")], text=TEXT, extractor="test")


def _row(labels: list[str | None], values: list[str] | None) -> list[str | None]:
    return [*labels, *(values or [""] * 7)]


def _facts(report):
    return {(f.row_code, f.col_code): (f.value, f.row_label_raw) for f in report.facts}


def test_wrapped_labels_join_upwards_downwards_and_over_several_rows():
    n = ["4", "0", "0", "0", "0", "0", "4"]
    report = best_report(_doc([
        _row(["三、本年度办理结果", "（一）予以公开", None], ["1", "0", "0", "0", "0", "0", "1"]),
        _row([None, "（二）部分公开（区分处理的，", None], None),  # numbers on the row below
        _row([None, "只计这一情形，不计其他情形）", None], n),
        _row([None, "（三）不予公开", "1.属于国家秘密"], ["0"] * 7),
        _row([None, None, "2.其他法律行政法"], ["2", "0", "0", "0", "0", "0", "2"]),  # numbers above
        _row([None, None, "规禁止公开"], None),
        _row([None, None, "3.危及“三安全"], None),  # three rows
        _row([None, None, "一稳"], None),
        _row([None, None, "定”"], ["3", "0", "0", "0", "0", "0", "3"]),
    ]))
    facts = _facts(report)
    assert facts[("s3.partial", "s3c.total")] == (4.0, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")
    assert facts[("s3.refused.law_prohibited", "s3c.total")] == (2.0, "2.其他法律行政法规禁止公开")
    assert facts[("s3.refused.security_stability", "s3c.total")][0] == 3.0
    assert not report.unplaced
    joins = [n for n in report.notes if "label wrapped" in n]
    assert len(joins) == 3 and "over 3 rows" in joins[-1]


def test_rows_that_are_rows_of_their_own_are_not_joined():
    report = best_report(_doc([
        _row(["三、本年度办理结果", None, None], None),  # a group label row
        _row([None, "（一）予以公开", None], ["1", "0", "0", "0", "0", "0", "1"]),
        _row([None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None], None),  # blank row
        _row([None, "（三）不予公开", "1.属于国家秘密"], ["2", "0", "0", "0", "0", "0", "2"]),
    ]))
    facts = _facts(report)
    assert facts[("s3.granted", "s3c.total")] == (1.0, "（一）予以公开")
    assert facts[("s3.refused.state_secret", "s3c.total")] == (2.0, "（三）不予公开 / 1.属于国家秘密")
    # the blank row stays a row: its cells are placed as blank, not joined to the next label
    assert ("s3.partial", "s3c.total") in facts and facts[("s3.partial", "s3c.total")][0] is None
    assert not [n for n in report.notes if "label wrapped" in n]


@pytest.mark.parametrize("layout", ["md_mineru_2021", "md_marker_2021", "md_docling_2019"])
def test_converter_markdown_places_its_tables_with_nothing_silent(tmp_path, layout):
    doc = generate_corpus(tmp_path, per_layout=1, layouts=[layout], seed=3)[0]
    data = doc.path.read_bytes()
    report = analyse(data, sha256=hashlib.sha256(data).hexdigest(), filename=doc.path.name,
                     report_year=doc.spec.year)
    got = truth_score(report, read_truth(doc.truth_path), read_truth_statuses(doc.truth_path))
    assert got["silent_wrong"] == 0 and got["silent_missing"] == 0, got
    assert got["right"] > 0.9 * got["cells"], got  # before the Markdown reader: 0 (tables not read)
