"""Cross-reader agreement: two independent readings of the same tables, compared cell by cell.

A shifted row still adds up, so the identities cannot see every misreading; a second reader that
reads the same ruled table with other code (``extract.pdf_plumber`` beside Camelot) can. The
arbitration has already chosen the reading that fits the template better (fewer failed identities
and structural checks). Compared with the other reading:

- ``agreement.<section>`` (severity warning): how many of the section's cells both readings hold
  and how many they read alike — failed when any cell differs, so an analyst sees the section was
  contested even where the checks resolved it;
- ``agreement.<row_code>`` (severity error, failed): the cells of a row that the two readings read
  differently while the checks cannot tell them apart (both fit the template equally well). Those
  facts keep the chosen reading's value but their confidence drops to ``CONTESTED_CONFIDENCE``:
  flagged, never guessed. When the checks do tell the readings apart, the difference is resolved
  and listed in the section's detail.

Cells only one reading holds are the completeness checks' business, not contests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ogi.core.models import CheckResult, CheckStatus, Fact

CONTESTED_CONFIDENCE = 0.5
_LIST_MAX = 8  # differing cells listed in one detail

Key = tuple[str, str, str]


def _reading(f: Fact) -> tuple[float | None, str]:
    return (None if f.value is None else round(f.value, 6), str(f.value_status))


def _show(f: Fact) -> str:
    return f.raw_text.replace("\n", " ")[:20] or f"({f.value_status})"


def agreement_checks(chosen: Sequence[Fact], other: Sequence[Fact], *, chosen_label: str, other_label: str,
                     resolved: bool, why: str) -> tuple[list[CheckResult], list[Fact]]:
    """The agreement checks of the chosen reading against the other, and the chosen facts with
    contested cells' confidence lowered. ``resolved``: the checks preferred the chosen reading
    (``why`` says by how much); otherwise every differing cell is contested."""
    theirs: dict[Key, Fact] = {}
    for f in other:
        theirs.setdefault((f.section, f.row_code, f.col_code), f)
    seen: set[Key] = set()
    compared: dict[str, int] = {}
    differ: dict[str, list[tuple[Fact, Fact]]] = {}
    for f in chosen:
        key = (f.section, f.row_code, f.col_code)
        o = theirs.get(key)
        if o is None or key in seen:
            continue
        seen.add(key)
        compared[f.section] = compared.get(f.section, 0) + 1
        if _reading(f) != _reading(o):
            differ.setdefault(f.section, []).append((f, o))
    checks: list[CheckResult] = []
    contested: set[Key] = set()
    for section in sorted(compared):
        diffs = differ.get(section, [])
        n = compared[section]
        detail = f"{n - len(diffs)} of {n} cells read alike by {chosen_label} and {other_label}"
        if diffs:
            listed = ", ".join(f"{f.row_code}@{f.col_code}: {_show(f)} vs {_show(o)}" for f, o in diffs[:_LIST_MAX])
            more = f" (+{len(diffs) - _LIST_MAX} more)" if len(diffs) > _LIST_MAX else ""
            verdict = f"resolved for {chosen_label} by the checks ({why})" if resolved else "contested"
            detail += f"; {len(diffs)} differ, {verdict}: {listed}{more}"
        checks.append(CheckResult(f"agreement.{section}", section,
                                  CheckStatus.FAILED if diffs else CheckStatus.PASSED, float(n - len(diffs)),
                                  float(n), "two independent readers read the section's cells alike", detail,
                                  "warning"))
        if resolved:
            continue
        by_row: dict[str, list[tuple[Fact, Fact]]] = {}
        for f, o in diffs:
            by_row.setdefault(f.row_code, []).append((f, o))
        for row, pairs in by_row.items():
            cells = ", ".join(f"{row}@{f.col_code}: {chosen_label} {_show(f)} vs {other_label} {_show(o)}"
                              for f, o in pairs[:_LIST_MAX])
            checks.append(CheckResult(f"agreement.{row}", section, CheckStatus.FAILED, None, None,
                                      "two independent readers disagree and the checks cannot tell which is right",
                                      cells, "error"))
            contested.update((f.section, f.row_code, f.col_code) for f, _ in pairs)
    facts = [dataclasses.replace(f, confidence=min(f.confidence, CONTESTED_CONFIDENCE))
             if (f.section, f.row_code, f.col_code) in contested else f for f in chosen]
    return checks, facts
