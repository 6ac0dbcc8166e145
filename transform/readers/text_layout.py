"""Read the 二/三/四 tables of a 2019/2021-format report that reaches us only as text.

A plain-text page, or a PDF's text with layout when no table extractor could read the grid: the
cells of a row are separated by tabs or runs of spaces, but empty cells are not reliably kept, so a
value's column cannot be told from its position unless the row holds exactly as many values as the
table has columns. This module places only what the text supports:

- a row with exactly one value per template column: every value, in template order;
- a 三 row with fewer values: only the last one, as the row's 总计, and only when it is at least the
  sum of the others (a row total is the sum of its columns, so anything else means the last value is
  not the total); the other values are kept as ``Unplaced``;
- anything else (a single value on a 三 row, a count that fits no layout, text where a number should
  be) is ``Unplaced`` with its raw text and the reason.

Row labels go through the same resolver as the table placer (position-based hierarchy, garble
fixes, numbering), so the row codes mean the same thing whichever way a report arrived.

Column-aligned text (``pdftotext -layout`` and the like: cells apart by runs of spaces, no tabs)
keeps more: a blank mark standing in a cell ("—", "/", "无") is a value there, page footers are
not rows, and 三 — whose labels wrap over lines that carry no numbers — is not read line by line
but aligned as a whole to the template's rows (``aligned_rows``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ogi.core.models import Fact, RawTable, Unplaced, ValueStatus
from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.labels import canonical_text, match_label
from ogi.transform.knowledge.layout import S2_ITEM, s2_cols, s2_layout
from ogi.transform.knowledge.markers import row_start_section
from ogi.transform.knowledge.rows import RowResolver
from ogi.transform.knowledge.values import is_value, parse_cell, parse_value
from ogi.transform.knowledge.version import detect_version
from ogi.transform.readers.aligned_rows import FOOTER, SectionAligner, layout_line, layout_tokens

_CELL_SPLIT = re.compile(r"\t+| {2,}|\u3000+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# The chapter after the tables (五、存在的主要问题及改进情况) ends the table part of the text.
_AFTER_TABLES = re.compile(r"^五、.{0,12}(?:问题|改进)")
_MAX_HEADING = 40  # a section marker only counts on a short line or a tabbed row, not in prose
TOTAL_BY_POSITION_CONFIDENCE = 0.8


@dataclass
class _Line:
    number: int  # 1-based line number in the text
    raw: str
    labels: list[str] = field(default_factory=list)
    values: list[tuple[int, str]] = field(default_factory=list)  # (token position, text)
    junk: list[tuple[int, str]] = field(default_factory=list)  # tokens neither label nor number
    page: int | None = None  # 1-based form-feed page, when the text has form feeds


@dataclass
class _Out:
    facts: list[Fact] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=8192)
def _is_value(text: str) -> bool:
    return is_value(text)


@lru_cache(maxsize=8192)
def _mark(text: str) -> bool:
    """A blank mark printed in a value cell ("—", "/", "无")."""
    return parse_value(text)[1] in (ValueStatus.NOT_APPLICABLE, ValueStatus.NONE_STATED)


def split_line(number: int, raw: str, *, marks: bool = False) -> _Line:
    """Cells of one text line: label texts, value tokens (numbers, also trailing "行政处罚 0"), junk.

    With ``marks`` (column-aligned text, where a cell cannot run into its neighbour) a blank mark
    ("—", "/", "无") standing in a cell of its own is a value token too, and an amount printed with
    its unit apart ("10289 万元") is one token."""
    line = _Line(number, raw)
    pos = 0
    for cell in (c.strip() for c in _CELL_SPLIT.split(raw)):
        if not cell:
            continue
        words = cell.split()
        if marks:
            words = [t.text for t in layout_tokens(cell)]
            if len(words) == 1 and _mark(words[0]):
                line.values.append((pos, words[0]))
                pos += 1
                continue
        # Numbers at the end of a cell that starts with words: the value ran into its label.
        k = len(words)
        while k > 0 and (_is_value(words[k - 1]) or (marks and _mark(words[k - 1]))):
            k -= 1
        label = " ".join(words[:k])
        if label:
            if _CJK.search(label):
                line.labels.append(label)
            else:
                line.junk.append((pos, label))
            pos += 1
        for w in words[k:]:
            line.values.append((pos, w))
            pos += 1
    return line


class _TextPlacer:
    def __init__(self, version: str, codebook: Codebook):
        self.version = version
        self.cb = codebook
        self.out = _Out()
        self.s3_cols = codebook.cols("s3", version)
        self.s4_cols = codebook.cols("s4", version)
        self.s3_rows = RowResolver("s3", codebook)
        self.s3_col_labels = {canonical_text(codebook.get(c).label_zh) for c in codebook.codes("s3", "col")}
        self.s2_item: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    # -- emitters

    def fact(self, section: str, line: _Line, row_code: str, col_code: str, token: tuple[int, str],
             confidence: float, col_label: str) -> None:
        row_e, col_e = self.cb.get(row_code), self.cb.get(col_code)
        unit = col_e.unit or row_e.unit
        pos, text = token
        value, status = parse_cell(text, unit, signed=row_e.signed or col_e.signed)
        self.out.facts.append(Fact(
            section=section, row_code=row_code, col_code=col_code, value=value, value_status=str(status),
            unit=unit, raw_text=text, page=line.page, table_index=None, row_index=line.number, col_index=pos,
            row_label_raw=" | ".join(line.labels), col_label_raw=col_label, confidence=round(confidence, 4),
        ))

    def unplaced(self, section: str | None, line: _Line, token: tuple[int, str], reason: str,
                 best_guess: str | None = None) -> None:
        self.out.unplaced.append(Unplaced(
            section=section, raw_text=token[1], row_label_raw=" | ".join(line.labels), col_label_raw="",
            page=line.page, table_index=None, row_index=line.number, col_index=token[0], reason=reason,
            best_guess=best_guess,
        ))

    def junk(self, section: str, line: _Line, row_code: str | None = None) -> None:
        for token in line.junk:
            self.unplaced(section, line, token, "unreadable text where a value should be", row_code)

    # -- sections

    def s2(self, line: _Line) -> None:
        for lab in line.labels:
            m = S2_ITEM.search(canonical_text(lab))
            if m:
                self.s2_item = s2_layout().get((self.version, f"({m.group('item')})"))
                return
        if not line.values and not line.junk:
            return  # header row (信息内容 …) or a label without a value
        rows = self.s2_item[0] if self.s2_item else tuple(self.cb.rows("s2", self.version))
        match = None
        # a label spread over its cell (行    政    许    可) comes as one run per character
        tries = [*reversed(line.labels), "".join(line.labels)] if len(line.labels) > 1 else line.labels
        for lab in tries:
            match = match_label(lab, rows, self.cb)
            if match.code:
                break
        if match is None or match.code is None:
            guess = f"{match.runner_up} ({match.runner_up_score:.2f})" if match and match.runner_up else None
            for token in line.values + line.junk:
                self.unplaced("s2", line, token, "row label not matched", guess)
            return
        cols = s2_cols(self.version, match.code, self.s2_item)
        if len(line.values) == len(cols):
            for col, token in zip(cols, line.values, strict=True):
                self.fact("s2", line, match.code, col, token, match.score, self.cb.get(col).label_zh)
        else:
            for token in line.values:
                self.unplaced("s2", line, token, f"{len(line.values)} values for the {len(cols)} columns "
                              f"of {match.code}: column cannot be told", match.code)
        self.junk("s2", line, match.code)

    def s3(self, line: _Line) -> None:
        if not line.labels:
            if line.values or line.junk:
                for token in line.values + line.junk:
                    self.unplaced("s3", line, token, "value on a line without a row label")
            return
        if not line.values and not line.junk and any(canonical_text(lab) in self.s3_col_labels for lab in line.labels):
            return  # a header line (自然人, 商业企业 …): not a row label
        code, score, guess = self.s3_rows.resolve(line.labels)
        if not line.values and not line.junk:
            return  # a label fragment, or a row whose cells are all empty
        if code is None:
            for token in line.values + line.junk:
                self.unplaced("s3", line, token, "row label not matched", guess)
            return
        values = line.values
        if len(values) == len(self.s3_cols):
            for col, token in zip(self.s3_cols, values, strict=True):
                self.fact("s3", line, code, col, token, score, self.cb.get(col).label_zh)
        elif values:
            numbers = [parse_value(t)[0] for _, t in values]
            *others, last = numbers
            known = [n for n in others if n is not None]
            if others and last is not None and len(known) == len(others) and last >= sum(known):
                self.fact("s3", line, code, "s3c.total", values[-1], score * TOTAL_BY_POSITION_CONFIDENCE,
                          "last value on the line (row total)")
                for token in values[:-1]:
                    self.unplaced("s3", line, token, f"{len(values)} values for {len(self.s3_cols)} columns: "
                                  "only the row total (last value) can be placed", code)
            else:
                why = ("a single value: its column cannot be told" if not others else
                       "the last value is below the sum of the others: no row total can be told")
                for token in values:
                    self.unplaced("s3", line, token, f"{len(values)} values for {len(self.s3_cols)} columns; {why}",
                                  code)
        self.junk("s3", line, code)

    def s4(self, line: _Line) -> None:
        if len(line.values) == len(self.s4_cols):
            for col, token in zip(self.s4_cols, line.values, strict=True):
                self.fact("s4", line, "s4.cases", col, token, 1.0, self.cb.label_path(col))
        else:
            for token in line.values:
                self.unplaced("s4", line, token, f"{len(line.values)} values for the {len(self.s4_cols)} "
                              "columns of 四: column cannot be told", "s4.cases")
        self.junk("s4", line, "s4.cases")


def _section_start(line: _Line) -> str | None:
    cells = line.labels
    if not cells:
        return None
    if len(cells) == 1 and len(canonical_text(cells[0])) > _MAX_HEADING:
        return None  # prose that happens to name a section
    return row_start_section(cells)


def _version(text: str, version_hint: str | None) -> str:
    if version_hint in ("2019", "2021"):
        return version_hint
    version, _evidence = detect_version(text, [RawTable(0, [])], None)
    return version if version in ("2019", "2021") else "2021"


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(1-based line number, 0-based page, text) of every line; a form feed starts a new page."""
    out = []
    page = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        body = raw.rstrip("\r\n\f\v\x1c\x1d\x1e\x85\u2028\u2029")
        out.append((number, page, body))
        if raw.endswith("\f"):
            page += 1
    return out


