"""Label normalization and matching on the noise real reports carry (see shared/reference/templates.md)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogi.transform.knowledge.codebook import load_codebook
from ogi.transform.knowledge.labels import canonical_text, match_label, numbering, split_numbered

CB = load_codebook()
S3_ROWS = CB.codes("s3", "row")
S3_COLS = CB.codes("s3", "col")
S4_COLS = CB.codes("s4", "col")


# ------------------------------------------------------------------ codebook


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("s3.refused.state_secret", "不予公开/属于国家秘密"),
        ("s4c.review.upheld", "行政复议/结果维持"),
        ("s4c.suit_direct.upheld", "行政诉讼/未经复议直接起诉/结果维持"),
        ("s3c.commercial", "法人或其他组织/商业企业"),
        ("s3.new", "本年新收政府信息公开申请数量"),
        ("s3.total", "总计"),
        ("s3.other.other", "其他处理/其他"),
    ],
)
def test_label_path(code, path):
    assert CB.label_path(code) == path


def test_template_rows_and_columns_per_version():
    assert len(CB.rows("s3", "2019")) == 23
    assert len(CB.rows("s3", "2021")) == 25
    assert "s3.other" in CB.rows("s3", "2019") and "s3.other" not in CB.rows("s3", "2021")
    assert CB.cols("s3", "2021") == [
        "s3c.natural_person", "s3c.commercial", "s3c.research", "s3c.nonprofit",
        "s3c.legal_service", "s3c.other_org", "s3c.total",
    ]
    assert len(CB.cols("s4", "2019")) == 15 and CB.cols("s4", "2019")[5] == "s4c.suit_direct.upheld"
    assert "s2.procurement" in CB.rows("s2", "2019") and "s2.procurement" not in CB.rows("s2", "2021")


# ------------------------------------------------------------------ canonical text


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("结 果\n维持", "结果维持"),
        ("总 计", "总计"),
        ("三\n、\n本\n年\n度\n办\n理\n结\n果", "本年度办理结果"),
        ("1、属于国家秘密", "属于国家秘密"),
        ("1.属于国家秘密", "属于国家秘密"),
        ("1．属于国家秘密", "属于国家秘密"),
        ("（1）属于国家秘密", "属于国家秘密"),
        ("(三)不予公开", "不予公开"),
        ("（三）不\n予公开", "不予公开"),
        ("（七）总记", "总计"),  # garble in text converted from a PDF
        ("3.危及“三安全一稳定”", "危及三安全一稳定"),
        ('3.危及"三安全一稳定"', "危及三安全一稳定"),
        ("商业\n企业", "商业企业"),
        ("社 会 公 益\n组织", "社会公益组织"),
        ("本年收费金额（单位：万元）", "本年收费金额(单位:万元)"),
        ("", ""),
    ],
)
def test_canonical_text(raw, canonical):
    assert canonical_text(raw) == canonical


def test_partial_label_broken_over_lines_equals_official():
    raw = "（二）部分公开（区分处理的，只计这一情 形，不\n计其他情形）"
    assert canonical_text(raw) == canonical_text(CB.get("s3.partial").label_zh)


def test_numbers_are_not_numbering():
    assert canonical_text("24.5") == "24.5"
    assert numbering("24.5") is None


@pytest.mark.parametrize(
    ("raw", "token"),
    [("一、本年新收", "I:1"), ("四、结转", "I:4"), ("（一）予以公开", "P:1"), ("(七)总计", "P:7"),
     ("1.属于", "A:1"), ("5、要求", "A:5"), ("（2）其他", "Q:2"), ("十二、其他", "I:12"), ("予以公开", None)],
)
def test_numbering(raw, token):
    assert numbering(raw) == token


def test_split_numbered_cell_with_parent_and_leaf():
    assert [canonical_text(p) for p in split_numbered("（三）不予公开 1.属于国家秘密")] == ["不予公开", "属于国家秘密"]
    assert [canonical_text(p) for p in split_numbered("三、本年度办理结果（一）予以公开")] == ["本年度办理结果", "予以公开"]
    assert split_numbered("部分公开（区分处理的，只计这一情形，不计其他情形）") == [
        "部分公开(区分处理的,只计这一情形,不计其他情形)"]


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2.其他法律行政止公开", "s3.refused.law_prohibited"),  # official typo [HZ24]
        ("（七）总记", "s3.total"),
        ("部分公开（区分处理的，只计这一情 形，不\n计其他情形）", "s3.partial"),
        ("（二）部分公开", "s3.partial"),
        ("4.无正当理由大量反复 申请", "s3.not_processed.mass_repeat"),
        ("5.要求行政机关确认或重 新出具\n已获取信息", "s3.not_processed.confirm_reissue"),
        ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "s3.other.no_correction"),
        ("四、结转下年度继续办理", "s3.carried_out"),
        ("二、上年结转政府信息公开申请数量", "s3.carried_in"),
    ],
)
def test_match_real_s3_row_labels(raw, code):
    m = match_label(raw, S3_ROWS, CB)
    assert m.code == code, m


def test_match_is_refused_below_threshold_or_when_ambiguous():
    assert match_label("见附件", S3_ROWS, CB).code is None
    amb = match_label("政府信息", S3_ROWS, CB)  # fits 本年新收… and 上年结转… equally
    assert amb.code is None and amb.runner_up is not None
    assert match_label("", S3_ROWS, CB).code is None


def test_same_leaf_under_different_parents_is_ambiguous_without_context():
    # 四's "结果维持" belongs to three blocks: only position can tell, so the matcher refuses.
    assert match_label("结果\n维持", S4_COLS, CB).code is None
    assert match_label("结果\n维持", CB.children("s4c.suit_direct"), CB).code == "s4c.suit_direct.upheld"


def test_header_labels_with_line_breaks():
    assert match_label("社会\n公益\n组织", S3_COLS, CB).code == "s3c.nonprofit"
    assert match_label("法律\n服务\n机构", S3_COLS, CB).code == "s3c.legal_service"
    assert match_label("总 计", CB.children("s4c.review"), CB).code == "s4c.review.total"


# ------------------------------------------------------------------ property: noise maps back

_NUMBERINGS = ["一、", "（一）", "(一)", "1.", "1、", "1．", "（1）", "(1)", "二、", "（七）", "8.", ""]
_FULL = str.maketrans("()0123456789:,./", "（）０１２３４５６７８９：，．／")
_HALF = str.maketrans("（）：，“”", '():,""')


def _noise(label: str, ops: list[tuple[str, int]]) -> str:
    text = label
    for op, k in ops:
        if op == "space" and text:
            i = k % len(text)
            text = text[:i] + [" ", "\n", "\u3000", " \n"][k % 4] + text[i:]
        elif op == "vertical":
            text = "\n".join(text)
        elif op == "full":
            text = text.translate(_FULL)
        elif op == "half":
            text = text.translate(_HALF)
        elif op == "number":
            text = _NUMBERINGS[k % len(_NUMBERINGS)] + text
        elif op == "quotes":
            text = text.replace("“", "「").replace("”", "」")
        elif op == "drop" and len(canonical_text(label)) >= 8:
            i = 2 + k % (len(text) - 4)
            text = text[:i] + text[i + 1:]
    return text


def _distinct_candidates(code: str) -> list[str]:
    """Codes of the same section and axis whose labels differ from ``code``'s (plus ``code``)."""
    e = CB.get(code)
    own = canonical_text(e.label_zh)
    return [code] + [c for c in CB.codes(e.section, e.axis)
                     if c != code and canonical_text(CB.get(c).label_zh) != own]


