"""PDF extraction on the real Hongze 2024 report: grids, stitching, corrupt input, OCR."""

from __future__ import annotations

import hashlib
import re

import pytest

from ogi.core.models import ExtractionError, RawTable
from ogi.extract import extract_document
from ogi.extract.pdf_grid import PageTable, grid_consistency
from ogi.extract.pdf_tables import RASTER, STREAM, VECTOR, arbitrate, grid_from_cells, pdf_candidates, stitch
from ogi.extract.pdf_text import text_quality
from tests.conftest import shared_path

HONGZE = "2024_hongze-qu.pdf"


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _find_row(table: RawTable, label: str) -> list[str | None]:
    """The first row whose text cells (joined, spaces removed) contain ``label``."""
    for row in table.rows:
        if label in "".join(_squash(c) for c in row if c and not re.fullmatch(r"[\d.]+", c)):
            return row
    raise AssertionError(f"no row labelled {label!r} in table {table.index}")


def _values(row: list[str | None]) -> list[str]:
    return [c for c in row if c is not None and re.fullmatch(r"-?\d+(\.\d+)?", c.strip())]


def _table_with(doc, needle: str) -> RawTable:
    for t in doc.tables:
        if any(needle in _squash(c) for r in t.rows for c in r if c):
            return t
    raise AssertionError(f"no table contains {needle!r}")


@pytest.fixture(scope="module")
def hongze_bytes() -> bytes:
    return shared_path("samples", HONGZE).read_bytes()


@pytest.fixture(scope="module")
def hongze(hongze_bytes):
    return extract_document(hongze_bytes, sha256=hashlib.sha256(hongze_bytes).hexdigest(), filename="x.pdf")


def test_document_metadata(hongze, hongze_bytes):
    assert hongze.media_type == "application/pdf"
    assert hongze.page_count == 5
    assert hongze.extractor.startswith("pdf:")
    assert hongze.sha256 == hashlib.sha256(hongze_bytes).hexdigest()
    assert "政府信息公开工作年度报告" in _squash(hongze.text)
    assert hongze.text.count("\f") == 4  # page boundaries kept
    assert not hongze.warnings


def test_section2_values(hongze):
    t = _table_with(hongze, "行政许可")
    assert t.page == 2 and t.method == "camelot-lattice"
    assert _values(_find_row(t, "行政许可")) == ["9487"]
    assert _values(_find_row(t, "行政规范性文件")) == ["3", "0", "8"]
    assert _values(_find_row(t, "规章")) == ["0", "0", "0"]
    # the caption row is one merged cell: text in its top-left, the rest covered
    caption = _find_row(t, "第二十条第（一）项")
    assert caption[0] and caption[1:] == [None] * (len(caption) - 1)
    t3 = _table_with(hongze, "行政处罚")
    assert t3.page == 3
    assert _values(_find_row(t3, "行政处罚")) == ["2776"]
    assert _values(_find_row(t3, "行政强制")) == ["84"]
    assert _values(_find_row(t3, "行政事业性收费")) == ["7545"]


def test_section3_stitched_across_pages(hongze):
    t = _table_with(hongze, "申请人情况")
    assert t.page == 3
    assert t.row_pages is not None and len(t.row_pages) == len(t.rows)
    assert set(t.row_pages) == {3, 4} and t.row_pages == sorted(t.row_pages)
    assert "stitched page 4" in t.note
    assert all(len(r) == 10 for r in t.rows)
    assert _values(_find_row(t, "本年新收")) == ["95", "0", "0", "0", "0", "0", "95"]
    assert _values(_find_row(t, "予以公开")) == ["50", "0", "0", "0", "0", "0", "50"]
    assert _values(_find_row(t, "本机关不掌握")) == ["31", "0", "0", "0", "0", "0", "31"]
    # rows from page 4 belong to the same table, with their page recorded
    r = t.rows.index(_find_row(t, "没有现成信息"))
    assert t.row_pages[r] == 4 and _values(t.rows[r]) == ["1", "0", "0", "0", "0", "0", "1"]
    total = _find_row(t, "（七）总计")
    assert _values(total) == ["95", "0", "0", "0", "0", "0", "95"]
    assert _values(_find_row(t, "结转下年度")) == ["0"] * 7
    # label line breaks are kept; the vertical merge of 三、本年度办理结果 continues as None on page 4
    assert any(c and "\n" in c for c in t.rows[2])
    assert t.rows[r][0] is None
    # no other table holds rows of section 三
    assert (
        sum(
            1
            for tb in hongze.tables
            if any("没有现成信息" in _squash(c) for row in tb.rows for c in row if c)
        )
        == 1
    )


