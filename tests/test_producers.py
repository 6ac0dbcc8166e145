"""The other-producers corpus (bench/producers/): every producer makes a real document whose truth
file says exactly what the spec holds (or the blank marker the cell printed instead of its 0).

ogi's accuracy on these documents is measured by the benchmark (bench/README.md), not asserted here.
Producers needing LibreOffice or Chromium are marked slow; any producer whose tool, font or module is
missing skips naming it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.corpus import format_number, generate_corpus, template_keys
from bench.producers import PRODUCER_LAYOUTS, unavailable
from bench.producers.common import MARKER_STATUS
from bench.run import names_cell

HEAVY = {"soffice", "chromium"}


def _params():
    for name, layout in PRODUCER_LAYOUTS.items():
        marks = [pytest.mark.slow] if HEAVY & set(layout.needs) else []
        yield pytest.param(name, marks=marks, id=name)


def _generate(tmp: Path, name: str):
    why = unavailable(name)
    if why:
        pytest.skip(f"{name} needs {why}")
    docs = generate_corpus(tmp, per_layout=1, layouts=[name], seed=3)
    assert len(docs) == 1
    return docs[0]


@pytest.mark.parametrize("name", list(_params()))
def test_producer_document_and_truth(tmp_path, name):
    doc = _generate(tmp_path, name)
    layout = PRODUCER_LAYOUTS[name]
    spec = doc.spec
    meta = json.loads(doc.meta_path.read_text(encoding="utf-8"))
    assert meta["layout"] == name and meta["template_version"] == layout.version == spec.version
    assert meta["seed"] == spec.seed and meta["document"] == doc.path.name and doc.path.exists()

    # the truth: every template cell once, in order; a marked cell is a zero that printed its marker
    with doc.truth_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["section"], r["row_code"], r["col_code"]) for r in rows] == template_keys(spec.version)
    marks = {tuple(k.split("|")): m for k, m in meta["blank_marks"].items()}
    for r in rows:
        key = (r["section"], r["row_code"], r["col_code"])
        if key in marks:
            assert spec.values[key] == 0 and r["value"] == "" and r["value_status"] == MARKER_STATUS[marks[key]]
        else:
            assert r["value"] == format_number(spec.values[key]), key
            assert r["value_status"] == ("zero" if spec.values[key] == 0 else "number"), key

    # the document is what its kind says
    data = doc.path.read_bytes()
    new_total = ("s3", "s3.new", "s3c.total")
    if layout.kind in ("pdf", "scan"):
        import pypdfium2 as pdfium

        assert data.startswith(b"%PDF-")
        pdf = pdfium.PdfDocument(data)
        try:
            assert len(pdf) >= 2
            text = "".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
        if layout.kind == "scan":
            assert text.strip() == "", "a scan has no text layer"
    elif layout.kind == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(doc.path)
        cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
        assert any(c.startswith("填报单位：") for c in cells)
        assert any("行政复议" in c for c in cells) and any("本年新收" in c for c in cells)
    else:
        text = data.decode("utf-8")
        assert "本年新收" in text and "行政复议" in text
        if new_total not in marks:
            assert format_number(spec.values[new_total]) in text
        if layout.ext == "md":
            assert "<table>" in text or "|---" in text


@pytest.mark.parametrize("name", ["md_marker_2021", "md_docling_2019", "md_mineru_2021", "xlsx_preamble_2021"])
def test_light_producers_are_deterministic(tmp_path, name):
    a = _generate(tmp_path / "a", name)
    b = _generate(tmp_path / "b", name)
    assert a.truth_path.read_bytes() == b.truth_path.read_bytes()
    if a.path.suffix == ".md":
        assert a.path.read_bytes() == b.path.read_bytes()


def test_names_cell_counts_cells_rows_and_sections_not_identity_families():
    def check(identity_id: str, detail: str = "") -> SimpleNamespace:
        return SimpleNamespace(identity_id=identity_id, detail=detail)

    key = ("s3", "s3.new", "s3c.total")
    assert names_cell(check("s3.balance[s3c.total]", "5 = 6: s3.new@s3c.total(5) + s3.carried_in@s3c.total(1)"), key)
    assert not names_cell(check("s3.balance[s3c.research]", "5 = 6: s3.new@s3c.research(5)"), key)
    assert names_cell(check("s3.row_total[s3.new]"), key)
    assert names_cell(check("registration.s3.new"), key)
    assert names_cell(check("completeness.s3", "table 三 not found"), key)
    assert not names_cell(check("completeness.s4"), key)
    assert not names_cell(check("s3.row_total[s3.refused]"), ("s3", "s3.refused.secret", "s3c.total"))
