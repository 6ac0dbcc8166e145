"""Tables and visible text of an HTML report page, or of a JS/JSON file carrying its HTML.

Merged cells are expanded here by hand (not with pandas.read_html, which repeats a merged value
into every covered position and so would duplicate numbers): the top-left position keeps the text,
covered positions are None. Portals wrap content in layout tables, so only leaf tables (tables
holding no table) are emitted. Some portals deliver the report as an escaped string literal inside
a script; such strings are unescaped and parsed as the document.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape

from lxml import etree, html

from ogi.core import limits
from ogi.core.config import EXTRACTOR_VERSION
from ogi.core.jsstrings import js_string_literals, unescape_js_string
from ogi.core.models import ExtractedDocument, ExtractionError, RawTable
from ogi.core.textcodec import INVISIBLE_CHARS, MIXED_CODEC, decode_html_bytes, drop_control_bytes
from ogi.extract.markdown_tables import has_markdown_tables, markdown_tables

HTML_EXTRACTOR = f"html:{EXTRACTOR_VERSION}"

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "title",
        "select",
        "iframe",
        "object",
        "svg",
        "button",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "caption", "section", "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre",
        "form", "fieldset", "address", "center", "hr", "figure", "figcaption",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"\s+")
_SPACES = re.compile(r" {2,}")
_TAB_RUN = re.compile(r" ?\t[ \t]*")
_MARKUP = re.compile(r"<\s*(?:table|tr|td|th|p|div|span|br|h[1-6]|ul|li|font|strong|b)\b", re.I)
_DOC_MARKERS = re.compile(r"<\s*(?:html|body|head|!doctype)\b", re.I)
_TABLE_TAG = re.compile(r"<\s*table\b", re.I)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_FROM_SCRIPT = "from HTML inside a script string literal"
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ESCAPED_TABLE = re.compile(r"<\s*table\b[^>]{0,2000}?\\[\"']", re.I)
# browsers clamp colspan to 1000 and rowspan to 65534 (HTML standard); the table-size limit bounds
# what the clamped spans may expand to
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534


def extract_html(data: bytes, *, sha256: str, declared_charset: str | None = None) -> ExtractedDocument:
    """Leaf tables and visible text of an HTML page (or of the report HTML inside a JS/JSON file).

    A page without tables is not an error: it comes back with ``tables=[]`` for the transform
    stage to judge.
    """
    if not data or not data.strip():
        raise ExtractionError("empty HTML document")
    warnings: list[str] = []
    data, nuls, controls = drop_control_bytes(data)
    if nuls or controls:
        dropped = [f"{nuls} NUL bytes" if nuls else "", f"{controls} control characters" if controls else ""]
        warnings.append(f"dropped {' and '.join(d for d in dropped if d)} (never page content)")
    text, encoding = decode_html_bytes(data, declared_charset)
    if "with replacements" in encoding:
        warnings.append("page is neither valid UTF-8 nor GB18030: undecodable bytes were replaced")
    elif encoding.startswith(MIXED_CODEC):
        warnings.append(f"page mixes UTF-8 and GB18030: decoded piece by piece, {encoding.split('(', 1)[-1][:-1]}")

    if has_markdown_tables(text):  # a PDF converter's Markdown: pipe tables or HTML fragments
        tables, plain = markdown_tables(text, lambda fragment: leaf_table_grids(_parse(fragment)))
        return _document(tables, sha256, "text/markdown", plain.strip(), warnings)
    if _is_script_payload(text):
        fragments = html_fragments_in_script(text)
        if not fragments:
            # plain text served as a page, or a script without report HTML: keep the text as is
            warnings.append("not HTML, and no HTML in string literals: read as plain text")
            return _document([], sha256, "text/plain", text.strip(), warnings)
        root = _parse("\n".join(fragments))
        return _document(
            _tables(root, _FROM_SCRIPT), sha256, "application/javascript", visible_text(root), warnings
        )

    root = _parse(text)
    tables = _tables(root, "")
    page_text = visible_text(root)
    if not any(_holds_numbers(t.rows) for t in tables):
        # the page may be a shell (maybe with layout/navigation tables) that writes the report
        # from a script string
        scripts = "\n".join(s.text or "" for s in root.iter("script"))
        fragments = html_fragments_in_script(scripts)
        if any(_TABLE_TAG.search(f) for f in fragments):  # pieces may be written one by one
            inner = _parse("\n".join(fragments))
            script_tables = _tables(inner, _FROM_SCRIPT)
            if script_tables:
                warnings.append("data tables were found only inside <script> string literals")
                tables = [
                    RawTable(index=i, rows=t.rows, method=t.method, note=t.note)
                    for i, t in enumerate([*tables, *script_tables])
                ]
                page_text = "\n".join(t for t in (page_text, visible_text(inner)) if t)
    return _document(tables, sha256, "text/html", page_text, warnings)


def _holds_numbers(grid: list[list[str | None]]) -> bool:
    """Whether a grid has a cell that is a bare number, as report tables do and menus do not."""
    return any(cell and _NUMBER.fullmatch(cell) for row in grid for cell in row)


def _tables(root: etree._Element, note: str) -> list[RawTable]:
    return [
        RawTable(index=i, rows=grid, method="html", note=note)
        for i, grid in enumerate(leaf_table_grids(root))
    ]


def _document(
    tables: list[RawTable], sha256: str, media_type: str, text: str, warnings: list[str]
) -> ExtractedDocument:
    return ExtractedDocument(
        sha256=sha256,
        media_type=media_type,
        tables=tables,
        text=text,
        extractor=HTML_EXTRACTOR,
        warnings=warnings,
    )


def _parse(text: str) -> etree._Element:
    text = _XML_DECL.sub("", text, count=1)  # lxml refuses str input that declares an encoding
    if not text.strip():
        raise ExtractionError("HTML document has no content")
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"HTML cannot be parsed: {exc}") from exc
    if root is None:
        raise ExtractionError("HTML cannot be parsed: no document element")
    _check_depth(root)
    return root


def _check_depth(root: etree._Element) -> None:
    """Elements may not nest deeper than the limit. libxml2 stops nesting at a depth of its own
    and moves what lies deeper elsewhere, so past it the tree no longer says where content was."""
    limit = limits.current().max_depth
    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    if deepest > limit:
        raise limits.LimitExceeded("HTML", f"nests elements {deepest:,} deep", "max_depth", f"{limit:,}")


def _is_script_payload(text: str) -> bool:
    """A JS or JSON file (not an HTML page) whose strings may carry the report's HTML."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return False
    # (the attribute run is bounded: unbounded, each "<table" without a ">" would rescan the rest)
    return not _DOC_MARKERS.search(text[:5000]) or bool(_ESCAPED_TABLE.search(text))


