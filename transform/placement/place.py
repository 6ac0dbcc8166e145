"""Place the cells of one section grid on codebook (row, column) codes.

Rows are identified by their labels, read in order: the hierarchy (不予公开 → 1.属于国家秘密) comes
from position — a group label opens a group that later leaf labels belong to — so the same leaf text
("其他", "总计") lands on different codes under different parents. Columns come from the header
labels; values are matched to header columns by logical order within the row (covered merge
positions ignored), because real tables draw header and data rows on different colspan grids.
Whatever cannot be placed with confidence becomes an ``Unplaced`` with its raw labels — never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ogi.core.models import Fact, Unplaced, ValueStatus
from ogi.transform.knowledge.codebook import Codebook
from ogi.transform.knowledge.labels import (
    LabelMatch,
    canonical_text,
    match_label,
    match_text,
    similarity,
    split_numbered,
)
from ogi.transform.knowledge.layout import S2_ITEM, s2_cols, s2_layout
from ogi.transform.knowledge.markers import section_markers
from ogi.transform.knowledge.rows import RowResolver
from ogi.transform.knowledge.values import is_value, parse_cell, parse_value
from ogi.transform.placement.grids import GridRow, SectionGrid

_NOISE_LABEL = re.compile(r"^[-\d\s.、]*$")  # page numbers such as "- 5 -" caught in a label cell


@dataclass
class Placement:
    facts: list[Fact] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HeaderCol:
    phys: int  # column index in the row's grid
    code: str | None  # None: a header label that matched no column
    raw: str
    score: float


def _logical(row: GridRow) -> list[tuple[int, str]]:
    return [(j, c) for j, c in enumerate(row.cells) if c is not None]


def _nonblank(text: str | None) -> bool:
    return bool(text and canonical_text(text))


def _label_cells(cells: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(j, t) for j, t in cells if _nonblank(t) and not _NOISE_LABEL.match(t)]


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _is_label_like(text: str) -> bool:
    """Text where a value should be, that reads as words: a label spilled over its column."""
    if not _nonblank(text) or is_value(text):
        return False
    if parse_value(text)[1] != ValueStatus.UNREADABLE:
        return False  # "/", "—", "无": placeholders are values
    return len(_CJK.findall(text)) >= 2


MISREGISTERED_CONFIDENCE = 0.5  # a row whose label holds a value: placed, flagged, never certain
# A value recognised from pixels (OCR) is never as certain as one read from a text layer or a
# file's cells: a "/" recognised as "1" adds up as well as a real 1. Analysts filtering
# confidence = 1 get values read from table cells only (README, "How sure a value is").
OCR_CONFIDENCE = 0.9


def _values_among_labels(row_raw: str) -> list[str]:
    """Pieces of a row's label text (cells, lines) that are values: a count, a dash, 无."""
    pieces = (p.strip() for part in row_raw.split(" / ") for p in part.splitlines())
    return [p for p in pieces if p and parse_value(p, signed=True)[1] not in (ValueStatus.UNREADABLE,
                                                                              ValueStatus.BLANK)]


def numbers_in_label_columns(cells: Sequence[tuple[int, str]], first_value_col: int) -> list[tuple[int, str]]:
    """Bare numbers in the label columns of a row that has a label: a value the reader put left of
    its column (never a page number, which is a row of its own and printed "- 5 -" or "第5页")."""
    labels = _label_cells([(j, t) for j, t in cells if j < first_value_col])
    if not labels:
        return []
    return [(j, t.strip()) for j, t in cells if j < first_value_col and _nonblank(t) and _NOISE_LABEL.match(t)
            and re.fullmatch(r"\s*\d+\s*", t)]


def split_label_values(cells: Sequence[tuple[int, str]], first_value_col: int) -> tuple[list[str], list[tuple[int, str]]]:
    """Label texts and value cells of one row; a label spilling into the first value columns (text
    extractors, long labels) is taken back into the labels."""
    labels = [t for j, t in _label_cells(cells) if j < first_value_col]
    values = [(j, t) for j, t in cells if j >= first_value_col]
    while values and (_is_label_like(values[0][1]) or (not _nonblank(values[0][1]) and len(values) > 1
                                                        and _is_label_like(values[1][1]))):
        j, t = values.pop(0)
        if _nonblank(t):
            labels.append(t)
    return labels, values


def align(header: Sequence[HeaderCol], values: Sequence[tuple[int, str]]) -> tuple[list[tuple[HeaderCol, tuple[int, str]]], list[tuple[int, str]]]:
    """Pair value cells with header columns: by logical order when the counts agree; else by grid
    position; else, when the filled cells are exactly as many as the columns, those in order
    (Camelot puts a merged cell's text where it happens to sit). Returns (pairs, cells left over)."""
    if len(header) == len(values):
        return list(zip(header, values, strict=True)), []
    by_phys = {j: (j, t) for j, t in values}
    pairs = [(h, by_phys[h.phys]) for h in header if h.phys in by_phys]
    used = {v[0] for _, v in pairs}
    leftovers = [v for v in values if v[0] not in used]
    filled = [v for v in values if _nonblank(v[1])]
    if (len(pairs) < len(header) or any(_nonblank(t) for _, t in leftovers)) and len(filled) == len(header):
        return list(zip(header, filled, strict=True)), [v for v in values if not _nonblank(v[1])]
    return pairs, leftovers


