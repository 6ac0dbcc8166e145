"""Realistic synthetic annual reports: a pure-data report spec, rendered in the layouts agencies use.

The benchmark and the demo sites need documents whose every cell value is known. A ``ReportSpec``
holds the numbers of tables 二/三/四 keyed by the codebook's canonical codes; they satisfy the
template's accounting identities unless an error is planted on purpose (and recorded). The spec is
laid out once as neutral table grids (``TableGrid``: text cells with rowspan/colspan, exactly like the
official template), and each renderer (docx, xlsx, GBK HTML; PDF via LibreOffice; scans via pypdfium2)
draws those grids. Everything is deterministic from a seed. LibreOffice is needed only to *make*
PDFs, never at run time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from html import escape
from pathlib import Path

from bench import producers
from bench.producers import PRODUCER_LAYOUTS
from ogi.core.config import DATA_DIR

CODEBOOK_PATH = DATA_DIR / "codebook.csv"
SOFFICE_TIMEOUT_S = 180
CORPUS_VERSION = 2  # bump when generate_corpus output changes: bench/run.py then regenerates

Key = tuple[str, str, str]  # (section, row_code, col_code)

# ----------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Code:
    code: str
    section: str
    axis: str
    parent: str | None
    order: int
    label_zh: str
    versions: tuple[str, ...]
    signed: bool


@cache
def codebook() -> dict[str, Code]:
    """data/codebook.csv by code, in file order."""
    out: dict[str, Code] = {}
    with CODEBOOK_PATH.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[r["code"]] = Code(
                r["code"], r["section"], r["axis"], r["parent"] or None, int(r["order"]), r["label_zh"],
                tuple(r["versions"].split("|")), r["signed"].strip().lower() == "true",
            )
    return out


def label(code: str, version: str) -> str:
    """The official label of a code in a template version (2019 says 规范性文件, 2021 行政规范性文件)."""
    if code == "s2.normative_docs" and version == "2019":
        return "规范性文件"
    return codebook()[code].label_zh


def children(code: str, version: str) -> list[str]:
    kids = [c for c in codebook().values() if c.parent == code and version in c.versions]
    return [c.code for c in sorted(kids, key=lambda c: c.order)]


# 二、主动公开: the sub-tables of each version (item title, row codes, column codes). The grid of these
# sub-tables is not in the codebook, which only knows codes; this is the generator's own layout.
S2_ITEMS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "2019": [
        ("第二十条第（一）项", ["s2.rules", "s2.normative_docs"], ["s2c.made", "s2c.published", "s2c.total_published"]),
        ("第二十条第（五）项", ["s2.licensing", "s2.other_services"], ["s2c.prev_items", "s2c.change", "s2c.decisions"]),
        ("第二十条第（六）项", ["s2.penalty", "s2.coercion"], ["s2c.prev_items", "s2c.change", "s2c.decisions"]),
        ("第二十条第（八）项", ["s2.fees"], ["s2c.prev_items", "s2c.change"]),
        ("第二十条第（九）项", ["s2.procurement"], ["s2c.procurement_items", "s2c.procurement_amount"]),
    ],
    "2021": [
        ("第二十条第（一）项", ["s2.rules", "s2.normative_docs"], ["s2c.issued", "s2c.repealed", "s2c.in_force"]),
        ("第二十条第（五）项", ["s2.licensing"], ["s2c.decisions_year"]),
        ("第二十条第（六）项", ["s2.penalty", "s2.coercion"], ["s2c.decisions_year"]),
        ("第二十条第（八）项", ["s2.fees"], ["s2c.fee_amount"]),
    ],
}
S3_COLS = ["s3c.natural_person", "s3c.commercial", "s3c.research", "s3c.nonprofit", "s3c.legal_service",
           "s3c.other_org", "s3c.total"]
S3_APPLICANTS = S3_COLS[:-1]
S4_BLOCKS = ["s4c.review", "s4c.suit_direct", "s4c.suit_after_review"]
S4_LEAVES = ["upheld", "corrected", "other", "pending"]
S4_COLS = [f"{b}.{leaf}" for b in S4_BLOCKS for leaf in [*S4_LEAVES, "total"]]
CN_NUM = "一二三四五六七八九十"


def s3_value_rows(version: str) -> list[str]:
    """The 三 rows that carry values, in template order (group rows like （三）不予公开 carry none)."""
    rows = ["s3.new", "s3.carried_in"]
    for child in children("s3.results", version):
        kids = children(child, version)
        rows.extend(kids if kids else [child])
    rows.append("s3.carried_out")
    return rows


def s3_outcome_leaves(version: str) -> list[str]:
    return [r for r in s3_value_rows(version) if r not in ("s3.new", "s3.carried_in", "s3.carried_out", "s3.total")]


def template_keys(version: str) -> list[Key]:
    """Every value cell of tables 二/三/四 of a template version, in reading order."""
    keys: list[Key] = []
    for _title, rows, cols in S2_ITEMS[version]:
        keys += [("s2", r, c) for r in rows for c in cols]
    keys += [("s3", r, c) for r in s3_value_rows(version) for c in S3_COLS]
    keys += [("s4", "s4.cases", c) for c in S4_COLS]
    return keys


# ----------------------------------------------------------------------------- the spec


@dataclass
class ReportSpec:
    """One report as pure data: who, which year, which template, and every cell value."""

    agency: str
    year: int
    version: str  # "2019" | "2021"
    values: dict[Key, float]
    seed: int
    planted: list[dict] = field(default_factory=list)  # errors put in on purpose: kind, cell, delta

    def truth_rows(self) -> list[dict]:
        out = []
        for key in template_keys(self.version):
            v = self.values[key]
            out.append({
                "section": key[0], "row_code": key[1], "col_code": key[2], "value": format_number(v),
                "value_status": "zero" if v == 0 else "number",
            })
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["values"] = {"|".join(k): v for k, v in self.values.items()}
        return d


def format_number(v: float) -> str:
    """How a cell prints a number: integers without decimals, amounts as written (no float noise)."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _s2_values(rng: random.Random, version: str, scale: int) -> dict[Key, float]:
    v: dict[Key, float] = {}
    if version == "2019":
        for row in ("s2.rules", "s2.normative_docs"):
            made = 0 if (row == "s2.rules" and rng.random() < 0.7) else rng.randint(0, 6 * scale)
            pub = rng.randint(0, made)
            v[("s2", row, "s2c.made")] = made
            v[("s2", row, "s2c.published")] = pub
            v[("s2", row, "s2c.total_published")] = made + rng.randint(0, 40 * scale)
        for row in ("s2.licensing", "s2.other_services", "s2.penalty", "s2.coercion"):
            prev = rng.randint(0, 120)
            v[("s2", row, "s2c.prev_items")] = prev
            v[("s2", row, "s2c.change")] = rng.randint(-min(prev, 15), 15)
            v[("s2", row, "s2c.decisions")] = rng.randint(0, 900 * scale)
        prev = rng.randint(0, 30)
        v[("s2", "s2.fees", "s2c.prev_items")] = prev
        v[("s2", "s2.fees", "s2c.change")] = rng.randint(-min(prev, 5), 5)
        v[("s2", "s2.procurement", "s2c.procurement_items")] = rng.randint(0, 80)
        v[("s2", "s2.procurement", "s2c.procurement_amount")] = round(rng.uniform(0, 9000 * scale), 2)
    else:
        for row in ("s2.rules", "s2.normative_docs"):
            issued = 0 if (row == "s2.rules" and rng.random() < 0.7) else rng.randint(0, 6 * scale)
            v[("s2", row, "s2c.issued")] = issued
            v[("s2", row, "s2c.repealed")] = rng.randint(0, 3)
            v[("s2", row, "s2c.in_force")] = issued + rng.randint(0, 60 * scale)
        for row in ("s2.licensing", "s2.penalty", "s2.coercion"):
            v[("s2", row, "s2c.decisions_year")] = rng.randint(0, 1500 * scale)
        v[("s2", "s2.fees", "s2c.fee_amount")] = round(rng.uniform(0, 3000 * scale), rng.choice([0, 2, 4, 6]))
    return v


