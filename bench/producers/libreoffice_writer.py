"""Reports written in LibreOffice Writer itself (flat ODT), exported with soffice --convert-to pdf.

Writer's own documents carry what the docx path never produced: page styles switching to a landscape
page for table 三, header rows repeated on each continuation page (table:table-header-rows), page
footers "— 5 —" drawn inside the page, the vertical merged cell "三、本年度办理结果" as one character per
line or as vertical text, narrow label columns wrapping labels over several lines, and table 四's
header labels on two lines (结果/维持). Every knob is drawn from the document's seed.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

from bench.corpus import CLOSING, ReportSpec, TableGrid, docx_to_pdf, intro_paragraphs, report_title
from bench.producers import Job, ProducerLayout
from bench.producers.common import (
    FOOTERS,
    choose_marks,
    fill_prose,
    header_rows,
    marked_grids,
    write_truth_marked,
)


@dataclass(frozen=True)
class WriterStyle:
    """The knobs one Writer document is drawn with."""

    font: str
    font_pt: float
    landscape_s3: bool  # table 三 (and maybe 四) on landscape pages
    landscape_s4: bool
    repeat_headers: bool
    footer: str
    prose_paragraphs: int  # filler before the tables: moves where the page breaks fall
    label_cm: tuple[float, float, float]  # the three label columns of 三
    vertical: str  # 三、本年度办理结果: "chars" one per line, "wrap" natural, "tbrl" vertical writing
    s4_two_line: bool  # 四 headers written 结果<br/>维持
    padding_cm: float
    valign: str  # "middle" | "top"
    marker: str
    value_cm: float | None = None  # width of 三's value columns (None: share the page width)


def draw_style(rng: random.Random, options: dict[str, Any]) -> WriterStyle:
    """Draw the knobs; ``options`` may ask for landscape 三, and for "tight" cells (scans: narrow value
    columns, no padding, big type, so neighbouring numbers nearly touch)."""
    landscape = bool(options.get("landscape"))
    tight = bool(options.get("tight"))
    narrow = not landscape
    label = ((rng.uniform(0.7, 1.0), rng.uniform(1.0, 1.5), rng.uniform(1.5, 2.2)) if narrow else
             (rng.uniform(0.9, 1.4), rng.uniform(1.4, 2.4), rng.uniform(2.4, 4.0)))
    return WriterStyle(
        font=rng.choice(["Noto Serif CJK SC", "Noto Sans CJK SC"]),
        font_pt=rng.choice([9.0, 10.0, 10.5, 12.0] if landscape else [9.0, 10.5, 12.0]),
        landscape_s3=landscape, landscape_s4=landscape and rng.random() < 0.5,
        repeat_headers=rng.random() < 0.8, footer=rng.choice(FOOTERS[:4] + FOOTERS[5:]),
        prose_paragraphs=rng.randint(1, 9), label_cm=tuple(round(x, 2) for x in label),
        vertical=rng.choice(["chars", "wrap", "tbrl"]), s4_two_line=rng.random() < 0.6,
        padding_cm=rng.choice([0.02, 0.05, 0.1]), valign=rng.choice(["middle", "middle", "top"]),
        marker=rng.choice(["0", "/", "—", "无"]),
        value_cm=round(rng.uniform(1.05, 1.4), 2) if tight else None,
    )


_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
       'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
       'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')


def _footer_xml(fmt: str) -> str:
    parts = escape(fmt).replace("{n}", '<text:page-number text:select-page="current">1</text:page-number>')
    parts = parts.replace("{total}", "<text:page-count>1</text:page-count>")
    return f'<style:footer><text:p text:style-name="Footer">{parts}</text:p></style:footer>'


def _styles(st: WriterStyle) -> str:
    pt = st.font_pt
    page = ('<style:page-layout style:name="{name}"><style:page-layout-properties fo:page-width="{w}cm" '
            'fo:page-height="{h}cm" style:print-orientation="{o}" fo:margin-top="2.2cm" fo:margin-bottom="1.6cm" '
            'fo:margin-left="{m}cm" fo:margin-right="{m}cm"/><style:footer-style><style:header-footer-properties '
            'fo:min-height="0.6cm" fo:margin-top="0.3cm"/></style:footer-style></style:page-layout>')
    cell = ('<style:style style:name="{name}" style:family="table-cell"><style:table-cell-properties '
            'fo:padding="{pad}cm" fo:border="{border}" style:vertical-align="{va}"{extra}/></style:style>')
    border = "0.5pt solid #000000"
    out = [
        '<office:font-face-decls>',
        f'<style:font-face style:name="F1" svg:font-family="&apos;{st.font}&apos;"/>',
        '</office:font-face-decls><office:styles>',
        '<style:default-style style:family="paragraph"><style:text-properties style:font-name="F1" '
        f'style:font-name-asian="F1" fo:font-size="{pt}pt" style:font-size-asian="{pt}pt" '
        'fo:language="zh" fo:country="CN"/></style:default-style>',
        '<style:style style:name="Standard" style:family="paragraph" style:class="text"/>',
        '<style:style style:name="Footer" style:family="paragraph"><style:paragraph-properties '
        'fo:text-align="center"/></style:style>',
        '</office:styles><office:automatic-styles>',
        page.format(name="pmP", w=21.0, h=29.7, o="portrait", m=2.5),
        page.format(name="pmL", w=29.7, h=21.0, o="landscape", m=2.0),
        '<style:style style:name="Body" style:family="paragraph"><style:paragraph-properties '
        'fo:text-indent="2em" fo:margin-bottom="0.1cm"/><style:text-properties fo:font-size="12pt" '
        'style:font-size-asian="12pt"/></style:style>',
        '<style:style style:name="Head" style:family="paragraph"><style:paragraph-properties '
        'fo:margin-top="0.2cm" fo:margin-bottom="0.15cm"/><style:text-properties fo:font-size="12pt" '
        'style:font-size-asian="12pt" fo:font-weight="bold" style:font-weight-asian="bold"/></style:style>',
        '<style:style style:name="Title" style:family="paragraph"><style:paragraph-properties '
        'fo:text-align="center"/><style:text-properties fo:font-size="16pt" style:font-size-asian="16pt" '
        'fo:font-weight="bold" style:font-weight-asian="bold"/></style:style>',
        '<style:style style:name="HeadL" style:family="paragraph" style:parent-style-name="Head" '
        'style:master-page-name="Landscape"/>',
        '<style:style style:name="HeadP" style:family="paragraph" style:parent-style-name="Head" '
        'style:master-page-name="Standard"/>',
        '<style:style style:name="PC" style:family="paragraph"><style:paragraph-properties '
        'fo:text-align="center"/></style:style>',
        '<style:style style:name="PL" style:family="paragraph"><style:paragraph-properties '
        'fo:text-align="start"/></style:style>',
        cell.format(name="C", pad=st.padding_cm, border=border, va="middle", extra=""),
        cell.format(name="CV", pad=st.padding_cm, border=border, va=st.valign, extra=""),
        cell.format(name="CT", pad=st.padding_cm, border=border, va="middle", extra=' style:writing-mode="tb-rl"'),
    ]
    return "\n".join(out)


def _table_xml(grid: TableGrid, name: str, widths: list[float], st: WriterStyle) -> tuple[str, str]:
    """The table's automatic styles and its body."""
    total = sum(widths)
    out = [f'<style:style style:name="{name}" style:family="table"><style:table-properties '
           f'style:width="{total:.2f}cm" table:align="center"/></style:style>']
    for i, w in enumerate(widths):
        out.append(f'<style:style style:name="{name}.c{i}" style:family="table-column">'
                   f'<style:table-column-properties style:column-width="{w:.3f}cm"/></style:style>')
    styles = "\n".join(out)
    start = {(c.r, c.c): c for c in grid.cells}
    covered = {(r, c) for gc in grid.cells for r in range(gc.r, gc.r + gc.rowspan)
               for c in range(gc.c, gc.c + gc.colspan)} - set(start)
    n_head = header_rows(grid) if (grid.n_cols >= 10 and st.repeat_headers) else 0
    body = [f'<table:table table:name="{name}" table:style-name="{name}">']
    body += [f'<table:table-column table:style-name="{name}.c{i}"/>' for i in range(grid.n_cols)]
    for r in range(grid.n_rows):
        if r == 0 and n_head:
            body.append("<table:table-header-rows>")
        body.append("<table:table-row>")
        for c in range(grid.n_cols):
            gc = start.get((r, c))
            if gc is None:
                body.append("<table:covered-table-cell/>" if (r, c) in covered else
                            '<table:table-cell table:style-name="C"><text:p/></table:table-cell>')
                continue
            spans = ""
            if gc.rowspan > 1:
                spans += f' table:number-rows-spanned="{gc.rowspan}"'
            if gc.colspan > 1:
                spans += f' table:number-columns-spanned="{gc.colspan}"'
            text = gc.text
            style, para = ("CV", "PC") if gc.key is not None else ("C", "PC" if gc.header else "PL")
            if gc.text.startswith("三、") and gc.rowspan > 1:
                if st.vertical == "chars":
                    text = "\n".join(gc.text)
                elif st.vertical == "tbrl":
                    style = "CT"
            if grid.n_cols == 15 and st.s4_two_line and gc.r == 2 and len(text) == 4:
                text = text[:2] + "\n" + text[2:]
            lines = "<text:line-break/>".join(escape(x) for x in text.split("\n"))
            body.append(f'<table:table-cell table:style-name="{style}" office:value-type="string"{spans}>'
                        f'<text:p text:style-name="{para}">{lines}</text:p></table:table-cell>')
        body.append("</table:table-row>")
        if n_head and r == n_head - 1:
            body.append("</table:table-header-rows>")
    body.append("</table:table>")
    return styles, "\n".join(body)


