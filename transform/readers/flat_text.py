"""Read the 二/三/四 tables from text whose cells were run together ("flattened" tables).

Portals that re-publish a report as a text-only page, and PDF/HTML-to-text converters, often drop
every cell boundary: a 三 row comes out as "一、本年新收政府信息公开申请数量640020470". The digits
of seven cells are one string, so the only honest way to read them is to find the splits that the
template allows and keep the value only when exactly one split is possible:

- a part is "0" or a number without a leading zero (and no longer than ``MAX_DIGITS``);
- whitespace and a minus sign are cell boundaries the text did keep;
- the row-level identities of data/identities.csv (总计 = 自然人 + the five organisation columns on
  a 三 row; each 四 block's 总计 = its four outcomes) must hold.

A row with one admissible split is placed (confidence lowered by ``SPLIT_CONFIDENCE``; the
identities used to split it hold by construction, the table's other identities — 一+二 = 三+四, the
outcome sums — stay independent checks). A row with none or several is kept as one ``Unplaced``
item with the run of digits and the count of splits, never guessed. Row labels go through the same
resolver as the table placer, so the codes mean the same thing whichever way a report arrived.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import cache

from ogi.core.models import CheckStatus, Fact, Unplaced
from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.identities import check_report, load_identities, relation_terms, split_relation
from ogi.transform.knowledge.labels import canonical_text, label_options, split_numbered
from ogi.transform.knowledge.layout import S2_ITEM, s2_cols, s2_layout
from ogi.transform.knowledge.rows import RowResolver
from ogi.transform.knowledge.values import parse_cell

SPLIT_CONFIDENCE = 0.9
CHOSEN_CONFIDENCE = 0.8  # a split chosen by the column identities: those identities prove nothing
MAX_CANDIDATES = 12  # more admissible splits than this: the row stays unplaced
MAX_COMBINATIONS = 256  # joint choices checked against the column identities
MAX_DIGITS = 7  # a count of ten million or more in one cell is not a count of this template
MAX_NODES = 200_000  # enumeration budget per row; beyond it the row is "too many splits"

# A run of values: digits, decimal points, minus signs and the whitespace between them.
_NUM = r"[-−]?\d+(?:\.\d+)?"
_RUN = re.compile(rf"{_NUM}(?:[ \t\u3000\u00a0\n\r\f]*{_NUM})*")
_NUMBERING_AFTER = re.compile(r"[.、．]\s*\D")  # "2.其他…": the run's last digit numbers the next label
_UNIT_AFTER = re.compile(r"万元|亿元|千元|元")
# A table starts at its own header, which prose does not print: (section, markers all present).
_TABLE_STARTS = (("s2", ("第二十条", "信息内容")), ("s3", ("申请人情况",)), ("s4", ("未经复议直接起诉",)))
_AFTER_TABLES = re.compile(r"五、.{0,12}(?:问题|改进)")


@dataclass
class Chunk:
    """A stretch of label text and the run of values that follows it."""

    text: str
    groups: list[str]  # the run split at the boundaries the text kept (whitespace, minus signs)
    line: int  # 1-based line of the run (or of the text when there is no run)
    unit: str | None = None  # a unit printed right after the run ("…432.52元")

    @property
    def run(self) -> str:
        return " ".join(self.groups)


@dataclass
class _Out:
    facts: list[Fact] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    split_rows: int = 0  # rows placed because exactly one split fits
    chosen_rows: int = 0  # rows whose split the column identities chose


@dataclass
class _Pending:
    """A row with several admissible splits, waiting for the column identities."""

    section: str
    chunk: Chunk
    row_code: str
    label: str
    cols: tuple[str, ...]
    score: float
    splits: list[list[str]]
    reason: str


def _unplaced(section: str, chunk: Chunk, label: str, reason: str, guess: str | None) -> Unplaced:
    return Unplaced(section=section, raw_text=chunk.run, row_label_raw=label, col_label_raw="", page=None,
                    table_index=None, row_index=chunk.line, col_index=None, reason=reason, best_guess=guess)


def _groups(run: str) -> list[str]:
    run = run.replace("−", "-")
    parts: list[str] = []
    for piece in run.split():
        parts.extend(p for p in re.split(r"(?=-)", piece) if p)
    return parts


def chunks(text: str) -> list[Chunk]:
    """Cut ``text`` into (label text, value run) chunks.

    A run's last digit that is followed by "." or "、" and a label ("00000002.其他法律…") is the next
    label's numbering, not a value, and goes back to the text.
    """
    out: list[Chunk] = []
    pending = ""
    pos = 0
    line, counted = 1, 0  # line number of ``counted``, advanced as the scan goes (no rescans)
    for m in _RUN.finditer(text):
        run = m.group(0)
        pending += text[pos:m.start()]
        pos = m.end()
        if _NUMBERING_AFTER.match(text, m.end()):
            run = run[:-1].rstrip()
            if not run:
                pending += m.group(0)[-1]
                continue
            pos = m.end() - 1
        unit = _UNIT_AFTER.match(text, m.end()) if pos == m.end() else None
        if unit:
            pos = unit.end()
        line += text.count("\n", counted, m.start())
        counted = m.start()
        out.append(Chunk(pending, _groups(run), line, unit.group(0) if unit else None))
        pending = ""
    tail = pending + text[pos:]
    if tail.strip():
        out.append(Chunk(tail, [], line + text.count("\n", counted)))
    return out


def split_run(groups: list[str], n: int, constraints: list[tuple[int, tuple[int, ...]]], *,
              integers: bool = True, limit: int = 2) -> tuple[list[list[str]], bool]:
    """Up to ``limit`` ways to cut ``groups`` into ``n`` cells that satisfy ``constraints``.

    Each constraint is (index of a total, indexes of its terms). Returns (splits, exhausted): when
    the enumeration budget ran out the list may be incomplete and ``exhausted`` is True.
    """
    found: list[list[str]] = []
    nodes = 0
    by_last: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
    for total, terms in constraints:
        by_last.setdefault(max(total, *terms), []).append((total, terms))

    def ok_part(part: str) -> bool:
        body = part.lstrip("-")
        if not body or (integers and "." in body):
            return False
        whole = body.split(".")[0]
        if not whole or (len(whole) > 1 and whole[0] == "0") or len(whole) > MAX_DIGITS:
            return False
        return body.count(".") <= 1 and not body.endswith(".")

    def walk(gi: int, start: int, cells: list[str]) -> None:
        nonlocal nodes
        nodes += 1
        if len(found) >= limit or nodes > MAX_NODES:
            return
        if gi == len(groups):
            if len(cells) == n:
                found.append(list(cells))
            return
        group = groups[gi]
        rest = sum(len(g) for g in groups[gi + 1:]) + len(group) - start
        remaining = n - len(cells)
        if remaining <= 0 or rest < remaining:
            return
        for end in range(start + 1, len(group) + 1):
            part = group[start:end]
            if not ok_part(part):
                if part.lstrip("-") and part.lstrip("-")[0] == "0" and len(part.lstrip("-")) > 1:
                    break  # a leading zero only grows longer
                continue
            cells.append(part)
            idx = len(cells) - 1
            good = all(
                abs(float(cells[t]) - sum(float(cells[i]) for i in terms)) < 1e-9
                for t, terms in by_last.get(idx, [])
            )
            if good:
                if end == len(group):
                    walk(gi + 1, 0, cells)
                else:
                    walk(gi, end, cells)
            cells.pop()

    if groups:
        walk(0, 0, [])
    return found, nodes > MAX_NODES


@cache
def row_constraints(section: str, version: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The identities of data/identities.csv that hold within one row: (total col, term cols)."""
    out = []
    for ident in load_identities():
        if ident.kind != "identity" or ident.section != section or version not in ident.versions:
            continue
        if ident.severity != "error":
            continue
        name, _, spec = ident.foreach.partition("=")
        if name == "row" and spec.startswith("printed_rows("):
            bindings = [ident.expr]
        elif name not in ("row", "col") and "(" not in spec:
            bindings = [ident.expr.replace("{" + name + "}", v) for v in spec.split("|")]
        else:
            continue  # a column-wise identity: across rows, not within one
        for expr in bindings:
            lhs, op, rhs = split_relation(expr)
            terms = relation_terms(lhs) + relation_terms(rhs)
            rows = {t.split("@")[0] for _, t in terms}
            if op != "=" or len(rows) != 1 or any(sign < 0 for sign, _ in terms):
                continue
            cols = [t.split("@")[1] for _, t in terms]
            out.append((cols[0], tuple(cols[1:])))
    return tuple(out)


