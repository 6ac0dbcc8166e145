"""The rows of a template table as the report prints them, in order, with their numbering.

A reader that has lost the table's grid (a text dump, a converter's output) can still lean on what
the template fixes: the order of 三's rows and the numbering each one carries (一、 / （三） / 4.).
Two things vary between real reports and are allowed here, from the template knowledge itself:

- a group whose code is a value row in some template version (（六）其他处理, one row in 2019 and in
  many 2021 reports) may be printed whole instead of its sub-rows;
- a group that an identity checks "only where the report prints the group value" (data/identities.csv,
  ``applies_when = lhs_printed``) may be printed as a row of its own before its sub-rows.

:func:`row_sequences` lists every sequence of printed rows these choices allow.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

from ogi.transform.knowledge.codebook import Codebook, load_codebook
from ogi.transform.knowledge.identities import load_identities, relation_terms, split_relation
from ogi.transform.knowledge.labels import label_options

# How the template numbers its rows by depth: 一、 (chapter), （一） (item), 1. (sub-item).
_CN = "一二三四五六七八九十"


def _numbering(depth: int, index: int) -> str:
    if index >= len(_CN):
        return ""
    return (f"{_CN[index]}、", f"（{_CN[index]}）", f"{index + 1}.")[depth] if depth < 3 else ""


@dataclass(frozen=True)
class TemplateRow:
    code: str
    labels: tuple[str, ...]  # the numbered official label first, then its numbered known variants
    group: str | None  # the printable group this row is a sub-row of
    is_group: bool  # a group row (its value is the sum of its sub-rows)


@dataclass(frozen=True)
class RowSequence:
    rows: tuple[TemplateRow, ...]
    choices: tuple[tuple[str, str], ...]  # (group code, "rows" | "whole" | "group+rows")


def _printed_groups(section: str, version: str, cb: Codebook) -> dict[str, tuple[bool, bool]]:
    """group code → (may be printed whole, may be printed as a row of its own before its sub-rows)."""
    value_rows = {r for v in ("2019", "2021") for r in cb.rows(section, v)}
    with_own_row = set()
    for ident in load_identities():
        if ident.kind == "identity" and ident.section == section and version in ident.versions \
                and ident.applies_when == "lhs_printed":
            lhs, _op, _rhs = split_relation(ident.expr)
            for _sign, term in relation_terms(lhs):
                with_own_row.add(term.split("@")[0])
    out = {}
    for code in cb.codes(section, "row"):
        e = cb.get(code)
        if version not in e.versions or not cb.children(code, version) or not e.parent:
            continue  # a leaf, or a chapter heading (三、本年度办理结果) that never holds values
        out[code] = (code in value_rows, code in with_own_row)
    return out


@cache
def template_rows(section: str, version: str) -> tuple[TemplateRow, ...]:
    """Every row of ``section`` that may carry values, depth first in template order: the leaf rows
    and the printable groups (before their sub-rows)."""
    cb = load_codebook()
    groups = _printed_groups(section, version, cb)
    out: list[TemplateRow] = []

    def walk(code: str, depth: int, index: int, group: str | None) -> None:
        number = _numbering(depth, index)
        options = label_options([code], cb)[code]
        labels = tuple(dict.fromkeys(number + t for t in options))
        kids = cb.children(code, version)
        if not kids:
            out.append(TemplateRow(code, labels, group, False))
            return
        if code in groups:
            out.append(TemplateRow(code, labels, group, True))
        for i, k in enumerate(kids):
            walk(k, depth + 1, i, code if code in groups else group)

    for i, top in enumerate(cb.top_level(section, "row", version)):
        walk(top, 0, i, None)
    return tuple(out)


@cache
def row_sequences(section: str, version: str) -> tuple[RowSequence, ...]:
    """Every sequence of printed rows the template allows (see the module docstring); the sequence
    of leaf rows first."""
    cb = load_codebook()
    groups = _printed_groups(section, version, cb)
    rows = template_rows(section, version)
    modes = []
    for g, (whole, own) in groups.items():
        modes.append([(g, m) for m, ok in (("rows", True), ("whole", whole), ("group+rows", own)) if ok])
    out = []
    for choice in itertools.product(*modes):
        mode = dict(choice)
        seq = []
        for r in rows:
            if r.is_group:
                if mode[r.code] in ("whole", "group+rows"):
                    seq.append(r)
            elif r.group is None or mode.get(r.group, "rows") != "whole":
                seq.append(r)
        out.append(RowSequence(tuple(seq), tuple(choice)))
    return tuple(out)
