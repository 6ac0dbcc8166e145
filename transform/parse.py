"""The normalize stage for one document: extracted tables → ParsedReport (facts + unplaced).

Classifies and stitches the tables into sections, reads the template version from the document's
own labels, and places every cell. Accounting checks are the validate stage's job (``checks`` stays
empty here); legacy (pre-2019) tables are left to ``transform.legacy``.
"""

from __future__ import annotations

from ogi.models import ExtractedDocument, Fact, ParsedReport, Unplaced
from transform.codebook import Codebook
from transform.codebook import load_codebook as _load_codebook
from transform.place import place_section
from transform.sections import section_grids
from transform.version import detect_report_year, detect_version


def _table_text(doc: ExtractedDocument) -> str:
    return "\n".join(c for t in doc.tables for row in t.rows for c in row if c)


def parse_report(doc: ExtractedDocument, *, report_year: int | None = None) -> ParsedReport:
    """Normalize one extracted document (2019/2021 templates) into facts and unplaced values."""
    codebook = _load_codebook()
    year = report_year if report_year is not None else detect_report_year(doc.text or _table_text(doc))
    version, evidence = detect_version(doc.text, doc.tables, year)
    report = ParsedReport(sha256=doc.sha256, template_version=version, report_year=year, facts=[],
                          version_evidence=evidence)
    if version == "legacy":
        report.notes.append("legacy (pre-2019) statistics table: not read by the 2019/2021 placer")
        return report
    read_as = version if version in ("2019", "2021") else "2021"
    if version == "unknown":
        report.notes.append("template version unknown: tables read with the 2021 layout")
    seen: dict[tuple[str, str, str], Fact] = {}
    for grid in section_grids(doc.tables):
        if grid.section not in ("s2", "s3", "s4"):
            continue
        placed = place_section(grid, read_as, codebook)
        report.notes.extend(placed.notes)
        report.unplaced.extend(placed.unplaced)
        for fact in placed.facts:
            key = (fact.section, fact.row_code, fact.col_code)
            if key in seen:
                report.unplaced.append(_duplicate(fact, seen[key]))
                continue
            seen[key] = fact
            report.facts.append(fact)
    if not report.facts:
        report.notes.append("no template table found")
    return report


def _duplicate(fact: Fact, first: Fact) -> Unplaced:
    return Unplaced(
        section=fact.section, raw_text=fact.raw_text, row_label_raw=fact.row_label_raw,
        col_label_raw=fact.col_label_raw, page=fact.page, table_index=fact.table_index,
        row_index=fact.row_index, col_index=fact.col_index,
        reason=f"cell {fact.row_code} × {fact.col_code} already placed from table {first.table_index} "
               f"row {first.row_index}",
        best_guess=f"{fact.row_code}|{fact.col_code}",
    )


def format_value(value: float | None) -> str:
    """A value as the CSV prints it: integers without ".0", no value as ""."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


CSV_COLUMNS = ("section", "row_code", "col_code", "row_path", "col_path", "value", "value_status", "page")


def facts_to_rows(report: ParsedReport, codebook: Codebook | None = None) -> list[dict[str, str]]:
    """The rows of `ogi extract FILE`: one per placed fact, in template order."""
    cb = codebook or _load_codebook()
    rows = []
    for f in report.facts:
        rows.append({
            "section": f.section,
            "row_code": f.row_code,
            "col_code": f.col_code,
            "row_path": cb.label_path(f.row_code),
            "col_path": cb.label_path(f.col_code),
            "value": format_value(f.value),
            "value_status": str(f.value_status),
            "page": "" if f.page is None else str(f.page),
        })
    order = {c: e.order for c, e in cb.entries.items()}
    sec = {"s2": 0, "s3": 1, "s4": 2}
    rows.sort(key=lambda r: (sec.get(r["section"], 9), order.get(r["row_code"], 0), r["row_code"],
                             order.get(r["col_code"], 0), r["col_code"]))
    return rows
