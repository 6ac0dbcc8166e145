"""Cell text → (value, status): missing is not zero, dashes are not numbers, units are converted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogi.core.models import ValueStatus as S
from ogi.transform.knowledge.values import parse_amount, parse_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, (None, S.BLANK)),
        ("", (None, S.BLANK)),
        ("   ", (None, S.BLANK)),
        ("\xa0", (None, S.BLANK)),
        ("&nbsp;", (None, S.BLANK)),
        ("\n", (None, S.BLANK)),
        ("0", (0, S.ZERO)),
        ("０", (0, S.ZERO)),
        ("/", (None, S.NOT_APPLICABLE)),
        ("／", (None, S.NOT_APPLICABLE)),
        ("—", (None, S.NOT_APPLICABLE)),
        ("-", (None, S.NOT_APPLICABLE)),
        ("－", (None, S.NOT_APPLICABLE)),
        ("–", (None, S.NOT_APPLICABLE)),
        ("\\", (None, S.NOT_APPLICABLE)),
        ("无", (None, S.NONE_STATED)),
        ("95", (95, S.NUMBER)),
        (" 95 ", (95, S.NUMBER)),
        ("1,234", (1234, S.NUMBER)),
        ("1 234", (1234, S.NUMBER)),
        ("１２", (12, S.NUMBER)),
        ("24252.311082", (24252.311082, S.NUMBER)),
        ("12 3", (None, S.UNREADABLE)),  # two numbers run together: not 123
        ("-18", (None, S.UNREADABLE)),  # counts are never negative
        ("见附件", (None, S.UNREADABLE)),
        ("5件", (5, S.NUMBER)),  # a count with the template's own unit
        ("0 项", (0, S.ZERO)),
        ("5元", (None, S.UNREADABLE)),  # not a count unit
        ("件", (None, S.UNREADABLE)),
    ],
)
def test_parse_value(raw, expected):
    assert parse_value(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("-18", -18), ("−18", -18), ("－18", -18), ("减18", -18), ("增5", 5), ("+5", 5), ("-15", -15), ("0", 0)],
)
def test_signed_values(raw, expected):
    value, status = parse_value(raw, signed=True)
    assert value == expected
    assert status == (S.ZERO if expected == 0 else S.NUMBER)


def test_negative_zero_is_zero():
    value, status = parse_value("-0", signed=True)
    assert status == S.ZERO and str(value) == "0.0"


@pytest.mark.parametrize(
    ("raw", "value", "unit"),
    [
        ("251000元", 25.1, "元"),
        ("24.5万元", 24.5, "万元"),
        ("575394432.52元", 57539.443252, "元"),
        ("7545", 7545, None),
        ("1.2亿元", 12000, "亿元"),
        ("24.5万", 24.5, "万"),
    ],
)
def test_parse_amount_converts_to_wan_yuan(raw, value, unit):
    got, status, found = parse_amount(raw, declared_unit="万元")
    assert got == pytest.approx(value) and status == S.NUMBER and found == unit


def test_parse_amount_keeps_placeholders():
    assert parse_amount("/") == (None, S.NOT_APPLICABLE, None)
    assert parse_amount("") == (None, S.BLANK, None)
    assert parse_amount("约25万")[:2] == (None, S.UNREADABLE)


@given(st.integers(min_value=0, max_value=10**9))
def test_integers_round_trip_in_every_printed_form(n):
    for text in (str(n), f"{n:,}", str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))):
        value, status = parse_value(text)
        assert value == n and status == (S.ZERO if n == 0 else S.NUMBER)