def test_section4_values(hongze):
    t = _table_with(hongze, "复议后起诉")
    assert t.page == 4 and t.row_pages is None
    data_rows = [r for r in t.rows if len(_values(r)) == 15]
    assert len(data_rows) == 1
    assert _values(data_rows[0]) == [
        "1",
        "1",
        "0",
        "0",
        "2",
        "1",
        "0",
        "0",
        "0",
        "1",
        "2",
        "0",
        "1",
        "0",
        "3",
    ]
    assert t.rows[0][0] == "行政复议"


def test_grid_is_rectangular_and_clean(hongze):
    for t in hongze.tables:
        width = len(t.rows[0])
        assert all(len(r) == width for r in t.rows)
        for r in t.rows:
            for c in r:
                assert c is None or (c == c.strip() and "\u3000" not in c)


def test_truncated_pdf_is_an_extraction_error(hongze_bytes):
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document(hongze_bytes[:2000], sha256="t", filename="x.pdf")


def test_garbage_with_pdf_header_is_an_extraction_error():
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document(b"%PDF-1.7\n" + bytes(range(256)) * 20, sha256="g", filename="x.pdf")


def test_pdf_extension_with_wrong_bytes_names_the_header():
    with pytest.raises(ExtractionError, match="not a PDF: bad header"):
        extract_document(b"\x00\x01binary junk" * 10, sha256="h", filename="report.pdf")


# ---------------------------------------------------------------- pure helpers


class _Cell:
    def __init__(self, left=True, right=True, top=True, bottom=True):
        self.left, self.right, self.top, self.bottom = left, right, top, bottom


def test_grid_from_cells_moves_merge_text_to_top_left():
    from ogi.extract.pdf_tables import _regions

    # a 1x3 row where the last two cells are one merge with its text in the right cell
    cells = [[_Cell(), _Cell(right=False), _Cell(left=False)]]
    grid, top = grid_from_cells([["a\n", "", "merged\n"]], _regions(cells))
    assert grid == [["a", "merged", None]]
    # a text-less merge touching the top row is reported for stitching
    cells = [[_Cell(bottom=False), _Cell()], [_Cell(top=False), _Cell()]]
    grid, top = grid_from_cells([["", "1"], ["", "2"]], _regions(cells))
    assert grid == [["", "1"], [None, "2"]] and top == [{(0, 0), (1, 0)}]


def test_stitch_drops_repeated_header_and_merges_cut_row():
    header = ["项目", "数量"]
    a = PageTable(
        page=1, rows=[header, ["甲", "1"], ["乙（跨页", "2"]], method="camelot-lattice", confidence=1.0
    )
    b = PageTable(
        page=2, rows=[header, ["标签续）", ""], ["丙", "3"]], method="camelot-lattice", confidence=0.9
    )
    (t,) = stitch([a, b])
    assert t.rows == [header, ["甲", "1"], ["乙（跨页\n标签续）", "2"], ["丙", "3"]]
    assert t.row_pages == [1, 1, 1, 2]
    assert "repeated header" in t.note and "cut by the page break" in t.note


def test_stitch_three_pages_drops_every_repeated_header():
    header = ["项目", "数量"]
    pages = [
        PageTable(page=p, rows=[header, [f"行{p}", str(p)]], method="camelot-lattice", confidence=1.0)
        for p in (1, 2, 3)
    ]
    (t,) = stitch(pages)
    assert t.rows == [header, ["行1", "1"], ["行2", "2"], ["行3", "3"]]
    assert t.row_pages == [1, 1, 2, 3]


