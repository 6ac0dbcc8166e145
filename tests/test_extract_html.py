"""HTML extraction: merged-cell grids, charsets, layout tables, and report HTML inside JS strings."""

from __future__ import annotations

import json

import pytest

from ogi.core.jsstrings import js_string_literals, unescape_js_string
from ogi.core.models import ExtractionError
from ogi.core.textcodec import decode_html_bytes
from ogi.extract.html_tables import extract_html
from tests.conftest import shared_path

# ------------------------------------------------------------------ the Shanghai 2019 sample


@pytest.fixture(scope="module")
def shanghai():
    data = shared_path("samples", "2019_shanghai-shi-bgt.js").read_bytes()
    return extract_html(data, sha256="sh19")


def test_shanghai_js_yields_the_three_report_tables(shanghai):
    assert shanghai.media_type == "application/javascript"
    assert shanghai.extractor.startswith("html:")
    assert len(shanghai.tables) == 3
    assert [t.index for t in shanghai.tables] == [0, 1, 2]
    for t in shanghai.tables:
        assert t.method == "html"
        assert len({len(r) for r in t.rows}) == 1, "grid must be rectangular"


def test_shanghai_section2_five_subtables(shanghai):
    rows = shanghai.tables[0].rows
    assert len(rows) == 18 and len(rows[0]) == 5
    titles = [r[0] for r in rows if r[0] and r[0].startswith("第二十条")]
    assert titles == [f"第二十条第（{n}）项" for n in "一五六八九"]
    # full-width title row: text in the first cell, the rest covered
    assert rows[0] == ["第二十条第（一）项", None, None, None, None]
    # <br /> kept as a line break; colspan=2 header covers the next column
    assert rows[1] == ["信息内容", "本年新\n制作数量", "本年新\n公开数量", None, "对外公开总数量"]
    assert rows[2] == ["规章", "13", "13", None, "524"]
    assert rows[3] == ["规范性文件", "60", "60", None, "368"]
    # (五) data rows put colspan=2 on the first value, unlike their header
    assert rows[6] == ["行政许可", "0", None, "0", "0"]
    assert rows[17] == ["政府集中采购", "6", None, "251000元", None]


def test_shanghai_section3_grid(shanghai):
    rows = shanghai.tables[1].rows
    assert len(rows) == 26 and len(rows[0]) == 10  # 3 label columns + 7 value columns
    # the 3×3 top-left note covers its block
    assert rows[0][0].startswith("（本列数据的勾稽关系为")
    assert rows[0][1:3] == [None, None] and rows[1][:3] == [None, None, None]
    assert rows[0][3] == "申请人情况" and rows[0][4:] == [None] * 6
    assert rows[1][3:] == ["自然人", "法人或其他组织", None, None, None, None, "总计"]
    assert rows[2][3:] == [None, "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", None]
    by_label = {next(c for c in r[:3] if c): r for r in rows[3:]}
    assert by_label["一、本年新收政府信息公开申请数量"][3:] == ["821", "35", "", "", "2", "1", "859"]
    assert by_label["二、上年结转政府信息公开申请数量"][3:] == ["18", "", "", "", "", "", "18"]
    assert by_label["四、结转下年度继续办理"][3:] == ["72", "", "", "", "", "", "72"]
    # 三、本年度办理结果 has rowspan 20: its text sits in row 5, covered below
    assert rows[5][0] == "三、本年度办理结果" and all(rows[r][0] is None for r in range(6, 25))
    assert rows[5][1:] == ["（一）予以公开", None, "258", "12", "", "", "1", "1", ""]
    assert rows[7][1:4] == ["（三）不予公开", "1.属于国家秘密", "14"]
    assert rows[8][1:3] == [None, "2.其他法律行政法规禁止公开"]  # rowspan 8 of （三）
    assert rows[15][1:5] == ["（四）无法提供", "1.本机关不掌握相关政府信息", "252", "12"]
    assert rows[18][1:5] == ["（五）不予处理", "1.信访举报投诉类申请", "148", "1"]
    assert rows[23][1:] == ["（六）其他处理", None, "", "", "", "", "", "", ""]
    assert rows[24][1:] == ["（七）总计", None, "767", "35", "", "", "2", "1", "805"]