class _Placer:
    """Shared cell → Fact / Unplaced conversion for one section grid."""

    def __init__(self, grid: SectionGrid, codebook: Codebook):
        self.grid = grid
        self.cb = codebook
        self.out = Placement()
        # order registration (三/四): where each row stands, the codes placed, and rows whose label
        # matched nothing, held until the rows around them are known
        self.position: dict[tuple[int | None, int, int], int] | None = None
        self.placed: list[tuple[int, str]] = []
        self.tentative: list[tuple[int, tuple, dict]] = []
        self.doubtful: set[tuple[int | None, int, int]] = set()  # rows placed by their place only
        self.groups: set[str] = set()  # group rows whose own rows the template prints
        # a section's own reading of a header whose labels matched nothing, once the row is known (二)
        self.columns_of: Callable[[str, Sequence[HeaderCol]], Sequence[HeaderCol]] | None = None

    def _pos(self, row: GridRow) -> int | None:
        return None if self.position is None else self.position.get((row.page, row.table_index, row.row_index))

    def fact(self, row: GridRow, row_code: str, col: HeaderCol, cell: tuple[int, str], row_raw: str, score: float) -> None:
        col_entry = self.cb.get(col.code)  # type: ignore[arg-type]
        row_entry = self.cb.get(row_code)
        unit = col_entry.unit or row_entry.unit
        j, text = cell
        value, status = parse_cell(text, unit, signed=col_entry.signed or row_entry.signed)
        self.out.facts.append(
            Fact(
                section=self.grid.section,
                row_code=row_code,
                col_code=col_entry.code,
                value=value,
                value_status=str(status),
                unit=unit,
                raw_text=text,
                page=row.page,
                table_index=row.table_index,
                row_index=row.row_index,
                col_index=j,
                row_label_raw=row_raw,
                col_label_raw=col.raw,
                confidence=round(min(score, col.score, OCR_CONFIDENCE if row.method == "ocr" else 1.0), 4),
            )
        )

    def unplaced(self, row: GridRow, cell: tuple[int, str], row_raw: str, col_raw: str, reason: str,
                 best_guess: str | None = None) -> None:
        self.out.unplaced.append(
            Unplaced(
                section=self.grid.section,
                raw_text=cell[1],
                row_label_raw=row_raw,
                col_label_raw=col_raw,
                page=row.page,
                table_index=row.table_index,
                row_index=row.row_index,
                col_index=cell[0],
                reason=reason,
                best_guess=best_guess,
            )
        )

    def place_row(self, row: GridRow, row_code: str | None, row_raw: str, score: float, header: Sequence[HeaderCol],
                  values: Sequence[tuple[int, str]], reason: str = "", best_guess: str | None = None,
                  stray: Sequence[tuple[int, str]] = (), by_place: bool = False, settled: bool = False) -> None:
        """Emit one row's value cells as facts (row_code known) or unplaced values. A row whose
        label matched nothing, or (``by_place``) a value row with no label at all, waits for
        ``register_by_order`` (``settled``: it has waited)."""
        pos = None if settled else self._pos(row)
        key = (row.page, row.table_index, row.row_index)
        if row_code is not None and pos is not None and header and any(_nonblank(t) for _, t in values):
            if key in self.doubtful:
                # its label cell holds several rows' labels: the label says nothing of which row
                # these values are; only their place can
                self.doubtful.discard(key)
                self.tentative.append((pos, (row, None, row_raw, 0.0, header, values),
                                       dict(best_guess=row_code, stray=stray, fallback=None,
                                            reason="its label cell holds several rows' labels; which row is unknown")))
                return
            if self.groups and row_code in self.groups:
                # values on a group's row where the template prints the group's own rows (its
                # first item's label lost: (四)无法提供 1.…): by their place, else as before
                self.tentative.append((pos, (row, None, row_raw, 0.0, header, values),
                                       dict(best_guess=row_code, stray=stray, reason="",
                                            fallback=(row_code, score))))
                return
        if row_code is None and pos is not None and header and any(_nonblank(t) for _, t in values) \
                and (by_place or (not reason and _nonblank(row_raw))):
            self.tentative.append((pos, (row, row_code, row_raw, score, header, values),
                                   dict(best_guess=best_guess, stray=stray, reason=reason)))
            return
        if row_code is not None and pos is not None:
            self.placed.append((pos, row_code))
        if row_code is not None and self.columns_of is not None and header:
            header = self.columns_of(row_code, header)
        if row_code is None:
            if any(_nonblank(t) for _, t in values):
                for cell in values:
                    self.unplaced(row, cell, row_raw, "", reason or "row label not matched", best_guess)
            return
        if stray and len(stray) == len(header) and not any(_nonblank(t) for _, t in values):
            # every value cell blank and exactly one number per column left of them: the reader cut
            # the columns too far right (a borderless sub-table with a wide header); take them in
            # order, never with full confidence
            values = list(stray)
            header = [HeaderCol(-1, h.code, h.raw, h.score) for h in header]
        misread = [t for _, t in stray] + _values_among_labels(row_raw)
        if misread:
            # A number or a dash read as part of the row's label: the reader put a row boundary or
            # a column boundary in the wrong place, so what sits under the headers may belong to a
            # neighbour. Place it, but never with full confidence, and say so.
            score = min(score, MISREGISTERED_CONFIDENCE)
            self.out.notes.append(f"{self.grid.section}: row {row_code}: value {' '.join(misread)!r} read inside its "
                                  f"label {row_raw!r} (rows or columns misregistered); confidence lowered")
        pairs, leftovers = align(header, values)
        if not pairs:
            self.unplaced(row, (-1, ""), row_raw, "",
                          f"row {row_code} has no value cell under its column headers (value run into the label?)")
        for col, cell in pairs:
            if col.code is None:
                if _nonblank(cell[1]):
                    self.unplaced(row, cell, row_raw, col.raw, "column label not matched")
                continue
            self.fact(row, row_code, col, cell, row_raw, score)
        for cell in leftovers:
            if _nonblank(cell[1]):
                self.unplaced(row, cell, row_raw, "", "value under no column header")


    def register_by_order(self, template_rows: Sequence[str]) -> None:
        """Rows whose label matched no row (a scan's garbled label: 保户第三方合法汉益) placed by
        where they stand: the template rows missing between the placed rows before and after them,
        when they are exactly as many and each resembles its label. Never with full confidence,
        and each is noted; the rest stay unplaced with their best guess."""
        held, self.tentative = sorted(self.tentative, key=lambda t: t[0]), []
        if not held:
            return
        order = {c: i for i, c in enumerate(template_rows)}
        placed = sorted(self.placed)
        taken = {c for _, c in placed}
        runs: list[list[tuple[int, tuple, dict]]] = []
        for t in held:
            if runs and not any(runs[-1][-1][0] < p < t[0] for p, _ in placed):
                runs[-1].append(t)
            else:
                runs.append([t])
        for run in runs:
            before = [c for p, c in placed if p < run[0][0]]
            after = [c for p, c in placed if p > run[-1][0]]
            lo = order.get(before[-1]) if before else -1
            hi = order.get(after[0]) if after else len(template_rows)
            expected = [] if lo is None or hi is None else \
                [c for c in template_rows[lo + 1:hi] if c not in taken]
            # a row with no label at all has only its place; one with a label must look like its row
            fits = len(expected) == len(run) and all(
                not _nonblank(args[2]) or _resembles(args[2], self.cb.get(code).label_zh)
                or _same_item_number(args[2], _item_number(self.cb, code, template_rows))
                for (_, args, _kw), code in zip(run, expected, strict=True))
            for (_, args, kw), code in zip(run, expected if fits else [None] * len(run), strict=True):
                row, _none, row_raw, _score, header, values = args
                if code is None and kw.get("fallback"):
                    self.place_row(row, kw["fallback"][0], row_raw, kw["fallback"][1], header, values, stray=kw["stray"],
                                   settled=True)
                    continue
                if code is None:
                    self.place_row(row, None, row_raw, 0.0, header, values, settled=True,
                                   reason=kw["reason"] or "row label not matched", best_guess=kw["best_guess"])
                    continue
                confidence = ORDER_CONFIDENCE if _nonblank(row_raw) else BARE_ORDER_CONFIDENCE
                said = f"row label {row_raw!r} matched no row" if _nonblank(row_raw) else \
                    f"a value row without a label (row {row.row_index}, page {row.page})"
                self.out.notes.append(f"{self.grid.section}: {said}; placed as {code} by its place between the "
                                      f"rows around it (confidence {confidence})")
                self.place_row(row, code, row_raw, confidence, header, values, stray=kw["stray"], settled=True)


