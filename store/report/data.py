"""The numbers behind the quality report, each a query on a connection handed in (the live
database or a read-only snapshot). Checks count over the selected documents (report_documents),
as the facts do, so a report's HTML page and PDF are not counted twice.
"""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from ogi.store.coverage import coverage_matrix

KEY_SERIES = ["requests_new", "outcome_total", "outcome_granted", "outcome_refused", "cases_review_total",
              "grant_rate", "refusal_share"]
# at least this many non-zero cells in common before two years' tables count as "equal"
MIN_EQUAL_CELLS = 10


def coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The coverage matrix with each agency's province (division code's first two digits)."""
    m = coverage_matrix(con)
    prov = con.execute("""
        SELECT a.agency_id, CASE WHEN length(a.division_code) = 6 THEN a.division_code[1:2] || '0000' END AS pcode,
               regexp_replace(p.name, '人民政府$', '') AS province
        FROM agencies a LEFT JOIN (SELECT division_code, min(name) AS name FROM agencies
                                   WHERE level = 'province' AND kind = 'government' GROUP BY 1) p
          ON p.division_code = a.division_code[1:2] || '0000'""").df()
    m = m.merge(prov, on="agency_id", how="left")
    label = m["province"].where(m["province"].notna(), m["pcode"])
    m["province_label"] = label.where(label.notna(), "unknown").astype(str)
    m["level"] = m["level"].where(m["level"].notna(), "unknown").astype(str)
    return m


def documents_by_format(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""SELECT coalesce(media_type, 'unknown') AS media_type, status, count(*) AS n
                          FROM documents GROUP BY ALL ORDER BY 1, 2""").df()


def _reason_kind(reason: str) -> str:
    """The reason without the file name it starts with ("x.pdf: PDF is corrupt: …" → "PDF is corrupt")."""
    text = re.sub(r"^[^:]*\.(pdf|html?|docx?|wps|xlsx?|txt)\s*:\s*", "", reason or "", flags=re.I)
    return text.split(":")[0].strip()[:70] or "unknown"


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = con.execute("SELECT quarantine_reason FROM documents WHERE status = 'quarantined'").df()
    if df.empty:
        return pd.DataFrame({"reason": pd.Series(dtype=str), "n": pd.Series(dtype=int)})
    df["reason"] = [_reason_kind(r) for r in df["quarantine_reason"]]
    return df.groupby("reason").size().rename("n").reset_index().sort_values(["n", "reason"], ascending=[False, True])


def check_rates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Failure rate per check kind and report year, over checks that could be checked."""
    return con.execute("""
        SELECT k.check_family, k.check_kind, k.report_year, coalesce(k.severity, 'error') AS severity,
               count(*) FILTER (WHERE k.status = 'failed') AS failed,
               count(*) FILTER (WHERE k.status IN ('passed', 'failed')) AS checked
        FROM checks_labeled k JOIN report_documents rd USING (sha256)
        GROUP BY ALL ORDER BY 1, 2, 3""").df()


def key_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    ph = ", ".join("?" * len(KEY_SERIES))
    return con.execute(f"""
        SELECT series_id, agency_id, agency_name, report_year, value FROM panel
        WHERE headline AND value IS NOT NULL AND series_id IN ({ph})
        ORDER BY series_id, agency_id, report_year""", KEY_SERIES).df()


def outliers(values: pd.DataFrame) -> pd.DataFrame:
    """Values beyond 1.5 interquartile ranges of their series (counts on a log scale)."""
    import numpy as np

    rows = []
    for sid, grp in values.groupby("series_id"):
        ratio = sid in ("grant_rate", "refusal_share")
        x = grp["value"].astype(float)
        scaled = x if ratio else pd.Series(np.log1p(x.clip(lower=0)), index=x.index)
        q1, q3 = scaled.quantile(0.25), scaled.quantile(0.75)
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        for (_, r), s in zip(grp.iterrows(), scaled, strict=True):
            if s < lo or s > hi:
                rows.append({"series_id": sid, "agency_id": r["agency_id"], "agency_name": r["agency_name"],
                             "report_year": int(r["report_year"]), "value": r["value"],
                             "why": "above" if s > hi else "below"})
    return pd.DataFrame(rows, columns=["series_id", "agency_id", "agency_name", "report_year", "value", "why"])


def year_over_year(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """For each report and the same agency's previous year: cells compared and cells equal."""
    return con.execute(f"""
        WITH f AS (SELECT agency_id, agency_name, report_year, section, row_code, col_code, value, sha256
                   FROM report_facts WHERE value IS NOT NULL)
        SELECT cur.agency_id, any_value(cur.agency_name) AS agency_name, cur.report_year,
               cur.report_year - 1 AS previous_year,
               count(*) AS cells, count(*) FILTER (WHERE cur.value = prev.value) AS equal,
               count(*) FILTER (WHERE cur.value <> 0) AS nonzero,
               count(*) FILTER (WHERE cur.value = prev.value) = count(*)
                   AND count(*) FILTER (WHERE cur.value <> 0) >= {MIN_EQUAL_CELLS} AS suspect
        FROM f cur JOIN f prev ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1
                              AND prev.section = cur.section AND prev.row_code = cur.row_code
                              AND prev.col_code = cur.col_code
        GROUP BY cur.agency_id, cur.report_year ORDER BY cur.agency_id, cur.report_year""").df()


def worst_sources(con: duckdb.DuckDBPyConnection, cov: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """Agencies by problems: expected years without facts, quarantined documents, failed identities,
    fetch errors."""
    docs = con.execute("""
        SELECT agency_id, count(*) FILTER (WHERE status = 'quarantined') AS quarantined
        FROM documents WHERE agency_id IS NOT NULL GROUP BY 1""").df()
    g = cov.groupby(["agency_id", "name"], dropna=False).agg(
        missing_years=("loaded", lambda s: int((~s & cov.loc[s.index, "expected"]).sum())),
        identity_failures=("identity_failures", "sum"), fetch_errors=("fetch_errors", "sum")).reset_index()
    g = g.merge(docs, on="agency_id", how="left")
    g["quarantined"] = g["quarantined"].fillna(0).astype(int)
    g["problems"] = g["missing_years"] + g["quarantined"] + g["identity_failures"] + g["fetch_errors"]
    g = g[g["problems"] > 0].sort_values(["problems", "agency_id"], ascending=[False, True])
    return g.head(limit)
