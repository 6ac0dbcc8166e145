"""`ogi extract FILE`: one CSV row per value, and clear errors for bad input."""

from __future__ import annotations

import csv
import io

from ogi.cli import main
from tests.conftest import shared_path


def test_extract_prints_one_row_per_value_with_label_paths(capsys):
    path = shared_path("samples", "2024_hongze-qu.pdf")
    assert main(["extract", str(path)]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 186
    by = {(r["row_code"], r["col_code"]): r for r in rows}
    secret = by[("s3.refused.state_secret", "s3c.total")]
    assert secret["row_path"] == "不予公开/属于国家秘密" and secret["value_status"] == "zero"
    upheld = by[("s4.cases", "s4c.review.upheld")]
    assert upheld["col_path"] == "行政复议/结果维持" and upheld["value"] == "1" and upheld["page"] == "4"
    assert "template 2021" in err


def test_extract_names_the_file_and_reason_for_a_corrupt_pdf(tmp_path, capsys):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")
    assert main(["extract", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "broken.pdf" in err and "corrupt" in err.lower()


def test_extract_missing_file(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.pdf")]) == 2
    assert "nope.pdf" in capsys.readouterr().err
