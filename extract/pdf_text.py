"""Open a PDF, read its text layer page by page, and judge whether that text can be trusted.

The text layer decides three things before any table parser runs: which pages hold the report's
tables (so Camelot only parses those), whether a page is scanned (no text → OCR), and whether a
page's text is garbage (fonts without a ToUnicode map → private-use or Latin-1 mojibake → OCR).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium

from ogi.core.models import ExtractionError

# Words that only appear inside (or right above) the statistics tables of the 2019/2021
# templates and of the pre-2019 统计表; prose pages rarely contain them.
TABLE_KEYWORDS: tuple[str, ...] = (
    "信息内容",
    "第二十条第",
    "第二十条 第",
    "申请人情况",
    "法人或其他组织",
    "本年新收",
    "予以公开",
    "结果维持",
    "尚未审结",
    "复议后起诉",
    "本年制发件数",
    "处理决定数量",
    "指标名称",
    "计量单位",
    "统计表",
)

_ASCII_SYMBOLS = frozenset("!\"#$&'*+<=>?@[\\]^_`{|}~")
_NUM_TOKEN = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
# a cell's blank marker stands in a row of numbers: "0 1 / 0 2"
_VALUE_TOKEN = re.compile(r"^(?:[-+]?\d+(?:\.\d+)?|[/／—－\-]|——|无)$")


@dataclass(frozen=True)
class TextQuality:
    """How usable one page's text layer is: "ok", "empty" (scanned) or "garbled" (no ToUnicode)."""

    verdict: str
    chars: int  # non-space characters
    cjk: int
    junk: int

    @property
    def usable(self) -> bool:
        return self.verdict == "ok"


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open PDF bytes with pdfium, turning every failure into a specific ExtractionError."""
    head = data[:1024]
    if b"%PDF-" not in head:
        raise ExtractionError(f"not a PDF: bad header {data[:8]!r}")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise ExtractionError(f"PDF is encrypted (password required): {msg}") from exc
        raise ExtractionError(f"PDF is corrupt: {msg}") from exc
    if len(pdf) == 0:
        raise ExtractionError("PDF is corrupt: it has no pages")
    return pdf


def page_texts(pdf: pdfium.PdfDocument) -> list[str]:
    """The text layer of every page, lines separated by "\\n" (pdfium's reading order)."""
    texts = []
    for i in range(len(pdf)):
        page = pdf[i]
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
            page.close()
        texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))
    return texts


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def _is_junk(ch: str) -> bool:
    """Characters a correctly mapped Chinese report does not contain in bulk."""
    o = ord(ch)
    if 0xE000 <= o <= 0xF8FF or o == 0xFFFD:  # private use area, replacement character
        return True
    if 0x80 <= o <= 0xFF:  # Latin-1 supplement: GBK bytes read as Latin-1
        return True
    return unicodedata.category(ch) in ("Cc", "Co", "Cs") and ch not in "\n\t"


def text_quality(text: str) -> TextQuality:
    """Judge a page's text layer from the ratio of CJK to junk characters."""
    chars = [c for c in text if not c.isspace()]
    n = len(chars)
    cjk = sum(1 for c in chars if _is_cjk(c))
    junk = sum(1 for c in chars if _is_junk(c))
    if n < 10:
        return TextQuality("empty", n, cjk, junk)
    # Glyph ids without a ToUnicode map come out as private-use, control or Latin-1 characters,
    # or as runs of ASCII symbols; digits and real words (English, numbers-only tables) do not.
    symbols = sum(1 for c in chars if c in _ASCII_SYMBOLS)
    if junk / n > 0.2 or (n >= 40 and cjk / n < 0.1 and symbols / n > 0.25):
        return TextQuality("garbled", n, cjk, junk)
    return TextQuality("ok", n, cjk, junk)


def _numeric_rows(text: str) -> int:
    """Lines that look like a table row: three or more bare numbers."""
    count = 0
    for line in text.split("\n"):
        tokens = line.split()
        if sum(1 for t in tokens if _NUM_TOKEN.match(t)) >= 3:
            count += 1
    return count


def looks_like_table_page(text: str) -> bool:
    """Whether a page's text suggests it holds (part of) a statistics table."""
    compact = text.replace(" ", "")
    if any(k.replace(" ", "") in compact for k in TABLE_KEYWORDS):
        return True
    return _numeric_rows(text) >= 3


