"""The one loader: writes fetch records and parsed reports into DuckDB, idempotently.

A document is keyed by its sha256. Loading the same document again with the same extractor and
transform versions changes nothing; a re-extracted document (new versions) replaces its own facts,
unplaced values and checks — and nothing else — inside one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

FACT_COLS = [
    "sha256", "agency_id", "report_year", "template_version", "section", "row_code", "col_code",
    "value", "value_status", "unit", "raw_text", "page", "table_index", "row_index", "col_index",
    "row_label_raw", "col_label_raw", "confidence", "run_id",
]
UNPLACED_COLS = [
    "sha256", "section", "raw_text", "row_label_raw", "col_label_raw", "page", "table_index",
    "row_index", "col_index", "reason", "best_guess", "run_id",
]
CHECK_COLS = [
    "sha256", "identity_id", "section", "status", "lhs", "rhs", "description", "detail", "severity", "run_id",
]
DOC_COLS = [
    "sha256", "url", "agency_id", "report_year", "title", "scope", "media_type", "size_bytes", "fetched_at",
    "http_status", "etag", "last_modified", "status", "quarantine_reason", "extractor_version",
    "transform_version", "template_version", "version_evidence", "supersedes", "first_run_id",
    "last_run_id", "loaded_at", "sections",
]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: list[str], rows: list[Mapping[str, Any]]) -> None:
    if not rows:
        return
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    # Keep text columns as Python objects so DuckDB does not see pandas' string dtype quirks.
    df = df.astype(object).where(df.notna(), None)
    con.register("_incoming", df)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming")
    finally:
        con.unregister("_incoming")


def upsert_agencies(con: duckdb.DuckDBPyConnection, agencies: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update registry agencies (the registry in git is the source of truth), in one
    statement for the whole registry (a statement per agency took minutes at 3 000 agencies)."""
    cols = ["agency_id", "name", "kind", "level", "division_code", "parent_id", "listing_urls"]
    rows = [{**{c: a.get(c) for c in cols}, "listing_urls": [str(u) for u in a.get("listing_urls") or []]}
            for a in agencies]
    if not rows:
        return 0
    df = pd.DataFrame(rows, columns=cols).astype(object)
    con.register("_incoming", df)
    try:
        con.execute(
            f"""INSERT INTO agencies ({', '.join(cols)}, in_registry)
               SELECT agency_id, name, kind, level, division_code, parent_id,
                      CAST(listing_urls AS VARCHAR[]), TRUE FROM _incoming
               ON CONFLICT (agency_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 level = excluded.level, division_code = excluded.division_code,
                 parent_id = excluded.parent_id, listing_urls = excluded.listing_urls, in_registry = TRUE""")
    finally:
        con.unregister("_incoming")
    return len(rows)


def insert_missing_agencies(con: duckdb.DuckDBPyConnection, agencies: Iterable[Mapping[str, Any]]) -> None:
    """Add agencies of the expected universe that the registry does not (yet) list."""
    cols = ["agency_id", "name", "kind", "level", "division_code", "parent_id", "listing_urls", "in_registry"]
    rows = [{c: a.get(c) for c in cols} for a in agencies]
    if not rows:
        return
    df = pd.DataFrame(rows, columns=cols).astype(object)
    con.register("_incoming", df)
    try:
        con.execute(f"INSERT INTO agencies ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming "
                    "ON CONFLICT (agency_id) DO NOTHING")
    finally:
        con.unregister("_incoming")


def set_expected_reports(con: duckdb.DuckDBPyConnection, agency_ids: list[str], years: list[int]) -> None:
    """Record which agency-years should have a report (idempotent)."""
    df = pd.DataFrame([(a, int(y)) for a in agency_ids for y in years], columns=["agency_id", "report_year"])
    if df.empty:
        return
    con.register("_incoming", df)
    try:
        con.execute("INSERT INTO expected_reports SELECT agency_id, report_year FROM _incoming ON CONFLICT DO NOTHING")
    finally:
        con.unregister("_incoming")


def record_fetches(con: duckdb.DuckDBPyConnection, run_id: str, fetches: list[Mapping[str, Any]]) -> None:
    """Append every fetch attempt (the revision and breakage history)."""
    cols = ["run_id", "url", "agency_id", "report_year", "fetched_at", "http_status", "outcome", "sha256", "error",
            "etag", "last_modified"]
    _insert(con, "fetches", cols, [{**f, "run_id": run_id} for f in fetches])