def _widths(grid: TableGrid, st: WriterStyle, usable: float) -> list[float]:
    if grid.n_cols == 10:
        label = list(st.label_cm)
        return label + [st.value_cm or (usable - sum(label)) / 7] * 7
    if grid.n_cols == 4:
        return [usable * 0.3] + [usable * 0.7 / 3] * 3
    return [usable / grid.n_cols] * grid.n_cols


def write_fodt(spec: ReportSpec, path: Path, st: WriterStyle, marks: dict, rng: random.Random) -> Path:
    """The report as a flat ODT: prose, then the three tables with Writer's own page features."""
    tables_styles, body = [], []
    body.append(f'<text:p text:style-name="Title">{escape(report_title(spec))}</text:p>')
    body.append('<text:p text:style-name="Head">一、总体情况</text:p>')
    for t in intro_paragraphs(spec, rng) + fill_prose(rng, st.prose_paragraphs):
        body.append(f'<text:p text:style-name="Body">{escape(t)}</text:p>')
    portrait_w, landscape_w = 16.0, 25.7
    for i, grid in enumerate(marked_grids(spec, marks)):
        land = (grid.n_cols == 10 and st.landscape_s3) or (grid.n_cols == 15 and st.landscape_s4)
        prev_land = (i == 2 and st.landscape_s3)
        head = "HeadL" if land and not prev_land else ("HeadP" if prev_land and not land else "Head")
        body.append(f'<text:p text:style-name="{head}">{escape(grid.title)}</text:p>')
        styles, xml = _table_xml(grid, f"T{i + 2}", _widths(grid, st, landscape_w if land else portrait_w), st)
        tables_styles.append(styles)
        body.append(xml)
        body.append('<text:p text:style-name="Standard"/>')
    closing_head = "HeadP" if st.landscape_s4 else "Head"
    for j, (h, t) in enumerate(CLOSING):
        body.append(f'<text:p text:style-name="{closing_head if j == 0 else "Head"}">{escape(h)}</text:p>')
        body.append(f'<text:p text:style-name="Body">{escape(t)}</text:p>')
    footer = _footer_xml(st.footer)
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {_NS} office:version="1.3" '
           'office:mimetype="application/vnd.oasis.opendocument.text">\n'
           + _styles(st).replace("</office:automatic-styles>", "") + "\n" + "\n".join(tables_styles)
           + "\n</office:automatic-styles><office:master-styles>"
           f'<style:master-page style:name="Standard" style:page-layout-name="pmP">{footer}</style:master-page>'
           f'<style:master-page style:name="Landscape" style:page-layout-name="pmL">{footer}</style:master-page>'
           "</office:master-styles><office:body><office:text>\n" + "\n".join(body)
           + "\n</office:text></office:body></office:document>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return path


