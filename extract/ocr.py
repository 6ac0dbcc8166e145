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
REC_BATCH = 6  # measured: bigger batches pad every strip to the widest one and run slower
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

    return RapidOCR(rec_batch_num=REC_BATCH)


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
    """Ink = 255. Otsu on a lightly blurred page copes with scanner noise; the threshold is capped
    so light shading (coloured header cells) stays background."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    otsu, _ = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, bw = cv2.threshold(blur, min(otsu, 170), 255, cv2.THRESH_BINARY_INV)
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
    """Dominant angle (degrees) of the long horizontal rules; 0.0 when there are none.

    Each long rule's centre line is fitted (mean ink row per column), so thick shaded bands
    (coloured caption rows) give their true direction rather than their diagonal.
    """
    h, w = bw.shape
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 40), 1))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, hk)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(horiz, connectivity=8)
    angles, weights = [], []
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        if cw < w // 5 or ch > cw * 0.1:
            continue
        ys, xs = np.nonzero(labels[y : y + ch, x : x + cw] == i)
        counts = np.bincount(xs, minlength=cw)
        cols = np.nonzero(counts)[0]
        if cols.size < cw // 2:
            continue
        centre = np.bincount(xs, weights=ys, minlength=cw)[cols] / counts[cols]
        slope = np.polyfit(cols.astype(float), centre, 1)[0]
        angle = float(np.degrees(np.arctan(slope)))
        if abs(angle) < 5:
            angles.append(angle)
            weights.append(float(cw))
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
        sub = grid[y : y + bh, x : x + bw_].copy()
        # close the frame: a table cut at the page (or picture) edge has no bottom rule
        cv2.rectangle(sub, (0, 0), (bw_ - 1, bh - 1), 255, thickness=3)
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


def _ink_bands(gray: np.ndarray, cell: CellBox) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The cell's crop, its ink mask, and the row bands that hold ink (split on blank rows)."""
    inset = 3
    crop = gray[cell.y + inset : cell.y + cell.h - inset, cell.x + inset : cell.x + cell.w - inset]
    if crop.size == 0:
        return crop, crop, []
    ink = _binarize_cell(crop)
    rows = ink.sum(axis=1) > 0
    bands = []
    start = None
    for i, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start >= 2:
                bands.append((start, i))
            start = None
    return crop, ink, bands


def _merge_bands(bands: list[tuple[int, int]], line_h: float) -> list[tuple[int, int]]:
    """Re-join bands that are strokes of one character (三, 二 have blank rows inside):
    neighbours are merged while the result stays about one text line high."""
    out: list[tuple[int, int]] = []
    for a, b in bands:
        if out and (b - out[-1][0]) <= 1.2 * line_h and (a - out[-1][1]) < 0.5 * line_h:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _strip_images(
    crop: np.ndarray, ink: np.ndarray, bands: list[tuple[int, int]], pad: int = 3
) -> list[np.ndarray]:
    """Tight BGR images of each text line, with the white margin the recogniser expects."""
    out = []
    for a, b in bands:
        cols = np.where(ink[a:b].sum(axis=0) > 0)[0]
        if cols.size == 0 or b - a < 4:
            continue
        x0, x1 = max(0, cols[0] - pad), min(crop.shape[1], cols[-1] + 1 + pad)
        y0, y1 = max(0, a - pad), min(crop.shape[0], b + pad)
        strip = cv2.copyMakeBorder(crop[y0:y1, x0:x1], 6, 6, 8, 8, cv2.BORDER_CONSTANT, value=255)
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
    banded = [_ink_bands(gray, cell) for cell in cells]
    heights = [b - a for _, _, bands in banded for a, b in bands]
    line_h = float(np.percentile(heights, 75)) if heights else 0.0  # a full text line's height
    strips: list[np.ndarray] = []
    owner: list[int] = []
    for i, (crop, ink, bands) in enumerate(banded):
        for s in _strip_images(crop, ink, _merge_bands(bands, line_h)):
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
    covered = {
        (r, c) for cell in cells for r in range(cell.r0, cell.r1 + 1) for c in range(cell.c0, cell.c1 + 1)
    }
    for r in range(nrows):
        for c in range(ncols):
            if (r, c) not in covered:
                grid[r][c] = ""
    return grid


@dataclass
class OcrPage:
    """What OCR made of one page: its tables and its text in reading order."""

    tables: list[PageTable]
    text: str
    angle: float