def stored_versions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None, str]]:
    """sha256 → (extractor_version, transform_version, status) of every known document."""
    rows = con.execute("SELECT sha256, extractor_version, transform_version, status FROM documents").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def load_document(
    con: duckdb.DuckDBPyConnection,
    record: Mapping[str, Any],
    result: Mapping[str, Any],
    run_id: str,
) -> str:
    """Write one processed document. Returns "unchanged", "loaded", "replaced", "kept" (failed re-extraction; old facts kept),
    "quarantined" or "container".

    ``record`` describes the document (sha256, url, agency_id, report_year, media_type, fetch
    metadata). ``result`` is what processing returned: either {"status": "quarantined", "reason": ...}
    or {"status": "parsed", "report": ParsedReport.to_dict(), "extractor_version": ...,
    "transform_version": ...}.
    """
    sha = record["sha256"]
    prev = con.execute(
        "SELECT extractor_version, transform_version, status, first_run_id, quarantine_reason FROM documents WHERE sha256 = ?",
        [sha],
    ).fetchone()
    ev, tv = result.get("extractor_version"), result.get("transform_version")
    status = {"parsed": "loaded"}.get(result["status"], result["status"])  # loaded / quarantined / container
    reason = result.get("reason") if status != "loaded" else None
    if prev and prev[0] == ev and prev[1] == tv and prev[2] == status and prev[4] == reason:
        con.execute("UPDATE documents SET last_run_id = ? WHERE sha256 = ?", [run_id, sha])
        return "unchanged"

    if status != "loaded" and prev and prev[2] == "loaded":
        # Nothing already stored is lost: a document that loaded before and now fails to re-extract
        # (a regression in a new extractor, say) keeps its facts; the failure is recorded beside them.
        con.execute(
            """UPDATE documents SET extractor_version = ?, transform_version = ?, last_run_id = ?,
               quarantine_reason = ? WHERE sha256 = ?""",
            [ev, tv, run_id, f"re-extraction failed, facts of extractor {prev[0]} kept: {reason}", sha],
        )
        return "kept"

    report = result.get("report") or {}
    doc_row = {
        **{c: record.get(c) for c in DOC_COLS},
        "status": status,
        "quarantine_reason": reason,
        "extractor_version": ev,
        "transform_version": tv,
        "template_version": report.get("template_version"),
        "version_evidence": report.get("version_evidence"),
        "sections": report.get("sections") or None,
        "scope": record.get("scope") or report.get("scope"),
        "report_year": record.get("report_year") or report.get("report_year"),
        "first_run_id": prev[3] if prev else run_id,
        "last_run_id": run_id,
        "loaded_at": _now() if status == "loaded" else None,
    }
    year = doc_row["report_year"]
    con.execute("BEGIN")
    try:
        for table in ("facts", "unplaced", "checks"):
            con.execute(f"DELETE FROM {table} WHERE sha256 = ?", [sha])
        con.execute("DELETE FROM documents WHERE sha256 = ?", [sha])
        _insert(con, "documents", DOC_COLS, [doc_row])
        if status == "loaded":
            base = {"sha256": sha, "run_id": run_id}
            _insert(con, "facts", FACT_COLS, [
                {**f, **base, "agency_id": record.get("agency_id"), "report_year": year,
                 "template_version": report.get("template_version")}
                for f in report.get("facts", [])
            ])
            _insert(con, "unplaced", UNPLACED_COLS, [{**u, **base} for u in report.get("unplaced", [])])
            _insert(con, "checks", CHECK_COLS, [{**k, **base} for k in report.get("checks", [])])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if status != "loaded":
        return status
    return "replaced" if prev else "loaded"


def touch_documents(con: duckdb.DuckDBPyConnection, shas: list[str], run_id: str) -> None:
    """Mark documents seen again, unchanged, by this run."""
    if shas:
        ph = ", ".join("?" * len(shas))
        con.execute(f"UPDATE documents SET last_run_id = ? WHERE sha256 IN ({ph})", [run_id, *shas])


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str) -> None:
    """Record the run as running. Called under the home's run lock, so any run still marked
    running was left so by a process that died: it is marked interrupted first."""
    con.execute("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'", [_now()])
    con.execute(
        "INSERT INTO runs (run_id, flow, started_at, status) VALUES (?, ?, ?, 'running') ON CONFLICT DO NOTHING",
        [run_id, flow, _now()],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary_json: str) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, summary_json = ? WHERE run_id = ?",
        [_now(), status, summary_json, run_id],
    )
