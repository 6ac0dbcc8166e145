"""Bytes → text for HTML pages: the extract stage's decoder, so the crawler and the extractor
read a page the same way (GBK/GB2312 as GB18030, UTF-8, BOM, HTTP and meta charset)."""

from __future__ import annotations

from extract.text_decode import decode_html_bytes


def decode_html(data: bytes, declared_charset: str | None = None) -> str:
    """Decode an HTML page, honouring the HTTP charset, then the meta tag, then sniffing."""
    return decode_html_bytes(data, declared_charset)[0]