def _s3_values(rng: random.Random, version: str, scale: int) -> dict[Key, float]:
    v: dict[Key, float] = {}
    leaves = s3_outcome_leaves(version)
    weights = {"s3.granted": 8, "s3.partial": 2, "s3.unable.not_held": 4, "s3.not_processed.petition": 1,
               "s3.refused.third_party": 1, "s3.not_processed.repeat": 1}
    for col in S3_APPLICANTS:
        busy = scale * (10 if col == "s3c.natural_person" else 1)
        active = col == "s3c.natural_person" or rng.random() < 0.6
        for leaf in leaves:
            w = weights.get(leaf, 0.2)
            n = rng.randint(0, max(0, round(busy * w / 4))) if active else 0
            if rng.random() < 0.5 and w < 1:
                n = 0
            v[("s3", leaf, col)] = n
        total = sum(v[("s3", leaf, col)] for leaf in leaves)
        carried_in = rng.randint(0, min(total, 3)) if active else 0
        carried_out = rng.randint(0, 3) if active and rng.random() < 0.5 else 0
        v[("s3", "s3.total", col)] = total
        v[("s3", "s3.carried_in", col)] = carried_in
        v[("s3", "s3.carried_out", col)] = carried_out
        v[("s3", "s3.new", col)] = total + carried_out - carried_in
    for row in s3_value_rows(version):
        v[("s3", row, "s3c.total")] = sum(v[("s3", row, c)] for c in S3_APPLICANTS)
    return v


