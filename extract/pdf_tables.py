"""Tables out of a PDF's text layer with Camelot: pick pages, parse, arbitrate, stitch pages.

Camelot's ``lattice`` flavour with ``engine="vector"`` reads the ruled lines straight from the
PDF's drawing operators (no rendering), which is an order of magnitude faster than the raster
default and finds the same tables in WPS/Word exports. Pages without ruling lines fall back to
``stream``. When several candidates exist for a page the one with the more consistent grid wins
(:func:`grid_consistency`); the transform stage may still arbitrate on identities via
:func:`pdf_candidates`. Rows Camelot reads as empty are refilled from pdfium's glyph boxes
(:func:`fill_empty_rows`), and :func:`stitch` joins a table's pages, cut rows included.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import pypdfium2 as pdfium

from ogi.core.models import RawTable
from ogi.extract.pdf_grid import PageTable, grid_consistency, grid_key, is_number
from ogi.extract.pdf_text import Glyph, page_glyphs


def _clean(text: str) -> str:
    """Drop the trailing newline Camelot adds and outer blanks; keep inner line breaks."""
    return text.strip().replace("\u3000", " ").strip()


def _regions(cells: list[list]) -> list[list[int]]:
    """Label each lattice cell with the merged region it belongs to (union over missing rules)."""
    nr = len(cells)
    nc = len(cells[0]) if nr else 0
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for r in range(nr):
        for c in range(nc):
            cell = cells[r][c]
            if c + 1 < nc and not cell.right and not cells[r][c + 1].left:
                union(r * nc + c, r * nc + c + 1)
            if r + 1 < nr and not cell.bottom and not cells[r + 1][c].top:
                union(r * nc + c, (r + 1) * nc + c)
    return [[find(r * nc + c) for c in range(nc)] for r in range(nr)]


def grid_from_cells(
    texts: list[list[str]], regions: list[list[int]] | None
) -> tuple[list[list[str | None]], list[set[tuple[int, int]]]]:
    """Build the RawTable grid: a merge's text sits in its top-left cell, its other cells are None.

    Returns the grid and, for stitching, the cells of text-less merged regions that touch
    the first row (on a continuation page these continue a merged cell of the previous page).
    """
    grid: list[list[str | None]] = [[_clean(t) for t in row] for row in texts]
    if regions is None:
        return grid, []
    members: dict[int, list[tuple[int, int]]] = {}
    for r, row in enumerate(regions):
        for c, rid in enumerate(row):
            members.setdefault(rid, []).append((r, c))
    top_regions: list[set[tuple[int, int]]] = []
    for cells in members.values():
        if len(cells) == 1:
            continue
        with_text = [(r, c) for r, c in cells if grid[r][c]]
        if len(with_text) > 1:
            continue  # distinct texts in one "region": a rule was missed; claim no merge
        rmin = min(r for r, _ in cells)
        cmin = min(c for _, c in cells)
        is_rect = len(cells) == (max(r for r, _ in cells) - rmin + 1) * (max(c for _, c in cells) - cmin + 1)
        # the text moves to the merge's top-left cell, as HTML colspan/rowspan put it
        keep = (rmin, cmin) if is_rect else (with_text[0] if with_text else min(cells))
        text = grid[with_text[0][0]][with_text[0][1]] if with_text else ""
        for r, c in cells:
            grid[r][c] = None
        grid[keep[0]][keep[1]] = text
        if not with_text and any(r == 0 for r, _ in cells):
            top_regions.append(set(cells))
    return grid, top_regions


# Camelot's parsers read text lines only; boxes_flow=None skips pdfminer's grouping of lines into
# a box hierarchy, two thirds of a page's parse time, with the same tables (measured: identical
# grids on the benchmark PDFs and the samples, lattice and stream)
LAYOUT_KWARGS: dict = {"boxes_flow": None}


def _camelot_read(source: str, pages: list[int], flavor: str, **kwargs) -> list:
    """Run Camelot quietly (it warns about every text-free page) and return its TableList."""
    import camelot

    if not pages:
        return []
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return list(
            camelot.read_pdf(
                source,
                pages=",".join(str(p) for p in pages),
                flavor=flavor,
                suppress_stdout=True,
                layout_kwargs=LAYOUT_KWARGS,
                **kwargs,
            )
        )


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF units, origin bottom-left


def _glyph_text(glyphs: list[Glyph]) -> str:
    """Glyphs of one cell as text: lines from top to bottom, a space where a gap splits a line."""
    lines: list[list[Glyph]] = []
    for g in sorted(glyphs, key=lambda g: -(g.y0 + g.y1)):
        mid = (g.y0 + g.y1) / 2
        if lines:
            ref = lines[-1][0]
            if abs(mid - (ref.y0 + ref.y1) / 2) <= 0.5 * max(ref.y1 - ref.y0, 1.0):
                lines[-1].append(g)
                continue
        lines.append([g])
    out = []
    for line in lines:
        line.sort(key=lambda g: g.x0)
        text = line[0].char
        for a, b in zip(line, line[1:], strict=False):
            text += (" " if b.x0 - a.x1 > 0.3 * max(b.y1 - b.y0, 1.0) else "") + b.char
        out.append(text)
    return "\n".join(out)


def fill_empty_rows(
    texts: list[list[str]], boxes: list[list[Box]], glyphs: list[Glyph],
    regions: list[list[int]] | None = None,
) -> tuple[list[list[str]], int]:
    """Refill rows where Camelot placed no text at all from the glyphs drawn inside their cells.

    Camelot assigns a text line by the centre of the box its parser computes, which can lie a
    line below the drawn glyphs: in a short row at a page break (a row cut by the break) the
    text then falls outside the table and the row's values are lost. Only wholly empty rows are
    refilled, and a cell of a merge that already holds text elsewhere is left alone. Returns
    the texts and how many rows were refilled.
    """
    holders = {regions[r][c] for r, row in enumerate(texts) for c, x in enumerate(row) if x.strip()} if regions else set()
    out = [list(row) for row in texts]
    filled = 0
    for r, row in enumerate(texts):
        if any(x.strip() for x in row):
            continue
        got = False
        for c, (x0, y0, x1, y1) in enumerate(boxes[r]):
            if regions and regions[r][c] in holders:
                continue
            inside = [g for g in glyphs if x0 <= (g.x0 + g.x1) / 2 <= x1 and y0 <= (g.y0 + g.y1) / 2 <= y1]
            if inside:
                out[r][c] = _glyph_text(inside)
                got = True
        filled += got
    return out, filled


def refill_spilled_rows(
    texts: list[list[str]], boxes: list[list[Box]], glyphs: list[Glyph],
    regions: list[list[int]] | None = None,
) -> tuple[list[list[str]], int]:
    """Rows where one cell holds the words of its empty neighbours, re-read cell by cell from the
    glyphs drawn inside each cell.

    Camelot gives a text line to the cell it starts in; a line the PDF's text layer runs over
    several cells (header cells set on one baseline: "结果维持 结果纠正 其他结果 尚未审结")
    lands in one cell and leaves the others empty. The re-reading is kept only when it holds
    exactly the same words, each whole in one cell (text overflowing a narrow cell is not cut
    apart); cells of a merge over several rows are left as they are.
    """
    rows_of: dict[int, set[int]] = {}
    if regions:
        for r, ids in enumerate(regions):
            for rid in ids:
                rows_of.setdefault(rid, set()).add(r)
    out = [list(row) for row in texts]
    fixed = 0
    for r, row in enumerate(texts):
        if all(x.strip() for x in row) or not any(_words_on_one_line(x) for x in row):
            continue
        groups: dict[int, list[int]] = {}
        for c in range(len(row)):
            groups.setdefault(regions[r][c] if regions else r * len(row) + c, []).append(c)
        new = list(row)
        ry0, ry1 = min(b[1] for b in boxes[r]), max(b[3] for b in boxes[r])
        in_row = [g for g in glyphs if ry0 <= (g.y0 + g.y1) / 2 <= ry1]
        for rid, cols in groups.items():
            if regions and len(rows_of.get(rid, ())) > 1:
                continue
            x0 = min(boxes[r][c][0] for c in cols)
            x1 = max(boxes[r][c][2] for c in cols)
            y0 = min(boxes[r][c][1] for c in cols)
            y1 = max(boxes[r][c][3] for c in cols)
            inside = [g for g in in_row if x0 <= (g.x0 + g.x1) / 2 <= x1 and y0 <= (g.y0 + g.y1) / 2 <= y1]
            new[cols[0]] = _glyph_text(inside).replace("\n", " ") if inside else ""
        if new != row and sorted(p for x in new for p in x.split()) == sorted(p for x in row for p in x.split()) \
                and sum(1 for x in new if x.strip()) > sum(1 for x in row if x.strip()):
            out[r] = new
            fixed += 1
    return out, fixed


def _words_on_one_line(text: str) -> bool:
    return any(len(line.split()) >= 2 for line in text.split("\n"))


def _spilled_rows(texts: list[list[str]], regions: list[list[int]] | None) -> list[int]:
    """Rows with a cell of several words beside an empty cell that is not part of its merge."""
    out = []
    for r, row in enumerate(texts):
        for c, x in enumerate(row):
            if not _words_on_one_line(x):
                continue
            for n in (c - 1, c + 1):
                if 0 <= n < len(row) and not row[n].strip() and not (regions and regions[r][n] == regions[r][c]):
                    out.append(r)
                    break
            if out and out[-1] == r:
                break
    return out


def _to_page_table(t, method: str, page_text: _PageText | None = None) -> PageTable:
    texts = [list(row) for row in t.data]
    regions = _regions(t.cells) if method == "camelot-lattice" and t.cells else None
    note = ""
    empty = [r for r, row in enumerate(texts) if not any(x.strip() for x in row)]
    if page_text is not None and t.cells and empty:
        page = int(t.page)
        boxes = [[(c.x1, c.y1, c.x2, c.y2) for c in row] for row in t.cells]
        row_box = [(boxes[r][0][0], boxes[r][0][1], boxes[r][-1][2], boxes[r][0][3]) for r in empty]
        if any(page_text.has_text(page, b) for b in row_box):
            texts, filled = fill_empty_rows(texts, boxes, page_text.glyphs(page), regions)
            if filled:
                note = f"page {page}: {filled} row(s) Camelot read as empty refilled from the glyphs"
    spilled = _spilled_rows(texts, regions)
    if page_text is not None and t.cells and spilled:
        page = int(t.page)
        boxes = [[(c.x1, c.y1, c.x2, c.y2) for c in row] for row in t.cells]
        texts, moved = refill_spilled_rows(texts, boxes, page_text.glyphs(page), regions)
        if moved:
            note = _join_note(note, f"page {page}: {moved} row(s) whose words Camelot gave one cell re-read "
                                    "cell by cell from the glyphs")
    grid, top_regions = grid_from_cells(texts, regions)
    acc = getattr(t, "accuracy", None)
    edges = sorted({round(x, 1) for c in t.cols for x in c}) if t.cols else []
    top_frac = bottom_frac = None
    size, bbox = getattr(t, "pdf_size", None), getattr(t, "_bbox", None)
    if size and bbox and size[1]:
        top_frac = round(1 - bbox[3] / size[1], 4)  # PDF y runs upwards
        bottom_frac = round(1 - bbox[1] / size[1], 4)
    return PageTable(
        page=int(t.page),
        rows=grid,
        method=method,
        confidence=round(acc / 100.0, 4) if acc is not None else None,
        col_edges=edges,
        top_regions=top_regions,
        note=note,
        top_frac=top_frac,
        bottom_frac=bottom_frac,
    )


def _drop_empty_rows(pt: PageTable) -> PageTable:
    pt.rows = [r for r in pt.rows if any(c for c in r)] if pt.method != "camelot-lattice" else pt.rows
    return pt


class _PageText:
    """pdfium's view of a PDF's pages, opened on first use (most tables never need it)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pdf: pdfium.PdfDocument | None = None
        self.glyph_cache: dict[int, list[Glyph]] = {}

    def _doc(self) -> pdfium.PdfDocument:
        if self.pdf is None:
            self.pdf = pdfium.PdfDocument(self.source)
        return self.pdf

    def has_text(self, page: int, box: Box) -> bool:
        """Whether any character is drawn in (or overlaps) a box: a cheap test before reading glyphs."""
        pg = self._doc()[page - 1]
        tp = pg.get_textpage()
        try:
            return bool(tp.get_text_bounded(*box).strip())
        finally:
            tp.close()
            pg.close()

    def glyphs(self, page: int) -> list[Glyph]:
        if page not in self.glyph_cache:
            self.glyph_cache[page] = page_glyphs(self._doc(), page)
        return self.glyph_cache[page]

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def lattice_tables(source: str, pages: list[int], engine: str = "vector") -> list[PageTable]:
    """Ruled tables. ``engine="vector"`` reads the PDF's own line drawings (no rendering);
    ``"combined"`` also renders the page and finds lines with OpenCV (slower, catches rules the
    vector reader misses). Rows Camelot reads as empty are refilled from pdfium's glyphs."""
    text = _PageText(source)
    try:
        return [
            _to_page_table(t, "camelot-lattice", text)
            for t in _camelot_read(source, pages, "lattice", engine=engine)
        ]
    finally:
        text.close()