def join_pages(texts: list[str]) -> str:
    """The document text: pages joined with a form feed, so page boundaries stay visible."""
    return "\f".join(t.strip("\n") for t in texts)


def _row_lines(text: str) -> tuple[int, int]:
    """Lines shaped like table rows: (lines ending in a run of three or more bare numbers, lines
    of nothing but bare numbers). Prose with dates ("2024 年 1 月 1 日") has numbers between words,
    not in a trailing run."""
    rows = only = 0
    for line in text.split("\n"):
        tokens = line.split()
        run = 0
        while run < len(tokens) and _VALUE_TOKEN.match(tokens[-1 - run]):
            run += 1
        numbers = sum(1 for t in tokens[len(tokens) - run:] if _NUM_TOKEN.match(t))
        # "— 4 —" is a page number, not a row: blanks count only beside two numbers or in a long run
        rows += run >= 3 and (numbers >= 2 or (run >= 5 and numbers >= 1))
        only += bool(tokens) and run == len(tokens) and numbers >= 1 and run - numbers <= numbers + 1
    return rows, only


def continues_table(text: str) -> bool:
    """Whether a page that follows a table page holds table rows without any keyword: a row laid
    out on one line, or (wrapped labels) cells listed one number per line."""
    rows, only = _row_lines(text)
    return rows >= 1 or only >= 5 or _labelled_first_row(text)


def _labelled_first_row(text: str) -> bool:
    """The page opens with a label and its number(s): one row of a narrow table (行政事业性收费
    3961) carried over the page break."""
    first = next((ln.split() for ln in text.split("\n") if ln.strip()), [])
    run = 0
    while run < len(first) and _NUM_TOKEN.match(first[-1 - run]):
        run += 1
    return 1 <= run < len(first)


def table_pages(texts: list[str], usable: list[bool]) -> list[int]:
    """1-based pages worth a Camelot run: pages that look like tables, plus the pages that follow
    one and hold table-like rows, transitively (a table continued over several pages).

    With no such page at all, every usable page is returned (an unfamiliar layout).
    """
    chosen = {i + 1 for i, t in enumerate(texts) if usable[i] and looks_like_table_page(t)}
    for p in range(2, len(texts) + 1):  # in page order, so a chain of continuations is followed
        if p - 1 in chosen and p not in chosen and usable[p - 1] and continues_table(texts[p - 1]):
            chosen.add(p)
    if not chosen:
        chosen = {i + 1 for i, ok in enumerate(usable) if ok}
    return sorted(chosen)


@dataclass(frozen=True)
class Glyph:
    """One character of a page's text layer with its box in PDF units (origin bottom-left)."""

    char: str
    x0: float
    y0: float
    x1: float
    y1: float


def page_glyphs(pdf: pdfium.PdfDocument, page: int) -> list[Glyph]:
    """The visible characters of a 1-based page with their boxes as pdfium draws them.

    Camelot places text by the box its PDF parser computes, which can sit a line lower than the
    glyphs; a row cut short by a page break is then read as empty. These boxes let such cells
    be refilled from where the glyphs are really drawn.
    """
    import pypdfium2.raw as pdfium_c

    pg = pdf[page - 1]
    tp = pg.get_textpage()
    try:
        out = []
        for i in range(tp.count_chars()):
            ch = chr(pdfium_c.FPDFText_GetUnicode(tp.raw, i))
            if ch.isspace() or not ch.isprintable():
                continue
            x0, y0, x1, y1 = tp.get_charbox(i, loose=True)  # the advance box: gaps are real gaps
            out.append(Glyph(ch, x0, y0, x1, y1))
        return out
    finally:
        tp.close()
        pg.close()


def image_heavy_pages(pdf: pdfium.PdfDocument, pages: list[int], min_share: float = 0.25) -> list[int]:
    """Pages where embedded images cover at least ``min_share`` of the page: a text page whose
    table was pasted in as a picture."""
    import pypdfium2.raw as pdfium_c

    out = []
    for p in pages:
        page = pdf[p - 1]
        try:
            width, height = page.get_size()
            area = 0.0
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
                left, bottom, right, top = obj.get_bounds()
                area += max(0.0, right - left) * max(0.0, top - bottom)
        finally:
            page.close()
        if width * height and area / (width * height) >= min_share:
            out.append(p)
    return out