def _s4_values(rng: random.Random, scale: int) -> dict[Key, float]:
    v: dict[Key, float] = {}
    for block in S4_BLOCKS:
        parts = [rng.randint(0, 2 * scale) if rng.random() < 0.5 else 0 for _ in S4_LEAVES]
        for leaf, n in zip(S4_LEAVES, parts, strict=True):
            v[("s4", "s4.cases", f"{block}.{leaf}")] = n
        v[("s4", "s4.cases", f"{block}.total")] = sum(parts)
    return v


PLANT_KINDS = ("s3_balance", "s3_outcome_sum", "s3_row_sum", "s4_block_total")


def make_spec(seed: int, *, agency: str = "某县人民政府", year: int = 2024, version: str | None = None,
              plant: str | None = None, scale: int | None = None) -> ReportSpec:
    """A report spec whose numbers satisfy every identity, unless ``plant`` names an error to put in."""
    rng = random.Random(seed)
    version = version or ("2019" if year <= 2020 else "2021")
    if version not in S2_ITEMS:
        raise ValueError(f"unknown template version {version!r}")
    scale = scale or rng.choice([1, 2, 5, 20])
    values = {**_s2_values(rng, version, scale), **_s3_values(rng, version, scale), **_s4_values(rng, scale)}
    values = {k: values[k] for k in template_keys(version)}
    spec = ReportSpec(agency=agency, year=year, version=version, values=values, seed=seed)
    if plant:
        plant_error(spec, plant, rng)
    return spec


def plant_error(spec: ReportSpec, kind: str, rng: random.Random) -> None:
    """Break exactly one identity family on purpose and record the cell(s) changed."""
    delta = rng.choice([1, 2, 3, 5, 10])
    if kind == "s3_balance":  # 一 wrong in 自然人 and 总计: 一+二 ≠ (七)+四 (row sums still hold)
        cells = [("s3", "s3.new", "s3c.natural_person"), ("s3", "s3.new", "s3c.total")]
    elif kind == "s3_outcome_sum":  # (七) wrong: ≠ sum of leaves, and the balance fails with it
        cells = [("s3", "s3.total", "s3c.natural_person"), ("s3", "s3.total", "s3c.total")]
    elif kind == "s3_row_sum":  # 总计 column of 予以公开 ≠ sum of the applicant columns
        cells = [("s3", "s3.granted", "s3c.total")]
    elif kind == "s4_block_total":  # 行政复议 总计 ≠ sum of its four results
        cells = [("s4", "s4.cases", "s4c.review.total")]
    else:
        raise ValueError(f"unknown planted error kind {kind!r}; one of {PLANT_KINDS}")
    for cell in cells:
        spec.values[cell] += delta
    spec.planted.append({"kind": kind, "cells": ["|".join(c) for c in cells], "delta": delta,
                         "fails": failed_identities(spec)})


def failed_identities(spec: ReportSpec) -> list[str]:
    """The hard identities of templates.md evaluated on the spec's own numbers (ids are ours)."""
    v, ver = spec.values, spec.version
    failed = []
    for c in S3_COLS:
        if v[("s3", "s3.new", c)] + v[("s3", "s3.carried_in", c)] != v[("s3", "s3.total", c)] + v[
                ("s3", "s3.carried_out", c)]:
            failed.append(f"s3.balance[{c}]")
        if sum(v[("s3", leaf, c)] for leaf in s3_outcome_leaves(ver)) != v[("s3", "s3.total", c)]:
            failed.append(f"s3.outcome_sum[{c}]")
    for r in s3_value_rows(ver):
        if sum(v[("s3", r, c)] for c in S3_APPLICANTS) != v[("s3", r, "s3c.total")]:
            failed.append(f"s3.row_sum[{r}]")
    for b in S4_BLOCKS:
        if sum(v[("s4", "s4.cases", f"{b}.{leaf}")] for leaf in S4_LEAVES) != v[("s4", "s4.cases", f"{b}.total")]:
            failed.append(f"s4.block_total[{b}]")
    return failed


# ----------------------------------------------------------------------------- neutral table grids


@dataclass
class GridCell:
    r: int
    c: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    key: Key | None = None  # the value cell this is, if any
    header: bool = False


@dataclass
class TableGrid:
    """A table as the template draws it: cells with spans over an n_rows × n_cols grid."""

    n_cols: int
    cells: list[GridCell] = field(default_factory=list)
    n_rows: int = 0
    title: str = ""

    def add(self, r: int, c: int, text: str, rowspan: int = 1, colspan: int = 1, key: Key | None = None,
            header: bool = False) -> None:
        self.cells.append(GridCell(r, c, text, rowspan, colspan, key, header))
        self.n_rows = max(self.n_rows, r + rowspan)


