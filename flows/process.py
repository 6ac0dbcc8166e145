"""Process one document: extract → normalize → validate, as a plain function on plain data.

The Prefect task wraps :func:`process_document`; ``ogi extract`` calls it too. It never raises for a
bad document: the result says ``quarantined`` with a reason naming what went wrong, so one bad file
never stops the night. The work runs in a bounded worker process (``ogi.flows.workers``) under the
document budget of ``Settings`` (README, "Limits"): a document past a limit, or one that kills its
worker, is quarantined with the limit's name and the measured value, and costs only itself.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from ogi.core import media
from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION, Settings
from ogi.core.limits import LimitExceeded, Limits, check_extracted, current, size
from ogi.core.models import ExtractionError, ParsedReport

# PDFium (under Camelot, pypdfium2 and the OCR renderer) must never run in two threads at once,
# not even on different documents: it would crash the process. Prefect's default task runner uses
# threads, so PDFs analysed in-process are processed one at a time per process; the rest run freely.
# Worker processes run one document at a time, so PDFium never shares one of them.
_PDFIUM_LOCK = threading.Lock()


# Documents that may reach PDFium: PDFs, and bytes not recognised (extract sniffs them again).
# (.doc/.wps become .docx through LibreOffice: no PDFium, so a slow conversion holds no lock.)
_NEEDS_PDFIUM = frozenset({media.PDF, media.OCTET})

EXTRACTION_WARNING = "extraction: "  # prefix of the notes that carry the extractor's warnings


def check_input_size(n_bytes: int) -> None:
    limit = current().max_input_bytes
    if n_bytes > limit:
        raise LimitExceeded("document", f"is {size(n_bytes)}", "max_input_bytes", size(limit))


def analyse(
    data: bytes, *, sha256: str, filename: str | None = None, media_type: str | None = None,
    report_year: int | None = None, second_reader: str = "doubt",
) -> ParsedReport:
    """Extract, normalize and validate one document in this process; raises ExtractionError for
    unreadable input (LimitExceeded past a parser limit). The extractor's warnings (what was
    repaired, cut or guessed) come first in the report's notes, prefixed "extraction: ".

    ``second_reader`` (``Settings.second_reader``): when a text PDF's ruled tables are read again
    by an independent reader and compared cell by cell — ``doubt`` (the first reading fails a
    check), ``always`` or ``never``."""
    from ogi.extract import extract_document
    from ogi.extract.dispatch import second_reading
    from ogi.transform.arbitrate import best_report

    check_input_size(len(data))
    if media.sniff_media_type(data, filename, media_type) not in _NEEDS_PDFIUM:
        doc = extract_document(data, sha256=sha256, filename=filename, media_type=media_type)
    else:
        with _PDFIUM_LOCK:
            doc = extract_document(data, sha256=sha256, filename=filename, media_type=media_type)
    check_extracted(doc)

    def read_again() -> dict | None:
        with _PDFIUM_LOCK:  # pdfplumber itself is pure Python; the lock keeps the rule simple
            return second_reading(data, doc)

    reader = read_again if second_reader != "never" and doc.media_type == media.PDF else None
    report = best_report(doc, report_year=report_year, second_reader=reader,
                         always_compare=second_reader == "always")
    report.notes = [f"{EXTRACTION_WARNING}{w}" for w in doc.warnings] + report.notes
    return report


def display_name(name: str) -> str:
    """A file name fit for a one-line reason: control characters (a newline in a portal's file
    name) written as escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)


def _versions() -> dict[str, str]:
    return {"extractor_version": EXTRACTOR_VERSION, "transform_version": TRANSFORM_VERSION}


