"""Choose between the extractor's candidate table sets by the template's accounting identities.

The extract stage picks each page's tables by grid shape alone and keeps close runners-up as
``ExtractedDocument.alternatives``. Shape cannot tell a merged row from a real one; the identities
can. When the primary parse fails a hard identity, leaves values unplaced or places unreadable
cells, every alternative is parsed and validated too, and the one whose cells satisfy the template
best wins; a candidate that leaves fewer identities checkable than the primary cannot win. Numbers are never
changed: a whole candidate's report is taken as it is, and the choice is written into its notes.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from ogi.core.models import CheckStatus, ExtractedDocument, ParsedReport, RawTable, ValueStatus
from ogi.transform.checks.validate import validate
from ogi.transform.parse import parse_report

PRIMARY = "primary"


class Score(NamedTuple):
    """How well one candidate's cells fit the template (fewer failures, more placed facts)."""

    failed: int  # error-severity identities that failed
    placed: int  # facts placed with a readable value (number, zero, blank, placeholder)
    unplaced: int  # values that could not be placed
    unreadable: int  # facts placed whose cell is no value (e.g. two rows' numbers in one cell)
    checked: int  # error-severity identities that could be evaluated (passed or failed)

    def __str__(self) -> str:
        text = f"{self.failed} failed / {self.placed} placed / {self.unplaced} unplaced"
        return text + (f" / {self.unreadable} unreadable" if self.unreadable else "")

    @property
    def clean(self) -> bool:
        return not (self.failed or self.unplaced or self.unreadable)


def score(report: ParsedReport) -> Score:
    # the accounting identities only: structural checks (completeness, registration) judge the
    # report as a whole and are the same for every candidate that reads the same rows
    errors = [c for c in report.checks if c.severity == "error"
              and not c.identity_id.startswith(("completeness.", "registration."))]
    unreadable = sum(1 for f in report.facts if f.value_status == ValueStatus.UNREADABLE)
    return Score(
        failed=sum(1 for c in errors if c.status == CheckStatus.FAILED),
        placed=len(report.facts) - unreadable,
        unplaced=len(report.unplaced),
        unreadable=unreadable,
        checked=sum(1 for c in errors if c.status in (CheckStatus.PASSED, CheckStatus.FAILED)),
    )


def _rank(label: str, s: Score) -> tuple[int, int, int, int]:
    # fewest failed identities, then most placed facts, then fewest unplaced, then the primary
    return (s.failed, -s.placed, s.unplaced + s.unreadable, 0 if label == PRIMARY else 1)


def _alternative_doc(doc: ExtractedDocument, alt: dict) -> ExtractedDocument:
    tables = [t if isinstance(t, RawTable) else RawTable.from_dict(t) for t in alt.get("tables", [])]
    return dataclasses.replace(doc, tables=tables, alternatives=[])


def best_report(doc: ExtractedDocument, *, report_year: int | None = None) -> ParsedReport:
    """Parse and validate ``doc``; if that fails identities, leaves values unplaced or places
    unreadable cells, also try each of ``doc.alternatives`` and return the best by identities
    (see :func:`_rank`), with the choice and every candidate's score in ``notes``.

    A drop-in for ``validate(parse_report(doc), doc.text)``: without alternatives, or when the
    primary is clean, the result is exactly that.
    """
    primary = validate(parse_report(doc, report_year=report_year), doc.text)
    first = score(primary)
    if not doc.alternatives or first.clean:
        return primary
    candidates: list[tuple[str, ParsedReport, Score]] = [(PRIMARY, primary, first)]
    excluded: list[str] = []
    for i, alt in enumerate(doc.alternatives):
        label = str(alt.get("label") or f"alternative {i + 1}")
        report = validate(parse_report(_alternative_doc(doc, alt), report_year=report_year), doc.text)
        s = score(report)
        # a candidate may not win by hiding cells from the identities (few checks, none failed)
        if s.checked < first.checked:
            excluded.append(f"{label} {s}, only {s.checked} identities checkable vs {first.checked}")
            continue
        candidates.append((label, report, s))
    label, winner, won = min(candidates, key=lambda c: _rank(c[0], c[2]))
    others = [f"{lab} {s}" for lab, _, s in candidates if lab != label] + [f"excluded {e}" for e in excluded]
    verb = "kept" if label == PRIMARY else "won"
    note = f"arbitration: {label} {verb}: {won} vs {'; '.join(others)}"
    if label != PRIMARY:
        why = next((a.get("note", "") for a in doc.alternatives if a.get("label") == label), "")
        if why:
            note += f" (candidate because {why})"
    return dataclasses.replace(winner, notes=[*winner.notes, note])