def test_shanghai_section4_fifteen_values(shanghai):
    rows = shanghai.tables[2].rows
    assert len(rows) == 4 and len(rows[0]) == 15
    assert rows[0] == ["行政复议", None, None, None, None, "行政诉讼"] + [None] * 9
    assert rows[1][:6] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉"]
    assert rows[1][10] == "复议后起诉"
    assert rows[2][:5] == [None] * 5  # rowspan 2 of the 行政复议 leaf headers
    assert rows[3] == ["5", "", "", "2", "7", "8", "", "", "1", "9", "", "", "", "", ""]


def test_shanghai_text_is_the_unescaped_report(shanghai):
    text = shanghai.text
    assert text.startswith("2019年上海市人民政府办公厅政府信息公开工作年度报告")
    assert "市政府办公厅代表市政府共受理政府信息公开申请859件" in text
    assert "六、其他需要报告的事项" in text.splitlines()
    assert "《上海市贯彻<长江三角洲区域一体化发展规划纲要>实施方案》" in text  # &lt; &gt; decoded
    assert "secondMenu" not in text and '\\"' not in text and "<p" not in text
    assert "市政府规章" not in text  # menu strings without markup are not report text


# ------------------------------------------------------------------ charsets

_GB_PAGE = """<html><head>{meta}<title>年度报告</title></head><body>
<p>共收到政府信息公开申请12件，镕（GBK 扩展字）</p>
<table><tr><td>自然人</td><td>总计</td></tr><tr><td>7</td><td>12</td></tr></table></body></html>"""


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="gb2312">', '<meta http-equiv="Content-Type" content="text/html; charset=GBK">', ""],
)
def test_gbk_pages_decode(meta):
    data = _GB_PAGE.format(meta=meta).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, codec = decode_html_bytes(data)
    assert codec == "gb18030"
    assert "镕（GBK 扩展字）" in text  # 镕 is in GBK but not GB2312
    doc = extract_html(data, sha256="gb")
    assert "共收到政府信息公开申请12件" in doc.text
    assert doc.tables[0].rows == [["自然人", "总计"], ["7", "12"]]


def test_charset_precedence_and_wrong_labels():
    page = _GB_PAGE.format(meta="")
    # BOM wins over everything
    assert decode_html_bytes(b"\xef\xbb\xbf" + page.encode("utf-8"), "gbk") == (page, "utf-8")
    # a declared (HTTP) charset is used when the page has no meta
    assert decode_html_bytes(page.encode("gb18030"), "GB2312")[1] == "gb18030"
    # a wrong meta label that does not decode strictly falls through to the next candidate
    lying = _GB_PAGE.format(meta='<meta charset="utf-8">').encode("gbk")
    assert decode_html_bytes(lying) == (lying.decode("gb18030"), "gb18030")
    # UTF-8 bytes, no label at all
    assert decode_html_bytes(page.encode("utf-8")) == (page, "utf-8")
    # a Latin-1 label on UTF-8 Chinese bytes would be mojibake: strict UTF-8 goes first
    assert decode_html_bytes(page.encode("utf-8"), "iso-8859-1")[0] == page


# ------------------------------------------------------------------ grids


def test_rowspan_colspan_nested_spans_and_blanks():
    page = """<html><body><table>
      <thead><tr><th rowspan="2">项目</th><th colspan="2"><span><font>申请</font>人</span></th></tr>
      <tr><th>自然人</th><th>法人<br>或其他组织</th></tr></thead>
      <tbody>
      <tr><td><p><b>本年</b><span style="x">新收</span><span style="display:none">隐藏</span></p></td><td><font><span>\u200b1</span>2</font></td><td>&nbsp;</td></tr>
      <tr><td rowspan="2">办理<br/>结果</td><td colspan="2" rowspan="2">3
      </td></tr>
      <tr></tr>
      <tr><td>短行</td></tr>
      </tbody></table></body></html>"""
    doc = extract_html(page.encode("utf-8"), sha256="g")
    assert doc.media_type == "text/html"
    assert doc.tables[0].rows == [
        ["项目", "申请人", None],
        [None, "自然人", "法人\n或其他组织"],
        ["本年新收", "12", ""],
        ["办理\n结果", "3", None],
        [None, None, None],
        ["短行", "", ""],  # positions no cell reaches are empty, not covered
    ]