ORDER_CONFIDENCE = 0.7  # a row placed by where it stands, its label unreadable
BARE_ORDER_CONFIDENCE = 0.6  # a row placed by where it stands, no label read at all
_RESEMBLES = 0.5


def _item_number(cb: Codebook, code: str, template_rows: Sequence[str]) -> int | None:
    """The number a template prints before a row's label (3 for 3.补正后申请内容仍不明确): its place
    among its parent's children, when they are all rows of their own (a group of numbered items)."""
    parent = cb.get(code).parent
    siblings = cb.children(parent) if parent else []
    if not siblings or any(c not in template_rows for c in siblings):
        return None
    return siblings.index(code) + 1


def _same_item_number(row_raw: str, number: int | None) -> bool:
    """Whether the row's last item number ("3.正", a garbled 3.补正后申请内容仍不明确) is ``number``."""
    read = _LEAF_ITEM.findall(re.sub(r"\s+", "", unicodedata.normalize("NFKC", row_raw)))
    return number is not None and bool(read) and int(read[-1]) == number


def _resembles(row_raw: str, label: str) -> bool:
    """Whether one of a row's label pieces looks like the template label at all (a garbled cell
    may hold its group's label too: 三（一)予以公开、（二)部分公开…)."""
    pieces = [p for part in row_raw.split(" / ") for p in split_numbered(part)]
    return any(similarity(canonical_text(p), canonical_text(label)) >= _RESEMBLES for p in pieces)


# ------------------------------------------------------------------ headers


def _leaf_label_options(codebook: Codebook, section: str, version: str) -> dict[str, tuple[str]]:
    return {canonical_text(codebook.get(c).label_zh): (codebook.get(c).label_zh,) for c in codebook.cols(section, version)}


def _is_header_row(row: GridRow, section: str, codebook: Codebook) -> bool:
    """A row of column labels: no numbers, and a section marker (信息内容, 申请人情况), or two column
    labels, or one column label and nothing that names a row (a blank "3.其他" row is data)."""
    texts = [t for _, t in _logical(row) if _nonblank(t)]
    if not texts or any(is_value(t) for t in texts):
        return False
    extras = section_markers(section)
    if any(x in canonical_text(t) for t in texts for x in extras):
        return True
    col_codes = codebook.codes(section, "col")
    n_cols = len({canonical_text(t) for t in texts if match_label(t, col_codes, codebook).score >= 0.8})
    if n_cols >= 2:
        return True
    row_codes = codebook.codes(section, "row")
    return n_cols == 1 and not any(match_label(t, row_codes, codebook).score >= 0.8 for t in texts)


