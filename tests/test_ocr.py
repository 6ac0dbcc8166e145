"""OCR of scanned tables: grid from the ruling lines (missing rules included), cell-by-cell reading.

The pages are drawn here (PIL, a CJK font), saved as an image-only PDF and degraded the way
``bench.corpus.scan_pdf`` degrades the benchmark's scans (rotation, blur, noise, JPEG), then read
through the real OCR path and compared with what was drawn.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from bench.corpus import generate_corpus, read_truth, scan_pdf
from ogi.extract import extract_document
from ogi.extract.ocr import (
    DPI,
    CellBox,
    Lattice,
    _line_masks,
    lattice_cells,
    ocr_pdf_pages,
    recognise_cells,
    table_lattice,
)
from tests.capabilities import needs_libreoffice

FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
needs_font = pytest.mark.skipif(not FONT.exists(), reason="Noto Serif CJK font not installed")
needs_soffice = needs_libreoffice("writer")

# A 2021-style header as LibreOffice draws its merged cells: the tall 自然人 and 总计 cells lose
# their side rule beside the last header row, so 自然人 runs into the label cell and 总计 into 机构
# (neither union is a rectangle). Columns: label | 自然人 | 企业 | 机构 | 总计.
COLS = [60, 560, 720, 880, 1040, 1200]  # x of the rules at 200 dpi
ROWS = [300, 380, 460, 540, 620, 700, 780, 860]
EXPECTED = [
    ["申请人情况说明", "申请人情况", None, None, None],
    [None, "自然人", "法人或其他组织", None, "总计"],
    [None, None, "企业", "机构", None],
    ["一、本年新收申请数量", "1", "0", "352", "353"],
    ["二、上年结转申请数量", "7", "1", "1", "9"],
    ["三、本年增减", "-3", "12", "0", "9"],
    ["四、结转下年度继续办理", "1", "1", "1", "3"],
]
H_RULES = {0: (0, 5), 1: (1, 5), 2: (2, 4), 3: (0, 5), 4: (0, 5), 5: (0, 5), 6: (0, 5), 7: (0, 5)}
V_RULES = [(0, 0, 7), (5, 0, 7), (1, 0, 2), (1, 3, 7), (2, 1, 7), (3, 2, 7), (4, 1, 2), (4, 3, 7)]
HEADER_SPANS = {(0, 0, 2, 0), (0, 1, 0, 4), (1, 1, 2, 1), (1, 2, 1, 3), (2, 2, 2, 2), (2, 3, 2, 3), (1, 4, 2, 4)}


def _rules(line) -> None:
    """Draw the table's rules with ``line((x0, y0), (x1, y1))``."""
    for r, (c0, c1) in H_RULES.items():
        line((COLS[c0], ROWS[r]), (COLS[c1], ROWS[r]))
    for c, r0, r1 in V_RULES:
        line((COLS[c], ROWS[r0]), (COLS[c], ROWS[r1]))


def _draw_page(expected: list[list[str | None]] = EXPECTED) -> np.ndarray:
    """An A4 page at 200 dpi: a title, the table above, a heading after it."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1654, 2339), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 29)
    _rules(lambda a, b: d.line([a, b], fill=0, width=2))
    for r, row in enumerate(expected):
        for c, text in enumerate(row):
            if text:
                d.text((COLS[c] + 20, ROWS[r] + 22), text, font=font, fill=0)
    d.text((60, 150), "某县人民政府2024年政府信息公开工作年度报告", font=font, fill=0)
    d.text((60, 1000), "五、存在的主要问题及改进情况", font=font, fill=0)
    return np.asarray(img)


def _scanned(pages: list[np.ndarray], tmp_path: Path, angle: float = 0.7) -> bytes:
    """The pages as a PDF, then through the benchmark's scanner simulation."""
    from PIL import Image

    src = tmp_path / "drawn.pdf"
    ims = [Image.fromarray(p) for p in pages]
    ims[0].save(src, format="PDF", save_all=True, append_images=ims[1:], resolution=200.0)
    out = tmp_path / "scan.pdf"
    scan_pdf(src, out, dpi=200, seed=3, angle=angle)
    return out.read_bytes()


def test_lattice_splits_a_merged_region_that_is_not_a_rectangle():
    """No OCR: the missing rule stubs join 自然人 with the label cell and 总计 with 机构; the
    lattice must still give one rectangle per drawn cell, with the drawn spans."""
    import cv2

    gray = np.full((1000, 1300), 255, np.uint8)
    _rules(lambda a, b: cv2.line(gray, a, b, 0, 2))
    bw = 255 - gray
    horiz, vert = _line_masks(bw, DPI)
    box = (COLS[0] - 1, ROWS[0] - 1, COLS[-1] - COLS[0] + 3, ROWS[-1] - ROWS[0] + 3)
    lat = table_lattice(horiz, vert, box, DPI)
    assert isinstance(lat, Lattice)
    assert all(abs(a - b) <= 2 for a, b in zip(lat.xs, COLS, strict=True))
    assert all(abs(a - b) <= 2 for a, b in zip(lat.ys, ROWS, strict=True))
    cells = lattice_cells(lat, np.zeros_like(bw), DPI)
    assert {(b.r0, b.c0, b.r1, b.c1) for b in cells if b.r0 < 3} == HEADER_SPANS
    assert len(cells) == len(HEADER_SPANS) + 4 * 5


