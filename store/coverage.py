"""Coverage: for every agency and year, how far the pipeline got — and where and why it stopped.

The matrix answers "which reports do we have?" against what should exist: the expected universe
(``expected_reports``: every government × year) plus every registry agency × year. Stages, in order:
expected → found (a report link was discovered) → fetched (bytes archived) → parsed (a document
loaded, not quarantined) → validated (a loaded document with no failed hard identity) → loaded
(facts in the table). ``stops_at`` names the first stage not reached and why.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

STAGES = ["expected", "found", "fetched", "parsed", "validated", "loaded"]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _latest_broken(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """agency_id → why its source was broken in the latest run (from the run summary)."""
    row = con.execute(
        "SELECT summary_json FROM runs WHERE summary_json IS NOT NULL ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    if not row:
        return {}
    try:
        summary = json.loads(row[0][0])
    except (TypeError, json.JSONDecodeError):
        return {}
    return {b["agency_id"]: b.get("reason") or "source broken"
            for b in summary.get("broken_sources") or [] if isinstance(b, dict) and b.get("agency_id")}


def coverage_matrix(con: duckdb.DuckDBPyConnection, years: list[int] | None = None) -> pd.DataFrame:
    """One row per (agency_id, report_year): stage booleans, ``stops_at`` and a few counts.

    ``years`` defaults to every year that is expected or has a document. Rows come from
    ``expected_reports`` ∪ (registry agencies × years) ∪ documents found for any agency in those years.
    """
    if years is None:
        years = sorted({r[0] for r in con.execute(
            "SELECT report_year FROM expected_reports UNION SELECT report_year FROM documents "
            "WHERE report_year IS NOT NULL").fetchall()})
    years = [int(y) for y in years]
    cols = ["agency_id", "name", "level", "in_registry", "report_year", *STAGES, "stops_at",
            "documents", "fetch_errors", "identity_failures", "facts"]
    if not years:
        return pd.DataFrame(columns=cols)
    year_list = ", ".join(str(y) for y in years)
    fetch_has_year = "report_year" in _columns(con, "fetches")
    # Fetch errors tied to a year: directly when fetches carries report_year, else only via a
    # document at the same URL (earlier successful fetch).
    fetch_year = "f.report_year" if fetch_has_year else "d.report_year"
    df = con.execute(f"""
        WITH years AS (SELECT unnest([{year_list}]) AS report_year),
        cells AS (
            SELECT agency_id, report_year FROM expected_reports WHERE report_year IN ({year_list})
            UNION SELECT a.agency_id, y.report_year FROM agencies a, years y WHERE a.in_registry
            UNION SELECT agency_id, report_year FROM documents
                  WHERE agency_id IS NOT NULL AND report_year IN ({year_list})
        ),
        docs AS (
            SELECT d.agency_id, d.report_year,
                   count(*) AS n_docs,
                   count(*) FILTER (WHERE d.status = 'loaded') AS n_loaded_docs,
                   count(*) FILTER (WHERE d.status = 'loaded' AND NOT EXISTS (
                       SELECT 1 FROM checks k WHERE k.sha256 = d.sha256 AND k.status = 'failed'
                                                AND coalesce(k.severity, 'error') = 'error')) AS n_valid_docs,
                   string_agg(DISTINCT CASE WHEN d.status = 'quarantined' THEN d.quarantine_reason END, '; ')
                       AS quarantine_reasons,
                   bool_or(d.status = 'container') AS has_container
            FROM documents d GROUP BY ALL
        ),
        fails AS (
            SELECT d.agency_id, d.report_year, count(*) AS n_failed
            FROM checks k JOIN documents d USING (sha256)
            WHERE k.status = 'failed' AND coalesce(k.severity, 'error') = 'error' GROUP BY ALL
        ),
        facts_n AS (SELECT agency_id, report_year, count(*) AS n_facts FROM facts GROUP BY ALL),
        errs AS (
            SELECT f.agency_id, {fetch_year} AS report_year, count(*) AS n_errors,
                   string_agg(DISTINCT f.error, '; ') AS error_text
            FROM fetches f LEFT JOIN (SELECT DISTINCT url, report_year FROM documents) d ON d.url = f.url
            WHERE f.outcome = 'error' AND NOT EXISTS (
                SELECT 1 FROM fetches g WHERE g.url = f.url AND g.sha256 IS NOT NULL)
            GROUP BY ALL
        )
        SELECT c.agency_id, a.name, a.level, coalesce(a.in_registry, FALSE) AS in_registry, c.report_year,
               e.agency_id IS NOT NULL AS expected,
               coalesce(docs.n_docs, 0) AS n_docs, coalesce(docs.n_loaded_docs, 0) AS n_loaded_docs,
               coalesce(docs.n_valid_docs, 0) AS n_valid_docs, docs.quarantine_reasons,
               coalesce(docs.has_container, FALSE) AS has_container,
               coalesce(errs.n_errors, 0) AS fetch_errors, errs.error_text,
               coalesce(fails.n_failed, 0) AS identity_failures, coalesce(facts_n.n_facts, 0) AS facts
        FROM cells c
        LEFT JOIN agencies a USING (agency_id)
        LEFT JOIN expected_reports e ON e.agency_id = c.agency_id AND e.report_year = c.report_year
        LEFT JOIN docs ON docs.agency_id = c.agency_id AND docs.report_year = c.report_year
        LEFT JOIN errs ON errs.agency_id = c.agency_id AND errs.report_year = c.report_year
        LEFT JOIN fails ON fails.agency_id = c.agency_id AND fails.report_year = c.report_year
        LEFT JOIN facts_n ON facts_n.agency_id = c.agency_id AND facts_n.report_year = c.report_year
        ORDER BY c.agency_id, c.report_year
    """).df()
    broken = _latest_broken(con)
    out = []
    for r in df.to_dict("records"):
        found = r["n_docs"] > 0 or r["fetch_errors"] > 0
        fetched = r["n_docs"] > 0
        parsed = r["n_loaded_docs"] > 0
        validated = r["n_valid_docs"] > 0
        loaded = r["facts"] > 0
        if not found:
            why = broken.get(r["agency_id"])
            stops = "no report found" + (f" (source broken: {why})" if why else "")
        elif not fetched:
            stops = f"fetch error: {r['error_text']}"
        elif not parsed:
            reasons = r["quarantine_reasons"] if isinstance(r["quarantine_reasons"], str) else ""
            stops = f"quarantined: {reasons}" if reasons else (
                "container page only (attachment not parsed)" if r["has_container"] else "not parsed yet")
        elif not validated:
            stops = f"identity failures: {r['identity_failures']}"
        elif not loaded:
            stops = "no facts loaded"
        else:
            stops = None
        out.append({
            "agency_id": r["agency_id"], "name": r["name"], "level": r["level"],
            "in_registry": bool(r["in_registry"]), "report_year": int(r["report_year"]),
            "expected": bool(r["expected"]), "found": found, "fetched": fetched, "parsed": parsed,
            "validated": validated, "loaded": loaded, "stops_at": stops,
            "documents": int(r["n_docs"]), "fetch_errors": int(r["fetch_errors"]),
            "identity_failures": int(r["identity_failures"]), "facts": int(r["facts"]),
        })
    frame = pd.DataFrame(out, columns=cols)
    # Object dtype keeps "no stop" as None (pandas' string dtype would turn it into NaN).
    frame["stops_at"] = pd.Series([r["stops_at"] for r in out], dtype=object, index=frame.index)
    return frame


def _runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Run ids that fetched anything, newest first."""
    return [r[0] for r in con.execute(
        """SELECT r.run_id FROM runs r WHERE EXISTS (SELECT 1 FROM fetches f WHERE f.run_id = r.run_id)
           ORDER BY r.started_at DESC"""
    ).fetchall()]


