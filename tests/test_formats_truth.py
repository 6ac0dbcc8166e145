"""Every input format the generator makes without LibreOffice — .docx, .xlsx, GBK HTML in both
templates — through the pipeline's own path (extract → normalize → validate), value by value
against the generator's truth; the report with a planted error is flagged, the clean ones are not.
(The PDF and scan layouts are checked the same way in test_pdf_stitch, test_pdf_borderless and
test_ocr, which need LibreOffice.)"""

from __future__ import annotations

import json

import pytest

from bench.corpus import generate_corpus, read_truth
from bench.run import run_ogi, score

LAYOUTS = ["docx_2021", "xlsx_2021", "html_gbk_2021", "html_gbk_2019"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    # 2 reports per layout; the 2nd carries a planted identity error.
    return generate_corpus(tmp_path_factory.mktemp("corpus"), per_layout=2, layouts=LAYOUTS, seed=7)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_value_exact_and_planted_error_flagged(corpus, layout):
    docs = [d for d in corpus if d.layout == layout]
    assert len(docs) == 2
    planted = [bool(json.loads(d.meta_path.read_text(encoding="utf-8"))["planted_errors"]) for d in docs]
    assert planted == [False, True]  # one clean report, one with an error: both branches below run
    for d in docs:
        report, _n_tables = run_ogi(d.path, d.spec.year)
        s = score(report, read_truth(d.truth_path))
        assert s["right"] == s["cells"] > 100, (d.path.name, s)
        assert s["extra"] == 0 and s["unplaced"] == 0, (d.path.name, s)
        assert report.template_version == d.spec.version
        meta = json.loads(d.meta_path.read_text(encoding="utf-8"))
        failed = {c.identity_id.split("[")[0] for c in report.checks
                  if c.status == "failed" and c.severity == "error"}
        if meta["planted_errors"]:
            assert failed, f"{d.path.name}: planted {meta['planted_errors']} not flagged"
        else:
            assert not failed, f"{d.path.name}: false alarm {failed}"
