"""Column-aligned text (``pdftotext -layout``): the lines of numbers of 三 aligned to the template's rows.

Real ``pdftotext -layout`` runs on a real report by other hands (the Hongze PDF, hand-transcribed
golden) and on PDFs of the bench producers (their truth files), through the whole text path
(extract → parse → validate); hand-made layouts check what must stay unplaced.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
from pathlib import Path

import pytest

from bench.corpus import generate_corpus
from bench.producers import unavailable
from bench.run import read_truth, read_truth_statuses, score
from ogi.core.models import CheckStatus
from ogi.transform.checks.validate import validate
from ogi.transform.knowledge.codebook import load_codebook
from ogi.transform.knowledge.template_rows import row_sequences, template_rows
from ogi.transform.parse import CSV_COLUMNS, facts_to_rows, parse_report
from ogi.transform.readers.aligned_rows import ALIGNED_CONFIDENCE
from ogi.transform.readers.text_layout import parse_text_layout
from tests.capabilities import needs_pdftotext
from tests.conftest import shared_path

GOLDEN = Path(__file__).parent / "golden" / "2024_hongze-qu.csv"


def _pdftotext(pdf: Path, out: Path) -> bytes:
    subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), str(out)], check=True, timeout=60,
                   capture_output=True)
    return out.read_bytes()


def _read(data: bytes, name: str, year: int | None = None):
    from ogi.extract import extract_document

    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=name)
    assert doc.tables == [] and doc.media_type == "text/plain"
    return validate(parse_report(doc, report_year=year), doc.text)


@needs_pdftotext()
def test_pdftotext_layout_of_a_real_report_matches_its_golden(tmp_path):
    """WPS-made Hongze report: 三 wraps labels (（二）部分公开…, 5.要求行政机关确认或重新出具 / 已获取信息
    with the numbers under the label), 三 is cut by a page break with its footer, （六） is printed as
    one row. Every golden cell, on its PDF page, and nothing left over."""
    data = _pdftotext(shared_path("samples", "2024_hongze-qu.pdf"), tmp_path / "hongze.txt")
    report = _read(data, "hongze.txt")
    assert (report.template_version, report.report_year) == ("2021", 2024)
    with GOLDEN.open(encoding="utf-8", newline="") as f:
        golden = {tuple(r[c] for c in CSV_COLUMNS) for r in csv.DictReader(f)}
    got = {tuple(r[c] for c in CSV_COLUMNS) for r in facts_to_rows(report, load_codebook())}
    assert got == golden
    assert report.unplaced == []
    assert not [c for c in report.checks if c.status == CheckStatus.FAILED and c.severity == "error"]
    assert report.sections == "s2:complete s3:complete s4:complete"


@needs_pdftotext()
@pytest.mark.parametrize("layout", ["reportlab_cid_borderless_2019", "wps_like_2021"])
def test_pdftotext_layout_of_producer_pdfs_places_the_truth(tmp_path, layout):
    """Borderless 2019 tables in a CID font (labels spread over their cells, values run into them)
    and WPS-like 2021 tables: pdftotext -layout of each, read as text, gives every truth cell."""
    why = unavailable(layout)
    if why:
        pytest.skip(f"{layout} needs {why}")
    (doc,) = generate_corpus(tmp_path, per_layout=1, layouts=[layout], seed=11)
    data = _pdftotext(doc.path, tmp_path / "dump.txt")
    report = _read(data, "dump.txt", doc.spec.year)
    result = score(report, read_truth(doc.truth_path), read_truth_statuses(doc.truth_path))
    assert result["right"] == result["cells"], result
    assert (result["wrong"], result["missing"], result["extra"]) == (0, 0, 0)


# ----------------------------------------------------------------------------- hand-made layouts

COLS = 7
WIDTH = 11  # label characters a line


def _layout(version: str, values: dict[str, list[int] | None], *, bare: tuple[str, ...] = ()) -> str:
    """三 as pdftotext sets a table whose label column is narrow: each label wrapped every ``WIDTH``
    characters, its numbers on the middle line, at fixed offsets; a row with None prints no numbers;
    the rows in ``bare`` print their numbers on a line of their own below the label."""
    out = ["三、收到和处理政府信息公开申请情况",
           "  （本列数据的勾稽关系为：第一项加       申请人情况",
           "  第二项之和，等于第三项加第四项之和）   自然人  商业企业  科研机构  社会公益组织  法律服务机构  其他  总计"]
    for row in row_sequences("s3", version)[0].rows:
        label = row.labels[0]
        parts = [label[i:i + WIDTH] for i in range(0, len(label), WIDTH)]
        nums = "".join(f"{v:>6}" for v in values[row.code]) if values.get(row.code) is not None else ""
        at = len(parts) // 2
        for i, part in enumerate(parts):
            text = f"    {part}"
            out.append(text + " " * (24 - len(text)) + (nums if i == at and row.code not in bare else ""))
        if row.code in bare and nums:
            out.append(" " * 24 + nums)
    out += ["", "四、政府信息公开行政复议、行政诉讼情况"]
    return "\n".join(out)


def _values(version: str) -> dict[str, list[int]]:
    out = {}
    for i, row in enumerate(r for r in row_sequences("s3", version)[0].rows):
        cells = [(i + c) % 5 for c in range(COLS - 1)]
        out[row.code] = [*cells, sum(cells)]
    return out


def _cells(facts) -> dict[tuple[str, str], float | None]:
    return {(f.row_code, f.col_code): f.value for f in facts if f.section == "s3"}


def test_wrapped_labels_are_aligned_and_inferred_rows_carry_lowered_confidence():
    values = _values("2021")
    facts, unplaced, notes = parse_text_layout(_layout("2021", values), "2021")
    cols = load_codebook().cols("s3", "2021")
    assert _cells(facts) == {(r, c): float(v[i]) for r, v in values.items() for i, c in enumerate(cols)}
    assert unplaced == []
    by_row = {f.row_code: f for f in facts}
    # "（一）予以公开" is on its numbers' line; the middle line of a three-line label is not its start
    assert by_row["s3.granted"].confidence == 1.0
    inferred = [f for f in facts if "aligned by the template's order" in f.col_label_raw]
    assert inferred and all(f.confidence <= ALIGNED_CONFIDENCE for f in inferred)
    assert any("aligned to the template's rows" in n for n in notes)


def test_a_row_without_numbers_is_skipped_not_filled_from_its_neighbour():
    values: dict[str, list[int] | None] = dict(_values("2019"))
    values["s3.refused.third_party"] = None  # every cell blank: no numbers on any of its lines
    facts, unplaced, _notes = parse_text_layout(_layout("2019", values), "2019")
    cells = _cells(facts)
    assert not any(r == "s3.refused.third_party" for r, _c in cells)
    cols = load_codebook().cols("s3", "2019")
    assert cells == {(r, c): float(v[i]) for r, v in values.items() if v is not None for i, c in enumerate(cols)}
    assert unplaced == []


def test_numbers_between_two_labels_that_both_fit_stay_unplaced_with_both_rows_named():
    """（七）总计's numbers on a line of their own between its label and 四、结转下年度继续办理's, and the
    last row printing none: the order and the labels fit either row — never guessed."""
    values: dict[str, list[int] | None] = dict(_values("2021"))
    values["s3.carried_out"] = None
    facts, unplaced, _notes = parse_text_layout(_layout("2021", values, bare=("s3.total",)), "2021")
    assert not any(f.row_code in ("s3.total", "s3.carried_out") for f in facts)
    assert len(unplaced) == COLS
    assert all("s3.total" in u.reason and "s3.carried_out" in u.reason for u in unplaced)
    assert len(facts) == (len(values) - 2) * COLS


def test_template_rows_are_numbered_and_groups_may_be_printed_whole():
    rows = {r.code: r for r in template_rows("s3", "2021")}
    assert rows["s3.refused.third_party"].labels[0] == "4.保护第三方合法权益"
    assert rows["s3.not_processed"].labels[0] == "（五）不予处理" and rows["s3.not_processed"].is_group
    assert rows["s3.carried_out"].labels[0] == "四、结转下年度继续办理"
    sequences = row_sequences("s3", "2021")
    assert len(sequences[0].rows) == 25  # every sub-row printed
    whole_other = [s for s in sequences if dict(s.choices)["s3.other"] == "whole"
                   and all(m != "group+rows" for _g, m in s.choices)]
    assert len(whole_other) == 1 and len(whole_other[0].rows) == 23  # （六） as one row, as Hongze prints it


def _numbers_line(lines: list[str], code_label: str) -> int:
    """Index of the line holding the numbers of the row whose label contains ``code_label``."""
    start = next(i for i, ln in enumerate(lines) if code_label in ln)
    return next(i for i in range(start, len(lines)) if ln_has_numbers(lines[i]))


def ln_has_numbers(line: str) -> bool:
    return len(line) > 24 and line[24:].strip() != ""


def test_a_row_whose_first_value_sits_on_its_label_line_is_joined():
    """pdftotext sets the first value of a row whose label wraps on the label's first line, the rest
    on the next: the two parts are one row (their offsets complement, its total adds up)."""
    values = _values("2021")
    lines = _layout("2021", values).split("\n")
    i = _numbers_line(lines, "其他法律行政法规禁")
    first = lines[i][24:30]
    lines[i - 1] = lines[i - 1] + first
    lines[i] = lines[i][:24] + " " * 6 + lines[i][30:]
    facts, unplaced, notes = parse_text_layout("\n".join(lines), "2021")
    cols = load_codebook().cols("s3", "2021")
    assert _cells(facts) == {(r, c): float(v[i]) for r, v in values.items() for i, c in enumerate(cols)}
    assert unplaced == [] and any("1 rows joined from two lines" in n for n in notes)
    joined = [f for f in facts if f.row_code == "s3.refused.law_prohibited"]
    assert all("joined from two lines" in f.col_label_raw and f.confidence < 1.0 for f in joined)


def test_two_rows_set_column_by_column_are_rebuilt_or_left_unplaced():
    """Two close rows whose numbers pdftotext set one a line, column by column (the first column of
    both, then the second …): rebuilt when every column comes twice and each row adds up; with one
    number lost the run stays unplaced, never read as rows."""
    values = _values("2021")
    lines = _layout("2021", values).split("\n")
    a = _numbers_line(lines, "6.属于四类过程性信息")
    b = _numbers_line(lines, "7.属于行政执法案卷")
    assert b == a + 1
    run = [" " * (24 + 6 * c) + line[24 + 6 * c:30 + 6 * c] for c in range(COLS) for line in (lines[a], lines[b])]
    rebuilt = [*lines[:a], lines[a][:24].rstrip(), lines[b][:24].rstrip(), *run, *lines[b + 1:]]
    facts, unplaced, notes = parse_text_layout("\n".join(rebuilt), "2021")
    cols = load_codebook().cols("s3", "2021")
    assert _cells(facts) == {(r, c): float(v[i]) for r, v in values.items() for i, c in enumerate(cols)}
    assert unplaced == [] and any("2 rows rebuilt" in n for n in notes)

    lost = [*rebuilt[:a + 2 + 5], *rebuilt[a + 2 + 6:]]  # one number of the run missing
    facts, unplaced, _notes = parse_text_layout("\n".join(lost), "2021")
    assert not any(f.row_code in ("s3.refused.process_info", "s3.refused.enforcement_file") for f in facts)
    assert len(unplaced) == 2 * COLS - 1
    assert all("one a line" in u.reason for u in unplaced)
