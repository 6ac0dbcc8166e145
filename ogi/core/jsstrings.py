"""JavaScript string literals: find them in a script and unescape their bodies.

Portals deliver report pages and listings as HTML inside JS strings; the crawler (links) and the
extractor (tables) read them the same way, so the primitive lives below both.

Both functions take whatever a portal serves: an escape that names no character is kept as
written (never raises), and the literal scanner is linear in the source's length however
pathological (hundreds of kilobytes of quotes, backticks and backslashes)."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,8}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_MAX_CODE_POINT = 0x10FFFF


def unescape_js_string(body: str) -> str:
    """The value of a JS/JSON string literal's body (quotes removed): \\n, \\", \\/, four-digit
    \\u escapes (\\u4e2d) and \\u{...}, surrogate pairs, \\x escapes, line continuations.

    An escape beyond Unicode (``\\u{110000}``) is kept literally, as a browser would show the
    broken script's text; lone surrogates become U+FFFD."""

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
# Possessive quantifiers: a literal that does not close fails in one pass, without backtracking.
_JS_LITERAL = {
    '"': re.compile(r'"((?:[^"\\\n]++|\\[\s\S])*+)"'),
    "'": re.compile(r"'((?:[^'\\\n]++|\\[\s\S])*+)'"),
    "`": re.compile(r"`((?:[^`\\]++|\\[\s\S])*+)`"),
}
# Where an unterminated literal's scan stops: the end of its line (", ') or of the source (`).
_JS_LITERAL_STOP = {
    '"': re.compile(r'"(?:[^"\\\n]++|\\[\s\S])*+'),
    "'": re.compile(r"'(?:[^'\\\n]++|\\[\s\S])*+"),
    "`": re.compile(r"`(?:[^`\\]++|\\[\s\S])*+"),
}


def js_string_literals(source: str) -> list[str]:
    """Bodies of the string literals of a JS/JSON source, in order, still escaped.

    Comments are skipped so a quote in a comment does not desynchronize the scan; literals joined
    with ``+`` are concatenated into one. Regex literals are not recognized (rare in data files).

    An unterminated literal is skipped (its opening quote only, as before). Linear time: when a
    literal opened at ``i`` does not close before ``j``, every later opener of the same quote
    before ``j`` was escaped in that scan, so its own scan would stop at ``j`` too — those are
    skipped without rescanning (quadratic otherwise on ``"\\"\\"\\"…``).
    """
    out: list[list[str]] = []  # pieces per literal, joined once at the end ("a" + "b" + … is linear)
    last_end = -1  # end of the previous literal, to detect "a" + "b"
    dead_until = {'"': -1, "'": -1, "`": -1}  # an opener of this quote before here cannot close
    i, n = 0, len(source)
    while True:
        m = _JS_TOKEN_START.search(source, i)
        if not m:
            return ["".join(parts) for parts in out]
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
        if i < dead_until[ch]:
            i += 1
            continue
        lit = _JS_LITERAL[ch].match(source, i)
        if not lit:  # unterminated literal: skip the quote, remember how far it could not close
            stop = _JS_LITERAL_STOP[ch].match(source, i)
            dead_until[ch] = stop.end() if stop else i + 1
            i += 1
            continue
        body = lit.group(1)
        if out and last_end >= 0 and source[last_end:i].strip() == "+":
            out[-1].append(body)
        else:
            out.append([body])
        i = last_end = lit.end()
