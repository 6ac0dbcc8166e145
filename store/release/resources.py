"""What the bundle holds: one Resource per file pair (CSV + Parquet), each a deterministic query.

Every query orders its rows by a total key, so the same database gives the same bytes. Filters
(years, agencies, sections) apply to the resources that carry those columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from pypinyin import lazy_pinyin

from ogi.store.coverage import coverage_matrix


@dataclass(frozen=True)
class Filters:
    years: tuple[int, ...] = ()
    agency_ids: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()

    def clause(self, dims: tuple[str, ...]) -> tuple[str, list[object]]:
        parts: list[str] = []
        params: list[object] = []
        for dim, values, column in (("year", self.years, "report_year"), ("agency", self.agency_ids, "agency_id"),
                                    ("section", self.sections, "section")):
            if dim in dims and values:
                parts.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += list(values)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def as_dict(self) -> dict[str, list]:
        return {"years": list(self.years), "agencies": list(self.agency_ids), "sections": list(self.sections)}


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    name: str
    order_by: tuple[str, ...]
    dims: tuple[str, ...] = ()  # which filters apply: year / agency / section
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    sql: str = ""  # the query; or ``prepare`` registers a relation named after the resource
    prepare: Callable[[duckdb.DuckDBPyConnection, Filters], None] | None = field(default=None, compare=False)

    def query(self, flt: Filters) -> tuple[str, list[object]]:
        source = f"_release_{self.name}" if self.prepare else f"({self.sql})"
        where, params = flt.clause(self.dims)
        order = ", ".join(f'"{c.split(" ")[0]}" {" ".join(c.split(" ")[1:])}'.strip() for c in self.order_by)
        return f"SELECT * FROM {source} AS r{where} ORDER BY {order}", params


AGENCY_FK = ForeignKey(("agency_id",), "agencies", ("agency_id",))
DOCUMENT_FK = ForeignKey(("sha256",), "documents", ("sha256",))

FACTS_SQL = """
SELECT rf.agency_id, rf.agency_name, rf.agency_level, rf.division_code, rf.report_year, rf.scope,
       rf.template_version, rf.section, rf.row_code, rf.row_path, rf.row_label_en, rf.col_code, rf.col_path,
       rf.col_label_en, rf.value, rf.value_status, rf.unit, rf.value_corrected, rf.corrected, rf.confidence,
       rf.sha256, rf.document_url, rf.media_type, rf.page, rf.table_index, rf.row_index, rf.col_index,
       rf.raw_text, rf.row_label_raw, rf.col_label_raw, d.extractor_version, d.transform_version
FROM report_facts rf JOIN documents d USING (sha256)
"""

PANEL_SQL = """
SELECT series_id, series_label_en, series_label_zh, section, comparability, derived, formula, agency_id,
       agency_name, report_year, template_version, scope, row_code, col_code, headline, value, value_extracted,
       corrected, value_status, unit, sha256, page
FROM panel
"""

DOCUMENTS_SQL = """
SELECT d.sha256, d.agency_id, d.report_year, d.title, d.scope, d.url, d.media_type, d.size_bytes, d.fetched_at,
       d.http_status, d.status, d.quarantine_reason, d.template_version, d.version_evidence, d.extractor_version,
       d.transform_version, d.supersedes, d.sections, rd.sha256 IS NOT NULL AS selected,
       (SELECT count(*) FROM facts f WHERE f.sha256 = d.sha256) AS n_facts,
       (SELECT count(*) FROM checks k WHERE k.sha256 = d.sha256 AND k.status = 'failed'
                                        AND coalesce(k.severity, 'error') = 'error') AS n_failed_checks,
       (SELECT count(*) FROM unplaced u WHERE u.sha256 = d.sha256) AS n_unplaced
FROM documents d LEFT JOIN report_documents rd USING (sha256)
"""

CHECKS_SQL = """
SELECT k.agency_id, k.agency_name, k.report_year, k.sha256, k.identity_id, k.check_kind, k.check_family,
       k.section, k.status, k.severity, k.lhs, k.rhs, k.description, k.detail
FROM checks_labeled k JOIN report_documents rd USING (sha256)
"""

UNPLACED_SQL = """
SELECT d.agency_id, a.name AS agency_name, d.report_year, u.sha256, rd.sha256 IS NOT NULL AS selected, u.section,
       u.raw_text, u.row_label_raw, u.col_label_raw, u.page, u.table_index, u.row_index, u.col_index, u.reason,
       u.best_guess
