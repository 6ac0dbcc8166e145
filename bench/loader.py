"""Loader cost against table size: the old per-document path beside the batch loader, on real files.

    .venv/bin/python -m bench.loader                       # 1 M and 20 M facts, 3 repeats
    .venv/bin/python -m bench.loader --sizes 1e6 --repeats 5 --batch 32 --no-art

For each size a DuckDB file with the schema of ``ogi.store.db.connect`` is filled by DuckDB SQL
(``INSERT … SELECT … FROM range(n)``: documents of 200 facts, 20 checks and 2 unplaced values each,
stored contiguously as the loader stores them). Then, repeated, a batch of ``--batch`` new documents
and a batch of as many re-extracted (replaced) documents of 200 facts each are loaded through

* ``per-doc``: the loader as it was before batching (kept here verbatim as ``legacy_load_document``:
  one SELECT, four DELETEs and four INSERTs per document, one transaction each);
* ``batch``: ``ogi.store.loader.load_batch`` (one transaction per batch);

and, unless ``--no-art``, both again after ``CREATE INDEX … (sha256)`` on facts, unplaced and checks
(the index's build time and size are printed). Prints a table of median seconds per document, then
one JSON object. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from ogi.store import loader
from ogi.store.db import connect
from ogi.store.loader import CHECK_COLS, DOC_COLS, FACT_COLS, UNPLACED_COLS, _insert, _now

FACTS_PER_DOC = 200
CHECKS_PER_DOC = 20
UNPLACED_PER_DOC = 2


def legacy_load_document(con: duckdb.DuckDBPyConnection, record: Mapping[str, Any], result: Mapping[str, Any],
                         run_id: str) -> str:
    """``ogi.store.loader.load_document`` before the batch loader (commit 004ee8a), for comparison."""
    sha = record["sha256"]
    prev = con.execute(
        "SELECT extractor_version, transform_version, status, first_run_id, quarantine_reason FROM documents "
        "WHERE sha256 = ?", [sha]).fetchone()
    ev, tv = result.get("extractor_version"), result.get("transform_version")
    status = {"parsed": "loaded"}.get(result["status"], result["status"])
    reason = result.get("reason") if status != "loaded" else None
    if prev and prev[0] == ev and prev[1] == tv and prev[2] == status and prev[4] == reason:
        con.execute("UPDATE documents SET last_run_id = ? WHERE sha256 = ?", [run_id, sha])
        return "unchanged"
    if status != "loaded" and prev and prev[2] == "loaded":
        con.execute(
            """UPDATE documents SET extractor_version = ?, transform_version = ?, last_run_id = ?,
               quarantine_reason = ? WHERE sha256 = ?""",
            [ev, tv, run_id, f"re-extraction failed, facts of extractor {prev[0]} kept: {reason}", sha])
        return "kept"
    report = result.get("report") or {}
    doc_row = {
        **{c: record.get(c) for c in DOC_COLS}, "status": status, "quarantine_reason": reason,
        "extractor_version": ev, "transform_version": tv, "template_version": report.get("template_version"),
        "version_evidence": report.get("version_evidence"), "sections": report.get("sections") or None,
        "scope": record.get("scope") or report.get("scope"),
        "report_year": record.get("report_year") or report.get("report_year"),
        "first_run_id": prev[3] if prev else run_id, "last_run_id": run_id,
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
                 "template_version": report.get("template_version")} for f in report.get("facts", [])])
            _insert(con, "unplaced", UNPLACED_COLS, [{**u, **base} for u in report.get("unplaced", [])])
            _insert(con, "checks", CHECK_COLS, [{**k, **base} for k in report.get("checks", [])])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if status != "loaded":
        return status
    return "replaced" if prev else "loaded"


def _sha_sql(doc: str) -> str:
    """A 64-hex-digit sha256 stand-in for document number ``doc`` (an SQL expression)."""
    return f"md5('d' || ({doc})) || md5('e' || ({doc}))"


def build(path: Path, n_facts: int) -> dict[str, Any]:
    """A database of ``n_facts`` facts in documents of 200, made by DuckDB itself."""
    n_docs = max(1, n_facts // FACTS_PER_DOC)
    t0 = time.monotonic()
    con = connect(path)
    try:
        con.execute("BEGIN")
        con.execute(f"""
            INSERT INTO documents (sha256, url, agency_id, report_year, media_type, size_bytes, status,
                                   extractor_version, transform_version, template_version, first_run_id,
                                   last_run_id, loaded_at)
            SELECT {_sha_sql('i')}, 'http://example.invalid/' || i || '.pdf', 'a' || (i % 3000),
                   2019 + i % 6, 'application/pdf', 100000, 'loaded', '1', '1', '2021', 'bench', 'bench',
                   now()::TIMESTAMP
            FROM range({n_docs}) t(i)""")
        con.execute(f"""
            INSERT INTO facts
            SELECT {_sha_sql('i // 200')}, 'a' || ((i // 200) % 3000), 2019 + (i // 200) % 6, '2021',
                   's3', 's3.r' || (i % 200 // 7), 's3c.c' || (i % 7), (i * 7919 % 1000)::DOUBLE, 'number',
                   '件', ((i * 7919) % 1000)::VARCHAR, 2, 1, i % 200 // 7, i % 7, '本年新收政府信息公开申请数量',
                   '总计', 1.0, 'bench'
            FROM range({n_docs * FACTS_PER_DOC}) t(i)""")
        con.execute(f"""
            INSERT INTO checks
            SELECT {_sha_sql(f'i // {CHECKS_PER_DOC}')}, 's3.balance[c' || (i % {CHECKS_PER_DOC}) || ']', 's3',
                   'passed', 1.0, 1.0, '一+二 = 三(七)+四', NULL, 'error', 'bench'
            FROM range({n_docs * CHECKS_PER_DOC}) t(i)""")
        con.execute(f"""
            INSERT INTO unplaced
            SELECT {_sha_sql(f'i // {UNPLACED_PER_DOC}')}, 's3', '12', '其它', '', 2, 1, 9, 1,
                   'row label not matched', NULL, 'bench'
            FROM range({n_docs * UNPLACED_PER_DOC}) t(i)""")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"facts": n_docs * FACTS_PER_DOC, "documents": n_docs, "build_s": round(time.monotonic() - t0, 1),
            "file_mb": round(path.stat().st_size / 1e6)}


def document(sha: str, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record, result) of a parsed report of 200 facts, 20 checks and 2 unplaced values."""
    facts = [{"section": "s3", "row_code": f"s3.r{k // 7}", "col_code": f"s3c.c{k % 7}", "value": float(k),
              "value_status": "number", "unit": "件", "raw_text": str(k), "page": 2, "table_index": 1,
              "row_index": k // 7, "col_index": k % 7, "row_label_raw": "本年新收政府信息公开申请数量",
              "col_label_raw": "总计", "confidence": 1.0} for k in range(FACTS_PER_DOC)]
    checks = [{"identity_id": f"s3.balance[c{k}]", "section": "s3", "status": "passed", "lhs": 1.0, "rhs": 1.0,
               "description": "一+二 = 三(七)+四", "severity": "error"} for k in range(CHECKS_PER_DOC)]
    unplaced = [{"section": "s3", "raw_text": "12", "row_label_raw": "其它", "col_label_raw": "", "page": 2,
                 "table_index": 1, "row_index": 9, "col_index": k, "reason": "row label not matched"}
                for k in range(UNPLACED_PER_DOC)]
    record = {"sha256": sha, "url": f"http://example.invalid/{sha[:12]}.pdf", "agency_id": "a1",
              "report_year": 2024, "media_type": "application/pdf", "size_bytes": 100000}
    result = {"status": "parsed", "extractor_version": version, "transform_version": "1",
              "report": {"template_version": "2021", "facts": facts, "checks": checks, "unplaced": unplaced}}
    return record, result


def _time(con: duckdb.DuckDBPyConnection, path_name: str, items: list, run_id: str) -> float:
    """Seconds per document to load ``items`` through ``path_name``."""
    t0 = time.perf_counter()
    if path_name == "per-doc":
        outcomes = [legacy_load_document(con, r, res, run_id) for r, res in items]
    else:
        outcomes = loader.load_batch(con, items, run_id)
    dt = time.perf_counter() - t0
    assert set(outcomes) <= {"loaded", "replaced"}, outcomes  # the bench measures what it says
    return dt / len(items)


class Bench:
    """Hands out fresh new and existing (to be replaced) document shas for one database."""

    def __init__(self, con: duckdb.DuckDBPyConnection, n_docs: int, tag: str) -> None:
        self.con, self.n_docs, self.tag, self.k, self.version = con, n_docs, tag, 0, 1

    def new_docs(self, batch: int) -> list:
        self.k += 1
        return [document(f"{self.tag}{self.k:08d}{j:04d}".ljust(64, "f"), "1") for j in range(batch)]

    def replaced_docs(self, batch: int) -> list:
        # existing synthetic documents spread over the file, each replaced once (version 2)
        self.k += 1
        step = max(1, self.n_docs // (batch * 40))
        ids = [(self.k * 7919 + j * step) % self.n_docs for j in range(batch)]
        shas = [r[0] for r in self.con.execute(
            f"SELECT {_sha_sql('i')} FROM (SELECT unnest(?::BIGINT[]) AS i)", [ids]).fetchall()]
        return [document(sha, f"2-{self.k}") for sha in dict.fromkeys(shas)]


def measure(path: Path, n_facts: int, repeats: int, batch: int, art: bool,
            say: Callable[[str], None]) -> list[dict[str, Any]]:
    built = build(path, n_facts)
    say(f"built {built}")
    rows: list[dict[str, Any]] = []
    con = connect(path)
    try:
        b = Bench(con, built["documents"], f"{n_facts:x}")
        variants = [("per-doc", False), ("batch", False)] + ([("per-doc", True), ("batch", True)] if art else [])
        index_info: dict[str, Any] = {}
        for name, indexed in variants:
            if indexed and not index_info:
                t0 = time.monotonic()
                size0 = _db_bytes(con)
                for table in ("facts", "unplaced", "checks"):
                    con.execute(f"CREATE INDEX IF NOT EXISTS {table}_sha256 ON {table} (sha256)")
                con.execute("CHECKPOINT")
                index_info = {"index_build_s": round(time.monotonic() - t0, 1),
                              "index_mb": round((_db_bytes(con) - size0) / 1e6)}
                say(f"ART indexes on sha256: {index_info}")
            new = [_time(con, name, b.new_docs(batch), f"run-{name}") for _ in range(repeats)]
            rep = [_time(con, name, b.replaced_docs(batch), f"run-{name}") for _ in range(repeats)]
            row = {"facts": n_facts, "path": name + (" +ART" if indexed else ""),
                   "new_s_per_doc": statistics.median(new), "replaced_s_per_doc": statistics.median(rep),
                   "new_all": [round(x, 4) for x in new], "replaced_all": [round(x, 4) for x in rep],
                   **built, **(index_info if indexed else {})}
            rows.append(row)
            say(f"{row['path']:<13} new {row['new_s_per_doc']:.4f} s/doc  replaced {row['replaced_s_per_doc']:.4f} s/doc")
    finally:
        con.close()
    return rows


def _db_bytes(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT total_blocks * block_size FROM pragma_database_size()").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1e6,2e7", help="fact table sizes, comma separated (default 1e6,2e7)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32, help="documents per batch (the flow's OGI_BATCH_SIZE)")
    ap.add_argument("--no-art", action="store_true", help="skip the variants with an ART index on sha256")
    ap.add_argument("--dir", help="where the bench databases go (default: a temporary directory)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for size in (int(float(s)) for s in args.sizes.split(",")):
            db = Path(tmp) / f"bench-{size}.duckdb"
            rows += measure(db, size, args.repeats, args.batch, not args.no_art, lambda m: print(m, flush=True))
            os.remove(db)
    print(f"\n{'facts in table':>15} | {'path':<13} | {'new-doc s/doc':>13} | {'replaced-doc s/doc':>18}")
    print(f"{'-' * 15}-+-{'-' * 13}-+-{'-' * 13}-+-{'-' * 18}")
    for r in rows:
        print(f"{r['facts']:>15,} | {r['path']:<13} | {r['new_s_per_doc']:>13.4f} | {r['replaced_s_per_doc']:>18.4f}")
    print(json.dumps({"batch": args.batch, "repeats": args.repeats, "seconds": round(time.monotonic() - t0, 1),
                      "rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
