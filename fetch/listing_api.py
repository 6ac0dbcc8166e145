"""Listings paged only by a script: the API a page's JavaScript calls, and how many pages it has.

CMS columns (TRS ``list2.trsapi``-style, jQuery ``$.ajax``, ``fetch``) render page 1 in the HTML
and fetch the rest from an endpoint with a page number and a page size; the total count sits in
the script (``var totalCount = 23``, ``total: 23``) or in the API's own JSON answer. This module
reads those pieces out of the script text — no script is run — and names the API's page URLs.
What counts as a page, size or total parameter is data (``js_*`` rules of
``data/registry/discover_rules.csv``). Pure functions on text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_IDENT = r"[A-Za-z_$][\w$]*"
_STR = r"(?:\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
# name = 23  /  name: 23  /  "name": "23"
_NUMBER_BINDING = re.compile(rf"(?:\b({_IDENT})|[\"']({_IDENT})[\"'])\s*[:=]\s*[\"']?(\d{{1,9}})[\"']?(?![\w.])")
_ENDPOINT = re.compile(
    rf"(?:\burl\s*:\s*|(?:\$\.(?:ajax|get|getJSON)|\bfetch|\baxios(?:\.get)?|\.load)\(\s*)({_STR})")
_DATA_OBJECT = re.compile(r"\bdata\s*:\s*\{([^{}]{0,2000})\}")
_PAIR = re.compile(rf"(?:({_IDENT})|[\"']({_IDENT})[\"'])\s*:\s*({_STR}|-?\d+(?:\.\d+)?|{_IDENT}(?:\.{_IDENT})*)")
_CONCAT_TAIL = re.compile(rf"\s*\+\s*{_IDENT}(?:\.{_IDENT})*\s*(?:\+\s*({_STR}))?")
_SCRIPT_WINDOW = 1500  # how far after an endpoint its data object may stand


@dataclass(frozen=True)
class ParamRules:
    page: tuple[re.Pattern, ...]
    size: tuple[re.Pattern, ...]
    total_count: tuple[re.Pattern, ...]
    total_pages: tuple[re.Pattern, ...]

    @staticmethod
    def _is(pats: Iterable[re.Pattern], name: str) -> bool:
        return any(p.search(name) for p in pats)

    def is_page(self, name: str) -> bool:
        return self._is(self.page, name)

    def is_size(self, name: str) -> bool:
        return self._is(self.size, name)

    def is_total_count(self, name: str) -> bool:
        return self._is(self.total_count, name)

    def is_total_pages(self, name: str) -> bool:
        return self._is(self.total_pages, name)


@dataclass
class ApiPaging:
    """The page URLs of a script-paged listing; ``announced_pages`` when the listing says."""

    urls: list[str] = field(default_factory=list)
    announced_pages: int | None = None
    speculative: bool = False  # no count known: only the next page is named


def _unquote(lit: str) -> str:
    return lit[1:-1].replace("\\/", "/")


def _numbers(script: str) -> dict[str, int]:
    """Numeric variables and object keys of a script (the first value of each name)."""
    out: dict[str, int] = {}
    for m in _NUMBER_BINDING.finditer(script):
        name = m.group(1) or m.group(2)
        out.setdefault(name, int(m.group(3)))
    return out


def _first(numbers: dict[str, int], test: Callable[[str], bool]) -> int | None:
    return next((v for k, v in numbers.items() if test(k) and v > 0), None)


def _page_count(total_pages: int | None, total: int | None, size: int | None) -> int | None:
    if total_pages:
        return total_pages
    if total is not None and size:
        return max(1, math.ceil(total / size))
    return None


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))


def _pages(template: Callable[[int], str], start: int, count: int | None, limit: int) -> ApiPaging:
    """URLs of pages start.. (all of them when the count is known, else the next one only)."""
    if count is None:
        return ApiPaging([template(start), template(start + 1)], None, speculative=True)
    last = start + count - 1 if start == 0 else count
    return ApiPaging([template(n) for n in range(start, min(last, start + limit - 1) + 1)], count)


def script_api_pages(scripts: Iterable[str], base_url: str, rules: ParamRules, *, limit: int = 200) -> ApiPaging:
    """Page URLs of every listing API the scripts call with a page parameter, merged."""
    result = ApiPaging()
    for script in scripts:
        numbers = _numbers(script)
        size_default = _first(numbers, rules.is_size)
        count_total = _first(numbers, rules.is_total_count)
        count_pages = _first(numbers, rules.is_total_pages)
        for m in _ENDPOINT.finditer(script):
            endpoint = _unquote(m.group(1)).strip()
            if not endpoint or endpoint.startswith(("javascript:", "#")):
                continue
            found = _one_endpoint(script, m.end(), endpoint, base_url, rules, numbers, size_default,
                                  count_total, count_pages, limit)
            if found is None:
                continue
            for u in found.urls:
                if u not in result.urls:
                    result.urls.append(u)
            if found.announced_pages:
                result.announced_pages = max(result.announced_pages or 0, found.announced_pages)
            result.speculative = result.speculative or found.speculative
    return result


def _one_endpoint(script: str, end: int, endpoint: str, base_url: str, rules: ParamRules,
                  numbers: dict[str, int], size_default: int | None, count_total: int | None,
                  count_pages: int | None, limit: int) -> ApiPaging | None:
    # 1. "…?page=" + n + "&size=10": the page number is concatenated into the URL.
    query = endpoint.rpartition("?")[2] if "?" in endpoint else ""
    last_param = query.rsplit("&", 1)[-1]
    if endpoint.endswith("=") and rules.is_page(last_param[:-1]):
        tail = _CONCAT_TAIL.match(script, end)
        if tail is None:
            return None
        rest = _unquote(tail.group(1)) if tail.group(1) else ""
        absolute = urljoin(base_url, endpoint)
        q = dict(parse_qsl(rest.lstrip("&?"), keep_blank_values=True))
        size = next((int(v) for k, v in q.items() if rules.is_size(k) and v.isdigit()), size_default)
        count = _page_count(count_pages, count_total, size)
        return _pages(lambda n: f"{absolute}{n}{rest}", 1, count, limit)
    # 2. a data object beside the endpoint, or the page number already in the endpoint's query.
    absolute = urljoin(base_url, endpoint)
    static = [(k, v) for k, v in parse_qsl(urlsplit(absolute).query, keep_blank_values=True)]
    page_key: str | None = None
    start = 1
    size = size_default
    for i, (k, v) in enumerate(static):
        if rules.is_page(k) and v.isdigit():
            page_key, start = k, int(v)
            static[i] = (k, "{page}")
        elif rules.is_size(k) and v.isdigit():
            size = int(v)
    data = _DATA_OBJECT.search(script, end, end + _SCRIPT_WINDOW)
    if data is not None:
        for p in _PAIR.finditer(data.group(1)):
            key, raw = p.group(1) or p.group(2), p.group(3)
            value = _value(raw, numbers)
            if rules.is_page(key):
                page_key = key
                if value is not None and value.isdigit():
                    start = int(value)
                static.append((key, "{page}"))
            elif value is None:
                continue  # a value only the running script knows: leave the parameter out
            else:
                if rules.is_size(key) and value.isdigit():
                    size = int(value)
                static.append((key, value))
    if page_key is None:
        return None
    start = 0 if start == 0 else 1
    count = _page_count(count_pages, count_total, size)

    def template(n: int) -> str:
        return _with_query(absolute, [(k, str(n) if v == "{page}" else v) for k, v in static])

    return _pages(template, start, count, limit)


def _value(raw: str, numbers: dict[str, int]) -> str | None:
    if raw[:1] in "\"'":
        return _unquote(raw)
    if re.fullmatch(r"-?\d+(?:\.\d+)?", raw):
        return raw
    if raw in ("true", "false"):
        return raw
    n = numbers.get(raw.rsplit(".", 1)[-1])
    return str(n) if n is not None else None


def json_next_pages(data: Any, url: str, items_on_page: int, rules: ParamRules, *, limit: int = 200) -> ApiPaging:
    """Further pages of a paged JSON listing API, from its URL's page parameter and the answer's
    total count (or page count); without a count, the next page while pages are not empty."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    idx = next((i for i, (k, v) in enumerate(params) if rules.is_page(k) and v.isdigit()), None)
    if idx is None:
        return ApiPaging()
    current = int(params[idx][1])
    size = next((int(v) for k, v in params if rules.is_size(k) and v.isdigit()), None)
    numbers: dict[str, int] = {}
    _json_numbers(data, numbers, depth=0)
    # The items on the page tell the page size only on the first page (a last page is short).
    size = size or _first(numbers, rules.is_size) or (items_on_page if current <= 1 and items_on_page else None)
    count = _page_count(_first(numbers, rules.is_total_pages), _first(numbers, rules.is_total_count), size)

    def template(n: int) -> str:
        q = list(params)
        q[idx] = (q[idx][0], str(n))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(q), ""))

    if count is None:
        return ApiPaging([template(current + 1)] if items_on_page else [], None, speculative=True)
    last = count - 1 if current == 0 and params[idx][1] == "0" else count
    return ApiPaging([template(n) for n in range(current + 1, min(last, current + limit) + 1)], count)


def _json_numbers(obj: Any, out: dict[str, int], depth: int) -> None:
    """Integer fields of the answer's top levels (``total``, ``data.total``, ``page.pageSize``)."""
    if depth > 2 or not isinstance(obj, dict):
        return
    for k, v in obj.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit() and len(v) < 10):
            out.setdefault(str(k), int(v))
    for v in obj.values():
        if isinstance(v, dict):
            _json_numbers(v, out, depth + 1)