def test_stitch_keeps_captioned_tables_apart():
    a = PageTable(
        page=1,
        rows=[["第二十条第（五）项", None], ["行政许可", "1"]],
        method="camelot-lattice",
        confidence=1.0,
    )
    b = PageTable(
        page=2,
        rows=[["第二十条第（六）项", None], ["行政处罚", "2"]],
        method="camelot-lattice",
        confidence=1.0,
    )
    assert len(stitch([a, b])) == 2


def test_stitch_needs_the_tables_to_meet_at_the_page_break():
    def pt(page, rows, top, bottom):
        return PageTable(page, rows, "camelot-lattice", 1.0, top_frac=top, bottom_frac=bottom)

    a = pt(1, [["甲", "1"], ["乙", "2"]], 0.5, 0.93)
    assert len(stitch([a, pt(2, [["丙", "3"]], 0.08, 0.2)])) == 1
    # a table that ends mid-page, or one that starts below a heading, is a new table
    assert len(stitch([pt(1, a.rows, 0.1, 0.45), pt(2, [["丙", "3"]], 0.08, 0.2)])) == 2
    assert len(stitch([a, pt(2, [["丙", "3"]], 0.55, 0.7)])) == 2


def test_pdf_candidates_expose_every_parse(hongze_bytes, tmp_path):
    path = tmp_path / "h.pdf"
    path.write_bytes(hongze_bytes)
    cands = pdf_candidates(str(path), [4])
    assert set(cands[4]) == {VECTOR, RASTER, STREAM}
    assert len(cands[4][VECTOR]) == 2 and len(cands[4][RASTER]) == 2
    chosen = arbitrate(4, cands[4])
    assert chosen and chosen[0].method == "camelot-lattice" and "grid consistency" in chosen[0].note


def test_grid_consistency_prefers_numeric_grids():
    good = [["项目", "甲", "乙"], ["行政许可", "1", "2"], ["行政处罚", "0", "3"]]
    bad = [["项目 甲", "乙"], ["行政许", "可 1 2"], ["行政处罚 0", "3", "x"]]
    assert grid_consistency(good) > grid_consistency(bad)


def test_text_quality_flags_mojibake_and_empty_pages():
    assert text_quality("政府信息公开工作年度报告 本年新收 95 件").verdict == "ok"
    assert text_quality("  \n ").verdict == "empty"
    assert text_quality("\ue001\ue002\ue003\ue004 ÕþÍøÐÅÏ¢¹«¿ª¹¤×÷Äê¶È±¨¸æ").verdict == "garbled"


# ---------------------------------------------------------------- OCR on a scanned copy


