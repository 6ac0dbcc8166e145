"""Route a fetched document to the extractor for its real type, and run the PDF route.

The PDF route decides per page: a trustworthy text layer goes to Camelot (only pages that look
like they hold a table), a scanned or garbled page goes to OCR. Tables continued across pages
are stitched at the end, whatever produced them.
"""

from __future__ import annotations

import os
import tempfile

from ogi.core import media
from ogi.core.config import EXTRACTOR_VERSION
from ogi.core.models import ExtractedDocument, ExtractionError, RawTable
from ogi.extract.budget import check_pdf_pages, check_pdf_streams
from ogi.extract.pdf_grid import PageTable, grid_key
from ogi.extract.pdf_tables import PageAlternative, page_tables_with_alternatives, stitch
from ogi.extract.pdf_text import (
    image_heavy_pages,
    join_pages,
    open_pdf,
    page_texts,
    table_pages,
    text_quality,
)

PDF_EXTRACTOR = f"pdf:{EXTRACTOR_VERSION}"
# OCR costs seconds per page; a report is rarely longer than this, a book-length scan is not a report
MAX_OCR_PAGES = 40


def extract_document(
    data: bytes,
    *,
    sha256: str,
    filename: str | None = None,
    media_type: str | None = None,
) -> ExtractedDocument:
    """Extract tables and text from one document of any supported type.

    Raises ExtractionError (its message is the quarantine reason) when the document cannot be
    read at all.
    """
    if not data:
        raise ExtractionError(f"empty document{_named(filename)}")
    kind = media.sniff_media_type(data, filename, media_type)
    if kind == media.PDF:
        return extract_pdf(data, sha256=sha256)
    if kind in (media.HTML, media.JAVASCRIPT, media.TEXT):
        # plain text goes the same way: decoded, no tables, its text kept for the text-layout reader
        from ogi.extract.html_tables import extract_html

        return extract_html(data, sha256=sha256, declared_charset=_charset(media_type))
    if kind == media.DOCX:
        from ogi.extract.docx_tables import extract_docx

        return extract_docx(data, sha256=sha256)
    if kind in (media.XLSX, media.XLS):
        from ogi.extract.xlsx_tables import extract_spreadsheet

        return extract_spreadsheet(data, sha256=sha256, filename=filename)
    if kind in (media.DOC, media.WPS):
        from ogi.extract.office_convert import convert_to_docx

        converted, new_name = convert_to_docx(data, filename=filename)
        if media.sniff_media_type(converted, new_name, None) in (media.DOC, media.WPS):
            raise ExtractionError(f"could not convert legacy Office document{_named(filename)}")
        doc = extract_document(converted, sha256=sha256, filename=new_name)
        doc.warnings.append(f"converted from {kind} before extraction")
        return doc
    raise ExtractionError(
        f"unsupported document type{_named(filename)}: sniffed {kind}"
        + (f", declared {media_type}" if media_type else "")
        + f", starts with {data[:8]!r}"
    )


def _named(filename: str | None) -> str:
    return f" ({filename})" if filename else ""


def _charset(media_type: str | None) -> str | None:
    if not media_type or "charset=" not in media_type.lower():
        return None
    return media_type.lower().split("charset=", 1)[1].split(";", 1)[0].strip().strip('"') or None


def extract_pdf(data: bytes, *, sha256: str, ocr: bool = True) -> ExtractedDocument:
    """Tables and text of a PDF: Camelot on text pages that look like tables, OCR elsewhere.

    OCR covers pages without a usable text layer (scanned, or garbled fonts) and text pages where
    Camelot found nothing but an embedded picture covers much of the page (a pasted-in table).
    """
    check_pdf_streams(data)  # before PDFium inflates any of them
    pdf = open_pdf(data)
    try:
        check_pdf_pages(pdf)
        return _extract_open_pdf(pdf, data, sha256=sha256, ocr=ocr)
    finally:
        pdf.close()