def process_here(
    data: bytes, *, sha256: str, filename: str | None = None, media_type: str | None = None,
    report_year: int | None = None, has_attachments: bool = False, find_attachments: bool = False,
    second_reader: str = "doubt",
) -> dict[str, Any]:
    """:func:`process_document` in this process, without the worker's time and memory limits.

    ``find_attachments``: when the document places nothing, look for attachment links in it
    (``ogi extract`` on a saved page, where no crawler said whether it has attachments).
    """
    versions = _versions()
    name = display_name(filename or sha256[:12])
    try:
        report = analyse(data, sha256=sha256, filename=filename, media_type=media_type, report_year=report_year,
                         second_reader=second_reader)
    except ExtractionError as exc:
        return {"status": "quarantined", "reason": f"{name}: {exc}", **versions}
    except MemoryError:
        return {"status": "quarantined", "reason": f"{name}: ran out of memory while extracting (MemoryError; "
                                                   "limit OGI_EXTRACT_MAX_MEMORY_MB)", **versions}
    except RecursionError:
        return {"status": "quarantined", "reason": f"{name}: structure nested too deep to read (RecursionError)",
                **versions}
    except Exception as exc:  # a parser bug must not stop the night; keep the evidence
        tb = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return {"status": "quarantined", "reason": f"{name}: internal error {type(exc).__name__}: {exc} ({tb})",
                **versions}
    if not report.facts and not report.unplaced:
        attachments = _attachment_names(data, filename, media_type) if find_attachments else []
        if has_attachments or attachments:
            listed = f": {', '.join(attachments[:5])}" if attachments else ""
            reason = f"{name}: no report tables on this page; the report is in its attachment(s){listed}"
            return {"status": "container", "reason": reason, **versions}
        return {"status": "quarantined",
                "reason": f"{name}: no table of the annual report (二/三/四) found in the document", **versions}
    return {"status": "parsed", "report": report.to_dict(), **versions}


def _attachment_names(data: bytes, filename: str | None, media_type: str | None) -> list[str]:
    """File names of the attachments an HTML page links (PDF, Word, Excel, WPS, OFD)."""
    if media.sniff_media_type(data, filename, media_type) not in (media.HTML, media.JAVASCRIPT):
        return []
    from ogi.core.textcodec import decode_html
    from ogi.fetch.discover import parse_report_page

    links = parse_report_page(decode_html(data), "file:///")
    return [display_name(a.filename or a.url.rsplit("/", 1)[-1]) for a in links]


def process_document(
    data: bytes, *, sha256: str, filename: str | None = None, media_type: str | None = None,
    report_year: int | None = None, has_attachments: bool = False, find_attachments: bool = False,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Return {"status": "parsed", "report": ...}, {"status": "container", "reason": ...} or
    {"status": "quarantined", "reason": ...}, plus the code versions; ``seconds`` and
    ``peak_rss_bytes`` say what the document cost in its worker.

    Safe to call from many threads at once: at most ``settings.extract_workers`` documents are
    extracted at a time per process, each in its own worker (0 workers: in this thread, unbounded).
    """
    settings = settings or Settings.from_env()
    limits = Limits.from_settings(settings)
    kwargs = {"data": data, "sha256": sha256, "filename": filename, "media_type": media_type,
              "report_year": report_year, "has_attachments": has_attachments, "find_attachments": find_attachments,
              "second_reader": settings.second_reader}
    name = display_name(filename or sha256[:12])
    if len(data) > limits.max_input_bytes:  # refused before any work (and before shipping the bytes)
        reason = str(LimitExceeded("document", f"is {size(len(data))}", "max_input_bytes",
                                   size(limits.max_input_bytes)))
        return {"status": "quarantined", "reason": f"{name}: {reason}", **_versions()}
    if settings.extract_workers == 0:
        from ogi.core.limits import use_limits

        with use_limits(limits):
            return process_here(**kwargs)  # type: ignore[arg-type]
    from ogi.flows.workers import pool

    outcome = pool().run("ogi.flows.process:process_here", kwargs, settings=settings, limits=limits.to_dict())
    if outcome.failure:
        result: dict[str, Any] = {"status": "quarantined", "reason": f"{name}: {outcome.failure}", **_versions()}
    else:
        result = dict(outcome.result)
    result["seconds"] = round(outcome.seconds, 3)
    result["peak_rss_bytes"] = outcome.peak_rss_bytes
    return result
