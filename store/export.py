"""CSV exports for researchers: the fact table, the codebook and the identity checks.

Files are UTF-8 with a BOM (``utf-8-sig``) so that Excel, the tool most recipients open them
with, shows the Chinese labels correctly; pandas, R and DuckDB read the BOM transparently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class ExportFilter:
    years: tuple[int, ...] = ()
    agencies: tuple[str, ...] = ()  # agency ids or exact names
    sections: tuple[str, ...] = ()  # s2 / s3 / s4 / legacy
    all_documents: bool = False  # False: one document per agency-year (report_facts view)

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        params: list[object] = []
        if self.years:
            clauses.append(f"report_year IN ({', '.join('?' * len(self.years))})")
            params += list(self.years)
        if self.agencies:
            ph = ", ".join("?" * len(self.agencies))
            clauses.append(f"(agency_id IN ({ph}) OR agency_name IN ({ph}))")
            params += list(self.agencies) * 2
        if self.sections:
            clauses.append(f"section IN ({', '.join('?' * len(self.sections))})")
            params += list(self.sections)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def export_all(con: duckdb.DuckDBPyConnection, out_dir: Path, flt: ExportFilter | None = None) -> dict[str, Path]:
    """Write facts.csv, checks.csv, unplaced.csv and codebook.csv into ``out_dir``."""
    flt = flt or ExportFilter()
    out_dir.mkdir(parents=True, exist_ok=True)
    where, params = flt.where()
    source = "facts_labeled" if flt.all_documents else "report_facts"
    paths = {}
    facts = con.execute(
        f"SELECT * FROM {source}{where} ORDER BY agency_id, report_year, section, row_code, col_code", params
    ).df()
    paths["facts"] = out_dir / "facts.csv"
    facts.to_csv(paths["facts"], index=False, encoding=ENCODING)

    checks = con.execute(
        f"SELECT * EXCLUDE (run_id) FROM checks_labeled{where} ORDER BY agency_id, report_year, identity_id",
        params,
    ).df()
    paths["checks"] = out_dir / "checks.csv"
    checks.to_csv(paths["checks"], index=False, encoding=ENCODING)

    # The same filter as the facts (year, agency id or name, section), applied in the query.
    unplaced = con.execute(
        "SELECT * EXCLUDE (agency_name) FROM ("
        " SELECT d.agency_id, a.name AS agency_name, d.report_year, d.url AS document_url, u.* EXCLUDE (run_id)"
        " FROM unplaced u JOIN documents d USING (sha256) LEFT JOIN agencies a ON a.agency_id = d.agency_id"
        f"){where} ORDER BY agency_id, report_year, page, row_index",
        params,
    ).df()
    paths["unplaced"] = out_dir / "unplaced.csv"
    unplaced.to_csv(paths["unplaced"], index=False, encoding=ENCODING)

    codebook = con.execute(
        'SELECT c.*, x.comparability FROM codebook c LEFT JOIN '
        '(SELECT row_code AS code, string_agg(DISTINCT comparability, \'|\') AS comparability '
        ' FROM crosswalk GROUP BY 1) x USING (code) ORDER BY section, axis DESC, "order"'
    ).df()
    paths["codebook"] = out_dir / "codebook.csv"
    codebook.to_csv(paths["codebook"], index=False, encoding=ENCODING)
    return paths