def test_layout_table_wrapping_a_data_table_keeps_only_the_data_table():
    page = """<html><body><table width="100%"><tr><td>导航</td><td>
      <table><tr><td>
        <p>一、总体情况</p>
        <table border="1"><tr><td>规章</td><td>5</td></tr><tr><td>规范性文件</td><td>7</td></tr></table>
      </td></tr></table>
      </td></tr><tr><td colspan="2"><table><tr><td>版权所有</td></tr></table></td></tr></table></body></html>"""
    doc = extract_html(page.encode("utf-8"), sha256="l")
    assert [t.rows for t in doc.tables] == [[["规章", "5"], ["规范性文件", "7"]]]
    assert "一、总体情况" in doc.text.splitlines()


def test_page_without_tables_is_not_an_error():
    page = "<html><head><style>p{}</style><script>var a='<b>x</b>';</script></head><body><p>无表格</p></body></html>"
    doc = extract_html(page.encode("utf-8"), sha256="n")
    assert doc.tables == [] and doc.text == "无表格"


def test_empty_document_is_an_error():
    with pytest.raises(ExtractionError, match="empty"):
        extract_html(b"  \n", sha256="e")


def test_json_payload_with_escaped_html():
    report = (
        '<p>共收到申请3件</p><table><tr><td colspan="2">总计</td></tr><tr><td>1</td><td>2</td></tr></table>'
    )
    payload = json.dumps({"title": "年度报告", "content": report}, ensure_ascii=True)  # four-digit \\u escapes
    assert "\\u" in payload
    doc = extract_html(payload.encode("utf-8"), sha256="j")
    assert doc.tables[0].rows == [["总计", None], ["1", "2"]]
    assert doc.text == "共收到申请3件\n总计\n1\t2"


def test_html_shell_writing_the_report_from_a_script_string():
    page = r"""<html><body><table><tr><td><a>首页</a></td><td><a>年报</a></td></tr></table>
    <div id="c"></div><script>
    // the report's "table" follows
    var html = '<table><tr><td>自然人<\/td><td>总计<\/td><\/tr>' +
               '<tr><td>4<\/td><td>4<\/td><\/tr><\/table>';
    document.getElementById('c').innerHTML = html;</script></body></html>"""
    doc = extract_html(page.encode("utf-8"), sha256="s")
    assert [t.rows for t in doc.tables] == [[["首页", "年报"]], [["自然人", "总计"], ["4", "4"]]]
    assert [t.index for t in doc.tables] == [0, 1]
    assert any("script" in w for w in doc.warnings)
    assert doc.text == "首页\t年报\n自然人\t总计\n4\t4"
    written = """<html><body><script>document.write("<table><tr><td>规章</td>");
    document.write("<td>" + n + "</td><td>9</td></tr></table>");</script></body></html>"""
    assert extract_html(written.encode(), sha256="w").tables[0].rows == [["规章", "", "9"]]


def test_js_string_helpers():
    src = r"""/* "not a string" */ let a = "x\"y" + 'z\u4e2d\n'; // 'comment'
    let b = `t`;"""
    assert js_string_literals(src) == ['x\\"y' + "z\\u4e2d\\n", "t"]
    assert unescape_js_string(r"\ud83d\ude00 \x41\/\u{4e2d}") == "😀 A/中"


def test_json_payload_escaped_the_go_or_entity_way():
    go_style = '{"data":{"content":"\\u003cp\\u003e报告\\u003c/p\\u003e\\u003ctable\\u003e\\u003ctr\\u003e'
    go_style += '\\u003ctd\\u003e规章\\u003c/td\\u003e\\u003ctd\\u003e2\\u003c/td\\u003e\\u003c/tr\\u003e\\u003c/table\\u003e"}}'
    doc = extract_html(go_style.encode(), sha256="go")
    assert doc.tables[0].rows == [["规章", "2"]] and doc.text.startswith("报告")
    entity = json.dumps(
        {
            "content": "&lt;table&gt;&lt;tr&gt;&lt;td&gt;规章&lt;/td&gt;&lt;td&gt;&amp;nbsp;&lt;/td&gt;&lt;td&gt;3&lt;/td&gt;"
        }
    )
    doc = extract_html(entity.encode(), sha256="ent")
    assert doc.tables[0].rows == [["规章", "", "3"]]


def test_plain_text_or_js_without_html_gives_no_tables():
    doc = extract_html(b'var menu = [{"name": "\\u653f\\u7b56"}];', sha256="m")
    assert doc.tables == [] and doc.warnings
    doc = extract_html("一、总体情况\n共收到申请5件\n".encode("gbk"), sha256="t")
    assert doc.tables == [] and doc.text == "一、总体情况\n共收到申请5件"
