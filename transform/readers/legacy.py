"""Read the pre-2019 统计表 (政府信息公开情况统计表) from a report's flattened text.

Before 2019 there was no national table; provinces printed an appendix with rows such as
主动公开信息数 / 受理依申请公开信息总数 / 对申请的答复总数 and the columns 计量单位 | YYYY年度 |
历年累计 (Fujian) or 计量单位 | 代码 | 本期实际 | 本年累计 (定西). Row labels and their variants
are data (data/legacy_codebook.csv, data/legacy_label_variants.csv).

Archived pages lose the cell borders, so the numbers of neighbouring cells often run together
("主动公开信息数条4251516"). A value is placed only when the text says it unambiguously: numbers
separated by whitespace, one per column; or a run of digits that splits in exactly one way into one
number per column (no leading zeros; a cumulative column never below the year's value). Everything
else is kept as ``Unplaced`` with its raw text and the reason.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.core.models import Fact, Unplaced
from ogi.transform.knowledge.codebook import Codebook, read_codebook
from ogi.transform.knowledge.values import parse_amount, parse_value

LEGACY_CODEBOOK_PATH = DATA_DIR / "legacy_codebook.csv"
LEGACY_VARIANTS_PATH = DATA_DIR / "legacy_label_variants.csv"

_HEADER = re.compile(r"指\s*标\s*名\s*称")
_HEADER_COLS = (
    (re.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*度?"), "legacyc.year"),
    (re.compile(r"历\s*年\s*累\s*计"), "legacyc.cumulative"),
    (re.compile(r"本\s*期\s*实\s*际"), "legacyc.period"),
    (re.compile(r"本\s*年\s*累\s*计"), "legacyc.year_to_date"),
)
_CODE_COL = re.compile(r"代\s*码")
_UNITS = "万元|元|条|件|项|人次|个|次"
_SEGMENT = re.compile(rf"^\s*(?P<unit>{_UNITS})?\s*(?P<nums>(?:[-\d.,]+\s*)*)(?P<rest>.*)$", re.S)
_OF_WHICH = re.compile(r"其\s*中\s*[:：]?\s*$")
_NUMBER_TOKEN = re.compile(r"^\d+(?:\.\d+)?$")
# Columns where the second is a running total of the first: a split must keep second >= first.
_CUMULATIVE_PAIRS = {("legacyc.year", "legacyc.cumulative"), ("legacyc.period", "legacyc.year_to_date")}
_PROSE_NUMBER = re.compile(r"(\d+)\s*(?:条|件)")
SPLIT_CONFIDENCE = 0.9  # placed from a run of digits that only one split explains


@cache
def legacy_codebook() -> Codebook:
    """The legacy codes (data/legacy_codebook.csv)."""
    return read_codebook(LEGACY_CODEBOOK_PATH)


@cache
def _label_patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(pattern tolerant of whitespace inside the label, code, label) for every row label and variant."""
    cb = legacy_codebook()
    labels = [(e.label_zh, e.code) for e in cb.entries.values() if e.axis == "row"]
    with open_text(LEGACY_VARIANTS_PATH) as f:
        labels += [(r["variant"].strip(), r["code"].strip()) for r in csv.DictReader(f)]
    out = []
    for label, code in labels:
        if code not in cb:
            raise ValueError(f"{LEGACY_VARIANTS_PATH}: unknown legacy code {code!r}")
        out.append((re.compile(r"\s*".join(re.escape(ch) for ch in label)), code, label))
    return tuple(out)


@dataclass
class _Row:
    code: str
    label: str
    start: int
    end: int


def _find_rows(body: str) -> list[_Row]:
    """Row labels in text order; the longest label wins where two overlap (政府网站公开数 ⊃ 网站公开)."""
    hits = [_Row(code, label, m.start(), m.end()) for pat, code, label in _label_patterns()
            for m in pat.finditer(body)]
    hits.sort(key=lambda r: (r.start, -(r.end - r.start)))
    rows: list[_Row] = []
    for h in hits:
        if rows and h.start < rows[-1].end:
            continue
        rows.append(h)
    return rows


def _header_columns(header: str) -> tuple[list[tuple[str, str]], bool]:
    """[(col code, label as printed)] in printed order, and whether a 代码 column precedes them."""
    found = []
    for pat, code in _HEADER_COLS:
        m = pat.search(header)
        if m:
            found.append((m.start(), code, re.sub(r"\s+", "", m.group(0))))
    found.sort()
    return [(code, label) for _, code, label in found], bool(_CODE_COL.search(header))


def _splits(digits: str, n: int) -> list[list[str]]:
    """Every way to cut a run of digits into ``n`` numbers without leading zeros."""
    if n == 1:
        return [[digits]] if digits == "0" or not digits.startswith("0") else []
    out: list[list[str]] = []
    for i in range(1, len(digits) - n + 2):
        head = digits[:i]
        if len(head) > 1 and head.startswith("0"):
            break
        out.extend([head, *rest] for rest in _splits(digits[i:], n - 1))
    return out


