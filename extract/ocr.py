"""Tables out of scanned (or garbled-text) PDF pages: ruling lines → cells → OCR cell by cell.

Page-level OCR detection drops lone digits such as "1" inside wide cells, and digits are what
the tables are about. So the table structure comes from the ruling lines (OpenCV morphology on
the page rendered at ~200 dpi, after deskewing by the dominant line angle), and every cell is
recognised on its own: its text lines are cut out by ink projection and fed to RapidOCR's
recogniser only, with no detector in the loop (the prose around the tables is read the same way).

The grid is a lattice: every rule position, and for every elementary edge whether its rule is
drawn. Producers leave rules out around merged cells (LibreOffice drops the side rule of a tall
header cell beside the rows it spans), so a merged region that is not a rectangle is cut back
into rectangles along grid lines no text crosses (:func:`_split_region`).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field

import cv2
import numpy as np
import pypdfium2 as pdfium

from ogi.extract.pdf_grid import PageTable

DPI = 200
REC_BATCH = 6  # measured: bigger batches pad every strip to the widest one and run slower
MIN_STRIP_RATIO = 2.0  # padded width ≥ 2 line heights (1.0 misread lone 人 as 天, 三 as E)
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
def _recogniser():
    """RapidOCR's bundled Chinese text recogniser alone (loaded once per process). No detector
    and no angle classifier: text lines are cut out by ink projection, which keeps lone digits
    and costs a fraction of the detector's time and memory.

    RapidOCR 3.x builds its recogniser's configuration (model shipped in the wheel, engine
    settings) inside ``RapidOCR``; ``_load_rec_model`` is the one place that does it, so we ask it
    rather than copy its wiring. The detector and classifier are never loaded."""
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "warning", "Global.use_det": False, "Global.use_cls": False})
    return engine._load_rec_model()


def recognise_strips(strips: list[np.ndarray], batch: int = REC_BATCH) -> list[tuple[str, float]]:
    """Text and score of each single-line grey image.

    Like RapidOCR's own batching (strips sorted by aspect ratio, resized to the model's height,
    padded to the widest of the batch) but without its floor of 320/48 on the padded width: most
    strips are a few digits, and padding each to a whole line made recognition ~3x slower.
    A floor of two line heights keeps single characters as accurate as full padding does.
    """
    if not strips:
        return []
    rec = _recogniser()
    height = int(rec.rec_image_shape[1])
    ratios = [s.shape[1] / max(1, s.shape[0]) for s in strips]
    order = np.argsort(ratios, kind="stable")
    out: list[tuple[str, float]] = [("", 0.0)] * len(strips)
    for start in range(0, len(strips), batch):
        idx = order[start : start + batch]
        max_ratio = max(MIN_STRIP_RATIO, max(ratios[i] for i in idx))
        width = int(math.ceil(height * max_ratio))
        arr = np.zeros((len(idx), 3, height, width), dtype=np.float32)  # 0 = mid grey after scaling
        for j, i in enumerate(idx):
            w = max(1, min(width, int(math.ceil(height * ratios[i]))))
            img = cv2.resize(strips[i], (w, height)).astype(np.float32) / 127.5 - 1.0
            arr[j, :, :, :w] = img.transpose(2, 0, 1)
        lines, _ = rec.postprocess_op(rec.session(arr), False, wh_ratio_list=[ratios[i] for i in idx],
                                      max_wh_ratio=max_ratio)
        for j, (text, score) in zip(idx, lines, strict=True):
            out[j] = (str(text), float(score))
    return out


def render_page(pdf: pdfium.PdfDocument, page_no: int, dpi: int = DPI) -> np.ndarray:
    """Grayscale render of a 1-based page."""
    page = pdf[page_no - 1]
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        img = np.array(bitmap.to_pil().convert("L"))
    finally:
        page.close()
    return img


def flatten(gray: np.ndarray, dpi: int = DPI) -> np.ndarray:
    """The page divided by its own paper: uneven lighting, a colour cast, shaded cells and a
    scanner's grey level all become white, ink keeps its contrast to the paper around it.

    The paper is the local maximum over a window wider than any stroke (~4 mm), smoothed; a faint
    rule (grey 165 on paper 248 after blur and JPEG) is then as dark as it is relative to its
    surroundings, whatever the page's brightness."""
    k = max(15, dpi // 6) | 1
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.blur(paper, (k, k))
    flat = gray.astype(np.float32) * (255.0 / np.maximum(paper.astype(np.float32), 1.0))
    return np.clip(flat, 0, 255).astype(np.uint8)


SHEET_WORK_PX = 600  # the sheet is looked for on a copy this wide: its outline needs no detail
SHEET_MIN_AREA = 0.3  # of the image: a smaller bright region is not the page
SHEET_MAX_AREA = 0.97
RECTIFY_TRIM = 100  # 1 % of the rectified sheet cut from each side  # a bright region this large is the page of a scanner: nothing to rectify


def sheet_quad(gray: np.ndarray) -> np.ndarray | None:
    """The corners (top-left, top-right, bottom-right, bottom-left; image pixels) of a sheet of
    paper photographed on a darker surface, or None when no such outline is seen (a scan).

    The sheet is the largest bright region (Otsu on a small blurred copy) that leaves a clearly
    darker surround; its corners are the extreme points of its outline along the two diagonals,
    which holds for any mild perspective."""
    h, w = gray.shape
    scale = min(1.0, SHEET_WORK_PX / w)
    small = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    for region in (_enclosed_by_edges(small), _bright_region(small)):
        quad = _region_quad(small, region)
        if quad is not None:
            return (quad / scale).astype(np.float32)
    return None


def _bright_region(small: np.ndarray) -> np.ndarray:
    """The bright part of the image (Otsu): the sheet when the light is even."""
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return bright


def _enclosed_by_edges(small: np.ndarray) -> np.ndarray:
    """What the image border cannot reach without crossing an edge: the sheet, however unevenly
    lit (a dimmed corner of the sheet can be as dark as the lit part of the desk, so no single
    threshold separates them, but its outline is an edge everywhere)."""
    edges = cv2.Canny(small, 20, 60)
    edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    n, labels = cv2.connectedComponents((edges == 0).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, border[border > 0])
    return np.where(outside, 0, 255).astype(np.uint8)


def _region_quad(small: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """The quadrilateral of ``region``'s largest outline, when it looks like a sheet on a darker
    surface (a third to nearly all of the image, its surround clearly darker); else None."""
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline).reshape(-1, 2).astype(np.float64)
    area = cv2.contourArea(hull.astype(np.float32)) / float(small.size)
    if not SHEET_MIN_AREA <= area <= SHEET_MAX_AREA:
        return None
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, hull.astype(np.int32), 255)
    sheet_level = float(np.median(small[inside > 0]))
    surround = small[inside == 0]
    if surround.size < 0.02 * small.size or float(np.median(surround)) > 0.8 * sheet_level:
        return None  # no darker surround: the bright region is not a sheet lying on something
    s, d = hull.sum(axis=1), hull[:, 0] - hull[:, 1]
    return np.array([hull[s.argmin()], hull[d.argmax()], hull[s.argmax()], hull[d.argmin()]])