_OPS = st.lists(
    st.tuples(st.sampled_from(["space", "vertical", "full", "half", "number", "quotes", "drop"]),
              st.integers(min_value=0, max_value=1000)),
    max_size=5,
)
_ALL_CODES = list(CB.entries)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=st.sampled_from(_ALL_CODES), ops=_OPS)
def test_noisy_label_maps_back_to_its_code(code, ops):
    raw = _noise(CB.get(code).label_zh, [o for o in ops if o[0] != "drop"])
    m = match_label(raw, _distinct_candidates(code), CB)
    assert m.code == code, (raw, m)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=st.sampled_from(_ALL_CODES), ops=_OPS, drop=st.integers(min_value=0, max_value=1000))
def test_label_with_a_typo_is_placed_right_or_not_at_all(code, ops, drop):
    # One lost character (a real typo, "其他法律行政止公开") may make a label ambiguous with a
    # neighbour ("本处理决定数量" vs 处理决定数量): then it stays unplaced — never a wrong code.
    raw = _noise(CB.get(code).label_zh, [o for o in ops if o[0] != "drop"] + [("drop", drop)])
    m = match_label(raw, _distinct_candidates(code), CB)
    assert m.code in (code, None), (raw, m)


def test_long_labels_with_a_typo_still_match():
    # The 2019/2021 template labels; legacy items nest inside each other (主动公开信息数 ⊂
    # 全文电子化的主动公开信息数), so a typo there may rightly leave the label unplaced — the
    # property test above covers "right or none" for them.
    for code in (c for c in CB.entries if CB.get(c).section in ("s2", "s3", "s4")):
        label = CB.get(code).label_zh
        if len(canonical_text(label)) < 10:
            continue
        for i in range(2, len(label) - 2, 3):
            raw = label[:i] + label[i + 1:]
            assert match_label(raw, _distinct_candidates(code), CB).code == code, raw


def _other_section_labels() -> list[tuple[str, str]]:
    pairs = []
    # Template sections against each other; legacy tables never reach the template placer
    # (version detection routes them to transform.legacy).
    for code, e in CB.entries.items():
        if e.section not in ("s2", "s3", "s4"):
            continue
        for other in ("s2", "s3", "s4"):
            if other == e.section:
                continue
            other_labels = {canonical_text(CB.get(c).label_zh) for c in CB.codes(other, "row") + CB.codes(other, "col")}
            if canonical_text(e.label_zh) not in other_labels:
                pairs.append((code, other))
    return pairs


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(_other_section_labels()), ops=_OPS)
def test_label_from_another_section_does_not_match(pair, ops):
    code, other = pair
    raw = _noise(CB.get(code).label_zh, [o for o in ops if o[0] != "drop"])
    candidates = CB.codes(other, CB.get(code).axis)
    assert match_label(raw, candidates, CB).code is None, (raw, other)
