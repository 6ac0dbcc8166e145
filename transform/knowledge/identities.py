"""Accounting identities of the report tables, evaluated from data/identities.csv.

Every identity is data: an expression over cells ``row@col`` with ``+``/``-`` and one ``=`` or
``<=``, expanded over a binding (``col=cols(s3)``, ``row=printed_rows(s3)``, ``block=a|b|c``). A term
``X.*@c`` stands for X's children in the template version (or X itself when the report printed the
group as one row, as some 2021 reports do with （六）其他处理); ``X.?@c`` for the children the report
actually printed (legacy tables differ from province to province). A blank, "/" or unreadable cell
is *missing*, never zero: an identity that needs it is ``not_checkable`` and says which cell is
missing — unless every such cell printed "无" (none) and the identity fails with them as 0: no
reading of "无" makes it hold, so it has failed (a blank or "/" may be a column left unfilled, as
real reports do). Numbers are only read here, never changed.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.core.models import CheckResult, CheckStatus, Fact, Unplaced, ValueStatus
from ogi.transform.knowledge.codebook import Codebook, load_codebook

IDENTITIES_PATH = DATA_DIR / "identities.csv"

_TOLERANCE = 1e-6
_AMOUNT_UNITS = frozenset({"万元", "元", "亿元", "千元"})
_BINDING = re.compile(r"^(?P<name>\w+)=(?P<spec>.+)$")
_FUNC = re.compile(r"^(?P<fn>cols|printed_rows|printed_cols)\((?P<section>\w+)\)$")
_CODE_PREFIX = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+")
_TERM = re.compile(r"^(?P<row>[\w.*?]+)@(?P<col>[\w.*?]+)$")


@dataclass(frozen=True)
class Identity:
    """One row of data/identities.csv."""

    id: str
    section: str
    versions: tuple[str, ...]
    kind: str  # "identity" or "builtin"
    foreach: str
    expr: str
    applies_when: str  # "any_cell" or "lhs_printed"
    severity: str
    description_zh: str
    description_en: str


@cache
def load_identities() -> tuple[Identity, ...]:
    """The identities table (cached). A malformed row raises naming the file and line."""
    out = []
    with open_text(IDENTITIES_PATH) as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            try:
                ident = Identity(
                    id=r["id"].strip(), section=r["section"].strip(),
                    versions=tuple(v for v in r["versions"].split("|") if v),
                    kind=r["kind"].strip(), foreach=r["foreach"].strip(), expr=r["expr"].strip(),
                    applies_when=r["applies_when"].strip() or "any_cell", severity=r["severity"].strip(),
                    description_zh=r["description_zh"].strip(), description_en=r["description_en"].strip(),
                )
            except (KeyError, AttributeError) as exc:
                raise ValueError(f"{IDENTITIES_PATH}:{line}: bad identity row {r!r}: {exc}") from exc
            if ident.kind == "identity":
                split_relation(ident.expr, where=f"{IDENTITIES_PATH}:{line}")
            out.append(ident)
    return tuple(out)


# ---------------------------------------------------------------- expression evaluation


def split_relation(expr: str, *, where: str = "") -> tuple[str, str, str]:
    for op in ("<=", "="):
        if op in expr:
            lhs, rhs = expr.split(op, 1)
            if "=" in rhs:
                break
            return lhs.strip(), op, rhs.strip()
    raise ValueError(f"{where}: identity expression needs one '=' or '<=': {expr!r}")


def relation_terms(side: str) -> list[tuple[int, str]]:
    """'a@x + b@y - c@z' → [(1, 'a@x'), (1, 'b@y'), (-1, 'c@z')]."""
    out, sign = [], 1
    for tok in side.replace("+", " + ").replace(" - ", " - ").split():
        if tok == "+":
            sign = 1
        elif tok == "-":
            sign = -1
        else:
            out.append((sign, tok))
            sign = 1
    return out


@dataclass
class _Cell:
    code: str  # "row@col"
    value: float | None
    status: str  # a ValueStatus, or "absent" when no fact holds the cell


class _Report:
    """The facts of one report indexed by (row, col)."""

    def __init__(self, facts: Iterable[Fact], unplaced: Iterable[Unplaced] = ()):
        # Rows the report printed but whose values could not be placed: missing, not absent.
        self.unplaced_rows = {m.group(0) for u in unplaced if u.best_guess
                              for m in [_CODE_PREFIX.match(u.best_guess)] if m}
        self.cells: dict[tuple[str, str], Fact] = {}
        for f in facts:
            self.cells.setdefault((f.row_code, f.col_code), f)
        self.rows_by_section: dict[str, list[str]] = {}
        self.cols_by_section: dict[str, list[str]] = {}
        for f in facts:
            rows = self.rows_by_section.setdefault(f.section, [])
            if f.row_code not in rows:
                rows.append(f.row_code)
            cols = self.cols_by_section.setdefault(f.section, [])
            if f.col_code not in cols:
                cols.append(f.col_code)

    def has_row(self, row: str) -> bool:
        return any(r == row for r, _ in self.cells)

    def cell(self, row: str, col: str) -> _Cell:
        f = self.cells.get((row, col))
        if f is None:
            return _Cell(f"{row}@{col}", None, "unplaced" if row in self.unplaced_rows else "absent")
        return _Cell(f"{row}@{col}", f.value, str(f.value_status))


def _expand_row(row: str, col: str, rep: _Report, cb: Codebook, version: str) -> list[str] | None:
    """Row codes a (possibly wildcard) term stands for; None when ``X.?`` has nothing printed."""
    if row.endswith(".*"):
        parent = row[:-2]
        kids = cb.children(parent, version) if parent in cb else []
        if not kids:
            return [parent]
        if not any((k, col) in rep.cells for k in kids) and (parent, col) in rep.cells:
            return [parent]  # the report printed the group as a single row
        return kids
    if row.endswith(".?"):
        parent = row[:-2]
        kids = [k for k in (cb.children(parent) if parent in cb else [])
                if (k, col) in rep.cells or k in rep.unplaced_rows]
        return kids or None
    return [row]


def _side_cells(side: str, rep: _Report, cb: Codebook, version: str) -> list[tuple[int, _Cell]] | None:
    out: list[tuple[int, _Cell]] = []
    for sign, term in relation_terms(side):
        m = _TERM.match(term)
        if not m:
            raise ValueError(f"{IDENTITIES_PATH}: bad term {term!r}")
        rows = _expand_row(m.group("row"), m.group("col"), rep, cb, version)
        if rows is None:
            return None
        out.extend((sign, rep.cell(r, m.group("col"))) for r in rows)
    return out


def _sum(cells: Sequence[tuple[int, _Cell]], *, blank_as_zero: bool = False,
         none_as_zero: bool = False) -> float | None:
    """Signed sum, None when a cell has no number; ``blank_as_zero``: an empty cell, "/" or "无"
    adds nothing (a hint only); ``none_as_zero``: "无" (none) adds nothing."""
    total = 0.0
    for sign, c in cells:
        if c.value is None:
            if blank_as_zero and c.status in (ValueStatus.BLANK, ValueStatus.NOT_APPLICABLE, ValueStatus.NONE_STATED):
                continue
            if none_as_zero and c.status == ValueStatus.NONE_STATED:
                continue
            return None
        total += sign * c.value
    return total


def _fmt(v: float | None) -> str:
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _show(cells: Sequence[tuple[int, _Cell]]) -> str:
    parts = []
    for i, (sign, c) in enumerate(cells):
        op = ("- " if sign < 0 else "") if i == 0 else ("- " if sign < 0 else "+ ")
        parts.append(f"{op}{c.code}({_fmt(c.value) if c.value is not None else c.status})")
    return " ".join(parts)


def _holds(lhs: float, op: str, rhs: float) -> bool:
    tol = _TOLERANCE * max(1.0, abs(lhs), abs(rhs))
    return abs(lhs - rhs) <= tol if op == "=" else lhs <= rhs + tol


def _bindings(foreach: str, rep: _Report, cb: Codebook, version: str) -> list[tuple[str, str]]:
    if not foreach:
        return [("", "")]
    m = _BINDING.match(foreach)
    if not m:
        raise ValueError(f"{IDENTITIES_PATH}: bad foreach {foreach!r}")
    name, spec = m.group("name"), m.group("spec")
    fm = _FUNC.match(spec)
    if not fm:
        return [(name, v) for v in spec.split("|")]
    fn, section = fm.group("fn"), fm.group("section")
    if fn == "cols":
        values = cb.cols(section, version)
    elif fn == "printed_rows":
        values = rep.rows_by_section.get(section, [])
    else:
        values = rep.cols_by_section.get(section, [])
    return [(name, v) for v in values]


def _evaluate(ident: Identity, rep: _Report, cb: Codebook, version: str) -> list[CheckResult]:
    results = []
    for name, value in _bindings(ident.foreach, rep, cb, version):
        expr = ident.expr.replace("{" + name + "}", value) if name else ident.expr
        lhs_s, op, rhs_s = split_relation(expr)
        lhs = _side_cells(lhs_s, rep, cb, version)
        rhs = _side_cells(rhs_s, rep, cb, version)
        if lhs is None or rhs is None:
            continue  # a "printed children" term with nothing printed: nothing to check
        cells = [c for _, c in lhs + rhs]
        if all(c.status == "absent" for c in cells):
            continue  # the report has no such table
        if ident.applies_when == "lhs_printed" and all(
            c.status in ("absent", ValueStatus.BLANK) for _, c in lhs
        ):
            continue
        ident_id = f"{ident.id}[{value}]" if value else ident.id
        description = f"{ident.description_zh} / {ident.description_en}" + (f" [{value}]" if value else "")
        shown = f"{_show(lhs)} {op} {_show(rhs)}"
        lv, rv = _sum(lhs), _sum(rhs)
        if lv is None or rv is None:
            missing = ", ".join(f"{c.code} ({c.status})" for c in cells if c.value is None)
            detail = f"missing: {missing}; {shown}"
            lz, rz = _sum(lhs, blank_as_zero=True), _sum(rhs, blank_as_zero=True)
            if lz is not None and rz is not None:
                verdict = "would hold" if _holds(lz, op, rz) else "would not hold"
                detail += f"; if blank cells were 0: {_fmt(lz)} {op} {_fmt(rz)} {verdict}"
            status = CheckStatus.NOT_CHECKABLE
            ln, rn = _sum(lhs, none_as_zero=True), _sum(rhs, none_as_zero=True)
            if ln is not None and rn is not None and not _holds(ln, op, rn):
                # every missing cell printed "无" (none): as 0 the identity fails, and no reading
                # of "无" makes it hold. A blank or "/" may be a column left unfilled: not so.
                status = CheckStatus.FAILED
                detail += f"; with 无 as 0: {_fmt(ln)} {op} {_fmt(rn)} does not hold"
            results.append(CheckResult(ident_id, ident.section, status, lv, rv,
                                       description, detail, ident.severity))
            continue
        status = CheckStatus.PASSED if _holds(lv, op, rv) else CheckStatus.FAILED
        detail = f"{_fmt(lv)} {op} {_fmt(rv)}: {shown}"
        results.append(CheckResult(ident_id, ident.section, status, lv, rv, description, detail,
                                   ident.severity))
    return results


# ---------------------------------------------------------------- built-in sanity checks


def _is_amount(code: str, cb: Codebook) -> bool:
    return code in cb and (cb.get(code).unit or "") in _AMOUNT_UNITS


def _is_signed(code: str, cb: Codebook) -> bool:
    return code in cb and cb.get(code).signed


def check_counts(facts: Sequence[Fact], ident: Identity, cb: Codebook) -> list[CheckResult]:
    """Counts are integers >= 0, except signed measures (本年增/减) and amounts."""
    description = f"{ident.description_zh} / {ident.description_en}"
    out = []
    numbers = [f for f in facts if f.value is not None]
    for f in numbers:
        assert f.value is not None
        signed = _is_signed(f.row_code, cb) or _is_signed(f.col_code, cb)
        amount = _is_amount(f.row_code, cb) or _is_amount(f.col_code, cb)
        problems = []
        if f.value < 0 and not signed:
            problems.append("negative")
        if not amount and not math.isclose(f.value, round(f.value)):
            problems.append("not an integer")
        if problems:
            out.append(CheckResult(
                f"{ident.id}[{f.row_code}@{f.col_code}]", f.section, CheckStatus.FAILED, f.value, None,
                description, f"{' and '.join(problems)}: {f.row_code}@{f.col_code} = {f.raw_text!r}",
                ident.severity,
            ))
    if numbers and not out:
        out.append(CheckResult(ident.id, "", CheckStatus.PASSED, None, None, description,
                               f"{len(numbers)} values checked", ident.severity))
    return out


def _year_ranges(spec: str) -> dict[str, tuple[int | None, int | None]]:
    out = {}
    for part in spec.split(";"):
        version, _, span = part.partition(":")
        lo, _, hi = span.partition("-")
        out[version.strip()] = (int(lo) if lo.strip() else None, int(hi) if hi.strip() else None)
    return out


def template_for_year(report_year: int | None, ident: Identity | None = None) -> str | None:
    """The fixed template (2019 or 2021 format) a report of ``report_year`` should follow, from the
    same year ranges the version/year check uses; None before 2019 or without a year."""
    if report_year is None:
        return None
    ident = ident or next(i for i in load_identities() if i.id == "sanity.version_year")
    for version, (lo, hi) in _year_ranges(ident.expr).items():
        if version in ("2019", "2021") and (lo is None or report_year >= lo) and (hi is None or report_year <= hi):
            return version
    return None


def check_version_year(template_version: str, report_year: int | None,
                       ident: Identity | None = None) -> CheckResult | None:
    """A 2019-format report dated 2021+, a 2021-format one dated 2020 or earlier, a legacy table
    after 2018, … is a version/year mismatch (soft: agencies do publish off-template)."""
    ident = ident or next(i for i in load_identities() if i.id == "sanity.version_year")
    ranges = _year_ranges(ident.expr)
    if template_version not in ranges:
        return None
    description = f"{ident.description_zh} / {ident.description_en}"
    if report_year is None:
        return CheckResult(ident.id, "", CheckStatus.NOT_CHECKABLE, None, None, description,
                           "report year unknown", ident.severity)
    lo, hi = ranges[template_version]
    ok = (lo is None or report_year >= lo) and (hi is None or report_year <= hi)
    span = f"{lo or ''}–{hi or ''}"
    detail = f"{template_version} format, report year {report_year} (expected {span})"
    return CheckResult(ident.id, "", CheckStatus.PASSED if ok else CheckStatus.FAILED,
                       float(report_year), None, description, detail, ident.severity)


# ---------------------------------------------------------------- public entry point


def check_report(facts: Sequence[Fact], template_version: str, report_year: int | None = None,
                 unplaced: Sequence[Unplaced] = ()) -> list[CheckResult]:
    """Evaluate every identity of ``template_version`` on one report's facts.

    ``report_year``, when given, adds the version/year sanity check. ``unplaced`` (the report's
    unplaced values) tells rows that were printed but not placed — missing, so an identity over
    "the children the report printed" does not silently drop them. Identities whose cells the
    report does not carry at all (no such table) are left out rather than reported not checkable.
    """
    cb = load_codebook()  # template and legacy codes: it merges every data/*codebook*.csv
    rep = _Report(facts, unplaced)
    results: list[CheckResult] = []
    for ident in load_identities():
        if template_version not in ident.versions:
            continue
        if ident.kind == "identity":
            results.extend(_evaluate(ident, rep, cb, template_version))
        elif ident.id == "sanity.counts":
            results.extend(check_counts(facts, ident, cb))
        elif ident.id == "sanity.version_year":
            if report_year is not None:
                check = check_version_year(template_version, report_year, ident)
                if check is not None:
                    results.append(check)
        else:
            raise ValueError(f"{IDENTITIES_PATH}: unknown builtin {ident.id!r}")
    return results
