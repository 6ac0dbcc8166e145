"""The nightly flow: discover → fetch → extract → normalize → validate → load → export.

Tasks take and return plain data (an agency record; a document's hash and bytes) so the flow runs
unchanged on Dask or Ray task runners. The DuckDB connection lives only in this flow's process:
one loader writes the database. Document processing is cached on the document's sha256 plus the
extractor and transform versions, and documents already loaded with the current versions are not
even submitted, so a second night over unchanged sources does almost nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ogi.core import progress
from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION, Settings, __version__
from ogi.fetch.archive import Archive
from ogi.fetch.registry import load_registry
from ogi.fetch.universe import load_universe, universe_agency_rows
from ogi.flows.alert import send_alert, verdict
from ogi.flows.crawl import CrawlOutcome, crawl_registry, task_settings
from ogi.flows.process import process_document
from ogi.flows.reference import reference_rows
from ogi.flows.results import document_result_store
from ogi.store import loader
from ogi.store.corrections import read_corrections
from ogi.store.coverage import changes_since_last_run
from ogi.store.db import VIEWS_SQL, connect, create_views, publish_snapshot, replace_table
from ogi.store.export import export_all
from ogi.store.runlock import run_lock


def document_cache_key(sha256: str) -> str:
    """Same bytes + same code versions → same result, across runs and across batches."""
    return f"doc-{sha256}-x{EXTRACTOR_VERSION}-t{TRANSFORM_VERSION}"


_CACHE_DAYS = 180


@task(name="process-documents", task_run_name="process {label}", cache_policy=NO_CACHE)
def process_batch_task(label: str, docs: list[dict[str, Any]], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Extract, normalize and validate a batch of documents (tens per task, so Prefect's per-task
    cost is paid once per batch). Bytes come from the archive URL, never through the task's
    parameters; each document's result is cached on its own (sha256 + code versions) in a result
    store every worker reaches (``flows/results.py``), so a batch interrupted or regrouped redoes
    only documents not yet done. Inside the batch documents run concurrently, bounded by the extraction workers."""
    s = Settings(**settings)
    archive = Archive.from_settings(s)
    store = document_result_store(s)
    expires = datetime.now(UTC) + timedelta(days=_CACHE_DAYS)

    def one(d: dict[str, Any]) -> dict[str, Any]:
        key = document_cache_key(d["sha256"])
        with suppress(Exception):  # a missing or unreadable record is a cache miss
            if store.exists(key):
                return store.read(key).result
        result = process_document(
            archive.get(d["sha256"]), sha256=d["sha256"], filename=d["filename"], media_type=d["media_type"],
            report_year=d["report_year"], has_attachments=d["has_attachments"], settings=s)
        store.write(result, key=key, expiration=expires)  # type: ignore[arg-type]
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(len(docs), s.extract_workers or 1))) as pool:
        return list(pool.map(one, docs))


