"""CSV exports for researchers: the fact table, the codebook, the identity checks and unplaced values.

Written by DuckDB COPY (``store.csvout``): UTF-8 with a BOM, integers without ``.0``. The four files
are one set, never a mix of two exports: they are written into a staging directory beside the
export directory, with ``manifest.json`` last (each file's sha256, bytes and rows, and the run they
come from), flushed to disk, and the staging directory is then swapped with the export directory in
one atomic rename (``store.swapdir``). A kill at any moment leaves the previous complete set or the
new one; whatever a killed export left beside it is cleared (or, if it is the only complete set,
moved into place) by the next export. ``verify_export`` is what a reader checks. Facts and checks take one document per agency-year
(``report_documents``) unless ``all_documents``, so checks line up with the facts they are about; unplaced values
come from every document.
For the versioned, self-describing bundle see ``ogi release`` (``store.release``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ogi.store.csvout import copy_csv
from ogi.store.release.resources import CODEBOOK_SQL
from ogi.store.swapdir import publish_directory, recover_directory, staging_directory

ENCODING = "utf-8-sig"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "ogi-export/1"
EXPORT_FILES = ("facts.csv", "checks.csv", "unplaced.csv", "codebook.csv")


class IncompleteExport(ValueError):
    """A directory that does not hold one complete export (the message says what is wrong)."""


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
    """Write facts.csv, checks.csv, unplaced.csv, codebook.csv and manifest.json into ``out_dir``, as
    one set replacing the previous one atomically (module doc).

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
    out_dir = Path(out_dir)
    if out_dir.is_symlink():  # swap the directory it points to, never the link itself
        out_dir = out_dir.resolve()
    recover_export(out_dir)
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
    with staging_directory(out_dir) as stage:
        files: dict[str, dict[str, object]] = {}
        for name, (query, qparams) in queries.items():
            rows = copy_csv(con, query, qparams, stage / f"{name}.csv")
            files[f"{name}.csv"] = {"rows": rows, **_digest(stage / f"{name}.csv")}
            step(name)
        manifest = {"format": MANIFEST_FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "run": _latest_run(con), "filter": flt.describe(), "all_documents": flt.all_documents,
                    "files": files}
        (stage / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        publish_directory(stage, out_dir, owned=(*EXPORT_FILES, MANIFEST), marker=MANIFEST)
    return {name: out_dir / f"{name}.csv" for name in queries}


def _digest(path: Path) -> dict[str, object]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"sha256": h.hexdigest(), "bytes": size}


def _latest_run(con: duckdb.DuckDBPyConnection) -> dict[str, object] | None:
    """The run whose data the export holds: the latest one started (the running night itself when the
    flow exports; the last finished one when ``ogi export`` reads the snapshot)."""
    row = con.execute("SELECT run_id, status, started_at FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "status": row[1], "started_at": row[2].isoformat() if row[2] else None}


def read_manifest(out_dir: Path) -> dict:
    """The manifest of the export in ``out_dir`` (IncompleteExport when there is none or it is unreadable)."""
    path = Path(out_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IncompleteExport(f"{out_dir}: no {MANIFEST}, so not a complete export") from None
    except (OSError, ValueError) as exc:
        raise IncompleteExport(f"{path}: unreadable ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise IncompleteExport(f"{path}: not an {MANIFEST_FORMAT} manifest")
    return manifest


def verify_export(out_dir: Path) -> dict:
    """Check that ``out_dir`` holds one complete export: the manifest and every file it names, each
    with its recorded size and sha256. Returns the manifest; raises IncompleteExport naming the first
    file that differs."""
    manifest = read_manifest(out_dir)
    files = manifest.get("files") or {}
    if sorted(files) != sorted(EXPORT_FILES):
        raise IncompleteExport(f"{out_dir}: the manifest names {sorted(files)}, not {sorted(EXPORT_FILES)}")
    for name, want in files.items():
        path = Path(out_dir) / name
        if not path.is_file():
            raise IncompleteExport(f"{path}: named in the manifest but missing")
        got = _digest(path)
        if got != {"sha256": want.get("sha256"), "bytes": want.get("bytes")}:
            raise IncompleteExport(f"{path}: {got['bytes']} bytes, sha256 {str(got['sha256'])[:12]}…, "
                                   f"not those the manifest records ({want.get('bytes')} bytes, "
                                   f"{str(want.get('sha256'))[:12]}…): not the export the manifest describes")
    return manifest


def recover_export(out_dir: Path) -> None:
    """Clear what a killed export left beside ``out_dir``; if ``out_dir`` itself is gone and a leftover
    holds a complete export, that one is moved into place (the newest, by its manifest)."""
    def complete(d: Path) -> str | None:
        try:
            return str(verify_export(d).get("created_at") or "")
        except IncompleteExport:
            return None

    recover_directory(out_dir, complete)
