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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ogi.core.models import ExtractionError


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
    "max_depth": "OGI_EXTRACT_MAX_DEPTH",
}

_CURRENT: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("ogi_limits", default=None)


def current() -> Limits:
    """The limits of the document being processed (the environment's when none were set)."""
    limits = _CURRENT.get()
    if limits is None:
        from ogi.core.config import Settings

        limits = Limits.from_settings(Settings())
    return limits


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
        raise LimitExceeded(what, f"holds over {count(limit)} tables ({count(n_tables)} so far)", "max_tables",
                            count(limit))
