"""Label normalization and matching: raw table labels → codebook codes.

Real labels carry every kind of noise (full/half-width forms, line breaks inside words, one character
per line from vertical merged cells, "1、" vs "1.", official typos, garbles from PDF-to-text). All of
that is reduced by ``canonical_text``; what remains is matched against the official label and its
known variants (data/label_variants.csv) with a similarity score. Below the threshold, or when two
candidates score about the same, the match is refused: a value is never placed on a guess.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.transform.knowledge.codebook import Codebook

VARIANTS_PATH = DATA_DIR / "label_variants.csv"
FIXES_PATH = DATA_DIR / "label_fixes.csv"

AMBIGUITY_MARGIN = 0.05
_MIN_CONTAINED = 4  # a contained fragment shorter than this says too little to match on

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "一二三四五六七八九十"
# Applied to text that is already NFKC-normalized and stripped of whitespace.
_NUMBERING_RE = re.compile(
    rf"^(?:"
    rf"(?P<I>[{_CN_NUM}]+)[、.,]"  # 一、  三.
    rf"|\((?P<P>[{_CN_NUM}]+)\)[、.,]?"  # (一)  （一）
    rf"|\((?P<Q>\d+)\)[、.,]?"  # (1)  （1）
    rf"|(?P<A>\d+)(?:\.\d+)*(?:、|[.,](?!\d)|\))"  # 1.  1、  1．  1)  1.1.  (not 24.5)
    rf")"
)
_INNER_NUMBERING_RE = re.compile(
    rf"\([{_CN_NUM}]+\)|[{_CN_NUM}]+、|(?<![\d.])\d+[、.](?!\d)|\(\d+\)"
)
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』〝〞＂＇`")
_PUNCT = str.maketrans({"、": "、", "，": ",", "：": ":", "；": ";", "－": "-", "—": "-", "–": "-", "／": "/",
                        "【": "[", "】": "]", "〔": "[", "〕": "]", "。": ".", "·": ""})
_SPACE_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff\u00a0\u3000]+")


@dataclass(frozen=True)
class LabelMatch:
    """The outcome of matching one raw label; ``code`` is None when unplaced."""

    code: str | None
    score: float
    raw: str
    canonical: str
    runner_up: str | None
    runner_up_score: float = 0.0


@cache
def _fixes() -> tuple[tuple[str, str], ...]:
    with open_text(FIXES_PATH) as f:
        rows = [(_base_text(r["garble"]), _base_text(r["fix"])) for r in csv.DictReader(f)]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


@cache
def _variants() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    with open_text(VARIANTS_PATH) as f:
        for r in csv.DictReader(f):
            out.setdefault(r["code"].strip(), []).append(r["variant"])
    return {k: tuple(v) for k, v in out.items()}


def _base_text(raw: str) -> str:
    """NFKC, whitespace removed, punctuation and quotes unified — but numbering kept."""
    text = unicodedata.normalize("NFKC", raw)
    text = _SPACE_RE.sub("", text)
    text = text.translate(_PUNCT).translate(_QUOTES)
    return text


def strip_numbering(text: str) -> str:
    """Remove leading numbering tokens ("三、", "(一)", "1.", "1、", "(1)") from base text."""
    while True:
        m = _NUMBERING_RE.match(text)
        if not m or m.end() == len(text):
            return text
        text = text[m.end():]


@lru_cache(maxsize=65536)
def numbered_text(raw: str | None) -> str:
    """``canonical_text`` that keeps the numbering ("（三）", "4."): for readers that tell rows apart
    by their numbers too (a text dump's label fragments)."""
    if not raw:
        return ""
    text = _base_text(raw)
    for garble, fix in _fixes():
        text = text.replace(garble, fix)
    return text


@lru_cache(maxsize=65536)
def canonical_text(raw: str | None) -> str:
    """The comparable form of a label: NFKC, no whitespace, unified punctuation, no quotes, no
    leading numbering, known garbles fixed (data/label_fixes.csv)."""
    if not raw:
        return ""
    text = _base_text(raw)
    for garble, fix in _fixes():
        text = text.replace(garble, fix)
    text = strip_numbering(text)
    if text.startswith("其中:"):
        text = text[3:]
    return text.rstrip(":")


def _cn_to_int(s: str) -> int | None:
    if not s:
        return None
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = _CN_DIGITS.get(tens, 1) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        return t * 10 + o
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    return None


def numbering(raw: str | None) -> str | None:
    """The label's leading numbering as a level-tagged token, or None.

    "一、" → "I:1" (chapter), "（一）"/"(一)" → "P:1", "1." / "1、" / "1．" → "A:1", "（1）" → "Q:1".
    Tells a row's level in the hierarchy when the layout does not.
    """
    if not raw:
        return None
    m = _NUMBERING_RE.match(_base_text(raw))
    if not m:
        return None
    for kind in ("I", "P"):
        if m.group(kind):
            n = _cn_to_int(m.group(kind))
            return f"{kind}:{n}" if n is not None else None
    for kind in ("Q", "A"):
        if m.group(kind):
            return f"{kind}:{int(m.group(kind))}"
    return None


def split_numbered(raw: str) -> list[str]:
    """Split a cell that holds several numbered labels ("（三）不予公开1.属于国家秘密") into parts.

    Returns base-text parts (numbering kept); a label without inner numbering comes back whole.
    """
    text = _base_text(raw)
    starts = sorted({m.start() for m in _INNER_NUMBERING_RE.finditer(text) if m.start() > 0} | {0})
    parts = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    return [p for p in parts if canonical_text(p)]


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


@lru_cache(maxsize=262144)
def similarity(a: str, b: str) -> float:
    """0..1 between two canonical texts: the best of edit ratio, bigram Dice and containment."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    ba, bb = _bigrams(a), _bigrams(b)
    dice = 2 * len(ba & bb) / (len(ba) + len(bb))
    score = max(ratio, dice)
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= _MIN_CONTAINED and short in long_:
        score = max(score, 0.8 + 0.2 * len(short) / len(long_))
    return min(score, 0.999)  # only equality is a perfect match


def match_text(raw: str | None, options: Mapping[str, Sequence[str]], *, threshold: float = 0.8) -> LabelMatch:
    """Match ``raw`` against named options (key → its label texts); the general form of
    ``match_label`` for vocabularies outside the codebook (legacy tables, headings)."""
    canon = canonical_text(raw)
    scored: list[tuple[float, str]] = []
    for key, texts in options.items():
        best = max((similarity(canon, canonical_text(t)) for t in texts), default=0.0)
        scored.append((best, key))
    scored.sort(key=lambda s: -s[0])
    if not canon or not scored:
        return LabelMatch(None, 0.0, raw or "", canon, None)
    best_score, best_key = scored[0]
    ru_score, ru_key = scored[1] if len(scored) > 1 else (0.0, None)
    if best_score == 1.0:
        # Exact canonical equality decides on its own, unless two options are equal.
        accepted = ru_score < 1.0
    else:
        accepted = best_score >= threshold and best_score - ru_score >= AMBIGUITY_MARGIN - 1e-9
    return LabelMatch(best_key if accepted else None, best_score, raw or "", canon, best_key if not accepted
                      else ru_key, ru_score if accepted else best_score)


def label_options(codes: Sequence[str], codebook: Codebook) -> dict[str, tuple[str, ...]]:
    """Official label plus known variants for each code."""
    variants = _variants()
    return {c: (codebook.get(c).label_zh, *variants.get(c, ())) for c in codes}


def match_label(raw: str | None, candidates: Sequence[str], codebook: Codebook, *, threshold: float = 0.8) -> LabelMatch:
    """Match a raw label to one of ``candidates`` (codebook codes) or to none.

    Exact canonical equality scores 1.0; otherwise the best similarity against the official label
    and its variants. Below ``threshold``, or with a runner-up within 0.05, ``code`` is None and
    ``runner_up`` holds the nearest code for review.
    """
    return match_text(raw, label_options(candidates, codebook), threshold=threshold)
