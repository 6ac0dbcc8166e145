"""A small real database for the storage tests: documents loaded through the real loader, the
real schema and views, published as the flow publishes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ogi.store import loader
from ogi.store.db import connect, create_views, publish_snapshot


def document(i: int, n_facts: int = 20, version: str = "1") -> tuple[dict[str, Any], dict[str, Any]]:
    """(record, result) of one synthetic parsed document with ``n_facts`` facts and one check."""
    sha = f"{i:064x}"
    facts = [{"section": "s3", "row_code": f"s3.r{k}", "col_code": "s3c.total", "value": float(k + i),
              "value_status": "reported", "page": 1, "table_index": 0, "row_index": k, "col_index": 1}
             for k in range(n_facts)]
    checks = [{"identity_id": "s3.total", "section": "s3", "status": "passed", "lhs": 1.0, "rhs": 1.0,
               "severity": "error"}]
    record = {"sha256": sha, "url": f"http://example.invalid/{i}.pdf", "agency_id": f"a{i % 7}",
              "report_year": 2020 + i % 5, "media_type": "application/pdf"}
    result = {"status": "parsed", "extractor_version": version, "transform_version": version,
              "report": {"template_version": "2021", "facts": facts, "checks": checks, "unplaced": []}}
    return record, result


def make_home(home: Path, n_docs: int = 5, *, publish: bool = True) -> Path:
    """A home whose ogi.duckdb holds ``n_docs`` loaded documents (and, with ``publish``, its snapshot)."""
    home.mkdir(parents=True, exist_ok=True)
    con = connect(home / "ogi.duckdb")
    try:
        loader.start_run(con, "run-1", "test")
        loader.upsert_agencies(con, [{"agency_id": f"a{k}", "name": f"机关{k}"} for k in range(7)])
        for i in range(n_docs):
            loader.load_document(con, *document(i), "run-1")
        create_views(con)
        loader.finish_run(con, "run-1", "completed", "{}")
        if publish:
            publish_snapshot(con, home / "ogi.duckdb")
    finally:
        con.close()
    return home
