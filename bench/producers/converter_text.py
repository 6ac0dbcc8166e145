"""Reports that reach us as text made from their PDF by a converter (MinerU, marker, docling,
``pdftotext -layout``).

The markdown converters rebuild tables from the PDF's visual lines, and fail in the ways seen on
real output: a label wrapped over lines becomes rows of its own, its numbers on the line where the
PDF centred them ("labels split from their numbers"); header words are cut across rows (商业企 / 业);
a table cut by a page break comes out as two tables with the page footer between them, or with the
footer as a row inside the table; repeated header rows come along. The flavours differ the way the
tools do: MinerU writes HTML <table> with spans, marker pipe tables with merged cells left empty and
<br> in cells, docling pipe tables padded to width with a spanning cell's text repeated in every
position it covers. ``pdftotext -layout`` is actually run on a Writer or WPS-like PDF.
"""

from __future__ import annotations

import copy
import random
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

from bench.corpus import CLOSING, Key, ReportSpec, TableGrid, intro_paragraphs, report_title
from bench.producers import Job, ProducerLayout
from bench.producers.common import FOOTERS, choose_marks, header_rows, marked_grids, wrap, write_truth_marked

PDFTOTEXT_TIMEOUT_S = 60


@dataclass(frozen=True)
class ConverterStyle:
    label_em: tuple[float, float, float]  # widths of 三's label columns in the source PDF, in em
    value_em: float  # width of a value column (header words wrap at it)
    split_share: float  # share of wrapped label rows the converter cut into rows of their own
    value_line: str  # where the numbers were on a wrapped row: "top" | "middle" | "bottom"
    cut_headers: bool  # header rows cut into one row per line
    page_cut_s3: int  # table 三 row (after its header) where the page broke
    repeat_headers: bool
    footer: str
    marker: str


def draw_style(rng: random.Random, flavour: str) -> ConverterStyle:
    return ConverterStyle(
        label_em=(rng.uniform(2, 5), rng.uniform(4, 7), rng.uniform(6, 11)), value_em=rng.choice([2.0, 3.0, 4.0]),
        split_share=rng.choice([0.3, 0.7, 1.0]), value_line=rng.choice(["top", "middle", "middle", "bottom"]),
        cut_headers=flavour == "docling" or rng.random() < 0.4, page_cut_s3=rng.randint(6, 20),
        repeat_headers=rng.random() < 0.5, footer=rng.choice(FOOTERS[:5]), marker=rng.choice(["0", "/", "—", "无"]),
    )


# ----------------------------------------------------------------------------- grid surgery