def _s2_grid(spec: ReportSpec) -> TableGrid:
    g = TableGrid(n_cols=4, title="二、主动公开政府信息情况")
    r = 0
    for title, rows, cols in S2_ITEMS[spec.version]:
        g.add(r, 0, title, colspan=4, header=True)
        r += 1
        g.add(r, 0, "信息内容", header=True)
        for i, col in enumerate(cols):
            span = 4 - 1 - i if i == len(cols) - 1 else 1
            g.add(r, 1 + i, label(col, spec.version), colspan=span, header=True)
        r += 1
        for row in rows:
            g.add(r, 0, label(row, spec.version))
            for i, col in enumerate(cols):
                span = 4 - 1 - i if i == len(cols) - 1 else 1
                key = ("s2", row, col)
                text = format_number(spec.values[key])
                if col == "s2c.procurement_amount":
                    text += "万元"
                g.add(r, 1 + i, text, colspan=span, key=key)
            r += 1
    return g


def _s3_grid(spec: ReportSpec, vertical: bool = False) -> TableGrid:
    ver = spec.version
    g = TableGrid(n_cols=10, title="三、收到和处理政府信息公开申请情况")
    g.add(0, 0, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3,
          header=True)
    g.add(0, 3, "申请人情况", colspan=7, header=True)
    g.add(1, 3, label("s3c.natural_person", ver), rowspan=2, header=True)
    g.add(1, 4, label("s3c.legal_entity", ver), colspan=5, header=True)
    g.add(1, 9, label("s3c.total", ver), rowspan=2, header=True)
    for i, col in enumerate(S3_APPLICANTS[1:]):
        g.add(2, 4 + i, label(col, ver), header=True)

    def values(r: int, row: str) -> None:
        for i, col in enumerate(S3_COLS):
            key = ("s3", row, col)
            g.add(r, 3 + i, format_number(spec.values[key]), key=key)

    r = 3
    g.add(r, 0, "一、" + label("s3.new", ver), colspan=3)
    values(r, "s3.new")
    r += 1
    g.add(r, 0, "二、" + label("s3.carried_in", ver), colspan=3)
    values(r, "s3.carried_in")
    r += 1
    results = children("s3.results", ver)
    n_result_rows = sum(max(1, len(children(x, ver))) for x in results)
    head = "三、" + label("s3.results", ver)
    g.add(r, 0, "\n".join(head) if vertical else head, rowspan=n_result_rows)
    for gi, group in enumerate(results):
        glabel = f"（{CN_NUM[gi]}）{label(group, ver)}"
        kids = children(group, ver)
        if not kids:
            g.add(r, 1, glabel, colspan=2)
            values(r, group)
            r += 1
            continue
        g.add(r, 1, "\n".join(glabel) if vertical else glabel, rowspan=len(kids))
        for ki, kid in enumerate(kids):
            g.add(r, 2, f"{ki + 1}.{label(kid, ver)}")
            values(r, kid)
            r += 1
    g.add(r, 0, "四、" + label("s3.carried_out", ver), colspan=3)
    values(r, "s3.carried_out")
    return g


def _s4_grid(spec: ReportSpec) -> TableGrid:
    ver = spec.version
    g = TableGrid(n_cols=15, title="四、政府信息公开行政复议、行政诉讼情况")
    g.add(0, 0, label("s4c.review", ver), rowspan=2, colspan=5, header=True)
    g.add(0, 5, label("s4c.litigation", ver), colspan=10, header=True)
    g.add(1, 5, label("s4c.suit_direct", ver), colspan=5, header=True)
    g.add(1, 10, label("s4c.suit_after_review", ver), colspan=5, header=True)
    for i, col in enumerate(S4_COLS):
        g.add(2, i, label(col, ver), header=True)
        key = ("s4", "s4.cases", col)
        g.add(3, i, format_number(spec.values[key]), key=key)
    return g


def report_grids(spec: ReportSpec, vertical: bool = False) -> list[TableGrid]:
    """The three statistical tables of the report, in order."""
    return [_s2_grid(spec), _s3_grid(spec, vertical), _s4_grid(spec)]


def grid_rows(grid: TableGrid) -> list[list[str | None]]:
    """The grid as a perfect extractor would return it (ogi.models.RawTable.rows convention: text in
    a merge's top-left cell, ``None`` on the positions it covers)."""
    rows: list[list[str | None]] = [[""] * grid.n_cols for _ in range(grid.n_rows)]
    for gc in grid.cells:
        for r in range(gc.r, gc.r + gc.rowspan):
            for c in range(gc.c, gc.c + gc.colspan):
                rows[r][c] = None
        rows[gc.r][gc.c] = gc.text
    return rows


# ----------------------------------------------------------------------------- prose

