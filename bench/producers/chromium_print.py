"""Reports as an HTML page printed to PDF by headless Chromium (what a portal's "print" gives).

Chromium repeats a table's <thead> at the top of every printed page, cuts rows by the page box
unless told not to, draws borders as filled rectangles and sets the page footer in the @page margin
box. Fonts, sizes, column widths, padding, page orientation and where the breaks fall vary by seed.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

from bench.corpus import CLOSING, ReportSpec, TableGrid, intro_paragraphs, report_title
from bench.producers import Job, ProducerLayout, chromium_path
from bench.producers.common import choose_marks, fill_prose, header_rows, marked_grids, write_truth_marked

CHROMIUM_TIMEOUT_S = 120


@dataclass(frozen=True)
class PrintStyle:
    font: str
    font_px: float
    landscape: bool
    thead: bool  # header rows in <thead>: repeated on every page
    avoid_row_break: bool
    padding_px: int
    label_pct: tuple[float, float, float]
    vertical: str  # "writing-mode" | "br" | "wrap"
    footer: str  # CSS content of @bottom-center, "" for none
    prose_paragraphs: int
    marker: str


def draw_style(rng: random.Random) -> PrintStyle:
    return PrintStyle(
        font=rng.choice(["Noto Sans CJK SC", "Noto Serif CJK SC", "SimSun, 宋体, Noto Serif CJK SC"]),
        font_px=rng.choice([12.0, 13.0, 14.0, 16.0]), landscape=rng.random() < 0.25, thead=rng.random() < 0.75,
        avoid_row_break=rng.random() < 0.5, padding_px=rng.choice([0, 2, 4, 6]),
        label_pct=(rng.uniform(5, 9), rng.uniform(8, 14), rng.uniform(12, 24)),
        vertical=rng.choice(["writing-mode", "br", "wrap"]),
        footer=rng.choice(['"— " counter(page) " —"', '"- " counter(page) " -"',
                           '"第 " counter(page) " 页 共 " counter(pages) " 页"', ""]),
        prose_paragraphs=rng.randint(0, 8), marker=rng.choice(["0", "/", "—", "无"]),
    )


def _table_html(grid: TableGrid, st: PrintStyle) -> str:
    n_head = header_rows(grid) if grid.n_cols >= 10 else 0
    if grid.n_cols == 10:
        lab = list(st.label_pct)
        widths = lab + [(100 - sum(lab)) / 7] * 7
    elif grid.n_cols == 4:
        widths = [30.0] + [70 / 3] * 3
    else:
        widths = [100 / grid.n_cols] * grid.n_cols
    out = ['<table><colgroup>' + "".join(f'<col style="width:{w:.2f}%">' for w in widths) + "</colgroup>"]
    for r in range(grid.n_rows):
        if r == 0 and n_head:
            out.append("<thead>" if st.thead else "<tbody>")
        elif r == n_head:
            out.append(("</thead>" if st.thead else "</tbody>") + "<tbody>" if n_head else "<tbody>")
        out.append("<tr>")
        for gc in (c for c in grid.cells if c.r == r):
            attrs = (f' rowspan="{gc.rowspan}"' if gc.rowspan > 1 else "") + (
                f' colspan="{gc.colspan}"' if gc.colspan > 1 else "")
            text = escape(gc.text).replace("\n", "<br>")
            cls = "v" if gc.key is not None else ("h" if gc.header else "l")
            if gc.text.startswith("三、") and gc.rowspan > 1:
                if st.vertical == "writing-mode":
                    cls += " vert"
                elif st.vertical == "br":
                    text = "<br>".join(escape(ch) for ch in gc.text)
            out.append(f'<td class="{cls}"{attrs}>{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def write_html(spec: ReportSpec, path: Path, st: PrintStyle, marks: dict, rng: random.Random) -> Path:
    size = "A4 landscape" if st.landscape else "A4"
    footer = f"@bottom-center {{ content: {st.footer}; font-size: 10pt; }}" if st.footer else ""
    css = f"""
@page {{ size: {size}; margin: 22mm 20mm 20mm 20mm; {footer} }}
body {{ font-family: {st.font}; font-size: {st.font_px}px; line-height: 1.5; }}
h1 {{ text-align: center; font-size: {st.font_px + 8}px; }}
p.b {{ text-indent: 2em; margin: 0.3em 0; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; margin: 0.4em 0 1em; }}
td {{ border: 1px solid #000; padding: {st.padding_px}px; vertical-align: middle; word-break: break-all; }}
td.v, td.h {{ text-align: center; }}
td.vert {{ writing-mode: vertical-rl; text-align: center; }}
{"tr { break-inside: avoid; }" if st.avoid_row_break else ""}
"""
    body = [f"<h1>{escape(report_title(spec))}</h1>", "<p><b>一、总体情况</b></p>"]
    body += [f'<p class="b">{escape(t)}</p>' for t in intro_paragraphs(spec, rng) + fill_prose(rng, st.prose_paragraphs)]
    for grid in marked_grids(spec, marks):
        body.append(f"<p><b>{escape(grid.title)}</b></p>")
        body.append(_table_html(grid, st))
    for head, text in CLOSING:
        body.append(f'<p><b>{escape(head)}</b></p><p class="b">{escape(text)}</p>')
    doc = (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(report_title(spec))}'
           f"</title><style>{css}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path.write_text(doc, encoding="utf-8")
    return path


def print_to_pdf(html: Path, pdf: Path) -> None:
    """headless Chromium's print, with a private profile and no browser header/footer."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="ogi-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium did not print {html}: rc={proc.returncode} {proc.stderr[-400:]}")


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    metas = []
    for job in jobs:
        rng = random.Random(job.seed)
        st = draw_style(rng)
        marks = choose_marks(job.spec, rng, marker=st.marker)
        job.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="ogi-html-") as tmp:
            html = write_html(job.spec, Path(tmp) / "report.html", st, marks, rng)
            print_to_pdf(html, job.path)
        meta = {"layout": name, "kind": layout.kind, "producer": "headless chromium --print-to-pdf",
                "style": asdict(st), "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    return metas