def _is_footer(raw: str) -> bool:
    """A page footer that cannot be a row of values ("— 5 —", "第5页"): a bare number may be one."""
    text = raw.strip()
    return bool(FOOTER.match(text)) and not text.isdigit() and "/" not in text


def parse_text_tables(text: str, version_hint: str | None = None) -> tuple[list[Fact], list[Unplaced]]:
    """:func:`parse_text_layout` without its notes."""
    facts, unplaced, _notes = parse_text_layout(text, version_hint)
    return facts, unplaced


def parse_text_layout(text: str, version_hint: str | None = None) -> tuple[list[Fact], list[Unplaced], list[str]]:
    """Facts, unplaced values and notes of the 二/三/四 tables found in ``text`` (2019 or 2021 format).

    ``version_hint`` ("2019"/"2021") decides the layout; without it the text's own labels do (2021
    when they cannot tell). Facts carry the 1-based line number as ``row_index``, the token's
    position on the line as ``col_index`` (the character offset for 三 in column-aligned text, whose
    rows ``aligned_rows`` aligns to the template's as a whole when its lines have no tabs and some
    hold one value per column), the form-feed page as ``page`` when the text has form feeds (a
    ``pdftotext`` dump: the PDF's pages), else None; ``table_index`` is None.
    """
    version = _version(text, version_hint)
    placer = _TextPlacer(version, load_codebook())
    section: str | None = None
    pages = "\f" in text
    s3_lines: list[tuple[int, int, str, _Line]] = []

    def flush_s3() -> None:
        if not s3_lines:
            return
        result = None
        if not any("\t" in raw for _n, _p, raw, _l in s3_lines):  # tabs lose the columns' offsets
            aligner = SectionAligner("s3", version, placer.cb, pages=pages)
            result = aligner.read([layout_line(n, p, raw) for n, p, raw, _l in s3_lines])
        if result is not None:
            placer.out.facts.extend(result.facts)
            placer.out.unplaced.extend(result.unplaced)
            placer.out.notes.extend(result.notes)
        else:
            for n, _p, raw, _line in s3_lines:  # read as before the aligned reading existed
                if "\t" not in raw and _is_footer(raw):
                    continue
                placer.s3(split_line(n, raw))
        s3_lines.clear()

    for number, page, raw in _lines(text):
        aligned = "\t" not in raw  # cells apart by spaces at their offsets, not by tabs
        line = split_line(number, raw, marks=aligned)
        line.page = page + 1 if pages else None
        if line.labels and _AFTER_TABLES.match(re.sub(r"\s+", "", line.labels[0])):
            flush_s3()
            section = None
            continue
        start = _section_start(line)
        if start is not None and start != section:
            if section == "s3":
                flush_s3()
            section = start
            if start == "s2":
                placer.s2_item = None
        if section == "s3":
            s3_lines.append((number, page, raw, line))
        elif aligned and _is_footer(raw):
            continue
        elif section == "s2":
            placer.s2(line)
        elif section == "s4":
            placer.s4(line)
    flush_s3()
    return placer.out.facts, placer.out.unplaced, placer.out.notes