_FILLER = [
    "本机关坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《中华人民共和国政府信息公开条例》，"
    "围绕中心工作，持续深化政务公开，不断提升政府工作透明度。",
    "进一步健全政府信息公开工作机制，明确分管领导和责任科室，落实信息发布审核制度，确保公开信息准确、规范、及时。",
    "加强政府网站和政务新媒体建设管理，优化栏目设置，及时更新重点领域信息，方便群众查阅。",
    "围绕优化营商环境、乡村振兴、民生保障等重点工作，加大政策解读力度，采用图文解读、问答等形式解读政策文件。",
    "组织开展政务公开业务培训，提升工作人员业务能力，推动政务公开工作规范化、标准化。",
]


def intro_paragraphs(spec: ReportSpec, rng: random.Random, long: bool = False) -> list[str]:
    """一、总体情况 prose, restating some table numbers the way real reports do."""
    v = spec.values
    new = int(v[("s3", "s3.new", "s3c.total")])
    carried_in = int(v[("s3", "s3.carried_in", "s3c.total")])
    done = int(v[("s3", "s3.total", "s3c.total")])
    out = int(v[("s3", "s3.carried_out", "s3c.total")])
    review = int(v[("s4", "s4.cases", "s4c.review.total")])
    paras = [
        f"本报告根据《中华人民共和国政府信息公开条例》要求，由{spec.agency}编制。全文包括总体情况、主动公开政府信息情况、"
        "收到和处理政府信息公开申请情况、政府信息公开行政复议及行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
        f"本报告中所列数据的统计期限自{spec.year}年1月1日起至{spec.year}年12月31日止。",
        f"（一）主动公开。{spec.year}年，本机关通过政府门户网站主动公开各类政府信息，及时发布政策文件、工作动态等。",
        f"（二）依申请公开。{spec.year}年共收到政府信息公开申请{new}件，上年结转{carried_in}件，"
        f"已全部按法定时限办结{done}件，结转下年度继续办理{out}件。",
        f"（三）政府信息管理。全年因政府信息公开被申请行政复议{review}件。",
    ]
    filler = list(_FILLER)
    rng.shuffle(filler)
    paras += filler[: 5 if long else 2]
    if long:
        paras += filler[:3]
    return paras


CLOSING = [
    ("五、存在的主要问题及改进情况", "本年度政府信息公开工作取得一定成效，但仍存在公开内容不够全面、政策解读形式较单一等问题。"
     "下一步，将进一步加强业务培训，丰富解读形式，提升公开质量。"),
    ("六、其他需要报告的事项", "本年度未收取信息处理费。"),
]


def report_title(spec: ReportSpec) -> str:
    return f"{spec.agency}{spec.year}年政府信息公开工作年度报告"


# ----------------------------------------------------------------------------- renderers


@dataclass(frozen=True)
class Style:
    """How a document draws its tables (the knobs real layouts differ on)."""

    ruled: bool = True  # ruling lines on every cell
    vertical: bool = False  # merged group labels one character per line
    narrow: bool = False  # narrow label columns so labels wrap
    long_intro: bool = False  # enough prose to push table 三 across a page break
    font_pt: float = 10.5
    font: str = "Noto Serif CJK SC"
    scan_dpi: int = 200  # scanned layouts: the scanner's resolution


def _set_cell_borders(cell, on: bool) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single" if on else "nil")
        if on:
            el.set(qn("w:sz"), "6")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tc_pr.append(borders)


def _run_font(run, style: Style, bold: bool = False, size: float | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = style.font
    run.font.size = Pt(size or style.font_pt)
    run.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        from docx.oxml import OxmlElement

        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), style.font)


def _col_widths_cm(grid: TableGrid, style: Style) -> list[float]:
    usable = 16.0
    if grid.n_cols == 10:  # table 三: three label columns then seven value columns
        label = [1.0, 1.6, 3.0] if style.narrow else [1.2, 2.2, 4.4]
        rest = (usable - sum(label)) / 7
        return label + [rest] * 7
    if grid.n_cols == 4:
        return [4.6] + [(usable - 4.6) / 3] * 3
    return [usable / grid.n_cols] * grid.n_cols


