"""Tables whose cells ran together in the text (the Pingtan 2019–2025 pages), against golden files.

The golden files under tests/golden/flat/ were checked by hand against the text: every placed value
is the one split of its run of digits that the template allows (or the one combination the column
identities single out); every run with several possible splits is listed as unplaced with them.
Set OGI_UPDATE_GOLDEN=1 to rewrite them after a reviewed change, then read the diff.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogi.extract import extract_document
from ogi.transform.checks.prose import prose_checks
from ogi.transform.checks.validate import validate
from ogi.transform.parse import parse_report
from ogi.transform.readers.flat_text import chunks, parse_flat_tables, row_constraints, split_run
from tests.conftest import shared_path
from tests.test_legacy import compare_golden, golden_rows

GOLDEN_DIR = Path(__file__).parent / "golden" / "flat"
FLAT_FILES = ["2019_pingtan-syq", "2020_pingtan-syq", "2021_pingtan-syq", "2023_pingtan-syq", "2025_pingtan-syq"]


def _report(name: str):
    path = shared_path("samples", "legacy-text", f"{name}.txt")
    data = path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name)
    return validate(parse_report(doc), doc.text), doc.text


@pytest.mark.parametrize("name", FLAT_FILES)
def test_flattened_tables_match_golden(name):
    report, _text = _report(name)
    assert report.template_version == ("2019" if name < "2021" else "2021")
    assert any("cells ran together" in n for n in report.notes), report.notes
    compare_golden(GOLDEN_DIR / f"{name}.csv", golden_rows(report.facts, report.unplaced, report.checks))


def test_every_split_value_is_marked_below_full_confidence():
    report, _ = _report("2021_pingtan-syq")
    s3 = [f for f in report.facts if f.section == "s3"]
    assert len(s3) == 25 * 7  # every value row of the 2021 table 三, （六） by sub-rows
    assert all(f.confidence < 1.0 for f in s3)
    chosen = {f.row_code for f in report.facts if "column identities" in f.col_label_raw}
    assert chosen == {"s3.granted", "s3.unable.not_held"}
    assert all(f.confidence <= 0.8 for f in report.facts if f.row_code in chosen)


def test_numbering_digit_goes_back_to_the_next_label():
    text = "（三）不予公开1.属于国家秘密00000002.其他法律行政法规禁止公开1000001"
    got = [(c.text, c.groups) for c in chunks(text)]
    assert got == [("（三）不予公开1.属于国家秘密", ["0000000"]), ("2.其他法律行政法规禁止公开", ["1000001"])]


def test_whitespace_and_minus_are_cell_boundaries():
    assert [c.groups for c in chunks("行政处罚2648-18538")] == [["2648", "-18538"]]
    assert [c.groups for c in chunks("总计23 0 00 0 023")] == [["23", "0", "00", "0", "023"]]


def test_row_identity_singles_out_a_split_or_refuses():
    total = row_constraints("s3", "2021")
    assert total == (("s3c.total", ("s3c.natural_person", "s3c.commercial", "s3c.research", "s3c.nonprofit",
                                     "s3c.legal_service", "s3c.other_org")),)
    cons = [(6, (0, 1, 2, 3, 4, 5))]
    assert split_run(["640020470"], 7, cons) == ([["64", "0", "0", "2", "0", "4", "70"]], False)
    splits, _ = split_run(["270020130"], 7, cons)
    assert len(splits) == 2  # 27|0|0|2|0|1|30 and 2|7|0|0|20|1|30: the row alone cannot tell
    assert split_run(["1234567"], 7, cons) == ([], False)  # 1+2+…+6 ≠ 7: no split, never a guess
    blocks = row_constraints("s4", "2021")
    assert len(blocks) == 3


def test_a_row_whose_identity_fails_stays_unplaced_with_its_digits():
    text = ("三、收到和处理政府信息公开申请情况 申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
            "一、本年新收政府信息公开申请数量1234567二、上年结转政府信息公开申请数量0000000")
    result = parse_flat_tables(text, "2021")
    assert {f.row_code for f in result.facts} == {"s3.carried_in"}
    [u] = result.unplaced
    assert u.raw_text == "1234567" and u.best_guess == "s3.new" and "no split" in u.reason


def test_prose_headings_do_not_open_a_table():
    text = ("本报告包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况等六个部分。本报告所列数据的统计期限自"
            "2021年1月1日起至2021年12月31日止。确保网上发布信息内容准确完整，共发布2536条。")
    result = parse_flat_tables(text, "2021")
    assert result.facts == [] and result.unplaced == []


def test_prose_total_agrees_with_the_flattened_table():
    report, text = _report("2025_pingtan-syq")
    cells = {(f.row_code, f.col_code): f.value for f in report.facts}
    assert cells[("s3.new", "s3c.total")] == 154
    assert [c for c in prose_checks(text, report.facts) if c.status == "failed"] == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=120), min_size=6, max_size=6),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_split_never_misses_the_true_row_and_is_only_unique_when_right(cells, spaces):
    """Any 三 row that satisfies its identity, run together (with some of the spaces kept), is among
    the admissible splits; when the split is unique it is the row itself."""
    row = [str(c) for c in cells] + [str(sum(cells))]
    text = row[0] + "".join((" " if keep else "") + c for c, keep in zip(row[1:], spaces, strict=True))
    [chunk] = chunks(text)
    splits, exhausted = split_run(chunk.groups, 7, [(6, (0, 1, 2, 3, 4, 5))], limit=10_000)
    assert not exhausted
    assert row in splits
    if len(splits) == 1:
        assert splits[0] == row
