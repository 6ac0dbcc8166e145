"""Tables and text of a .docx report, read from the WordprocessingML itself.

python-docx's ``row.cells`` repeats a merged cell into every position it covers, which would
duplicate numbers; the grid here is built from ``w:gridSpan`` / ``w:vMerge`` / ``w:gridBefore``
directly: the top-left position keeps the text, covered positions are None.
"""

from __future__ import annotations

import io
import zipfile

from docx import Document
from docx.oxml.ns import qn

from ogi.core import limits
from ogi.core.config import EXTRACTOR_VERSION
from ogi.core.models import ExtractedDocument, ExtractionError, RawTable
from ogi.core.textcodec import INVISIBLE_CHARS
from ogi.extract.budget import check_zip

DOCX_EXTRACTOR = f"docx:{EXTRACTOR_VERSION}"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_MAX_SPAN = 1000  # the HTML cap on colspan; a span beyond is an authoring error or an attack

_W_TBL, _W_TR, _W_TC, _W_P, _W_SDT = qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:p"), qn("w:sdt")
_W_SDT_CONTENT, _W_CUSTOM_XML = qn("w:sdtContent"), qn("w:customXml")
_W_T, _W_TAB, _W_BR, _W_CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_W_TXBX, _W_DEL = qn("w:txbxContent"), qn("w:del")
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# properties (pPr holds tab-stop definitions also named w:tab), deleted text, text boxes
_NOT_TEXT = frozenset({qn("w:pPr"), qn("w:rPr"), _W_DEL, _W_TXBX, _MC_FALLBACK, _W_P})


def extract_docx(data: bytes, *, sha256: str) -> ExtractedDocument:
    """Every table of the document (nested ones included, in document order) and its text."""
    check_zip(data, ".docx")
    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionError(f"not a readable .docx file: {exc}") from exc
    except Exception as exc:  # python-docx raises PackageNotFoundError and lxml errors on bad parts
        raise ExtractionError(f"not a readable .docx file: {type(exc).__name__}: {exc}") from exc
    body = document.element.body
    tables: list[RawTable] = []
    for tbl in body.iter(_W_TBL):
        if _in_fallback(tbl):  # mc:Fallback repeats the mc:Choice content (text boxes)
            continue
        grid = table_grid(tbl, what=f"table {len(tables) + 1}")
        if grid:
            tables.append(RawTable(index=len(tables), rows=grid, method="docx"))
            limits.check_tables(len(tables))
    return ExtractedDocument(
        sha256=sha256,
        media_type=DOCX_MEDIA_TYPE,
        tables=tables,
        text="\n".join(_block_lines(body)),
        extractor=DOCX_EXTRACTOR,
    )


def _in_fallback(el) -> bool:
    return any(a.tag == _MC_FALLBACK for a in el.iterancestors())


def _children(el, tag: str):
    """Direct children with the tag, looking through content controls and custom XML wrappers."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in (_W_SDT_CONTENT, _W_CUSTOM_XML):
            yield from _children(child, tag)
        elif child.tag == _W_SDT:
            content = child.find(_W_SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)


def _val(el, path: str) -> str | None:
    found = el.find(path)
    return None if found is None else found.get(qn("w:val"))


def _int_val(el, path: str, default: int) -> int:
    value = _val(el, path)
    try:
        return max(int(value), 0) if value is not None else default
    except ValueError:
        return default


def table_grid(tbl, what: str = "table") -> list[list[str | None]]:
    """The cell grid of one w:tbl, merges expanded with None (vertical merges included).

    Spans are clamped as browsers clamp colspan (Word itself allows at most 63 grid columns), and
    the grid the spans expand to is checked against the table-size limit row by row, before it is
    built."""
    placed: dict[tuple[int, int], str | None] = {}
    width = 0
    rows = list(_children(tbl, _W_TR))
    for r, tr in enumerate(rows):
        c = min(_int_val(tr, f"{qn('w:trPr')}/{qn('w:gridBefore')}", 0), _MAX_SPAN)
        for tc in _children(tr, _W_TC):
            span = min(max(_int_val(tc, f"{qn('w:tcPr')}/{qn('w:gridSpan')}", 1), 1), _MAX_SPAN)
            limits.check_cells(max(width, c + span) * len(rows), what)
            vmerge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            continues = vmerge is not None and vmerge.get(qn("w:val"), "continue") == "continue"
            # a continuation only counts when a cell above it exists at that position
            if continues and r > 0 and (r - 1, c) in placed:
                for dc in range(span):
                    placed[(r, c + dc)] = None
            else:
                placed[(r, c)] = cell_text(tc)
                for dc in range(1, span):
                    placed[(r, c + dc)] = None
            c += span
        width = max(width, c)
    return [[placed.get((r, c), "") for c in range(width)] for r in range(len(rows))]


def cell_text(tc) -> str:
    """The paragraphs directly in a cell (not those of a nested table), joined by newlines."""
    lines = [_paragraph_text(p) for p in _children(tc, _W_P)]
    return "\n".join(line for line in lines if line)


def _paragraph_text(p) -> str:
    """A paragraph's text including runs inside hyperlinks, tracked insertions, smart tags and
    inline content controls (python-docx's ``Paragraph.text`` skips some of these); deleted text,
    field codes and text boxes (read as their own paragraphs/tables) are left out."""
    parts: list[str] = []
    _collect_run_text(p, parts)
    text = "".join(parts).translate(INVISIBLE_CHARS)
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def _collect_run_text(el, parts: list[str]) -> None:
    for child in el:
        tag = child.tag
        if tag == _W_T:
            parts.append(child.text or "")
        elif tag == _W_TAB:
            parts.append("\t")
        elif tag in (_W_BR, _W_CR):
            parts.append("\n")
        elif tag in _NOT_TEXT:
            continue
        elif len(child):
            _collect_run_text(child, parts)


def _block_lines(container) -> list[str]:
    """The document's text in reading order: paragraphs, and table rows as tab-joined cells."""
    lines: list[str] = []
    for child in container:
        if child.tag == _W_P:
            text = _paragraph_text(child)
            if text:
                lines.append(text)
        elif child.tag == _W_TBL:
            for tr in _children(child, _W_TR):
                cells = []
                for tc in _children(tr, _W_TC):
                    inner = _block_lines(tc)
                    cells.append(" ".join(inner))
                row = "\t".join(cells).strip()
                if row:
                    lines.append(row)
        elif child.tag in (_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML):
            lines.extend(_block_lines(child))
    return lines
