"""The validate stage: a parsed report gets its checks (identities, prose vs. table, version/year).

Validation only reads: the facts travel on unchanged, failures are flagged for review, never fixed.
"""

from __future__ import annotations

import dataclasses

from ogi.core.models import ParsedReport
from ogi.transform.checks.prose import prose_checks
from ogi.transform.knowledge.identities import check_report, check_version_year


def validate(report: ParsedReport, text: str) -> ParsedReport:
    """A copy of ``report`` whose ``checks`` are the identity checks of its template version, the
    prose cross-checks against ``text`` (the document's plain text) and the version/year check."""
    checks = check_report(report.facts, report.template_version, unplaced=report.unplaced)
    checks.extend(prose_checks(text, report.facts))
    version_year = check_version_year(report.template_version, report.report_year)
    if version_year is not None:
        checks.append(version_year)
    return dataclasses.replace(report, checks=checks, facts=list(report.facts),
                               unplaced=list(report.unplaced), notes=list(report.notes))
