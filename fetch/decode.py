"""Bytes → text for HTML pages, through the extract stage's decoder when it is present.

``extract.text_decode.decode_html_bytes`` is the one decoder of the project (GBK/GB2312/GB18030/
UTF-8, meta charset sniffing). Until it exists this wrapper falls back to a small equivalent so
the crawler keeps working; only this function is imported from extract.
"""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def _fallback(data: bytes, declared: str | None) -> str:
    candidates: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        candidates.append("utf-8-sig")
    m = _META_CHARSET.search(data[:4096])
    for cs in (declared, m.group(1).decode("ascii", "ignore") if m else None):
        if cs:
            cs = cs.lower()
            candidates.append("gb18030" if cs in {"gbk", "gb2312", "gb_2312-80", "x-gbk"} else cs)
    candidates += ["utf-8", "gb18030"]
    for cs in candidates:
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_html(data: bytes, declared_charset: str | None = None) -> str:
    """Decode an HTML page, honouring the HTTP charset, then the meta tag, then sniffing."""
    try:
        from extract.text_decode import decode_html_bytes
    except ImportError:
        return _fallback(data, declared_charset)
    return decode_html_bytes(data, declared_charset)[0]