def _continues_header(row: GridRow, above: GridRow) -> bool:
    """A row of words right under a header row and within its columns (not in the label columns
    left of them, where a data row's label sits): the next line of header labels that a reader
    cut over rows (商业 / 企业, 结果 / 维持)."""
    cells = [(j, t) for j, t in _logical(row) if _nonblank(t)]
    if not cells or any(parse_value(t, signed=True)[1] != ValueStatus.UNREADABLE for _, t in cells):
        return False
    headed = [j for j, t in _logical(above) if _nonblank(t)]
    return bool(headed) and all(min(headed) <= j <= max(headed) for j, _ in cells)


def _stacked_labels(header_rows: Sequence[GridRow], options: dict[str, tuple[str]],
                    found: dict[int, tuple[str, str, float]]) -> None:
    """Columns whose label a reader cut over several header rows (商业 / 企业, or one character a
    row: 结 / 果 / 维 / 持): the column's header texts read downwards, the longest run ending in its
    lowest text that is a column label. Only for columns no single cell named."""
    columns: dict[int, list[str]] = {}
    for row in header_rows:
        for j, t in _logical(row):
            if _nonblank(t):
                columns.setdefault(j, []).append(t.strip())
    for j, texts in columns.items():
        if j in found or len(texts) < 2:
            continue
        for start in range(len(texts) - 1):
            text = "".join(texts[start:])
            m = match_text(text, options)
            if m.code:
                found[j] = (m.code, text, m.score)
                break


def _grid_header(header_rows: Sequence[GridRow], section: str, version: str, codebook: Codebook) -> tuple[list[HeaderCol] | None, str]:
    """Leaf columns of a multi-row header (三, 四), ordered by grid position, with codes.

    Leaf labels repeat in 四 (结果维持 ×3), so codes are given by comparing the whole label
    sequence with the template's; 三's distinct labels may also be placed one by one.
    """
    options = _leaf_label_options(codebook, section, version)
    found: dict[int, tuple[str, str, float]] = {}
    for row in header_rows:
        for j, t in _logical(row):
            if not _nonblank(t):
                continue
            m = match_text(t, options)
            if m.code and j not in found:
                found[j] = (m.code, t, m.score)
    _stacked_labels(header_rows, options, found)
    if not found:
        return None, "no column header found"
    order = sorted(found)
    labels = [found[j][0] for j in order]
    template = codebook.cols(section, version)
    template_labels = [canonical_text(codebook.get(c).label_zh) for c in template]
    if labels == template_labels:
        return [HeaderCol(j, c, found[j][1], found[j][2]) for j, c in zip(order, template, strict=True)], ""
    positional = _header_by_position(header_rows, found, template, template_labels)
    if len(set(template_labels)) == len(template_labels) and len(set(labels)) == len(labels) \
            and not (positional is not None and len(labels) < len(template_labels)):
        by_label = dict(zip(template_labels, template, strict=True))
        return [HeaderCol(j, by_label[found[j][0]], found[j][1], found[j][2]) for j in order], \
            f"header columns {labels} differ from the template order; placed by label"
    if positional is not None:
        return positional, f"header columns {labels} partly unreadable; the template's columns assumed " \
                           f"by position in the header's last {len(template)} columns"
    if _is_subsequence(labels, template_labels) and len(labels) >= 0.8 * len(template_labels):
        # Some header cells unreadable (split words, garbles) but the rest in template order: the
        # template columns are assumed, by logical order, for rows that have exactly that many values.
        return [HeaderCol(-1, c, "", 0.85) for c in template], \
            f"header columns {labels} partly unreadable; template order assumed"
    return None, f"header columns {labels} do not match the template {template_labels}"


POSITIONAL_HEADER_CONFIDENCE = 0.8


def _header_by_position(header_rows: Sequence[GridRow], found: dict[int, tuple[str, str, float]],
                        template: Sequence[str], template_labels: Sequence[str]) -> list[HeaderCol] | None:
    """The template's columns when the header's rightmost columns with text (the lowest text of
    each) are exactly as many as the template's and every label read among them stands where the
    template has it (OCR garbles: 结果维寺, 尚天官结 between readable 其他结果 and 总计; a
    科研机构 misread beside readable neighbours), with at least a third of them read and none
    read left of them (values stand right of the labels)."""
    lowest: dict[int, str] = {}
    for row in header_rows:
        for j, t in _logical(row):
            if _nonblank(t):
                lowest[j] = t
    # one header row holding every leaf label (四), else each column's lowest text (三's two levels)
    candidates = [{j: t for j, t in _logical(row) if _nonblank(t)} for row in header_rows] + [lowest]
    for texts in candidates:
        cols = sorted(texts)
        if len(cols) < len(template):
            continue
        lead, cols = cols[:-len(template)], cols[-len(template):]
        read = [(n, j) for n, j in enumerate(cols) if j in found]
        if any(j in found for j in lead) or len(read) * 3 < len(template) \
                or any(found[j][0] != template_labels[n] for n, j in read):
            continue
        return [HeaderCol(j, code, texts[j], found[j][2] if j in found else POSITIONAL_HEADER_CONFIDENCE)
                for j, code in zip(cols, template, strict=True)]
    return None


def _is_subsequence(part: Sequence[str], whole: Sequence[str]) -> bool:
    it = iter(whole)
    return all(any(p == w for w in it) for p in part)


# ------------------------------------------------------------------ sections


_LEAF_ITEM = re.compile(r"(?<![\d.])(\d{1,2})[、.．](?!\d[\d.])")
_GROUP_IN_ITEM = re.compile(r"\([一二三四五六七八九十]+\)[\u4e00-\u9fff]{0,4}$")
SPLIT_LABEL_CONFIDENCE = 0.75  # a label given to its row by splitting a cell that spanned several


