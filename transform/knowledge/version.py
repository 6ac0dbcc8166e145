"""Which template a report follows (2019, 2021, legacy), read from the document's own labels.

The report year is only a tie-breaker: agencies publish 2021 reports in the 2019 format and the
other way round, and the labels are what decide how cells must be read. A mismatch with the year is
kept in the evidence string for the validator and for review.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.core.models import RawTable

MARKERS_PATH = DATA_DIR / "version_markers.csv"

_SPACE_RE = re.compile(r"[\s\u200b\ufeff]+")
_TITLE_YEAR = re.compile(r"(20\d\d|19\d\d)年(?:度)?[^。；;]{0,40}?政府信息公开(?:工作)?年度?报告")
_TITLE_YEAR_AFTER = re.compile(r"政府信息公开(?:工作)?年度?报告[(（](20\d\d)(?:年度?)?[)）]")
_PERIOD_YEAR = re.compile(r"统计期限?(?:为|是|自|从)?(20\d\d)年1月1日")


@cache
def _markers() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    with open_text(MARKERS_PATH) as f:
        for r in csv.DictReader(f):
            out.setdefault(r["version"], []).append(_flat(r["marker"]))
    return {k: tuple(v) for k, v in out.items()}


def _flat(text: str) -> str:
    """NFKC without any whitespace: labels broken over lines must still be found."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACE_RE.sub("", text).replace("(", "（").replace(")", "）")


def _document_text(doc_text: str, tables: Sequence[RawTable]) -> str:
    cells = (c for t in tables for row in t.rows for c in row if c)
    return _flat(doc_text) + "\n" + _flat("|".join(cells))


def detect_report_year(text: str) -> int | None:
    """The report's year from its title or its stated data period, or None."""
    flat = _flat(text[:5000])
    for pattern in (_TITLE_YEAR, _TITLE_YEAR_AFTER, _PERIOD_YEAR):
        m = pattern.search(flat)
        if m:
            return int(m.group(1))
    return None


def detect_version(doc_text: str, tables: Sequence[RawTable], report_year: int | None) -> tuple[str, str]:
    """("2019" | "2021" | "legacy" | "unknown", evidence) from the document's labels."""
    flat = _document_text(doc_text, tables)
    found = {v: [m for m in markers if m in flat] for v, markers in _markers().items()}
    n19, n21 = len(found.get("2019", [])), len(found.get("2021", []))
    modern = found.get("modern", [])
    legacy = found.get("legacy", [])
    evidence = f"2021 markers {found.get('2021', [])}; 2019 markers {found.get('2019', [])}"
    if legacy and len(legacy) > n19 + n21 + len(modern):
        # A pre-2019 统计表 whose prose happens to use a word of the new template.
        return "legacy", f"legacy 统计表 markers {legacy}; outweigh {evidence}"
    if n21 > n19:
        version = "2021"
    elif n19 > n21:
        version = "2019"
    elif n19 or modern:
        # Tied or only labels common to both formats: the year decides (2021 format from 2021 on).
        if report_year is None:
            return "unknown", evidence + f"; common labels {modern}; no year to break the tie"
        version = "2021" if report_year >= 2021 else "2019"
        evidence += f"; common labels {modern}; year {report_year} breaks the tie"
    elif legacy:
        return "legacy", f"legacy 统计表 markers {legacy}"
    else:
        return "unknown", "no template label found"
    if report_year is not None:
        expected = "2021" if report_year >= 2021 else "2019" if report_year >= 2019 else "legacy"
        if expected != version:
            evidence += f"; VERSION MISMATCH: {version} format but report year {report_year}"
    return version, evidence
