"""Build data/demo/: three fictional agencies' websites with their annual reports, for `ogi demo` and tests.

Each site has a listing page like a portal column "政府信息公开年报" (one site paginated, one site
GBK-encoded), report article pages with HTML tables, and PDF attachments rendered by bench.corpus.
Some documents are broken on purpose (a truncated PDF, a page with no tables, a report whose numbers
fail an identity) so the demo shows quarantine and validation working. Writes sites.csv, README.md,
expected.json and truth/ (the true value of every cell of every report).

LibreOffice is needed to run this script (to render the PDFs), never to use its output.

    python scripts/make_demo.py [--out data/demo]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import (  # noqa: E402
    ReportSpec,
    Style,
    docx_to_pdf,
    failed_identities,
    make_spec,
    report_title,
    write_docx,
    write_html,
    write_truth,
)
from ogi.core.config import DATA_DIR  # noqa: E402

SITES = [
    {"agency_id": "qingwu-xian", "name": "青梧县人民政府", "kind": "government", "level": "county",
     "division_code": "990321", "parent_id": "", "listing_url": "/qingwu-xian/gkml/ndbg/index.html",
     "encoding": "utf-8"},
    {"agency_id": "yunxi-shi-zrzy", "name": "云溪市自然资源和规划局", "kind": "department", "level": "prefecture",
     "division_code": "990300", "parent_id": "", "listing_url": "/yunxi-shi-zrzy/zwgk/xxgknb/index.html",
     "encoding": "gbk"},
    {"agency_id": "shiqiao-zhen", "name": "青梧县石桥镇人民政府", "kind": "government", "level": "township",
     "division_code": "990321", "parent_id": "qingwu-xian", "listing_url": "/shiqiao-zhen/xxgk/ndbg/index.html",
     "encoding": "utf-8"},
]


@dataclass
class Report:
    """One report of one agency as published: an article page, maybe a PDF attachment, maybe broken."""

    agency_id: str
    year: int
    seed: int
    article_tables: bool = True  # the article page carries the tables as HTML
    pdf: str | None = None  # "ok" | "truncated" | None (no attachment)
    plant: str | None = None  # an identity error planted in the numbers
    pdf_style: Style = field(default_factory=Style)
    spec: ReportSpec | None = None


REPORTS = [
    Report("qingwu-xian", 2024, 24101, pdf="ok"),
    Report("qingwu-xian", 2023, 23101),
    Report("qingwu-xian", 2020, 20101),  # 2019 template (2019 and 2020 reports)
    Report("yunxi-shi-zrzy", 2024, 24201, pdf="truncated"),
    Report("yunxi-shi-zrzy", 2023, 23201, plant="s3_balance"),
    Report("shiqiao-zhen", 2024, 24301, article_tables=False, pdf="ok",
           pdf_style=Style(narrow=True, vertical=True, long_intro=True)),
    Report("shiqiao-zhen", 2023, 23301, article_tables=False),  # prose only, no tables, no attachment
]
NOISE_TITLES = ["关于开展{y}年度政务公开工作培训的通知", "{y}年政府信息公开指南", "{y}年第四季度政务公开工作要点",
                "关于印发《{y}年政务公开工作方案》的通知"]


def _site(agency_id: str) -> dict:
    return next(s for s in SITES if s["agency_id"] == agency_id)


def _article_path(rep: Report) -> str:
    """Portal-style article path under the listing column: ./YYYYMM/tYYYYMMDD_NNN.html."""
    month = f"{rep.year + 1}01"
    return f"{month}/t{month}{10 + rep.seed % 18:02d}_{rep.seed}.html"


def _pdf_path(rep: Report) -> str:
    month = f"{rep.year + 1}01"
    return f"{month}/P0{month}{10 + rep.seed % 18:02d}{rep.seed}.pdf"


def _listing_page(site: dict, items: list[tuple[str, str, str]], page: int, pages: int) -> bytes:
    """A portal column page: a <ul> of dated links, and a pager when there is more than one page."""
    charset = site["encoding"]
    lis = "\n".join(f'<li><a href="{escape(href)}" target="_blank" title="{escape(t)}">{escape(t)}</a>'
                    f"<span>{d}</span></li>" for t, href, d in items)
    pager = ""
    if pages > 1:
        links = []
        if page > 0:
            links.append(f'<a href="{"index.html" if page == 1 else f"index_{page - 1}.html"}">上一页</a>')
        if page < pages - 1:
            links.append(f'<a href="index_{page + 1}.html">下一页</a>')
        pager = f'<div class="page">共{pages}页 {" ".join(links)}</div>'
    html = (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>政府信息公开年报_{escape(site['name'])}</title></head><body>\n"
            f'<div class="crumb">首页 &gt; 政府信息公开 &gt; 政府信息公开年报</div>\n'
            f'<div class="list"><ul>\n{lis}\n</ul></div>\n{pager}\n</body></html>\n')
    return html.encode(charset)


def build(out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    (out / "truth").mkdir(parents=True)
    listings: dict[str, list[tuple[str, str, str]]] = {s["agency_id"]: [] for s in SITES}
    expected = {"reports": [], "quarantined": [], "parsed_documents": 0, "identity_failure": None}
    with tempfile.TemporaryDirectory(prefix="ogi-demo-") as tmp:
        to_pdf = []
        for rep in REPORTS:
            site = _site(rep.agency_id)
            rep.spec = make_spec(rep.seed, agency=site["name"], year=rep.year, plant=rep.plant, scale=2)
            column = out / site["listing_url"].lstrip("/").rsplit("/", 1)[0]
            attachments = []
            if rep.pdf:
                attachments.append((Path(_pdf_path(rep)).name, f"{report_title(rep.spec)}.pdf"))
                docx = Path(tmp) / f"{rep.agency_id}_{rep.year}.docx"
                write_docx(rep.spec, docx, rep.pdf_style, seed=rep.seed)
                to_pdf.append((rep, docx, column / _pdf_path(rep)))
            write_html(rep.spec, column / _article_path(rep), encoding=site["encoding"], seed=rep.seed,
                       attachments=attachments, with_tables=rep.article_tables)
            listings[rep.agency_id].append((report_title(rep.spec), "./" + _article_path(rep),
                                            f"{rep.year + 1}-01-{10 + rep.seed % 18:02d}"))
            if rep.article_tables or rep.pdf == "ok":
                truth = out / "truth" / f"{rep.agency_id}__{rep.year}__report.csv"
                write_truth(rep.spec, truth, {"article": site["listing_url"].rsplit("/", 1)[0] + "/"
                                              + _article_path(rep),
                                              "tables_in": (["article"] if rep.article_tables else [])
                                              + (["pdf"] if rep.pdf == "ok" else [])})
        pdfs = docx_to_pdf([d for _, d, _ in to_pdf], Path(tmp) / "pdf")
        for (rep, _docx, dest), pdf in zip(to_pdf, pdfs, strict=True):
            data = pdf.read_bytes()
            if rep.pdf == "truncated":
                data = data[: len(data) // 3]  # a download cut short: no xref, no trailer
            dest.write_bytes(data)

    for site in SITES:
        items = sorted(listings[site["agency_id"]], key=lambda t: t[2], reverse=True)
        y = max(int(d[:4]) for _, _, d in items)
        noise = [(t.format(y=y - 1 - i % 2), f"./{y}01/t{y}0105_{900 + i}.html", f"{y}-01-05")
                 for i, t in enumerate(NOISE_TITLES)]
        column = out / site["listing_url"].lstrip("/").rsplit("/", 1)[0]
        if site["agency_id"] == "qingwu-xian":  # paginated: newest two reports first, the rest on page 2
            pages = [items[:2] + noise[:2], items[2:] + noise[2:]]
        else:
            pages = [items + noise[:2]]
        for title, href, _d in noise:  # the other articles of the column exist too (a crawler may open them)
            page = (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; '
                    f'charset={site["encoding"]}"><title>{escape(title)}</title></head><body>'
                    f"<h1>{escape(title)}</h1><p>各科室：现将有关事项通知如下。</p></body></html>\n")
            (column / href[2:]).parent.mkdir(parents=True, exist_ok=True)
            (column / href[2:]).write_bytes(page.encode(site["encoding"]))
        for i, page_items in enumerate(pages):
            name = "index.html" if i == 0 else f"index_{i}.html"
            (column / name).write_bytes(_listing_page(site, page_items, i, len(pages)))

    with (out / "sites.csv").open("w", encoding="utf-8", newline="") as fh:
        cols = ["agency_id", "name", "kind", "level", "division_code", "parent_id", "listing_url"]
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(SITES)

    parsed = 0
    for rep in REPORTS:
        site = _site(rep.agency_id)
        base = site["listing_url"].rsplit("/", 1)[0] + "/"
        fails = failed_identities(rep.spec)
        entry = {"agency_id": rep.agency_id, "year": rep.year, "template_version": rep.spec.version,
                 "article": base + _article_path(rep), "article_has_tables": rep.article_tables,
                 "pdf": base + _pdf_path(rep) if rep.pdf else None, "pdf_state": rep.pdf,
                 "planted_errors": rep.spec.planted, "failed_identities": fails}
        expected["reports"].append(entry)
        parsed += int(rep.article_tables) + int(rep.pdf == "ok")
        if rep.pdf == "truncated":
            expected["quarantined"].append({"url_suffix": Path(_pdf_path(rep)).name,
                                            "reason_contains": Path(_pdf_path(rep)).name,
                                            "why": "truncated PDF (download cut short)"})
        if not rep.article_tables and not rep.pdf:
            expected["quarantined"].append({"url_suffix": Path(_article_path(rep)).name,
                                            "reason_contains": "no table",
                                            "why": "report page with prose only: no tables, no attachment"})
        if fails:
            expected["identity_failure"] = {"agency_id": rep.agency_id, "report_year": rep.year,
                                            "cells": rep.spec.planted[0]["cells"],
                                            "delta": rep.spec.planted[0]["delta"], "identities": fails}
    expected["parsed_documents"] = parsed
    expected["container_pages"] = sum(1 for r in REPORTS if not r.article_tables and r.pdf)
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(str(DATA_DIR / "demo")))
    args = ap.parse_args(argv)
    readme = args.out / "README.md"
    keep = readme.read_text(encoding="utf-8") if readme.exists() else None
    exp = build(args.out)
    if keep is not None:
        readme.write_text(keep, encoding="utf-8")
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {len(exp['reports'])} reports, {exp['parsed_documents']} parseable documents, "
          f"{len(exp['quarantined'])} to quarantine, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