def rectify(gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The sheet inside ``quad`` warped to an upright rectangle (perspective removed), sized by
    the quad's longer edges so no detail is lost."""
    tl, tr, br, bl = quad
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(quad, target)
    flat = cv2.warpPerspective(gray, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    # the outline's own pixels (and a sliver of desk) would make a frame of rules around the page;
    # a page's margin holds nothing, so a sliver of it goes
    mx, my = max(2, width // RECTIFY_TRIM), max(2, height // RECTIFY_TRIM)
    return np.ascontiguousarray(flat[my : height - my, mx : width - mx])


INK_BELOW = 200  # on the flattened page: ink is ≥ 22 % darker than the paper around it


def _binarize(gray: np.ndarray) -> np.ndarray:
    """Ink = 255, on a flattened page (:func:`flatten`): a fixed step below the local paper, so
    light rules count as ink and light shading does not; a light blur first for scanner noise."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    _, bw = cv2.threshold(blur, INK_BELOW, 255, cv2.THRESH_BINARY_INV)
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


def _positions(profile: np.ndarray, min_len: int, tol: int) -> list[int]:
    """Centres of the runs of a projection profile that reach ``min_len`` (one rule each)."""
    on = np.nonzero(profile >= min_len)[0]
    out: list[int] = []
    run: list[int] = []
    for v in on.tolist():
        if run and v - run[-1] > tol:
            out.append(int(round(sum(run) / len(run))))
            run = []
        run.append(v)
    if run:
        out.append(int(round(sum(run) / len(run))))
    return out


def _with_frame(lines: list[int], lo: int, hi: int, tol: int) -> list[int]:
    """Line positions plus the table's outer edges (a rule the scan lost, or the page cut)."""
    out = [v for v in lines if lo + tol < v < hi - tol]
    first = min((v for v in lines if v <= lo + tol), default=lo)
    last = max((v for v in lines if v >= hi - tol), default=hi)
    return [first, *out, last]


def _coverage(mask: np.ndarray, along: int, lo: int, hi: int, band: int, margin: int) -> float:
    """Share of the stretch ``lo..hi`` of a rule at ``along`` (±band) that the rule mask inks.

    ``mask`` is oriented so the rule runs along axis 0 (pass the transpose for horizontal rules).
    """
    a, b = lo + margin, hi - margin
    if b <= a:
        return 1.0
    strip = mask[a:b, max(0, along - band) : along + band + 1]
    return float((strip.max(axis=1) > 0).mean()) if strip.size else 0.0


def _anchored(mask: np.ndarray, along: int, lo: int, hi: int, band: int, reach: int) -> bool:
    """Does the stroke at ``along`` reach both rules it runs between (ink within ``reach`` of
    ``lo`` and of ``hi``)? A rule meets the rules at its ends; a long glyph stroke (the 丨 of 本
    in a tight cell) stops short of them, and without this test it passed for a column rule."""
    cols = slice(max(0, along - band), along + band + 1)
    near_lo = mask[max(0, lo - reach) : lo + reach + 1, cols]
    near_hi = mask[max(0, hi - reach) : hi + reach + 1, cols]
    return bool(near_lo.any()) and bool(near_hi.any())


@dataclass
class Lattice:
    """A ruled table's elementary grid: rule positions and, per elementary edge, whether the rule
    is there (a missing one joins two elementary cells into one merged cell)."""

    xs: list[int]  # column boundaries, page pixels
    ys: list[int]  # row boundaries
    v_on: np.ndarray  # (rows, cols + 1) bool: the rule left of column c in row r is drawn
    h_on: np.ndarray  # (rows + 1, cols) bool: the rule above row r in column c is drawn
    v_cov: np.ndarray  # the same as coverage shares (evidence when a merge must be split)
    h_cov: np.ndarray


def table_lattice(horiz: np.ndarray, vert: np.ndarray, box: tuple[int, int, int, int], dpi: int) -> Lattice:
    """Rule positions inside one table's bounding box and which elementary edges they cover.

    Boundaries come from projection profiles of the rule masks, so a rule drawn across one
    cell only still splits the grid there; a boundary no drawn edge uses is dropped (a long
    stroke of a glyph is not a column)."""
    x0, y0, w, h = box
    hsub = horiz[y0 : y0 + h, x0 : x0 + w]
    vsub = vert[y0 : y0 + h, x0 : x0 + w]
    tol = max(3, dpi // 40)
    min_seg = max(12, dpi // 5)
    ys = _with_frame(_positions((hsub > 0).sum(axis=1), min_seg, tol), 0, h - 1, tol)
    xs = _with_frame(_positions((vsub > 0).sum(axis=0), min_seg // 2, tol), 0, w - 1, tol)
    band, margin = max(2, dpi // 70), max(3, dpi // 40)
    reach = max(3, dpi // 50)
    while True:  # drop boundaries that separate nothing, then re-measure (ends: each pass drops one)
        nr, nc = len(ys) - 1, len(xs) - 1
        v_cov = np.ones((nr, nc + 1))
        h_cov = np.ones((nr + 1, nc))
        for r in range(nr):
            for c in range(1, nc):
                if _anchored(vsub, xs[c], ys[r], ys[r + 1], band, reach):
                    v_cov[r, c] = _coverage(vsub, xs[c], ys[r], ys[r + 1], band, margin)
                else:
                    v_cov[r, c] = 0.0
        for r in range(1, nr):
            for c in range(nc):
                if _anchored(hsub.T, ys[r], xs[c], xs[c + 1], band, reach):
                    h_cov[r, c] = _coverage(hsub.T, ys[r], xs[c], xs[c + 1], band, margin)
                else:
                    h_cov[r, c] = 0.0
        keep_x = [0, *[c for c in range(1, nc) if v_cov[:, c].max() >= 0.5], nc]
        keep_y = [0, *[r for r in range(1, nr) if h_cov[r, :].max() >= 0.5], nr]
        if len(keep_x) == nc + 1 and len(keep_y) == nr + 1:
            break
        xs = [xs[c] for c in keep_x]
        ys = [ys[r] for r in keep_y]
    return Lattice(
        xs=[x0 + x for x in xs], ys=[y0 + y for y in ys],
        v_on=v_cov >= 0.5, h_on=h_cov >= 0.5, v_cov=v_cov, h_cov=h_cov,
    )


Cell = tuple[int, int]


def _neighbours(cell: Cell, lat: Lattice) -> list[Cell]:
    """Elementary cells joined to ``cell`` by a missing rule."""
    r, c = cell
    nr, nc = lat.v_on.shape[0], lat.h_on.shape[1]
    out = []
    if c + 1 < nc and not lat.v_on[r, c + 1]:
        out.append((r, c + 1))
    if c > 0 and not lat.v_on[r, c]:
        out.append((r, c - 1))
    if r + 1 < nr and not lat.h_on[r + 1, c]:
        out.append((r + 1, c))
    if r > 0 and not lat.h_on[r, c]:
        out.append((r - 1, c))
    return out


def _components(cells: set[Cell], lat: Lattice) -> list[set[Cell]]:
    """The merged regions among ``cells``: groups joined through missing rules."""
    todo, out = set(cells), []
    while todo:
        stack = [todo.pop()]
        comp = set(stack)
        while stack:
            for n in _neighbours(stack.pop(), lat):
                if n in todo:
                    todo.remove(n)
                    comp.add(n)
                    stack.append(n)
        out.append(comp)
    return out


def _is_rect(cells: set[Cell]) -> bool:
    rs = [r for r, _ in cells]
    cs = [c for _, c in cells]
    return len(cells) == (max(rs) - min(rs) + 1) * (max(cs) - min(cs) + 1)


def _text_across(ink: np.ndarray, at: int, lo: int, hi: int, margin: int, vertical: bool) -> bool:
    """Does text ink cross the (missing) rule at ``at`` between ``lo`` and ``hi``?"""
    a, b = lo + margin, hi - margin
    if b <= a:
        return False
    strip = ink[a:b, at - 1 : at + 2] if vertical else ink[at - 1 : at + 2, a:b]
    return int(np.count_nonzero(strip)) > 2


def _split_region(cells: set[Cell], lat: Lattice, ink: np.ndarray, margin: int) -> list[set[Cell]]:
    """Cut a non-rectangular merged region into rectangles.

    A region that is not a rectangle is several cells whose shared rules the scan (or the
    producing software) did not draw. Cut it along a grid line that no text crosses, preferring
    cuts that leave rectangles, then cuts along which part of a rule is drawn, then vertical ones
    (a tall label beside finer cells is the usual shape); recurse until every piece is a rectangle.
    """
    if _is_rect(cells):
        return [cells]
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    best: tuple | None = None
    for vertical in (True, False):
        for k in range(cols[0] + 1, cols[-1] + 1) if vertical else range(rows[0] + 1, rows[-1] + 1):
            idx = 1 if vertical else 0
            before = {cell for cell in cells if cell[idx] < k}
            after = cells - before
            if not before or not after:
                continue
            if vertical:
                pairs = [r for r in rows if (r, k - 1) in cells and (r, k) in cells]
                evidence = sum(float(lat.v_cov[r, k]) for r in pairs)
                crossed = any(
                    _text_across(ink, lat.xs[k], lat.ys[r], lat.ys[r + 1], margin, True) for r in pairs
                )
            else:
                pairs = [c for c in cols if (k - 1, c) in cells and (k, c) in cells]
                evidence = sum(float(lat.h_cov[k, c]) for c in pairs)
                crossed = any(
                    _text_across(ink, lat.ys[k], lat.xs[c], lat.xs[c + 1], margin, False) for c in pairs
                )
            pieces = _components(before, lat) + _components(after, lat)
            irregular = sum(not _is_rect(p) for p in pieces)
            key = (crossed, irregular, -round(evidence, 2), not vertical, k)
            if best is None or key < best[0]:
                best = (key, pieces)
    assert best is not None  # a non-rectangular region spans at least two rows or columns
    return [rect for piece in best[1] for rect in _split_region(piece, lat, ink, margin)]


def lattice_cells(lat: Lattice, ink: np.ndarray, dpi: int = DPI) -> list[CellBox]:
    """The table's cells: merged regions of the lattice, each a rectangle of elementary cells."""
    nr, nc = lat.v_on.shape[0], lat.h_on.shape[1]
    margin = max(3, dpi // 40)
    everything = {(r, c) for r in range(nr) for c in range(nc)}
    out = []
    for region in _components(everything, lat):
        for rect in _split_region(region, lat, ink, margin):
            r0, r1 = min(r for r, _ in rect), max(r for r, _ in rect)
            c0, c1 = min(c for _, c in rect), max(c for _, c in rect)
            x, y = lat.xs[c0], lat.ys[r0]
            out.append(CellBox(x, y, lat.xs[c1 + 1] - x, lat.ys[r1 + 1] - y, r0, c0, r1, c1))
    out.sort(key=lambda b: (b.r0, b.c0))
    return out


def find_tables(gray: np.ndarray, dpi: int = DPI) -> list[tuple[list[CellBox], Lattice, np.ndarray]]:
    """Each ruled table on a (deskewed) page: its cells with grid spans, its lattice, and the page
    with the rules whitened (so a cell crop holds text only)."""
    bw = _binarize(gray)
    horiz, vert = _line_masks(bw, dpi)
    grid = cv2.bitwise_or(horiz, vert)
    ink = cv2.bitwise_and(bw, cv2.bitwise_not(grid))
    clean = gray.copy()
    clean[grid > 0] = 255
    h, w = grid.shape
    # a rule the scan broke (a gap of a few pixels) must not cut one table into several; a wider
    # join (dpi // 25) also took in the caption above a real scanned table (Hongze, 200 dpi)
    joined = cv2.dilate(grid, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, dpi // 60),) * 2))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    tables = []
    for i in range(1, n):
        # a table spans a fifth of the page one way (across it, or down it when the page lies
        # on its side: a continuation of a few rows is then narrow and tall)
        if min(stats[i][2], stats[i][3]) < dpi // 5 or (stats[i][2] < w // 5 and stats[i][3] < h // 5):
            continue
        x, y, bw_, bh = cv2.boundingRect(((labels == i) & (grid > 0)).astype(np.uint8))  # undilated
        lat = table_lattice(horiz, vert, (int(x), int(y), int(bw_), int(bh)), dpi)
        cells = lattice_cells(lat, ink, dpi)
        if len(cells) >= 2:
            tables.append((cells, lat, clean))
    tables.sort(key=lambda t: t[1].ys[0])
    return tables


def _ink_bands(
    gray: np.ndarray, cell: CellBox, inset: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The cell's crop (``inset`` inside the rule centres), its ink mask, and the row bands that
    hold ink (split on blank rows)."""
    crop = gray[cell.y + inset : cell.y + cell.h - inset, cell.x + inset : cell.x + cell.w - inset]
    if crop.size == 0:
        return crop, crop, []
    ink = _binarize_cell(crop)
    return crop, ink, _runs(ink.sum(axis=1) > 0, min_len=2)


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


def _context_strip(img: np.ndarray, a: int, b: int, c0: int, c1: int, background: int) -> np.ndarray:
    """BGR image of the text line in rows a..b, columns c0..c1 of ``img``, with a margin of the
    scan's own background (padded with ``background`` where the image ends).

    A pure-white frame pasted around a tight crop made the recogniser drop a leading minus sign
    ("-3" read as "3"); a few pixels of real context do not."""
    vpad, hpad = max(2, (b - a) // 4), max(4, (b - a) // 4)
    y0, y1, x0, x1 = a - vpad, b + vpad, c0 - hpad, c1 + hpad
    h, w = img.shape
    strip = img[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    strip = cv2.copyMakeBorder(
        strip, max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w), cv2.BORDER_CONSTANT, value=background
    )
    return cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)


def _strip_images(crop: np.ndarray, ink: np.ndarray, bands: list[tuple[int, int]]) -> list[np.ndarray]:
    """One image per text line of a cell."""
    out = []
    background = int(np.median(crop)) if crop.size else 255
    for a, b in bands:
        cols = np.nonzero(ink[a:b].any(axis=0))[0]
        if cols.size and b - a >= 4:
            out.append(_context_strip(crop, a, b, int(cols[0]), int(cols[-1]) + 1, background))
    return out


def _binarize_cell(crop: np.ndarray) -> np.ndarray:
    """Ink mask of a cell crop with specks removed (scanner noise is not a text line).

    The threshold sits a fixed step below the crop's own background (its median), not at a fixed
    grey: thin serif strokes (the lone stroke of 一, the bars of 三) blur to light grey in a scan,
    and a shaded header cell must still count as background."""
    background = float(np.median(crop)) if crop.size else 255.0
    _, bw = cv2.threshold(crop, float(np.clip(background - 45, 100, 210)), 255, cv2.THRESH_BINARY_INV)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 6
    return (keep[labels] * 1).astype(np.uint8)


_SLASH_LOOKALIKES = {"1", "l", "I", "|", "/", "丨", "丿", "ノ", "i"}  # not 7: its stem leans too


def _is_slash(ink: np.ndarray) -> bool:
    """Is this text line's ink one thin stroke leaning right, a "/" blank? The recogniser reads a
    light, thin "/" at 150 dpi as "1" with a fair score, which would place a number where the
    report printed none; the stroke's slant tells them apart (a "1" stands upright)."""
    ys, xs = np.nonzero(ink)
    if ys.size < 8:
        return False
    top, bottom = int(ys.min()), int(ys.max())
    h = bottom - top + 1
    if h < 8:
        return False
    upper = xs[ys < top + h / 3]
    lower = xs[ys > bottom - h / 3]
    if not upper.size or not lower.size:
        return False
    lean = (float(np.median(upper)) - float(np.median(lower))) / h
    widths = [int(np.count_nonzero(row)) for row in ink[top : bottom + 1]]
    # one thin stroke all the way: no row much wider than the stroke (the bar of a 7, a 1's foot)
    return lean > 0.15 and float(np.median(widths)) < 0.3 * h and max(widths) < 0.45 * h


def _is_dash(ink: np.ndarray, line_h: float) -> bool:
    """Is all of this cell's ink one short horizontal bar, a "—" blank? The recogniser reads it as
    nothing, as "一", or now and then as a digit; no value is a lone bar, so its shape decides."""
    ys, xs = np.nonzero(ink)
    if ys.size < 4 or line_h <= 0:
        return False
    h = int(ys.max() - ys.min()) + 1
    w = int(xs.max() - xs.min()) + 1
    filled = np.count_nonzero(ink[:, xs.min() : xs.max() + 1].any(axis=0))
    return bool(w >= 3 * h and h <= max(3, 0.3 * line_h) and w >= 0.4 * line_h and filled >= 0.85 * w)


def recognise_cells(gray: np.ndarray, cells: list[CellBox], dpi: int = DPI) -> list[tuple[str, float]]:
    """Text and mean score of every cell; all strips of the page go to the recogniser at once.

    A blank cell scores 1.0 (nothing to misread); a cell that holds ink the recogniser could not
    read scores 0.0, so it counts against the table rather than passing for blank."""
    inset = max(4, dpi // 30)
    banded = [_ink_bands(gray, cell, inset) for cell in cells]
    heights = [b - a for _, _, bands in banded for a, b in bands]
    line_h = float(np.percentile(heights, 75)) if heights else 0.0  # a full text line's height
    strips: list[np.ndarray] = []
    owner: list[int] = []
    slash: list[bool] = []
    for i, (crop, ink, bands) in enumerate(banded):
        merged = _merge_bands(bands, line_h)
        for s in _strip_images(crop, ink, merged):
            strips.append(s)
            owner.append(i)
        one_line = len(merged) == 1 and len(strips) and owner[-1] == i
        if one_line:
            a, b = merged[0]
            slash.append(_is_slash(ink[a:b]))
        slash.extend([False] * (len(strips) - len(slash)))
    texts: list[list[str]] = [[] for _ in cells]
    scores: list[list[float]] = [[] for _ in cells]
    if strips:
        results = recognise_strips(strips)
        for i, (text, score), leaning in zip(owner, results, slash, strict=True):
            text = text.strip()
            if leaning and text in _SLASH_LOOKALIKES:
                text = "/"  # the stroke's shape, not the recogniser's guess at it
            if text:
                texts[i].append(text)
                scores[i].append(float(score))
    for i, (_crop, ink, _bands) in enumerate(banded):
        if ink.size and _is_dash(ink, line_h):
            texts[i], scores[i] = ["—"], [1.0]  # the stroke's shape, not the recogniser's guess at it
    inked = set(owner)
    return [
        ("\n".join(t), (sum(s) / len(s)) if s else (0.0 if i in inked else 1.0))
        for i, (t, s) in enumerate(zip(texts, scores, strict=True))
    ]


TURN_STRIP_RATIO = 6  # strips cut to this many line heights: wide strips cost, a few characters tell
TURN_SAMPLE = 8  # cells read in each orientation: the inkiest (labels: Chinese text is not symmetric)
TURN_UPRIGHT = 0.8  # the page as it is reads this well: upright, the other turns are not tried
TURN_ASPECT_RATIO = 1.5  # text lines this much wider the other way round: the page lies on its side
TURN_MARGIN = 0.1  # another orientation must read this much better than the page as it is


def _line_aspect(crops: list[np.ndarray]) -> float:
    """Median width/height of the text lines (ink bands, strokes of one character joined) in the
    crops: text lines run across the page, so upright cells hold wide lines, and cells on their
    side hold stacks of single characters (aspect about 1)."""
    aspects = []
    for crop in crops:
        ink = _binarize_cell(crop)
        bands = _runs(ink.sum(axis=1) > 0, min_len=2)
        heights = [b - a for a, b in bands]
        for a, b in _merge_bands(bands, float(np.percentile(heights, 75)) if heights else 0.0):
            cols = np.nonzero(ink[a:b].any(axis=0))[0]
            if cols.size and b - a >= 4:
                aspects.append((cols[-1] - cols[0] + 1) / (b - a))
    return float(np.median(aspects)) if aspects else 0.0


def _turn_score(sample: list[np.ndarray], k: int) -> float:
    """Mean recognition score of the sample's text lines with the crops turned ``k`` quarters."""
    strips: list[np.ndarray] = []
    for crop in sample:
        turned = np.ascontiguousarray(np.rot90(crop, k))
        ink = _binarize_cell(turned)
        bands = _runs(ink.sum(axis=1) > 0, min_len=2)
        heights = [b - a for a, b in bands]
        merged = _merge_bands(bands, float(np.percentile(heights, 75)) if heights else 0.0)
        for strip in _strip_images(turned, ink, merged)[:2]:
            strips.append(strip[:, : TURN_STRIP_RATIO * strip.shape[0]])  # a few characters do
    if not strips:
        return 0.0
    return float(np.mean([sc if t.strip() else 0.0 for t, sc in recognise_strips(strips)]))


def page_turn(found: list[tuple[list[CellBox], Lattice, np.ndarray]]) -> int:
    """Quarter turns (``np.rot90``'s k) that make the page's tables upright: 0, 1, 2 or 3.

    A landscape page of a portrait scan lies on its side; its grid is found all the same, but
    its text reads as nonsense. Two cues on the inkiest cells (label text): the axis from the
    shape of the text lines (wide when upright, stacks of single characters when on the side;
    a single rotated character can read with a high score, so recognition alone cannot tell
    the axis), then which way along it from the recognition score of the lines turned both ways
    (the page as it is, or as the shape says, wins unless the other reads clearly better)."""
    crops = []
    for cells, _, clean in found:
        for cell in cells:
            crop = clean[cell.y + 4 : cell.y + cell.h - 4, cell.x + 4 : cell.x + cell.w - 4]
            if crop.size:
                crops.append((int(np.count_nonzero(_binarize_cell(crop))), crop))
    crops.sort(key=lambda t: -t[0])
    sample = [c for n, c in crops[:TURN_SAMPLE] if n > 0]
    if not sample:
        return 0
    upright = _line_aspect(sample)
    sideways = _line_aspect([np.ascontiguousarray(np.rot90(c, 1)) for c in sample])
    base = 1 if sideways > upright * TURN_ASPECT_RATIO else 0
    score = _turn_score(sample, base)
    other = base + 2
    if os.environ.get("OGI_DEBUG_TURN"):
        print("turn aspects", round(upright, 2), round(sideways, 2), "base", base, round(score, 3))
    if score >= TURN_UPRIGHT:
        return base
    return other if _turn_score(sample, other) > score + TURN_MARGIN else base


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


def _trim_empty_edge_columns(
    cells: list[CellBox], recognised: list[tuple[str, float]], xs: list[int]
) -> tuple[list[CellBox], list[tuple[str, float]], list[int]]:
    """The table without outer columns in which no cell holds text: a stray rule beside the
    table (the edge of a photographed sheet, a scanner's shadow) adds an empty column, and an
    extra column shifts every value of a table continued from the page before."""
    ncols = max(c.c1 for c in cells) + 1
    texted = {c.c0 for c, (t, _) in zip(cells, recognised, strict=True) if t}
    if not texted:
        return cells, recognised, xs
    lo, hi = min(texted), max(c.c1 for c, (t, _) in zip(cells, recognised, strict=True) if t)
    if lo == 0 and hi == ncols - 1:
        return cells, recognised, xs
    kept = []
    for cell, rec in zip(cells, recognised, strict=True):
        c0, c1 = max(cell.c0, lo), min(cell.c1, hi)
        if c0 > c1:
            continue
        x, x1 = xs[c0], xs[c1 + 1]
        kept.append((CellBox(x, cell.y, x1 - x, cell.h, cell.r0, c0 - lo, cell.r1, c1 - lo), rec))
    return [k for k, _ in kept], [r for _, r in kept], xs[lo : hi + 2]


@dataclass
class OcrPage:
    """What OCR made of one page: its tables and its text in reading order."""

    tables: list[PageTable]
    text: str
    angle: float
    warnings: list[str] = field(default_factory=list)


def ocr_page(gray: np.ndarray, page_no: int, dpi: int = DPI, prose_text: bool = True) -> OcrPage:
    """Deskew, find ruled tables, recognise them cell by cell, and (optionally) the prose around them."""
    quad = sheet_quad(gray)
    if quad is not None:  # a photographed sheet: perspective off, the desk cut away
        gray = rectify(gray, quad)
    gray = flatten(gray, dpi)
    angle = skew_angle(_binarize(gray))
    gray = deskew(gray, angle)
    found = find_tables(gray, dpi)
    turn = page_turn(found)
    if turn:  # a landscape page scanned on its side: read it upright
        gray = np.ascontiguousarray(np.rot90(gray, turn))
        found = find_tables(gray, dpi)
    tables: list[PageTable] = []
    warnings: list[str] = []
    blocks: list[tuple[int, str]] = []  # (top y, text) for reading order
    masked = gray.copy() if prose_text else None
    for cells, lat, clean in found:
        recognised = recognise_cells(clean, cells, dpi)
        scores = [s for (t, s) in recognised if t]
        unread = sum(1 for t, s in recognised if not t and s == 0.0)
        # a table of blank cells (the empty remnant of a row cut by the page break) is no evidence
        # of a bad read; ink that gave no text is
        confidence = round(sum(scores) / len(scores), 4) if scores else (0.0 if unread else None)
        low = sum(1 for s in scores if s < MIN_REC_SCORE)
        note = f"ocr cell-by-cell at {dpi} dpi, deskewed {angle:+.2f}°" + (f", turned {90 * turn}°" if turn else "")
        if quad is not None:
            note += ", photographed sheet rectified"
        if low:
            note += f", {low} cell(s) below score {MIN_REC_SCORE}"
        if unread:
            note += f", {unread} cell(s) with ink but no text read"
            warnings.append(f"{unread} table cell(s) hold ink that OCR could not read")
        cells, recognised, xs = _trim_empty_edge_columns(cells, recognised, list(lat.xs))
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
                col_edges=[round(x * 72 / dpi, 2) for x in xs],
                top_frac=round(y0 / gray.shape[0], 4),
                bottom_frac=round(y1 / gray.shape[0], 4),
            )
        )
        x0, x1 = min(c.x for c in cells), max(c.x + c.w for c in cells)
        blocks.append((y0, "\n".join(" ".join(c for c in row if c) for row in rows)))
        if masked is not None:
            masked[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = 255
    if masked is not None:
        blocks.extend(prose_lines(masked, dpi))
    blocks.sort(key=lambda b: b[0])
    return OcrPage(tables=tables, text="\n".join(t for _, t in blocks if t), angle=angle, warnings=warnings)


def _runs(on: np.ndarray | np.bool_, min_len: int = 1) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], on.astype(bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True) if e - s >= min_len]


def prose_lines(gray: np.ndarray, dpi: int = DPI) -> list[tuple[int, str]]:
    """The text outside the tables (already blanked), line by line: (top y, text).

    Lines are cut by ink projection on the deskewed page and read by the recogniser alone; a
    line is split where a gap wider than about two characters separates its pieces (a date on
    the right margin), which are read separately and joined with a space. Bands far taller than
    a text line (a picture, a seal) are not text lines and are skipped."""
    ink = _binarize_cell(gray)
    bands = _runs(ink.any(axis=1), 2)
    if not bands:
        return []
    line_h = float(np.percentile([b - a for a, b in bands], 75))
    background = int(np.median(gray))
    strips: list[np.ndarray] = []
    owner: list[int] = []
    lines = [(a, b) for a, b in _merge_bands(bands, line_h) if dpi // 25 <= b - a <= 3 * line_h]
    for k, (a, b) in enumerate(lines):
        pieces = _runs(ink[a:b].any(axis=0))
        groups: list[list[int]] = []
        for s, e in pieces:
            if groups and s - groups[-1][1] <= 2 * (b - a):
                groups[-1][1] = e
            else:
                groups.append([s, e])
        for s, e in groups:
            strips.append(_context_strip(gray, a, b, s, e, background))
            owner.append(k)
    texts: list[list[str]] = [[] for _ in lines]
    for k, (text, _) in zip(owner, recognise_strips(strips), strict=True):
        if text.strip():
            texts[k].append(text.strip())
    return [(a, " ".join(t)) for (a, _), t in zip(lines, texts, strict=True) if t]


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
        if prose_text and not page.tables and not page.text.strip():
            # (only a page read whole can say this: with prose_text off, text was not sought)
            warnings.append(f"page {p}: no text layer and OCR found nothing readable")
        for t in page.tables:
            if t.confidence is not None and t.confidence < 0.8:
                warnings.append(f"page {p}: OCR table with low confidence {t.confidence:.2f}")
        warnings.extend(f"page {p}: {w}" for w in page.warnings)
    return tables, texts, warnings