def changes_since_last_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the latest run changed: new and revised reports, and sources that broke.

    A source broke when the previous run found reports for the agency (some fetch archived bytes)
    and the latest found none, or only errors.
    """
    runs = _runs(con)
    result: dict[str, Any] = {"run_id": runs[0] if runs else None,
                              "previous_run_id": runs[1] if len(runs) > 1 else None,
                              "new_reports": [], "revised_reports": [], "broken_sources": []}
    if not runs:
        return result
    cur = runs[0]
    rows = con.execute(
        """SELECT f.outcome, f.url, f.agency_id, d.report_year, d.title, f.sha256, d.supersedes
           FROM fetches f LEFT JOIN documents d ON d.sha256 = f.sha256
           WHERE f.run_id = ? AND f.outcome IN ('new', 'revised') ORDER BY f.agency_id, f.url""",
        [cur],
    ).fetchall()
    for outcome, url, agency, year, title, sha, supersedes in rows:
        item = {"url": url, "agency_id": agency, "report_year": year, "title": title, "sha256": sha}
        if outcome == "new":
            result["new_reports"].append(item)
        else:
            item["supersedes"] = supersedes
            result["revised_reports"].append(item)
    if len(runs) > 1:
        prev = runs[1]
        broken = con.execute(
            """WITH prev AS (SELECT DISTINCT agency_id FROM fetches WHERE run_id = ? AND sha256 IS NOT NULL),
                    cur AS (SELECT agency_id, count(*) FILTER (WHERE sha256 IS NOT NULL) AS ok,
                                   string_agg(DISTINCT error, '; ') AS errors
                            FROM fetches WHERE run_id = ? GROUP BY agency_id)
               SELECT prev.agency_id, cur.errors FROM prev LEFT JOIN cur USING (agency_id)
               WHERE coalesce(cur.ok, 0) = 0 ORDER BY prev.agency_id""",
            [prev, cur],
        ).fetchall()
        listing = _latest_broken(con)
        result["broken_sources"] = [
            {"agency_id": a, "reason": errors or listing.get(a) or "no report found this run"}
            for a, errors in broken
        ]
    return result


def matrix_summary(con: duckdb.DuckDBPyConnection, matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix counted by level, province (division code's first two digits) and year: how many
    agency-years reached each stage."""
    div = con.execute("""
        SELECT a.agency_id, CASE WHEN length(a.division_code) = 6 THEN a.division_code[1:2] || '0000' END AS province,
               regexp_replace(p.name, '人民政府$', '') AS province_name
        FROM agencies a LEFT JOIN (SELECT division_code, min(name) AS name FROM agencies
                                   WHERE level = 'province' AND kind = 'government' GROUP BY 1) p
          ON p.division_code = a.division_code[1:2] || '0000'""").df()
    m = matrix.merge(div, on="agency_id", how="left")
    for c in ("level", "province", "province_name"):
        m[c] = m[c].astype(object).where(m[c].notna(), "")
    g = m.groupby(["level", "province", "province_name", "report_year"], sort=True)
    out = g[STAGES].sum().astype(int)
    out.insert(0, "agency_years", g.size())
    return out.reset_index()