def stream_tables(source: str, pages: list[int]) -> list[PageTable]:
    """Whitespace-aligned tables, for pages whose tables are not ruled."""
    tables = [
        _drop_empty_rows(_to_page_table(t, "camelot-stream")) for t in _camelot_read(source, pages, "stream")
    ]
    # stream turns any aligned text into a "table"; a table has at least two rows of two cells
    return [t for t in tables if sum(1 for r in t.rows if sum(1 for c in r if c) >= 2) >= 2]


RULED_BONUS = 0.1
RULED_METHODS = frozenset({"camelot-lattice", "ocr", "pdfplumber"})
VECTOR, RASTER, STREAM = "camelot-lattice(vector)", "camelot-lattice(raster)", "camelot-stream"
# a page's ruled tables with the borderless tables beside them (extract/pdf_borderless.py)
VECTOR_WORDS = "camelot-lattice(vector)+pdf-words"


def pdf_candidates(source: str, pages: list[int]) -> dict[int, dict[str, list[PageTable]]]:
    """Every extraction candidate per page: {page: {candidate label: [tables]}}, labels being
    ``camelot-lattice(vector)``, ``camelot-lattice(raster)`` and ``camelot-stream``.

    For a later stage that arbitrates on accounting identities rather than on grid shape.
    """
    out: dict[int, dict[str, list[PageTable]]] = {p: {VECTOR: [], RASTER: [], STREAM: []} for p in pages}
    for label, tables in (
        (VECTOR, lattice_tables(source, pages)),
        (RASTER, lattice_tables(source, pages, engine="combined")),
        (STREAM, stream_tables(source, pages)),
    ):
        for t in tables:
            out.setdefault(t.page, {}).setdefault(label, []).append(t)
    return out


