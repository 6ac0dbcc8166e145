"""Reviewed corrections: a layer beside the extracted facts, never an edit of them.

``data/corrections.csv`` (in git, reviewed like code) names a cell of a document — the document's
sha256 and the cell's row and column codes — and the value a reviewer established from evidence
(the report re-read by a person, an agency's corrigendum, …). The loader stores the file as the
``corrections`` table; ``facts`` keep the extracted value and the views that ask for corrected
values (``facts_labeled.value_corrected``, ``panel``) use the correction instead.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

COLUMNS = ["sha256", "row_code", "col_code", "corrected_value", "reason", "reviewer", "review_date", "evidence"]
REQUIRED = ["sha256", "row_code", "col_code", "reason", "reviewer", "review_date"]
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a correction: where (file and line) and why."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _number(text: str) -> float | None:
    if text.strip() == "":
        return None  # the cell's value is withdrawn
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_corrections(path: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Read the file: rows ready for the ``corrections`` table, and every malformed line."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], int] = {}
    name = str(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            return [], [Problem(name, 1, f"missing column(s): {', '.join(missing)}")]
        for line, raw in enumerate(reader, start=2):
            r = {k: (raw.get(k) or "").strip() for k in COLUMNS}
            empty = [c for c in REQUIRED if not r[c]]
            if empty:
                problems.append(Problem(name, line, f"empty {', '.join(empty)}"))
                continue
            if not _SHA256.fullmatch(r["sha256"]):
                problems.append(Problem(name, line, f"sha256 {r['sha256']!r} is not 64 lowercase hex digits"))
                continue
            try:
                value = _number(r["corrected_value"])
            except ValueError:
                problems.append(Problem(name, line, f"corrected_value {r['corrected_value']!r} is not a number"))
                continue
            try:
                reviewed = date.fromisoformat(r["review_date"])
            except ValueError:
                problems.append(Problem(name, line, f"review_date {r['review_date']!r} is not YYYY-MM-DD"))
                continue
            cell = (r["sha256"], r["row_code"], r["col_code"])
            if cell in seen:
                problems.append(Problem(name, line, f"cell {r['row_code']} × {r['col_code']} of {r['sha256'][:12]}… "
                                                    f"is already corrected on line {seen[cell]}"))
                continue
            seen[cell] = line
            rows.append({**r, "corrected_value": value, "review_date": reviewed, "evidence": r["evidence"] or None,
                         "_line": line})
    return rows, problems


def read_corrections(path: Path) -> list[dict[str, Any]]:
    """Rows for the loader; a malformed file stops with its first problem (file:line: why)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: corrections file not found (OGI_CORRECTIONS)")
    rows, problems = parse_corrections(Path(path))
    if problems:
        more = f" (and {len(problems) - 1} more: run ogi corrections check)" if len(problems) > 1 else ""
        raise ValueError(f"{problems[0]}{more}")
    return [{k: v for k, v in r.items() if k != "_line"} for r in rows]


def check_corrections(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, list[Problem]]:
    """Validate the file against the database: (corrections read, problems).

    Beyond the file's own form: the document must be known, the cell must be one of its facts, and
    the corrected value must differ from the extracted one (else the correction is stale).
    """
    rows, problems = parse_corrections(Path(path))
    name = str(path)
    for r in rows:
        doc = con.execute("SELECT status FROM documents WHERE sha256 = ?", [r["sha256"]]).fetchall()
        if not doc:
            problems.append(Problem(name, r["_line"], f"unknown document {r['sha256']}"))
            continue
        fact = con.execute(
            "SELECT value FROM facts WHERE sha256 = ? AND row_code = ? AND col_code = ?",
            [r["sha256"], r["row_code"], r["col_code"]],
        ).fetchall()
        if not fact:
            problems.append(Problem(name, r["_line"], f"cell not found: document {r['sha256'][:12]}… "
                                                      f"({doc[0][0]}) has no fact {r['row_code']} × {r['col_code']}"))
            continue
        if fact[0][0] == r["corrected_value"]:
            problems.append(Problem(name, r["_line"], f"value unchanged: {r['row_code']} × {r['col_code']} "
                                                      f"is already {_show(fact[0][0])} as extracted"))
    problems.sort(key=lambda p: p.line)
    return len(rows), problems


def _show(value: float | None) -> str:
    if value is None:
        return "missing"
    return str(int(value)) if float(value).is_integer() else str(value)
