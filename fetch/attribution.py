"""Whose report is it? The publisher a report's title names, against the column it was found in.

Columns repost other agencies' reports (a department's column carries the city's and the
province's; a county portal's column carries its departments'). A report is the column owner's
only when its title names no one else: "2023年度政府信息公开工作年度报告", the owner's own name
(with or without its area prefix, 人民政府 or 政府), or — for a government — its area's name
("2023年上海市政府信息公开工作年度报告"). A title that names another agency is linked to that
agency when it is in the registry (``RegistryIndex.resolve``), else kept out, with the reason;
never to the owner. A registry ``title_regex`` hint that matches is the registry's word that the
title is the owner's. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ogi.fetch.registry import Agency

# Where the publisher's name ends: the report kind the title announces.
_REPORT_WORD = re.compile(r"(?:政府信息公开|政务公开|信息公开)")
_YEAR = re.compile(r"(?:(?:19|20)\d\d|[〇○零一二][〇○零一二三四五六七八九]{3})\s*年度?")
_NOISE = re.compile(r"[\s\u3000·•:：,，、\"'“”‘’()（）\[\]【】《》<>〈〉「」]+")
_LEADING = re.compile(r"^(?:关于|附件\d*|转发|转载|公布|发布)+")
# Words that name no one in particular: the owner.
_SELF = re.compile(r"^(?:(?:全|本|我)(?:省|市|县|区|旗|州|盟|镇|乡|街道|机关|单位|局|委|办|院|部门|系统)?|关于|年度?)$")
# A government's name minus these is its area (青梧县人民政府 → 青梧县).
_GOV_SUFFIX = re.compile(r"(?:人民政府|政府|行政公署|管理委员会|管委会)$")
# An area name ends at one of these; the part after it can stand alone ("洪泽区人民政府").
_AREA_END = re.compile(r"(?:自治区|自治州|自治县|特别行政区|新区|开发区|实验区|省|市|县|区|旗|州|盟|镇|乡|街道)")


def _norm(name: str) -> str:
    return _NOISE.sub("", name).replace("人民政府", "政府").replace("管理委员会", "管委会")


def publisher_in_title(title: str) -> str | None:
    """The name a report title gives its publisher, or None when it names none.

    "上海市人民政府办公厅2023年政府信息公开工作年度报告" → 上海市人民政府办公厅;
    "2023年上海市政府信息公开工作年度报告" → 上海市; "2023年度政府信息公开工作年度报告" → None.
    """
    t = _NOISE.sub("", title or "")
    m = _REPORT_WORD.search(t)
    if m is None:
        return None
    head = _YEAR.sub("", t[: m.start()])
    head = _LEADING.sub("", head)
    if len(head) < 2 or _SELF.match(head):
        return None
    return head


def name_keys(agency: Agency) -> set[str]:
    """Every form of an agency's name a title may use: the full name, the name without its leading
    area prefixes (淮安市洪泽区人民政府 → 洪泽区政府), and for a government its area alone."""
    names = [agency.name, *[a for a in agency.hints.get("aliases", []) if isinstance(a, str)]]
    keys: set[str] = set()
    for name in names:
        n = _norm(name)
        if not n:
            continue
        forms = {n}
        for m in _AREA_END.finditer(n):  # drop leading area prefixes, one level at a time
            rest = n[m.end():]
            if len(rest) >= 2 and not _GOV_SUFFIX.fullmatch(rest):  # not a bare 政府 / 管委会
                forms.add(rest)
        for f in list(forms):
            if agency.kind == "government":
                area = _GOV_SUFFIX.sub("", f)
                if len(area) >= 2:
                    forms.update({area, area + "政府"})
        keys |= forms
    return keys


@dataclass(frozen=True)
class Verdict:
    owner: bool  # the title is the owner's (or names no one)
    named: str | None  # the publisher the title names, when not the owner


def judge(title: str, owner: Agency) -> Verdict:
    """Is this title the owner's report? (A matching ``title_regex`` hint says yes.)"""
    pattern = owner.hints.get("title_regex")
    if pattern and re.search(pattern, re.sub(r"\s+", "", title)):
        return Verdict(True, None)
    named = publisher_in_title(title)
    if named is None:
        return Verdict(True, None)
    n = _norm(named)
    keys = name_keys(owner)
    if n in keys or (owner.kind == "government" and _GOV_SUFFIX.sub("", n) in keys):
        return Verdict(True, None)
    return Verdict(False, named)


class RegistryIndex:
    """The registry's agencies by every name form (``name_keys``), to resolve a named publisher."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self._by_key: dict[str, list[Agency]] = {}
        self._by_id: dict[str, Agency] = {}
        for a in agencies:
            self._by_id[a.agency_id] = a
            for k in name_keys(a):
                self._by_key.setdefault(k, []).append(a)

    def get(self, agency_id: str) -> Agency | None:
        return self._by_id.get(agency_id)

    def resolve(self, named: str, owner_id: str) -> tuple[str | None, str]:
        """(agency_id, why) for a publisher a title names; agency_id None: keep the report out."""
        n = _norm(named)
        cands = list({a.agency_id: a for a in self._by_key.get(n, [])}.values())
        if not cands and _GOV_SUFFIX.search(n) is None:
            cands = [a for a in self._by_key.get(n + "政府", []) if a.kind == "government"]
        cands = [a for a in cands if a.agency_id != owner_id]
        if len(cands) > 1:  # one name in several places (朝阳区): the one nearest the owner
            owner = self._by_id.get(owner_id)
            near = [a for a in cands if owner and _related(a, owner)]
            if len(near) == 1:
                cands = near
        if len(cands) == 1:
            return cands[0].agency_id, f"title names {named}: {cands[0].name} ({cands[0].agency_id})"
        if not cands:
            return None, f"title names {named}, not this column's owner and not in the registry"
        ids = ", ".join(sorted(a.agency_id for a in cands))
        return None, f"title names {named}, which fits several registry agencies ({ids})"


def _related(a: Agency, b: Agency) -> bool:
    """Same division, or one is the other's parent, or their divisions nest."""
    if a.parent_id == b.agency_id or b.parent_id == a.agency_id:
        return True
    ca, cb = a.division_code or "", b.division_code or ""
    if not ca or not cb:
        return False
    pa, pb = ca.rstrip("0") or ca, cb.rstrip("0") or cb
    return pa.startswith(pb) or pb.startswith(pa)