def _set_score(tables: list[PageTable]) -> float:
    """Score of one candidate set for a page: consistency weighted by table size."""
    if not tables:
        return 0.0
    cells = [sum(len(r) for r in t.rows) for t in tables]
    total = sum(cells) or 1
    return sum(grid_consistency(t.rows) * n for t, n in zip(tables, cells, strict=True)) / total


def rank_candidates(candidates: dict[str, list[PageTable]]) -> list[tuple[str, float, float]]:
    """Candidate labels of one page with their grid-consistency score and rank score, best first.

    Ruled cells are direct evidence of the grid (merges included), so a lattice candidate gets
    ``RULED_BONUS`` on top of its consistency and wins ties.
    """
    scored = {m: _set_score(ts) for m, ts in candidates.items() if ts}

    def rank(m: str) -> tuple[float, bool]:
        ruled = m.startswith("camelot-lattice")
        return (scored[m] + (RULED_BONUS if ruled else 0.0), ruled)

    order = sorted(scored, key=rank, reverse=True)
    return [(m, scored[m], rank(m)[0]) for m in order]


def arbitrate(page: int, candidates: dict[str, list[PageTable]]) -> list[PageTable]:
    """Keep the candidate set whose grids are more consistent; note which won and why.

    A lattice candidate wins unless a stream parse is clearly (by more than ``RULED_BONUS``)
    more consistent (:func:`rank_candidates`).
    """
    ranked = rank_candidates(candidates)
    if not ranked:
        return []
    winner = ranked[0][0]
    tables = candidates[winner]
    why = ", ".join(f"{m}={s:.2f}" for m, s, _ in sorted(ranked))
    if len(ranked) > 1:
        note = f"page {page}: {winner} chosen on grid consistency ({why}; ruled +{RULED_BONUS})"
    else:
        note = f"page {page}: only {winner} found a table (grid consistency {why})"
    for t in tables:
        t.note = _join_note(t.note, note)
    return tables


