"""Tables out of scanned (or garbled-text) PDF pages: ruling lines → cells → OCR cell by cell.

Page-level OCR detection drops lone digits such as "1" inside wide cells, and digits are what
the tables are about. So the table structure comes from the ruling lines (OpenCV morphology on
the page rendered at ~200 dpi, after deskewing by the dominant line angle), and every cell is
recognised on its own: its text lines are cut out by ink projection and fed to RapidOCR's
recogniser only, with no detector in the loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium

from extract.pdf_tables import PageTable

DPI = 200
MIN_REC_SCORE = 0.5  # below this a cell's text is kept but the table's confidence drops


@dataclass(frozen=True)
class CellBox:
    x: int
    y: int
    w: int
    h: int
    r0: int = 0
    c0: int = 0
    r1: int = 0  # inclusive
    c1: int = 0


@functools.cache
def _engine():
    """RapidOCR with its bundled Chinese models (loaded once per process, ~1 s)."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def render_page(pdf: pdfium.PdfDocument, page_no: int, dpi: int = DPI) -> np.ndarray:
    """Grayscale render of a 1-based page."""
    page = pdf[page_no - 1]
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        img = np.array(bitmap.to_pil().convert("L"))
    finally:
        page.close()
    return img


def _binarize(gray: np.ndarray) -> np.ndarray:
    """Ink = 255. Otsu on a lightly blurred page copes with scanner noise."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    _, bw = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return bw


def _line_masks(bw: np.ndarray, dpi: int = DPI) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling lines by morphological opening with long thin kernels."""
    h, w = bw.shape
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(15, int(dpi * 0.16))))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, hk)
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, vk)
    # close the small gaps noise and anti-aliasing leave in a rule
    horiz = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3)))
    vert = cv2.dilate(vert, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5)))
    return horiz, vert


def skew_angle(bw: np.ndarray) -> float:
    """Dominant angle (degrees) of the long horizontal rules; 0.0 when there are none."""
    h, w = bw.shape
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 40), 1))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, hk)
    lines = cv2.HoughLinesP(horiz, 1, np.pi / 1800, threshold=100, minLineLength=w // 5, maxLineGap=20)
    if lines is None:
        return 0.0
    angles, weights = [], []
    for x1, y1, x2, y2 in np.asarray(lines).reshape(-1, 4):
        length = float(np.hypot(x2 - x1, y2 - y1))
        angle = float(np.degrees(np.arctan2(y2 - y1, x2 - x1)))
        if abs(angle) < 5:
            angles.append(angle)
            weights.append(length)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.array(weights)[order])
    return float(np.array(angles)[order][np.searchsorted(cum, cum[-1] / 2)])  # weighted median


