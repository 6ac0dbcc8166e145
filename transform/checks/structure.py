"""Structural checks: is every table of the template there, whole, and read in the template's order?

Identity checks only see the cells that were placed; a table dropped whole, a row lost, or a row
read with its neighbour's label (a shifted row still adds up) passes them. These checks compare the
placed facts with the template itself (data/codebook.csv, data/section2_layout.csv), so no table
is ever silently short:

- ``completeness.<section>``: the section's table yielded at least one cell (failed: the table is
  missing; it names the whole section);
- ``completeness.<row_code>``: every cell of the row the template has is placed (a blank or "/"
  cell is placed too, with its status: only a cell that was never read is missing), or its group
  row was printed whole instead of its sub-rows (and none of them apart); the detail lists the
  missing cells as ``row@col``;
- ``registration.<row_code>``: the rows were read in the template's order; a row read after a row
  that comes later in the template is out of place (its label was probably taken from a
  neighbour), and its facts' confidence is lowered to ``MISREGISTERED_CONFIDENCE``.

All are severity error. The per-section verdict (``complete`` / ``partial`` / ``missing``) is
derived from them (:func:`section_verdicts`) and stored with the document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ogi.core.models import CheckResult, CheckStatus, Fact
from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.layout import s2_layout

SECTIONS = ("s2", "s3", "s4")
SECTION_NAMES = {"s2": "二、主动公开政府信息情况", "s3": "三、收到和处理政府信息公开申请情况",
                 "s4": "四、政府信息公开行政复议、行政诉讼情况"}
# Versions whose template fixes the tables; legacy (pre-2019) and unknown reports have none to hold
# them to.
TEMPLATE_VERSIONS = ("2019", "2021")
MISREGISTERED_CONFIDENCE = 0.5  # a fact whose row was read out of the template's order
_LIST_MAX = 12  # missing cells listed in one detail


def template_cells(section: str, version: str, cb: Codebook | None = None) -> dict[str, tuple[str, ...]]:
    """row code → column codes the template of ``version`` prints for ``section``, rows in template
    order. 二 is a set of sub-tables with their own columns (section2_layout.csv); 三 and 四 are full
    grids of the codebook's value rows and columns."""
    cb = cb or load_codebook()
    if section == "s2":
        out: dict[str, tuple[str, ...]] = {}
        for (v, _item), (rows, cols) in s2_layout().items():
            if v == version:
                for r in rows:
                    out[r] = cols
        order = {r: cb.get(r).order for r in out}
        return dict(sorted(out.items(), key=lambda kv: order[kv[0]]))
    cols = tuple(cb.cols(section, version))
    return {r: cols for r in cb.rows(section, version)}


def _check(ident: str, section: str, ok: bool, description: str, detail: str,
           lhs: float | None = None, rhs: float | None = None) -> CheckResult:
    status = CheckStatus.PASSED if ok else CheckStatus.FAILED
    return CheckResult(ident, section, status, lhs, rhs, description, detail, "error")


def completeness_checks(facts: Sequence[Fact], version: str, cb: Codebook | None = None) -> list[CheckResult]:
    """One ``completeness.<section>`` check per template section and one ``completeness.<row>``
    per row of a section that is there (a missing section is one failure, not one per row)."""
    if version not in TEMPLATE_VERSIONS:
        return []
    cb = cb or load_codebook()
    placed = {(f.section, f.row_code, f.col_code) for f in facts}
    out: list[CheckResult] = []
    for section in SECTIONS:
        cells = template_cells(section, version, cb)
        printable_whole = {r for v in TEMPLATE_VERSIONS for r in cb.rows(section, v)}
        n_cells = sum(len(c) for c in cells.values())
        got = sum(1 for r, cols in cells.items() for c in cols if (section, r, c) in placed)
        name = SECTION_NAMES[section]
        out.append(_check(
            f"completeness.{section}", section, got > 0, f"table {name} is present",
            f"{got} of {n_cells} template cells placed" if got else
            f"table {name} not found: none of its {n_cells} template cells ({version} format) placed",
            float(got), float(n_cells)))
        if not got:
            continue
        for row, cols in cells.items():
            missing = [c for c in cols if (section, row, c) not in placed]
            # a group printed as one row (（六）其他处理 without its three sub-rows) holds its
            # children's cells: they are not missing, they were never printed apart — if some
            # template prints that group as a row, and none of its sub-rows was read apart (else a
            # sub-row's numbers were read as the group's)
            group = next((a for a in reversed(cb.ancestors(row))
                          if a in printable_whole and all((section, a, c) in placed for c in missing)
                          and not any((section, r, c) in placed for r, rc in cells.items()
                                      if a in cb.ancestors(r) for c in rc)), None) if missing else None
            if group is not None:
                out.append(_check(f"completeness.{row}", section, True,
                                  f"row {cb.get(row).label_zh} has all its cells",
                                  f"printed within its group row {group}", float(len(cols)), float(len(cols))))
                continue
            listed = ", ".join(f"{row}@{c}" for c in missing[:_LIST_MAX])
            more = f" and {len(missing) - _LIST_MAX} more" if len(missing) > _LIST_MAX else ""
            detail = (f"{len(missing)} of {len(cols)} cells not read: {listed}{more}" if missing
                      else f"{len(cols)} cells placed")
            out.append(_check(f"completeness.{row}", section, not missing,
                              f"row {cb.get(row).label_zh} has all its cells",
                              detail, float(len(cols) - len(missing)), float(len(cols))))
    return out