def _join_note(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


# a losing candidate within this much (rank score) of the winner was a close call: keep it
ALTERNATIVE_MARGIN = 0.35


@dataclass
class PageAlternative:
    """A losing candidate for one page, kept so a later stage can arbitrate on identities."""

    page: int
    label: str  # candidate label, e.g. "camelot-stream"
    tables: list[PageTable]
    note: str  # why it was a candidate (its score against the winner's)


def _stacked_numbers(table: PageTable) -> bool:
    """A cell holding numbers on two or more lines ("50\n9"): two rows whose separating rule the
    lattice parse did not see."""
    for row in table.rows:
        for c in row:
            lines = [x for x in (c or "").split("\n") if x.strip()]
            if len(lines) >= 2 and all(is_number(x) for x in lines):
                return True
    return False


def _has_digit(table: PageTable) -> bool:
    return any(ch.isdigit() for r in table.rows for c in r if c for ch in c)


def _is_weak(tables: list[PageTable], min_consistency: float) -> bool:
    """Whether a page's vector-lattice tables call for the slower parses: none at all, or grids
    below ``min_consistency``. A ruled block without a single digit is no evidence of a missed
    rule when it ends at the foot of the page (a caption or header whose rows continue on the
    next page): it is left out of the score, and a page holding nothing else is not weak."""
    if not tables:
        return True
    scored = [t for t in tables if _has_digit(t) or t.bottom_frac is None or t.bottom_frac < 0.8]
    return bool(scored) and _set_score(scored) < min_consistency


_STANDALONE_NUMBER = re.compile(r"(?<![\w.,])[-+]?\d+(?:\.\d+)?(?![\w.,])")
# numbers a page's text holds beyond its ruled tables' cells before the page is read for a
# borderless table beside them (page numbers and a stray figure stay under it)
_UNRULED_NUMBERS = 8


def _in_page_order(tables: list[PageTable]) -> list[PageTable]:
    return sorted(tables, key=lambda t: t.top_frac if t.top_frac is not None else 0.0)


def _numbers_outside(text: str, tables: list[PageTable]) -> bool:
    """Whether the page's text layer holds clearly more standalone numbers than its ruled tables
    (numbers run into words, "2020年", "128件", are prose): a borderless table beside them."""
    in_text = len(_STANDALONE_NUMBER.findall(text))
    in_tables = sum(len(_STANDALONE_NUMBER.findall(c)) for t in tables for r in t.rows for c in r if c)
    return in_text - in_tables >= _UNRULED_NUMBERS


def page_tables_with_alternatives(
    source: str, pages: list[int], min_consistency: float = 0.6, texts: Mapping[int, str] | None = None,
) -> tuple[list[PageTable], list[PageAlternative]]:
    """Tables of the given pages in document order, plus the close runner-up candidates.

    Lattice with the vector engine runs first on all pages at once (fast). A page where it finds
    nothing, or only grids below ``min_consistency``, also gets a raster lattice parse and a stream
    parse, and the candidate with the most consistent grid wins. A consistent page whose cells
    stack numbers on several lines (a rule the vector parse missed) also gets a stream parse.
    Losers on those pages whose score is within ``ALTERNATIVE_MARGIN`` of the winner and whose grid
    differs are returned as alternatives; clean vector pages get no extra parse and no alternative.
    ``texts`` (page → text layer): a page with ruled tables whose text holds many more numbers
    than they do is also read for borderless tables beside them (a ruled 二 above a borderless 三).
    """
    by_page: dict[int, list[PageTable]] = {p: [] for p in pages}
    alternatives: list[PageAlternative] = []
    for t in lattice_tables(source, pages):
        by_page.setdefault(t.page, []).append(t)
    weak = [p for p, ts in by_page.items() if _is_weak(ts, min_consistency)]
    # Borderless tables (extract/pdf_borderless.py): a page with no lattice table whose word layout
    # gives consistent grids keeps those and skips the slower raster-lattice and stream parses.
    from ogi.extract.pdf_borderless import borderless_candidates

    bare = [p for p in weak if not by_page[p]]
    mixed = [p for p in pages if by_page[p] and texts and _numbers_outside(texts.get(p, ""), by_page[p])]
    worded = borderless_candidates(source, sorted(bare + mixed), min_consistency,
                                   ruled={p: by_page[p] for p in mixed})
    beside: dict[int, list[PageTable]] = {}  # weak ruled pages: lattice + word tables, one more candidate
    for p, ts in worded.items():
        if p in bare:
            by_page[p] = ts
        elif p in weak:
            beside[p] = _in_page_order(by_page[p] + ts)
        else:
            by_page[p] = _in_page_order(by_page[p] + ts)
    weak = [p for p in weak if p not in worded or p in beside]
    # a consistent grid with stacked numbers in a cell: a missed rule; a stream parse is the other view
    suspect = [p for p, ts in by_page.items() if p not in weak and any(_stacked_numbers(t) for t in ts)]
    if weak or suspect:
        raster = lattice_tables(source, weak, engine="combined")
        stream = stream_tables(source, weak + suspect)
        for p in sorted(weak + suspect):
            cands = {
                VECTOR: by_page[p],
                RASTER: [t for t in raster if t.page == p],
                STREAM: [t for t in stream if t.page == p],
            }
            if p in beside:
                cands[VECTOR_WORDS] = beside[p]
            ranked = rank_candidates(cands)
            by_page[p] = arbitrate(p, cands)
            if not ranked:
                continue
            win_label, win_score, win_rank = ranked[0]
            seen = {grid_key(by_page[p])}
            for label, score, rank in ranked[1:]:
                key = grid_key(cands[label])
                if win_rank - rank > ALTERNATIVE_MARGIN or key in seen:
                    continue
                seen.add(key)
                alternatives.append(PageAlternative(
                    page=p, label=label, tables=cands[label],
                    note=f"page {p}: {label} lost on grid consistency ({score:.2f} vs {win_label} "
                         f"{win_score:.2f}; ruled +{RULED_BONUS})",
                ))
    return [t for p in sorted(by_page) for t in by_page[p]], alternatives


# ---------------------------------------------------------------- stitching across pages


def _key(row: list[str | None]) -> str:
    return "".join(re.sub(r"\s+", "", c or "") for c in row)


def _is_title_row(row: list[str | None]) -> bool:
    """A full-width caption row such as 第二十条第（六）项: one text cell merged over the row.
    (A row cut by a page break also has one text cell, but next to real, empty cells.)"""
    return len(row) > 1 and bool(row[0]) and not is_number(row[0]) and all(c is None for c in row[1:])


Spans = list[tuple[int, int]]  # per column of a grid: the [first, last) columns it covers in a finer grid


def _spans(edges: list[float], onto: list[float], tol: float) -> Spans | None:
    """Each column between ``edges`` as a run of columns of the finer grid ``onto``, or None when
    an edge has no counterpart there (the grids do not refine each other)."""
    idx = []
    for x in edges:
        j = min(range(len(onto)), key=lambda k: abs(onto[k] - x))
        if abs(onto[j] - x) > tol:
            return None
        idx.append(j)
    if any(b <= a for a, b in zip(idx, idx[1:], strict=False)):
        return None
    return list(zip(idx, idx[1:], strict=False))


def _identity(n: int) -> Spans:
    return [(i, i + 1) for i in range(n)]


def column_alignment(
    edges: list[float], ncols: int, cont: PageTable, tol: float = 6.0, refine: bool = True
) -> tuple[list[float], Spans, Spans] | None:
    """How a continuation's columns line up with the table so far (column ``edges``, ``ncols``).

    Returns the edges of the joint grid and, for the table so far and for the continuation, the
    span of joint columns each of their columns covers; None when they do not line up. The grids
    may differ where a merge hides a rule on one page only: a label merged across three columns
    until the first row that splits it, or a vertical merge filling the first column of a whole
    page, which leaves that column without any rule. Then every edge of the coarser grid must
    be an edge of the finer one, and the coarser grid must cover at least half its width. Only
    ruled grids are refined (``refine``): their edges are drawn rules, not guesses from text.
    """
    if cont.ncols == 0 or ncols == 0:
        return None
    b = cont.col_edges
    if not edges or not b or len(edges) != ncols + 1 or len(b) != cont.ncols + 1:
        return (edges, _identity(ncols), _identity(ncols)) if ncols == cont.ncols else None  # no geometry
    if len(edges) == len(b):
        if all(abs(x - y) <= tol for x, y in zip(edges, b, strict=True)):
            return edges, _identity(ncols), _identity(ncols)
        return None
    if not refine:
        return None
    fine, coarse = (edges, b) if len(edges) > len(b) else (b, edges)
    spans = _spans(coarse, fine, tol)
    if spans is None or len(coarse) < 3 or (coarse[-1] - coarse[0]) < 0.5 * (fine[-1] - fine[0]):
        return None
    if fine is edges:
        return fine, _identity(ncols), spans
    return fine, spans, _identity(cont.ncols)


def _respan(row: list[str | None], spans: Spans, width: int) -> list[str | None]:
    """A row laid onto a finer grid: each cell's text in the first column it covers, the rest
    of its span and any column it does not reach covered (None)."""
    out: list[str | None] = [None] * width
    for (first, _), cell in zip(spans, row, strict=True):
        out[first] = cell
    return out


def _meets_at_page_break(a: PageTable, b: PageTable, near: float = 0.3) -> bool:
    """The first table runs to the lower part of its page and the second starts in the upper part
    of the next (no heading or prose between them)."""
    if a.bottom_frac is not None and a.bottom_frac < 1 - near:
        return False
    return b.top_frac is None or b.top_frac <= near


def _repeated_header_rows(first: list[list[str | None]], cont: list[list[str | None]]) -> int:
    """How many leading rows of a continuation repeat the table's first rows (a header printed
    again on every page)."""
    n = 0
    while n < len(cont) and n < len(first) - 1 and _key(first[n]) and _key(first[n]) == _key(cont[n]):
        n += 1
    return n


# a label that opens a new row: 一、 / （一） / (1) / 1. — never the continuation of a cut label
_ENUMERATED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+\s*[.．、])")