def _known_urls(con):
    """A lookup agency ids → URL → last good fetch (sha256, etag, last_modified), so the crawler can
    ask 'changed since?'. The latest fetches are kept once in a temporary table sorted by agency,
    and each crawl job reads only its own agencies' rows: the flow never holds them all."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _known_urls AS
           SELECT agency_id, url, sha256, etag, last_modified FROM (
               SELECT *, row_number() OVER (PARTITION BY agency_id, url ORDER BY fetched_at DESC) AS rn
               FROM fetches WHERE sha256 IS NOT NULL) WHERE rn = 1 ORDER BY agency_id"""
    )

    def known_for(agency_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {a: {} for a in agency_ids}
        if not agency_ids:
            return out
        rows = con.execute(
            "SELECT agency_id, url, sha256, etag, last_modified FROM _known_urls WHERE agency_id IN "
            f"({', '.join('?' * len(agency_ids))})", agency_ids).fetchall()
        for agency_id, url, sha, etag, last_modified in rows:
            out[agency_id][url] = {"sha256": sha, "etag": etag, "last_modified": last_modified}
        return out

    return known_for


@flow(name="ogi-nightly", log_prints=True)
def nightly(
    registry: str | None = None,
    base_url: str | None = None,
    home: str | None = None,
    export: bool = True,
    expected_years: list[int] | None = None,
    include_universe: bool = True,
) -> dict[str, Any]:
    """Run the whole pipeline over every agency in the registry; return the run summary.

    ``expected_years``: report years every agency should have (default: 2019 to last year), so the
    coverage matrix measures what we found against what should exist. ``include_universe`` adds
    every province-, prefecture- and county-level government to that expectation.
    """
    t0 = time.monotonic()
    logger = get_run_logger()
    settings = Settings.from_env_with_home(Path(home)) if home else Settings.from_env()
    agencies = load_registry(Path(registry) if registry else None, base_url=base_url)

    with run_lock(settings.home):  # a second run on this home is refused, naming the holder
        return _nightly(settings, agencies, export, expected_years, include_universe, t0, logger)


def _nightly(settings, agencies, export, expected_years, include_universe, t0, logger) -> dict[str, Any]:
    con = connect(settings.db_path, memory_mb=settings.db_memory_mb)
    run_id = str(uuid.uuid4())
    try:
        loader.start_run(con, run_id, "ogi-nightly")
        loader.upsert_agencies(con, [a.to_dict() for a in agencies])
        years = expected_years or list(range(2019, datetime.now(UTC).year))
        expected_agencies = [a.agency_id for a in agencies]
        if include_universe:
            governments = load_universe()
            loader.insert_missing_agencies(con, universe_agency_rows(governments))
            expected_agencies += [g.agency_id for g in governments]
        loader.set_expected_reports(con, sorted(set(expected_agencies)), years)
        for table, rows in reference_rows().items():
            replace_table(con, table, rows)
        # reviewed corrections: their own layer beside the facts (a malformed file stops here, named)
        replace_table(con, "corrections", read_corrections(settings.corrections_path))

        # discover + fetch: one task per host at a time (the host's one politeness gate), each
        # result recorded in fetches the moment its task ends
        phases = {"setup": time.monotonic() - t0}  # seconds per phase, for the summary
        mark = time.monotonic()
        with progress.track("crawl", len(agencies)) as advance:
            crawls = crawl_registry(agencies, settings, known_for=_known_urls(con),
                                    record=lambda rows: loader.record_fetches(con, run_id, rows),
                                    progress=advance)
        fetch_rows = crawls.documents
        phases["crawl"], mark = time.monotonic() - mark, time.monotonic()
        load_s = 0.0

        # extract + normalize + validate: one task per document not yet loaded with these versions
        stored = loader.stored_versions(con)
        current = (EXTRACTOR_VERSION, TRANSFORM_VERSION)
        records: dict[str, dict[str, Any]] = {}
        for d in fetch_rows:
            if d.get("sha256") and d["sha256"] not in records:
                records[d["sha256"]] = d
        pending = {
            sha: rec for sha, rec in records.items()
            if sha not in stored or stored[sha][:2] != current
        }
        _provenance_of_first_fetch(con, pending)
        # load: this process is the only writer. Documents go in batches so that only one batch's
        # bytes and results are in memory at a time.
        outcomes: dict[str, list[str]] = {}
        quarantined: list[dict[str, str]] = []
        shas = list(pending)
        extracting = progress.track("extract", len(shas))
        advance_extract = extracting.__enter__()
        plain = task_settings(settings)
        size = settings.process_batch_size
        batches = [shas[i:i + size] for i in range(0, len(shas), size)]
        in_flight = max(1, settings.process_batches_in_flight)
        futures: list[tuple[list[str], Any]] = []
        for n, batch in enumerate(batches):
            docs = [{"sha256": sha,
                     "filename": pending[sha].get("filename") or pending[sha]["url"].rsplit("/", 1)[-1],
                     "media_type": pending[sha].get("media_type"), "report_year": pending[sha].get("report_year"),
                     "has_attachments": bool(pending[sha].get("attachments"))} for sha in batch]
            futures.append((batch, process_batch_task.submit(f"batch {n + 1}/{len(batches)}", docs, plain)))
            # load the oldest batch once enough are in flight: only those batches' results are held
            while len(futures) >= in_flight or (n == len(batches) - 1 and futures):
                done_batch, fut = futures.pop(0)
                results = fut.result()
                # one transaction per batch: a kill leaves the whole batch loaded or none of it
                started = time.monotonic()
                batch_outcomes = loader.load_batch(
                    con, [(pending[sha], r) for sha, r in zip(done_batch, results, strict=True)], run_id)
                load_s += time.monotonic() - started
                for sha, result, outcome in zip(done_batch, results, batch_outcomes, strict=True):
                    outcomes.setdefault(outcome, []).append(sha)
                    if result["status"] == "quarantined":
                        quarantined.append({"url": records[sha]["url"], "reason": result["reason"]})
                advance_extract(len(done_batch))
        extracting.__exit__(None, None, None)
        # extraction runs while the previous batch loads: "extract" is the loop's time less the loads
        phases["extract"], phases["load"] = time.monotonic() - mark - load_s, load_s
        unchanged = [sha for sha in records if sha not in pending]
        loader.touch_documents(con, unchanged, run_id)
        outcomes["unchanged"] = unchanged
        create_views(con)

        summary = _summary(con, run_id, crawls, outcomes, quarantined, settings)
        summary["changes"] = changes_since_last_run(con)
        mark = time.monotonic()
        if export:
            summary["export_inputs"] = inputs = export_inputs(con)
            if _export_current(con, settings.export_dir, outcomes, inputs):
                # a dict like the export's own (``ogi nightly`` prints its items)
                summary["export"] = {"skipped": f"unchanged, skipped: the files in {settings.export_dir} are current"}
            else:
                summary["export"] = {k: str(v) for k, v in export_all(con, settings.export_dir).items()}
        phases["export"] = time.monotonic() - mark
        summary["phases_s"] = {k: round(v, 2) for k, v in phases.items()}
        summary["seconds"] = round(time.monotonic() - t0, 2)
        summary["status"] = "completed"
        summary["verdict"] = verdict(summary)
        loader.finish_run(con, run_id, "completed", json.dumps(summary, ensure_ascii=False, default=str))
        # readers (ogi sql, exports, reports, notebooks) open this copy, never the file being written
        publish_snapshot(con, settings.db_path)
        logger.info("run %s: %s", run_id, json.dumps({k: v for k, v in summary.items() if k != "quarantined"},
                                                      ensure_ascii=False, default=str))
    except BaseException as exc:  # recorded, alerted and raised again: a run never stays 'running'
        failed = {"run_id": run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                  "seconds": round(time.monotonic() - t0, 2), "db_path": str(settings.db_path)}
        failed["verdict"] = verdict(failed)
        try:
            loader.finish_run(con, run_id, "failed", json.dumps(failed, ensure_ascii=False, default=str))
        except Exception as record_exc:  # the database itself is the problem: say so, raise the cause
            logger.error("run %s failed and could not be recorded: %s", run_id, record_exc)
        finally:
            con.close()
        if undelivered := send_alert(failed, settings):
            logger.warning(undelivered)
        raise
    con.close()
    if undelivered := send_alert(summary, settings):
        summary["alert_error"] = undelivered
        logger.warning(undelivered)
    return summary


EXPORT_FILES = ("facts", "checks", "unplaced", "codebook")
# what a night does to a document that changes what the exports hold
_EXPORTED_OUTCOMES = ("loaded", "replaced", "quarantined", "kept", "container")


def export_inputs(con) -> str:
    """A fingerprint of what the CSV exports are made of: every document's stored state (facts,
    checks and unplaced values change only with their document's row), the agencies, the reviewed
    corrections, the codebook and crosswalk, the views' source and the code version. The
    time a document was last seen (``last_run_id``) is left out: seeing it again changes nothing."""
    parts = [__version__]
    for query in (
        "SELECT count(*), sum(hash(d)::HUGEINT) FROM (SELECT * EXCLUDE (last_run_id) FROM documents) d",
        *(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {t} t" for t in ("agencies", "corrections", "codebook",
                                                                         "crosswalk")),
    ):
        parts.append(repr(con.execute(query).fetchall()))
    # the views' source, not duckdb_views(): a reopened file gives their text back reformatted
    parts.append(VIEWS_SQL.read_text(encoding="utf-8"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _export_current(con, export_dir: Path, outcomes: dict[str, list[str]], inputs: str) -> bool:
    """True when the export files on disk are what exporting now would write again: the night
    loaded, replaced, quarantined or kept no document, every file is there, and the last completed
    run that exported (or found its export current) did so from the same inputs."""
    if any(outcomes.get(k) for k in _EXPORTED_OUTCOMES):
        return False
    if not all((Path(export_dir) / f"{name}.csv").is_file() for name in EXPORT_FILES):
        return False
    row = con.execute(
        """SELECT json_extract_string(summary_json, '$.export_inputs') FROM runs
           WHERE status = 'completed' AND json_extract_string(summary_json, '$.export_inputs') IS NOT NULL
           ORDER BY finished_at DESC LIMIT 1""").fetchone()
    return bool(row) and row[0] == inputs


def _provenance_of_first_fetch(con, pending: dict[str, dict[str, Any]]) -> None:
    """A document this run saw only as "not modified" (304) was fetched by an earlier run that
    died before loading it: its provenance is that fetch's (status, validators, time), not 304."""
    unseen = [sha for sha, rec in pending.items() if rec.get("http_status") == 304]
    if not unseen:
        return
    rows = con.execute(
        "SELECT sha256, http_status, etag, last_modified, fetched_at FROM ("
        " SELECT *, row_number() OVER (PARTITION BY sha256 ORDER BY fetched_at DESC) AS rn FROM fetches"
        f" WHERE http_status = 200 AND sha256 IN ({', '.join('?' * len(unseen))})) WHERE rn = 1", unseen).fetchall()
    for sha, status, etag, last_modified, fetched_at in rows:
        pending[sha] = {**pending[sha], "http_status": status, "etag": etag, "last_modified": last_modified,
                        "fetched_at": fetched_at}


def _summary(con, run_id, crawls: CrawlOutcome, outcomes, quarantined, settings) -> dict[str, Any]:
    new_docs = list(outcomes.get("loaded", [])) + list(outcomes.get("replaced", []))
    touched = new_docs + [s for k in ("quarantined", "container", "kept") for s in outcomes.get(k, [])]
    facts_new = 0
    failed_new = 0
    if new_docs:
        ph = ", ".join("?" * len(new_docs))
        facts_new = con.execute(f"SELECT count(*) FROM facts WHERE sha256 IN ({ph})", new_docs).fetchone()[0]
        failed_new = con.execute(
            f"SELECT count(*) FROM checks WHERE status = 'failed' AND severity = 'error' AND sha256 IN ({ph})",
            new_docs,
        ).fetchone()[0]
    totals = con.execute(
        """SELECT
             (SELECT count(*) FROM documents WHERE status = 'loaded'),
             (SELECT count(*) FROM documents WHERE status = 'quarantined'),
             (SELECT count(*) FROM facts),
             (SELECT count(*) FROM checks WHERE status = 'failed' AND severity = 'error'),
             (SELECT count(*) FROM unplaced)"""
    ).fetchone()
    fetch_errors = crawls.fetch_errors
    broken = crawls.broken_sources
    return {
        "run_id": run_id,
        "agencies": crawls.agencies,
        "reports_found": crawls.reports_found,
        "documents_processed": len(touched),
        "parsed": len(new_docs),
        "quarantined": quarantined,
        "container_pages": len(outcomes.get("container", [])),
        "unchanged": len(outcomes.get("unchanged", [])),
        "facts_loaded": facts_new,
        "identity_failures": failed_new,
        "fetch_errors": fetch_errors,
        "broken_sources": broken,
        "crawl_warnings": crawls.warnings,  # listing page caps, hosts given up, robots.txt trouble
        "skipped_reports": crawls.skipped,  # reposts of other agencies' reports kept out, with why
        "crawl": {"tasks": crawls.tasks, "hosts": crawls.hosts},
        "nothing_changed": not touched and not fetch_errors,
        "totals": {
            "documents_loaded": totals[0], "documents_quarantined": totals[1], "facts": totals[2],
            "identity_failures": totals[3], "unplaced_values": totals[4],
        },
        "db_path": str(settings.db_path),
    }

