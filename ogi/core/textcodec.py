"""Turn the bytes of a web page into text without mojibake.

Chinese portals label pages GB2312/GBK while writing characters only GB18030 has, send a wrong
HTTP charset, or declare nothing. Every candidate is tried strictly, in order of trust, so a wrong
label falls through to the next candidate instead of producing garbage.
"""

from __future__ import annotations

import codecs
import re

# zero-width characters and soft hyphens: invisible on the page, but "\u200b12" does not read as 12.
# A str.translate table for the extractors.
INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))

# BOMs, longest first (the UTF-32 LE BOM starts with the UTF-16 LE one)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# GB18030 is a superset of GB2312 and GBK: decoding with it never loses a character they carry
_LABEL_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "iso-ir-58": "gb18030",
    "chinese": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "gb18030": "gb18030",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    # WHATWG: a meta label of ISO-8859-1 / ASCII means windows-1252
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_META_SCAN_BYTES = 16384  # the spec says 1024; real pages put kilobytes of comments and scripts first


def normalize_charset(label: str | None) -> str | None:
    """The Python codec to use for a charset label, or None when the label is unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if not key:
        return None
    if key in _LABEL_ALIASES:
        return _LABEL_ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _LABEL_ALIASES.get(name, name)


def meta_charset(data: bytes) -> str | None:
    """The charset named by ``<meta charset>`` or an http-equiv Content-Type near the top."""
    m = _META_CHARSET.search(data[:_META_SCAN_BYTES])
    return m.group(1).decode("ascii", "replace") if m else None


def decode_html_bytes(data: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Decode a page: BOM, then meta charset, then the declared (HTTP) charset, then UTF-8, then
    GB18030. Returns (text, codec used); never raises on bad bytes (last resort replaces them)."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(bom_codec), bom_codec
            except UnicodeDecodeError:
                break  # a BOM followed by garbage: fall back to the other evidence
    candidates: list[str] = []
    for label in (meta_charset(data), declared_charset):
        codec: str | None = normalize_charset(label)
        # a meta tag readable as ASCII cannot be UTF-16/32: the label is wrong, skip it
        if codec and not codec.startswith(("utf-16", "utf-32")):
            if codec == "cp1252":  # single-byte codecs accept anything: let strict UTF-8 try first
                candidates.append("utf-8")
            candidates.append(codec)
    candidates += ["utf-8", "gb18030"]
    seen: set[str] = set()
    for codec in candidates:
        if codec in seen:
            continue
        seen.add(codec)
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    mixed = _decode_segments(data)
    if mixed is not None:
        return mixed
    return data.decode("utf-8", errors="replace"), "utf-8 (with replacements)"


MIXED_CODEC = "utf-8+gb18030"  # prefix of the codec name decode_html_bytes reports for a mixed page
_SEGMENT = re.compile(rb"[^\n<]*(?:[\n<]|$)")


def _decode_segments(data: bytes) -> tuple[str, str] | None:
    """A page assembled from UTF-8 and GB18030 pieces (two templates, a pasted-in block), decoded
    piece by piece: lines and markup split at "\\n" and "<", which are single bytes in both encodings
    and never inside a multi-byte character. Each piece is tried strictly as UTF-8, then GB18030.
    None when some piece is neither, or when nothing needed GB18030."""
    out: list[str] = []
    n_gb = n_pieces = 0
    for m in _SEGMENT.finditer(data):
        piece = m.group()
        if not piece:
            continue
        n_pieces += 1
        try:
            out.append(piece.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            out.append(piece.decode("gb18030"))
        except UnicodeDecodeError:
            return None
        n_gb += 1
    if not n_gb:
        return None
    return "".join(out), f"{MIXED_CODEC} ({n_gb} of {n_pieces} pieces GB18030)"


# C0 controls other than tab, newline, form feed and carriage return, and DEL: never content of a
# web page (HTML makes them parse errors), and never a byte of a multi-byte UTF-8, GB18030 or Big5
# character, so dropping them from the bytes cannot split a character.
_CONTROL_BYTES = bytes([*range(0, 9), 0x0B, *range(0x0E, 0x20), 0x7F])


def drop_control_bytes(data: bytes) -> tuple[bytes, int, int]:
    """``data`` without NUL and other control bytes, with how many NULs and other controls went.
    Pages in UTF-16/32 (a BOM says so) are returned unchanged: there NUL bytes are halves of characters."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # (UTF-32 BOMs start the same)
        return data, 0, 0
    cleaned = data.translate(None, _CONTROL_BYTES)
    if len(cleaned) == len(data):
        return data, 0, 0
    nuls = data.count(0)
    return cleaned, nuls, len(data) - len(cleaned) - nuls


def decode_html(data: bytes, declared_charset: str | None = None) -> str:
    """Decode an HTML page, honouring the HTTP charset, then the meta tag, then sniffing."""
    return decode_html_bytes(data, declared_charset)[0]
