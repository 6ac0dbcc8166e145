"""Find report links, next listing pages and attachments in portal pages. Pure functions on text.

What counts as a report title, a pagination link or an attachment is data
(``data/registry/discover_rules.csv``); this module only applies it. Listings come as HTML (TRS/WCM
``<ul class="list">``, tables, …), as JSON, or as HTML inside escaped JavaScript strings; all three
are read.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import lxml.html

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.core.jsstrings import unescape_js_string
from ogi.fetch.listing_api import ParamRules, json_next_pages, script_api_pages

RULES_CSV = DATA_DIR / "registry" / "discover_rules.csv"
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" "9")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d\d|[〇○零一二][〇○零一二三四五六七八九]{3})\s*年")
_YEAR_IN_URL = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:nd|nb|ndbg|年)", re.I)
_DATE = re.compile(r"((?:19|20)\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"]"
)


_RULE_KINDS = {"report_title", "not_report", "next_page_text", "page_href", "attachment_ext",
               "scope_summary", "scope_own", "js_page_param", "js_size_param", "js_total_count",
               "js_total_pages"}
# Pages named at once from one listing's pager or API (the crawler's page cap applies after).
_PAGER_LIMIT = 500


@dataclass
class ReportLink:
    url: str
    title: str
    report_year: int | None
    scope: str | None  # 本机关 / 本级政府汇总 / None (the title does not say)
    published: str | None = None  # YYYY-MM-DD shown beside the link, when any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Listing:
    reports: list[ReportLink] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    announced_pages: int | None = None  # how many pages the listing says it has, when it says
    speculative: bool = False  # next_pages guessed (an API page without a count): follow while new

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Attachment:
    url: str
    filename: str
    media_type: str | None  # a hint from the extension; the bytes decide later

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Rules:
    report_title: tuple[re.Pattern, ...]
    not_report: tuple[re.Pattern, ...]
    next_page_text: tuple[re.Pattern, ...]
    page_href: tuple[re.Pattern, ...]
    attachment_ext: dict[str, str]
    scope: tuple[tuple[re.Pattern, str], ...]  # first match wins
    params: ParamRules  # listing API parameters (page, size, totals)


@lru_cache(maxsize=4)
def load_rules(path: Path | Traversable = RULES_CSV) -> _Rules:
    """Read the discovery rules; a bad regex is reported with its file and line."""
    groups: dict[str, list[dict[str, Any]]] = {}
    with open_text(Path(path) if isinstance(path, str) else path) as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            if None in row or row.get("rule") not in _RULE_KINDS or not row.get("pattern"):
                raise ValueError(f"{path}:{lineno}: malformed rule row {row!r} "
                                 "(unknown rule, empty pattern, or an unquoted comma in the pattern)")
            try:
                if row["rule"] != "attachment_ext":
                    row["_re"] = re.compile(row["pattern"], re.I)
            except re.error as e:
                raise ValueError(f"{path}:{lineno}: bad pattern {row['pattern']!r}: {e}") from e
            groups.setdefault(row["rule"], []).append(row)

    def pats(rule: str) -> tuple[re.Pattern, ...]:
        return tuple(r["_re"] for r in groups.get(rule, []))

    scope = tuple((r["_re"], r["value"]) for rule in ("scope_own", "scope_summary") for r in groups.get(rule, []))
    return _Rules(
        report_title=pats("report_title"), not_report=pats("not_report"),
        next_page_text=pats("next_page_text"), page_href=pats("page_href"),
        attachment_ext={r["pattern"].lower(): r["value"] for r in groups.get("attachment_ext", [])},
        scope=scope,
        params=ParamRules(page=pats("js_page_param"), size=pats("js_size_param"),
                          total_count=pats("js_total_count"), total_pages=pats("js_total_pages")),
    )


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", "", (text or "").replace("\xa0", " ")).strip()


def is_report_title(title: str) -> bool:
    rules = load_rules()
    t = _clean(title)
    if any(p.search(t) for p in rules.not_report):
        return False
    return any(p.search(t) for p in rules.report_title)


def year_of(title: str, url: str = "") -> int | None:
    """The report year: the year the title names (first one), else a year the URL marks as such."""
    m = _YEAR_IN_TITLE.search(_clean(title))
    if m:
        y = int(m.group(1).translate(_CN_DIGITS))
        if 1990 <= y <= 2100:
            return y
    m = _YEAR_IN_URL.search(unquote(url))
    return int(m.group(1)) if m else None


def scope_of(title: str) -> str | None:
    t = _clean(title)
    for pat, value in load_rules().scope:
        if pat.search(t):
            return value
    return None


def _unescape_js(text: str) -> str:
    """HTML that sits in a JavaScript string (\\" \\/ \\n and \\u escapes): the same unescaping the
    extractor applies to such pages (``extract.html_tables.unescape_js_string``)."""
    if "\\\"" not in text and "\\/" not in text and "\\u" not in text:
        return text
    return unescape_js_string(text)


def _parse_html(text: str):
    try:
        return lxml.html.document_fromstring(text or "<html></html>")
    except (ValueError, lxml.etree.ParserError):
        return lxml.html.document_fromstring("<html></html>")


def _anchor_title(a) -> str:
    """Portals truncate link text ("…年度报..."); the title attribute keeps the full title."""
    text = _clean(a.text_content())
    attr = _clean(a.get("title"))
    return attr if len(attr) > len(text.rstrip(".…")) else text


def _nearby_date(a) -> str | None:
    """A date printed in the same list item / table row as the link."""
    node = a
    for _ in range(3):
        node = node.getparent()
        if node is None:
            break
        if node.tag in {"li", "tr", "dd", "dl", "div", "p"}:
            m = _DATE.search(node.text_content())
            if m:
                return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            if node.tag in {"li", "tr"}:
                break
    return None


def _json_items(obj: Any) -> list[tuple[str, str, str | None]]:
    """(title, url, date) of every object in a JSON listing that has a title-like and a url-like key."""
    out: list[tuple[str, str, str | None]] = []
    if isinstance(obj, dict):
        low = {str(k).lower(): v for k, v in obj.items()}
        title = next((low[k] for k in ("title", "doctitle", "name", "biaoti", "subject") if isinstance(low.get(k), str)), None)
        url = next((low[k] for k in ("url", "docpuburl", "link", "href", "puburl", "path") if isinstance(low.get(k), str)), None)
        date = next((low[k] for k in ("pubdate", "docreltime", "publishdate", "date", "time", "createtime")
                     if isinstance(low.get(k), str)), None)
        if title and url:
            out.append((title, url, date))
        for v in obj.values():
            out.extend(_json_items(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(_json_items(v))
    return out


def _report_link(title: str, href: str, base_url: str, published: str | None) -> ReportLink | None:
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return None
    if not is_report_title(title):
        return None
    url = urljoin(base_url, href.strip())
    return ReportLink(url=url, title=title, report_year=year_of(title, url), scope=scope_of(title), published=published)


def parse_listing(html: str, base_url: str) -> Listing:
    """Report links and further listing pages of one listing page (HTML, JSON or JS-wrapped HTML)."""
    rules = load_rules()
    reports: dict[str, ReportLink] = {}
    pages: list[str] = []

    def add_page(url: str) -> None:
        url = url.split("#")[0]
        if url and url != base_url and url not in pages:
            pages.append(url)

    stripped = html.lstrip()
    if stripped[:1] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if data is not None:
            items = _json_items(data)
            for title, href, date in items:
                link = _report_link(_clean(title), href, base_url, date[:10] if date else None)
                if link and link.url not in reports:
                    reports[link.url] = link
            paging = json_next_pages(data, base_url, len(items), rules.params, limit=_PAGER_LIMIT)
            for u in paging.urls:
                add_page(u)
            return Listing(reports=list(reports.values()), next_pages=pages,
                           announced_pages=paging.announced_pages, speculative=paging.speculative)

    text = _unescape_js(html)
    doc = _parse_html(text)
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        title = _anchor_title(a)
        link = _report_link(title, href, base_url, None)
        if link is not None:
            link.published = _nearby_date(a)
            if link.url not in reports:
                reports[link.url] = link
            continue
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        label = _clean(a.text_content())
        target = urljoin(base_url, href)
        # A pager link: "下一页"-like text, or a short label (page number, 尾页) on a paging URL.
        if any(p.search(label) for p in rules.next_page_text) or (
            len(label) <= 4 and any(p.search(target) for p in rules.page_href)
        ):
            add_page(target)
    announced: int | None = None
    # TRS/WCM: createPageHTML(pageCount, currentPage, "index", "html") writes the pager at run time.
    for m in _CREATE_PAGE.finditer(text):
        count, current, prefix, suffix = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        announced = max(announced or 0, count)
        for n in range(current + 1, min(count, current + _PAGER_LIMIT)):
            add_page(urljoin(base_url, f"{prefix}_{n}.{suffix}"))
    # Pages only a script fetches: the listing API it calls with a page number.
    scripts = [s.text for s in doc.iter("script") if s.text and not s.get("src")]
    if "<" not in text[:200]:  # the listing itself is a script
        scripts.append(text)
    paging = script_api_pages(scripts, base_url, rules.params, limit=_PAGER_LIMIT)
    for u in paging.urls:
        add_page(u)
    if paging.announced_pages:
        announced = max(announced or 0, paging.announced_pages)
    return Listing(reports=list(reports.values()), next_pages=pages, announced_pages=announced,
                   speculative=paging.speculative and not paging.announced_pages)


def _ext_of(name: str) -> str:
    name = unquote(name).split("?")[0].split("#")[0].rstrip()
    return name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


def parse_report_page(html: str, base_url: str) -> list[Attachment]:
    """Attachments linked from a report's article page (PDF/Word/WPS/Excel/OFD).

    A link counts when its href, its ``file=`` parameter (PDF viewers), its text or its title ends
    with a known extension, so a download endpoint whose text is the filename is found too.
    """
    exts = load_rules().attachment_ext
    found: dict[str, Attachment] = {}
    doc = _parse_html(_unescape_js(html))
    for el in doc.iter("a", "iframe", "embed", "object"):
        href = (el.get("href") or el.get("src") or el.get("data") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urljoin(base_url, href)
        query = parse_qs(urlsplit(url).query)
        inner = next((v[0] for k, v in query.items() if k.lower() in {"file", "filepath", "url"} and v), None)
        label = _clean(el.text_content()) if el.tag == "a" else ""
        candidates = [
            (url, urlsplit(url).path),
            *([(urljoin(url, inner), inner)] if inner else []),
            (url, label),
            (url, _clean(el.get("title"))),
            (url, _clean(el.get("download"))),
        ]
        for target, name in candidates:
            ext = _ext_of(name) if name else ""
            if ext in exts:
                filename = unquote(name.rsplit("/", 1)[-1]) if name else ""
                filename = re.sub(r"^(附件\d*[:：]?)", "", filename) or unquote(urlsplit(target).path.rsplit("/", 1)[-1])
                if target not in found:
                    found[target] = Attachment(url=target, filename=filename, media_type=exts[ext])
                break
    return list(found.values())