def write_docx(spec: ReportSpec, path: Path, style: Style = Style(), seed: int = 0) -> Path:
    """The report as a word-processor file: title, prose, the three tables as the template draws them."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    rng = random.Random(seed)
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin = sec.bottom_margin = Cm(2.5)

    def para(text: str, bold: bool = False, center: bool = False, size: float | None = None) -> None:
        p = doc.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run_font(p.add_run(text), style, bold=bold, size=size)

    para(report_title(spec), bold=True, center=True, size=16)
    para("一、总体情况", bold=True)
    for text in intro_paragraphs(spec, rng, long=style.long_intro):
        para("　　" + text)
    grids = report_grids(spec, vertical=style.vertical)
    for grid in grids:
        para(grid.title, bold=True)
        if grid.n_cols == 10 and style.long_intro:
            for text in _FILLER[:4]:
                para("　　" + text)
        table = doc.add_table(rows=grid.n_rows, cols=grid.n_cols)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = _col_widths_cm(grid, style)
        for ci, col in enumerate(table.columns):
            col.width = Cm(widths[ci])
        for row in table.rows:
            for ci, cell in enumerate(row.cells):
                cell.width = Cm(widths[ci])
        for gc in grid.cells:
            cell = table.cell(gc.r, gc.c)
            if gc.rowspan > 1 or gc.colspan > 1:
                cell = cell.merge(table.cell(gc.r + gc.rowspan - 1, gc.c + gc.colspan - 1))
            lines = gc.text.split("\n")
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if (gc.header or gc.key or len(lines) > 1) else None
            for li, line in enumerate(lines):
                run = p.add_run(line)
                _run_font(run, style, size=style.font_pt - (1.5 if grid.n_cols == 15 else 0))
                if li < len(lines) - 1:
                    run.add_break()
        for row in table.rows:
            for cell in row.cells:
                _set_cell_borders(cell, style.ruled)
        para("")
    for head, text in CLOSING:
        para(head, bold=True)
        para("　　" + text)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def write_xlsx(spec: ReportSpec, path: Path) -> Path:
    """The three tables on one sheet, merged cells as the template merges them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "年报统计表"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.cell(1, 1, report_title(spec))
    r0 = 3
    for grid in report_grids(spec):
        ws.cell(r0, 1, grid.title)
        r0 += 1
        for gc in grid.cells:
            cell = ws.cell(r0 + gc.r, 1 + gc.c)
            if gc.key is not None:
                cell.value = spec.values[gc.key] if not gc.text.endswith("万元") else gc.text
            else:
                cell.value = gc.text
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = border
            if gc.rowspan > 1 or gc.colspan > 1:
                ws.merge_cells(start_row=r0 + gc.r, start_column=1 + gc.c,
                               end_row=r0 + gc.r + gc.rowspan - 1, end_column=1 + gc.c + gc.colspan - 1)
        r0 += grid.n_rows + 2
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def html_tables(spec: ReportSpec, rng: random.Random, nested: bool = True) -> str:
    """The three tables as portal HTML: rowspan/colspan, &nbsp;, cell text inside nested span/font."""
    parts = []
    for grid in report_grids(spec):
        parts.append(f'<p style="text-indent:2em"><strong>{escape(grid.title)}</strong></p>')
        parts.append('<table border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%">'
                     "<tbody>")
        for r in range(grid.n_rows):
            parts.append("<tr>")
            for gc in (c for c in grid.cells if c.r == r):
                attrs = ""
                if gc.rowspan > 1:
                    attrs += f' rowspan="{gc.rowspan}"'
                if gc.colspan > 1:
                    attrs += f' colspan="{gc.colspan}"'
                text = escape(gc.text).replace("\n", "<br/>")
                if nested and rng.random() < 0.7:
                    text = (f'<p style="text-align:center"><span style="font-size:14px">'
                            f'<font face="宋体">{text}</font></span></p>')
                parts.append(f'<td valign="middle"{attrs}>{text}</td>')
            parts.append("</tr>")
        parts.append("</tbody></table>")
    return "\n".join(parts)


def write_html(spec: ReportSpec, path: Path, *, encoding: str = "gbk", seed: int = 0,
               attachments: Sequence[tuple[str, str]] = (), with_tables: bool = True) -> Path:
    """A portal article page holding the report (tables as HTML), optionally linking attachments."""
    rng = random.Random(seed)
    charset = {"gbk": "gbk", "gb2312": "gb2312"}.get(encoding.lower(), "utf-8")
    body = [f'<h1 class="article-title">{escape(report_title(spec))}</h1>',
            f'<div class="info">发布时间：{spec.year + 1}-01-{10 + seed % 18:02d}　来源：{escape(spec.agency)}</div>',
            '<div class="TRS_Editor">', "<p><strong>一、总体情况</strong></p>"]
    body += [f'<p style="text-indent:2em">{escape(t)}</p>' for t in intro_paragraphs(spec, rng)]
    if with_tables:
        body.append(html_tables(spec, rng))
    else:
        where = "详见附件" if attachments else "略"
        body.append('<p style="text-indent:2em">二、主动公开政府信息情况、三、收到和处理政府信息公开申请情况、'
                    f"四、政府信息公开行政复议、行政诉讼情况（{where}）。</p>")
    for head, text in CLOSING:
        body.append(f"<p><strong>{escape(head)}</strong></p><p style=\"text-indent:2em\">{escape(text)}</p>")
    body.append("</div>")
    for href, name in attachments:
        body.append(f'<p class="attach">附件：<a href="{escape(href)}">{escape(name)}</a></p>')
    doc = ("<!DOCTYPE html>\n<html><head>"
           f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
           f"<title>{escape(report_title(spec))}</title></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(doc.encode(charset))
    return path


# ----------------------------------------------------------------------------- PDF and scans


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx_paths: Iterable[Path], outdir: Path, timeout_s: float = SOFFICE_TIMEOUT_S) -> list[Path]:
    """Convert with LibreOffice in one headless call, with a private profile (parallel-safe)."""
    exe = soffice_path()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) not found: it is needed to render PDFs")
    docx_paths = list(docx_paths)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ogi-soffice-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_paths)]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, text=True,
                              env={**os.environ, "HOME": profile})
    outs = [outdir / (p.stem + ".pdf") for p in docx_paths]
    missing = [p for p in outs if not p.exists()]
    if missing:
        raise RuntimeError(f"soffice did not produce {missing}: rc={proc.returncode} {proc.stderr[-500:]}")
    return outs