FROM unplaced u JOIN documents d USING (sha256)
LEFT JOIN agencies a ON a.agency_id = d.agency_id
LEFT JOIN report_documents rd ON rd.sha256 = u.sha256
"""

# comparability of a code: the distinct levels of the crosswalk series that use it (as row, as
# column, or as a column of a section whose series take every column), else those of its children;
# a code in no series (headers, cumulative columns) is not lined up across templates.
CODEBOOK_SQL = """
WITH uses AS (
    SELECT c.code, x.comparability, x.series_id
    FROM codebook c JOIN crosswalk x
      ON x.row_code = c.code OR x.col_code = c.code
      OR (x.col_code = '*' AND c.axis = 'col' AND c.section = x.section)
),
direct AS (
    SELECT code, list_sort(list_distinct(list(comparability))) AS levels,
           string_agg(DISTINCT series_id, '|' ORDER BY series_id) AS series
    FROM uses GROUP BY code
),
children AS (
    SELECT c.parent AS code, list_sort(list_distinct(flatten(list(d.levels)))) AS levels
    FROM codebook c JOIN direct d ON d.code = c.code WHERE c.parent IS NOT NULL GROUP BY c.parent
)
SELECT c.code, c.section, c.axis, c.parent, c."order", c.label_zh, c.label_en, c.label_path, c.unit, c.versions,
       c.signed,
       coalesce(array_to_string(list_sort(coalesce(d.levels, ch.levels),
                'ASC'), '|'), 'not_comparable') AS comparability,
       d.series
FROM codebook c LEFT JOIN direct d USING (code) LEFT JOIN children ch USING (code)
"""

CROSSWALK_SQL = """
SELECT seq, series_id, section, row_code, col_code, versions, comparability, label_en, label_zh,
       nullif(derived, '') AS derived, nullif(numerator, '') AS numerator, nullif(denominator, '') AS denominator,
       nullif(formula, '') AS formula, note
FROM crosswalk
"""

CORRECTIONS_SQL = """
SELECT k.sha256, d.agency_id, d.report_year, k.row_code, k.col_code, f.value AS value_extracted,
       k.corrected_value, k.reason, k.reviewer, k.review_date, k.evidence
FROM corrections k JOIN documents d USING (sha256)
LEFT JOIN facts f ON f.sha256 = k.sha256 AND f.row_code = k.row_code AND f.col_code = k.col_code
"""


def pinyin(name: str | None) -> str | None:
    """Tone-less pinyin, one syllable per character (pypinyin's phrase table picks readings of
    polyphonic characters, e.g. 重庆 → chong qing)."""
    if not name:
        return None
    return " ".join(s for s in lazy_pinyin(name, errors="default") if s.strip())


def _prepare_agencies(con: duckdb.DuckDBPyConnection, flt: Filters) -> None:
    df = con.execute("""
        SELECT a.agency_id, a.name, a.kind, a.level, a.division_code,
               CASE WHEN length(a.division_code) = 6 THEN a.division_code[1:2] || '0000' END AS province_code,
               regexp_replace(p.name, '人民政府$', '') AS province, a.parent_id, a.in_registry
        FROM agencies a
        LEFT JOIN (SELECT division_code, min(name) AS name FROM agencies
                   WHERE level = 'province' AND kind = 'government' GROUP BY 1) p
          ON p.division_code = a.division_code[1:2] || '0000'
    """).df()
    df.insert(2, "name_pinyin", [pinyin(n) for n in df["name"]])
    df.insert(3, "name_en", pd.Series([None] * len(df), dtype=object))
    _register(con, "agencies", df)


def _prepare_coverage(con: duckdb.DuckDBPyConnection, flt: Filters) -> None:
    df = coverage_matrix(con, years=list(flt.years) or None)
    _register(con, "coverage", df)


def _register(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> None:
    # a temporary table (allowed on a read-only connection) gives DuckDB exact column types
    con.register("_release_incoming", df)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _release_{name} AS SELECT * FROM _release_incoming")
    finally:
        con.unregister("_release_incoming")


def panel_series(con: duckdb.DuckDBPyConnection, sections: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The wide panel's variables, in crosswalk order: every comparable series (data or not)."""
    rows = con.execute("""
        SELECT x.series_id, min(x.seq) AS seq, any_value(x.section ORDER BY x.seq) AS section,
               string_agg(DISTINCT x.comparability, '|' ORDER BY x.comparability) AS comparability,
               any_value(x.label_en ORDER BY x.seq) AS label_en, any_value(x.label_zh ORDER BY x.seq) AS label_zh,
               any_value(nullif(x.formula, '') ORDER BY x.seq) AS formula,
               any_value(nullif(x.derived, '') ORDER BY x.seq) AS derived,
               any_value(CASE WHEN x.derived = 'ratio' THEN 'ratio' ELSE c.unit END ORDER BY x.seq) AS unit,
               list(DISTINCT x.section) AS sections
        FROM crosswalk x LEFT JOIN codebook c ON c.code = x.row_code
        WHERE x.comparability IN ('exact', 'approximate')
        GROUP BY x.series_id ORDER BY seq
    """).fetchall()
    out = []
    for sid, _seq, section, comp, en, zh, formula, derived, unit, secs in rows:
        if sections and not set(secs) & set(sections):
            continue
        out.append({"series_id": sid, "section": section, "comparability": comp, "label_en": en, "label_zh": zh,
                    "formula": formula, "derived": derived, "unit": unit})
    return out


