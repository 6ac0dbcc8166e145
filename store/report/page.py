"""Assemble the quality and coverage report: one HTML file with inline CSS and inline SVG charts,
no script and no link to fetch, so it opens the same offline, in a mail attachment or an archive.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from ogi.core.atomic import atomic_file
from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION, __version__
from ogi.store.report import data, figures

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans CJK JP","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:980px;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
figure.chart{margin:1em 0;padding:.5em;border:1px solid #eee;background:#fff}
figure.chart svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}th{background:#f5f5f5}
td.n{text-align:right}.note{color:#555;font-size:.9em}
"""


def _table(df: pd.DataFrame, empty: str) -> str:
    if df.empty:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = "" if v is None or (isinstance(v, float) and pd.isna(v)) else (
                f"{v:g}" if isinstance(v, float) else str(v))
            cells.append(f'<td class="{"n" if num else ""}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart(chart_id: str, svg: str, caption: str) -> str:
    return (f'<figure class="chart" id="{chart_id}" data-chart="{chart_id}">{svg}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _share(df: pd.DataFrame, rows: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share of agency-years with facts loaded, among those expected (or all, where none is)."""
    base = df[df["expected"]] if df["expected"].any() else df
    if base.empty:
        return pd.DataFrame(), pd.DataFrame()
    g = base.groupby([rows, "report_year"])
    share = g["loaded"].mean().unstack("report_year")
    counts = (g["loaded"].sum().astype(int).astype(str) + "/" + g.size().astype(str)).unstack("report_year")
    return share, counts.fillna("")


def report_html(con: duckdb.DuckDBPyConnection, title: str = "ogi quality and coverage report") -> str:
    cov = data.coverage(con)
    parts: list[str] = []
    add: Callable[[str], None] = parts.append
    n_docs = con.execute("SELECT count(*), count(*) FILTER (WHERE status = 'loaded') FROM documents").fetchall()[0]
    add(f"<h1>{html.escape(title)}</h1>")
    add(f'<p class="note">ogi {__version__} (extractor {EXTRACTOR_VERSION}, transform {TRANSFORM_VERSION}); '
        f"{n_docs[0]} documents, {n_docs[1]} loaded; {int(cov['loaded'].sum())} agency-years with facts of "
        f"{int(cov['expected'].sum())} expected.</p>")

    add("<h2>Coverage</h2>")
    share, counts = _share(cov, "province_label")
    add(_chart("coverage-province-year", figures.heatmap(share, counts, "Agency-years with facts, by province",
                                                          "report year", "province"),
               "Share of expected agency-years whose report was loaded (loaded/expected in each cell)."))
    share, counts = _share(cov, "level")
    add(_chart("coverage-level-year", figures.heatmap(share, counts, "Agency-years with facts, by level",
                                                       "report year", "level"),
               "The same by administrative level."))
    stops = cov[cov["stops_at"].notna()].copy()
    stops["stage"] = stops["stops_at"].astype(str).str.split(":").str[0].str.split(" \\(").str[0]
    add(_table(stops.groupby("stage").size().rename("agency-years").reset_index(), "Every report got through."))

    add("<h2>Documents</h2>")
    docs = data.documents_by_format(con)
    table = docs.pivot_table(index="media_type", columns="status", values="n", aggfunc="sum", fill_value=0) \
        if not docs.empty else pd.DataFrame()
    add(_chart("documents-format-status", figures.stacked_bars(table, "Documents by format and status", "documents"),
               "Every document found, by media type and what became of it."))
    reasons = data.quarantine_reasons(con)
    add(_chart("quarantine-reasons", figures.bars(reasons["reason"].tolist(), reasons["n"].astype(float).tolist(),
                                                  "Why documents were quarantined", "documents"),
               "Quarantine reasons (the file name stripped)."))

    add("<h2>Identity and completeness checks</h2>")
    rates = data.check_rates(con)
    kind = rates.groupby(["check_family", "check_kind"])[["failed", "checked"]].sum().reset_index()
    kind = kind[kind["checked"] > 0]
    kind["rate"] = kind["failed"] / kind["checked"]
    kind = kind.sort_values(["rate", "check_kind"], ascending=[False, True])
    palette = ["#1565c0", "#6a1b9a", "#2e7d32", "#ef6c00", "#00838f", "#ad1457", "#4e342e"]
    families = sorted(kind["check_family"].unique())
    colors = [palette[families.index(f) % len(palette)] for f in kind["check_family"]]
    add(_chart("failure-rate-by-check", figures.bars(kind["check_kind"].tolist(), kind["rate"].tolist(),
                                                     "Failure rate by check", "failed / checked", percent=True,
                                                     colors=colors),
               "Share of checks that failed, per check kind (identity id without its instance), over the selected "
               "document of each agency-year. Colour: check family (" + ", ".join(families) + ")."))
    by_year = rates.groupby(["check_family", "report_year"])[["failed", "checked"]].sum()
    by_year = (by_year["failed"] / by_year["checked"].where(by_year["checked"] > 0)).unstack("report_year")
    add(_chart("failure-rate-by-year", figures.heatmap(1 - by_year, None, "Checks passed, by family and year",
                                                       "report year", "check family"),
               "Share of checks passed per check family and report year (green: all pass)."))

    add("<h2>Values</h2>")
    vals = data.key_values(con)
    counts_ = {s: vals.loc[vals["series_id"] == s, "value"].tolist() for s in data.KEY_SERIES
               if s not in ("grant_rate", "refusal_share")}
    ratios = {s: vals.loc[vals["series_id"] == s, "value"].tolist() for s in ("grant_rate", "refusal_share")}
    add(_chart("distribution-counts", figures.boxes(counts_, "Key counts per report", "log(1 + value)", log=True),
               "Distribution of key counts over agency-years (headline values, corrections applied)."))
    add(_chart("distribution-rates", figures.boxes(ratios, "Grant rate and refusal share", "share", log=False),
               "Distribution of the derived rates."))
    add(_table(data.outliers(vals), "No value beyond 1.5 interquartile ranges of its series."))

    add("<h2>Year-over-year copy-paste suspects</h2>")
    yoy = data.year_over_year(con)
    shares = (yoy["equal"] / yoy["cells"]).tolist() if not yoy.empty else []
    add(_chart("year-over-year", figures.histogram(shares, "Cells equal to the previous year's report",
                                                   "share of cells equal"),
               "For each report with a previous year's report of the same agency: the share of cells with the "
               f"same value. A report whose every cell equals last year's (at least {data.MIN_EQUAL_CELLS} "
               "non-zero) is listed below."))
    add(_table(yoy[yoy["suspect"]] if not yoy.empty else yoy, "No report repeats the previous year's tables."))

    add("<h2>Worst sources</h2>")
    worst = data.worst_sources(con, cov)
    add(_chart("worst-sources", figures.bars([f"{n} ({a})" for a, n in zip(worst["agency_id"], worst["name"],
                                                                            strict=True)],
                                             worst["problems"].astype(float).tolist(), "Sources with most problems",
                                             "expected years missing + quarantined + failed identities + fetch errors"),
               "Agencies ranked by problems."))
    add(_table(worst, "No source has a problem."))
    return (f'<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


def build_report(con: duckdb.DuckDBPyConnection, out: Path, *, force: bool = False) -> Path:
    """Write the report to ``out`` atomically; an existing file is refused unless ``force``."""
    out = Path(out)
    page = report_html(con)
    with atomic_file(out, "w", overwrite=force, encoding="utf-8") as fh:
        fh.write(page)
    return out