_MAX_LOST_ITEMS = 2  # item numbers a recogniser may have lost from one cell (1.… 3.…: "2." garbled)


def _numbered_items(text: str) -> tuple[str, list[str]] | None:
    """(text before the first item, the items) of a cell holding two or more numbered labels in
    order (6.… 7.… 8.…), else None. An item whose number was not read (1.… 3.…) is an empty
    string in its place: its row gets no label, only its place."""
    base = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    found = list(_LEAF_ITEM.finditer(base))
    nums = [int(m.group(1)) for m in found]
    if len(found) < 2 or any(b <= a for a, b in zip(nums, nums[1:], strict=False)) \
            or nums[-1] - nums[0] + 1 - len(nums) > _MAX_LOST_ITEMS:
        return None
    ends = [m.start() for m in found[1:]] + [len(base)]
    head, read = base[:found[0].start()], [base[m.start():e] for m, e in zip(found, ends, strict=True)]
    items = [""] * (nums[-1] - nums[0] + 1)
    for n, item in zip(nums, read, strict=True):
        items[n - nums[0]] = item
    # a group label beside the items, read into their lines ("1.本机关…(四)无", "2.…"): it opens
    # the group before the first item
    for n, item in enumerate(items):
        g = _GROUP_IN_ITEM.search(item, 2) if item else None
        if g:
            head, items[n] = head + g.group(0), item[:g.start()] + item[g.end():]
    return head, items


def _first_value_col(row: GridRow) -> int | None:
    for j, t in enumerate(row.cells):
        if t is not None and _nonblank(t) and parse_value(t, signed=True)[1] != ValueStatus.UNREADABLE:
            return j
    return None


RowKey = tuple[int | None, int, int]  # (page, table_index, row_index)


def _bare_value_row(r: GridRow, above: GridRow, first_value_col: int) -> bool:
    """A row of the same table and width as ``above`` with values and nothing in its label columns."""
    return (r.table_index == above.table_index and len(r.cells) == len(above.cells)
            and not any(_nonblank(t) for t in r.cells[:first_value_col]) and _first_value_col(r) is not None)


_GROUP_ITEM = re.compile(r"[(（]([一二三四五六七八九十]+)[)）]")
_ROW_NUMBERING = re.compile(r"(?<![\d.])\d{1,2}[、.．](?!\d)|[(（][一二三四五六七八九十]+[)）]|(?<![\u4e00-\u9fff])[一二三四五六七八九十]、")


def _label_above_its_values(row: GridRow, below: GridRow) -> bool:
    """``row`` holds a numbered row label and nothing in the value columns of ``below``, a row of
    the same table and width with values and no label."""
    at = _first_value_col(below)
    if at is None or row.table_index != below.table_index or len(row.cells) != len(below.cells):
        return False
    label = "".join(t for t in row.cells[:at] if t is not None and _nonblank(t))
    return bool(_ROW_NUMBERING.search(unicodedata.normalize("NFKC", label))) \
        and not any(_nonblank(t) for t in row.cells[at:]) and not any(_nonblank(t) for t in below.cells[:at])


def split_spanning_labels(rows: Sequence[GridRow]) -> tuple[list[GridRow], set[RowKey], dict[RowKey, int]]:
    """Give each row its own label when a reader put the labels of several rows in one cell.

    Scans and some exports lose the rules between label cells while the value columns keep theirs:
    one label cell "6.属于四类过程性信息 7.属于行政执法案卷 8.属于行政查询事项" beside three rows of
    values, the next two with no label at all. Read as it stands, the first row takes the last
    label's code (a wrong row placed with confidence) and the others are unplaced. When the cell's
    consecutively numbered items are exactly as many as that row and the label-less value rows
    right under it, item k goes to row k; an item whose number was not read (1.… 3.…) leaves its
    row without a label, for ``register_by_order`` to place by its place. A numbered label on a
    row of its own over a value row with no label is that row's label. A cell holding several
    groups' labels ((一)…(二)…) is never split: groups have rows inside. Returns the rows, the keys
    of the rows relabelled (whose
    values are never certain) and of rows holding several rows' labels that could not be split
    (their values belong to one of them, nobody knows which: placed by the last label, as before,
    but never with more than the misregistered confidence), with how many labels.
    """
    out = list(rows)
    split: set[RowKey] = set()
    ambiguous: dict[RowKey, int] = {}
    i = 0
    while i < len(out):
        row = out[i]
        first = _first_value_col(row)
        if first is None and i + 1 < len(out) and _label_above_its_values(row, out[i + 1]):
            # a numbered label with no values over a value row with no label (the label cell's
            # rule lost, or its text set at the top of a taller cell): one row
            value_row = out[i + 1]
            at = _first_value_col(value_row) or 0
            out[i:i + 2] = [replace(value_row, cells=tuple(row.cells[:at]) + tuple(value_row.cells[at:]))]
            split.add((value_row.page, value_row.table_index, value_row.row_index))
            continue
        label_cols = [j for j in range(first or 0) if _nonblank(row.cells[j])]
        parsed = _numbered_items(row.cells[label_cols[-1]] or "") if label_cols else None
        if first is not None and parsed is None and label_cols:
            groups = _GROUP_ITEM.findall(unicodedata.normalize("NFKC", row.cells[label_cols[-1]] or ""))
            if len(set(groups)) >= 2:
                # several groups' labels in one cell ((一)予以公开、(二)部分公开…): groups have rows
                # of their own inside, so the cell cannot be split by counting
                ambiguous[(row.page, row.table_index, row.row_index)] = len(set(groups))
        if first is None or parsed is None:
            i += 1
            continue
        head, items = parsed
        k = len(items)
        below = out[i + 1:i + k + 1]
        bare = [_bare_value_row(r, row, first) for r in below]
        if len(below) < k - 1 or not all(bare[:k - 1]) or (len(below) == k and bare[-1]):
            ambiguous[(row.page, row.table_index, row.row_index)] = k
            i += 1
            continue
        c = label_cols[-1]
        for m, r in enumerate([row, *below[:k - 1]]):
            cells = list(r.cells)
            cells[c] = (head + items[0]) if m == 0 else items[m]
            out[i + m] = replace(r, cells=tuple(cells))
            split.add((r.page, r.table_index, r.row_index))
        i += k
    return out, split, ambiguous