def _plausible(parts: list[str], cols: list[str]) -> bool:
    values = [int(p) for p in parts]
    for (a, ca), (b, cb) in zip(zip(values, cols, strict=True), zip(values[1:], cols[1:], strict=True), strict=False):
        if (ca, cb) in _CUMULATIVE_PAIRS and b < a:
            return False
    return True


def _strip_next_label_prefix(segment: str, numbering: int | None) -> str:
    """Drop what belongs to the next row: its "其中：" and its numbering ("2." / "2、")."""
    if numbering is not None:
        segment = re.sub(rf"{numbering}\s*[.、．]\s*$", "", segment)
    return _OF_WHICH.sub("", segment)


def parse_legacy_text(text: str) -> tuple[list[Fact], list[Unplaced]]:
    """Facts (section "legacy") and unplaced values of the 统计表 in a pre-2019 report's text.

    Returns ([], []) when the text has no 统计表 (a header 指标名称 followed by known row labels).
    ``row_index`` is the row's position in the table, ``col_index`` the column's.
    """
    m = _HEADER.search(text or "")
    if not m:
        return [], []
    body = text[m.end():]
    rows = _find_rows(body)
    if not rows:
        return [], []
    cols_printed, code_col = _header_columns(body[: rows[0].start])
    cb = legacy_codebook()
    facts: list[Fact] = []
    unplaced: list[Unplaced] = []
    if not cols_printed:
        unplaced.append(Unplaced("legacy", body[: rows[0].start].strip(), "", "", None, None, None, None,
                                 "统计表 header names no value column (YYYY年度/历年累计/本期实际/本年累计)"))
        return facts, unplaced
    cols = [c for c, _ in cols_printed]
    col_labels = dict(cols_printed)
    prose_numbers = {int(n) for n in _PROSE_NUMBER.findall(text[: m.start()])}
    children_seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        segment = body[row.end: nxt.start] if nxt else body[row.end:]
        if nxt is not None:
            parent = cb.get(nxt.code).parent
            numbering = None
            if parent:
                children_seen[parent] = children_seen.get(parent, 0) + 1
                numbering = children_seen[parent]
            segment = _strip_next_label_prefix(segment, numbering)
        _place_row(i, row, segment, cols, col_labels, code_col, cb, facts, unplaced, last=nxt is None,
                   prose_numbers=prose_numbers)
    return facts, unplaced


def _place_row(index: int, row: _Row, segment: str, cols: list[str], col_labels: dict[str, str], code_col: bool,
               cb: Codebook, facts: list[Fact], unplaced: list[Unplaced], *, last: bool,
               prose_numbers: set[int]) -> None:
    raw = segment.strip()
    sm = _SEGMENT.match(segment)
    unit = sm.group("unit") if sm else None
    tokens = sm.group("nums").split() if sm else []
    rest = sm.group("rest").strip() if sm else raw
    if rest and not last and re.search(r"\d", rest):
        unplaced.append(Unplaced("legacy", rest, row.label, "", None, None, index, None,
                                 "text with digits between this row's values and the next label"))
    expected = len(cols) + (1 if code_col else 0)
    confidence = 1.0
    if len(tokens) == expected and all(_NUMBER_TOKEN.match(t) for t in tokens):
        parts = tokens
    elif len(tokens) == 1 and tokens[0].isdigit():
        candidates = [p for p in _splits(tokens[0], expected) if _plausible(p[-len(cols):], cols)]
        if len(candidates) != 1:
            # For review only: the one split whose first value the report's prose also states.
            stated = [p for p in candidates if int(p[0]) in prose_numbers]
            guess = f"{row.code} {'|'.join(stated[0])} (prose states {stated[0][0]})" if len(stated) == 1 else row.code
            unplaced.append(Unplaced(
                "legacy", tokens[0], row.label, "|".join(col_labels[c] for c in cols), None, None, index, None,
                f"digits of {expected} cells run together: {len(candidates)} possible splits "
                f"({', '.join('|'.join(p) for p in candidates)})", guess))
            return
        parts, confidence = candidates[0], SPLIT_CONFIDENCE
    else:
        if raw:
            unplaced.append(Unplaced("legacy", raw, row.label, "|".join(col_labels[c] for c in cols), None, None,
                                     index, None, f"{len(tokens)} number tokens for {expected} columns", row.code))
        return
    if code_col:
        parts = parts[1:]  # the printed row code (01–35), not a value
    declared = cb.get(row.code).unit
    for j, (col, text) in enumerate(zip(cols, parts, strict=True)):
        if declared == "万元":
            value, status, _u = parse_amount(f"{text}{unit or '万元'}", declared_unit="万元")
        else:
            value, status = parse_value(text)
        facts.append(Fact(
            section="legacy", row_code=row.code, col_code=col, value=value, value_status=str(status),
            unit=declared or unit, raw_text=text if confidence == 1.0 else tokens[0],
            page=None, table_index=0, row_index=index, col_index=j, row_label_raw=row.label,
            col_label_raw=col_labels[col], confidence=confidence,
        ))
