"""Borderless tables of a text PDF, rebuilt from the positions of its words.

WPS/Word exports often draw the statistics tables without ruling lines: Camelot's lattice finds
nothing and its stream parser cuts wrapped labels and merged headers apart. The layout still holds
the grid: the numbers of one column overlap horizontally (right-, left- or centre-aligned), the
labels of one label column share their left edge, and every data row has one line of numbers.
This module reads that back into the same grid shape the lattice reader gives a ruled table
(header rows with merged header cells, label columns, one row per number line, ``""`` for an
empty cell, never a value shifted left), so the normalizer places both alike.

Per page: pdfium character boxes → words → lines → segments between prose and headings →
sub-tables (a header run above number lines) → column bands (the numbers' x-extents, plus
columns only a header names) → label columns (shared left edges) → label cells (a label's wrapped
lines joined; a vertical group label goes to the first row it covers) → grid. Over page breaks:
header lines left at a page foot open the next page's first table; a headerless table at the top
of a page whose numbers fall in the bands of the table before continues it, takes the columns of
the whole table and has its cut row joined back, so :func:`extract.pdf_tables.stitch` joins them.
Only pages where the lattice reader found no table come here (see
:func:`extract.pdf_tables.page_tables_with_alternatives`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ogi.extract.pdf_grid import PageTable, grid_consistency
from ogi.extract.pdf_text import page_glyphs

METHOD = "pdf-words"
_NUMERIC = re.compile(r"^[-+]?\d+(?:[.,]\d+)*(?:万?元|件|项|个|%)?$")
_UNIT = re.compile(r"^(?:万?元|件|项|个|%)$")
_PLACEHOLDER = {"/", "／", "—", "——", "-", "－", "无", "\\"}
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．](?!\d))")
_HEADING = re.compile(r"^[一二三四五六七八九十]+、\S{4,}$")
_SENTENCE_END = ("。",)
# margin bands (fractions of the page height) where lone numbers are page numbers, not values
_MARGIN = 0.08
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_VALUE_MARKS = set("/／—－-\\")  # blank markers a value cell may print


@dataclass(frozen=True)
class Word:
    """A run of characters on one line with no visual gap: one cell's text on that line."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    # narrow gaps inside the word, (characters before it, x where it ends, x where it resumes):
    # where two cells of a tightly padded table touch, a header word may cross a column boundary
    cuts: tuple[tuple[int, float, float], ...] = ()
    gaps: tuple[float, ...] = ()  # every gap between its characters

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Line:
    words: list[Word]

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Structure:
    """Columns of one table: left edges of the label columns, x-extents of the value columns."""

    label_starts: list[float]
    bands: list[tuple[float, float]]
    boundary: float  # x separating the label area from the value area

    @property
    def width(self) -> int:
        return len(self.label_starts) + len(self.bands)

    def edges(self) -> list[float]:
        """Column boundaries, for :func:`extract.pdf_tables.stitch`'s column comparison."""
        mids = [round((a[1] + b[0]) / 2, 1) for a, b in zip(self.bands, self.bands[1:], strict=False)]
        return [round(x, 1) for x in self.label_starts] + [round(self.boundary, 1)] + mids


@dataclass
class SubTable:
    header: list[Line] = field(default_factory=list)
    body: list[Line] = field(default_factory=list)
    tail: list[Line] = field(default_factory=list)  # a next table's title left at the page foot


# ---------------------------------------------------------------- words and lines


def page_words(pdf, page: int) -> tuple[list[Word], float]:
    """Words of a 1-based pypdfium2 page (top-down y) and the page height.

    Built from :func:`extract.pdf_text.page_glyphs` (pdfium's loose character boxes: the
    characters of a line get (nearly) the same height, so lines cluster cleanly; ~10x faster than
    pdfplumber's ``extract_words``).
    """
    pg = pdf[page - 1]
    try:
        height = pg.get_size()[1]
    finally:
        pg.close()
    chars = [(g.char, g.x0, g.x1, height - g.y1, height - g.y0)
             for g in page_glyphs(pdf, page) if g.x1 > g.x0 and g.y1 > g.y0]
    return _words_from_chars(chars), height


def _words_from_chars(chars: Sequence[tuple[str, float, float, float, float]]) -> list[Word]:
    """Characters in content order → words: a character continues the word when it sits just
    right of the previous one (gap under half a character) on the same line. Blanks are skipped:
    pdfium also generates them where a font changes inside a word, and a real blank between cells
    leaves a gap anyway. Content order keeps a word whole when a fallback font shifts a glyph.
    A label and a number set apart by a fifth of a character are two cells (a tightly padded
    table: "章" | "0"); inside one text run they touch ("2020年")."""
    words: list[Word] = []
    run: list[tuple[str, float, float, float, float]] = []
    for c in chars:
        if not c[0].strip():
            continue
        if run:
            p = run[-1]
            h = min(c[4] - c[3], p[4] - p[3])
            overlap = min(c[4], p[4]) - max(c[3], p[3])
            gap = c[1] - p[2]
            p_val, c_val = p[0].isdigit() or p[0] in _VALUE_MARKS, c[0].isdigit() or c[0] in _VALUE_MARKS
            label_to_number = (p_val != c_val and not (p[0].isascii() and c[0].isascii())
                               and gap >= 0.2 * h)
            if label_to_number or not (-0.2 * h <= gap <= 0.5 * max(c[4] - c[3], p[4] - p[3]) and overlap >= 0.5 * h):
                words.append(_word(run))
                run = []
        run.append(c)
    if run:
        words.append(_word(run))
    return [part for w in words for part in _split_trailing_mark(w)]


