"""Tables of a report that reaches us as Markdown, the output of PDF-to-Markdown converters.

Converters write a PDF's tables in one of two ways: GitHub pipe tables (marker, docling, pandoc)
or HTML ``<table>`` fragments inside the Markdown (MinerU). Both are read into grids here; the
text around them is kept for the transform stage (version, year, prose checks).

Pipe tables cannot say a cell is merged. Converters either leave the covered cells empty (marker)
or repeat the merged cell's text into every cell it covers (docling). Repeated *labels* are folded
back into one merged cell — in the label columns, a cell equal to its left neighbour or to the one
above it becomes a covered cell (None) — so one label is not read as many rows. Numbers and value
placeholders ("/", "—", "无") are never folded: two equal counts side by side are two counts.
A row the converter cut in two (a label wrapped over two lines becomes two rows, its numbers on
one of them) is left as two rows: the transform stage joins such fragments by the template's
labels, which this stage does not know.
"""

from __future__ import annotations

import re

from ogi.core.models import RawTable

METHOD = "markdown"
_SEPARATOR_CELL = re.compile(r"^\s*:?-{3,}:?\s*$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_HTML_TABLE = re.compile(r"<table\b.*?</table\s*>", re.I | re.S)
_BREAK = re.compile(r"<br\s*/?>", re.I)
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_NUMBERISH = re.compile(r"^[-+]?[\d.,，]+\s*(万元|元|件|项|%)?$")
_PLACEHOLDERS = {"/", "-", "—", "——", "－", "无"}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_MIN_PIPE_LINES = 3  # header, separator, one row


def has_markdown_tables(text: str) -> bool:
    """Whether ``text`` is Markdown with tables: a pipe table (a header row over a ``|---|`` row),
    or HTML table fragments between Markdown headings. An HTML page or a script is not."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return False  # an HTML page (or fragment) is the HTML reader's
    if _HTML_TABLE.search(text) and _HEADING.search(text):
        return True  # MinerU: Markdown headings, tables as HTML fragments
    lines = text.splitlines()
    return any(_is_separator(line) and i > 0 and _PIPE_ROW.match(lines[i - 1]) for i, line in enumerate(lines))


def _is_separator(line: str) -> bool:
    if not _PIPE_ROW.match(line):
        return False
    cells = _split_row(line)
    return bool(cells) and all(_SEPARATOR_CELL.match(c) for c in cells)


def _split_row(line: str) -> list[str]:
    """The cells of one pipe-table row; ``\\|`` is a literal bar."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [_clean(c.replace("\\|", "|")) for c in cells]


def _clean(cell: str) -> str:
    cell = _BREAK.sub("\n", cell)
    cell = _EMPHASIS.sub(r"\2", cell)
    return cell.replace("\u3000", " ").strip()


def _is_word(cell: str | None) -> bool:
    """A cell of words (a label or heading), which a converter may have repeated over a span."""
    if not cell:
        return False
    text = cell.replace(" ", "")
    return text not in _PLACEHOLDERS and not _NUMBERISH.match(text)


def fold_repeats(rows: list[list[str]]) -> list[list[str | None]]:
    """Repeated words in the label columns (left of the first number of any row) back into merged
    cells: a label equal to its left neighbour, or to the label above it, becomes a covered cell
    (None). Header cells right of them are left as they are: equal neighbours there are as often
    two columns whose labels wrap alike (结果 / 维持 beside 结果 / 纠正) as one label repeated
    over its span, and the transform stage reads a repeated group label as no column anyway."""
    grid: list[list[str | None]] = [list(r) for r in rows]
    firsts = [next(j for j, c in enumerate(r) if c and not _is_word(c)) for r in rows
              if any(c and not _is_word(c) for c in r)]
    label_cols = min(firsts, default=0)
    for i, r in enumerate(rows):
        for j in range(min(label_cols, len(r)) - 1, 0, -1):
            if _is_word(r[j]) and r[j] == r[j - 1]:
                grid[i][j] = None
    for j in range(label_cols):
        for i in range(len(grid) - 1, 0, -1):
            if j < len(rows[i]) and j < len(rows[i - 1]) and _is_word(rows[i][j]) and rows[i][j] == rows[i - 1][j]:
                grid[i][j] = None
    return grid


def pipe_tables(text: str) -> list[tuple[int, list[list[str | None]]]]:
    """(start offset, grid) of every pipe table in ``text``, separator rows dropped."""
    out = []
    lines = text.splitlines(keepends=True)
    offset = 0
    i = 0
    starts = []
    for line in lines:
        starts.append(offset)
        offset += len(line)
    while i < len(lines):
        if not _PIPE_ROW.match(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and _PIPE_ROW.match(lines[j]):
            j += 1
        block = lines[i:j]
        if len(block) >= _MIN_PIPE_LINES and any(_is_separator(b) for b in block[:3]):
            rows = [_split_row(b) for b in block if not _is_separator(b)]
            width = max(len(r) for r in rows)
            rows = [r + [""] * (width - len(r)) for r in rows]
            out.append((starts[i], fold_repeats(rows)))
        i = j
    return out


def markdown_tables(text: str, html_grids) -> tuple[list[RawTable], str]:
    """The document's tables in document order (pipe tables and HTML fragments, the latter read
    by ``html_grids(fragment) -> grids``) and its text with the table markup turned into rows of
    tab-separated cells and headings' ``#`` dropped."""
    found: list[tuple[int, list[list[str | None]]]] = list(pipe_tables(text))
    for m in _HTML_TABLE.finditer(text):
        found.extend((m.start(), g) for g in html_grids(m.group(0)))
    found.sort(key=lambda f: f[0])
    tables = [RawTable(index=i, rows=grid, method=METHOD) for i, (_, grid) in enumerate(found)]

    def rows_text(grid: list[list[str | None]]) -> str:
        return "\n".join("\t".join(c for c in r if c) for r in grid)

    plain = _HTML_TABLE.sub(lambda m: "\n" + "\n".join(rows_text(g) for g in html_grids(m.group(0))) + "\n", text)
    plain = "\n".join("\t".join(c for c in _split_row(line) if c) if _PIPE_ROW.match(line) else line
                      for line in plain.splitlines() if not _is_separator(line))
    plain = _EMPHASIS.sub(r"\2", _HEADING.sub("", plain))
    return tables, plain
