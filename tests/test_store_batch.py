"""The batch loader on real DuckDB files: the same rows as loading one document at a time, the
right outcome for every kind of document in one batch, and a failure rolling the whole batch back."""

from __future__ import annotations

import copy

import pytest

from ogi.store import loader
from ogi.store.db import connect
from tests.storedb import document

TABLES = {"facts": "run_id", "unplaced": "run_id", "checks": "run_id"}


def _with_unplaced(i: int, version: str = "1", value: float = 0.0) -> tuple[dict, dict]:
    record, result = document(i, n_facts=6, version=version)
    result = copy.deepcopy(result)
    result["report"]["unplaced"] = [{"section": "s3", "raw_text": f"{i}-{version}", "row_label_raw": "其它",
                                     "page": 1, "table_index": 0, "row_index": 9, "col_index": 1,
                                     "reason": "row label not matched"}]
    for f in result["report"]["facts"]:
        f["value"] += value
    return record, result


def _quarantined(i: int, version: str = "1", reason: str = "broken.pdf: PDF is corrupt") -> tuple[dict, dict]:
    record, _ = document(i)
    return record, {"status": "quarantined", "reason": reason, "extractor_version": version,
                    "transform_version": version}


def _state(con) -> dict[str, list]:
    """Every stored row (load timestamps aside: two loads never share a clock reading)."""
    out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    out["documents"] = con.execute("SELECT * EXCLUDE (loaded_at) FROM documents ORDER BY sha256").fetchall()
    return out


# Night 1 stores documents 0–4; night 2 brings new, unchanged, re-extracted, quarantined, failed
# re-extractions and a container page.
NIGHT1 = [_with_unplaced(0), _with_unplaced(1), _quarantined(2), _with_unplaced(3), _with_unplaced(4)]
NIGHT2 = [
    _with_unplaced(5),                                     # new
    _with_unplaced(0),                                     # unchanged
    _with_unplaced(1, version="2", value=100.0),           # re-extracted: replaced
    _with_unplaced(2, version="2"),                        # quarantined before, parses now: replaced
    _quarantined(3, version="2", reason="a.pdf: internal error"),  # failed re-extraction: kept
    _quarantined(6),                                       # new and broken: quarantined
    (document(7)[0], {"status": "container", "reason": "report in attachments", "extractor_version": "1",
                      "transform_version": "1"}),
    _quarantined(2, version="1"),                          # the same document again later in the batch
]
OUTCOMES = ["loaded", "unchanged", "replaced", "replaced", "kept", "quarantined", "container", "kept"]


def test_batch_load_stores_what_per_document_loads_store(tmp_path):
    one, many = connect(tmp_path / "one.duckdb"), connect(tmp_path / "batch.duckdb")
    try:
        singles = [loader.load_document(one, r, res, "run-1") for r, res in NIGHT1]
        assert loader.load_batch(many, NIGHT1, "run-1") == singles == [
            "loaded", "loaded", "quarantined", "loaded", "loaded"]
        assert _state(many) == _state(one)
        singles = [loader.load_document(one, r, res, "run-2") for r, res in NIGHT2]
        assert loader.load_batch(many, NIGHT2, "run-2") == singles == OUTCOMES
        state = _state(many)
        assert state == _state(one)
        assert len(state["facts"]) == 6 * 6 and len(state["unplaced"]) == 6  # 0, 1, 2, 3, 4, 5
    finally:
        one.close()
        many.close()


def test_a_mixed_batch_gives_each_document_its_outcome(tmp_path):
    con = connect(tmp_path / "ogi.duckdb")
    try:
        loader.load_batch(con, NIGHT1, "run-1")
        kept_before = con.execute("SELECT * FROM facts WHERE sha256 = ? ORDER BY ALL", [f"{3:064x}"]).fetchall()
        assert loader.load_batch(con, NIGHT2, "run-2") == OUTCOMES
        docs = {r[0]: r[1:] for r in con.execute(
            "SELECT sha256, status, extractor_version, first_run_id, last_run_id, quarantine_reason FROM documents"
        ).fetchall()}
        sha = [f"{i:064x}" for i in range(8)]
        assert docs[sha[0]] == ("loaded", "1", "run-1", "run-2", None)  # unchanged: only seen again
        assert docs[sha[1]] == ("loaded", "2", "run-1", "run-2", None)
        # failed re-extraction: the facts of extractor 1 stay; the failure is written beside them
        assert docs[sha[3]][:4] == ("loaded", "2", "run-1", "run-2")
        assert "re-extraction failed, facts of extractor 1 kept: a.pdf: internal error" in docs[sha[3]][4]
        assert con.execute("SELECT * FROM facts WHERE sha256 = ? ORDER BY ALL", [sha[3]]).fetchall() == kept_before
        # 2 parsed in the batch, then failed again (extractor 1): kept, its new facts stay
        assert docs[sha[2]][:2] == ("loaded", "1") and "kept: broken.pdf" in docs[sha[2]][4]
        assert con.execute("SELECT count(*) FROM facts WHERE sha256 = ?", [sha[2]]).fetchone()[0] == 6
        assert docs[sha[5]] == ("loaded", "1", "run-2", "run-2", None)
        assert docs[sha[6]] == ("quarantined", "1", "run-2", "run-2", "broken.pdf: PDF is corrupt")
        assert docs[sha[7]][0] == "container"
        values = sorted(v for (v,) in con.execute("SELECT value FROM facts WHERE sha256 = ?", [sha[1]]).fetchall())
        assert values == [100.0 + 1 + k for k in range(6)]  # the re-extraction replaced its facts
        assert con.execute("SELECT raw_text FROM unplaced WHERE sha256 = ?", [sha[1]]).fetchall() == [("1-2",)]
        # loading the same night again: every document unchanged, nothing rewritten
        before = _state(con)
        assert set(loader.load_batch(con, NIGHT2[:3] + NIGHT2[5:7], "run-3")) == {"unchanged"}
        after = _state(con)
        assert after["facts"] == before["facts"] and after["checks"] == before["checks"]
    finally:
        con.close()


def test_a_failure_mid_batch_rolls_back_the_whole_batch(tmp_path):
    db = tmp_path / "ogi.duckdb"
    con = connect(db)
    try:
        loader.load_batch(con, NIGHT1, "run-1")
        before = _state(con)
        broken = copy.deepcopy(_with_unplaced(8))
        broken[1]["report"]["facts"][2]["value_status"] = None  # NOT NULL: the facts insert fails
        batch = NIGHT2[:3] + [broken] + NIGHT2[3:]
        with pytest.raises(Exception, match="(?i)NOT NULL"):
            loader.load_batch(con, batch, "run-2")
        assert _state(con) == before  # not the unchanged touches, the replacements, nor the new documents
        assert loader.load_batch(con, NIGHT2, "run-2") == OUTCOMES  # the connection is usable, nothing half-done
    finally:
        con.close()
    con = connect(db)  # and what was committed is what a reopened file holds
    try:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 8
    finally:
        con.close()
