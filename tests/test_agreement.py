"""Two independent readers of the same tables: the second reading competes with the first, and the
chosen one is compared with the other cell by cell (``transform.checks.agreement``).

Hand-made readings show the two outcomes (a difference the checks resolve; one they cannot, which
is flagged, not guessed); the real Hongze sample shows Camelot and pdfplumber agreeing on every
cell of a clean report and the second reader not being asked when nothing is in doubt; a
LibreOffice Writer export (where Camelot misregisters rows) shows the second reading winning with
nothing left silently wrong or missing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bench.corpus import generate_corpus, read_truth
from bench.producers import unavailable
from bench.run import read_truth_statuses
from bench.run import score as truth_score
from ogi.core.models import CheckStatus, RawTable
from ogi.flows.process import analyse
from ogi.transform.arbitrate import best_report
from ogi.transform.checks.agreement import CONTESTED_CONFIDENCE
from tests.capabilities import needs_libreoffice
from tests.conftest import shared_path
from tests.test_arbitrate import doc_with, facts_of, good_grid, merged_grid


def _second(rows: list[list[str | None]]):
    calls: list[int] = []

    def read() -> dict:
        calls.append(1)
        table = RawTable(index=0, rows=rows, page=3, method="pdfplumber")
        return {"label": "pdfplumber", "tables": [table.to_dict()], "note": "independent reader"}

    return read, calls


def _swap_values(rows: list[list[str | None]], a: str, b: str) -> list[list[str | None]]:
    """The grid with the value cells of the rows labelled ``a`` and ``b`` exchanged: every sum still
    holds, so no identity can tell the two readings apart."""
    rows = [list(r) for r in rows]
    ia = next(i for i, r in enumerate(rows) if r[2] == a)
    ib = next(i for i, r in enumerate(rows) if r[2] == b)
    rows[ia][3:], rows[ib][3:] = rows[ib][3:], rows[ia][3:]
    return rows


def _by_id(report):
    return {c.identity_id: c for c in report.checks}


def test_a_difference_the_checks_cannot_resolve_is_flagged_not_guessed():
    primary = good_grid()
    other = _swap_values(primary, "3.危及“三安全一稳定”", "4.保护第三方合法权益")
    read, calls = _second(other)
    report = best_report(doc_with(primary), second_reader=read)
    assert calls == [1]  # the primary misses template rows: in doubt, so the second reader is asked
    checks = _by_id(report)
    contested = {k: c for k, c in checks.items() if k.startswith("agreement.s3.")}
    assert set(contested) == {"agreement.s3.refused.security_stability", "agreement.s3.refused.third_party"}
    for c in contested.values():
        assert c.status == CheckStatus.FAILED and c.severity == "error"
        assert "test " in c.detail and "pdfplumber " in c.detail  # both readings, by name
        assert f"{c.identity_id.removeprefix('agreement.')}@s3c.natural_person" in c.detail
    section = checks["agreement.s3"]
    assert section.status == CheckStatus.FAILED and section.severity == "warning" and "contested" in section.detail
    assert section.rhs - section.lhs == 4  # 自然人 and 总计 of two rows
    rows = {"s3.refused.security_stability", "s3.refused.third_party"}
    for f in report.facts:
        assert f.confidence == (CONTESTED_CONFIDENCE if f.row_code in rows and f.col_code in
                                ("s3c.natural_person", "s3c.total") else 1.0), (f.row_code, f.col_code)
    # the chosen reading's values are kept as read: nothing is changed, only flagged
    assert {k: v for k, v in facts_of(report).items()} == facts_of(best_report(doc_with(primary)))


def test_a_difference_the_checks_resolve_is_listed_and_not_flagged():
    read, _ = _second(good_grid())
    report = best_report(doc_with(merged_grid()), second_reader=read)
    assert report.notes[-1].startswith("arbitration: pdfplumber won")
    checks = _by_id(report)
    section = checks["agreement.s3"]
    assert section.status == CheckStatus.FAILED and section.severity == "warning"
    assert "resolved for pdfplumber by the checks" in section.detail
    assert not [k for k, c in checks.items() if k.startswith("agreement.s3.")]
    assert all(f.confidence == 1.0 for f in report.facts)
    assert facts_of(report) == facts_of(best_report(doc_with(good_grid())))


def test_camelot_and_pdfplumber_agree_on_every_cell_of_a_real_report():
    path = shared_path("samples", "2024_hongze-qu.pdf")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    asked = analyse(data, sha256=sha, filename=path.name, report_year=2024, second_reader="always")
    plain = analyse(data, sha256=sha, filename=path.name, report_year=2024)
    agreement = {c.identity_id: c for c in asked.checks if c.identity_id.startswith("agreement.")}
    assert set(agreement) == {"agreement.s2", "agreement.s3", "agreement.s4"}
    for c in agreement.values():
        assert c.status == CheckStatus.PASSED and c.lhs == c.rhs and c.rhs > 0, c.detail
    assert sum(c.rhs for c in agreement.values()) == len(plain.facts)
    # clean, so in the default mode the second reader is never asked and the report is unchanged
    assert not [c for c in plain.checks if c.identity_id.startswith("agreement.")]
    assert [f.to_dict() for f in asked.facts] == [f.to_dict() for f in plain.facts]


@needs_libreoffice("writer")
def test_second_reader_wins_on_a_libreoffice_writer_export(tmp_path: Path):
    if why := unavailable("lo_writer_landscape_2021"):
        pytest.skip(f"lo_writer_landscape_2021 needs {why}")
    doc = generate_corpus(tmp_path, per_layout=1, layouts=["lo_writer_landscape_2021"], seed=3)[0]
    data = doc.path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    truth, statuses = read_truth(doc.truth_path), read_truth_statuses(doc.truth_path)
    alone = truth_score(analyse(data, sha256=sha, filename=doc.path.name, report_year=doc.spec.year,
                                second_reader="never"), truth, statuses)
    report = analyse(data, sha256=sha, filename=doc.path.name, report_year=doc.spec.year)
    both = truth_score(report, truth, statuses)
    assert any(n.startswith("arbitration: pdfplumber won") for n in report.notes), report.notes
    assert both["right"] > alone["right"]
    assert both["silent_wrong"] == 0 and both["silent_missing"] == 0, both
    assert any(c.identity_id.startswith("agreement.") for c in report.checks)