def _split_trailing_mark(w: Word) -> list[Word]:
    """A blank marker ("无", "/") set apart at the end of a label word: the next cell's value in
    a tightly padded table ("章|无"); inside a label "无" runs on without a gap ("无法提供")."""
    if len(w.text) >= 2 and w.text[-1] in _PLACEHOLDER and w.cuts and w.cuts[-1][0] == len(w.text) - 1:
        k, end_x, resume_x = w.cuts[-1]
        return [Word(w.text[:k], w.x0, end_x, w.top, w.bottom, cuts=w.cuts[:-1], gaps=w.gaps[:-1]),
                Word(w.text[k:], resume_x, w.x1, w.top, w.bottom)]
    return [w]


def _word(run: Sequence[tuple]) -> Word:
    h = min(c[4] - c[3] for c in run)
    gaps = tuple(b[1] - a[2] for a, b in zip(run, run[1:], strict=False))
    cuts = tuple((k, run[k - 1][2], run[k][1]) for k, g in enumerate(gaps, start=1) if g >= 0.25 * h)
    return Word(
        text="".join(c[0] for c in run),
        x0=min(c[1] for c in run),
        x1=max(c[2] for c in run),
        top=min(c[3] for c in run),
        bottom=max(c[4] for c in run),
        cuts=cuts,
        gaps=gaps,
    )


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Words whose vertical centre is within 0.4 of a line height of the line's mean centre."""
    lines: list[Line] = []
    mean = 0.0
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if lines and abs(w.cy - mean) <= 0.4 * (w.bottom - w.top):
            lines[-1].words.append(w)
            mean += (w.cy - mean) / len(lines[-1].words)
        else:
            lines.append(Line([w]))
            mean = w.cy
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    return lines


# ---------------------------------------------------------------- spread labels

_LABEL_MARKS = set("（）()、，,.．：:“”《》·")


def _spread_member(w: Word, line_h: float) -> bool:
    """One character, or characters set apart at one even gap (a spread label's characters
    whose gap came out under half a character)."""
    if len(w.text) == 1:
        return bool(_CJK.match(w.text)) or w.text in _LABEL_MARKS or w.text.isdigit()
    return bool(w.gaps) and min(w.gaps) >= 0.15 * line_h and max(w.gaps) - min(w.gaps) <= max(1.0, 0.2 * min(w.gaps)) \
        and all(_CJK.match(ch) or ch in _LABEL_MARKS for ch in w.text)


