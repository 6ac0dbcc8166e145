"""Prose statements of table numbers (data/prose_patterns.csv) against the tables, on real texts."""

from __future__ import annotations

import re

import pytest

from ogi.core.models import Fact
from ogi.transform.checks.prose import load_patterns, prose_checks, sentences
from tests.conftest import shared_path
from tests.test_identities import fact, golden_facts


def _blank_table() -> list[Fact]:
    """The cells prose usually restates, present but blank: every statement comes back with its number."""
    cells = [("s3.new", "s3c.total"), ("s3.new", "s3c.natural_person"), ("s3.new", "s3c.commercial"),
             ("s3.total", "s3c.total"), ("s3.carried_in", "s3c.total"), ("s3.carried_out", "s3c.total"),
             ("s4.cases", "s4c.review.total"), ("s4.cases", "s4c.suit_direct.total"),
             ("s4.cases", "s4c.suit_after_review.total")]
    return [fact(r, c, None) for r, c in cells]


def _stated(text: str) -> dict[str, float]:
    return {c.identity_id.split("#")[0]: c.lhs for c in prose_checks(text, _blank_table())}


def test_shanghai_2019_prose_agrees_with_its_table():
    raw = shared_path("samples", "2019_shanghai-shi-bgt.js").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", raw)
    checks = {c.identity_id: c for c in prose_checks(text, golden_facts("2019_shanghai-shi-bgt.csv"))}
    for ident, n in [("prose.received#1", 859), ("prose.completed#1", 805), ("prose.carried_in#1", 18),
                     ("prose.carried_out#1", 72), ("prose.review#1", 7)]:
        assert checks[ident].status == "passed" and checks[ident].lhs == n, checks[ident].detail
    lit = checks["prose.litigation#1"]  # 诉讼9件 = 9 (direct) + blank (after review)
    assert lit.status == "not_checkable" and "would match" in lit.detail
    assert all(c.severity == "warning" for c in checks.values())


def test_hongze_2024_prose_disagrees_with_its_table_and_says_so():
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(shared_path("samples", "2024_hongze-qu.pdf")) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    checks = prose_checks(text, golden_facts("2024_hongze-qu.csv"))
    failed = [c for c in checks if c.status == "failed"]
    assert len(failed) == 1
    c = failed[0]
    assert c.identity_id == "prose.received#1" and (c.lhs, c.rhs) == (17, 95) and c.severity == "warning"
    assert "受理政府信息公开申请17件" in c.detail  # the sentence is quoted


@pytest.mark.parametrize(("name", "expected"), [
    ("2021_pingtan-syq", {"prose.received": 70, "prose.completed": 69, "prose.carried_out": 1}),
    ("2023_pingtan-syq", {"prose.received": 81, "prose.received_natural_person": 80,
                          "prose.received_commercial": 1, "prose.completed": 81, "prose.review": 2,
                          "prose.litigation": 7}),
    ("2025_pingtan-syq", {"prose.received": 154, "prose.completed": 148, "prose.carried_out": 6,
                          "prose.review": 36, "prose.litigation": 9}),
    ("2020_pingtan-syq", {"prose.received": 21}),
])
def test_real_phrasings_are_recognized(name, expected):
    text = shared_path("samples", "legacy-text", f"{name}.txt").read_text(encoding="utf-8")
    assert _stated(text) == expected


def test_numbers_about_other_things_are_not_taken_for_requests():
    text = shared_path("samples", "legacy-text", "2018_pingtan-syq.txt").read_text(encoding="utf-8")
    assert "共收到15564件咨询投诉件" in text.replace(" ", "")
    assert _stated(text) == {}


def test_no_table_cell_no_check_and_matching_numbers_pass():
    text = "本年度共收到政府信息公开申请12件，办结12件。"
    assert prose_checks(text, []) == []
    checks = prose_checks(text, [fact("s3.new", "s3c.total", 12), fact("s3.total", "s3c.total", 11)])
    assert [(c.identity_id, c.status) for c in checks] == [("prose.received#1", "passed"),
                                                            ("prose.completed#1", "failed")]


def test_sentences_and_patterns_load():
    assert sentences("受理申请 17 件。办结 16 件；") == ["受理申请17件", "办结16件"]
    assert all("n" in p.regex.groupindex for p in load_patterns())
