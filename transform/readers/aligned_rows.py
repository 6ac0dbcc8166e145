"""Table 三 from column-aligned text (``pdftotext -layout``, mutool, a PDF viewer's copy): the
numbers of each row aligned to the template's rows.

Such text keeps the columns (one row's numbers on one line, at stable character offsets) but not
the rows: a label wrapped in its cell comes out as several lines with the numbers on only one of
them (first, middle or last, as the PDF centred them), the label column of a group (（三）不予公开)
and the vertical 三、本年度办理结果 are shredded into pieces on the same lines, and a page break puts
a footer and the repeated header between two lines of one label. Reading each line on its own gives
rows without numbers and numbers without rows.

What the template fixes is the order of the rows. So the lines that carry numbers are aligned, in
order, to the rows the template prints (:func:`~ogi.transform.knowledge.template_rows.row_sequences`:
its leaf rows, a group printed whole or with a row of its own), by dynamic programming over an
evidence score: how much of the row's numbered label (bigrams of "4.保护第三方合法权益") lies in the
label text between the previous and the next line with numbers — a row's label lies there however
its cell was wrapped and wherever its numbers sit — plus how well the text on the numbers' own line
fits the row, plus a bonus when consecutive lines through the numbers' line spell the row's whole
label ("5.属于三类内部事务信" + "息"). A group row takes a line only with its label alone on it (its
label spans its sub-rows' lines); a sequence that leaves out rows whose labels the text prints
costs. A row without a line (all its cells blank) costs a skip; a line given no row costs a drop.
For every line the best alignment is compared with the best one that gives the line another row
(max-marginals): a line whose margin is small is ambiguous and stays unplaced with both rows
named, never guessed; so is a line whose row label is nowhere near it.

Before aligning, two pdftotext habits are undone where the numbers prove it: a row's first value
set on its label's line and the rest below (joined when the offsets complement and the row's total
adds up), and two close rows set column by column, one number a line (rebuilt when every column
comes as often and each row adds up; else those numbers stay unplaced).

Columns: a line with one value per column is read in order. A shorter line (empty cells) is read by
the character offsets of its numbers against the columns' spans on the same page (the lines that
are whole tell them; pdftotext sets each page on its own grid); a value that fits no column or
more than one stays unplaced.

Confidence: a row whose label text is on the numbers' own line and names that row keeps the
label's score; a row told only by the labels around the numbers carries ``ALIGNED_CONFIDENCE``, a
column told by offsets ``POSITION_CONFIDENCE`` — they are inferences, and the report says so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ogi.core.models import Fact, Unplaced, ValueStatus
from ogi.transform.knowledge.codebook import Codebook
from ogi.transform.knowledge.labels import (
    canonical_text,
    match_label,
    numbered_text,
    split_numbered,
    strip_numbering,
)
from ogi.transform.knowledge.markers import section_markers
from ogi.transform.knowledge.template_rows import RowSequence, TemplateRow, row_sequences
from ogi.transform.knowledge.values import is_value, parse_cell, parse_value

ALIGNED_CONFIDENCE = 0.85  # the row was told by the label text around the numbers, not on their line
POSITION_CONFIDENCE = 0.9  # the column was told by the value's character offset (a short line)
MARGIN = 0.35  # the best alignment must beat any other row for the line by this much
MIN_COVERAGE = 0.34  # share of the row label's bigrams that must lie around its numbers
SKIP_COST = 0.4  # a template row without a line of numbers (its cells all blank)
ABSENT_COST = 1.0  # a sequence leaves out a row whose label the section prints (a group read whole
ABSENT_LABEL = 0.8  # ... when this share of the row label's bigrams is in the section's text)
DROP_COST = 1.0  # a line of numbers given no row
OWN_WEIGHT = 0.5  # weight of the numbers' own line in the evidence
WHOLE_LABEL = 0.5  # a row's whole label on consecutive lines through the numbers' line
GROUP_OWN = 0.6  # a group row (（三）不予公开) takes a line only with its label on it this well ...
GROUP_AROUND = 0.2  # ... else its label around the line counts this much
CHOICE_COST = {"rows": 0.0, "whole": 0.2, "group+rows": 0.4}  # printing choices the template allows
MIN_WHOLE_LINES = 3  # lines with one value per column needed before the text counts as column-aligned
SHIFT = 5  # a value right after CJK text may sit this many characters left of its column
_SPACED_GAP = 16  # single characters this close are one label spread over its cell (分散对齐)
_LABEL_LINES = 8  # a row's label spans at most this many lines each side of its numbers
MAX_LINES_PER_ROW = 4  # more lines of numbers than this per template row: not a table to align
_TOKEN = re.compile(r"\S+")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3400-\u9fff]")  # with the radicals some fonts map to (⻚)
_GLUED = re.compile(r"^(?P<label>.*[\u2018-\u201f\u2e80-\u2fdf\u3001-\u301f\u3400-\u9fff\uff01-\uff0f\uff1a-\uff20])(?P<num>\d[\d,]*(?:\.\d+)?|[/／—－]+)$")
_UNIT = re.compile(r"^(?:万元|亿元|千元|元)$")
_LABEL_PUNCT = set("（）()“”\"'、，,。:：;；《》〈〉【】[]")
# A page footer on a line of its own: "— 5 —", "-5-", "第 5 页", "第5页 共6页", "5", "5/6".
FOOTER = re.compile(r"^(?:[-—–－]+\s*\d{1,3}\s*[-—–－]+|第\s*\d{1,3}\s*[页⻚](?:\s*[,，/]?\s*共\s*\d{1,3}\s*[页⻚])?"
                    r"|\d{1,3}|\d{1,3}\s*/\s*\d{1,3})$")


@dataclass(frozen=True)
class Token:
    start: int  # character offset on the line
    end: int
    text: str


@dataclass
class LayoutLine:
    number: int  # 1-based line number in the document text
    page: int  # 0-based page (form feeds and footers count)
    raw: str
    cells: list[tuple[int, str]] = field(default_factory=list)  # label text runs: (offset, text)
    values: list[Token] = field(default_factory=list)  # the line's trailing run of values
    footer: bool = False
    header: bool = False
    cols: list[int] | None = None  # columns of ``values`` when told before (a row joined from two lines)
    part_cells: list[str] = field(default_factory=list)  # label runs of the line joined into this one
    made: str = ""  # how the line's values were put together from other lines, if they were

    @property
    def label(self) -> str:
        return " ".join(t for _, t in self.cells)


@lru_cache(maxsize=4096)
def _value_like(text: str) -> bool:
    return is_value(text) or parse_value(text)[1] in (ValueStatus.NOT_APPLICABLE, ValueStatus.NONE_STATED)


@lru_cache(maxsize=4096)
def _junk_like(text: str) -> bool:
    """Neither label nor value: a stray mark where a value should be ("·", "*")."""
    return not _CJK.search(text) and not _value_like(text) and not (set(text) & _LABEL_PUNCT) \
        and not any(ch.isalnum() for ch in text)


def layout_tokens(raw: str) -> list[Token]:
    """The words of a line with their offsets; a value run into its label ("不再处0", "秘密/") is
    cut off it, an amount's unit printed apart ("10289 万元") joined to it."""
    out: list[Token] = []
    for m in _TOKEN.finditer(raw):
        text, start = m.group(0), m.start()
        glued = _GLUED.match(text)
        if glued and not _value_like(text):  # "不再处0": the value ran into its label
            cut = start + glued.start("num")
            out.append(Token(start, cut, glued.group("label")))
            out.append(Token(cut, m.end(), glued.group("num")))
        elif _UNIT.match(text) and out and _value_like(out[-1].text) and start - out[-1].end <= 1:
            out[-1] = Token(out[-1].start, m.end(), out[-1].text + text)  # "10289 万元"
        else:
            out.append(Token(start, m.end(), text))
    return out


