"""The plain-data records that travel between pipeline stages.

Every stage (fetch → extract → normalize → validate → load → export) takes and returns these
dataclasses (or their ``to_dict`` form), never open connections, so Prefect can ship them to Dask
or Ray workers. Provenance travels with every value: document hash, page, table index, row/col.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class ValueStatus(StrEnum):
    """What a cell said, kept apart from the number: missing is not zero."""

    NUMBER = "number"  # a non-zero number
    ZERO = "zero"  # printed 0
    BLANK = "blank"  # empty cell, &nbsp;, whitespace
    NOT_APPLICABLE = "not_applicable"  # "/", "—", "-", "－"
    NONE_STATED = "none_stated"  # "无"
    UNREADABLE = "unreadable"  # text present but not a number (OCR garbage, "见附件")


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKABLE = "not_checkable"


# ---------------------------------------------------------------- extract → transform


@dataclass
class RawTable:
    """One table as the document drew it, before any interpretation.

    ``rows`` is the cell grid. ``None`` marks a position covered by a merged cell whose text sits
    in the merge's top-left cell; ``""`` is a real, empty cell. Merged cells are never repeated
    (repeating would duplicate numbers).
    """

    index: int  # 0-based, document order
    rows: list[list[str | None]]
    page: int | None = None  # 1-based page of the table's first row (PDF); None for HTML/docx
    row_pages: list[int] | None = None  # page of each row when a table was stitched across pages
    method: str = ""  # "camelot-lattice", "camelot-stream", "html", "docx", "xlsx", "ocr", "text-layout"
    confidence: float | None = None  # 0..1 where the method gives one (OCR, Camelot accuracy)
    note: str = ""  # why this candidate was chosen, stitching applied, etc.

    def page_of_row(self, r: int) -> int | None:
        if self.row_pages and 0 <= r < len(self.row_pages):
            return self.row_pages[r]
        return self.page

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RawTable:
        return cls(**d)


@dataclass
class ExtractedDocument:
    """Everything the extractor got out of one document."""

    sha256: str
    media_type: str  # "application/pdf", "text/html", ...
    tables: list[RawTable]
    text: str = ""  # the document's plain text (prose), for version detection and prose checks
    page_count: int | None = None
    extractor: str = ""  # extractor name + version; part of the cache key
    warnings: list[str] = field(default_factory=list)
    # runner-up extractions, each a complete table set for the document that a later stage may
    # prefer on accounting identities: {"label": ..., "tables": [RawTable.to_dict()...], "note": why}
    alternatives: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExtractedDocument:
        d = dict(d)
        d["tables"] = [RawTable.from_dict(t) for t in d["tables"]]
        d["alternatives"] = [dict(a) for a in d.get("alternatives") or []]
        return cls(**d)


class ExtractionError(Exception):
    """A document that cannot be read at all. The message is the quarantine reason."""


# ---------------------------------------------------------------- transform → load


@dataclass
class Fact:
    """One placed value: a (section, row, column) cell of the template with its provenance."""

    section: str  # "s2", "s3", "s4", "legacy"
    row_code: str
    col_code: str
    value: float | None
    value_status: str  # a ValueStatus
    unit: str | None  # declared unit after conversion ("件", "万元", ...)
    raw_text: str  # the cell exactly as extracted
    page: int | None
    table_index: int | None
    row_index: int | None
    col_index: int | None
    row_label_raw: str = ""  # the label text the row was placed from
    col_label_raw: str = ""
    confidence: float = 1.0  # label-match confidence (1.0 = exact after normalization)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Unplaced:
    """A value (or label) the normalizer could not place with confidence. Kept, never guessed."""

    section: str | None
    raw_text: str
    row_label_raw: str
    col_label_raw: str
    page: int | None
    table_index: int | None
    row_index: int | None
    col_index: int | None
    reason: str
    best_guess: str | None = None  # nearest code and score, for review only (not loaded as a fact)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    """One accounting identity evaluated on one report (passed / failed / not checkable)."""

    identity_id: str  # e.g. "s3.balance[s3c.total]"
    section: str
    status: str  # a CheckStatus
    lhs: float | None
    rhs: float | None
    description: str  # human-readable, e.g. "一+二 = 三(七)+四 for 总计"
    detail: str = ""  # which cells, why not checkable
    severity: str = "error"  # "error" (hard identity) or "warning" (soft/sanity, prose mismatch)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParsedReport:
    """The normalized, validated content of one document."""

    sha256: str
    template_version: str  # "2019", "2021", "legacy", "unknown"
    report_year: int | None
    facts: list[Fact]
    unplaced: list[Unplaced] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    version_evidence: str = ""  # why this version was chosen
    scope: str | None = None  # "本机关" / "本级政府汇总" where the document says
    notes: list[str] = field(default_factory=list)
    # per-section verdict of the structural checks, "s2:complete s3:partial s4:missing" ("" before
    # validation, and for legacy/unknown reports that have no fixed template)
    sections: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParsedReport:
        """The inverse of ``to_dict`` (a report that came back from a worker process)."""
        d = dict(d)
        d["facts"] = [Fact(**f) for f in d.get("facts") or []]
        d["unplaced"] = [Unplaced(**u) for u in d.get("unplaced") or []]
        d["checks"] = [CheckResult(**c) for c in d.get("checks") or []]
        d["notes"] = list(d.get("notes") or [])
        return cls(**d)
