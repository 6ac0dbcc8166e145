"""The one loader: writes fetch records and parsed reports into DuckDB, idempotently.

A document is keyed by its sha256. Loading the same document again with the same extractor and
transform versions changes nothing; a re-extracted document (new versions) replaces its own facts,
unplaced values and checks — and nothing else. Documents are loaded a batch at a time
(``load_batch``), one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
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


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: list[str],
            rows: Sequence[Mapping[str, Any]]) -> None:
    """One bulk INSERT of ``rows`` (a whole batch's rows of one table)."""
    if not rows:
        return
    # Built column by column as Python objects, so DuckDB does not see pandas' string dtype quirks.
    _insert_frame(con, table, pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in cols}))


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> None:
    if df.empty:
        return
    df = df.where(df.notna(), None)  # NaN is NULL
    cols = ", ".join(df.columns)
    _with_frame(con, "_incoming", df, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming", [])


def _with_frame(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame, sql: str,
                params: list[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``df`` registered as the view ``name`` (the batch's rows or its shas)."""
    con.register(name, df)
    try:
        rows = con.execute(sql, params).fetchall()
    except BaseException:
        # inside a failed transaction even unregistering fails: the statement's error is the one to raise
        with suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)
    return rows


def _shas(shas: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"sha256": pd.Series(shas, dtype=object)})


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
    """Write one processed document (``load_batch`` of one). Returns "unchanged", "loaded",
    "replaced", "kept" (failed re-extraction; old facts kept), "quarantined" or "container".

    ``record`` describes the document (sha256, url, agency_id, report_year, media_type, fetch
    metadata). ``result`` is what processing returned: either {"status": "quarantined", "reason": ...}
    or {"status": "parsed", "report": ParsedReport.to_dict(), "extractor_version": ...,
    "transform_version": ...}.
    """
    return load_batch(con, [(record, result)], run_id)[0]


Item = tuple[Mapping[str, Any], Mapping[str, Any]]


def load_batch(con: duckdb.DuckDBPyConnection, items: Sequence[Item], run_id: str) -> list[str]:
    """Write a batch of processed documents ``[(record, result), ...]`` in one transaction; return
    each document's outcome, in order, exactly as ``load_document`` would have given it one by one.

    Why batched: the child tables (facts, unplaced, checks) have no index on sha256, so every
    DELETE there scans the whole table (0.6 s per document at 48 M facts). Here the batch's
    previous state is read in one query, DELETEs run only for documents that have rows already
    (none for new documents, the usual case) and then once per table for the whole batch, and each
    table gets one bulk insert. A kill leaves the whole batch or none of it.
    """
    if not items:
        return []
    outcomes: list[str] = []
    con.execute("BEGIN")
    try:
        for segment in _segments(items):
            outcomes += _load_segment(con, segment, run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return outcomes


def _segments(items: Sequence[Item]) -> list[list[Item]]:
    """Consecutive runs of distinct documents: a document given twice in one batch is loaded after
    its first load is written, as two load_document calls would (one run in practice)."""
    out: list[list[Item]] = [[]]
    seen: set[str] = set()
    for item in items:
        sha = item[0]["sha256"]
        if sha in seen:
            out.append([])
            seen = set()
        seen.add(sha)
        out[-1].append(item)
    return out


def _load_segment(con: duckdb.DuckDBPyConnection, items: list[Item], run_id: str) -> list[str]:
    """Load documents with distinct sha256 (inside the caller's transaction)."""
    shas = [record["sha256"] for record, _ in items]
    prev = {r[0]: r[1:] for r in _with_frame(
        con, "_batch_shas", _shas(shas),
        """SELECT d.sha256, d.extractor_version, d.transform_version, d.status, d.first_run_id,
                  d.quarantine_reason FROM documents d JOIN _batch_shas b ON d.sha256 = b.sha256""", [])}

    outcomes: list[str] = []
    touched: list[str] = []
    kept: list[dict[str, Any]] = []
    replaced: list[str] = []  # written again over rows already stored
    docs: list[dict[str, Any]] = []
    facts, unplaced, checks = _Columns(FACT_COLS), _Columns(UNPLACED_COLS), _Columns(CHECK_COLS)
    for record, result in items:
        sha = record["sha256"]
        p = prev.get(sha)
        ev, tv = result.get("extractor_version"), result.get("transform_version")
        status: str = "loaded" if result["status"] == "parsed" else result["status"]  # quarantined / container
        reason = result.get("reason") if status != "loaded" else None
        if p and p[0] == ev and p[1] == tv and p[2] == status and p[4] == reason:
            touched.append(sha)
            outcomes.append("unchanged")
            continue
        if status != "loaded" and p and p[2] == "loaded":
            # Nothing already stored is lost: a document that loaded before and now fails to re-extract
            # (a regression in a new extractor, say) keeps its facts; the failure is recorded beside them.
            kept.append({"sha256": sha, "extractor_version": ev, "transform_version": tv,
                         "quarantine_reason": f"re-extraction failed, facts of extractor {p[0]} kept: {reason}"})
            outcomes.append("kept")
            continue
        report = result.get("report") or {}
        year = record.get("report_year") or report.get("report_year")
        docs.append({
            **{c: record.get(c) for c in DOC_COLS},
            "status": status,
            "quarantine_reason": reason,
            "extractor_version": ev,
            "transform_version": tv,
            "template_version": report.get("template_version"),
            "version_evidence": report.get("version_evidence"),
            "sections": report.get("sections") or None,
            "scope": record.get("scope") or report.get("scope"),
            "report_year": year,
            "first_run_id": p[3] if p else run_id,
            "last_run_id": run_id,
            "loaded_at": _now() if status == "loaded" else None,
        })
        if p:
            replaced.append(sha)
        if status == "loaded":
            base = {"sha256": sha, "run_id": run_id}
            facts.add(report.get("facts", []), {**base, "agency_id": record.get("agency_id"), "report_year": year,
                                                "template_version": report.get("template_version")})
            unplaced.add(report.get("unplaced", []), base)
            checks.add(report.get("checks", []), base)
            outcomes.append("replaced" if p else "loaded")
        else:
            outcomes.append(status)

    if touched:
        _with_frame(con, "_batch_touched", _shas(touched),
                    "UPDATE documents SET last_run_id = ? FROM _batch_touched t WHERE documents.sha256 = t.sha256",
                    [run_id])
    if kept:
        _with_frame(con, "_batch_kept", pd.DataFrame(kept, dtype=object),
                    """UPDATE documents SET extractor_version = k.extractor_version,
                       transform_version = k.transform_version, last_run_id = ?,
                       quarantine_reason = k.quarantine_reason
                       FROM _batch_kept k WHERE documents.sha256 = k.sha256""", [run_id])
    if replaced:
        # only documents stored before have rows to delete: one DELETE per table for the batch
        for table in ("facts", "unplaced", "checks", "documents"):
            _with_frame(con, "_batch_replaced", _shas(replaced),
                        f"DELETE FROM {table} WHERE sha256 IN (SELECT sha256 FROM _batch_replaced)", [])
    _insert(con, "documents", DOC_COLS, docs)
    facts.insert(con, "facts")
    unplaced.insert(con, "unplaced")
    checks.insert(con, "checks")
    return outcomes


class _Columns:
    """A batch's rows of one child table, gathered column by column (no dict per row: 6 400 facts
    a batch), each row's own values overridden by the document's (sha256, run_id …)."""

    def __init__(self, cols: list[str]) -> None:
        self.columns: dict[str, list[Any]] = {c: [] for c in cols}

    def add(self, rows: list[Mapping[str, Any]], fixed: Mapping[str, Any]) -> None:
        for c, values in self.columns.items():
            if c in fixed:
                values.extend([fixed[c]] * len(rows))
            else:
                values.extend([r.get(c) for r in rows])

    def insert(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        _insert_frame(con, table, pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in self.columns.items()}))


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