def layout_line(number: int, page: int, raw: str) -> LayoutLine:
    """One line split into label runs and its trailing run of values (numbers and blank marks,
    with any stray mark between them)."""
    line = LayoutLine(number, page, raw)
    text = unicodedata.normalize("NFKC", raw).strip()
    if FOOTER.match(text) and not text.isdigit():  # a bare number: see ``bare_footers``
        line.footer = True
        return line
    toks = layout_tokens(raw)
    k = len(toks)
    while k > 0 and (_value_like(toks[k - 1].text) or _junk_like(toks[k - 1].text)):
        k -= 1
    while k < len(toks) and _junk_like(toks[k].text):
        k += 1  # a stray mark before the first value is part of the label side
    if any(_value_like(t.text) for t in toks[k:]):
        line.values = toks[k:]
        label_toks = toks[:k]
    else:
        label_toks = toks
    run: list[Token] = []
    for t in label_toks:
        spaced = len(t.text) == 1 and len(run[-1].text) == 1 if run else False
        if run and t.start - run[-1].end >= 2 and not (spaced and t.start - run[-1].end <= _SPACED_GAP):
            line.cells.append((run[0].start, "".join(x.text for x in run)))
            run = []
        run.append(t)
    if run:
        line.cells.append((run[0].start, "".join(x.text for x in run)))
    return line


