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
from collections.abc import Callable
from typing import NamedTuple

from ogi.core.models import CheckStatus, ExtractedDocument, ParsedReport, RawTable, ValueStatus
from ogi.transform.checks.agreement import agreement_checks
from ogi.transform.checks.validate import validate
from ogi.transform.parse import parse_report

PRIMARY = "primary"
STRUCTURAL = ("completeness.", "registration.")


class Score(NamedTuple):
    """How well one candidate's cells fit the template (fewer failures, more placed facts)."""

    failed: int  # error-severity identities that failed
    placed: int  # facts placed with a readable value (number, zero, blank, placeholder)
    unplaced: int  # values that could not be placed
    unreadable: int  # facts placed whose cell is no value (e.g. two rows' numbers in one cell)
    checked: int  # error-severity identities that could be evaluated (passed or failed)
    structural: int = 0  # failed completeness / registration checks (a table, row or order wrong)

    def __str__(self) -> str:
        text = f"{self.failed} failed / {self.placed} placed / {self.unplaced} unplaced"
        text += f" / {self.unreadable} unreadable" if self.unreadable else ""
        return text + (f" / {self.structural} structural" if self.structural else "")

    @property
    def clean(self) -> bool:
        return not (self.failed or self.unplaced or self.unreadable or self.structural)

    @property
    def misfit(self) -> int:
        """Checks the reading fails: identities and structure alike."""
        return self.failed + self.structural


def score(report: ParsedReport) -> Score:
    # the accounting identities only: structural checks (completeness, registration) judge the
    # report as a whole and are the same for every candidate that reads the same rows
    errors = [c for c in report.checks if c.severity == "error" and not c.identity_id.startswith(STRUCTURAL)]
    unreadable = sum(1 for f in report.facts if f.value_status == ValueStatus.UNREADABLE)
    structural = sum(1 for c in report.checks if c.severity == "error" and c.status == CheckStatus.FAILED
                     and c.identity_id.startswith(STRUCTURAL))
    return Score(
        failed=sum(1 for c in errors if c.status == CheckStatus.FAILED),
        placed=len(report.facts) - unreadable,
        unplaced=len(report.unplaced),
        unreadable=unreadable,
        checked=sum(1 for c in errors if c.status in (CheckStatus.PASSED, CheckStatus.FAILED)),
        structural=structural,
    )


def _rank(label: str, s: Score) -> tuple[int, int, int, int, int]:
    # fewest failed checks (identities and structure), then fewest failed identities, then most
    # placed facts, then fewest unplaced, then the primary
    return (s.misfit, s.failed, -s.placed, s.unplaced + s.unreadable, 0 if label == PRIMARY else 1)


def _alternative_doc(doc: ExtractedDocument, alt: dict) -> ExtractedDocument:
    tables = [t if isinstance(t, RawTable) else RawTable.from_dict(t) for t in alt.get("tables", [])]
    return dataclasses.replace(doc, tables=tables, alternatives=[])


SecondReader = Callable[[], dict | None]


def best_report(doc: ExtractedDocument, *, report_year: int | None = None,
                second_reader: SecondReader | None = None, always_compare: bool = False) -> ParsedReport:
    """Parse and validate ``doc``; if that fails identities or structural checks, leaves values
    unplaced or places unreadable cells, also try each of ``doc.alternatives`` — and the reading of
    ``second_reader``, called only when the reading looks misread (not for identities alone) —
    and return the best (see :func:`_rank`), with the choice
    and every candidate's score in ``notes``. An independent reading is compared with the chosen
    one cell by cell (``agreement.*`` checks; contested cells' confidence lowered).
    ``always_compare``: ask the second reader even when the primary is clean.

    A drop-in for ``validate(parse_report(doc), doc.text)``: without alternatives, or when the
    primary is clean, the result is exactly that.
    """
    primary = validate(parse_report(doc, report_year=report_year), doc.text)
    first = score(primary)
    if first.clean and not (always_compare and second_reader is not None):
        return primary
    alternatives = [] if first.clean else list(doc.alternatives)
    # The second reader costs ~0.3–0.5 s a page: asked when the reading looks misread (a table,
    # row or cell missing or out of order, values left unplaced or unreadable), not for a failed
    # identity alone — real reports fail identities by their authors' own arithmetic.
    misread = bool(first.structural or first.unplaced or first.unreadable)
    independent = second_reader() if second_reader is not None and (misread or always_compare) else None
    if independent is not None:
        alternatives.append(independent)
    if not alternatives:
        return primary
    candidates: list[tuple[str, ParsedReport, Score]] = [(PRIMARY, primary, first)]
    excluded: list[str] = []
    independent_label = None
    for i, alt in enumerate(alternatives):
        label = str(alt.get("label") or f"alternative {i + 1}")
        report = validate(parse_report(_alternative_doc(doc, alt), report_year=report_year), doc.text)
        s = score(report)
        if alt is independent:
            independent_label = label
            independent_report = (report, s)
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
        why = next((a.get("note", "") for a in alternatives if a.get("label") == label), "")
        if why:
            note += f" (candidate because {why})"
    winner = dataclasses.replace(winner, notes=[*winner.notes, note])
    if independent_label is not None:
        # the chosen reading against the other reader's: the primary when the independent one won
        other, other_score = (primary, first) if label == independent_label else independent_report
        checks, facts = agreement_checks(
            winner.facts, other.facts, chosen_label=_reader(label, doc), other_label=_reader(
                PRIMARY if label == independent_label else independent_label, doc),
            resolved=other_score.misfit > won.misfit,
            why=f"{won.misfit} vs {other_score.misfit} failed checks")
        winner = dataclasses.replace(winner, facts=facts, checks=[*winner.checks, *checks])
    return winner


def _reader(label: str, doc: ExtractedDocument) -> str:
    """A reading's name in agreement details: the primary is the extractor's (e.g. camelot)."""
    if label != PRIMARY:
        return label
    name = (doc.extractor or "primary").split(":")[0]
    return {"pdf": "camelot"}.get(name, name)  # a text PDF's primary reading is Camelot's
