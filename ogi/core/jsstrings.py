"""JavaScript string literals: find them in a script and unescape their bodies.

Portals deliver report pages and listings as HTML inside JS strings; the crawler (links) and the
extractor (tables) read them the same way, so the primitive lives below both. Whatever a portal
serves: an escape that names no character is kept as written (never raises)."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,8}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_MAX_CODE_POINT = 0x10FFFF


def unescape_js_string(body: str) -> str:
    """The value of a JS/JSON string literal's body (quotes removed): \\n, \\", \\/, four-digit
    \\u escapes (\\u4e2d) and \\u{...}, surrogate pairs, \\x escapes, line continuations.

    An escape beyond Unicode (``\\u{110000}``) is kept literally, as a browser shows the broken
    script's text; lone surrogates become U+FFFD."""

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if e.startswith("u{"):
            cp = int(e[2:-1], 16)
            return chr(cp) if cp <= _MAX_CODE_POINT else m.group(0)
        if e[0] == "u" and len(e) == 5:
            return chr(int(e[1:], 16))
        if e[0] == "x" and len(e) == 3:
            return chr(int(e[1:], 16))
        if e in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
            return ""  # line continuation
        return _SIMPLE_ESCAPES.get(e, e)

    out = _ESCAPE.sub(one, body)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        out = out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return out


_JS_TOKEN_START = re.compile(r"[\"'`/]")
# a literal's body after its opening quote: anything but that quote, a backslash or (except in
# template literals) a newline, or an escape pair
_JS_BODY = {
    '"': re.compile(r'(?:[^"\\\n]|\\[\s\S])*'),
    "'": re.compile(r"(?:[^'\\\n]|\\[\s\S])*"),
    "`": re.compile(r"(?:[^`\\]|\\[\s\S])*"),
}


def js_string_literals(source: str) -> list[str]:
    """Bodies of the string literals of a JS/JSON source, in order, still escaped.

    Comments are skipped so a quote in a comment does not desynchronize the scan; literals joined
    with ``+`` are concatenated into one. Regex literals are not recognized (rare in data files).

    Linear in the source: when a literal does not close, the scan of its body stopped at a
    newline (or the end); every quote of its kind before that point was consumed as an escape, so
    a literal starting there would stop at the same point, and none is tried (a page of
    unterminated backticks otherwise costs a rescan of the rest per backtick).
    """
    out: list[list[str]] = []  # the pieces of each literal, joined once at the end
    last_end = -1  # end of the previous literal, to detect "a" + "b"
    dead = {'"': -1, "'": -1, "`": -1}  # no literal of this quote can start before this offset
    i, n = 0, len(source)
    while True:
        m = _JS_TOKEN_START.search(source, i)
        if not m:
            return ["".join(pieces) for pieces in out]
        i = m.start()
        ch = source[i]
        if ch == "/":
            nxt = source[i + 1 : i + 2]
            if nxt == "/":
                j = source.find("\n", i)
                i = n if j < 0 else j + 1
            elif nxt == "*":
                j = source.find("*/", i + 2)
                i = n if j < 0 else j + 2
            else:
                i += 1
            continue
        if i < dead[ch]:
            i += 1
            continue
        end = _JS_BODY[ch].match(source, i + 1).end()  # type: ignore[union-attr]  # (matches empty)
        if end >= n or source[end] != ch:  # unterminated literal: skip the quote
            dead[ch] = end
            i += 1
            continue
        body = source[i + 1 : end]
        if out and last_end >= 0 and source[last_end:i].strip() == "+":
            out[-1].append(body)
        else:
            out.append([body])
        i = last_end = end + 1