def _texts(line: LayoutLine, *, own: bool = False) -> list[str]:
    """The label texts of a line: each run, and the runs joined (a label spread over its cell, or
    broken by a neighbouring cell's piece, is read whole too); with ``own`` also the label of the
    line's other part (a row whose first value pdftotext set on its label's line)."""
    cells = [t for _, t in line.cells] + (line.part_cells if own else [])
    return [*cells, "".join(cells)] if len(cells) > 1 else cells


_QUOTES = "'\"“”‘’「」『』〝〞＂＇`"


@lru_cache(maxsize=65536)
def _span_key(text: str) -> str:
    """A label's text to compare whole: ``numbered_text`` without its leading numbering — but a
    quote it starts with is kept (a closing ” on a line of its own ends the label before it, so it
    must not vanish from the start of the next one)."""
    raw = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    lead = raw[0] if raw and raw[0] in _QUOTES else ""
    return lead + strip_numbering(numbered_text(raw))


def bare_footers(lines: list[LayoutLine], reach: int = 3) -> None:
    """A line that is one bare number is a page footer ("5") — unless other such lines are near it:
    then it is one of a column of numbers set one a line (``rebuild_column_runs``)."""
    lone = [i for i, ln in enumerate(lines) if not ln.cells and len(ln.values) == 1]
    for i in lone:
        if lines[i].values[0].text.isdigit() and not any(0 < abs(i - j) <= reach for j in lone):
            lines[i].footer, lines[i].values = True, []


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else set()


@dataclass
class _Row:
    """One template row's evidence keys."""

    row: TemplateRow
    grams: list[set[str]]  # bigrams of each numbered label


@dataclass
class AlignResult:
    facts: list[Fact]
    unplaced: list[Unplaced]
    notes: list[str]


def _adds_up(values: list[Token], cols: list[int], total: int) -> bool:
    """Whether the row's total is printed and equals the sum of its other cells (blank marks and
    empty cells count as nothing)."""
    if total not in cols:
        return False
    nums = {c: parse_value(t.text)[0] for c, t in zip(cols, values, strict=True)}
    if any(not _value_like(t.text) for t in values):
        return False
    others = sum(v or 0.0 for c, v in nums.items() if c != total)
    return abs((nums[total] or 0.0) - others) < 1e-9