def _is_cut_row(last: list[str | None], first: list[str | None]) -> bool:
    """A row split by the page break, its two halves to be merged cell by cell.

    Every text cell of the continuation continues text of the cut row in the same column (and
    does not open a new numbered label), and the values sit on one side of the break only, facing
    empty cells on the other (Word and LibreOffice print them on the first line, but a cell may
    be vertically centred).
    """
    if len(last) != len(first):
        return False
    texts = [i for i, c in enumerate(first) if c and not is_number(c)]
    if not texts:
        return False
    for i in texts:
        above = last[i]
        if not above or is_number(above) or _ENUMERATED.match(first[i].strip()):  # type: ignore[union-attr]
            return False
    if any((is_number(a) and b) or (is_number(b) and a) for a, b in zip(last, first, strict=True)):
        return False  # a value under or over text: a header row and the first data row
    return any(is_number(c) for c in last) != any(is_number(c) for c in first)


def _is_empty_row(row: list[str | None]) -> bool:
    return not any((c or "").strip() for c in row)


def _merge_cells(a: str | None, b: str | None) -> str | None:
    if a and b:
        return f"{a}\n{b}"
    return a if a else (b if b else a)


def stitch(tables: list[PageTable]) -> list[RawTable]:
    """Join a table continued on the next page into one RawTable with ``row_pages``.

    Two tables are joined when the second is the first table of the next page, the first is the
    last table of its page, the first ends low on its page and the second starts high on its own,
    their columns line up (:func:`column_alignment`; the joint grid is the finer one), and the
    second does not open with a caption row. A repeated header is dropped; a row cut by the page
    break is merged back cell by cell, an empty remnant of it dropped; text-less merged cells at
    the top of the continuation (a vertical merge crossing the break) become None.
    """
    out: list[RawTable] = []
    cur: RawTable | None = None
    cur_pt: PageTable | None = None
    cur_edges: list[float] = []
    for i, t in enumerate(tables):
        prev = tables[i - 1] if i else None
        first_on_page = prev is None or prev.page != t.page
        prev_last_on_page = prev is not None and prev.page == t.page - 1
        align = None
        if (
            cur is not None
            and cur_pt is not None
            and first_on_page
            and prev_last_on_page
            and prev is cur_pt
            and t.rows
            and _meets_at_page_break(cur_pt, t)
            and not _is_title_row(t.rows[0])
        ):
            # Grids drawn from ruling lines (Camelot lattice, or OCR's rule finder) may be refined.
            ruled = cur_pt.method == t.method and t.method in RULED_METHODS
            align = column_alignment(cur_edges, max((len(r) for r in cur.rows), default=0), t, refine=ruled)
        if cur is not None and align is not None:
            edges, cur_spans, t_spans = align
            width = len(edges) - 1 if edges else len(cur_spans)
            rows = [list(r) for r in t.rows]
            # text-less merged regions touching the top continue the previous page's merge
            for region in t.top_regions:
                for r, c in region:
                    rows[r][c] = None
            notes = [f"stitched page {t.page} onto page {cur.page}"]
            if cur_spans != _identity(len(cur_spans)) or t_spans != _identity(len(t_spans)):
                cur.rows = [_respan(r, cur_spans, width) for r in cur.rows]
                rows = [_respan(r, t_spans, width) for r in rows]
                notes.append(f"columns aligned onto a {width}-column grid")
            skip = _repeated_header_rows(cur.rows, rows)
            if skip:
                rows = rows[skip:]
                notes.append(f"dropped {skip} repeated header row(s)")
            if rows and _is_cut_row(cur.rows[-1], rows[0]):
                cur.rows[-1] = [_merge_cells(a, b) for a, b in zip(cur.rows[-1], rows[0], strict=True)]
                rows = rows[1:]
                notes.append("merged a row cut by the page break")
            elif rows and _is_empty_row(rows[0]):
                rows = rows[1:]
                notes.append("dropped an empty row at the top of the page (a cut row's remnant)")
            cur.rows.extend(rows)
            assert cur.row_pages is not None
            cur.row_pages.extend([t.page] * len(rows))
            cur.method = cur.method if cur.method == t.method else f"{cur.method}+{t.method}"
            if t.confidence is not None and cur.confidence is not None:
                cur.confidence = min(cur.confidence, t.confidence)
            cur.note = _join_note(cur.note, "; ".join(notes))
            cur_pt, cur_edges = t, edges
            continue
        cur = RawTable(
            index=len(out),
            rows=[list(r) for r in t.rows],
            page=t.page,
            row_pages=[t.page] * len(t.rows),
            method=t.method,
            confidence=t.confidence,
            note=t.note,
        )
        cur_pt, cur_edges = t, list(t.col_edges)
        out.append(cur)
    for rt in out:
        if rt.row_pages and len(set(rt.row_pages)) == 1:
            rt.row_pages = None  # single-page table: page says it all
    return out