# ------------------------------------------------------------------ tables


def leaf_table_grids(root: etree._Element) -> list[list[list[str | None]]]:
    """The grids of the document's leaf tables in document order, wrappers dropped.

    A table holding another table is layout; a leaf table with at most one non-empty cell is a
    box around content, not data. The number of leaf tables and each one's expanded size are
    checked against the document's limits before grids are built.
    """
    leaves = [t for t in root.iter("table") if not t.xpath(".//table")]
    limits.check_tables(len(leaves))
    grids = []
    for i, table in enumerate(leaves):
        grid = table_grid(table, what=f"table {i + 1}")
        filled = sum(1 for row in grid for cell in row if cell)
        if filled >= 2:
            grids.append(grid)
    return grids


def table_grid(table: etree._Element, what: str = "table") -> list[list[str | None]]:
    """The rectangular cell grid of one <table>, rowspan/colspan expanded with None.

    Before a cell's span is expanded, the positions placed so far plus its span, and the grid's
    width times its rows, are checked against the table-size limit (a few kilobytes of colspans
    expand to hundreds of millions of cells)."""
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    n_rows = len(rows)
    widest = max((sum(_span(td.get("colspan")) for td in tr if isinstance(td.tag, str) and td.tag in _CELL_TAGS)
                  for tr in rows), default=0)
    limits.check_cells(n_rows * widest, what)  # the grid's size, named before anything is expanded
    placed: dict[tuple[int, int], str | None] = {}
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in _CELL_TAGS:
                continue
            while (r, c) in placed:
                c += 1
            colspan = _span(td.get("colspan"), cap=_MAX_COLSPAN)
            rowspan = _span(td.get("rowspan"), zero_means=n_rows - r, cap=_MAX_ROWSPAN)
            rowspan = min(rowspan, n_rows - r)  # browsers clamp a span to the rows that exist
            limits.check_cells(max(len(placed) + rowspan * colspan, max(width, c + colspan) * n_rows), what)
            for dr in range(rowspan):
                for dc in range(colspan):
                    placed.setdefault((r + dr, c + dc), None)
            placed[(r, c)] = cell_text(td)
            c += colspan
            width = max(width, c)
    # positions no cell reaches (short rows) are empty, not covered
    return [[placed.get((r, c), "") for c in range(width)] for r in range(n_rows)]