def _place_grid_section(placer: _Placer, version: str) -> None:
    """三 and 四: a header block, then data rows; a header repeated further down (the next page's
    table, a second copy of the table) is read again, since its column positions may differ."""
    grid, cb = placer.grid, placer.cb
    template = cb.cols(grid.section, version)
    resolver = RowResolver(grid.section, cb)
    # Rows that carry values in some template (（六）其他处理 does in 2019, and in 2021 reports that
    # print it as one row).
    value_rows = set(cb.rows(grid.section, "2019")) | set(cb.rows(grid.section, "2021"))
    single_row = cb.rows(grid.section, version) if len(cb.rows(grid.section, version)) == 1 else None
    header: list[HeaderCol] | None = None
    note = "no column header found"
    header_width: int | None = None
    pending: list[GridRow] = []
    rows = _WrappedRows(placer, resolver, value_rows)
    grid_rows, split, ambiguous = split_spanning_labels(grid.rows)
    if split:
        placer.out.notes.append(f"{grid.section}: a label cell spanning {len(split)} rows was split by its "
                                f"numbering; their values' confidence lowered to {SPLIT_LABEL_CONFIDENCE}")
    first_fact = len(placer.out.facts)
    placer.position = {(r.page, r.table_index, r.row_index): n for n, r in enumerate(grid_rows)}
    placer.doubtful = set(ambiguous)
    placer.groups = {c for c in cb.codes(grid.section, "row") if cb.children(c, version)}
    for row in grid_rows:
        cells = _logical(row)
        if not any(_nonblank(t) for _, t in cells):
            continue
        if _is_header_row(row, grid.section, cb) or (pending and _continues_header(row, pending[-1])):
            # rows waiting to be joined wait over a repeated header (a page break inside a
            # wrapped label): the rows after it may continue them
            pending.append(row)
            continue
        if pending:
            header, note = _grid_header(pending, grid.section, version, cb)
            header_width = len(pending[-1].cells)
            if note:
                placer.out.notes.append(f"{grid.section}: {note}")
            pending = []
        if header is not None and header[0].phys >= 0 and len(row.cells) == header_width:
            labels, values = split_label_values(cells, header[0].phys)
            stray = numbers_in_label_columns(cells, header[0].phys)
            cols: Sequence[HeaderCol] = header
        else:
            stray = []
            # No usable header positions (none found, partly unreadable, or a continuation table of
            # another width): the columns by logical order, for rows with exactly that many cells.
            n = len(template) if header is None else len(header)
            labels = [t for _, t in _label_cells(cells[:-n])] if len(cells) > n else []
            values = cells[-n:] if len(cells) >= n else cells
            if header is not None:
                assumed: list[HeaderCol] | None = [HeaderCol(-1, h.code, h.raw, h.score) for h in header]
            elif note == "no column header found":
                assumed = [HeaderCol(-1, c, "", 0.9) for c in template]
            else:
                assumed = None
            if assumed is None or len(values) != n:
                why = note if assumed is None else f"row has {len(values)} cells, the header {n} columns"
                rows.flush()
                placer.place_row(row, None, " / ".join(labels), 0.0, [], values,
                                 reason=f"{grid.section} columns unknown: {why}")
                continue
            cols = assumed
        if single_row and labels and all(any(m in canonical_text(t) for m in section_markers(grid.section))
                                         for t in labels):
            labels = []  # the section's own title as the label of its only row (四's 案件数量)
        if not labels and single_row:
            rows.flush()
            said = [parse_value(t, signed=True)[1] for _, t in values if _nonblank(t)]
            if said and all(s == ValueStatus.UNREADABLE for s in said):
                # only words, no number and no dash: a caption line above the grid (填报单位：…,
                # 单位：件), never the section's value row — the real one may still follow
                placer.out.notes.append(f"{grid.section}: a row of text only read as a caption, not as values: "
                                        f"{' '.join(t for _, t in values if _nonblank(t))[:60]!r}")
                continue
            if said:
                placer.place_row(row, single_row[0], "", 1.0, cols, values)
            continue
        if not labels:
            rows.flush()
            placer.place_row(row, None, "", 0.0, cols, values, reason="value row without a label", by_place=True)
            continue
        rows.add(_LabeledRow(row, labels, cols, values, stray))
    rows.flush()
    placer.register_by_order(cb.rows(grid.section, version))
    placer.position, placer.doubtful, placer.groups = None, set(), set()
    if split or ambiguous:
        for key, k in ambiguous.items():
            placer.out.notes.append(f"{grid.section}: the label cell of row {key[2]} (page {key[0]}) holds {k} rows' "
                                    f"labels and the rows under it do not match them one to one; its values are "
                                    f"placed by their place only (confidence at most {MISREGISTERED_CONFIDENCE}) "
                                    f"or left unplaced")
        placer.out.facts[first_fact:] = [
            replace(f, confidence=min(f.confidence, SPLIT_LABEL_CONFIDENCE)) if (f.page, f.table_index, f.row_index) in split
            else replace(f, confidence=min(f.confidence, MISREGISTERED_CONFIDENCE))
            if (f.page, f.table_index, f.row_index) in ambiguous else f for f in placer.out.facts[first_fact:]]