def deskew(gray: np.ndarray, angle: float) -> np.ndarray:
    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _cluster(values: list[int], tol: int) -> list[int]:
    """Group near-equal coordinates; return each group's mean, ascending."""
    groups: list[list[int]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [int(round(sum(g) / len(g))) for g in groups]


def find_tables(gray: np.ndarray, dpi: int = DPI) -> list[list[CellBox]]:
    """Cell boxes of each ruled table on a (deskewed) page, with their grid spans."""
    bw = _binarize(gray)
    horiz, vert = _line_masks(bw, dpi)
    grid = cv2.bitwise_or(horiz, vert)
    h, w = grid.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    tables: list[list[CellBox]] = []
    min_cell = max(8, dpi // 25)
    for i in range(1, n):
        x, y, bw_, bh, _ = stats[i]
        if bw_ < w // 5 or bh < dpi // 5:
            continue
        sub = grid[y : y + bh, x : x + bw_]
        inv = cv2.bitwise_not(sub)
        m, _, cstats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
        cells = []
        for j in range(1, m):
            cx, cy, cw, ch, _ = cstats[j]
            if cw < min_cell or ch < min_cell:
                continue
            if cx == 0 or cy == 0 or cx + cw >= bw_ or cy + ch >= bh:
                continue  # the outside of the table, not a cell
            cells.append(CellBox(int(x + cx), int(y + cy), int(cw), int(ch)))
        if len(cells) >= 2:
            tables.append(_assign_spans(cells, tol=max(4, dpi // 30)))
    tables.sort(key=lambda cs: min(c.y for c in cs))
    return tables


def _assign_spans(cells: list[CellBox], tol: int) -> list[CellBox]:
    """Place each cell box on the table's row/column grid (merged cells span several)."""
    xs = _cluster([c.x for c in cells], tol)
    ys = _cluster([c.y for c in cells], tol)

    def span(starts: list[int], lo: int, size: int) -> tuple[int, int]:
        first = min(range(len(starts)), key=lambda k: abs(starts[k] - lo))
        last = max((k for k in range(len(starts)) if starts[k] < lo + size - tol), default=first)
        return first, max(first, last)

    out = []
    for c in cells:
        c0, c1 = span(xs, c.x, c.w)
        r0, r1 = span(ys, c.y, c.h)
        out.append(CellBox(c.x, c.y, c.w, c.h, r0, c0, r1, c1))
    return out


def _line_strips(gray: np.ndarray, cell: CellBox, pad: int = 3) -> list[np.ndarray]:
    """The cell's text lines as separate image strips (ink rows split on blank gaps)."""
    inset = 3
    crop = gray[cell.y + inset : cell.y + cell.h - inset, cell.x + inset : cell.x + cell.w - inset]
    if crop.size == 0:
        return []
    ink = _binarize_cell(crop)
    rows = ink.sum(axis=1) > 0
    strips = []
    start = None
    for i, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start >= 4:
                strips.append((start, i))
            start = None
    out = []
    for a, b in strips:
        cols = np.where(ink[a:b].sum(axis=0) > 0)[0]
        if cols.size == 0:
            continue
        x0, x1 = max(0, cols[0] - pad), min(crop.shape[1], cols[-1] + 1 + pad)
        y0, y1 = max(0, a - pad), min(crop.shape[0], b + pad)
        strip = crop[y0:y1, x0:x1]
        strip = cv2.copyMakeBorder(strip, 6, 6, 8, 8, cv2.BORDER_CONSTANT, value=255)
        out.append(cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR))
    return out


def _binarize_cell(crop: np.ndarray) -> np.ndarray:
    """Ink mask of a cell crop with specks removed (scanner noise is not a text line)."""
    _, bw = cv2.threshold(crop, 150, 255, cv2.THRESH_BINARY_INV)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 6
    return (keep[labels] * 1).astype(np.uint8)


def recognise_cells(gray: np.ndarray, cells: list[CellBox]) -> list[tuple[str, float]]:
    """Text and mean score of every cell; all strips of the page go to the recogniser at once."""
    strips: list[np.ndarray] = []
    owner: list[int] = []
    for i, cell in enumerate(cells):
        for s in _line_strips(gray, cell):
            strips.append(s)
            owner.append(i)
    texts: list[list[str]] = [[] for _ in cells]
    scores: list[list[float]] = [[] for _ in cells]
    if strips:
        results, _ = _engine().text_rec(strips)
        for i, (text, score) in zip(owner, results, strict=True):
            text = text.strip()
            if text:
                texts[i].append(text)
                scores[i].append(float(score))
    return [("\n".join(t), (sum(s) / len(s)) if s else 1.0) for t, s in zip(texts, scores, strict=True)]


def table_grid(cells: list[CellBox], recognised: list[tuple[str, float]]) -> list[list[str | None]]:
    """The RawTable grid: text in each box's top-left position, positions it covers None."""
    nrows = max(c.r1 for c in cells) + 1
    ncols = max(c.c1 for c in cells) + 1
    grid: list[list[str | None]] = [[None] * ncols for _ in range(nrows)]
    for cell, (text, _) in zip(cells, recognised, strict=True):
        grid[cell.r0][cell.c0] = text
    # positions no box claimed (a missed rule) are blank rather than merged
    covered = {(r, c) for cell in cells for r in range(cell.r0, cell.r1 + 1) for c in range(cell.c0, cell.c1 + 1)}
    for r in range(nrows):
        for c in range(ncols):
            if (r, c) not in covered:
                grid[r][c] = ""
    return grid


def ocr_page_tables(gray: np.ndarray, page_no: int, dpi: int = DPI) -> tuple[list[PageTable], float]:
    """Deskew, find ruled tables, recognise them cell by cell. Returns tables and the angle."""
    angle = skew_angle(_binarize(gray))
    gray = deskew(gray, angle)
    out = []
    for cells in find_tables(gray, dpi):
        recognised = recognise_cells(gray, cells)
        scores = [s for (t, s) in recognised if t]
        confidence = round(sum(scores) / len(scores), 4) if scores else 0.0
        low = sum(1 for s in scores if s < MIN_REC_SCORE)
        note = f"ocr cell-by-cell at {dpi} dpi, deskewed {angle:+.2f}°"
        if low:
            note += f", {low} cell(s) below score {MIN_REC_SCORE}"
        out.append(
            PageTable(
                page=page_no,
                rows=table_grid(cells, recognised),
                method="ocr",
                confidence=confidence,
                note=note,
            )
        )
    return out, angle


def ocr_page_text(gray: np.ndarray) -> str:
    """Whole-page OCR (detector + recogniser) for prose pages, lines in reading order."""
    result, _ = _engine()(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    if not result:
        return ""
    lines = sorted(result, key=lambda r: (round(min(p[1] for p in r[0]) / 20), min(p[0] for p in r[0])))
    return "\n".join(r[1] for r in lines)


def ocr_pdf_pages(
    pdf: pdfium.PdfDocument, pages: list[int], *, dpi: int = DPI, prose_text: bool = True
) -> tuple[list[PageTable], dict[int, str], list[str]]:
    """OCR the given 1-based pages: their tables, their text, and warnings for unreadable pages.

    A page without a ruled table gets whole-page OCR for its text (``prose_text``) so the
    document text still serves version detection.
    """
    tables: list[PageTable] = []
    texts: dict[int, str] = {}
    warnings: list[str] = []
    for p in pages:
        gray = render_page(pdf, p, dpi)
        found, _ = ocr_page_tables(gray, p, dpi)
        tables.extend(found)
        if found:
            texts[p] = "\n".join(" ".join(c for c in row if c) for t in found for row in t.rows)
        else:
            texts[p] = ocr_page_text(render_page(pdf, p, 150)) if prose_text else ""
            if not texts[p].strip():
                warnings.append(f"page {p}: no text layer and OCR found nothing readable")
        for t in found:
            if t.confidence is not None and t.confidence < 0.8:
                warnings.append(f"page {p}: OCR table with low confidence {t.confidence:.2f}")
    return tables, texts, warnings