def _even_runs(words: Sequence[Word], line_h: float) -> list[tuple[int, int]]:
    """(start, end) index ranges of words on one line that are single characters set apart at one
    even gap: a label in distributed alignment (分散对齐) or with wide character spacing. Digits
    only open a run ("1 . 属 于 …": the item number); a digit after a character is a value."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not _spread_member(words[i], line_h):
            i += 1
            continue
        j = i + 1
        gap0 = words[i].gaps[0] if words[i].gaps else None
        while j < len(words) and _spread_member(words[j], line_h):
            if words[j].text.isdigit() and not all(w.text.isdigit() for w in words[i:j]):
                break
            gaps = [words[j].x0 - words[j - 1].x1, *words[j].gaps]
            if gap0 is None:
                gap0 = gaps[0]
            if any(abs(g - gap0) > max(1.0, 0.2 * gap0) for g in gaps):
                break
            j += 1
        while j - 1 > i and words[j - 1].text in _PLACEHOLDER:
            j -= 1  # "无" after a label is a value, not the label's last character
        if j - i >= 2 and any(_CJK.match(w.text) and w.text not in _PLACEHOLDER for w in words[i:j]) \
                and words[i + 1].x0 - words[i].x1 >= 0.3 * line_h:
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _stacked(pair: Sequence[Word], near: Sequence[Line]) -> bool:
    """Two single characters with the same two single characters right above or below them and
    nothing between: two vertical labels side by side, not one spread label."""
    a, b = pair
    for line in near:
        at_a = [w for w in line.words if len(w.text) == 1 and abs(w.x0 - a.x0) <= 1.5]
        at_b = [w for w in line.words if len(w.text) == 1 and abs(w.x0 - b.x0) <= 1.5]
        between = [w for w in line.words if a.x1 + 1 < w.cx < b.x0 - 1]
        if at_a and at_b and not between:
            return True
    return False


def _own_column(run: Sequence[Word], near: Sequence[Line], line_h: float) -> bool:
    """The run's first character stands in a column of its own: a line next to it has one
    character at the same place followed by an ordinary word where the run's second one starts
    (the vertical 三、本年度办理结果 beside "（一）予以公开" spread over its cell)."""
    first, second = run[0], run[1]
    for line in near:
        for a, b in zip(line.words, line.words[1:], strict=False):
            if len(a.text) == 1 and abs(a.x0 - first.x0) <= 1.5 and abs(b.x0 - second.x0) <= 2 \
                    and len(b.text) >= 2 and not _spread_member(b, line_h):
                return True
    return False


def join_spread_labels(lines: Sequence[Line], line_h: float) -> list[Line]:
    """Lines with each label in distributed alignment joined back into one word.

    A typesetting system or Word's 分散对齐 spreads a label's characters over its cell; read as
    words, "规   章" is two cells and its last character lines up with every other label's
    (a false label column). A run is joined where it stands left of its own line's values (a row
    label), or, on a line without values, where a value line follows closely below and has no
    value under it (the one-character-per-line headers of table 四 stand over their columns, and
    a header at the foot of a page may have its values on the next); two characters only where
    they are not two vertical labels side by side.
    """
    value_x: list[list[tuple[float, float]] | None] = []
    for line in lines:
        vs = value_start(line)
        value_x.append(None if vs is None else [(w.x0, w.x1) for w in line.words[vs:] if is_value_token(w.text)])
    out: list[Line] = []
    for k, line in enumerate(lines):
        runs = _even_runs(line.words, line_h)
        if not runs:
            out.append(line)
            continue
        below = next((value_x[m] for m in range(k + 1, len(lines))
                      if value_x[m] is not None and lines[m].top - line.bottom <= 8 * line_h), None)
        near = [ln for ln in lines[max(0, k - 1):k + 2] if ln is not line
                and min(abs(ln.top - line.bottom), abs(line.top - ln.bottom)) < 1.5 * line_h]
        around = [ln for ln in lines[max(0, k - 2):k + 3] if ln is not line
                  and min(abs(ln.top - line.bottom), abs(line.top - ln.bottom)) < 3 * line_h]
        words: list[Word] = []
        last = 0
        for i, j in runs:
            run = line.words[i:j]
            x0, x1 = run[0].x0, run[-1].x1
            rest = line.words[j:]
            own_row = bool(rest) and value_start(Line(rest)) == 0 and all(
                not _spread_member(w, line_h) or w.text.isdigit() for w in rest[:1])
            if not own_row and (below is None or any(a < x1 and b > x0 for a, b in below)):
                continue  # a header standing over value columns (or over the next page's)
            start = i
            if _own_column(run, around, line_h):
                start, run = i + 1, run[1:]  # a vertical label's character beside the spread label
                x0 = run[0].x0
            if len(run) < 2 or (len(run) == 2 and _stacked(run, near)):
                continue
            words.extend(line.words[last:start])
            words.append(Word("".join(w.text for w in run), x0, x1, min(w.top for w in run),
                              max(w.bottom for w in run)))
            last = j
        words.extend(line.words[last:])
        out.append(Line(words))
    return out


# ---------------------------------------------------------------- line classes


def is_numeric(text: str) -> bool:
    return bool(_NUMERIC.match(text.replace(" ", "")))


def is_value_token(text: str) -> bool:
    return is_numeric(text) or text.strip() in _PLACEHOLDER


def _is_unit_after(words: Sequence[Word], i: int) -> bool:
    """A unit printed apart from its number ("30522.83 万元")."""
    return i > 0 and bool(_UNIT.match(words[i].text)) and is_numeric(words[i - 1].text)


def value_start(line: Line) -> int | None:
    """Index of the first value word when the line is a row of values (numbers right of the
    labels, nothing but values after them), else None."""
    words = line.words
    for i, w in enumerate(words):
        if is_value_token(w.text):
            rest = words[i:]
            if not all(is_value_token(x.text) or _is_unit_after(words, i + k) for k, x in enumerate(rest)):
                return None
            if not (any(is_numeric(x.text) for x in rest) or len(rest) >= 2):
                return None
            # a placeholder-like character ("无") far left of evenly spaced values: a character
            # of a vertical label beside the row
            gaps = [b.x0 - a.x1 for a, b in zip(words[i + 1:], words[i + 2:], strict=False)]
            while (i + 1 < len(words) and not is_numeric(words[i].text) and gaps
                   and words[i + 1].x0 - words[i].x1 > 2 * statistics.median(gaps)):
                i += 1
                gaps = gaps[1:]
            return i
    return None


def _is_breaker(lines: Sequence[Line], i: int, text_width: float, line_h: float) -> bool:
    """Prose or a section heading: a table never spans it. A numbered heading-like line set
    tightly against a value line is a row label ("一、本年新收…申请" centred on its numbers)."""
    line = lines[i]
    if value_start(line) is not None:
        return False
    if any(w.text.endswith(_SENTENCE_END) for w in line.words):
        return True
    if len(line.words) != 1:
        return False
    w = line.words[0]
    if (w.x1 - w.x0) > 0.6 * text_width:
        return True
    if not _HEADING.match(w.text):
        return False
    near = [ln for ln in (lines[i - 1] if i else None, lines[i + 1] if i + 1 < len(lines) else None)
            if ln is not None and max(ln.top - line.bottom, line.top - ln.bottom) < line_h]
    return not any(value_start(ln) is not None for ln in near)


_PAGE_NUMBER = re.compile(r"^(?:[-—–－·]+\s*\d{1,4}\s*[-—–－·]+|第\d{1,4}页(?:[,，/]?共\d{1,4}页)?|\d{1,4}\s*/\s*\d{1,4}"
                          r"|共\d{1,4}页[,，]?第\d{1,4}页|[Pp]age\d{1,4}(?:of\d{1,4})?)$")


def _off_margin(line: Line, height: float) -> Line | None:
    """A line in the top or bottom band of the page without its page furniture: a decorated page
    number ("— 5 —", "第 2 页 共 6 页") is dropped wherever it stands, a line that is only a bare
    number or one short word (a running title) is dropped whole. Other words stay: a table may
    run into the band, and its header's words can share a line with the page number."""
    if not (line.top > (1 - _MARGIN) * height or line.bottom < _MARGIN * height):
        return line
    if _PAGE_NUMBER.match("".join(w.text for w in line.words)):
        return None
    words = [w for w in line.words if not _PAGE_NUMBER.match(w.text)]
    text = "".join(w.text for w in words)
    if not words or (len(words) == 1 and len(text) <= 10) or (len(text) <= 4 and text.isdigit()):
        return None
    return Line(words)