def _scanned_copy(src_pdf: bytes, pages: list[int], out_path, dpi: int = 200, angle: float = 0.7) -> bytes:
    """An image-only PDF of some pages: rendered, slightly rotated, with scanner-like noise."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(src_pdf)
    rng = np.random.default_rng(7)
    images = []
    for p in pages:
        img = pdf[p - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
        arr = np.asarray(img).astype(np.int16) + rng.normal(0, 12, (img.height, img.width))
        images.append(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))
    pdf.close()
    images[0].save(out_path, save_all=True, append_images=images[1:], resolution=dpi)
    return out_path.read_bytes()


@pytest.mark.slow  # ~10 s on an idle 2-core machine, up to ~50 s when the cores are shared
def test_scanned_pages_are_read_by_ocr_cell_by_cell(hongze, hongze_bytes, tmp_path):
    scanned = _scanned_copy(hongze_bytes, [3, 4], tmp_path / "scan.pdf")
    doc = extract_document(scanned, sha256="scan", filename="scan.pdf")
    assert doc.page_count == 2
    assert all(t.method == "ocr" for t in doc.tables)
    assert all("deskewed" in t.note for t in doc.tables)
    assert not [w for w in doc.warnings if "low confidence" in w]
    # 三: still one table stitched over the two pages, every number equal to the text layer's
    ref = _table_with(hongze, "申请人情况")
    got = _table_with(doc, "申请人情况")
    assert got.row_pages is not None and set(got.row_pages) == {1, 2}
    assert len(got.rows) == len(ref.rows) and len(got.rows[0]) == len(ref.rows[0])
    number_cells = [(r, c) for r, row in enumerate(ref.rows) for c, v in enumerate(row) if v and v.isdigit()]
    assert len(number_cells) == 7 * 23
    assert [got.rows[r][c] for r, c in number_cells] == [ref.rows[r][c] for r, c in number_cells]
    # merged-cell structure is the same (None where the text layer has None)
    same_none = sum(
        (a is None) == (b is None)
        for ra, rb in zip(ref.rows, got.rows, strict=True)
        for a, b in zip(ra, rb, strict=True)
    )
    assert same_none / sum(len(r) for r in ref.rows) > 0.97
    # most labels read exactly (single-character misreads are left to the label normalizer)
    labels = [(r, c) for r, row in enumerate(ref.rows) for c, v in enumerate(row) if v and not v.isdigit()]
    exact = sum(_squash(got.rows[r][c]) == _squash(ref.rows[r][c]) for r, c in labels)
    assert exact / len(labels) > 0.8
    # 二 (lone digits and a 4-digit amount) and 四 (lone "1"s in wide cells)
    assert _values(_find_row(_table_with(doc, "行政处罚"), "行政事业性收费")) == ["7545"]
    s4 = _table_with(doc, "复议后起诉")
    assert [_values(r) for r in s4.rows if len(_values(r)) == 15] == [
        ["1", "1", "0", "0", "2", "1", "0", "0", "0", "1", "2", "0", "1", "0", "3"]
    ]
    # the prose around the tables is OCR'd too, in reading order
    assert "存在的主要问题" in doc.text and doc.text.index("复议后起诉") < doc.text.index("存在的主要问题")


def test_blank_scan_is_an_extraction_error(tmp_path):
    from PIL import Image

    path = tmp_path / "blank.pdf"
    Image.new("L", (800, 1100), 255).save(path, resolution=100)
    with pytest.raises(ExtractionError, match="scanned PDF: OCR found no table on 1 pages"):
        extract_document(path.read_bytes(), sha256="b", filename="blank.pdf")


# ---------------------------------------------------------------- generated PDFs (Latin text)

_JUNK_TOUNICODE = (
    "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Junk def /CMapType 2 def\n"
    "1 begincodespacerange <00> <FF> endcodespacerange\n"
    "1 beginbfrange <20> <7E> <E020> endbfrange\n"
    "endcmap CMapName currentdict /CMap defineresource pop end end"
)


def _mini_pdf(pages: list[str], junk_text_layer: bool = False, image=None) -> bytes:
    """A minimal valid PDF (Helvetica, one content stream per page). With ``junk_text_layer`` the
    font's ToUnicode map sends every character to the private use area: glyphs render fine but
    the text layer is garbage, as with fonts lacking a real ToUnicode map. ``image`` (a grayscale
    uint8 array) is available to every page as /Im1."""
    import zlib

    font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
    objs: dict[int, str | bytes] = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        3: font + (" /ToUnicode 4 0 R >>" if junk_text_layer else " >>"),
    }
    objs[4] = f"<< /Length {len(_JUNK_TOUNICODE)} >>\nstream\n{_JUNK_TOUNICODE}\nendstream"
    objs[5], xobject = "null", ""
    if image is not None:
        raw = zlib.compress(image.tobytes())
        head = (
            f"<< /Type /XObject /Subtype /Image /Width {image.shape[1]} /Height {image.shape[0]} "
            f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {len(raw)} >>\nstream\n"
        )
        objs[5] = head.encode("latin-1") + raw + b"\nendstream"
        xobject = " /XObject << /Im1 5 0 R >>"
    kids, n = [], 6
    for content in pages:
        kids.append(f"{n} 0 R")
        objs[n] = (
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >>{xobject} >> /Contents {n + 1} 0 R >>"
        )
        objs[n + 1] = f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream"
        n += 2
    objs[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for i in sorted(objs):
        offsets[i] = len(out)
        obj = objs[i]
        body = obj if isinstance(obj, bytes) else obj.encode("latin-1")
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref, size = len(out), max(objs) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets[i]:010d} 00000 n \n".encode() for i in range(1, size))
    out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _table_ops(rows: list[list[str]], top: float, ruled: bool, h: float = 22) -> str:
    xs = (60, 200, 290, 380, 470)
    ops = [
        f"BT /F1 10 Tf {xs[c] + 6} {top - (r + 1) * h + 7} Td ({text}) Tj ET"
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    if ruled:
        bottom = top - len(rows) * h
        ops += [f"{xs[0]} {top - r * h} m {xs[-1]} {top - r * h} l S" for r in range(len(rows) + 1)]
        ops += [f"{x} {top} m {x} {bottom} l S" for x in xs]
    return "\n".join(ops)


_HEADER = ["Item", "Q1", "Q2", "Q3"]
_BODY = [[f"row{i}", str(i), str(i * 10), str(i + 100)] for i in range(1, 13)]


def test_ruled_table_over_two_pages_with_repeated_header():
    p1 = "BT /F1 14 Tf 60 760 Td (Report) Tj ET\n" + _table_ops([_HEADER, *_BODY[:7]], top=300, ruled=True)
    p2 = _table_ops([_HEADER, *_BODY[7:]], top=800, ruled=True)
    doc = extract_document(_mini_pdf([p1, p2]), sha256="r", filename="r.pdf")
    (t,) = doc.tables
    assert t.method == "camelot-lattice"
    assert t.rows == [_HEADER, *_BODY]
    assert t.row_pages == [1] * 8 + [2] * 5
    assert "dropped 1 repeated header row" in t.note


def test_borderless_table_is_read_from_word_positions():
    doc = extract_document(_mini_pdf([_table_ops([_HEADER, *_BODY], top=700, ruled=False)]), sha256="s")
    (t,) = doc.tables
    # read from word positions (extract/pdf_borderless.py) before stream is tried
    assert t.method == "pdf-words" and "word positions" in t.note
    assert t.rows == [_HEADER, *_BODY]


def test_garbled_text_layer_goes_to_ocr():
    pdf = _mini_pdf([_table_ops([_HEADER, *_BODY[:6]], top=700, ruled=True)], junk_text_layer=True)
    doc = extract_document(pdf, sha256="g")
    assert any("garbled" in w for w in doc.warnings)
    assert "\ue000" not in doc.text and not any(0xE000 <= ord(ch) <= 0xF8FF for ch in doc.text)
    (t,) = doc.tables
    assert t.method == "ocr"
    assert [r[1:] for r in t.rows[1:]] == [r[1:] for r in _BODY[:6]]


def test_table_pasted_as_an_image_is_read_by_ocr(hongze_bytes):
    """A text page whose table is a picture (scanned table pasted into a Word report)."""
    import numpy as np
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(hongze_bytes)
    scale = 200 / 72
    page = np.array(src[2].render(scale=scale, grayscale=True).to_pil().convert("L"))
    src.close()
    crop = np.ascontiguousarray(page[int(70 * scale) : int(350 * scale), :])  # page 3's 第二十条 (六)(八)
    h_pt = crop.shape[0] / scale
    content = (
        "BT /F1 12 Tf 60 800 Td (Annual report, statistics below) Tj ET\n"
        f"q 595 0 0 {h_pt:.2f} 0 {780 - h_pt:.2f} cm /Im1 Do Q"
    )
    doc = extract_document(_mini_pdf([content], image=crop), sha256="i", filename="i.pdf")
    (t,) = doc.tables
    assert t.method == "ocr" and any("embedded image" in w for w in doc.warnings)
    assert _values(_find_row(t, "行政处罚")) == ["2776"]
    assert _values(_find_row(t, "行政强制")) == ["84"]
    assert _values(_find_row(t, "行政事业性收费")) == ["7545"]
    assert doc.text.startswith("Annual report") and "行政处罚" in doc.text