def _reading_order(f: Fact) -> tuple[int, int]:
    return (f.table_index if f.table_index is not None else -1, f.row_index or 0)


def misregistered_rows(facts: Sequence[Fact], version: str, cb: Codebook | None = None) -> dict[str, str]:
    """row code → why it is out of place: the row was read (document order: table, then row) after
    a row that comes later in the template of its section. Rows without a position (readers that
    give none) are not judged."""
    if version not in TEMPLATE_VERSIONS:
        return {}
    cb = cb or load_codebook()
    out: dict[str, str] = {}
    for section in SECTIONS:
        rank = {r: i for i, r in enumerate(template_cells(section, version, cb))}
        first: dict[str, Fact] = {}
        for f in sorted((f for f in facts if f.section == section and f.row_index is not None
                         and f.row_code in rank), key=_reading_order):
            first.setdefault(f.row_code, f)
        latest: Fact | None = None
        for f in first.values():  # in reading order
            if latest is not None and rank[f.row_code] < rank[latest.row_code]:
                out[f.row_code] = (f"row {f.row_code} (label {f.row_label_raw!r}, table {f.table_index} row "
                                   f"{f.row_index}) read after {latest.row_code} (table {latest.table_index} "
                                   f"row {latest.row_index}), which the template prints after it")
            elif latest is None or rank[f.row_code] > rank[latest.row_code]:
                latest = f
    return out


def registration_checks(facts: Sequence[Fact], version: str,
                        cb: Codebook | None = None) -> tuple[list[CheckResult], list[Fact]]:
    """Failed ``registration.<row>`` checks for rows read out of the template's order, and the facts
    with those rows' confidence lowered (numbers unchanged). One passed ``registration.<section>``
    per section read in order, so a clean report says it was checked."""
    bad = misregistered_rows(facts, version, cb)
    checks: list[CheckResult] = []
    if version in TEMPLATE_VERSIONS:
        for section in SECTIONS:
            if not any(f.section == section for f in facts):
                continue
            rows = [r for r in bad if r.startswith(section + ".")]
            for r in rows:
                checks.append(_check(f"registration.{r}", section, False,
                                     "rows read in the template's order", bad[r]))
            if not rows:
                checks.append(_check(f"registration.{section}", section, True,
                                     "rows read in the template's order", "every row in order"))
    lowered = [dataclasses.replace(f, confidence=min(f.confidence, MISREGISTERED_CONFIDENCE))
               if f.row_code in bad else f for f in facts]
    return checks, lowered


def section_verdicts(checks: Sequence[CheckResult], version: str) -> str:
    """``s2:complete s3:partial s4:missing`` from the structural checks: missing when the table was
    not found, partial when a row is short or read out of order, else complete. Empty for reports
    without a fixed template (legacy, unknown)."""
    if version not in TEMPLATE_VERSIONS:
        return ""
    out = []
    for section in SECTIONS:
        mine = [c for c in checks if c.section == section
                and c.identity_id.startswith(("completeness.", "registration."))]
        head = next((c for c in mine if c.identity_id == f"completeness.{section}"), None)
        if head is None or head.status == CheckStatus.FAILED:
            verdict = "missing"
        elif any(c.status == CheckStatus.FAILED for c in mine):
            verdict = "partial"
        else:
            verdict = "complete"
        out.append(f"{section}:{verdict}")
    return " ".join(out)


def structure_checks(facts: Sequence[Fact], version: str,
                     cb: Codebook | None = None) -> tuple[list[CheckResult], list[Fact], str]:
    """Completeness and registration checks of one report, its facts (confidence lowered where
    misregistered) and its per-section verdict."""
    cb = cb or load_codebook()
    checks = completeness_checks(facts, version, cb)
    reg, lowered = registration_checks(facts, version, cb)
    checks.extend(reg)
    return checks, lowered, section_verdicts(checks, version)
