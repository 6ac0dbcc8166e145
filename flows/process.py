"""Process one document: extract → normalize → validate, as a plain function on plain data.

The Prefect task wraps this; tests and ``ogi extract`` call it directly. It never raises for a bad
document: the result says ``quarantined`` with a reason naming what went wrong, so one bad file
never stops the night.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from ogi.core import media
from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION
from ogi.core.models import ExtractionError, ParsedReport
from ogi.extract import extract_document
from ogi.transform.arbitrate import best_report

# PDFium (under Camelot, pypdfium2 and the OCR renderer) must never run in two threads at once,
# not even on different documents: it would crash the process. Prefect's default task runner uses
# threads, so PDFs are processed one at a time per process; the rest run freely.
# Parallelism across documents comes from processes (Dask/Ray workers), not threads.
_PDFIUM_LOCK = threading.Lock()


# Documents that may reach PDFium: PDFs, and bytes not recognised (extract sniffs them again).
# (.doc/.wps become .docx through LibreOffice: no PDFium, so a slow conversion holds no lock.)
_NEEDS_PDFIUM = frozenset({media.PDF, media.OCTET})


def analyse(
    data: bytes, *, sha256: str, filename: str | None = None, media_type: str | None = None,
    report_year: int | None = None,
) -> ParsedReport:
    """Extract, normalize and validate one document; raises ExtractionError for unreadable input."""
    if media.sniff_media_type(data, filename, media_type) not in _NEEDS_PDFIUM:
        doc = extract_document(data, sha256=sha256, filename=filename, media_type=media_type)
    else:
        with _PDFIUM_LOCK:
            doc = extract_document(data, sha256=sha256, filename=filename, media_type=media_type)
    return best_report(doc, report_year=report_year)


def process_document(
    data: bytes, *, sha256: str, filename: str | None = None, media_type: str | None = None,
    report_year: int | None = None, has_attachments: bool = False,
) -> dict[str, Any]:
    """Return {"status": "parsed", "report": ...} or {"status": "quarantined", "reason": ...}."""
    versions = {"extractor_version": EXTRACTOR_VERSION, "transform_version": TRANSFORM_VERSION}
    name = filename or sha256[:12]
    try:
        report = analyse(data, sha256=sha256, filename=filename, media_type=media_type, report_year=report_year)
    except ExtractionError as exc:
        return {"status": "quarantined", "reason": f"{name}: {exc}", **versions}
    except Exception as exc:  # a parser bug must not stop the night; keep the evidence
        tb = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return {"status": "quarantined", "reason": f"{name}: internal error {type(exc).__name__}: {exc} ({tb})",
                **versions}
    if not report.facts and not report.unplaced:
        if has_attachments:
            reason = f"{name}: no report tables on this page; the report is in its attachment(s)"
            return {"status": "container", "reason": reason, **versions}
        return {"status": "quarantined",
                "reason": f"{name}: no table of the annual report (二/三/四) found in the document", **versions}
    return {"status": "parsed", "report": report.to_dict(), **versions}