def ocr_page(gray: np.ndarray, page_no: int, dpi: int = DPI, prose_text: bool = True) -> OcrPage:
    """Deskew, find ruled tables, recognise them cell by cell, and (optionally) the prose around them."""
    angle = skew_angle(_binarize(gray))
    gray = deskew(gray, angle)
    tables: list[PageTable] = []
    blocks: list[tuple[int, str]] = []  # (top y, text) for reading order
    masked = gray.copy() if prose_text else None
    for cells in find_tables(gray, dpi):
        recognised = recognise_cells(gray, cells)
        scores = [s for (t, s) in recognised if t]
        confidence = round(sum(scores) / len(scores), 4) if scores else 0.0
        low = sum(1 for s in scores if s < MIN_REC_SCORE)
        note = f"ocr cell-by-cell at {dpi} dpi, deskewed {angle:+.2f}°"
        if low:
            note += f", {low} cell(s) below score {MIN_REC_SCORE}"
        top = [
            {(r, c) for r in range(cell.r0, cell.r1 + 1) for c in range(cell.c0, cell.c1 + 1)}
            for cell, (text, _) in zip(cells, recognised, strict=True)
            if cell.r0 == 0 and not text and (cell.r1 > cell.r0 or cell.c1 > cell.c0)
        ]
        rows = table_grid(cells, recognised)
        y0, y1 = min(c.y for c in cells), max(c.y + c.h for c in cells)
        tables.append(
            PageTable(
                page=page_no,
                rows=rows,
                method="ocr",
                confidence=confidence,
                top_regions=top,
                note=note,
                top_frac=round(y0 / gray.shape[0], 4),
                bottom_frac=round(y1 / gray.shape[0], 4),
            )
        )
        x0, x1 = min(c.x for c in cells), max(c.x + c.w for c in cells)
        blocks.append((y0, "\n".join(" ".join(c for c in row if c) for row in rows)))
        if masked is not None:
            masked[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = 255
    if masked is not None:
        for top, bottom in _ink_bands_outside_tables(masked, dpi):
            lines = prose_lines(masked[top:bottom], scale=150 / dpi)
            blocks.extend((top + y, text) for y, text in lines)
    blocks.sort(key=lambda b: b[0])
    return OcrPage(tables=tables, text="\n".join(t for _, t in blocks if t), angle=angle)


def _ink_bands_outside_tables(masked: np.ndarray, dpi: int) -> list[tuple[int, int]]:
    """Horizontal bands of the page (tables already blanked) that hold ink, so the text detector
    runs on those strips only rather than on the whole page."""
    ink = _binarize_cell(masked).sum(axis=1) > 0
    gap = dpi // 4  # a blank run this tall separates two bands
    bands: list[tuple[int, int]] = []
    start = last = None
    for y in np.nonzero(ink)[0].tolist():
        if start is None:
            start = last = y
        elif y - last > gap:
            bands.append((start, last + 1))
            start = y
        last = y
    if start is not None:
        bands.append((start, last + 1))
    pad = dpi // 20
    h = masked.shape[0]
    return [(max(0, a - pad), min(h, b + pad)) for a, b in bands if b - a >= dpi // 20]


def prose_lines(gray: np.ndarray, scale: float = 0.75) -> list[tuple[int, str]]:
    """Whole-page OCR (detector + recogniser) of what is left outside the tables: (top y, line)."""
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else gray
    if _binarize_cell(small).sum() == 0:
        return []
    result, _ = _engine()(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
    if not result:
        return []
    items = [
        (int(min(p[1] for p in box) / scale), int(min(p[0] for p in box)), text) for box, text, _ in result
    ]
    line_h = 20 / scale
    items.sort(key=lambda it: (round(it[0] / line_h), it[1]))
    return [(y, text) for y, _, text in items]


def ocr_pdf_pages(
    pdf: pdfium.PdfDocument, pages: list[int], *, dpi: int = DPI, prose_text: bool = True
) -> tuple[list[PageTable], dict[int, str], list[str]]:
    """OCR the given 1-based pages: their tables, their text, and warnings for unreadable pages."""
    tables: list[PageTable] = []
    texts: dict[int, str] = {}
    warnings: list[str] = []
    for p in pages:
        page = ocr_page(render_page(pdf, p, dpi), p, dpi, prose_text=prose_text)
        tables.extend(page.tables)
        texts[p] = page.text
        if not page.tables and not page.text.strip():
            warnings.append(f"page {p}: no text layer and OCR found nothing readable")
        for t in page.tables:
            if t.confidence is not None and t.confidence < 0.8:
                warnings.append(f"page {p}: OCR table with low confidence {t.confidence:.2f}")
    return tables, texts, warnings
