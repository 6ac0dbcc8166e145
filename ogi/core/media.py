"""What kind of document a byte string is: magic bytes first, then file extension, then the
Content-Type the server declared (portals routinely serve PDFs as text/html or octet-stream)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

PDF = "application/pdf"
HTML = "text/html"
JAVASCRIPT = "application/javascript"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
WPS = "application/vnd.ms-works"  # Kingsoft WPS Writer .wps (an OLE2 container like .doc)
TEXT = "text/plain"  # a report that reaches us only as text (a text page, a converted PDF's text)
OFD = "application/ofd"  # China's fixed-layout format (GB/T 33190), a zip container; not read yet
OCTET = "application/octet-stream"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_BY_EXTENSION = {
    ".pdf": PDF,
    ".html": HTML,
    ".htm": HTML,
    ".shtml": HTML,
    ".js": JAVASCRIPT,
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".doc": DOC,
    ".xls": XLS,
    ".et": XLS,  # WPS spreadsheet, OLE2 like .xls
    ".wps": WPS,
    ".txt": TEXT,
    ".md": TEXT,  # a PDF converter's Markdown: read as text, its tables by the Markdown reader
    ".markdown": TEXT,
    ".ofd": OFD,
}

_DECLARED = {
    "application/pdf": PDF,
    "application/x-pdf": PDF,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "application/javascript": JAVASCRIPT,
    "text/javascript": JAVASCRIPT,
    "application/x-javascript": JAVASCRIPT,
    DOCX: DOCX,
    XLSX: XLSX,
    "application/msword": DOC,
    "application/vnd.ms-excel": XLS,
    "application/vnd.ms-works": WPS,
    "application/kswps": WPS,
    "text/plain": TEXT,
    "text/markdown": TEXT,
    "text/x-markdown": TEXT,
    OFD: OFD,
}

_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<meta|<table|<div|<p[\s>]|<!--)", re.I)
_JS_START = re.compile(
    rb"^\s*(//|/\*|var\s|let\s|const\s|function[\s(]|document\.write|\$\(|window\.|[\w.]+\s*=\s*['\"])"
)


def _extension(filename: str | None) -> str:
    if not filename:
        return ""
    name = filename.split("?", 1)[0].split("#", 1)[0]
    return PurePosixPath(name).suffix.lower()


def _sniff_zip(data: bytes) -> str | None:
    """docx and xlsx are both zips: the part names tell them apart."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if any(n.startswith("word/") for n in names):
        return DOCX
    if any(n.startswith("xl/") for n in names):
        return XLSX
    return None


def _sniff_ole2(data: bytes, ext: str) -> str:
    """.doc, .wps and .xls share the OLE2 container; the stream names inside tell them apart."""
    if ext in (".doc", ".wps", ".xls", ".et"):
        return _BY_EXTENSION[ext]
    # Directory entries are UTF-16LE names; a cheap scan of the bytes is enough to tell. Word's
    # stream name is checked first: a document's own UTF-16 text may well contain "Book".
    if "WordDocument".encode("utf-16-le") in data:
        return DOC
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return XLS
    return DOC


def _decode_head(data: bytes) -> bytes:
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
        head = head[2:].decode(enc, errors="ignore").encode("utf-8")
    return head


def sniff_media_type(data: bytes, filename: str | None = None, declared: str | None = None) -> str:
    """The document's media type from its bytes, else its extension, else the declared type."""
    ext = _extension(filename)
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        kind = _sniff_zip(data)
        if kind:
            return kind
    if data.startswith(_OLE2_MAGIC):
        return _sniff_ole2(data, ext)
    head = _decode_head(data)
    if _HTML_START.match(head):
        return HTML
    if _JS_START.match(head) and re.search(rb"<(table|p|div|span|br)\b|\\u003c", data, re.I):
        return JAVASCRIPT  # a script that carries the page's HTML in a string
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    if declared:
        base = declared.split(";", 1)[0].strip().lower()
        if base in _DECLARED:
            return _DECLARED[base]
    if re.search(rb"<table|<tr|<td", data[:200000], re.I):
        return HTML
    if _is_text(data):
        return TEXT
    return OCTET


def _is_text(data: bytes) -> bool:
    """UTF-8 or GB18030 text without NULs or control bytes (other than layout whitespace)."""
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            # a multi-byte character cut at the sample's end is still text
            try:
                text = sample[:-3].decode(enc)
            except UnicodeDecodeError:
                continue
        bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
        return bad <= len(text) // 1000
    return False
