"""Placing cells on codes: hierarchy by position, columns by logical order, stitching, versions.

The grids below reproduce the layouts real extractors produce (Camelot: merged cells come out ""; HTML:
covered positions are None, header and data rows on different colspan grids) with made-up numbers.
"""

from __future__ import annotations

from ogi.core.models import ExtractedDocument, RawTable
from ogi.transform.knowledge.codebook import load_codebook
from ogi.transform.knowledge.version import detect_report_year, detect_version
from ogi.transform.parse import facts_to_rows, format_value, parse_report
from ogi.transform.placement.grids import classify_table, section_grids

CB = load_codebook()

S3_HEADER_CAMELOT = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等\n于第三项加第四项之和）", "", "", "申请人情况", "", "", "", "", "", ""],
    ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
    ["", "", "", "", "商业\n企业", "科研\n机构", "社会\n公益\n组织", "法律\n服务\n机构", "其他", ""],
]

# (label cells, first value); each row's values are v, 0, 0, 0, 0, 1, v+1.
S3_2021_BODY = [
    (["一、本年新收政府信息公开申请数量", "", ""], 10),
    (["二、上年结转政府信息公开申请数量", "", ""], 11),
    (["三、本年度办理结果", "（一）予以公开", ""], 12),
    (["", "（二）部分公开（区分处理的，只计这一情 形，不\n计其他情形）", ""], 13),
    (["", "（三）不予公开", "1.属于国家秘密"], 14),
    (["", "", "2.其他法律行政止公开"], 15),
    (["", "", "3.危及“三安全一稳定”"], 16),
    (["", "", "4.保护第三方合法权益"], 17),
    (["", "", "5.属于三类内部事务信息"], 18),
    (["", "", "6.属于四类过程性信息"], 19),
    (["", "", "7.属于行政执法案卷"], 20),
    (["", "", "8.属于行政查询事项"], 21),
    (["", "（四）无法提供", "1.本机关不掌握相关政府信息"], 22),
    (["", "", "2.没有现成信息需要另行制作"], 23),
    (["", "", "3.补正后申请内容仍不明确"], 24),
    (["", "（五）不予处理", "1.信访举报投诉类申请"], 25),
    (["", "", "2.重复申请"], 26),
    (["", "", "3.要求提供公开出版物"], 27),
    (["", "", "4.无正当理由大量反复 申请"], 28),
    (["", "", "5.要求行政机关确认或重 新出具\n已获取信息"], 29),
    (["", "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"], 30),
    (["", "", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"], 31),
    (["", "", "3.其他"], 32),
    (["", "（七）总计", ""], 33),
    (["四、结转下年度继续办理", "", ""], 34),
]
S3_2021_CODES = CB.rows("s3", "2021")


def _values(v: int) -> list[str]:
    return [str(v), "0", "0", "0", "0", "1", str(v + 1)]


def _s3_rows(body=S3_2021_BODY) -> list[list[str | None]]:
    return [*S3_HEADER_CAMELOT, *[[*labels, *_values(v)] for labels, v in body]]


def _doc(tables: list[RawTable], text: str = "") -> ExtractedDocument:
    return ExtractedDocument(sha256="t", media_type="application/pdf", tables=tables, text=text)


def _cells(report) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["row_code"], r["col_code"]): (r["value"], r["value_status"]) for r in facts_to_rows(report)}


def test_2021_s3_camelot_layout_every_row_by_position():
    report = parse_report(_doc([RawTable(0, _s3_rows(), page=3)], "2024年政府信息公开工作年度报告 本年制发件数"))
    assert report.template_version == "2021" and report.report_year == 2024
    cells = _cells(report)
    assert len(cells) == 25 * 7 and not report.unplaced
    for (labels, v), code in zip(S3_2021_BODY, S3_2021_CODES, strict=True):
        assert cells[(code, "s3c.natural_person")] == (str(v), "number"), labels
        assert cells[(code, "s3c.other_org")] == ("1", "number")
        assert cells[(code, "s3c.total")] == (str(v + 1), "number")
    # "其他" under （六） and "其他" as a column are different codes.
    assert cells[("s3.other.other", "s3c.other_org")] == ("1", "number")