class _FlatPlacer:
    def __init__(self, version: str, codebook: Codebook):
        self.version = version
        self.cb = codebook
        self.out = _Out()
        self.s3_rows = RowResolver("s3", codebook)
        self.s2_item: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.s4_done = False
        self.pending: list[_Pending] = []

    def _facts(self, section: str, chunk: Chunk, row_code: str, label: str, cols: tuple[str, ...],
               cells: list[str], confidence: float, how: str) -> list[Fact]:
        row_e = self.cb.get(row_code)
        facts = []
        for i, (col, cell) in enumerate(zip(cols, cells, strict=True)):
            col_e = self.cb.get(col)
            unit = col_e.unit or row_e.unit
            # An amount keeps the unit printed after the run ("…432.52元") and is converted.
            suffix = chunk.unit if unit == "万元" and chunk.unit and i == len(cells) - 1 else ""
            value, status = parse_cell(cell + suffix, unit, signed=row_e.signed or col_e.signed)
            facts.append(Fact(
                section=section, row_code=row_code, col_code=col, value=value, value_status=str(status),
                unit=unit, raw_text=cell, page=None, table_index=None, row_index=chunk.line, col_index=i,
                row_label_raw=label, col_label_raw=f"{col_e.label_zh} ({how})", confidence=round(confidence, 4),
            ))
        return facts

    def _unplaced(self, section: str, chunk: Chunk, label: str, reason: str, guess: str | None) -> None:
        self.out.unplaced.append(_unplaced(section, chunk, label, reason, guess))

    def _place(self, section: str, chunk: Chunk, row_code: str, label: str, cols: tuple[str, ...],
               score: float) -> None:
        index = {c: i for i, c in enumerate(cols)}
        constraints = [(index[t], tuple(index[c] for c in terms))
                       for t, terms in row_constraints(section, self.version)
                       if t in index and all(c in index for c in terms)]
        amounts = any(self.cb.get(c).unit == "万元" for c in cols) or chunk.unit is not None
        if len(cols) == 1 and len(chunk.groups) == 1:
            splits, exhausted = [chunk.groups], False
        else:
                splits, exhausted = split_run(chunk.groups, len(cols), constraints, integers=not amounts,
                                          limit=MAX_CANDIDATES)
        rule = "; ".join(f"{self.cb.get(cols[t]).label_zh} = sum" for t, _ in constraints) or "no identity"
        if len(splits) == 1 and not exhausted:
            how = ("one cell" if len(cols) == 1 else
                   f"the one split of {chunk.run!r} into {len(cols)} cells ({rule})")
            if len(cols) > 1:
                self.out.split_rows += 1
            self.out.facts.extend(self._facts(section, chunk, row_code, label, cols, splits[0],
                                              score * (SPLIT_CONFIDENCE if len(cols) > 1 else 1.0), how))
            return
        if exhausted or len(splits) >= MAX_CANDIDATES:
            why = "too many ways to split it"
        elif not splits:
            why = "no split satisfies the template (the row's identity fails or the text lost a digit)"
        else:
            shown = " / ".join("|".join(s) for s in splits[:3]) + (" / …" if len(splits) > 3 else "")
            why = f"{len(splits)} splits are possible ({shown})"
        reason = f"{len(cols)} cells run together as {chunk.run!r}: {why} ({rule})"
        if constraints and 1 < len(splits) < MAX_CANDIDATES and not exhausted:
            self.pending.append(_Pending(section, chunk, row_code, label, cols, score, splits, reason))
        else:
            self._unplaced(section, chunk, label, reason, row_code)

    def resolve_pending(self) -> None:
        """Choose between the splits of ambiguous rows by the table's column identities.

        All combinations of the ambiguous rows' splits are checked together with the rows already
        placed; a combination is taken only when it alone has the fewest failed identities. Those
        identities then hold by construction, so the placed values carry ``CHOSEN_CONFIDENCE`` and
        the report says which rows were chosen this way. Otherwise every ambiguous row stays unplaced.
        """
        pending, self.pending = self.pending, []
        combos = 1
        for p in pending:
            combos *= len(p.splits)
        if pending and combos <= MAX_COMBINATIONS:
            ranked = []
            for combo in itertools.product(*(range(len(p.splits)) for p in pending)):
                facts = list(self.out.facts)
                for p, k in zip(pending, combo, strict=True):
                    facts += self._facts(p.section, p.chunk, p.row_code, p.label, p.cols, p.splits[k], 0.0, "")
                failed = sum(1 for c in check_report(facts, self.version)
                             if c.status == CheckStatus.FAILED and c.severity == "error")
                ranked.append((failed, combo))
            ranked.sort()
            if len(ranked) == 1 or ranked[0][0] < ranked[1][0]:
                for p, k in zip(pending, ranked[0][1], strict=True):
                    how = (f"split of {p.chunk.run!r} chosen among {len(p.splits)} by the table's column "
                           f"identities")
                    self.out.facts += self._facts(p.section, p.chunk, p.row_code, p.label, p.cols, p.splits[k],
                                                  p.score * CHOSEN_CONFIDENCE, how)
                    self.out.chosen_rows += 1
                return
        for p in pending:
            self._unplaced(p.section, p.chunk, p.label, p.reason + "; the table's identities do not single out "
                           "one combination of the ambiguous rows", p.row_code)

    def s2(self, chunk: Chunk) -> None:
        canon = canonical_text(chunk.text)
        items = list(S2_ITEM.finditer(canon))
        if items:
            self.s2_item = s2_layout().get((self.version, f"({items[-1].group('item')})"))
            canon = canon[items[-1].end():]
        if not chunk.groups:
            return
        rows = self.s2_item[0] if self.s2_item else tuple(self.cb.rows("s2", self.version))
        best: tuple[int, str] | None = None
        for code, texts in label_options(rows, self.cb).items():
            for t in texts:
                c = canonical_text(t)
                if c and canon.endswith(c) and (best is None or len(c) > best[0]):
                    best = (len(c), code)
        if best is None:
            self._unplaced("s2", chunk, chunk.text[-40:], "row label not found before the values", None)
            return
        code = best[1]
        cols = s2_cols(self.version, code, self.s2_item)
        self._place("s2", chunk, code, self.cb.get(code).label_zh, cols, 1.0)

    def s3(self, chunk: Chunk) -> None:
        pieces = split_numbered(chunk.text)
        if not chunk.groups:
            if pieces:
                self.s3_rows.resolve(pieces)  # a group label ("（三）不予公开") opens its group
            return
        code, score, guess = self.s3_rows.resolve(pieces) if pieces else (None, 0.0, None)
        label = pieces[-1] if pieces else ""
        if code is None or code not in self.cb.rows("s3", self.version):
            self._unplaced("s3", chunk, label, "row label not matched to a value row", guess or code)
            return
        self._place("s3", chunk, code, label, tuple(self.cb.cols("s3", self.version)), score)

    def s4(self, chunk: Chunk) -> None:
        if not chunk.groups or self.s4_done:
            return
        self.s4_done = True
        self._place("s4", chunk, "s4.cases", "", tuple(self.cb.cols("s4", self.version)), 1.0)


