"""Tables read from text only: the township sample (golden, hand-checked) and hand-made lines.

tests/golden/2024_shijiazhuang-zhen.csv was checked row by row against the text: 二 and 四 are
whole; on 三 only the last number of a row is the row's 总计 ("一、本年新收…\t2\t12": 12 = 9 (予以公开)
+ 1 (部分公开) + 2 (重复申请), the outcomes' totals; the "2" belongs to a column the text lost), the
rest is unplaced; the garbled labels ("二、上生", "（七）总记", "生纪术", "四、结束") do not disturb the
row hierarchy, and the "·" printed in 结转下年度 is kept unplaced, not read as a number.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from ogi.transform.checks.prose import prose_checks
from ogi.transform.knowledge.identities import check_report
from ogi.transform.readers.text_layout import parse_text_tables
from tests.conftest import shared_path
from tests.test_legacy import compare_golden, golden_rows

GOLDEN = Path(__file__).parent / "golden" / "2024_shijiazhuang-zhen.csv"


def _township():
    text = shared_path("samples", "2024_shijiazhuang-zhen.txt").read_text(encoding="utf-8")
    facts, unplaced = parse_text_tables(text, None)
    return text, facts, unplaced


def test_township_text_matches_golden():
    text, facts, unplaced = _township()
    checks = check_report(facts, "2021", 2024, unplaced=unplaced) + prose_checks(text, facts)
    compare_golden(GOLDEN, golden_rows(facts, unplaced, checks))


def test_township_places_every_value_of_two_and_four_and_the_row_totals_of_three():
    _text, facts, unplaced = _township()
    cells = {(f.row_code, f.col_code): f.value for f in facts}
    assert cells[("s2.normative_docs", "s2c.in_force")] == 4
    assert cells[("s2.licensing", "s2c.decisions_year")] == 7
    assert cells[("s2.penalty", "s2c.decisions_year")] == 0  # "行政处罚 0": value run into the label
    assert sum(1 for f in facts if f.section == "s4") == 15
    s3 = {k: v for k, v in cells.items() if k[0].startswith("s3.")}
    assert s3 == {("s3.new", "s3c.total"): 12, ("s3.granted", "s3c.total"): 9, ("s3.partial", "s3c.total"): 1,
                  ("s3.not_processed.repeat", "s3c.total"): 2}
    assert sorted(u.raw_text for u in unplaced if u.section == "s3") == ["1", "2", "2", "2", "·"]
    assert not any(k[0] == "s2.fees" for k in cells)  # the fee row prints no value


def test_three_row_with_one_value_per_column_is_placed_whole_and_short_rows_only_by_total():
    text = "\n".join([
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况",
        "一、本年新收政府信息公开申请数量  5  1  0  0  0  0  6",
        "二、上年结转政府信息公开申请数量\t3",  # one value: which column? unplaced
        "（一）予以公开\t4\t1",  # last below the sum of the others is impossible here: 4 > 1
    ])
    facts, unplaced = parse_text_tables(text, "2021")
    cells = {(f.row_code, f.col_code): f.value for f in facts}
    assert cells[("s3.new", "s3c.natural_person")] == 5 and cells[("s3.new", "s3c.total")] == 6
    assert len([f for f in facts if f.row_code == "s3.new"]) == 7
    assert not any(f.row_code in ("s3.carried_in", "s3.granted") for f in facts)
    reasons = {u.raw_text: u.reason for u in unplaced}
    assert "single value" in reasons["3"]
    assert "below the sum" in reasons["1"]


def test_prose_naming_a_section_does_not_open_it():
    text = ("本报告包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议、"
            "行政诉讼情况等六个部分，共收到申请12件。\n行政许可\t7")
    facts, unplaced = parse_text_tables(text, "2021")
    assert facts == [] and unplaced == []


def test_pdf_layout_text_places_only_correct_values(tmp_path):
    """The Hongze PDF as layout text (pdfplumber's): every value agrees with the hand-transcribed
    golden of the table extractor — the lines of numbers whose labels wrapped onto other lines are
    aligned to the template's rows, none left over."""
    import pdfplumber

    with pdfplumber.open(shared_path("samples", "2024_hongze-qu.pdf")) as pdf:
        text = "\n".join(page.extract_text(layout=True) or "" for page in pdf.pages)
    facts, unplaced = parse_text_tables(text, None)
    with (Path(__file__).parent / "golden" / "2024_hongze-qu.csv").open(encoding="utf-8") as f:
        gold = {(r["row_code"], r["col_code"]): r["value"] for r in csv.DictReader(f)}
    wrong = [(f.row_code, f.col_code, f.value, gold.get((f.row_code, f.col_code))) for f in facts
             if gold.get((f.row_code, f.col_code)) != ("" if f.value is None else str(int(f.value)))]
    assert wrong == []
    assert len(facts) == len(gold) == 186
    assert unplaced == []


def _html_as_tab_text(raw: str) -> str:
    """A web page flattened to text the way a plain-text export does: one line per table row,
    cells separated by tabs, blank (&nbsp;) cells left empty."""
    t = raw.replace('\\"', '"').replace("\\/", "/").replace("\\n", " ").replace("\n", " ")
    t = re.sub(r"<br\s*/?>", "", t)
    t = re.sub(r"</t[dh]>", "\t", t)
    t = re.sub(r"</tr>|</h\d>", "\n", t)
    t = re.sub(r"</p>", " ", t)
    return html.unescape(re.sub(r"<[^>]+>", "", t))


def test_html_page_as_tab_text_places_only_correct_values():
    """Shanghai 2019 as tab-separated text: 二 whole (amount 251000元 → 25.1 万元), 三 row totals
    only where the total cell is printed (its result rows leave 总计 blank: their last value is
    below the others' sum, so nothing is placed), 四 (6 values for 15 columns) unplaced."""
    raw = shared_path("samples", "2019_shanghai-shi-bgt.js").read_text(encoding="utf-8")
    facts, unplaced = parse_text_tables(_html_as_tab_text(raw), None)
    with (Path(__file__).parent / "golden" / "2019_shanghai-shi-bgt.csv").open(encoding="utf-8") as f:
        gold = {(r["row_code"], r["col_code"]): r["value"] for r in csv.DictReader(f)}

    def fmt(v):
        return "" if v is None else str(int(v)) if float(v).is_integer() else repr(v)

    wrong = [(f.row_code, f.col_code, f.value) for f in facts if gold.get((f.row_code, f.col_code)) != fmt(f.value)]
    assert wrong == []
    cells = {(f.row_code, f.col_code): f.value for f in facts}
    assert cells[("s2.procurement", "s2c.procurement_amount")] == 25.1
    assert cells[("s3.new", "s3c.total")] == 859 and cells[("s3.total", "s3c.total")] == 805
    assert ("s3.not_processed.repeat", "s3c.total") not in cells  # "5 4": total blank, 4 < 5
    assert not any(f.section == "s4" for f in facts)
    assert len(facts) == 26 and len(unplaced) == 37  # measured