@needs_font
def test_scanned_table_cells_and_prose(tmp_path):
    """Every cell of a skewed, noisy scan read exactly: lone digits, a minus sign, merged headers."""
    data = _scanned([_draw_page()], tmp_path)
    pdf = pdfium.PdfDocument(data)
    try:
        tables, texts, warnings = ocr_pdf_pages(pdf, [1])
    finally:
        pdf.close()
    assert not warnings
    (t,) = tables
    assert t.method == "ocr" and "deskewed" in t.note
    assert t.rows == EXPECTED
    assert len(t.col_edges) == len(COLS)  # column geometry (points) for stitching across pages
    text = texts[1]
    assert text.index("年度报告") < text.index("352") < text.index("存在的主要问题")


def _photographed(page: np.ndarray) -> bytes:
    """The page turned on its side, then photographed on a desk: a perspective of a few degrees,
    light falling off across the sheet, a grey cast, blur, noise, JPEG (as an image-only PDF)."""
    import cv2
    from PIL import Image

    page = np.ascontiguousarray(np.rot90(page, 1))
    h, w = page.shape
    big = (w + 240, h + 200)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[150, 60], [w + 90, 130], [w + 170, h + 120], [80, h + 160]])
    m = cv2.getPerspectiveTransform(src, dst)
    sheet = cv2.warpPerspective(page, m, big, flags=cv2.INTER_CUBIC, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(page, 255), m, big, borderValue=0)
    img = np.where(mask > 128, sheet, 95).astype(np.float32)
    ramp = np.linspace(1.0, 0.68, big[0], dtype=np.float32)[None, :]
    img = cv2.GaussianBlur(img * ramp * 0.93, (0, 0), 1.0)
    img = np.clip(img + np.random.default_rng(5).normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PDF", resolution=200.0, quality=60)
    return buf.getvalue()


@needs_font
def test_photographed_page_on_its_side_with_slash_blanks():
    """A page photographed on a desk, lying on its side, with "/" printed for blanks: the sheet is
    found and rectified, the page turned upright, and every cell read, "/" as "/" (not as 1)."""
    expected = [list(r) for r in EXPECTED]
    expected[3][2] = expected[5][3] = "/"  # two zero cells printed as "/"
    pdf = pdfium.PdfDocument(_photographed(_draw_page(expected)))
    try:
        tables, _, warnings = ocr_pdf_pages(pdf, [1])
    finally:
        pdf.close()
    assert not warnings
    (t,) = tables
    assert "turned" in t.note and "rectified" in t.note
    assert t.rows == expected


@needs_font
def test_lone_digits_and_signs_in_wide_cells():
    """Cell-by-cell reading of what page-level detection drops: a lone digit in a wide cell, a
    minus sign, a blank cell (no text, not a guess)."""
    from PIL import Image, ImageDraw, ImageFont

    values = ["1", "-3", "0", "", "14287", "1033.65", "-2", "7"]
    font = ImageFont.truetype(str(FONT), 29)
    img = Image.new("L", (600, 90 * len(values)), 255)
    d = ImageDraw.Draw(img)
    for i, v in enumerate(values):
        d.text((260, 90 * i + 25), v, font=font, fill=0)
    gray = np.asarray(img).astype(np.float32) + np.random.default_rng(2).normal(0, 6, (img.height, img.width))
    gray = np.clip(gray * 0.97 + 4, 0, 255).astype(np.uint8)
    cells = [CellBox(0, 90 * i, 600, 90, i, 0, i, 0) for i in range(len(values))]
    got = recognise_cells(gray, cells)
    assert [t for t, _ in got] == values
    assert all(score > 0.8 for _, score in got)


def test_unreadable_scan_page_is_reported(tmp_path):
    """A page of pure scanner noise yields neither a table nor text, and says so."""
    noise = np.clip(np.random.default_rng(1).normal(248, 6, (1100, 800)), 0, 255).astype(np.uint8)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PDF", resolution=100.0)
    pdf = pdfium.PdfDocument(buf.getvalue())
    try:
        tables, texts, warnings = ocr_pdf_pages(pdf, [1])
    finally:
        pdf.close()
    assert tables == [] and texts[1] == ""
    assert warnings == ["page 1: no text layer and OCR found nothing readable"]


@pytest.mark.slow
@needs_soffice
def test_generated_scanned_report_every_value(tmp_path):
    """A whole generated report (LibreOffice PDF → 200 dpi scan, skewed and noisy, table 三 over a
    page break) through the pipeline: every value of tables 二/三/四 lands on its truth cell."""
    from ogi.transform.parse import parse_report

    (gd,) = generate_corpus(tmp_path, per_layout=1, layouts=["scan200_2021"], seed=11)
    data = gd.path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=gd.path.name)
    assert all(t.method == "ocr" for t in doc.tables)
    meta = json.loads(gd.meta_path.read_text(encoding="utf-8"))
    report = parse_report(doc, report_year=meta["year"])
    got = {(f.section, f.row_code, f.col_code): f.value for f in report.facts}
    truth = read_truth(gd.truth_path)
    wrong = {k: (v, got.get(k)) for k, v in truth.items() if got.get(k) != v}
    assert not wrong
    assert not report.unplaced
