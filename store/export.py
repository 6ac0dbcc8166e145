"""CSV exports for researchers: the fact table, the codebook, the identity checks and unplaced values.

Written by DuckDB COPY (``store.csvout``): UTF-8 with a BOM, integers without ``.0``, each file
replaced atomically. Facts and checks take one document per agency-year
(``report_documents``) unless ``all_documents``, so checks line up with the facts they are about; unplaced values
come from every document.
For the versioned, self-describing bundle see ``ogi release`` (``store.release``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ogi.store.csvout import copy_csv
from ogi.store.release.resources import CODEBOOK_SQL

ENCODING = "utf-8-sig"


class NothingMatches(ValueError):
    """A filter that selects no facts (said so, and the command exits non-zero)."""


@dataclass(frozen=True)
class ExportFilter:
    years: tuple[int, ...] = ()
    agencies: tuple[str, ...] = ()  # agency ids or exact names
    sections: tuple[str, ...] = ()  # s2 / s3 / s4 / legacy
    all_documents: bool = False  # False: one document per agency-year (report_facts view)

    def any(self) -> bool:
        return bool(self.years or self.agencies or self.sections)

    def describe(self) -> str:
        parts = [f"--year {y}" for y in self.years] + [f"--agency {a}" for a in self.agencies] + [
            f"--section {s}" for s in self.sections]
        return " ".join(parts)

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


def export_all(con: duckdb.DuckDBPyConnection, out_dir: Path, flt: ExportFilter | None = None,
               on_file: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write facts.csv, checks.csv, unplaced.csv and codebook.csv into ``out_dir``.

    A filter that matches no fact raises NothingMatches before anything is written.
    """
    flt = flt or ExportFilter()
    where, params = flt.where()
    source = "facts_labeled" if flt.all_documents else "report_facts"
    facts_q = f"SELECT * FROM {source}{where} ORDER BY agency_id, report_year, section, row_code, col_code, sha256"
    if flt.any() and not con.execute(f"SELECT count(*) FROM ({facts_q})", params).fetchall()[0][0]:
        years = [r[0] for r in con.execute(f"SELECT DISTINCT report_year FROM {source} ORDER BY 1").fetchall()]
        held = f"years {years[0]}–{years[-1]}" if years else "no facts at all"
        raise NothingMatches(f"no facts match {flt.describe()} (the database holds {held})")
    out_dir.mkdir(parents=True, exist_ok=True)
    step = on_file or (lambda _n: None)
    selected = "" if flt.all_documents else " JOIN report_documents rd USING (sha256)"
    queries = {
        "facts": (facts_q, params),
        "checks": (f"SELECT * EXCLUDE (run_id) FROM (SELECT k.* FROM checks_labeled k{selected}){where} "
                   "ORDER BY agency_id, report_year, sha256, identity_id", params),
        # every document's unplaced values (a value nobody sees is the worst loss), the facts' filter
        "unplaced": ("SELECT * EXCLUDE (agency_name) FROM ("
                     " SELECT d.agency_id, a.name AS agency_name, d.report_year, d.url AS document_url,"
                     " u.* EXCLUDE (run_id)"
                     " FROM unplaced u JOIN documents d USING (sha256)"
                     " LEFT JOIN agencies a ON a.agency_id = d.agency_id"
                     f"){where} ORDER BY agency_id, report_year, sha256, page, table_index, row_index, col_index, "
                     "raw_text", params),
        "codebook": (f'SELECT * FROM ({CODEBOOK_SQL}) ORDER BY section, axis DESC, "order", code', []),
    }
    paths = {}
    for name, (query, qparams) in queries.items():
        paths[name] = out_dir / f"{name}.csv"
        copy_csv(con, query, qparams, paths[name])
        step(name)
    return paths