def explode_row(grid: TableGrid, r: int, texts: dict[tuple[int, int], list[str]], value_line: str) -> TableGrid:
    """Row ``r`` cut into one row per visual line, as a converter reading lines does: each one-row
    cell's lines go one per new row, value cells to the line where the PDF set them; cells spanning
    the row grow with it; empty positions get empty cells."""
    k = max(len(texts.get((c.r, c.c), [c.text])) for c in grid.cells if c.r == r and c.rowspan == 1)
    if k <= 1:
        return grid
    at = {"top": 0, "middle": (k - 1) // 2, "bottom": k - 1}[value_line]
    out = TableGrid(n_cols=grid.n_cols, title=grid.title)
    for c in grid.cells:
        if c.r > r:
            out.add(c.r + k - 1, c.c, c.text, c.rowspan, c.colspan, c.key, c.header)
        elif c.r < r <= c.r + c.rowspan - 1 or (c.r == r and c.rowspan > 1):
            out.add(c.r, c.c, c.text, c.rowspan + k - 1, c.colspan, c.key, c.header)
        elif c.r < r:
            out.add(c.r, c.c, c.text, c.rowspan, c.colspan, c.key, c.header)
        else:  # a one-row cell of the exploded row
            lines = [c.text] if c.key is not None else texts.get((c.r, c.c), [c.text])
            for i in range(k):
                if c.key is not None:
                    text, key = (c.text, c.key) if i == at else ("", None)
                else:
                    text, key = (lines[i] if i < len(lines) else ""), None
                out.add(r + i, c.c, text, 1, c.colspan, key, c.header)
    return out


def cut_grid(grid: TableGrid, k: int, repeat: int) -> tuple[TableGrid, TableGrid]:
    """The grid cut before row ``k`` (a page break): spans truncated above, continued (empty) below;
    the first ``repeat`` rows are repeated on top of the second part."""
    top = TableGrid(n_cols=grid.n_cols, title=grid.title)
    bottom = TableGrid(n_cols=grid.n_cols, title="")
    for c in grid.cells:
        if c.r < repeat:
            bottom.add(c.r, c.c, c.text, c.rowspan, c.colspan, None, c.header)
    for c in grid.cells:
        end = c.r + c.rowspan
        if end <= k:
            top.add(c.r, c.c, c.text, c.rowspan, c.colspan, c.key, c.header)
        elif c.r >= k:
            bottom.add(c.r - k + repeat, c.c, c.text, c.rowspan, c.colspan, c.key, c.header)
        else:
            top.add(c.r, c.c, c.text, k - c.r, c.colspan, c.key, c.header)
            bottom.add(repeat, c.c, "", end - k, c.colspan, None, c.header)
    return top, bottom


def converted_grids(spec: ReportSpec, marks: dict[Key, str], st: ConverterStyle, rng: random.Random,
                    flavour: str) -> list[list[TableGrid | str]]:
    """Per template table, the pieces a converter emits: grids and footer lines between them."""
    out: list[list[TableGrid | str]] = []
    for grid in marked_grids(spec, marks):
        grid = copy.deepcopy(grid)
        n_head = header_rows(grid) if grid.n_cols >= 10 else 0
        widths = (list(st.label_em) + [st.value_em] * 7) if grid.n_cols == 10 else (
            [st.label_em[2] * 1.3] + [st.value_em * 2.5] * 3 if grid.n_cols == 4 else [st.value_em / 1.5] * 15)
        rows = list(range(grid.n_rows))
        for r in reversed(rows):
            texts = {}
            for c in grid.cells:
                if c.r == r and c.key is None and c.rowspan == 1:
                    texts[(c.r, c.c)] = wrap(c.text, sum(widths[c.c:c.c + c.colspan]))
            wrapped = any(len(v) > 1 for v in texts.values())
            is_head = r < n_head or grid.n_cols == 15 and r < 3
            if wrapped and ((is_head and st.cut_headers) or (not is_head and rng.random() < st.split_share)):
                before = grid.n_rows
                grid = explode_row(grid, r, texts, st.value_line)
                n_head += (grid.n_rows - before) if r < n_head else 0
        if grid.n_cols == 10:
            k = min(grid.n_rows - 1, n_head + st.page_cut_s3)
            top, bottom = cut_grid(grid, k, n_head if st.repeat_headers else 0)
            footer = st.footer.format(n=rng.randint(2, 4), total=6)
            if flavour == "marker":  # the footer stays inside the table, as a row of its own
                joined = copy.deepcopy(top)
                joined.add(top.n_rows, 0, footer, colspan=grid.n_cols)
                for c in bottom.cells:
                    joined.add(c.r + top.n_rows + 1, c.c, c.text, c.rowspan, c.colspan, c.key, c.header)
                out.append([joined])
            else:
                out.append([top, footer, bottom])
        else:
            out.append([grid])
    return out


# ----------------------------------------------------------------------------- rendering


def dense(grid: TableGrid, repeat_spans: bool) -> list[list[str]]:
    """The grid as rows of strings: a spanning cell's text in its first position only (marker) or
    in every position it covers (docling)."""
    rows = [[""] * grid.n_cols for _ in range(grid.n_rows)]
    for c in grid.cells:
        for r in range(c.r, c.r + c.rowspan):
            for cc in range(c.c, c.c + c.colspan):
                if repeat_spans or (r, cc) == (c.r, c.c):
                    rows[r][cc] = c.text
    return rows


def pipe_table(rows: list[list[str]], pad: bool) -> str:
    cells = [[x.replace("\n", "<br>" if not pad else " ").replace("|", "\\|") for x in row] for row in rows]
    if pad:
        from bench.producers.common import text_em

        widths = [max(3, *(int(text_em(r[i]) * 2 + 0.5) for r in cells)) for i in range(len(cells[0]))]

        def fmt(x: str, w: int) -> str:
            return x + " " * max(0, w - int(text_em(x) * 2 + 0.5))

        lines = ["| " + " | ".join(fmt(x, w) for x, w in zip(r, widths, strict=True)) + " |" for r in cells]
        sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    else:
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        sep = "|" + "|".join(["---"] * len(cells[0])) + "|"
    return "\n".join([lines[0], sep, *lines[1:]])


def html_table(grid: TableGrid) -> str:
    parts = ["<table>"]
    for r in range(grid.n_rows):
        parts.append("<tr>")
        for c in sorted((c for c in grid.cells if c.r == r), key=lambda c: c.c):
            attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                f' colspan="{c.colspan}"' if c.colspan > 1 else "")
            parts.append(f"<td{attrs}>{escape(c.text).replace(chr(10), '<br>')}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def write_markdown(spec: ReportSpec, path: Path, flavour: str, st: ConverterStyle, marks: dict[Key, str],
                   rng: random.Random) -> None:
    h1, h2 = {"mineru": ("# ", "# "), "marker": ("# ", "## "), "docling": ("## ", "## ")}[flavour]
    out = [h1 + report_title(spec), "", h2 + "一、总体情况", ""]
    for t in intro_paragraphs(spec, rng):
        out += [t, ""]
    for grid, pieces in zip(marked_grids(spec, marks), converted_grids(spec, marks, st, rng, flavour), strict=True):
        out += [h2 + grid.title if flavour != "marker" else f"**{grid.title}**", ""]
        for piece in pieces:
            if isinstance(piece, str):
                out += [piece, ""]
            elif flavour == "mineru":
                out += [html_table(piece), ""]
            else:
                out += [pipe_table(dense(piece, repeat_spans=flavour == "docling"), pad=flavour == "docling"), ""]
        if flavour == "docling":
            out += ["<!-- image -->", ""] if rng.random() < 0.2 else []
    for head, text in CLOSING:
        out += [h2 + head, "", text, ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def pdftotext_layout(pdf: Path, out: Path) -> None:
    proc = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), str(out)], capture_output=True,
                          text=True, timeout=PDFTOTEXT_TIMEOUT_S)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"pdftotext failed on {pdf}: rc={proc.returncode} {proc.stderr[-300:]}")


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    flavour = layout.options["flavour"]
    metas = []
    if flavour == "pdftotext":
        return _make_pdftotext(name, layout, jobs)
    for job in jobs:
        rng = random.Random(job.seed)
        st = draw_style(rng, flavour)
        marks = choose_marks(job.spec, rng, marker=st.marker)
        write_markdown(job.spec, job.path, flavour, st, marks, rng)
        meta = {"layout": name, "kind": layout.kind, "producer": f"{flavour}-style markdown from the PDF",
                "style": asdict(st), "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    return metas


def _make_pdftotext(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    """pdftotext -layout on the source producer's PDF (Writer by default, or WPS-like)."""
    if not jobs:
        return []
    source = layout.options.get("source", "libreoffice_writer")
    outdir = jobs[0].path.parent
    outdir.mkdir(parents=True, exist_ok=True)
    metas = []
    with tempfile.TemporaryDirectory(prefix="ogi-pdftotext-", dir=outdir) as tmp:
        if source == "wps_like":
            from bench.producers.wps_like import render

            rendered = []
            for j in jobs:
                pdf = Path(tmp) / f"{j.doc_id}.pdf"
                st, marks = render(j.spec, pdf, j.seed)
                rendered.append((pdf, st, marks))
        else:
            from bench.producers.libreoffice_writer import render_pdfs

            rendered = render_pdfs([(j.spec, j.seed) for j in jobs], Path(tmp), {"landscape": False})
        for job, (pdf, st, marks) in zip(jobs, rendered, strict=True):
            pdftotext_layout(pdf, job.path)
            meta = {"layout": name, "kind": layout.kind, "producer": f"pdftotext -layout on a {source} PDF",
                    "style": st, "document": job.path.name}
            write_truth_marked(job.spec, job.truth_path, meta, marks)
            metas.append(meta)
    return metas

