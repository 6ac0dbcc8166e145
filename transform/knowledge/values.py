"""Cell text → (number, ValueStatus). Missing is not zero: a blank, a dash and "无" stay apart.

Counts are read strictly (digits with thousands separators, full-width digits); a minus sign is only
accepted where the codebook marks the measure as signed (本年增/减). Amounts may carry their unit
inline ("251000元", "24.5万元") and are converted to the measure's declared unit.
"""

from __future__ import annotations

import re
import unicodedata

from ogi.core.models import ValueStatus

_BLANKS = re.compile(r"^[\s\u00a0\u3000\u200b\ufeff]*$")
_NOT_APPLICABLE = frozenset({"/", "／", "—", "——", "-", "－", "–", "--", "\\", "不适用"})
_THOUSANDS_GAP = re.compile(r"^[-+]?\d{1,3}(?:\s\d{3})+(?:\.\d+)?$")
_NONE_STATED = frozenset({"无"})
_NUMBER = re.compile(r"^(?P<sign>[-+])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?$")
_NEGATIVE_WORDS = ("减少", "减")
_POSITIVE_WORDS = ("增加", "增")
# Unit suffix → factor to 万元.
_UNIT_TO_WAN = {"万元": 1.0, "元": 1e-4, "亿元": 1e4, "千元": 0.1, "万": 1.0}
_AMOUNT = re.compile(r"^(?P<num>.*?)(?P<unit>万元|亿元|千元|元|万)?$")
# A count printed with its unit ("5件"): the template's count units, nothing else.
_COUNT_UNIT = re.compile(r"^(?P<num>.+?)(?:件|项|条|个|次)$")


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw.replace("&nbsp;", " "))
    text = text.replace("−", "-").replace("‐", "-").replace("‑", "-")  # minus sign, hyphens
    text = text.strip()
    if _THOUSANDS_GAP.match(text):
        return re.sub(r"\s+", "", text)
    # Spaces between two digits would glue separate numbers together: keep them (unreadable).
    return re.sub(r"(?<!\d)\s+|\s+(?!\d)", "", text)


def _status_of(value: float) -> str:
    return ValueStatus.ZERO if value == 0 else ValueStatus.NUMBER


def parse_value(raw: str | None, *, signed: bool = False) -> tuple[float | None, str]:
    """Read one count cell: (value, ValueStatus)."""
    if raw is None or _BLANKS.match(raw.replace("&nbsp;", "")):
        return None, ValueStatus.BLANK
    text = _clean(raw)
    if not text:
        return None, ValueStatus.BLANK
    if text in _NOT_APPLICABLE or set(text) <= set("-—–/\\"):
        return None, ValueStatus.NOT_APPLICABLE
    if text in _NONE_STATED:
        return None, ValueStatus.NONE_STATED
    sign = 1
    if signed:
        for word in _NEGATIVE_WORDS:
            if text.startswith(word):
                text, sign = text[len(word):], -1
                break
        else:
            for word in _POSITIVE_WORDS:
                if text.startswith(word):
                    text = text[len(word):]
                    break
    m = _NUMBER.match(text)
    if not m:
        unit = _COUNT_UNIT.match(text)
        m = _NUMBER.match(unit.group("num")) if unit else None
    if not m:
        return None, ValueStatus.UNREADABLE
    if m.group("sign") == "-":
        if not signed or sign == -1:
            return None, ValueStatus.UNREADABLE
        sign = -1
    value = float(m.group("int").replace(",", "") + (m.group("frac") or ""))
    value = sign * value
    if value == 0:
        value = 0.0  # no negative zero
    return value, _status_of(value)


def parse_amount(raw: str | None, declared_unit: str = "万元") -> tuple[float | None, str, str | None]:
    """Read a money cell, converting an inline unit to ``declared_unit``.

    Returns (value, ValueStatus, unit found in the cell or None). A bare number is taken to be in
    the declared unit: the column header says so in the template.
    """
    value, status = parse_value(raw)
    if status != ValueStatus.UNREADABLE:
        return value, status, None
    text = _clean(raw or "")
    m = _AMOUNT.match(text)
    unit = m.group("unit") if m else None
    if m is None or not unit or declared_unit not in _UNIT_TO_WAN:
        return None, ValueStatus.UNREADABLE, unit
    value, status = parse_value(m.group("num"))
    if value is None:
        return None, ValueStatus.UNREADABLE, unit
    converted = value * _UNIT_TO_WAN[unit] / _UNIT_TO_WAN[declared_unit]
    converted = round(converted, 8)
    return converted, _status_of(converted), unit


def parse_cell(text: str | None, unit: str | None, *, signed: bool = False) -> tuple[float | None, str]:
    """Read one template cell whose measure is in ``unit``: amounts (万元) through ``parse_amount``
    (an inline 元/万元 is converted), counts through ``parse_value``. One rule for every reader
    (table grid, text layout, run-together text), so the same cell means the same value."""
    if unit == "万元":
        value, status, _printed = parse_amount(text, declared_unit="万元")
        return value, status
    return parse_value(text, signed=signed)


def is_value(text: str | None) -> bool:
    """Whether a cell holds a value (a count, or an amount with its unit), not a label or a dash."""
    if text is None:
        return False
    if parse_value(text, signed=True)[1] in (ValueStatus.NUMBER, ValueStatus.ZERO):
        return True
    value, _status, unit = parse_amount(text)
    return unit is not None and value is not None
