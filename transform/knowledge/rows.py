"""The template's row hierarchy read in order: a group label (（三）不予公开) opens a group that later
leaf labels belong to, so the same leaf text (其他, 总计) resolves to different codes under different
parents. Used by the grid placer and by the text readers."""

from __future__ import annotations

from collections.abc import Sequence

from ogi.transform.knowledge.codebook import Codebook
from ogi.transform.knowledge.labels import canonical_text, match_label, numbering, split_numbered

# Shorter labels never place themselves outside their group: "其他" is a different row under
# 不予公开 than under 其他处理.
_MIN_FREE_LABEL = 4


class RowResolver:
    """Resolves a row's label cells to a code, keeping the current group (parent) as rows go by."""

    def __init__(self, section: str, codebook: Codebook):
        self.section = section
        self.cb = codebook
        self.codes = codebook.codes(section, "row")
        self.top = [c for c in self.codes if not codebook.get(c).parent]
        self.path: list[str] = []  # open groups, outermost first

    def _has_children(self, code: str) -> bool:
        return bool(self.cb.children(code))

    def _tiers(self, piece: str) -> list[list[str]]:
        level = (numbering(piece) or "").split(":")[0]
        groups = [self.cb.children(g) for g in reversed(self.path)]  # innermost first
        if level == "I":
            tiers = [self.top]
        elif level == "P" and self.path:
            tiers = [self.cb.children(self.path[0]), *groups, self.top]
        else:
            tiers = [*groups, self.top]
        return [t for t in tiers if t]

    def _match_piece(self, piece: str) -> tuple[str | None, float, str | None]:
        best_guess = None
        for tier in self._tiers(piece):
            m = match_label(piece, tier, self.cb)
            if m.code:
                return m.code, m.score, None
            if m.runner_up and best_guess is None and m.runner_up_score >= 0.6:
                best_guess = f"{m.runner_up} ({m.runner_up_score:.2f})"
        # A label unique in the whole section places itself (and tells its group) — but only a
        # long one: short texts such as "其他" mean different rows under different parents.
        if len(canonical_text(piece)) >= _MIN_FREE_LABEL:
            m = match_label(piece, self.codes, self.cb)
            if m.code:
                return m.code, m.score, None
        return None, 0.0, best_guess

    def _enter(self, code: str) -> None:
        chain = [*self.cb.ancestors(code), code]
        self.path = chain if self._has_children(code) else chain[:-1]

    def peek(self, labels: Sequence[str]) -> tuple[str | None, float, str | None]:
        """What :meth:`resolve` would say, without opening or closing any group."""
        saved = list(self.path)
        try:
            return self.resolve(labels)
        finally:
            self.path = saved

    def resolve(self, labels: Sequence[str]) -> tuple[str | None, float, str | None]:
        """(code of the row's innermost label, score, best guess when unmatched)."""
        code: str | None = None
        score = 1.0
        guess = None
        pieces = [p for lab in labels for p in split_numbered(lab)]
        for i, piece in enumerate(pieces):
            c, s, g = self._match_piece(piece)
            if c is None and i == len(pieces) - 1 and len(labels) > 1:
                # One label broken over two cells ("（二）部分 不计其他" | "公开（区分处理的…）").
                c, s, g = self._match_piece("".join(labels[-2:]))
            if c is None:
                if i == len(pieces) - 1:
                    return None, 0.0, g
                continue
            self._enter(c)
            code, score, guess = c, min(score, s), g
        return code, score, guess
