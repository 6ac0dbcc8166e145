"""The bundle's README.md: what it is, coverage, files, quick start, caveats, how to cite."""

from __future__ import annotations

import json
from importlib.resources import files as package_files
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import duckdb

from ogi.store.dictionary import load_dictionary
from ogi.store.release.resources import Filters

if TYPE_CHECKING:
    from ogi.store.release.bundle import FileInfo

TEMPLATE = package_files("ogi.store.release") / "README.md.tmpl"


def _coverage(con: duckdb.DuckDBPyConnection, root: Path) -> str:
    """Agency-years per report year, from the bundle's own coverage file (filters already applied)."""
    rows = con.execute(f"""
        SELECT report_year, count(*) FILTER (WHERE expected) AS expected, count(*) FILTER (WHERE found) AS found,
               count(*) FILTER (WHERE loaded) AS loaded, count(DISTINCT agency_id) FILTER (WHERE loaded) AS agencies
        FROM read_parquet('{root / 'parquet' / 'coverage.parquet'}') GROUP BY 1 ORDER BY 1""").fetchall()
    if not rows:
        return "No agency-year is expected or found in this release."
    lines = ["| report year | agency-years expected | with a report found | with facts loaded |",
             "|---:|---:|---:|---:|"]
    lines += [f"| {y} | {e} | {f} | {ld} |" for y, e, f, ld, _a in rows]
    return "\n".join(lines)


def render_readme(con: duckdb.DuckDBPyConnection, root: Path, meta: dict[str, Any], files: list[FileInfo],
                  flt: Filters) -> str:
    d = load_dictionary()
    table = []
    for f in files:
        if f.path.endswith(".csv"):
            text = d.describe(f"release.{f.resource}") or ""
            table.append(f"| `{f.path}`, `parquet/{f.resource}.parquet` | {f.rows} | {text} |")
    filters = {k: v for k, v in flt.as_dict().items() if v}
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        name=meta["name"], date=meta["date"], year=meta["date"][:4], format_version=meta["format_version"],
        ogi_version=meta["ogi_version"], extractor_version=meta["extractor_version"],
        transform_version=meta["transform_version"], run_id=meta["run_id"] or "none",
        filters=json.dumps(filters, ensure_ascii=False) if filters else "none", license=meta["license"],
        coverage=_coverage(con, root), files="\n".join(table))
