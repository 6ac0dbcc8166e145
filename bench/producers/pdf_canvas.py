"""A small page-layout engine on a reportlab canvas, for producers that draw PDFs themselves.

Typesetting systems and WPS do not go through a word processor's table model: they place every
line of text and every rule at computed positions. Drawing the template grids that way (our own line
wrapping, row heights, page breaks that cut merged cells, rules or none) reproduces what their PDFs
look like to an extractor: glyphs at positions, rectangles and lines, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.corpus import TableGrid
from bench.producers.common import footer_text, header_rows

A4 = (595.28, 841.89)


@dataclass(frozen=True)
class CanvasStyle:
    """How one drawn document looks (fonts are reportlab font names, registered by the caller)."""

    font: str
    num_font: str  # digits (and ASCII) in this font: typesetting systems often use a Latin face
    size: float  # table text
    body_size: float
    leading: float  # line height as a multiple of the size
    pad: float  # cell padding, pt
    rules: str  # "all" | "none" | "three_line" (三线表) — for table 三; 二 and 四 follow rules_other
    rules_other: str
    rule_width: float
    fill_cells: bool  # every cell painted as a white rectangle before the rules (as WPS does)
    justify: bool  # wrapped lines spread to the cell width, character by character (WPS)
    valign: str  # value cells: "middle" | "top" | "bottom"
    num_align: str  # "center" | "right" | "left"
    repeat_headers: bool
    footer: str  # e.g. "— {n} —"
    landscape_s3: bool
    prose_paragraphs: int
    s3_label_pt: tuple[float, float, float]
    s3_value_pt: float  # width of each of the seven value columns
    margin: float = 72.0
    distribute: bool = False  # labels set in distributed alignment (分散对齐): every line spread to the width


class Flow:
    """Text and tables flowed down pages, with the page footer drawn on each page."""

    def __init__(self, canvas, st: CanvasStyle) -> None:
        self.c, self.st = canvas, st
        self.page = 1
        self.size = A4
        self.y = self.top

    @property
    def top(self) -> float:
        return self.size[1] - self.st.margin

    @property
    def bottom(self) -> float:
        return self.st.margin * 0.9

    @property
    def left(self) -> float:
        return self.st.margin * 0.95

    @property
    def width(self) -> float:
        return self.size[0] - 2 * self.left

    def new_page(self, size: tuple[float, float] | None = None) -> None:
        self._footer()
        self.c.showPage()
        self.page += 1
        if size is not None and size != self.size:
            self.size = size
        self.c.setPageSize(self.size)
        self.y = self.top

    def finish(self) -> None:
        self._footer()
        self.c.save()

    def _footer(self) -> None:
        if self.st.footer:
            text = footer_text(self.st.footer, self.page, 0)
            w = self.text_width(text, self.st.body_size * 0.8)
            self.draw_text(text, (self.size[0] - w) / 2, self.st.margin * 0.45, self.st.body_size * 0.8)

    # ------------------------------------------------------------------ text

    def _runs(self, text: str) -> list[tuple[str, str]]:
        runs: list[tuple[str, str]] = []
        for ch in text:
            font = self.st.num_font if ch.isascii() else self.st.font
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + ch)
            else:
                runs.append((font, ch))
        return runs

    def text_width(self, text: str, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(t, f, size) for f, t in self._runs(text))

    def draw_text(self, text: str, x: float, y: float, size: float, spread: float = 0.0) -> None:
        """Draw at baseline y; ``spread`` > 0 places characters one by one with that extra gap."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        if spread:
            for ch in text:
                font = self.st.num_font if ch.isascii() else self.st.font
                self.c.setFont(font, size)
                self.c.drawString(x, y, ch)
                x += stringWidth(ch, font, size) + spread
            return
        for font, t in self._runs(text):
            self.c.setFont(font, size)
            self.c.drawString(x, y, t)
            x += stringWidth(t, font, size)

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        from bench.producers.common import _NO_LINE_START

        lines: list[str] = []
        for para in text.split("\n"):
            line = ""
            for ch in para:
                if line and self.text_width(line + ch, size) > width and ch not in _NO_LINE_START:
                    lines.append(line)
                    line = ""
                line += ch
            lines.append(line)
        return lines

    def paragraph(self, text: str, size: float | None = None, indent: bool = True, center: bool = False) -> None:
        size = size or self.st.body_size
        lead = size * 1.6
        prefix = "\u3000\u3000" if indent else ""
        for line in self.wrap(prefix + text, self.width, size):
            if self.y - lead < self.bottom:
                self.new_page()
            self.y -= lead
            x = self.left + ((self.width - self.text_width(line, size)) / 2 if center else 0)
            self.draw_text(line, x, self.y + size * 0.3, size)

    # ------------------------------------------------------------------ tables

    def table(self, grid: TableGrid, widths: list[float], rules: str,
              line_mode: Callable[[str, int], str | None] | None = None) -> None:
        """Lay the grid out (wrap, row heights, page breaks that cut merged cells) and draw it.
        ``line_mode(text, rowspan)`` may return "chars" to set a cell one character per line."""
        st, size = self.st, self.st.size
        lead = size * st.leading
        x0 = self.left + max(0.0, (self.width - sum(widths)) / 2)
        xs = [x0]
        for w in widths:
            xs.append(xs[-1] + w)
        lines: dict[tuple[int, int], list[str]] = {}
        for gc in grid.cells:
            avail = xs[gc.c + gc.colspan] - xs[gc.c] - 2 * st.pad
            mode = line_mode(gc.text, gc.rowspan) if line_mode else None
            lines[(gc.r, gc.c)] = list(gc.text.replace("\n", "")) if mode == "chars" else \
                self.wrap(gc.text, avail, size)
        heights = [lead + 2 * st.pad] * grid.n_rows
        for gc in sorted(grid.cells, key=lambda g: g.rowspan):
            need = len(lines[(gc.r, gc.c)]) * lead + 2 * st.pad
            have = sum(heights[gc.r:gc.r + gc.rowspan])
            if need > have:
                heights[gc.r + gc.rowspan - 1] += need - have
        n_head = header_rows(grid) if grid.n_cols >= 10 else 0
        # pagination: (page index within this table, top y) per row; header rows repeated if asked
        pages: list[list[int]] = [[]]
        tops: dict[tuple[int, int], float] = {}
        y = self.y
        for r in range(grid.n_rows):
            if y - heights[r] < self.bottom and pages[-1] and r >= n_head:
                pages.append([])
                y = self.top
                if st.repeat_headers and n_head:
                    for hr in range(n_head):
                        pages[-1].append(hr)
                        tops[(len(pages) - 1, hr)] = y
                        y -= heights[hr]
            pages[-1].append(r)
            tops[(len(pages) - 1, r)] = y
            y -= heights[r]
        for pi, rows in enumerate(pages):
            if pi:
                self.new_page()
            self._draw_page(grid, pi, rows, tops, heights, xs, lines, rules, n_head)
        self.y = y - 6

    def _draw_page(self, grid: TableGrid, pi: int, rows: list[int], tops: dict, heights: list[float],
                   xs: list[float], lines: dict, rules: str, n_head: int) -> None:
        st, size, c = self.st, self.st.size, self.c
        lead = size * st.leading
        on_page = set(rows)
        segs = []  # each cell's part on this page: (cell, top, bottom, whether its text is here)
        for gc in grid.cells:
            span = [r for r in range(gc.r, gc.r + gc.rowspan) if r in on_page]
            if span:
                top = tops[(pi, span[0])]
                segs.append((gc, top, tops[(pi, span[-1])] - heights[span[-1]], gc.r in on_page))
        if st.fill_cells:
            c.setFillColorRGB(1, 1, 1)
            for gc, top, bottom, _ in segs:
                c.rect(xs[gc.c], bottom, xs[gc.c + gc.colspan] - xs[gc.c], top - bottom, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
        c.setLineWidth(st.rule_width)
        if rules == "all":
            for gc, top, bottom, _ in segs:
                x1, x2 = xs[gc.c], xs[gc.c + gc.colspan]
                c.lines([(x1, top, x2, top), (x1, bottom, x2, bottom), (x1, top, x1, bottom), (x2, top, x2, bottom)])
        elif rules == "three_line":
            page_top = max(top for _, top, _, _ in segs)
            page_bottom = min(bottom for _, _, bottom, _ in segs)
            c.setLineWidth(1.2)
            c.line(xs[0], page_top, xs[-1], page_top)
            c.line(xs[0], page_bottom, xs[-1], page_bottom)
            if n_head and any(r < n_head for r in rows):
                head_bottom = tops[(pi, n_head - 1)] - heights[n_head - 1]
                c.setLineWidth(0.6)
                c.line(xs[0], head_bottom, xs[-1], head_bottom)
        for gc, top, bottom, text_here in segs:
            if not text_here:
                continue
            ls = lines[(gc.r, gc.c)]
            avail = xs[gc.c + gc.colspan] - xs[gc.c] - 2 * st.pad
            block = len(ls) * lead
            if gc.key is not None and st.valign == "top":
                y = top - st.pad - size * 0.88
            elif gc.key is not None and st.valign == "bottom":
                y = bottom + st.pad + block - size * 0.88 - (lead - size)
            else:
                y = top - (top - bottom - block) / 2 - size * 0.88 - (lead - size) / 2
            for li, line in enumerate(ls):
                w = self.text_width(line, size)
                spread = 0.0
                if gc.key is not None:
                    x = {"right": xs[gc.c + gc.colspan] - st.pad - w, "left": xs[gc.c] + st.pad}.get(
                        st.num_align, xs[gc.c] + (xs[gc.c + gc.colspan] - xs[gc.c] - w) / 2)
                elif gc.header or len(ls) > 1 and all(len(x) <= 2 for x in ls):
                    x = xs[gc.c] + (xs[gc.c + gc.colspan] - xs[gc.c] - w) / 2
                else:
                    x = xs[gc.c] + st.pad
                    if (st.distribute or st.justify and li < len(ls) - 1) and len(line) > 1:
                        spread = max(0.0, (avail - w) / (len(line) - 1))
                self.draw_text(line, x, y, size, spread)
                y -= lead


def _s3_line_mode(vertical_chars: bool) -> Callable[[str, int], str | None]:
    def mode(text: str, rowspan: int) -> str | None:
        return "chars" if vertical_chars and text.startswith("三、") and rowspan > 1 else None

    return mode


def draw_report(spec, path, st: CanvasStyle, marks: dict, rng, *, vertical_chars: bool = False,
                title: str = "") -> None:
    """The whole report on a reportlab canvas: title, prose, the three tables, closing sections."""
    from reportlab.pdfgen.canvas import Canvas

    from bench.corpus import CLOSING, intro_paragraphs, report_title
    from bench.producers.common import fill_prose, marked_grids

    path.parent.mkdir(parents=True, exist_ok=True)
    c = Canvas(str(path), pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(title or report_title(spec))
    flow = Flow(c, st)
    flow.paragraph(report_title(spec), size=st.body_size + 4, indent=False, center=True)
    flow.paragraph("一、总体情况", indent=False)
    for t in intro_paragraphs(spec, rng) + fill_prose(rng, st.prose_paragraphs):
        flow.paragraph(t)
    for grid in marked_grids(spec, marks):
        if grid.n_cols == 10 and st.landscape_s3:
            flow.new_page((A4[1], A4[0]))
        elif grid.n_cols == 15 and st.landscape_s3:
            flow.new_page(A4)
        flow.paragraph(grid.title, indent=False)
        flow.y -= 4
        if grid.n_cols == 10:
            label = list(st.s3_label_pt)
            widths = label + [st.s3_value_pt] * 7
            flow.table(grid, widths, st.rules, _s3_line_mode(vertical_chars))
        elif grid.n_cols == 4:
            w = min(flow.width, sum(st.s3_label_pt) + 7 * st.s3_value_pt)
            flow.table(grid, [w * 0.3] + [w * 0.7 / 3] * 3, st.rules_other)
        else:
            w = min(flow.width, sum(st.s3_label_pt) + 7 * st.s3_value_pt)
            flow.table(grid, [w / 15] * 15, st.rules_other)
    for head, text in CLOSING:
        flow.paragraph(head, indent=False)
        flow.paragraph(text)
    flow.finish()