def test_2021_report_printing_other_handling_as_one_row_places_it_on_s3_other():
    body = [b for b in S3_2021_BODY if "申请人" not in b[0][2] and b[0][2] != "3.其他"]
    body.insert(20, (["", "（六）其他处理", ""], 30))
    report = parse_report(_doc([RawTable(0, _s3_rows(body), page=3)], "本年制发件数 本年废止件数"))
    cells = _cells(report)
    assert cells[("s3.other", "s3c.natural_person")] == ("30", "number")
    assert not any(code.startswith("s3.other.") for code, _ in cells)
    assert cells[("s3.total", "s3c.total")] == ("34", "number")


def test_table_split_at_a_page_break_is_stitched_and_keeps_pages():
    rows = _s3_rows()
    first, second = rows[:16], rows[16:]  # the second piece starts at "2.没有现成信息需要另行制作"
    report = parse_report(_doc([RawTable(0, first, page=3), RawTable(1, second, page=4)], "本年制发件数"))
    by_code = {(r["row_code"], r["col_code"]): r for r in facts_to_rows(report)}
    assert by_code[("s3.unable.needs_creation", "s3c.natural_person")]["value"] == "23"
    assert by_code[("s3.unable.needs_creation", "s3c.natural_person")]["page"] == "4"
    assert by_code[("s3.unable.not_held", "s3c.natural_person")]["page"] == "3"
    assert len(by_code) == 25 * 7


def test_parent_and_leaf_in_one_cell_and_garbled_total():
    body = [
        (["一、本年新收政府信息公开申请数量", "", ""], 10),
        (["三、本年度办理结果（一）予以公开", "", ""], 12),
        (["（三）不予公开 1.属于国家秘密", "", ""], 14),
        (["", "", "8.属于行政查询事项"], 21),
        (["（七）总记", "", ""], 33),
    ]
    report = parse_report(_doc([RawTable(0, _s3_rows(body))], "本年制发件数"))
    cells = _cells(report)
    assert cells[("s3.granted", "s3c.natural_person")][0] == "12"
    assert cells[("s3.refused.state_secret", "s3c.natural_person")][0] == "14"
    assert cells[("s3.refused.query_matter", "s3c.natural_person")][0] == "21"
    assert cells[("s3.total", "s3c.natural_person")][0] == "33"


def test_unmatched_row_label_is_unplaced_never_guessed():
    body = [
        (["一、本年新收政府信息公开申请数量", "", ""], 10),
        (["", "（三）不予公开", "1.属于国家秘密"], 14),
        (["", "", "9.涉及举报人信息"], 99),  # no such row in the template
        (["", "", "其他"], 98),  # "其他" has no meaning under 不予公开
    ]
    report = parse_report(_doc([RawTable(0, _s3_rows(body))], "本年制发件数"))
    assert {f.row_code for f in report.facts} == {"s3.new", "s3.refused.state_secret"}
    raws = {u.row_label_raw for u in report.unplaced}
    assert raws == {"9.涉及举报人信息", "其他"}
    assert len(report.unplaced) == 14
    assert "99" in {u.raw_text for u in report.unplaced}


def test_html_grid_with_none_cells_and_different_colspans_in_s2():
    # 第二十条第（五）项 as the 2019 HTML draws it: header 本年增/减 spans two columns, data 上一年 spans two.
    rows = [
        ["第二十条第（一）项", None, None, None, None],
        ["信息内容", "本年新\n制作数量", "本年新\n公开数量", None, "对外公开总数量"],
        ["规章", "13", "12", None, "524"],
        ["规范性文件", "60", "59", None, "368"],
        ["第二十条第（五）项", None, None, None, None],
        ["信息内容", "上一年项目数量", "本年增/减", None, "处理决定数量"],
        ["行政许可", "7", None, "-2", "40"],
        ["第二十条第（九）项", None, None, None, None],
        ["信息内容", "采购项目数量", None, "采购总金额", None],
        ["政府集中采购", "6", None, "251000元", None],
    ]
    doc = ExtractedDocument("h", "text/html", [RawTable(0, rows, method="html")], text="2019年某某政府信息公开工作年度报告")
    cells = _cells(parse_report(doc))
    assert cells[("s2.rules", "s2c.published")] == ("12", "number")
    assert cells[("s2.normative_docs", "s2c.total_published")] == ("368", "number")
    assert cells[("s2.licensing", "s2c.prev_items")] == ("7", "number")
    assert cells[("s2.licensing", "s2c.change")] == ("-2", "number")
    assert cells[("s2.licensing", "s2c.decisions")] == ("40", "number")
    assert cells[("s2.procurement", "s2c.procurement_amount")] == ("25.1", "number")


