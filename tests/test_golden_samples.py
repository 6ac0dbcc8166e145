"""Every table value of the real sample reports, end to end (extract → normalize), against golden CSVs.

The golden files under tests/golden/ were transcribed by hand from the documents themselves (the PDF
pages rendered to images, the HTML source), not from this parser's output. A difference is shown as
the cells missing and the cells unexpected, side by side.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from ogi.transform.knowledge.codebook import load_codebook
from ogi.transform.parse import CSV_COLUMNS, facts_to_rows, parse_report
from tests.conftest import shared_path

GOLDEN_DIR = Path(__file__).parent / "golden"

SAMPLES = [
    # (sample under shared/samples, golden file, expected template version, report year)
    ("2024_hongze-qu.pdf", "2024_hongze-qu.csv", "2021", 2024),
    ("2019_shanghai-shi-bgt.js", "2019_shanghai-shi-bgt.csv", "2019", 2019),
]


def _read_golden(name: str) -> set[tuple[str, ...]]:
    with (GOLDEN_DIR / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return {tuple(row[c] for c in CSV_COLUMNS) for row in reader}


def _diff(expected: set[tuple[str, ...]], got: set[tuple[str, ...]]) -> str:
    def key(t: tuple[str, ...]) -> tuple[str, str, str]:
        return t[0], t[1], t[2]

    exp_by, got_by = {key(t): t for t in expected}, {key(t): t for t in got}
    lines = []
    for k in sorted(set(exp_by) | set(got_by)):
        e, g = exp_by.get(k), got_by.get(k)
        if e != g:
            lines.append(f"{'/'.join(k)}: expected {e[5:] if e else 'NO FACT'} got {g[5:] if g else 'NO FACT'}")
    return f"{len(lines)} cells differ:\n" + "\n".join(lines[:80])


@pytest.mark.parametrize(("sample", "golden", "version", "year"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_tables_match_golden(sample, golden, version, year):
    from ogi.extract import extract_document  # the extract stage; a failure here is a real failure

    path = shared_path("samples", sample)
    data = path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name)
    report = parse_report(doc)
    assert report.template_version == version, report.version_evidence
    assert report.report_year == year
    got = {tuple(r[c] for c in CSV_COLUMNS) for r in facts_to_rows(report, load_codebook())}
    expected = _read_golden(golden)
    assert got == expected, _diff(expected, got)
    assert not report.unplaced, [(u.row_label_raw, u.raw_text, u.reason) for u in report.unplaced]


def test_golden_files_cover_every_template_cell():
    """The golden files themselves: one row per template cell of the report's version."""
    cb = load_codebook()
    hz = _read_golden("2024_hongze-qu.csv")
    assert len({t for t in hz if t[0] == "s3"}) == 23 * 7  # 2021 format, （六） printed as one row
    assert len({t for t in hz if t[0] == "s4"}) == 15
    sh = _read_golden("2019_shanghai-shi-bgt.csv")
    assert {(t[1], t[2]) for t in sh if t[0] == "s3"} == {(r, c) for r in cb.rows("s3", "2019") for c in cb.cols("s3", "2019")}
    assert len({t for t in sh if t[0] == "s4"}) == 15
    assert len({t for t in sh if t[0] == "s2"}) == 22  # five sub-tables of the 2019 format


def test_township_text_report_end_to_end_matches_its_golden():
    """The township sample reaches us only as text: the whole chain (sniffed as text, no tables,
    text-layout reader) must place exactly the golden facts and leave the golden cells unplaced."""
    from ogi.extract import extract_document

    path = shared_path("samples", "2024_shijiazhuang-zhen.txt")
    data = path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name)
    assert doc.tables == []
    report = parse_report(doc)
    assert (report.template_version, report.report_year) == ("2021", 2024)
    with (GOLDEN_DIR / "2024_shijiazhuang-zhen.csv").open(encoding="utf-8", newline="") as f:
        golden = list(csv.DictReader(f))
    want_facts = {(g["section"], g["row_code"], g["col_code"], g["value"], g["value_status"])
                  for g in golden if g["kind"] == "fact"}
    got_facts = {(r["section"], r["row_code"], r["col_code"], r["value"], r["value_status"])
                 for r in facts_to_rows(report)}
    assert got_facts == want_facts
    want_unplaced = sorted(g["raw_text"] for g in golden if g["kind"] == "unplaced")
    assert sorted(u.raw_text for u in report.unplaced) == want_unplaced
