"""The per-document budget the parsers enforce, and the error that names a crossed limit.

A document from a public portal may be built to exhaust memory or time: a zip bomb, a merge over
a whole sheet, a table whose spans expand to millions of cells. Each parser checks the limit that
bounds its own work *before* doing that work, and raises :class:`LimitExceeded`, whose message is
the quarantine reason: what was measured, against which limit, and the setting that changes it
("table 2 expands to 4.2 M cells, limit 200 k (OGI_EXTRACT_MAX_TABLE_CELLS)").

The limits of the document being processed are set by the worker that runs it
(:func:`use_limits`); code that runs outside one reads them from the environment (``Settings``).
Wall time and memory are enforced around the worker process (``ogi.flows.workers``), not here.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ogi.core.models import ExtractedDocument, ExtractionError, RawTable


@dataclass(frozen=True)
class Limits:
    """What one document may cost inside the parsers (see ``Settings`` for each one's meaning)."""

    max_input_bytes: int
    max_unzipped_bytes: int
    max_stream_bytes: int
    max_pages: int
    max_page_area_m2: float
    max_table_cells: int
    max_tables: int
    max_cell_chars: int
    max_text_chars: int
    max_depth: int

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            max_input_bytes=settings.extract_max_input_mb << 20,
            max_unzipped_bytes=settings.extract_max_unzipped_mb << 20,
            max_stream_bytes=settings.extract_max_stream_mb << 20,
            max_pages=settings.extract_max_pages,
            max_page_area_m2=settings.extract_max_page_area_m2,
            max_table_cells=settings.extract_max_table_cells,
            max_tables=settings.extract_max_tables,
            max_cell_chars=settings.extract_max_cell_chars,
            max_text_chars=settings.extract_max_text_chars,
            max_depth=settings.extract_max_depth,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# the environment variable that sets each limit, named in every reason
ENV_NAMES = {
    "max_input_bytes": "OGI_EXTRACT_MAX_INPUT_MB",
    "max_unzipped_bytes": "OGI_EXTRACT_MAX_UNZIPPED_MB",
    "max_stream_bytes": "OGI_EXTRACT_MAX_STREAM_MB",
    "max_pages": "OGI_EXTRACT_MAX_PAGES",
    "max_page_area_m2": "OGI_EXTRACT_MAX_PAGE_AREA_M2",
    "max_table_cells": "OGI_EXTRACT_MAX_TABLE_CELLS",
    "max_tables": "OGI_EXTRACT_MAX_TABLES",
    "max_cell_chars": "OGI_EXTRACT_MAX_CELL_CHARS",
    "max_text_chars": "OGI_EXTRACT_MAX_TEXT_CHARS",
    "max_depth": "OGI_EXTRACT_MAX_DEPTH",
}

_CURRENT: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("ogi_limits", default=None)


def current() -> Limits:
    """The limits of the document being processed (the environment's when none were set)."""
    limits = _CURRENT.get()
    if limits is None:
        limits = _from_environment(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OGI_"))))
    return limits


@functools.lru_cache(maxsize=8)
def _from_environment(_ogi_env: tuple[tuple[str, str], ...]) -> Limits:
    """Limits from the settings, built once per state of the OGI_* environment: parsers ask for
    them per cell, and building Settings costs ~20 ms."""
    from ogi.core.config import Settings

    return Limits.from_settings(Settings())


@contextmanager
def use_limits(limits: Limits) -> Iterator[Limits]:
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


class LimitExceeded(ExtractionError):
    """A document crossed one of its limits; the message names the measure, the limit and its setting."""

    def __init__(self, what: str, measured: str, limit_name: str, limit: str):
        self.limit_name = limit_name
        env = ENV_NAMES.get(limit_name, limit_name)
        super().__init__(f"{what} {measured}, limit {limit} ({env})")


def count(n: float) -> str:
    """A count as people read it: 950, 12.5 k, 4.2 M, 17.2 G."""
    for size, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= size * 0.9995:  # 999,998 is "1 M", not "1e+03 k"
            return f"{n / size:.3g}{unit}"
    return f"{n:g}"


def size(n: float) -> str:
    """Bytes as people read them: 512 B, 3.1 MB, 4.2 GB (binary units)."""
    for unit, div in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= div:
            return f"{n / div:.3g} {unit}"
    return f"{n:g} B"


def check_cells(n_cells: int, what: str, verb: str = "expands to") -> None:
    """``what`` (e.g. "table 2", "sheet Sheet1") must not expand to more cells than a table may have."""
    limit = current().max_table_cells
    if n_cells > limit:
        measured = verb if verb.endswith(";") else f"{verb} {count(n_cells)} cells"
        raise LimitExceeded(what, measured.rstrip(";"), "max_table_cells", count(limit))


def check_tables(n_tables: int, what: str = "document") -> None:
    limit = current().max_tables
    if n_tables > limit:
        raise LimitExceeded(what, f"holds {count(n_tables)} tables", "max_tables", count(limit))


def check_extracted(doc: ExtractedDocument) -> None:
    """What an extractor produced, before the transform stage reads it: every cell and the text
    within their length limits (labels are matched by similarity, prose by patterns; a 50 MB
    "cell" is no label, and would cost minutes there), the tables within their count."""
    lim = current()
    if len(doc.text) > lim.max_text_chars:
        raise LimitExceeded("document text", f"is {count(len(doc.text))} characters", "max_text_chars",
                            count(lim.max_text_chars))
    tables: list[RawTable] = list(doc.tables)
    for alt in doc.alternatives:
        tables += [t if isinstance(t, RawTable) else RawTable.from_dict(t) for t in alt.get("tables", [])]
    check_tables(len(doc.tables))
    for t in tables:
        for r, row in enumerate(t.rows):
            for c, cell in enumerate(row):
                if cell and len(cell) > lim.max_cell_chars:
                    where = f"table {t.index + 1}" + (f" (page {t.page})" if t.page else "")
                    raise LimitExceeded(f"{where} cell at row {r + 1}, column {c + 1}",
                                        f"holds {count(len(cell))} characters", "max_cell_chars",
                                        count(lim.max_cell_chars))
