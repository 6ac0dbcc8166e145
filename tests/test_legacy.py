"""The pre-2019 统计表 reader on the real Pingtan text dumps, against hand-checked golden files.

Each golden file under tests/golden/legacy/ lists what is placed (kind=fact), what is kept unplaced
and why (kind=unplaced), and the identity checks with their outcome (kind=check). They were checked
by hand against the text: a run of digits such as "4251516" (425|1516? 42|51516? 4|251516?) stays
unplaced; "00" and "77" split one way only. Set OGI_UPDATE_GOLDEN=1 to rewrite them after a reviewed
change, then read the diff before committing.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from ogi.core.models import CheckResult, Fact, Unplaced
from ogi.transform.checks.prose import prose_checks
from ogi.transform.knowledge.identities import check_report
from ogi.transform.readers.legacy import _splits, parse_legacy_text
from tests.conftest import shared_path

GOLDEN_DIR = Path(__file__).parent / "golden" / "legacy"
GOLDEN_COLUMNS = ("kind", "section", "row_code", "col_code", "value", "value_status", "position", "raw_text",
                  "reason")

TABLE_FILES = ["2011_pingtan-syq", "2011_pingtan-xian", "2012_pingtan-xian", "2014_pingtan-syq",
               "2016_pingtan-syq", "2018_pingtan-syq"]
NO_TABLE_FILES = ["2013_pingtan-dishuiju", "2019_pingtan-syq", "2020_pingtan-syq", "2021_pingtan-syq",
                  "2023_pingtan-syq", "2025_pingtan-syq"]


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


STRUCTURAL_PREFIXES = ("completeness.", "registration.", "agreement.")


def golden_rows(facts: list[Fact], unplaced: list[Unplaced], checks: list[CheckResult]) -> list[dict[str, str]]:
    """Facts, unplaced values and identity-check outcomes as golden CSV rows (stable order).

    The structural checks (completeness.*, registration.*) judge the report against the template
    and are asserted on their own in tests/test_structure.py; the goldens pin what the readers
    read and how the identities came out."""
    checks = [c for c in checks if not c.identity_id.startswith(STRUCTURAL_PREFIXES)]
    rows = [{"kind": "fact", "section": f.section, "row_code": f.row_code, "col_code": f.col_code,
             "value": _fmt(f.value), "value_status": str(f.value_status),
             "position": f"{f.row_index}:{f.col_index}", "raw_text": f.raw_text, "reason": ""} for f in facts]
    rows += [{"kind": "unplaced", "section": u.section or "", "row_code": (u.best_guess or "").split(" ")[0],
              "col_code": "", "value": "", "value_status": "", "position": f"{u.row_index}:{u.col_index}",
              "raw_text": u.raw_text, "reason": u.reason} for u in unplaced]
    rows += [{"kind": "check", "section": c.section, "row_code": c.identity_id, "col_code": "",
              "value": f"{_fmt(c.lhs)}|{_fmt(c.rhs)}", "value_status": str(c.status), "position": "",
              "raw_text": "", "reason": c.severity} for c in checks]
    return rows


def compare_golden(path: Path, rows: list[dict[str, str]]) -> None:
    """Assert ``rows`` equal the golden CSV (or rewrite it when OGI_UPDATE_GOLDEN=1)."""
    if os.environ.get("OGI_UPDATE_GOLDEN") == "1":
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, GOLDEN_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    with path.open(encoding="utf-8", newline="") as f:
        expected = [dict(r) for r in csv.DictReader(f)]
    exp = {tuple(r[c] for c in GOLDEN_COLUMNS) for r in expected}
    got = {tuple(r[c] for c in GOLDEN_COLUMNS) for r in rows}
    missing, extra = sorted(exp - got), sorted(got - exp)
    assert not missing and not extra, f"{path.name}: missing {missing[:20]}\nunexpected {extra[:20]}"
    assert len(rows) == len(expected), f"{path.name}: duplicate rows"


def _parse(name: str):
    text = shared_path("samples", "legacy-text", f"{name}.txt").read_text(encoding="utf-8")
    facts, unplaced = parse_legacy_text(text)
    checks = check_report(facts, "legacy", int(name[:4]), unplaced=unplaced) + prose_checks(text, facts)
    return facts, unplaced, checks


@pytest.mark.parametrize("name", TABLE_FILES)
def test_legacy_table_matches_golden(name):
    facts, unplaced, checks = _parse(name)
    compare_golden(GOLDEN_DIR / f"{name}.csv", golden_rows(facts, unplaced, checks))


@pytest.mark.parametrize("name", NO_TABLE_FILES)
def test_text_without_a_legacy_table_places_nothing(name):
    facts, unplaced, _checks = _parse(name)
    assert facts == [] and unplaced == []


def test_space_separated_table_is_placed_whole_with_units_and_both_columns():
    facts, unplaced, checks = _parse("2014_pingtan-syq")
    cells = {(f.row_code, f.col_code): f for f in facts}
    assert not unplaced
    assert cells[("legacy.proactive", "legacyc.year")].value == 2543
    assert cells[("legacy.proactive", "legacyc.cumulative")].value == 78967
    assert cells[("legacy.requests.letter_fax", "legacyc.year")].value == 1  # variant B combined channel
    fee = cells[("legacy.fee_waiver", "legacyc.year")]
    assert fee.unit == "万元" and fee.value == 0  # printed in 元, stored in 万元
    assert {c.identity_id: c.status for c in checks}["legacy.request_channels[legacyc.year]"] == "passed"


def test_run_together_digits_are_placed_only_when_one_split_explains_them():
    facts, unplaced, _checks = _parse("2012_pingtan-xian")
    cells = {(f.row_code, f.col_code): f for f in facts}
    # "条07" → 0 this year, 7 cumulative: "07" cannot be one number, and 0|7 is the only split.
    assert cells[("legacy.proactive.gazette", "legacyc.year")].value == 0
    assert cells[("legacy.proactive.gazette", "legacyc.cumulative")].value == 7
    assert cells[("legacy.requests.email", "legacyc.year")].value == 3  # "33"
    # "20263542" (2026|3542 in the prose, but 20|263542 and 202|63542 fit the table too): unplaced.
    runs = {u.raw_text: u for u in unplaced}
    assert "20263542" in runs and "possible splits" in runs["20263542"].reason
    assert ("legacy.proactive", "legacyc.year") not in cells
    assert all(f.confidence < 1.0 for f in facts)  # every value here came from a split


def test_identity_over_printed_children_is_not_checkable_when_a_child_is_unplaced():
    _facts, _unplaced, checks = _parse("2012_pingtan-xian")
    by_id = {c.identity_id: c for c in checks}
    c = by_id["legacy.request_channels[legacyc.year]"]
    assert c.status == "not_checkable"
    assert "legacy.requests.in_person@legacyc.year (unplaced)" in c.detail


def test_digit_splits():
    assert _splits("00", 2) == [["0", "0"]]
    assert _splits("07", 2) == [["0", "7"]]
    assert sorted(_splits("2121", 2)) == [["2", "121"], ["21", "21"], ["212", "1"]]
    assert _splits("0012", 2) == []


def test_dingxi_style_form_with_a_code_column():
    text = ("定西市政府信息公开情况统计报表 指标名称 计量单位 代码 本期实际 本年累计 "
            "主动公开信息数 条 01 120 450 全文电子化的主动公开信息数 条 02 100 400 "
            "申请总数 件 10 6 9 其中：1.当面申请数 件 11 4 5 2.网上申请数 件 14 2 4 "
            "行政复议数 件 30 0 1")
    facts, unplaced = parse_legacy_text(text)
    cells = {(f.row_code, f.col_code): f.value for f in facts}
    assert cells == {
        ("legacy.proactive", "legacyc.period"): 120, ("legacy.proactive", "legacyc.year_to_date"): 450,
        ("legacy.proactive_fulltext", "legacyc.period"): 100, ("legacy.proactive_fulltext", "legacyc.year_to_date"): 400,
        ("legacy.requests", "legacyc.period"): 6, ("legacy.requests", "legacyc.year_to_date"): 9,
        ("legacy.requests.in_person", "legacyc.period"): 4, ("legacy.requests.in_person", "legacyc.year_to_date"): 5,
        ("legacy.requests.online", "legacyc.period"): 2, ("legacy.requests.online", "legacyc.year_to_date"): 4,
        ("legacy.review", "legacyc.period"): 0, ("legacy.review", "legacyc.year_to_date"): 1,
    }
    assert unplaced == []
    checks = {c.identity_id: c.status for c in check_report(facts, "legacy")}
    assert checks["legacy.request_channels[legacyc.period]"] == "passed"  # 6 = 4 + 2
