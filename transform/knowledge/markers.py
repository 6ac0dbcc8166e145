"""Section markers: which texts open report section 二 / 三 / 四 (data/section_markers.csv) and
which codebook labels belong to one section only. Readers of grids and of plain text both ask."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.labels import canonical_text

MARKERS_PATH = DATA_DIR / "section_markers.csv"
SECTIONS = ("s2", "s3", "s4")


@cache
def _markers() -> tuple[tuple[str, str, bool], ...]:
    with open_text(MARKERS_PATH) as f:
        return tuple(
            (r["section"], canonical_text(r["marker"]), r["starts_section"].strip().lower() == "true")
            for r in csv.DictReader(f)
        )


def section_markers(section: str) -> tuple[str, ...]:
    """Canonical header/title markers of one section (信息内容, 申请人情况, …)."""
    return tuple(marker for sec, marker, _ in _markers() if sec == section)


@cache
def _section_labels() -> dict[str, frozenset[str]]:
    """Canonical codebook labels that belong to exactly one section (总计, 其他 do not)."""
    cb: Codebook = load_codebook()
    owners: dict[str, set[str]] = {}
    for e in cb.entries.values():
        owners.setdefault(canonical_text(e.label_zh), set()).add(e.section)
    out: dict[str, set[str]] = {s: set() for s in SECTIONS}
    for label, secs in owners.items():
        if len(secs) == 1 and len(label) >= 2 and next(iter(secs)) in out:
            out[next(iter(secs))].add(label)
    return {s: frozenset(v) for s, v in out.items()}


def _row_texts(cells: Sequence[str | None]) -> list[str]:
    return [t for t in (canonical_text(c) for c in cells if c) if t]


def row_start_section(cells: Sequence[str | None]) -> str | None:
    """The section a row opens (its start marker), or None."""
    texts = _row_texts(cells)
    for section, marker, starts in _markers():
        if starts and any(marker in t for t in texts):
            return section
    # 四's header row: 行政复议 and 行政诉讼 side by side.
    if any(t == "行政复议" for t in texts) and any(t == "行政诉讼" for t in texts):
        return "s4"
    return None


def row_section_votes(cells: Sequence[str | None]) -> dict[str, int]:
    """How many cells of the row carry a label (or marker) unique to each section."""
    votes = dict.fromkeys(SECTIONS, 0)
    labels = _section_labels()
    for t in _row_texts(cells):
        for s in SECTIONS:
            if t in labels[s] or any(len(lab) >= 4 and lab in t for lab in labels[s]):
                votes[s] += 1
        for section, marker, _ in _markers():
            if marker in t:
                votes[section] += 1
    return votes
