"""Charts as inline SVG (matplotlib, text kept as text): nothing to fetch when the page is viewed.

Each function takes a plain DataFrame and returns one ``<svg>`` string; an empty input draws a
labelled empty chart rather than nothing, so every chart on the page always shows something.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC")


def _font_family() -> list[str]:
    """One CJK font to measure text with (a list of fallbacks makes every label load each font)."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return [next((f for f in CJK_FONTS if f in have), "DejaVu Sans")]


STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small, selectable, drawn by the viewer's CJK font
    "svg.hashsalt": "ogi-report",  # stable element ids
    "font.family": _font_family(),
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
STATUS_COLORS = {"loaded": "#2e7d32", "container": "#90a4ae", "quarantined": "#c62828"}


def _svg(draw: Callable[[plt.Figure], None], size: tuple[float, float]) -> str:
    with plt.rc_context(STYLE), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.simplefilter("ignore")  # missing-glyph warnings where no CJK font is installed
        fig = plt.figure(figsize=size)
        try:
            draw(fig)
            fig.tight_layout()
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # the RDF metadata block only names namespaces (URIs), but keep the page free of any address
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start != -1 and end != -1:
        text = text[:start] + text[end + len("</metadata>"):]
    return text


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def heatmap(table: pd.DataFrame, counts: pd.DataFrame | None, title: str, xlabel: str, ylabel: str) -> str:
    """Shares 0–1 in a rows × columns grid, each cell annotated (with counts when given)."""
    def draw(fig):
        ax = fig.add_subplot()
        if table.empty:
            _empty(ax, "no data")
        else:
            im = ax.imshow(table.to_numpy(dtype=float), vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
            ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
            ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
            for i in range(table.shape[0]):
                for j in range(table.shape[1]):
                    v = table.iat[i, j]
                    if pd.isna(v):
                        continue
                    label = f"{v:.0%}" + (f"\n{counts.iat[i, j]}" if counts is not None else "")
                    ax.text(j, i, label, ha="center", va="center", fontsize=7)
            fig.colorbar(im, ax=ax, fraction=0.04)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    return _svg(draw, (7.5, max(2.4, 0.45 * len(table) + 1.6)))


def stacked_bars(table: pd.DataFrame, title: str, xlabel: str) -> str:
    """Horizontal bars, one per index value, stacked by column (documents by format × status)."""
    def draw(fig):
        ax = fig.add_subplot()
        if table.empty:
            _empty(ax, "no documents")
        else:
            left = np.zeros(len(table))
            for col in table.columns:
                vals = table[col].to_numpy(dtype=float)
                ax.barh([str(i) for i in table.index], vals, left=left, label=str(col),
                        color=STATUS_COLORS.get(str(col)))
                left += vals
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
    return _svg(draw, (7.5, max(2.2, 0.4 * len(table) + 1.4)))


def bars(labels: list[str], values: list[float], title: str, xlabel: str, *, percent: bool = False,
         colors: list[str] | None = None) -> str:
    def draw(fig):
        ax = fig.add_subplot()
        if not labels:
            _empty(ax, "nothing to show")
        else:
            ax.barh(labels[::-1], values[::-1], color=(colors[::-1] if colors else "#1565c0"))
            for y, v in enumerate(values[::-1]):
                ax.text(v, y, f" {v:.1%}" if percent else f" {v:g}", va="center", fontsize=7)
            if percent:
                ax.set_xlim(0, max(1.0, max(values) * 1.15))
        ax.set_title(title)
        ax.set_xlabel(xlabel)
    return _svg(draw, (7.5, max(2.2, 0.32 * len(labels) + 1.4)))


def boxes(groups: dict[str, list[float]], title: str, ylabel: str, *, log: bool) -> str:
    """One box (with every point) per variable; counts on a log scale."""
    def draw(fig):
        ax = fig.add_subplot()
        names = [k for k, v in groups.items() if v]
        if not names:
            _empty(ax, "no values")
        else:
            data = [np.log1p(np.clip(groups[k], 0, None)) if log else np.asarray(groups[k]) for k in names]
            ax.boxplot(data, tick_labels=names, vert=True, showfliers=True, flierprops={"markerfacecolor": "#c62828"})
            for i, d in enumerate(data, start=1):
                ax.plot(np.full(len(d), i) + np.linspace(-0.08, 0.08, len(d)), d, "o", ms=3, alpha=0.5, color="#1565c0")
            ax.tick_params(axis="x", rotation=20)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
    return _svg(draw, (7.5, 3.4))


def histogram(values: list[float], title: str, xlabel: str) -> str:
    def draw(fig):
        ax = fig.add_subplot()
        if not values:
            _empty(ax, "no consecutive years to compare")
        else:
            ax.hist(values, bins=np.linspace(0, 1, 21), color="#6a1b9a")
            ax.axvline(1.0, color="#c62828", ls="--", lw=1)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("reports")
    return _svg(draw, (7.5, 2.8))