def _span(value: str | None, zero_means: int = 1, cap: int = _MAX_COLSPAN) -> int:
    m = re.match(r"\s*(\d{1,9})", value or "")
    if not m:
        return 1
    n = int(m.group(1))
    if n == 0:
        return max(1, zero_means)
    return min(n, cap)


def cell_text(cell: etree._Element) -> str:
    """A cell's text: nested markup flattened, <br/> and paragraphs as "\\n", blanks as ""."""
    return _render(cell, cell_sep=" ")


# ------------------------------------------------------------------ text


def visible_text(root: etree._Element) -> str:
    """The page's visible text, one block (paragraph, table row) per line, cells tab-separated."""
    title = root.find(".//title")
    body = root.find("body")
    parts = []
    if title is not None and title.text and title.text.strip():
        parts.append(_WS.sub(" ", title.text).strip())
    rendered = _render(body if body is not None else root, cell_sep="\t")
    if rendered:
        parts.append(rendered)
    return "\n".join(parts)


def _hidden(el: etree._Element) -> bool:
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style") or ""))


def _render(root: etree._Element, *, cell_sep: str) -> str:
    """The text under ``root``; past the cell-length limit (a cell) or the text limit (the page),
    LimitExceeded before the whitespace of megabytes is normalized."""
    lim = limits.current()
    is_cell = root.tag in _CELL_TAGS
    budget = lim.max_cell_chars if is_cell else lim.max_text_chars
    parts: list[str] = []
    skipped: set[etree._Element] = set()
    walker = etree.iterwalk(root, events=("start", "end"))
    raw = 0
    for event, el in walker:
        raw += len(el.text or "") if event == "start" else len(el.tail or "")
        if raw > 2 * budget + 1000:  # (whitespace runs collapse: allow for them)
            what, name = ("table cell", "max_cell_chars") if is_cell else ("page text", "max_text_chars")
            raise limits.LimitExceeded(what, f"holds over {limits.count(raw)} characters", name,
                                       limits.count(budget))
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start":
            if tag is None or tag in _SKIP_TAGS or (el is not root and _hidden(el)):
                skipped.add(el)
                walker.skip_subtree()
                continue
            if tag == "br" or tag in _BLOCK_TAGS:
                parts.append("\n")
            elif tag in _CELL_TAGS and el is not root:
                parts.append(cell_sep)
            if el.text:
                parts.append(_WS.sub(" ", el.text))
        else:
            if el not in skipped and tag in _BLOCK_TAGS:
                parts.append("\n")
            if el is not root and el.tail:
                parts.append(_WS.sub(" ", el.tail))
    lines = []
    for line in "".join(parts).translate(INVISIBLE_CHARS).split("\n"):
        line = _SPACES.sub(" ", line)  # first: " *\\t" retried at each space of a long run is quadratic
        line = _TAB_RUN.sub("\t", line).strip(" \t")
        if line:
            lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ HTML inside script strings

def html_fragments_in_script(source: str) -> list[str]:
    """The unescaped string literals of a script that carry HTML markup, in order."""
    fragments = []
    for body in js_string_literals(source):
        value = unescape_js_string(body)
        if not _MARKUP.search(value) and "&lt;" in value:
            value = html_unescape(value)  # some CMS APIs return the content HTML-escaped as well
        if _MARKUP.search(value):
            fragments.append(value)
    return fragments
