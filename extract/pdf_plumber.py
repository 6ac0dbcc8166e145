"""A second, independent reader of a PDF's ruled tables: pdfplumber's ``find_tables``.

Camelot (vector lattice) and pdfplumber read the same ruling lines with separate code: pdfplumber
snaps and joins the drawn edges itself and assigns characters to cells by pdfminer's layout, so
where Camelot misregisters a LibreOffice export (narrow cells whose text overflows the rule, rows
glued across a boundary) pdfplumber usually reads the rows right, and vice versa. Two readers that
agree cell by cell are evidence; two that disagree are a signal the transform stage arbitrates by
the identities and the row order (``transform.arbitrate``). It is slower (pdfminer lays out every
page: ~0.3–0.5 s a page), so the pipeline asks for it only when the first reading is in doubt.
"""

from __future__ import annotations

import io
import logging

from ogi.extract.pdf_grid import PageTable, is_number

METHOD = "pdfplumber"
# Ruling lines only: a table without rules is the borderless reader's, and pdfplumber's text
# strategy guesses columns from gaps, which is what the borderless reader already does better.
_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3,
             "join_tolerance": 3, "intersection_tolerance": 3}


def _cell(text: str | None) -> str | None:
    if text is None:  # covered by a merged cell that starts in another row or column
        return None
    return text.replace("\u3000", " ").strip()


def plumber_page_tables(data: bytes, pages: list[int]) -> list[PageTable]:
    """The ruled tables of the 1-based ``pages``, as :class:`PageTable` s (method ``pdfplumber``).

    A merged cell's text sits in its top-left cell and the cells it covers are None, as in the
    Camelot reader's grids, so :func:`ogi.extract.pdf_tables.stitch` joins pages the same way.
    """
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font warnings on every CJK page
    out: list[PageTable] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for p in pages:
            if not 1 <= p <= len(pdf.pages):
                continue
            page = pdf.pages[p - 1]
            height = float(page.height) or 1.0
            for table in page.find_tables(table_settings=_SETTINGS):
                rows = [[_cell(c) for c in row] for row in table.extract()]
                if max((len(r) for r in rows), default=0) < 2:
                    continue  # a boxed paragraph, not a table
                x0, top, x1, bottom = table.bbox
                if len(rows) < 2 and not (float(top) / height < 0.2 and any(is_number(c) for c in rows[0])):
                    continue  # one row is a table only as a row carried over from the page before
                edges = sorted({round(float(c[0]), 1) for c in table.cells}
                               | {round(float(c[2]), 1) for c in table.cells})
                out.append(PageTable(page=p, rows=rows, method=METHOD, confidence=None, col_edges=edges,
                                     top_frac=float(top) / height, bottom_frac=float(bottom) / height))
            page.close()
    return out