def render_pdfs(specs: list[tuple[ReportSpec, int]], outdir: Path, options: dict[str, Any],
                marker: str | None = None) -> list[tuple[Path, dict, dict]]:
    """Writer PDFs for (spec, seed) pairs in one soffice call: (pdf, style, marks) each. Used by the
    scan and pdftotext producers too, which start from a Writer PDF."""
    work = Path(tempfile.mkdtemp(prefix="ogi-fodt-", dir=outdir))
    made = []
    for spec, seed in specs:
        rng = random.Random(seed)
        st = draw_style(rng, options)
        if marker is not None:
            st = WriterStyle(**{**asdict(st), "marker": marker})
        if options.get("tight"):
            st = WriterStyle(**{**asdict(st), "padding_cm": 0.02, "font_pt": 12.0})
        marks = choose_marks(spec, rng, marker=st.marker)
        fodt = write_fodt(spec, work / f"r{seed}.fodt", st, marks, rng)
        made.append((fodt, asdict(st), marks))
    pdfs = docx_to_pdf([m[0] for m in made], work)
    return [(pdf, st, marks) for pdf, (_f, st, marks) in zip(pdfs, made, strict=True)]


def make(name: str, layout: ProducerLayout, jobs: list[Job]) -> list[dict[str, Any]]:
    if not jobs:
        return []
    outdir = jobs[0].path.parent
    outdir.mkdir(parents=True, exist_ok=True)
    rendered = render_pdfs([(j.spec, j.seed) for j in jobs], outdir, layout.options)
    metas = []
    for job, (pdf, st, marks) in zip(jobs, rendered, strict=True):
        pdf.replace(job.path)
        meta = {"layout": name, "kind": layout.kind, "producer": "libreoffice-writer (fodt → soffice pdf)",
                "style": st, "document": job.path.name}
        write_truth_marked(job.spec, job.truth_path, meta, marks)
        metas.append(meta)
    for leftover in outdir.glob("ogi-fodt-*"):
        for f in leftover.iterdir():
            f.unlink()
        leftover.rmdir()
    return metas