def test_2021_s2_single_column_sub_tables_from_camelot():
    rows = [
        ["第二十条第（五）项", "", "", ""],
        ["信息内容", "本年处理决定数量", "", ""],
        ["行政许可", "9,487", "", ""],
        ["第二十条第（八）项", "", "", ""],
        ["信息内容", "本年收费金额（单位：万元）", "", ""],
        ["行政事业性收费", "24.5", "", ""],
    ]
    report = parse_report(_doc([RawTable(0, rows, page=2)], "2022年度政府信息公开工作年度报告"))
    assert report.template_version == "2021"
    facts = {(f.row_code, f.col_code): f for f in report.facts}
    assert facts[("s2.licensing", "s2c.decisions_year")].value == 9487
    assert facts[("s2.fees", "s2c.fee_amount")].value == 24.5
    assert facts[("s2.fees", "s2c.fee_amount")].unit == "万元"
    assert len(facts) == 2 and not report.unplaced


S4_HEADER = [
    ["行政复议", "", "", "", "", "", "", "", "行政诉讼", "", "", "", "", "", ""],
    ["结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总 计", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
    ["", "", "", "", "", "结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总 计", "结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总 计"],
]


def test_s4_row_without_label_maps_fifteen_columns():
    values = [str(i) for i in range(1, 16)]
    report = parse_report(_doc([RawTable(0, [*S4_HEADER, values], page=4)], "本年制发件数"))
    cells = _cells(report)
    assert [cells[("s4.cases", c)][0] for c in CB.cols("s4", "2021")] == values


def test_s4_header_in_another_order_is_not_guessed():
    header = [row[:] for row in S4_HEADER]
    header[1][0], header[1][4] = header[1][4], header[1][0]  # 总计 first in the 行政复议 block
    report = parse_report(_doc([RawTable(0, [*header, ["1"] * 15])], "本年制发件数"))
    assert not report.facts
    assert len(report.unplaced) == 15
    assert any("do not match the template" in n for n in report.notes)


def test_one_table_holding_several_sections_is_cut_by_their_markers():
    s2 = [["第二十条第（一）项", "", "", "", "", "", "", "", "", ""],
          ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数", "", "", "", "", "", ""],
          ["规章", "1", "2", "3", "", "", "", "", "", ""]]
    table = RawTable(0, [*s2, *_s3_rows()], page=1)
    grids = section_grids([table])
    assert [g.section for g in grids] == ["s2", "s3"]
    cells = _cells(parse_report(_doc([table], "本年制发件数")))
    assert cells[("s2.rules", "s2c.in_force")] == ("3", "number")
    assert cells[("s3.carried_out", "s3c.total")] == ("35", "number")


def test_classify_table():
    assert classify_table(RawTable(0, _s3_rows())) == "s3"
    assert classify_table(RawTable(0, [*S4_HEADER, ["0"] * 15])) == "s4"
    assert classify_table(RawTable(0, [["单位", "地址"], ["某某局", "某某路1号"]])) == "other"


def test_version_from_labels_and_mismatch_with_year():
    assert detect_version("本年新制作数量 本年新公开数量 对外公开总数量", [], 2019)[0] == "2019"
    version, evidence = detect_version("本年制发件数 本年废止件数", [], 2020)
    assert version == "2021" and "MISMATCH" in evidence
    assert detect_version("本年新收政府信息公开申请数量", [], 2022)[0] == "2021"  # only common labels: year decides
    assert detect_version("本年新收政府信息公开申请数量", [], None)[0] == "unknown"
    assert detect_version("受理依申请公开信息总数 主动公开信息数", [], 2012)[0] == "legacy"
    assert detect_version("", [RawTable(0, [["本年\n制发件数", "本年废止件数"]])], None)[0] == "2021"


def test_report_year():
    assert detect_report_year("淮安市洪泽区人民政府\n2024 年政府信息公开工作年度报告\n本报告") == 2024
    assert detect_report_year("2019年上海市人民政府办公厅政府信息公开工作年度报告") == 2019
    assert detect_report_year("某某局政府信息公开工作年度报告（2022年）") == 2022
    assert detect_report_year("本报告所列数据统计期限自2021年1月1日起至2021年12月31日止") == 2021
    assert detect_report_year("没有年份") is None


def test_format_value():
    assert format_value(7545.0) == "7545"
    assert format_value(25.1) == "25.1"
    assert format_value(-18.0) == "-18"
    assert format_value(None) == ""


def test_group_label_split_by_a_page_break_still_places_its_rows():
    # [HA24]: "（四）无" ends one page's table and "法提供" opens the next one.
    rows = _s3_rows()
    first, second = rows[:16], rows[16:]
    first[-1] = ["", "（四）无", "1.本机关不掌握相关政府信息", *_values(22)]
    second[0] = ["", "法提供", "2.没有现成信息需要另行制作", *_values(23)]
    report = parse_report(_doc([RawTable(0, first, page=4), RawTable(1, second, page=5)], "本年制发件数"))
    cells = _cells(report)
    assert cells[("s3.unable.not_held", "s3c.natural_person")][0] == "22"
    assert cells[("s3.unable.needs_creation", "s3c.natural_person")][0] == "23"
    assert len(cells) == 25 * 7 and not report.unplaced


def test_unlabelled_continuation_table_of_the_same_width_is_stitched():
    s4 = RawTable(0, S4_HEADER, page=4)
    values = RawTable(1, [[str(i) for i in range(15)]], page=5)
    grids = section_grids([s4, values])
    assert [g.section for g in grids] == ["s4"] and grids[0].table_indices == [0, 1]
    report = parse_report(_doc([s4, values], "本年制发件数"))
    assert {r["page"] for r in facts_to_rows(report)} == {"5"}
    assert len(report.facts) == 15


def test_duplicate_section_tables_do_not_double_count():
    t0, t1 = RawTable(0, [*S4_HEADER, ["1"] * 15]), RawTable(1, [*S4_HEADER, ["2"] * 15])
    report = parse_report(_doc([t0, t1], "本年制发件数"))
    assert {f.value for f in report.facts} == {1}
    assert len(report.unplaced) == 15 and all("already placed" in u.reason for u in report.unplaced)


def test_legacy_document_is_left_to_the_legacy_reader():
    report = parse_report(_doc([RawTable(0, [["主动公开信息数", "条", "12"], ["受理依申请公开信息总数", "条", "3"]])],
                               "2012年政府信息公开工作年度报告 政府信息公开情况统计表"))
    assert report.template_version == "legacy" and not report.facts


def test_blank_rows_named_like_columns_are_data_not_headers():
    rows = _s3_rows()
    for r in rows[3:]:
        if r[2] in ("3.其他",) or r[1] == "（七）总计":
            r[3:] = [""] * 7  # "其他" / "总计" are also column labels; blank cells, as in HTML reports
    cells = _cells(parse_report(_doc([RawTable(0, rows)], "本年制发件数")))
    assert cells[("s3.other.other", "s3c.total")] == ("", "blank")
    assert cells[("s3.total", "s3c.natural_person")] == ("", "blank")
    assert cells[("s3.carried_out", "s3c.natural_person")] == ("34", "number")
    assert len(cells) == 25 * 7


def test_merged_value_cell_text_off_its_header_position():
    # Camelot: the header's text sits in the middle column of its merge, the value in the first.
    rows = [
        ["第二十条第（五）项", "", "", ""],
        ["信息内容", "", "本年处理决定数量", ""],
        ["行政许可", "12", "", ""],
    ]
    report = parse_report(_doc([RawTable(0, rows)], "本年制发件数"))
    assert [(f.row_code, f.col_code, f.value) for f in report.facts] == [("s2.licensing", "s2c.decisions_year", 12)]
    assert not report.unplaced


def test_s2_sub_table_without_header_row_uses_the_template_layout():
    rows = [["第二十条 第（六）项", ""], ["行政处罚", "5"], ["行政强制", "/"],
            ["第二十条第（八）项", ""], ["行政事业性收费", "1,200.5"]]
    report = parse_report(_doc([RawTable(0, rows)], "2023年度政府信息公开工作年度报告"))
    cells = _cells(report)
    assert cells == {
        ("s2.penalty", "s2c.decisions_year"): ("5", "number"),
        ("s2.coercion", "s2c.decisions_year"): ("", "not_applicable"),
        ("s2.fees", "s2c.fee_amount"): ("1200.5", "number"),
    }


def test_s4_row_labelled_with_the_section_title_or_a_count_word():
    values = [str(i) for i in range(15)]
    header = [["", *r] for r in S4_HEADER]
    for label in ("政府信息公开行政复议、行政诉讼情况", "数量", "案件数量"):
        report = parse_report(_doc([RawTable(0, [*header, [label, *values]])], "本年制发件数"))
        assert len(report.facts) == 15 and not report.unplaced, label
    report = parse_report(_doc([RawTable(0, [*header, ["预算执行情况", *values]])], "本年制发件数"))
    assert not report.facts and len(report.unplaced) == 15


def test_s4_caption_line_above_the_grid_is_not_its_value_row():
    """A spreadsheet's 填报单位 / 单位 line sits above 四's header: words only, so it is a caption
    (noted), and the real row of numbers below the header is the one placed."""
    values = [str(i) for i in range(1, 16)]
    width = len(S4_HEADER[0])
    caption = ["填报单位：某某区教育局", *[None] * (width - 2), "单位：件"]
    title = ["四、政府信息公开行政复议、行政诉讼情况", *[None] * (width - 1)]
    report = parse_report(_doc([RawTable(0, [title, caption, *S4_HEADER, values], page=4)], "本年制发件数"))
    cells = _cells(report)
    assert [cells[("s4.cases", c)][0] for c in CB.cols("s4", "2021")] == values
    assert all(u.reason for u in report.unplaced)  # the caption's words: unplaced with a reason, or noted


def test_s4_caption_spread_over_the_grid_width_is_noted_not_placed():
    """The same caption as a spreadsheet gives it (one cell per column, merged): noted, not placed."""
    values = [str(i) for i in range(1, 16)]
    caption = ["填报单位：某某区教育局", *[""] * 13, "单位：件"]
    report = parse_report(_doc([RawTable(0, [caption, *S4_HEADER, values], page=4)], "本年制发件数"))
    cells = _cells(report)
    assert [cells[("s4.cases", c)][0] for c in CB.cols("s4", "2021")] == values
    assert any("read as a caption" in n and "填报单位" in n for n in report.notes), report.notes


def test_s2_value_left_of_a_wide_header_is_placed_but_never_certain():
    """A borderless sub-table read with its columns cut too far right: the number sits under
    信息内容, the value column is blank. Placed from where it is, confidence lowered, noted — a
    blank with full confidence beside a number is the silent wrong this guards against."""
    rows = [["", "", "第二十条第（五）项"], ["", "信息内容", "本年处理决定数量"], ["行政许可", "454", ""]]
    report = parse_report(_doc([RawTable(0, rows, page=1)], "本年制发件数 本年处理决定数量"))
    fact = next(f for f in report.facts if f.row_code == "s2.licensing")
    assert (fact.value, fact.col_index, fact.confidence) == (454, 1, 0.5)
    assert any("misregistered" in n and "454" in n for n in report.notes), report.notes


def test_a_number_glued_into_a_row_label_lowers_that_rows_confidence():
    """Cell text run across a row boundary ('…过程性信息\\n7\\n…') puts a neighbour's number in the
    label: the row's values may belong to a neighbour, so none of them is certain."""
    body = [(labels[:], v) for labels, v in S3_2021_BODY]
    body[10] = (["", "", "6.属于四类过程性信息\n7\n、属于行政执法案"], 19)
    report = parse_report(_doc([RawTable(0, _s3_rows(body))], "本年制发件数"))
    shaky = [f for f in report.facts if f.confidence < 1]
    assert shaky and {f.row_label_raw for f in shaky} == {"6.属于四类过程性信息\n7\n、属于行政执法案"}
    assert all(f.confidence == 1 for f in report.facts if f.row_code == "s3.total")