def _prepare_panel_wide(con: duckdb.DuckDBPyConnection, flt: Filters) -> None:
    dupes = con.execute("""SELECT sha256, series_id, count(*) FROM panel WHERE headline
                           GROUP BY ALL HAVING count(*) > 1 ORDER BY 1, 2 LIMIT 5""").fetchall()
    if dupes:  # two values for one cell of the wide panel: a crosswalk defect, never pick one silently
        raise ValueError(f"panel: several headline values for one report and series: {dupes}")
    cols = ",\n".join(
        f"""max(p.value) FILTER (WHERE p.series_id = '{s["series_id"]}') AS "{s["series_id"]}" """
        for s in panel_series(con, flt.sections))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _release_panel_wide AS
        SELECT rd.agency_id, a.name AS agency_name, a.level AS agency_level, a.division_code, rd.report_year,
               d.scope, d.template_version, rd.sha256{"," if cols else ""}
               {cols}
        FROM report_documents rd JOIN documents d USING (sha256)
        LEFT JOIN agencies a ON a.agency_id = rd.agency_id
        LEFT JOIN panel p ON p.sha256 = rd.sha256 AND p.headline
        GROUP BY ALL
    """)


RESOURCES: tuple[Resource, ...] = (
    Resource("facts", ("agency_id", "report_year", "section", "row_code", "col_code", "sha256"),
             ("year", "agency", "section"), ("sha256", "row_code", "col_code"),
             (AGENCY_FK, DOCUMENT_FK, ForeignKey(("row_code",), "codebook", ("code",)),
              ForeignKey(("col_code",), "codebook", ("code",))), sql=FACTS_SQL),
    Resource("panel", ("agency_id", "report_year", "series_id", "col_code", "sha256"), ("year", "agency", "section"),
             ("sha256", "series_id", "col_code"), (AGENCY_FK, DOCUMENT_FK), sql=PANEL_SQL),
    Resource("panel_wide", ("agency_id", "report_year"), ("year", "agency"), ("agency_id", "report_year"),
             (AGENCY_FK, DOCUMENT_FK), prepare=_prepare_panel_wide),
    Resource("documents", ("agency_id", "report_year", "sha256"), ("year", "agency"), ("sha256",), (AGENCY_FK,),
             sql=DOCUMENTS_SQL),
    Resource("agencies", ("agency_id",), ("agency",), ("agency_id",), prepare=_prepare_agencies),
    Resource("checks", ("agency_id", "report_year", "sha256", "identity_id"), ("year", "agency", "section"),
             ("sha256", "identity_id"), (AGENCY_FK, DOCUMENT_FK), sql=CHECKS_SQL),
    Resource("unplaced", ("agency_id", "report_year", "sha256", "section", "page", "table_index", "row_index",
                          "col_index", "raw_text", "row_label_raw", "col_label_raw", "reason", "best_guess"),
             ("year", "agency", "section"), (), (AGENCY_FK, DOCUMENT_FK), sql=UNPLACED_SQL),
    Resource("coverage", ("agency_id", "report_year"), ("year", "agency"), ("agency_id", "report_year"),
             (AGENCY_FK,), prepare=_prepare_coverage),
    Resource("corrections", ("sha256", "row_code", "col_code"), ("year", "agency"), ("sha256", "row_code", "col_code"),
             (DOCUMENT_FK,), sql=CORRECTIONS_SQL),
    Resource("codebook", ("section", "axis DESC", "order", "code"), (), ("code",), sql=CODEBOOK_SQL),
    Resource("crosswalk", ("seq",), (), ("seq",), sql=CROSSWALK_SQL),
)