def segments(lines: Sequence[Line], text_width: float, line_h: float) -> list[list[Line]]:
    """Runs of lines between prose, headings and large vertical gaps (tables are among those
    with value lines)."""
    out: list[list[Line]] = []
    cur: list[Line] = []
    for i, line in enumerate(lines):
        breaker = _is_breaker(lines, i, text_width, line_h)
        if breaker or (cur and line.top - cur[-1].bottom > 4 * line_h):
            if cur:
                out.append(cur)
            cur = [] if breaker else [line]
            continue
        cur.append(line)
    if cur:
        out.append(cur)
    return out


def split_subtables(segment: Sequence[Line], line_h: float) -> list[SubTable]:
    """Cut a segment where a header run (non-value lines reaching into the value area) starts."""
    tables: list[SubTable] = []
    cur = SubTable()
    pending: list[Line] = []  # non-value lines after some values: continuations or a new header
    for line in segment:
        if value_start(line) is None:
            if not cur.body:
                cur.header.append(line)
            else:
                pending.append(line)
            continue
        if pending:
            cut = _header_cut(cur, pending, line_h)
            if cut is not None:
                cur.body.extend(pending[:cut])
                tables.append(cur)
                cur = SubTable(header=list(pending[cut:]))
            else:
                cur.body.extend(pending)
            pending = []
        if not cur.body:
            _split_first_label(cur, line)
        cur.body.append(line)
    if cur.body:
        tables.append(cur)
    if pending and tables:
        cut = _header_cut(tables[-1], pending, line_h)
        tables[-1].body.extend(pending if cut is None else pending[:cut])
        if cut is not None:
            tables[-1].tail = list(pending[cut:])
    return tables


def _split_first_label(table: SubTable, first_values: Line) -> None:
    """Lines between the header and the first value line that hold label text only (the first
    row's label, centred on its values) belong to the body. The header ends with its last line
    of several words or centred over the values (a label may overrun its cell a little)."""
    vs = value_start(first_values) or 0
    x_values = min(w.x0 for w in first_values.words[vs:])
    last = max((i for i, ln in enumerate(table.header)
                if len(ln.words) >= 2 or any(w.cx >= x_values for w in ln.words)), default=-1)
    table.body[:0] = table.header[last + 1:]
    del table.header[last + 1:]


def _label_edges(table: SubTable) -> tuple[list[float], float]:
    """Left edges of the table's label words so far, and the left edge of its values."""
    first_value = min((w.x0 for ln in table.body if (vs := value_start(ln)) is not None
                       for w in ln.words[vs:] if is_numeric(w.text)), default=float("inf"))
    edges = [w.x0 for ln in table.body for w in ln.words[:value_start(ln)]]
    if not edges:
        # no label yet beside the values (labels centred above them on a continuation page): the
        # lines above the first values are label text; a caption reaching over the values is not
        edges = [w.x0 for ln in table.header for w in ln.words if w.x1 < first_value]
    return edges, first_value


def _header_cut(table: SubTable, pending: Sequence[Line], line_h: float) -> int | None:
    """Where a run of non-value lines between value lines turns into a new table's header: the
    first line with a word in the value area, or starting off every label edge seen so far
    without opening a numbered label (a caption such as 第二十条第（八）项)."""
    edges, first_value = _label_edges(table)
    for i, line in enumerate(pending):
        for w in line.words:
            if w.cx >= first_value:
                return i
            if len(w.text) >= 2 and not _NUMBERED.match(w.text) and not any(abs(w.x0 - e) <= 0.5 * line_h
                                                                             for e in edges):
                return i
        edges.extend(w.x0 for w in line.words)
    return None


# ---------------------------------------------------------------- columns