def scan_pdf(pdf_path: Path, out_path: Path, *, dpi: int = 200, seed: int = 0, angle: float | None = None,
             noise: float = 8.0, blur: float = 0.6, jpeg_quality: int = 70) -> dict:
    """An image-only PDF as an office scanner makes it: rasterized, slightly rotated, noisy, blurred."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    angle = angle if angle is not None else rng.choice([-1, 1]) * rng.uniform(0.3, 1.0)
    pages = []
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for page in pdf:
            img = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            img = img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
            if blur:
                img = img.filter(ImageFilter.GaussianBlur(blur))
            arr = np.asarray(img, dtype=np.float32)
            arr = arr + nrng.normal(0, noise, arr.shape)
            arr = np.clip(arr * 0.97 + 4, 0, 255).astype(np.uint8)
            pages.append(Image.fromarray(arr, mode="L"))
    finally:
        pdf.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=float(dpi),
                  quality=jpeg_quality)
    out_path.write_bytes(buf.getvalue())
    return {"dpi": dpi, "angle": round(angle, 3), "noise": noise, "blur": blur}


# ----------------------------------------------------------------------------- layouts and corpus

# name → (file kind, template version, Style). "pdf" layouts go through docx + LibreOffice.
LAYOUTS: dict[str, tuple[str, str, Style]] = {
    "pdf_ruled_2021": ("pdf", "2021", Style()),
    "pdf_ruled_2019": ("pdf", "2019", Style()),
    "pdf_split_2021": ("pdf", "2021", Style(long_intro=True)),
    "pdf_wrapped_2021": ("pdf", "2021", Style(narrow=True, vertical=True, font_pt=12)),
    "pdf_borderless_2021": ("pdf", "2021", Style(ruled=False)),
    "pdf_borderless_2019": ("pdf", "2019", Style(ruled=False)),
    "scan200_2021": ("scan", "2021", Style()),
    "scan300_2019": ("scan", "2019", Style(scan_dpi=300)),
    "docx_2021": ("docx", "2021", Style(vertical=True)),
    "xlsx_2021": ("xlsx", "2021", Style()),
    "html_gbk_2021": ("html", "2021", Style()),
    "html_gbk_2019": ("html", "2019", Style()),
}
NEEDS_SOFFICE = {"pdf", "scan"}
BASE_LAYOUTS = tuple(LAYOUTS)
# the other producers (bench/producers/): Writer, Chromium, reportlab CID, WPS-like, scans, photos, xlsx
# with a preamble, converter text. Their kind is the file that comes out; bench.producers makes them.
LAYOUTS.update({name: (p.kind, p.version, Style()) for name, p in PRODUCER_LAYOUTS.items()})


def unavailable(name: str) -> str | None:
    """Why a layout cannot be generated on this machine (the missing binary, font or module), or None."""
    if name in PRODUCER_LAYOUTS:
        return producers.unavailable(name)
    if LAYOUTS[name][0] in NEEDS_SOFFICE and soffice_path() is None:
        return "binary soffice (apt-get install libreoffice-writer-nogui)"
    return None
_AGENCIES = ["东川县人民政府", "青禾市自然资源局", "南岭镇人民政府", "西河区教育局", "白石县市场监督管理局",
             "北湖街道办事处", "云台市人力资源和社会保障局", "长溪县交通运输局"]


@dataclass
class GeneratedDoc:
    doc_id: str
    layout: str
    path: Path
    truth_path: Path
    meta_path: Path
    spec: ReportSpec


def write_truth(spec: ReportSpec, csv_path: Path, meta: dict) -> Path:
    """Truth CSV (section,row_code,col_code,value,value_status) and a metadata JSON beside it."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["section", "row_code", "col_code", "value", "value_status"])
        w.writeheader()
        w.writerows(spec.truth_rows())
    meta = {"agency": spec.agency, "year": spec.year, "template_version": spec.version, "seed": spec.seed,
            "planted_errors": spec.planted, "failed_identities": failed_identities(spec), **meta}
    csv_path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return csv_path.with_suffix(".json")