class SectionAligner:
    """Aligns the value lines of one section (三) of column-aligned text to its template rows."""

    def __init__(self, section: str, version: str, codebook: Codebook, *, pages: bool):
        self.section = section
        self.version = version
        self.cb = codebook
        self.cols = tuple(codebook.cols(section, version))
        self.sequences: tuple[RowSequence, ...] = row_sequences(section, version)
        rows = {r.code: r for s in self.sequences for r in s.rows}
        self.rows = [_Row(r, [_bigrams(numbered_text(t)) for t in r.labels]) for r in rows.values()]
        self.index = {r.row.code: i for i, r in enumerate(self.rows)}
        self.label_codes: dict[str, set[str]] = {}
        for r in rows.values():
            for t in r.labels:
                self.label_codes.setdefault(_span_key(t), set()).add(r.code)
        vocab = [canonical_text(codebook.get(c).label_zh) for c in codebook.codes(section, "col")]
        self.header_vocab = [v for v in (*vocab, *section_markers(section)) if v]
        self.pages = pages
        self.printed: set[str] = set()  # rows whose label the section prints
        self.group_lines: set[str] = set()  # groups whose label stands alone on a line of numbers
        self.facts: list[Fact] = []
        self.unplaced: list[Unplaced] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------------ lines

    def _is_header_text(self, line: LayoutLine) -> bool:
        texts = [canonical_text(t) for _, t in line.cells]
        texts = [t for t in texts if t]
        return bool(texts) and all(any(t in v or v in t for v in self.header_vocab) for t in texts)

    def mark_headers(self, lines: list[LayoutLine]) -> None:
        """The header block at the top of the section and after each page break (a repeated header):
        lines without values whose every text run is a header word (自然人, 商业企业 …) or a marker."""
        at_top = True
        page = lines[0].page if lines else 0
        for line in lines:
            if line.page != page:
                page, at_top = line.page, True
            if line.footer or (not line.cells and not line.values):
                continue
            if at_top and not line.values and self._is_header_text(line):
                line.header = True
                continue
            at_top = False

    # ------------------------------------------------------------------ evidence

    def _window_grams(self, lines: list[LayoutLine], lo: int, hi: int) -> set[str]:
        grams: set[str] = set()
        for line in lines[lo:hi]:
            if line.header or line.footer:
                continue
            for text in _texts(line):
                grams |= _bigrams(numbered_text(text))
        return grams

    def _own(self, line: LayoutLine, row: _Row) -> float:
        best = 0.0
        for text in _texts(line, own=True):
            for piece in split_numbered(text) or [text]:
                g = _bigrams(numbered_text(piece))
                if not g:
                    continue
                share = max(len(g & rg) / len(g) for rg in row.grams)
                best = max(best, share * min(1.0, len(g) / 3))
        return best

    def _whole_label(self, lines: list[LayoutLine], lo: int, i: int, hi: int) -> set[str]:
        """The rows whose whole label is the text of consecutive lines through the numbers' line
        ("5.属于三类内部事务信" + "息"): the row-label piece of each line (its last run, after any
        group label before it), joined. Tells which of two labels around the numbers owns them."""
        pieces: list[tuple[int, str]] = []
        for j in range(lo, hi):
            line = lines[j]
            if line.header or line.footer:
                continue
            text = ""
            if line.cells:
                parts = split_numbered(line.cells[-1][1])
                text = parts[-1] if parts else line.cells[-1][1]
            pieces.append((j, text))
        found: set[str] = set()
        at = next((p for p, (j, _t) in enumerate(pieces) if j == i), None)
        if at is None or not _span_key(pieces[at][1]):
            return found  # no text of its own: the line says nothing
        for a in range(at, max(-1, at - _LABEL_LINES), -1):
            for b in range(at, min(len(pieces), at + _LABEL_LINES)):
                joined = "".join(t for _j, t in pieces[a:b + 1])
                found |= self.label_codes.get(_span_key(joined), set())
        return found

    def evidence(self, lines: list[LayoutLine], at: list[int]) -> tuple[list[list[float]], list[list[float]]]:
        """(score, coverage) of every template row for every value line (``at``: their indexes); the
        coverage, for the floor ``MIN_COVERAGE``, looks as far as the neighbours' windows."""
        scores, coverage = [], []
        for k, i in enumerate(at):
            lo = at[k - 1] + 1 if k else 0
            hi = at[k + 1] if k + 1 < len(at) else len(lines)
            window = self._window_grams(lines, lo, hi)
            for text in lines[i].part_cells:
                window |= _bigrams(numbered_text(text))
            # the neighbours' windows too, for the floor only: two labels may share a line above
            # both rows' numbers ("3.要求提供公开出版物  4.无正当理由大量反复")
            wide = window | self._window_grams(lines, at[k - 2] + 1 if k > 1 else 0,
                                               at[k + 2] if k + 2 < len(at) else len(lines))
            row_s, row_c = [], []
            whole = self._whole_label(lines, lo, i, hi)
            owns = [self._own(lines[i], r) for r in self.rows]
            leaf_own = max((o for o, r in zip(owns, self.rows, strict=True) if not r.row.is_group), default=0.0)
            for r, own in zip(self.rows, owns, strict=True):
                cov = max((len(g & window) / len(g) for g in r.grams if g), default=0.0)
                if r.row.is_group and (own < GROUP_OWN or leaf_own >= GROUP_OWN):
                    # a group's label spans its sub-rows' lines: around any of them, or beside a
                    # sub-row's label, it says nothing about a line of its own — only its label
                    # alone on the numbers' line does
                    cov *= GROUP_AROUND
                elif r.row.is_group:
                    self.group_lines.add(r.row.code)
                row_c.append(max((len(g & wide) / len(g) for g in r.grams if g), default=0.0))
                row_s.append(cov + OWN_WEIGHT * own + (WHOLE_LABEL if r.row.code in whole else 0.0))
            scores.append(row_s)
            coverage.append(row_c)
        return scores, coverage

    # ------------------------------------------------------------------ alignment

    def printed_labels(self, lines: list[LayoutLine]) -> set[str]:
        """The rows whose label the section's text prints (most of its bigrams anywhere in it)."""
        grams = self._window_grams(lines, 0, len(lines))
        return {r.row.code for r in self.rows
                if max((len(g & grams) / len(g) for g in r.grams if g), default=0.0) >= ABSENT_LABEL}

    def _plausible(self, seq: RowSequence) -> bool:
        """Whether a printing choice has any support (the others cannot win, and cost time): a group
        read whole when some of its sub-rows' labels are missing from the text, a group with a row
        of its own when its label stands alone on a line of numbers."""
        for group, mode in seq.choices:
            if mode == "whole" and all(r.row.code in self.printed for r in self.rows if r.row.group == group):
                return False
            if mode == "group+rows" and group not in self.group_lines:
                return False
        return True

    def _align(self, scores: list[list[float]], seq: RowSequence) -> tuple[float, list[int | None], dict]:
        """Best alignment of the value lines to ``seq`` (each line → a position in seq or None), its
        score, and the max-marginals {(line, code or None): best score of an alignment with it}."""
        m, n = len(scores), len(seq.rows)
        col = [self.index[r.code] for r in seq.rows]
        neg = float("-inf")
        f = [[neg] * (n + 1) for _ in range(m + 1)]
        f[0][0] = 0.0
        for k in range(m + 1):
            for j in range(n + 1):
                if k == 0 and j == 0:
                    continue
                best = neg
                if k and j:
                    best = f[k - 1][j - 1] + scores[k - 1][col[j - 1]]
                if j:
                    best = max(best, f[k][j - 1] - SKIP_COST)
                if k:
                    best = max(best, f[k - 1][j] - DROP_COST)
                f[k][j] = best
        g = [[neg] * (n + 1) for _ in range(m + 1)]
        g[m][n] = 0.0
        for k in range(m, -1, -1):
            for j in range(n, -1, -1):
                if k == m and j == n:
                    continue
                best = neg
                if k < m and j < n:
                    best = scores[k][col[j]] + g[k + 1][j + 1]
                if j < n:
                    best = max(best, g[k][j + 1] - SKIP_COST)
                if k < m:
                    best = max(best, g[k + 1][j] - DROP_COST)
                g[k][j] = best
        cost = sum(CHOICE_COST[mode] for _g, mode in seq.choices)
        in_seq = {r.code for r in seq.rows}
        cost += ABSENT_COST * sum(1 for c in self.printed if c not in in_seq)
        marginals: dict[tuple[int, str | None], float] = {}
        for k in range(1, m + 1):
            for j in range(1, n + 1):
                v = f[k - 1][j - 1] + scores[k - 1][col[j - 1]] + g[k][j] - cost
                key = (k - 1, seq.rows[j - 1].code)
                marginals[key] = max(marginals.get(key, neg), v)
            drop = max(f[k - 1][j] - DROP_COST + g[k][j] for j in range(n + 1)) - cost
            marginals[(k - 1, None)] = max(marginals.get((k - 1, None), neg), drop)
        # backtrack the best path
        path: list[int | None] = [None] * m
        k, j = m, n
        while k or j:
            if k and j and f[k][j] == f[k - 1][j - 1] + scores[k - 1][col[j - 1]]:
                path[k - 1] = j - 1
                k, j = k - 1, j - 1
            elif j and f[k][j] == f[k][j - 1] - SKIP_COST:
                j -= 1
            else:
                path[k - 1] = None
                k -= 1
        return f[m][n] - cost, path, marginals

    # ------------------------------------------------------------------ columns

    def _spans(self, lines: list[LayoutLine]) -> dict[int, list[tuple[int, int]] | None]:
        """Per page, each column's character span on the lines with one value per column (None when
        the page has none, or its columns overlap)."""
        n = len(self.cols)
        acc: dict[int, list[list[int]]] = {}
        for line in lines:
            if len(line.values) != n:
                continue
            spans = acc.setdefault(line.page, [[10**9, -1] for _ in range(n)])
            last_label = max((off + len(t) for off, t in line.cells), default=-10)
            for c, tok in enumerate(line.values):
                if c == 0 and tok.start - last_label < 3:
                    continue  # right after its label: pdftotext may have pushed it left
                spans[c][0] = min(spans[c][0], tok.start)
                spans[c][1] = max(spans[c][1], tok.end)
        out: dict[int, list[tuple[int, int]] | None] = {}
        for page, spans in acc.items():
            ok = all(s[1] >= 0 for s in spans) and all(spans[c][1] <= spans[c + 1][0] for c in range(n - 1))
            out[page] = [(s[0], s[1]) for s in spans] if ok else None
        return out

    def columns(self, line: LayoutLine, spans: list[tuple[int, int]] | None) -> list[int] | str:
        """The column of each value on ``line``, or why they cannot be told."""
        n = len(self.cols)
        if line.cols is not None:
            return line.cols
        if len(line.values) == n:
            return list(range(n))
        if len(line.values) > n:
            return f"{len(line.values)} values for the {n} columns"
        if spans is None:
            return (f"{len(line.values)} values for {n} columns and no whole line on the page to tell the "
                    "columns by their offsets")
        last_label = max((off + len(t) for off, t in line.cells), default=-10)
        options: list[list[int]] = []
        for i, tok in enumerate(line.values):
            cand = [c for c, (a, b) in enumerate(spans) if tok.start <= b and tok.end >= a - 1]
            if not cand and i == 0 and tok.start - last_label < 3:
                cand = [c for c, (a, _b) in enumerate(spans) if 0 < a - tok.start <= SHIFT]
            options.append(cand)
        found: list[list[int]] = []

        def walk(i: int, after: int, chosen: list[int]) -> None:
            if len(found) > 1:
                return
            if i == len(options):
                found.append(list(chosen))
                return
            for c in options[i]:
                if c > after:
                    walk(i + 1, c, [*chosen, c])

        walk(0, -1, [])
        if len(found) == 1:
            return found[0]
        return (f"{len(line.values)} values for {n} columns: their offsets fit "
                f"{'no' if not found else 'more than one'} placing in the columns of the page")

    def rebuild_column_runs(self, lines: list[LayoutLine], spans: dict[int, list[tuple[int, int]] | None]) -> int:
        """Rows that pdftotext set column by column — one number a line, the first column's numbers
        of two close rows, then the second column's … — rebuilt: the run's offsets must give each
        column the same number of times, in column order, and every rebuilt row's total must equal
        the sum of its columns; else the run's numbers stay unplaced (``fragment``), never read as
        rows of their own. Returns the rows rebuilt."""
        n = len(self.cols)
        total = self.cols.index("s3c.total") if "s3c.total" in self.cols else None
        rebuilt = 0
        i = 0
        while i < len(lines):
            run: list[int] = []
            j = i
            while j < len(lines) and not lines[j].footer and not lines[j].cells and len(lines[j].values) <= 1:
                if lines[j].values:
                    run.append(j)
                j += 1
            if len(run) < 2:
                i = j + 1 if j == i else j
                continue
            cols = [self.columns(lines[r], spans.get(lines[r].page)) for r in run]
            ok = all(not isinstance(c, str) for c in cols) and len(run) % n == 0
            seq = [c[0] for c in cols if not isinstance(c, str)]
            rows: list[list[Token]] = []
            if ok and seq == sorted(seq) and all(seq.count(c) == len(run) // n for c in range(n)):
                k = len(run) // n
                rows = [[lines[run[c * k + r]].values[0] for c in range(n)] for r in range(k)]
                if total is not None and not all(_adds_up(row, list(range(n)), total) for row in rows):
                    rows = []
            if rows:
                for r, line_index in enumerate(run):
                    line = lines[line_index]
                    if r < len(rows):
                        line.values, line.cols = rows[r], list(range(n))
                        line.made = "row rebuilt from numbers set one a line, column by column"
                    else:
                        line.values = []
                rebuilt += len(rows)
            else:
                for line_index in run:
                    line = lines[line_index]
                    for tok in line.values:
                        self._unplaced(line, tok, "one of a run of numbers set one a line: their rows cannot be "
                                       "told from the offsets", None)
                    line.values = []
            i = j
        return rebuilt

    def join_split_rows(self, lines: list[LayoutLine], spans: dict[int, list[tuple[int, int]] | None]) -> int:
        """Join the two parts of a row that pdftotext set on two lines: the first value(s) on the line
        of the label ("4.保护第三方合法权益 0"), the rest a line or two below (maybe past a whole line
        of the next row). Joined only when the parts' offsets place them in complementary columns —
        the first ones and the rest — and the row's total then equals the sum of its columns (a
        row whose cells are partly blank must not swallow its neighbour). Returns how many."""
        n = len(self.cols)
        total = self.cols.index("s3c.total") if "s3c.total" in self.cols else None
        idx = [i for i, ln in enumerate(lines) if ln.values and not ln.footer]
        joined = 0
        for pos, a in enumerate(idx):
            la = lines[a]
            if not la.values or len(la.values) >= n or not la.cells:
                continue
            ca = self.columns(la, spans.get(la.page))
            if isinstance(ca, str) or ca != list(range(len(ca))):
                continue
            for b in idx[pos + 1:]:
                lb = lines[b]
                if b - a > 3 or lb.page != la.page:
                    break
                if len(lb.values) == n:
                    continue  # the next row's whole line between the parts
                cb_ = self.columns(lb, spans.get(lb.page))
                if isinstance(cb_, str) or cb_[0] < len(ca) or len(ca) + len(cb_) < n - 1:
                    break
                values = la.values + lb.values
                cols = ca + cb_
                if total is not None and not _adds_up(values, cols, total):
                    break
                big, small = (lb, la) if len(lb.values) >= len(la.values) else (la, lb)
                big.values, big.cols = values, cols
                big.part_cells = [t for _, t in small.cells]
                big.made = "row joined from two lines"
                small.values = []
                joined += 1
                break
        return joined

    # ------------------------------------------------------------------ emit

    def _fact(self, line: LayoutLine, row_code: str, col: int, tok: Token, confidence: float,
              label_raw: str, how: str) -> None:
        col_code = self.cols[col]
        row_e, col_e = self.cb.get(row_code), self.cb.get(col_code)
        unit = col_e.unit or row_e.unit
        value, status = parse_cell(tok.text, unit, signed=row_e.signed or col_e.signed)
        if status == ValueStatus.UNREADABLE:
            self._unplaced(line, tok, "unreadable text where a value should be", f"{row_code}|{col_code}")
            return
        self.facts.append(Fact(
            section=self.section, row_code=row_code, col_code=col_code, value=value, value_status=str(status),
            unit=unit, raw_text=tok.text, page=line.page + 1 if self.pages else None, table_index=None,
            row_index=line.number, col_index=col, row_label_raw=label_raw,
            col_label_raw=f"{col_e.label_zh} ({how})" if how else col_e.label_zh, confidence=round(confidence, 4),
        ))

    def _unplaced(self, line: LayoutLine, tok: Token, reason: str, guess: str | None) -> None:
        self.unplaced.append(Unplaced(
            section=self.section, raw_text=tok.text, row_label_raw=line.label, col_label_raw="",
            page=line.page + 1 if self.pages else None, table_index=None, row_index=line.number,
            col_index=tok.start, reason=reason, best_guess=guess,
        ))

    def _own_match(self, line: LayoutLine, code: str) -> float:
        """The score of the label on the numbers' own line when it names ``code`` by itself, else 0."""
        rows = [r.row.code for r in self.rows]
        for text in _texts(line, own=True):
            for piece in split_numbered(text) or [text]:
                if len(canonical_text(piece)) < 2:
                    continue
                m = match_label(piece, rows, self.cb)
                if m.code == code:
                    return m.score
        return 0.0

    def read(self, lines: list[LayoutLine]) -> AlignResult | None:
        """Facts and unplaced values of the section's lines; None when the text is not column-aligned
        (fewer than ``MIN_WHOLE_LINES`` lines with one value per column) or holds far more lines of
        numbers than the template has rows (the caller reads it line by line then)."""
        n = len(self.cols)
        if sum(1 for ln in lines if len(ln.values) == n) < MIN_WHOLE_LINES:
            return None
        longest = max(len(seq.rows) for seq in self.sequences)
        if sum(1 for ln in lines if ln.values) > MAX_LINES_PER_ROW * longest:
            return None  # not one table of the template (the alignment's cost grows with its square)
        self.mark_headers(lines)
        spans = self._spans(lines)
        bare_footers(lines)
        rebuilt = self.rebuild_column_runs(lines, spans)
        joined = self.join_split_rows(lines, spans)
        at = [i for i, ln in enumerate(lines) if ln.values and not ln.footer]
        scores, coverage = self.evidence(lines, at)
        self.printed = self.printed_labels(lines)
        best: tuple[float, list[int | None], RowSequence] | None = None
        marginals: dict[tuple[int, str | None], float] = {}
        for seq in self.sequences:
            if not self._plausible(seq):
                continue
            total, path, mm = self._align(scores, seq)
            for key, v in mm.items():
                marginals[key] = max(marginals.get(key, float("-inf")), v)
            if best is None or total > best[0]:
                best = (total, path, seq)
        assert best is not None
        _total, path, seq = best
        inferred = 0
        for k, i in enumerate(at):
            line = lines[i]
            pos = path[k]
            code = seq.rows[pos].code if pos is not None else None
            mine = marginals.get((k, code), float("-inf"))
            rival: tuple[float, str | None] = max(
                ((v, c) for (kk, c), v in marginals.items() if kk == k and c != code),
                key=lambda vc: vc[0], default=(float("-inf"), None))
            if code is None:
                for tok in line.values:
                    self._unplaced(line, tok, "numbers that no row of the template's order takes", rival[1])
                continue
            if mine - rival[0] < MARGIN:
                other = rival[1] or "no row"
                for tok in line.values:
                    self._unplaced(line, tok, f"row ambiguous by the template's order and the labels around it: "
                                   f"{code} or {other}", code)
                continue
            if coverage[k][self.index[code]] < MIN_COVERAGE:
                for tok in line.values:
                    self._unplaced(line, tok, f"the label of {code} is not found around these numbers", code)
                continue
            cols = self.columns(line, spans.get(line.page))
            if isinstance(cols, str):
                for tok in line.values:
                    self._unplaced(line, tok, cols, code)
                continue
            own = self._own_match(line, code)
            confidence = own if own else ALIGNED_CONFIDENCE
            how = ""
            if not own:
                inferred += 1
                how = "row aligned by the template's order and the labels around the numbers"
            if len(line.values) != n or line.made:
                confidence *= POSITION_CONFIDENCE
                how = "; ".join(x for x in (how, line.made or "column told by the value's offset") if x)
            label_raw = line.label if own else self._label_around(lines, at, k)
            for c, tok in zip(cols, line.values, strict=True):
                self._fact(line, code, c, tok, confidence, label_raw, how)
        skipped = [r.code for r in seq.rows if r.code not in {seq.rows[p].code for p in path if p is not None}]
        self.notes.append(
            f"{self.section} read from column-aligned text: {len(at)} lines of numbers aligned to the template's "
            f"rows ({', '.join(f'{g} {m}' for g, m in seq.choices if m != 'rows') or 'every sub-row printed'}); "
            f"{inferred} rows told by the labels around their numbers"
            + (f"; {joined} rows joined from two lines" if joined else "")
            + (f"; {rebuilt} rows rebuilt from numbers set one a line" if rebuilt else "")
            + (f"; rows without numbers: {', '.join(skipped)}" if skipped else ""))
        return AlignResult(self.facts, self.unplaced, self.notes)

    def _label_around(self, lines: list[LayoutLine], at: list[int], k: int) -> str:
        lo = at[k - 1] + 1 if k else 0
        hi = at[k + 1] if k + 1 < len(at) else len(lines)
        parts = [ln.label for ln in lines[lo:hi] if ln.cells and not ln.header and not ln.footer]
        return " / ".join(parts)[:200]