def _overlap_clusters(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def structure_of(table: SubTable, line_h: float) -> Structure | None:
    """Value bands from the numbers (plus header words over no number: an empty column) and label
    columns from the label words' shared left edges."""
    values: list[Word] = []
    labels: list[Word] = []
    for line in table.body:
        vs = value_start(line)
        for i, w in enumerate(line.words):
            (values if vs is not None and i >= vs else labels).append(w)
    # numbers and placeholders ("/", "—") alike: a column that printed only "/" is a column
    numeric = [w for w in values if is_value_token(w.text)] or values
    if not numeric:
        return None
    bands = _overlap_clusters([(w.x0, w.x1) for w in numeric])
    # labels are left-aligned and the longest nearly fills its column: the value area starts there
    label_right = max((w.x1 for w in labels), default=None)
    boundary = min(label_right + 0.5 * line_h, bands[0][0]) if label_right is not None \
        else bands[0][0] - line_h
    if table.header:
        lowest = max(line.bottom for line in table.header)
        leaves = [w for line in table.header if line.bottom >= lowest - 3 * line_h and len(line.words) >= 2
                  for w in line.words if w.cx > boundary]
        # two leaf headers nearest the same band: the farther one heads a column left empty
        owner: dict[int, Word] = {}
        extra: list[tuple[float, float]] = []
        for w in sorted(leaves, key=lambda w: min(abs(w.cx - (a + b) / 2) for a, b in bands)):
            i = _nearest_band(w.cx, bands)
            if i in owner and not (w.x0 <= owner[i].x1 and w.x1 >= owner[i].x0):
                extra.append((w.x0, w.x1))
            else:
                owner.setdefault(i, w)
        if extra:
            bands = sorted(bands + _overlap_clusters(extra))
    counts: dict[float, int] = {}
    for w in labels:
        if w.x1 <= boundary:
            key = next((k for k in counts if abs(k - w.x0) <= 2), round(w.x0, 1))
            counts[key] = counts.get(key, 0) + 1
    starts = sorted(k for k, n in counts.items() if n >= 2)
    if not starts and counts:
        starts = [min(counts)]
    return Structure(label_starts=starts, bands=bands, boundary=boundary)


def _matches(prev: Structure, table: SubTable) -> bool:
    """A headerless table whose numbers all fall in the previous table's value bands."""
    nums = [w for line in table.body if (vs := value_start(line)) is not None for w in line.words[vs:]
            if is_numeric(w.text)]
    return bool(nums) and all(any(w.x0 <= b + 3 and w.x1 >= a - 3 for a, b in prev.bands) for w in nums)


def _nearest_band(x: float, bands: Sequence[tuple[float, float]]) -> int:
    return min(range(len(bands)), key=lambda i: abs((bands[i][0] + bands[i][1]) / 2 - x))


def _header_span(w: Word, bands: Sequence[tuple[float, float]]) -> tuple[int, int]:
    """Bands a header word heads: those whose centre it covers (a header spanning columns), or
    else the band nearest its centre (numbers may sit at one side of a wide column)."""
    hit = [i for i, (a, b) in enumerate(bands) if w.x0 <= (a + b) / 2 <= w.x1]
    if hit:
        return hit[0], hit[-1]
    near = _nearest_band(w.cx, bands)
    return near, near


def _band_range(w: Word, bands: Sequence[tuple[float, float]]) -> tuple[int, int]:
    """Bands a value word overlaps, or the nearest one."""
    hit = [i for i, (a, b) in enumerate(bands) if w.x0 <= b and w.x1 >= a]
    if hit:
        return hit[0], hit[-1]
    near = _nearest_band(w.cx, bands)
    return near, near


def _label_col(w: Word, starts: Sequence[float]) -> int:
    """The label column a word starts in: the last column start at or left of it."""
    col = 0
    for k, s in enumerate(starts):
        if w.x0 >= s - 2:
            col = k
    return col


# ---------------------------------------------------------------- grid


@dataclass
class _Block:
    col: int
    texts: list[str]
    top: float
    bottom: float
    leaf: bool  # holds a row's own (rightmost) label on a value line


def _header_rows(lines: Sequence[Line], st: Structure, line_h: float) -> list[list[str | None]]:
    """Header cells: words joined down a column when stacked tightly and centred alike, placed at
    the first value band they cover (None over the rest of a spanning header)."""
    nl = len(st.label_starts)
    cells: list[dict] = []  # {c0, c1, texts, top, bottom, cx, w}
    for line in lines:
        for w in (part for word in line.words for part in _split_at_bands(word, st)):
            if nl and w.cx < st.boundary:
                c0 = c1 = 0
            else:
                b0, b1 = _header_span(w, st.bands)
                c0, c1 = nl + b0, nl + b1
            same_line = next((c for c in cells if c["c0"] == c0 and c["c1"] == c1
                              and abs(c["last_cy"] - w.cy) < 0.4 * line_h), None)
            if same_line:
                same_line["texts"][-1] += " " + w.text
                continue
            above = next((c for c in reversed(cells) if c["c0"] == c0 and c["c1"] == c1
                          and 0 <= w.top - c["bottom"] <= 0.9 * line_h
                          and abs(c["cx"] - w.cx) <= 0.3 * max(c["w"], w.x1 - w.x0) + 2), None)
            if above:
                above["texts"].append(w.text)
                above["bottom"], above["last_cy"] = w.bottom, w.cy
                continue
            cells.append({"c0": c0, "c1": c1, "texts": [w.text], "top": w.top, "bottom": w.bottom,
                          "cx": w.cx, "w": w.x1 - w.x0, "last_cy": w.cy})
    # The lowest single-column cell of each column (and the label-area corner) forms the last
    # header row, the leaf labels; spanning and higher cells go to rows above, by their tops.
    # (Vertically centred header cells have no common top line to read rows from.)
    leaf: dict[int, dict] = {}
    for c in cells:
        if c["c0"] == c["c1"] and (c["c0"] not in leaf or c["bottom"] > leaf[c["c0"]]["bottom"]):
            leaf[c["c0"]] = c
    if nl:
        corner = [c for c in cells if c["c0"] == 0 and c["c1"] == 0]
        leaf.pop(0, None)
    upper = [c for c in cells if not any(c is x for x in leaf.values()) and not (nl and c["c0"] == c["c1"] == 0)]
    rows: list[list[str | None]] = []
    row_top: float | None = None
    for c in sorted(upper, key=lambda c: (c["top"], c["c0"])):
        if row_top is None or c["top"] - row_top > 0.5 * line_h:
            rows.append([""] * st.width)
            row_top = c["top"]
        _put(rows[-1], c)
    if leaf or (nl and corner):
        rows.append([""] * st.width)
        for c in leaf.values():
            _put(rows[-1], c)
        if nl and corner:
            rows[-1][0] = "\n".join("\n".join(c["texts"]) for c in sorted(corner, key=lambda c: c["top"]))
    return rows


def _split_at_bands(w: Word, st: Structure) -> list[Word]:
    """A header word over several value bands, cut at its narrow inner gaps that fall between two
    of them: two header cells of a tightly padded table that touch ("商业企业|科研机构"). A word
    without such a gap (法人或其他组织 over five columns) spans them."""
    if not w.cuts or w.cx < st.boundary:
        return [w]
    b0, b1 = _header_span(w, st.bands)
    if b0 == b1:
        return [w]
    parts: list[Word] = []
    start_k, start_x = 0, w.x0
    for k, end_x, resume_x in w.cuts:
        between = any(st.bands[i][1] <= resume_x and end_x <= st.bands[i + 1][0] + 0.5 * (w.bottom - w.top)
                      and (st.bands[i][0] + st.bands[i][1]) / 2 < end_x
                      and (st.bands[i + 1][0] + st.bands[i + 1][1]) / 2 > resume_x
                      for i in range(b0, b1))
        if between:
            parts.append(Word(w.text[start_k:k], start_x, end_x, w.top, w.bottom))
            start_k, start_x = k, resume_x
    if not parts:
        return [w]
    parts.append(Word(w.text[start_k:], start_x, w.x1, w.top, w.bottom))
    return parts


def _split_at_label_starts(w: Word, starts: Sequence[float]) -> list[Word]:
    """A label word cut at a narrow inner gap where another label column starts: the last
    character of a vertical label touching the next column's wrapped line ("结|供")."""
    parts: list[Word] = []
    start_k, start_x = 0, w.x0
    for k, end_x, resume_x in w.cuts:
        if any(abs(resume_x - s) <= 2 for s in starts if s > start_x + 2):
            parts.append(Word(w.text[start_k:k], start_x, end_x, w.top, w.bottom))
            start_k, start_x = k, resume_x
    if not parts:
        return [w]
    parts.append(Word(w.text[start_k:], start_x, w.x1, w.top, w.bottom))
    return parts


def _put(row: list[str | None], cell: dict) -> None:
    """A header cell into its row: text at its first column, None over the rest of its span."""
    text = "\n".join(cell["texts"])
    j = cell["c0"]
    row[j] = f"{row[j]} {text}".strip() if row[j] else text
    for k in range(cell["c0"] + 1, cell["c1"] + 1):
        if row[k] == "":
            row[k] = None


def _values_at(line: Line, st: Structure) -> int | None:
    """Where the line's values start in this table; a placeholder-like word ("无", "-") left of
    every value band is label text (a character of a vertical label), not a value."""
    vs = value_start(line)
    while vs is not None and vs < len(line.words) and not is_numeric(line.words[vs].text) \
            and line.words[vs].x1 < st.bands[0][0] - 2:
        vs += 1
    return None if vs is None or vs >= len(line.words) else vs


def _body_rows(lines: Sequence[Line], st: Structure, line_h: float) -> list[list[str | None]]:
    """One row per value line; label fragments joined into cells per label column and given to
    the first value row they cover (a label-only block is a row of its own)."""
    nl = len(st.label_starts)
    grid: dict[int, list[str | None]] = {}
    ys: dict[int, float] = {}
    value_lines = [ln for ln in lines if _values_at(ln, st) is not None]
    for i, ln in enumerate(value_lines):
        row: list[str | None] = [""] * st.width
        vs = _values_at(ln, st)
        j = nl
        for k, w in enumerate(ln.words[vs:], start=vs or 0):
            if not _is_unit_after(ln.words, k):
                j = nl + _band_range(w, st.bands)[0]
            row[j] = f"{row[j]} {w.text}".strip() if row[j] else w.text
        grid[i] = row
        ys[i] = ln.cy
    # label fragments: (column, word) with the leaf flag of the value line they sit on
    frags: list[tuple[int, Word, bool]] = []
    for ln in lines:
        vs = _values_at(ln, st)
        label_words = [part for w in (ln.words[:vs] if vs is not None else ln.words)
                       for part in _split_at_label_starts(w, st.label_starts)]
        cols = [_label_col(w, st.label_starts) if nl else 0 for w in label_words]
        leaf_col = max(cols) if cols and vs is not None else None
        for w, c in zip(label_words, cols, strict=True):
            if not nl:
                continue
            frags.append((c, w, c == leaf_col))
    blocks: list[_Block] = []
    for col in range(nl):
        cur: _Block | None = None
        in_col = sorted((f for f in frags if f[0] == col), key=lambda f: (f[1].top, f[1].x0))
        for n, (_, w, leaf) in enumerate(in_col):
            if cur is not None and abs(w.cy - (cur.bottom - line_h / 2)) < 0.4 * line_h and not leaf:
                cur.texts[-1] += " " + w.text  # same line, same column
                continue
            # a vertical label's first character, its "、" on the next line: "三" / "、" / "本" …
            nxt = in_col[n + 1][1].text if n + 1 < len(in_col) else ""
            numbered = bool(_NUMBERED.match(w.text)) or (len(w.text) == 1 and bool(_NUMBERED.match(w.text + nxt[:1])))
            new = (cur is None or w.top - cur.bottom > 0.9 * line_h or numbered
                   or (leaf and cur.leaf))
            if new:
                cur = _Block(col, [w.text], w.top, w.bottom, leaf)
                blocks.append(cur)
            else:
                assert cur is not None
                cur.texts.append(w.text)
                cur.bottom = max(cur.bottom, w.bottom)
                cur.leaf = cur.leaf or leaf
    extra = len(value_lines)
    covered: list[tuple[int, int]] = []
    spans: dict[int, tuple[float, float]] = {}
    tol = 0.3 * line_h
    for b in blocks:
        hit = [i for i in range(len(value_lines)) if b.top - tol <= ys[i] <= b.bottom + tol]
        if hit:
            target = hit[0]
            covered.extend((i, b.col) for i in hit[1:])
        else:
            # a row with labels only: blocks of other label columns beside it share it
            target = next((i for i, (top, bottom) in spans.items()
                           if b.top <= bottom and b.bottom >= top and not grid[i][b.col]), extra)
            if target == extra:
                extra += 1
                grid[target] = [""] * st.width
                spans[target] = (b.top, b.bottom)
            top, bottom = spans[target]
            spans[target] = (min(top, b.top), max(bottom, b.bottom))
            ys[target] = spans[target][0]
        text = "\n".join(b.texts)
        cell = grid[target][b.col]
        grid[target][b.col] = f"{cell}\n{text}" if cell else text
    for i, c in covered:
        if grid[i][c] == "":
            grid[i][c] = None
    rows = [grid[i] for i in sorted(grid, key=lambda i: ys[i])]
    return _lift_group_labels(rows, nl)


_ITEM = re.compile(r"^\s*(?:(?P<a>\d+)[.、．]|[（(](?P<b>[一二三四五六七八九十\d]+)[）)]|(?P<c>[一二三四五六七八九十]+)、)")
_CN_DIGITS = "一二三四五六七八九"


def _item_number(text: str | None) -> int | None:
    """1 for "1." / "（一）" / "一、", 2 for the second item, ...; None when not numbered."""
    m = _ITEM.match(text or "")
    if not m:
        return None
    tok = m.group("a") or m.group("b") or m.group("c")
    if tok.isdigit():
        return int(tok)
    if tok == "十":
        return 10
    if len(tok) == 1:
        return _CN_DIGITS.index(tok) + 1 if tok in _CN_DIGITS else None
    return None


def _lift_group_labels(rows: list[list[str | None]], n_labels: int) -> list[list[str | None]]:
    """A group label centred on its merged cell lands beside a middle row; it belongs to the
    row of its first item. Moved up while the numbered labels of the next label column count
    down to 1 and the group's column is empty above (top-aligned labels never move)."""
    for k in range(n_labels - 1):
        r = 0
        while r < len(rows):
            text = rows[r][k]
            deeper = next((d for d in range(k + 1, n_labels) if rows[r][d]), None)
            label_only = not any(rows[r][n_labels:]) and deeper is None
            ref = r + 1 if label_only and r + 1 < len(rows) else r
            d = deeper if deeper is not None else next((d for d in range(k + 1, n_labels) if rows[ref][d]), None)
            if not text or d is None or (label_only and any(c for c in rows[r][:k] + rows[r][k + 1:])):
                r += 1
                continue
            top, n = ref, _item_number(rows[ref][d])
            while n is not None and n > 1:
                prev = next((i for i in range(top - 1, -1, -1) if rows[i][d]), None)
                if prev is None or _item_number(rows[prev][d]) != n - 1 \
                        or any(rows[i][k] for i in range(prev, top) if i != r):
                    break
                top, n = prev, n - 1
            if top == r:
                r += 1
                continue
            rows[top][k] = text
            for i in range(top + 1, max(r, ref) + 1):
                if i != r and rows[i][k] in ("", None):
                    rows[i][k] = None
            if label_only:
                del rows[r]  # the rows below move up: look at the same index again
            else:
                rows[r][k] = None
                r += 1
    return rows


def table_grid(table: SubTable, st: Structure, line_h: float) -> list[list[str | None]]:
    """The RawTable grid of one sub-table: header rows, then one row per value line."""
    return _header_rows(table.header, st, line_h) + _body_rows(table.body, st, line_h)


def _join_cut_row(before: list[list[str | None]], after: list[list[str | None]], n_labels: int) -> None:
    """Label text above the first values of a continuation page finishes the cells the page
    break cut: each fragment goes to the last cell begun in its column on the page before (a
    vertical group label may have begun many rows up). A fragment opening a numbered label is a
    row of its own and stays."""
    while after and not any(after[0][n_labels:]) and any(after[0][:n_labels]):
        first = after[0]
        texts = [(c, t) for c, t in enumerate(first[:n_labels]) if t]
        targets = [next((r for r in range(len(before) - 1, -1, -1) if before[r][c]), None) for c, _ in texts]
        if any(r is None for r in targets) or any(_NUMBERED.match(t) for _, t in texts):
            return
        for (c, t), r in zip(texts, targets, strict=True):
            before[r][c] = f"{before[r][c]}\n{t}"  # type: ignore[index]
        after.pop(0)


def _title_rows(lines: Sequence[Line], width: int) -> list[list[str | None]]:
    """Lines left under a table at the foot of a page, as full-width caption rows."""
    return [[" ".join(w.text for w in ln.words)] + [None] * (width - 1) for ln in lines]


# ---------------------------------------------------------------- document


@dataclass
class _Piece:
    """One sub-table as found on one page, before its columns are fixed."""

    page: int
    line_h: float
    sub: SubTable
    top_frac: float
    bottom_frac: float
    note: str = ""


def _has_values(lines: Sequence[Line]) -> bool:
    return any(value_start(ln) is not None for ln in lines)


def _page_pieces(words: Sequence[Word], height: float, page: int) -> list[_Piece]:
    """The sub-tables of one page; a last run of table-like lines without values in the lower
    part of the page is kept as a header-only piece (a header cut by the page break)."""
    if not words:
        return []
    line_h = statistics.median(w.bottom - w.top for w in words)
    lines = join_spread_labels([kept for ln in group_lines(words) if (kept := _off_margin(ln, height)) is not None],
                               line_h)
    if not lines:
        return []
    text_width = max(w.x1 for w in words) - min(w.x0 for w in words)
    segs = segments(lines, text_width, line_h)
    subs = [sub for seg in segs if _has_values(seg) for sub in split_subtables(seg, line_h)]
    if segs and not _has_values(segs[-1]) and segs[-1][0].top > 0.6 * height \
            and any(len(ln.words) >= 2 for ln in segs[-1]) and (not subs or subs[-1].body[-1].top < segs[-1][0].top):
        subs.append(SubTable(tail=list(segs[-1])))
    out = []
    for sub in subs:
        own = sub.header + sub.body or sub.tail
        out.append(_Piece(page, line_h, sub, round(min(ln.top for ln in own) / height, 4),
                          round(max(ln.bottom for ln in own) / height, 4)))
    return out


def _chain_structure(chain: Sequence[_Piece]) -> Structure | None:
    """Columns of a table continued over pages, from all its pieces at once (a page may show only
    a few of the label columns)."""
    merged = SubTable(header=chain[0].sub.header, body=[ln for p in chain for ln in p.sub.body])
    return structure_of(merged, chain[0].line_h)


def _continues(chain: Sequence[_Piece], piece: _Piece) -> bool:
    """The first table at the top of a page continues the table at the foot of the page before:
    it has no header (or only label text, a row cut by the page break, or the same header printed
    again) and its numbers fall in the same value bands."""
    last = chain[-1]
    if last.page != piece.page - 1 or not last.sub.body:
        return False
    st = _chain_structure(chain)
    if st is None:
        return False
    if _header_key(piece.sub.header) != _header_key(chain[0].sub.header) \
            and any(w.cx >= st.boundary for ln in piece.sub.header for w in ln.words):
        return False  # a header of its own, not the table's header printed again
    return _matches(st, piece.sub)


def _header_key(lines: Sequence[Line]) -> list[str]:
    return sorted(w.text for ln in lines for w in ln.words)


def _below(upper: Sequence[Line], lower: Sequence[Line], line_h: float) -> list[Line]:
    """``lower`` (lines of the next page) moved down to follow ``upper``, to read both as one
    header (a cell cut by the page break joins up again)."""
    if not upper or not lower:
        return list(lower)
    dy = max(ln.bottom for ln in upper) + 0.5 * line_h - min(ln.top for ln in lower)
    return [Line([Word(w.text, w.x0, w.x1, w.top + dy, w.bottom + dy) for w in ln.words]) for ln in lower]


def borderless_tables(source: str, pages: Sequence[int]) -> list[PageTable]:
    """Tables read from word positions on the given (1-based) pages, in page order.

    Over a page break: header lines left at the foot of a page open the first table of the next
    page; a first table with no header whose numbers fall in the value bands of the table at the
    foot of the page before continues it (:func:`_continues`), and both get the columns of the
    whole table so that :func:`extract.pdf_tables.stitch` joins them.
    """
    import pypdfium2 as pdfium

    chains: list[list[_Piece]] = []
    pdf = pdfium.PdfDocument(source)
    try:
        for p in sorted(pages):
            words, height = page_words(pdf, p)
            for k, piece in enumerate(_page_pieces(words, height, p)):
                last = chains[-1][-1] if chains else None
                if k == 0 and last is not None and last.page == p - 1 and last.sub.tail and piece.sub.body:
                    piece.sub.header = last.sub.tail + _below(last.sub.tail, piece.sub.header, piece.line_h)
                    last.sub.tail = []
                    piece.note = " (header begun at the foot of the previous page)"
                    chains.append([piece])
                elif k == 0 and chains and _continues(chains[-1], piece):
                    repeated = piece.sub.header and _header_key(piece.sub.header) == _header_key(chains[-1][0].sub.header)
                    piece.sub.body = ([] if repeated else piece.sub.header) + piece.sub.body
                    piece.sub.header = []
                    piece.note = " (continues the previous page's table" + (", its header repeated)" if repeated else ")")
                    chains[-1].append(piece)
                else:
                    chains.append([piece])
    finally:
        pdf.close()
    out: list[PageTable] = []
    for chain in chains:
        head = chain[0]
        n_values = sum(1 for p in chain for ln in p.sub.body if value_start(ln) is not None)
        if not head.sub.header and n_values < 2:
            continue  # a lone number line: not evidence of a table
        st = _chain_structure(chain)
        if st is None or not st.bands:
            continue
        grids = [table_grid(piece.sub, st, piece.line_h) for piece in chain]
        for before, after in zip(grids, grids[1:], strict=False):
            _join_cut_row(before, after, len(st.label_starts))
        for piece, rows in zip(chain, grids, strict=True):
            rows = rows + _title_rows(piece.sub.tail, st.width)
            out.append(PageTable(
                page=piece.page, rows=rows, method=METHOD, confidence=None, col_edges=st.edges(),
                top_frac=piece.top_frac, bottom_frac=piece.bottom_frac,
                note=f"page {piece.page}: borderless table read from word positions{piece.note}",
            ))
    return sorted(out, key=lambda t: t.page)


def borderless_candidates(source: str, pages: Sequence[int], min_consistency: float,
                          ruled: Mapping[int, Sequence[PageTable]] | None = None) -> dict[int, list[PageTable]]:
    """Per page, the word-position tables when every one of them is a consistent grid
    (:func:`extract.pdf_tables.grid_consistency`); pages without such tables are left out.

    ``ruled``: pages that also hold ruled tables (read by the lattice reader); word tables there
    that overlap one of them vertically are that table read again and are left out."""
    if not pages:
        return {}
    by_page: dict[int, list[PageTable]] = {}
    for t in borderless_tables(source, pages):
        if ruled and t.page in ruled and any(_overlaps(t, r) for r in ruled[t.page]):
            continue
        by_page.setdefault(t.page, []).append(t)
    return {p: ts for p, ts in by_page.items() if all(grid_consistency(t.rows) >= min_consistency for t in ts)}


def _overlaps(a: PageTable, b: PageTable) -> bool:
    """Vertical extents (fractions of the page) that overlap; an unknown extent overlaps all."""
    if None in (a.top_frac, a.bottom_frac, b.top_frac, b.bottom_frac):
        return True
    assert a.top_frac is not None and a.bottom_frac is not None and b.top_frac is not None and b.bottom_frac is not None
    return min(a.bottom_frac, b.bottom_frac) - max(a.top_frac, b.top_frac) > 0.005
