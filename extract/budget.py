"""What a container will expand to, checked against the document's limits before a parser expands it.

A 1 MB .docx can declare a 4 GB member, and a 1 MB PDF can hold a stream that inflates to 2 GB;
python-docx, openpyxl and PDFium would allocate all of it. These checks read only declarations (a
zip's central directory, a PDF's page sizes) or inflate into a bounded buffer that is thrown away,
and raise :class:`~ogi.core.limits.LimitExceeded` naming the part, its size and the limit.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from ogi.core.limits import LimitExceeded, count, current, size

_POINT_M = 0.0254 / 72  # one PDF unit (1/72 inch) in metres


def check_zip(data: bytes, what: str) -> None:
    """The members of a zip container (.docx, .xlsx) must not unzip to more than the limit.

    zipfile stops at each member's declared size (and a member that inflates past it fails its
    CRC), so the central directory's sizes bound what any reader of the zip can allocate.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a readable zip: the format's own reader says so, with its reason
    limit = current().max_unzipped_bytes
    total = sum(i.file_size for i in infos)
    if total > limit:
        biggest = max(infos, key=lambda i: i.file_size)
        raise LimitExceeded(what, f"unzips to {size(total)} (member {biggest.filename} alone "
                                  f"{size(biggest.file_size)})", "max_unzipped_bytes", size(limit))


_STREAM = re.compile(rb"stream\r?\n")
_CHUNK = 1 << 20


def check_pdf_streams(data: bytes) -> None:
    """No Flate stream of the PDF may inflate past the limit.

    Each ``stream`` keyword is tried as the start of zlib data and inflated chunk by chunk into a
    discarded buffer, stopping at the limit: memory stays at one chunk, time at the limit's size.
    Streams that are not zlib (images in DCT, encrypted streams) fail at their first bytes and are
    skipped; other filters are bounded by the worker's memory limit instead.
    """
    limit = current().max_stream_bytes
    pos = 0
    while True:
        m = _STREAM.search(data, pos)
        if not m:
            return
        start = m.end()
        inflated, end = _inflated_size(data, start, limit)
        if inflated > limit:
            raise LimitExceeded(f"PDF stream at byte {m.start():,}", f"inflates to over {size(limit)}",
                                "max_stream_bytes", size(limit))
        pos = max(end, m.end())


def _inflated_size(data: bytes, start: int, limit: int) -> tuple[int, int]:
    """(bytes inflated, up to just past the limit; offset where the zlib data ended)."""
    inflater = zlib.decompressobj()
    total = 0
    pos = start
    n = len(data)
    try:
        while pos < n and not inflater.eof:
            chunk = data[pos:pos + _CHUNK]
            pos += len(chunk)
            out = inflater.decompress(chunk, _CHUNK)
            total += len(out)
            while inflater.unconsumed_tail and not inflater.eof and total <= limit:
                tail = inflater.unconsumed_tail
                out = inflater.decompress(tail, _CHUNK)
                total += len(out)
                if not out and inflater.unconsumed_tail == tail:  # no progress: stop, do not spin
                    break
            if total > limit:
                return total, pos
    except Exception:  # not zlib data (or corrupt): nothing to inflate here
        return total, start
    return total, pos - len(inflater.unused_data)


def check_pdf_pages(pdf) -> None:
    """The PDF's page count and every page's area must be within the limits (read from the page
    tree, before any page is loaded or rendered: a 200 × 200 inch page renders to gigabytes)."""
    limits = current()
    n = len(pdf)
    if n > limits.max_pages:
        raise LimitExceeded("PDF", f"has {count(n)} pages", "max_pages", count(limits.max_pages))
    for i in range(n):
        width, height = pdf.get_page_size(i)
        area = abs(width * height) * _POINT_M * _POINT_M
        if area > limits.max_page_area_m2:
            raise LimitExceeded(f"page {i + 1}", f"is {abs(width) * _POINT_M:.2f} × {abs(height) * _POINT_M:.2f} m "
                                                 f"({area:.3g} m²)", "max_page_area_m2",
                                f"{limits.max_page_area_m2:g} m²")