def read_truth(csv_path: Path) -> dict[Key, float | None]:
    with csv_path.open(encoding="utf-8") as fh:
        return {(r["section"], r["row_code"], r["col_code"]): (float(r["value"]) if r["value"] != "" else None)
                for r in csv.DictReader(fh)}


def generate_corpus(outdir: Path, per_layout: int = 3, layouts: Sequence[str] | None = None, seed: int = 1,
                    plant_every: int = 3) -> list[GeneratedDoc]:
    """N reports per layout under ``outdir`` (documents, truth CSVs, metadata); the 2nd report of every
    ``plant_every`` carries one planted identity error. Layouts needing LibreOffice are skipped without it."""
    layouts = list(layouts or LAYOUTS)
    docs: list[GeneratedDoc] = []
    to_convert: list[tuple[GeneratedDoc, Path, Style]] = []
    for li, name in enumerate(layouts):
        kind, version, style = LAYOUTS[name]
        if unavailable(name):
            continue
        if name in PRODUCER_LAYOUTS:  # seeded by the layout's place in LAYOUTS: stable for any subset
            docs += _producer_docs(outdir, name, list(LAYOUTS).index(name), per_layout, seed, plant_every)
            continue
        for i in range(per_layout):
            s = seed * 100003 + li * 1009 + i
            rng = random.Random(s)
            year = rng.choice([2019, 2020]) if version == "2019" else rng.choice([2021, 2022, 2023, 2024])
            plant = PLANT_KINDS[(i // plant_every + li) % len(PLANT_KINDS)] if i % plant_every == 1 else None
            spec = make_spec(s, agency=rng.choice(_AGENCIES), year=year, version=version, plant=plant)
            doc_id = f"{name}__{i:03d}"
            ext = {"pdf": "pdf", "scan": "pdf", "docx": "docx", "xlsx": "xlsx", "html": "html"}[kind]
            path = outdir / name / f"{doc_id}.{ext}"
            truth = outdir / name / f"{doc_id}.truth.csv"
            meta = {"layout": name, "kind": kind, "style": asdict(style), "document": path.name}
            gd = GeneratedDoc(doc_id, name, path, truth, truth.with_suffix(".json"), spec)
            if kind == "xlsx":
                write_xlsx(spec, path)
            elif kind == "html":
                write_html(spec, path, encoding="gbk", seed=s)
            elif kind == "docx":
                write_docx(spec, path, style, seed=s)
            else:
                write_docx(spec, outdir / "_docx" / f"{doc_id}.docx", style, seed=s)
                to_convert.append((gd, outdir / "_docx" / f"{doc_id}.docx", style))
            write_truth(spec, truth, meta)
            docs.append(gd)
    if to_convert:
        pdfs = docx_to_pdf([d for _, d, _ in to_convert], outdir / "_pdf")
        for (gd, _docx, style), pdf in zip(to_convert, pdfs, strict=True):
            if LAYOUTS[gd.layout][0] == "scan":
                info = scan_pdf(pdf, gd.path, dpi=style.scan_dpi, seed=gd.spec.seed)
                meta = json.loads(gd.meta_path.read_text(encoding="utf-8"))
                meta["scan"] = info
                gd.meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            else:
                gd.path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(pdf, gd.path)
    return docs


def _producer_docs(outdir: Path, name: str, li: int, per_layout: int, seed: int,
                   plant_every: int) -> list[GeneratedDoc]:
    """One producer layout's documents: the same specs and planted errors as every layout, rendered
    by bench.producers (which writes each truth file: blank markers change what a cell printed)."""
    version = LAYOUTS[name][1]
    docs, jobs = [], []
    for i in range(per_layout):
        s = seed * 100003 + li * 1009 + i
        rng = random.Random(s)
        year = rng.choice([2019, 2020]) if version == "2019" else rng.choice([2021, 2022, 2023, 2024])
        plant = PLANT_KINDS[(i // plant_every + li) % len(PLANT_KINDS)] if i % plant_every == 1 else None
        spec = make_spec(s, agency=rng.choice(_AGENCIES), year=year, version=version, plant=plant)
        doc_id = f"{name}__{i:03d}"
        path = outdir / name / f"{doc_id}.{PRODUCER_LAYOUTS[name].ext}"
        truth = outdir / name / f"{doc_id}.truth.csv"
        jobs.append(producers.Job(spec, path, truth, s, doc_id))
        docs.append(GeneratedDoc(doc_id, name, path, truth, truth.with_suffix(".json"), spec))
    producers.make(name, jobs)
    return docs