def _starts(text: str) -> list[tuple[int, str]]:
    canon = canonical_text(text) if text else ""
    return sorted((canon.rfind(markers[-1]), section) for section, markers in _TABLE_STARTS
                  if all(m in canon for m in markers))


@dataclass
class FlatResult:
    facts: list[Fact]
    unplaced: list[Unplaced]
    split_rows: int  # rows placed because exactly one split of their digits fits the row identities
    chosen_rows: int  # rows whose split the column identities chose (those identities hold by construction)


def parse_flat_tables(text: str, version: str) -> FlatResult:
    """Facts and unplaced values of the 二/三/四 tables in flattened text.

    ``version`` ("2019"/"2021") is the template layout to read. A table starts at its own header
    (信息内容 / 申请人情况 / 未经复议直接起诉), never at a heading in the prose, and the tables end with
    四's row or the heading of chapter 五.
    """
    placer = _FlatPlacer(version, load_codebook())
    section: str | None = None
    for chunk in chunks(text):
        starts = _starts(chunk.text)
        if starts:
            section = starts[-1][1]
        elif section and _AFTER_TABLES.search(canonical_text(chunk.text)):
            section = None
        if section == "s2":
            placer.s2(chunk)
        elif section == "s3":
            placer.s3(chunk)
        elif section == "s4":
            placer.s4(chunk)
            if placer.s4_done:
                section = None
    placer.resolve_pending()
    out = placer.out
    return FlatResult(out.facts, out.unplaced, out.split_rows, out.chosen_rows)
