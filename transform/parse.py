"""The normalize stage for one document: extracted tables → ParsedReport (facts + unplaced).

Classifies and stitches the tables into sections, reads the template version from the document's
own labels, and places every cell. Accounting checks are the validate stage's job (``checks`` stays
empty here). Legacy (pre-2019) statistics tables go to ``transform.legacy``; a document whose tables
reach us only as text (a plain-text page, a PDF whose tables no extractor could read) goes to the
text-layout reader, which places only what the text supports.
"""

from __future__ import annotations

from ogi.core.models import ExtractedDocument, Fact, ParsedReport, Unplaced
from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.version import detect_report_year, detect_version
from ogi.transform.placement.grids import section_grids
from ogi.transform.placement.place import place_section
from ogi.transform.readers.flat_text import parse_flat_tables
from ogi.transform.readers.legacy import parse_legacy_text
from ogi.transform.readers.text_layout import parse_text_layout


def _table_text(doc: ExtractedDocument) -> str:
    return "\n".join(c for t in doc.tables for row in t.rows for c in row if c)


def parse_report(doc: ExtractedDocument, *, report_year: int | None = None) -> ParsedReport:
    """Normalize one extracted document (2019/2021 templates) into facts and unplaced values."""
    codebook = load_codebook()
    year = report_year if report_year is not None else detect_report_year(doc.text or _table_text(doc))
    version, evidence = detect_version(doc.text, doc.tables, year)
    report = ParsedReport(sha256=doc.sha256, template_version=version, report_year=year, facts=[],
                          version_evidence=evidence)
    if version == "legacy":
        facts, unplaced = parse_legacy_text(doc.text or _table_text(doc))
        report.facts.extend(facts)
        report.unplaced.extend(unplaced)
        report.notes.append("legacy (pre-2019) statistics table read from the document text")
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
    if not report.facts and not report.unplaced and doc.text:
        _read_text(doc.text, read_as, report)
    if not report.facts:
        report.notes.append("no template table found")
    return report


def _read_text(text: str, version: str, report: ParsedReport) -> None:
    """The tables from the document's text (read with the ``version`` layout the report's own
    labels decided): by its layout (cells apart), else as runs of run-together cells."""
    facts, unplaced, notes = parse_text_layout(text, version)
    flat = parse_flat_tables(text, version) if not {"s2", "s3", "s4"} <= {f.section for f in facts} else None
    if flat is not None and flat.facts:
        flat_note = (f"{flat.split_rows} rows split by their row identities, {flat.chosen_rows} chosen by the "
                     "column identities (those identities hold by construction for them)")
        if not facts:
            report.facts.extend(flat.facts)
            report.unplaced.extend(flat.unplaced)
            report.notes.append(f"no template table in the extracted tables: read from text whose cells ran "
                                f"together; {flat_note}")
            return
        # a section the layout did not give may be there with its cells run together (one cell a
        # line, as a viewer's copy gives it): the flat reader reads those sections, never the others
        taken = {f.section for f in flat.facts} - {f.section for f in facts}
        if taken:
            facts = facts + [f for f in flat.facts if f.section in taken]
            unplaced = [u for u in unplaced if u.section not in taken] + [
                u for u in flat.unplaced if u.section in taken]
            notes = [*notes, f"{', '.join(sorted(taken))} read from text whose cells ran together; {flat_note}"]
    report.facts.extend(facts)
    report.unplaced.extend(unplaced)
    if facts or unplaced:
        report.notes.append("no template table in the extracted tables: read from the text layout")
    report.notes.extend(notes)


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
    cb = codebook or load_codebook()
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
