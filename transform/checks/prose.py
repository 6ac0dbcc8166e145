"""Cross-check numbers the report's prose states against its tables.

一、总体情况 often restates table totals ("共收到政府信息公开申请95件", "办结69件，1件结转下年度").
The phrasings are data (data/prose_patterns.csv: a regex with a named group ``n``, the table cells it
restates, words the sentence must or must not contain). A mismatch is a warning, never a correction:
prose may count differently (an office vs. the whole government), and both numbers are kept.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.core.models import CheckResult, CheckStatus, Fact, ValueStatus

PATTERNS_PATH = DATA_DIR / "prose_patterns.csv"

_SENTENCE_END = re.compile(r"[。；;！!？?]")
_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_QUOTE_CHARS = 60  # context quoted on each side of the matched phrase


@dataclass(frozen=True)
class ProsePattern:
    id: str
    regex: re.Pattern[str]
    target: tuple[tuple[int, str, str], ...]  # (sign, row, col)
    requires: re.Pattern[str] | None
    excludes: re.Pattern[str] | None
    description: str


def _parse_target(text: str, where: str) -> tuple[tuple[int, str, str], ...]:
    out, sign = [], 1
    for tok in text.replace("+", " + ").replace(" - ", " - ").split():
        if tok in ("+", "-"):
            sign = 1 if tok == "+" else -1
            continue
        row, sep, col = tok.partition("@")
        if not sep:
            raise ValueError(f"{where}: target term {tok!r} is not row@col")
        out.append((sign, row, col))
        sign = 1
    return tuple(out)


@cache
def load_patterns() -> tuple[ProsePattern, ...]:
    """The prose phrasings (cached); a bad regex raises naming the file and line."""
    out = []
    with open_text(PATTERNS_PATH) as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            where = f"{PATTERNS_PATH}:{line}"
            try:
                regex = re.compile(r["pattern"])
                requires = re.compile(r["requires"]) if r["requires"].strip() else None
                excludes = re.compile(r["excludes"]) if r["excludes"].strip() else None
            except (re.error, KeyError) as exc:
                raise ValueError(f"{where}: bad prose pattern: {exc}") from exc
            if "n" not in regex.groupindex:
                raise ValueError(f"{where}: pattern has no (?P<n>…) group")
            out.append(ProsePattern(r["id"].strip(), regex, _parse_target(r["target"], where), requires,
                                    excludes, r["description"].strip()))
    return tuple(out)


def sentences(text: str) -> list[str]:
    """The text cut into sentences, NFKC and without whitespace ("申请 17 件" → "申请17件")."""
    flat = _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))
    # NFKC turns "，" into ","; keep "。" and "；" as they are (NFKC leaves them) to cut on.
    return [s for s in _SENTENCE_END.split(flat) if s]


def _quote(sentence: str, m: re.Match[str]) -> str:
    a, b = max(0, m.start() - _QUOTE_CHARS), min(len(sentence), m.end() + _QUOTE_CHARS)
    return ("…" if a else "") + sentence[a:b] + ("…" if b < len(sentence) else "")


def _fmt(v: float | None) -> str:
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def prose_checks(text: str, facts: Sequence[Fact]) -> list[CheckResult]:
    """One CheckResult (severity warning) per prose statement of a number the tables also hold.

    Statements about cells the report has no table for are skipped; a table cell that is blank or
    unreadable makes the check ``not_checkable``.
    """
    cells: dict[tuple[str, str], Fact] = {}
    for f in facts:
        cells.setdefault((f.row_code, f.col_code), f)
    results: list[CheckResult] = []
    seen: set[tuple[tuple[tuple[int, str, str], ...], int, str]] = set()
    counter: dict[str, int] = {}
    for sentence in sentences(text):
        for pat in load_patterns():
            if pat.requires and not pat.requires.search(sentence):
                continue
            if pat.excludes and pat.excludes.search(sentence):
                continue
            for m in pat.regex.finditer(sentence):
                stated = int(m.group("n"))
                key = (pat.target, stated, sentence)
                if key in seen:
                    continue
                seen.add(key)
                found = [(sign, cells.get((row, col)), f"{row}@{col}") for sign, row, col in pat.target]
                if all(f is None for _, f, _ in found):
                    continue  # the report has no such table
                counter[pat.id] = counter.get(pat.id, 0) + 1
                quote = _quote(sentence, m)
                ident = f"prose.{pat.id}#{counter[pat.id]}"
                missing = [(code, "absent" if f is None else str(f.value_status))
                           for _, f, code in found if f is None or f.value is None]
                if missing:
                    detail = "table cell missing: " + ", ".join(f"{c} ({s})" for c, s in missing)
                    if all(s == ValueStatus.BLANK for _, s in missing):
                        as_zero = sum(sign * ((f.value if f else None) or 0.0) for sign, f, _ in found)
                        verdict = "would match" if abs(as_zero - stated) < 1e-9 else "would not match"
                        detail += f"; if blank cells were 0: table {_fmt(as_zero)} {verdict}"
                    results.append(CheckResult(ident, "prose", CheckStatus.NOT_CHECKABLE, float(stated), None,
                                               pat.description, f"{detail}; prose: 「{quote}」", "warning"))
                    continue
                table = sum(sign * (f.value or 0.0) for sign, f, _ in found if f is not None)
                status = CheckStatus.PASSED if abs(table - stated) < 1e-9 else CheckStatus.FAILED
                codes = " + ".join(code for _, _, code in found)
                detail = f"prose {stated} vs table {codes} = {_fmt(table)}; prose: 「{quote}」"
                results.append(CheckResult(ident, "prose", status, float(stated), table, pat.description,
                                           detail, "warning"))
    return results