def _extract_open_pdf(pdf, data: bytes, *, sha256: str, ocr: bool) -> ExtractedDocument:
    n_pages = len(pdf)
    try:
        texts = page_texts(pdf)
    except Exception as exc:  # pdfium fails lazily on some broken page trees
        raise ExtractionError(f"PDF is corrupt: cannot read its pages ({exc})") from exc
    warnings: list[str] = []
    quality = [text_quality(t) for t in texts]
    usable = [q.usable for q in quality]
    text_pages = [i + 1 for i, ok in enumerate(usable) if ok]
    ocr_pages = [i + 1 for i, ok in enumerate(usable) if not ok]
    for p in ocr_pages:
        if quality[p - 1].verdict == "garbled":
            warnings.append(f"page {p}: text layer is garbled (fonts without ToUnicode?), using OCR")

    if len(ocr_pages) > MAX_OCR_PAGES:
        warnings.append(f"{len(ocr_pages)} pages need OCR; only the first {MAX_OCR_PAGES} were read")
        ocr_pages = ocr_pages[:MAX_OCR_PAGES]
    found: list[PageTable] = []
    camelot_pages = table_pages(texts, usable) if text_pages else []
    camelot_failed: list[int] = []
    page_alternatives: list[PageAlternative] = []
    if camelot_pages:
        camelot_tables, camelot_failed, page_alternatives = _camelot_pages(
            data, camelot_pages, warnings, {i + 1: t for i, t in enumerate(texts) if usable[i]})
        found.extend(camelot_tables)
    page_text = {i + 1: (t if usable[i] else "") for i, t in enumerate(texts)}
    if ocr:
        with_tables = {t.page for t in found}
        unparsed = [p for p in camelot_pages if p not in with_tables and p not in camelot_failed]
        pictured = image_heavy_pages(pdf, unparsed)
        # text pages whose table Camelot could not give: OCR the table, keep the text layer
        table_only = sorted(set(camelot_failed) | set(pictured))
        if ocr_pages or table_only:
            from ogi.extract.ocr import ocr_pdf_pages
        if ocr_pages:
            ocr_tables, texts_ocr, ocr_warnings = ocr_pdf_pages(pdf, ocr_pages)
            found.extend(ocr_tables)
            warnings.extend(ocr_warnings)
            page_text.update(texts_ocr)
        if table_only:
            ocr_tables, texts_ocr, table_warnings = ocr_pdf_pages(pdf, table_only, prose_text=False)
            found.extend(ocr_tables)
            warnings.extend(table_warnings)  # low-confidence tables, cells with ink but no text
            warnings.extend(f"page {p}: table read by OCR from an embedded image" for p in pictured)
            for p, t in texts_ocr.items():
                page_text[p] = f"{page_text[p]}\n{t}".strip("\n")
    elif ocr_pages:
        warnings.append(f"pages {ocr_pages} have no usable text layer and OCR is off")

    found.sort(key=lambda t: t.page)
    tables = stitch(found)
    text = join_pages([page_text[p] for p in range(1, n_pages + 1)])
    if not tables:
        if not text_pages and ocr:
            raise ExtractionError(f"scanned PDF: OCR found no table on {n_pages} pages")
        if not text_pages:
            raise ExtractionError(f"no tables found on any of {n_pages} pages and no text layer")
        warnings.append(f"no tables found on any of {n_pages} pages")
    alternatives = _alternative_sets(found, tables, page_alternatives)
    return ExtractedDocument(
        sha256=sha256,
        media_type=media.PDF,
        tables=tables,
        text=text,
        page_count=n_pages,
        extractor=PDF_EXTRACTOR,
        warnings=warnings,
        alternatives=alternatives,
    )


SECOND_READER = "pdfplumber"


def second_reading(data: bytes, doc: ExtractedDocument) -> dict | None:
    """The ruled tables of a text PDF read again by an independent reader (pdfplumber), as an
    alternative table set for the transform stage to weigh against ``doc``'s; None for other media,
    for pages without a ruled table, or when the reading is the same grid as ``doc``'s.

    Called only when the first reading is in doubt (it costs ~0.3–0.5 s a page); pages are the
    table-like pages of the text layer, so a table Camelot missed altogether is looked for too.
    """
    from ogi.extract.pdf_plumber import plumber_page_tables

    if doc.media_type != media.PDF or not doc.text:
        return None
    texts = doc.text.split("\f")
    usable = [text_quality(t).usable for t in texts]
    pages = table_pages(texts, usable) if any(usable) else []
    if not pages:
        return None
    tables = stitch(plumber_page_tables(data, pages))
    if not tables or grid_key(tables) == grid_key(doc.tables):
        return None
    return {"label": SECOND_READER, "tables": [t.to_dict() for t in tables],
            "note": "an independent reader of the ruled tables (pdfplumber)"}


def _alternative_sets(
    found: list[PageTable], primary: list[RawTable], page_alternatives: list[PageAlternative]
) -> list[dict]:
    """Each close runner-up page candidate as a complete alternative table set for the document
    (the primary's tables with that page's tables swapped), kept only when its grid differs."""
    out: list[dict] = []
    seen = {grid_key(primary)}
    for alt in page_alternatives:
        swapped = [t for t in found if t.page != alt.page] + list(alt.tables)
        swapped.sort(key=lambda t: t.page)
        tables = stitch(swapped)
        key = grid_key(tables)
        if key in seen:
            continue
        seen.add(key)
        out.append({"label": f"{alt.label} p{alt.page}", "tables": [t.to_dict() for t in tables],
                    "note": alt.note})
    return out


def _camelot_pages(
    data: bytes, pages: list[int], warnings: list[str], texts: dict[int, str] | None = None,
) -> tuple[list[PageTable], list[int], list[PageAlternative]]:
    """Run Camelot on a temporary copy of the bytes (its lattice parser wants a path).

    Returns the tables, the pages Camelot could not parse (retried one by one after a failure,
    so one odd page does not cost the others; those pages go to OCR) and the close runner-up
    candidates of weak pages.
    """
    fd, path = tempfile.mkstemp(suffix=".pdf", prefix="ogi-extract-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            found, page_alts = page_tables_with_alternatives(path, pages, texts=texts)
            return found, [], page_alts
        except Exception:  # Camelot/playa raise many types on odd PDFs: retry page by page
            pass
        tables: list[PageTable] = []
        failed: list[int] = []
        alternatives: list[PageAlternative] = []
        for p in pages:
            try:
                page_found, page_alts = page_tables_with_alternatives(path, [p], texts=texts)
                tables.extend(page_found)
                alternatives.extend(page_alts)
            except Exception as exc:
                failed.append(p)
                warnings.append(f"page {p}: camelot failed ({type(exc).__name__}: {exc}), using OCR")
        return tables, failed, alternatives
    finally:
        os.unlink(path)
