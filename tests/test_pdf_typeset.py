"""Tables drawn by a typesetting system (reportlab canvas, a non-embedded CID font): labels in
distributed alignment (分散对齐), cells padded so tightly that a label touches its number, vertical
one-character-per-line group labels beside spread labels, and a ruled table 二 sharing a page with
a borderless table 三. Each document is drawn here with a fixed style and read through the
pipeline's own path (``flows.process.analyse``); every template cell is compared with the truth.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pytest

pytest.importorskip("reportlab")

from bench.corpus import make_spec, read_truth  # noqa: E402
from bench.producers.common import choose_marks, write_truth_marked  # noqa: E402
from bench.producers.pdf_canvas import CanvasStyle, draw_report  # noqa: E402
from bench.producers.reportlab_cid import CID_FONT, register  # noqa: E402
from bench.run import _exact, read_truth_statuses  # noqa: E402
from ogi.flows.process import analyse  # noqa: E402

BASE = CanvasStyle(
    font=CID_FONT, num_font=CID_FONT, size=10.5, body_size=12.0, leading=1.35, pad=4.5, rules="none",
    rules_other="none", rule_width=0.6, fill_cells=False, justify=False, valign="middle", num_align="center",
    repeat_headers=False, footer="— {n} —", landscape_s3=False, prose_paragraphs=2,
    s3_label_pt=(24.0, 55.0, 110.0), s3_value_pt=40.0, margin=68.0, distribute=False,
)

STYLES = {
    # every label spread over its cell: "规    章" read as two cells, a false label column
    "distributed": (dataclasses.replace(BASE, distribute=True), False),
    # and 三's group labels one character per line, beside the spread labels
    "distributed_vertical": (dataclasses.replace(BASE, distribute=True, size=12.0, leading=1.5), True),
    # 1.5 pt padding, left-aligned numbers: the label's last character touches the number ("章0")
    "tight_padding": (dataclasses.replace(BASE, distribute=True, size=9.0, pad=1.5, num_align="left",
                                          valign="top"), True),
    # 二 ruled, 三 without rules: a page holding both
    "ruled_beside_borderless": (dataclasses.replace(BASE, rules_other="all", distribute=True, size=12.0,
                                                    leading=1.5), True),
}


@pytest.mark.parametrize("name", list(STYLES))
def test_typeset_tables_read_exactly(tmp_path, name):
    register()
    style, vertical = STYLES[name]
    spec = make_spec(seed=41, version="2021")
    rng = random.Random(41)
    marks = choose_marks(spec, rng)
    pdf = tmp_path / f"{name}.pdf"
    truth_path = tmp_path / f"{name}.truth.csv"
    draw_report(spec, pdf, style, marks, rng, vertical_chars=vertical)
    write_truth_marked(spec, truth_path, {"layout": name, "document": pdf.name}, marks)
    truth, statuses = read_truth(truth_path), read_truth_statuses(truth_path)

    data = pdf.read_bytes()
    report = analyse(data, sha256=hashlib.sha256(data).hexdigest(), filename=pdf.name,
                     media_type="application/pdf", report_year=spec.year)
    got = {(f.section, f.row_code, f.col_code): f for f in report.facts}
    missing = [k for k in truth if k not in got]
    wrong = [(k, truth[k], got[k].value) for k in truth if k in got and not _exact(got[k], truth[k], statuses.get(k))]
    assert not missing and not wrong, (missing[:10], wrong[:10])
    assert not report.unplaced
