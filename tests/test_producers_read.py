"""ogi reads a document of every other producer exactly (bench/producers/): every template cell
present with its value (or the blank marker's status), nothing unplaced that the truth holds.

The benchmark measures accuracy over many seeds (bench/README.md); this keeps one document per
producer exact, so a change that breaks one producer's layout fails here. The scanned and
photographed layouts are not yet read exactly and are left out
(their numbers are in bench/README.md); producers needing LibreOffice or Chromium are slow.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes

import pytest

from bench.corpus import generate_corpus, read_truth
from bench.producers import PRODUCER_LAYOUTS, unavailable
from bench.run import _exact, read_truth_statuses
from ogi.flows.process import analyse

HEAVY = {"soffice", "chromium"}
NOT_YET_EXACT = {"scan150_2021", "photo_2021"}


def _params():
    for name, layout in PRODUCER_LAYOUTS.items():
        if name in NOT_YET_EXACT:
            continue
        marks = [pytest.mark.slow] if HEAVY & set(layout.needs) else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_producer_document_read_exactly(tmp_path, name):
    why = unavailable(name)
    if why:
        pytest.skip(f"{name} needs {why}")
    (doc,) = generate_corpus(tmp_path, per_layout=1, layouts=[name], seed=5)
    meta = json.loads(doc.meta_path.read_text(encoding="utf-8"))
    truth, statuses = read_truth(doc.truth_path), read_truth_statuses(doc.truth_path)
    data = doc.path.read_bytes()
    report = analyse(data, sha256=hashlib.sha256(data).hexdigest(), filename=doc.path.name,
                     media_type=mimetypes.guess_type(doc.path.name)[0], report_year=meta["year"])
    got = {}
    for f in report.facts:
        got.setdefault((f.section, f.row_code, f.col_code), f)
    missing = [k for k in truth if k not in got]
    wrong = [(k, truth[k], got[k].value) for k in truth if k in got and not _exact(got[k], truth[k], statuses.get(k))]
    assert not missing and not wrong, f"{name}: {len(missing)} missing {missing[:5]}, {len(wrong)} wrong {wrong[:5]}"