def _join_labels(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Two rows' label cells as one label wrapped over both (the last cell of the first row runs
    on into the first cell of the second)."""
    if not first or not second:
        return [*first, *second]
    return [*first[:-1], first[-1] + second[0], *second[1:]]


@dataclass
class _LabeledRow:
    row: GridRow
    labels: list[str]
    cols: Sequence[HeaderCol]
    values: Sequence[tuple[int, str]]
    stray: Sequence[tuple[int, str]]

    @property
    def has_values(self) -> bool:
        return any(_nonblank(t) for _, t in self.values)


class _WrappedRows:
    """Places labelled rows of 三/四 in order, joining a label that a reader cut over several rows.

    Converters and some PDF readers split one template row when its label wraps: rows of label text
    only, with the numbers on the row below (…（区分处理的， / 只计这一情形…）) or above
    (2.其他法律行政法 / 规禁止公开). Label-only rows are joined to their neighbour only when the
    joined text is a value row of the template and no part is a row of its own that differs from
    it (a group label, another row) — the template decides, never position alone — and each join
    is noted. Otherwise every row is placed exactly as it stands. Placement waits for that
    decision: label-only rows are held until the next row with values, and a row with values
    until the row after it.
    """

    def __init__(self, placer: _Placer, resolver: RowResolver, value_rows: set[str]):
        self.placer = placer
        self.resolver = resolver
        self.value_rows = value_rows
        self.held: list[_LabeledRow] = []  # label-only rows, waiting for the next row with values
        self.last: tuple[_LabeledRow, list[str], tuple[str | None, float, str | None]] | None = None

    def _note(self, parts: Sequence[Sequence[str]]) -> None:
        shown = " + ".join(repr(" / ".join(p)) for p in parts)
        self.placer.out.notes.append(f"{self.placer.grid.section}: a label wrapped over {len(parts)} rows "
                                     f"was joined: {shown}")

    def add(self, r: _LabeledRow) -> None:
        if not r.has_values:
            if not self.held and self.last is not None and self._join_to_last(r):
                return
            self._flush_last()
            self.held.append(r)
            return
        self._flush_last()
        if self.held:
            r = self._joined_with_held(r)
        before = list(self.resolver.path)
        self.last = (r, before, self.resolver.resolve(r.labels))

    def _joined_with_held(self, r: _LabeledRow) -> _LabeledRow:
        """``r`` with the longest run of held rows before it that joins into its label; the held
        rows before that run are placed as rows of their own."""
        saved = list(self.resolver.path)
        for k in range(len(self.held)):
            self.resolver.path = list(saved)
            for h in self.held[:k]:
                self.resolver.resolve(h.labels)
            start = list(self.resolver.path)
            run = self.held[k:]
            alone = [self.resolver.resolve(h.labels) for h in run]
            own = self.resolver.peek(r.labels)
            self.resolver.path = list(start)
            labels: list[str] = []
            for part in [*run, r]:
                labels = _join_labels(labels, part.labels)
            if self._joinable(self.resolver.peek(labels), *alone, own):
                self.resolver.path = list(saved)
                head, self.held = self.held[:k], []
                for h in head:
                    self._place_held(h)
                self._note([p.labels for p in [*run, r]])
                return _LabeledRow(r.row, labels, r.cols, r.values, r.stray)
        self.resolver.path = saved
        self._flush_held()
        return r

    def _joinable(self, joined: tuple[str | None, float, str | None],
                  *parts: tuple[str | None, float, str | None]) -> bool:
        """The joined label is a value row of the template, and no part is a row of its own that
        differs from it (a group label, another row) — a part that only resembles another row
        (复申请 ~ 重复申请) matches worse than the joined label does and does not count."""
        code, score, _ = joined
        return code in self.value_rows and all(
            p is None or p == code or (s < 1.0 and s < score) for p, s, _ in parts)

    def _join_to_last(self, fragment: _LabeledRow) -> bool:
        assert self.last is not None
        prev, before, mine = self.last
        own = self.resolver.peek(fragment.labels)
        after = list(self.resolver.path)
        self.resolver.path = list(before)
        joined = _join_labels(prev.labels, fragment.labels)
        j = self.resolver.resolve(joined)
        if self._joinable(j, mine, own):
            self._note([prev.labels, fragment.labels])
            self.last = (_LabeledRow(prev.row, joined, prev.cols, prev.values, prev.stray), before, j)
            return True
        self.resolver.path = after
        return False

    def _flush_last(self) -> None:
        if self.last is None:
            return
        r, _before, (code, score, guess) = self.last
        self.last = None
        self.placer.place_row(r.row, code, " / ".join(r.labels), score, r.cols, r.values, best_guess=guess,
                              stray=r.stray)

    def _place_held(self, r: _LabeledRow) -> None:
        code, score, guess = self.resolver.resolve(r.labels)
        if code is not None and code not in self.value_rows:
            return  # a group label row (三、本年度办理结果) with no values of its own
        self.placer.place_row(r.row, code, " / ".join(r.labels), score, r.cols, r.values, best_guess=guess,
                              stray=r.stray)

    def _flush_held(self) -> None:
        held, self.held = self.held, []
        for r in held:
            self._place_held(r)

    def flush(self) -> None:
        self._flush_last()
        self._flush_held()


def _s2_item(texts: Sequence[str]) -> str | None:
    for t in texts:
        m = S2_ITEM.search(canonical_text(t))
        if m:
            return f"({m.group('item')})"
    return None


def _s2_header_by_position(header: Sequence[HeaderCol], expected: Sequence[str]) -> list[HeaderCol] | None:
    """A 二 header with column labels that match nothing (OCR: z5年制发件数, zS年度1=1件数) read as
    the columns the row's sub-table has, when it has exactly as many header cells and every label
    that was read stands where the template has it. The row's label and the sub-table say which
    columns these are; their unread labels only say where they stand (confidence lowered)."""
    if not header or all(h.code is not None for h in header) or len(header) != len(expected) \
            or any(h.code is not None and h.code != c for h, c in zip(header, expected, strict=True)):
        return None
    return [h if h.code is not None else HeaderCol(h.phys, c, h.raw, POSITIONAL_HEADER_CONFIDENCE)
            for h, c in zip(header, expected, strict=True)]


def _place_s2(placer: _Placer, version: str) -> None:
    """二: several sub-tables, each with a 第二十条第（N）项 title and its own header row. A row
    whose label matched nothing is placed by its place among the rows around it, as in 三."""
    grid, cb = placer.grid, placer.cb

    def columns_of(row_code: str, header: Sequence[HeaderCol]) -> Sequence[HeaderCol]:
        expected = s2_cols(version, row_code)
        positional = _s2_header_by_position(header, expected)
        if positional is None:
            return header
        placer.out.notes.append(f"s2: header {[h.raw for h in header]} partly unreadable; the columns "
                                f"{list(expected)} of {row_code} assumed by position")
        return positional

    placer.position = {(r.page, r.table_index, r.row_index): n for n, r in enumerate(grid.rows)}
    placer.columns_of = columns_of
    _place_s2_rows(placer, version)
    placer.register_by_order(cb.rows("s2", version))
    placer.position, placer.columns_of = None, None


def _place_s2_rows(placer: _Placer, version: str) -> None:
    grid, cb = placer.grid, placer.cb
    col_codes_version = [c for c in cb.codes("s2", "col") if version in cb.get(c).versions]
    col_codes_all = cb.codes("s2", "col")
    row_codes = cb.codes("s2", "row")
    header: list[HeaderCol] | None = None
    first_value_col = 1
    item: str | None = None
    for row in grid.rows:
        cells = _logical(row)
        texts = [t for _, t in cells if _nonblank(t)]
        if not texts:
            continue
        new_item = _s2_item(texts)
        if new_item is not None and len(set(texts)) == 1:
            item, header = new_item, None
            continue
        if _is_header_row(row, "s2", cb):
            header = []
            # Values start right after the 信息内容 column, wherever the header texts sit (a reader
            # may put blank cells before it: then the first cell is not the label column).
            named = [k for k, (_, t) in enumerate(cells) if "信息内容" in canonical_text(t)]
            label_at = named[0] if named else 0
            first_value_col = cells[label_at + 1][0] if len(cells) > label_at + 1 else cells[label_at][0] + 1
            for j, t in cells[label_at + 1:]:
                if not _nonblank(t):
                    continue
                m = match_label(t, col_codes_version, cb)
                if m.code is None:
                    m = match_label(t, col_codes_all, cb)
                header.append(HeaderCol(j, m.code, t, m.score))
            continue
        label_cell = cells[0]
        values = cells[1:]
        if header:
            label_texts, values = split_label_values(cells, first_value_col)
            stray = numbers_in_label_columns(cells, first_value_col)
            cols: list[HeaderCol] = header
        else:
            stray = []
            label_texts = [label_cell[1]] if _nonblank(label_cell[1]) else []
            layout = s2_layout().get((version, item or ""))
            if not layout:
                placer.place_row(row, None, " / ".join(label_texts), 0.0, [], values,
                                 reason=f"二 sub-table {item or '?'} has no header row")
                continue
            # No header: the template's columns for this item, by logical order.
            cols = [HeaderCol(-1, c, "", 0.9) for c in layout[1]]
        row_match: LabelMatch | None = None
        for text in (label_texts[:1], label_texts):  # the label cell, then with what spilled over
            if text and (row_match is None or row_match.code is None):
                row_match = match_label(" ".join(text), row_codes, cb)
        if row_match is None or row_match.code is None:
            guess = (f"{row_match.runner_up} ({row_match.runner_up_score:.2f})"
                     if row_match and row_match.runner_up else None)
            placer.place_row(row, None, " / ".join(label_texts), 0.0, cols, values, best_guess=guess)
            continue
        placer.place_row(row, row_match.code, " / ".join(label_texts), row_match.score, cols, values, stray=stray)


def place_section(grid: SectionGrid, version: str, codebook: Codebook) -> Placement:
    """Facts and unplaced values of one section grid read as template ``version``."""
    placer = _Placer(grid, codebook)
    if version not in ("2019", "2021"):
        raise ValueError(f"place_section reads the 2019 and 2021 templates, not {version!r}")
    if grid.section == "s2":
        _place_s2(placer, version)
    elif grid.section in ("s3", "s4"):
        _place_grid_section(placer, version)
    else:
        raise ValueError(f"unknown section {grid.section!r}")
    placer.out.notes.extend(grid.notes)
    return placer.out
