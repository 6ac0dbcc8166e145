"""The validate stage: a parsed report gets its checks (identities, structure, prose vs. table,
version/year) and its per-section verdict.

Validation only reads: the facts travel on unchanged, failures are flagged for review, never fixed.
"""

from __future__ import annotations

import dataclasses

from ogi.core.models import ParsedReport
from ogi.transform.checks.prose import prose_checks
from ogi.transform.checks.structure import structure_checks
from ogi.transform.knowledge.identities import check_report, check_version_year, template_for_year


def validate(report: ParsedReport, text: str) -> ParsedReport:
    """A copy of ``report`` whose ``checks`` are the identity checks of its template version, the
    structural checks (completeness, registration; see ``structure``), the prose cross-checks
    against ``text`` (the document's plain text) and the version/year check. Facts whose row was read
    out of the template's order come back with their confidence lowered, their numbers unchanged."""
    checks = check_report(report.facts, report.template_version, unplaced=report.unplaced)
    notes = list(report.notes)
    held_to = report.template_version
    if held_to == "unknown" and (implied := template_for_year(report.report_year)):
        # no format marker was read (a poor scan, say), but a report of this year must follow a
        # template: its tables are held to that one, so what was not read is named, not silent
        held_to = implied
        notes.append(f"template unknown: the structural checks hold it to the {implied} template of "
                     f"report year {report.report_year}")
    structural, facts, sections = structure_checks(report.facts, held_to)
    checks.extend(structural)
    checks.extend(prose_checks(text, report.facts))
    version_year = check_version_year(report.template_version, report.report_year)
    if version_year is not None:
        checks.append(version_year)
    return dataclasses.replace(report, checks=checks, facts=facts, unplaced=list(report.unplaced),
                               notes=notes, sections=sections)
