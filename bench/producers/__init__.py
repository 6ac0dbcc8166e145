"""Reports made by other producers than the project's own docx → LibreOffice path.

Every real failure measured on held-back documents came from a producer the corpus did not imitate:
LibreOffice Writer's own pages (landscape pages, repeated header rows, footers), Chromium's print,
typesetting systems with non-embedded CID fonts, WPS, scans and photographs, spreadsheets with a
preamble, and text made from PDFs by converters. Each module here renders the same ``ReportSpec``
numbers the way one producer does, so the truth stays exact.

This module is the registry: pure data and capability checks, importing nothing of the corpus (the
corpus imports it to list the layouts), so a missing tool only skips the layouts that need it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProducerLayout:
    """One layout of the other-producers corpus: who makes it, how, and what it exercises."""

    module: str  # bench.producers.<module>, which has make(layout, jobs)
    version: str  # template version "2019" | "2021"
    kind: str  # the file that comes out: "pdf" (text layer), "scan" (image-only PDF), "xlsx", "text"
    ext: str  # file extension of the document
    needs: tuple[str, ...]  # capabilities: binaries ("soffice"), python modules ("py:reportlab"), fonts
    exercises: str  # what it exercises (the README's table)
    options: dict[str, Any] = field(default_factory=dict)


_LO = ("soffice", "font:Noto Serif CJK SC")
PRODUCER_LAYOUTS: dict[str, ProducerLayout] = {
    "lo_writer_landscape_2021": ProducerLayout(
        "libreoffice_writer", "2021", "pdf", "pdf", _LO,
        "Writer's own page styles: 三 on landscape pages, header rows repeated on the continuation page, "
        "footers \"— N —\", narrow wrapped labels, vertical 三、本年度办理结果, 四 headers on two lines",
        {"landscape": True}),
    "lo_writer_narrow_2019": ProducerLayout(
        "libreoffice_writer", "2019", "pdf", "pdf", _LO,
        "portrait Writer pages with very narrow label columns (labels over 3–6 lines), repeated "
        "headers, footers, blank markers", {"landscape": False}),
    "chromium_print_2021": ProducerLayout(
        "chromium_print", "2021", "pdf", "pdf", ("chromium", "font:Noto Sans CJK SC"),
        "an HTML table printed by headless Chromium: <thead> repeated on each page, rows split by the "
        "page box, CSS widths and fonts by seed"),
    "reportlab_cid_borderless_2021": ProducerLayout(
        "reportlab_cid", "2021", "pdf", "pdf", ("py:reportlab",),
        "typesetting-system PDF: non-embedded CID font STSong-Light, table 三 borderless or three-line "
        "(三线表), wrapped labels, numbers centred or top-aligned"),
    "reportlab_cid_borderless_2019": ProducerLayout(
        "reportlab_cid", "2019", "pdf", "pdf", ("py:reportlab",),
        "the same in the 2019 format, every table borderless"),
    "wps_like_2021": ProducerLayout(
        "wps_like", "2021", "pdf", "pdf", ("py:reportlab", "font:ttf-cjk"),
        "imitates the real WPS export: embedded TrueType CID font, cells as filled rectangles plus thin "
        "rules, 三 split across pages inside a merged group, justified wrapped labels, footers \"-N-\""),
    "scan150_2021": ProducerLayout(
        "scans", "2021", "scan", "pdf", _LO,
        "150 dpi office scan of a Writer PDF: landscape continuation page of 三 scanned rotated, tight "
        "cells with wide numbers, \"/\" blanks, skew, noise, JPEG", {"mode": "scan"}),
    "photo_2021": ProducerLayout(
        "scans", "2021", "scan", "pdf", _LO,
        "a photographed page: perspective of a few degrees, uneven lighting, blur, JPEG, desk border",
        {"mode": "photo"}),
    "xlsx_preamble_2021": ProducerLayout(
        "xlsx_preamble", "2021", "xlsx", "xlsx", (),
        "spreadsheet with preamble rows (填报单位：…  单位：件) above each grid, one sheet per table or one "
        "for all, numbers as text or numbers, blank markers"),
    "md_mineru_2021": ProducerLayout(
        "converter_text", "2021", "text", "md", (),
        "MinerU-style markdown: tables as HTML <table> with spans, cut at page breaks with the footer "
        "between, wrapped label lines as rows of their own", {"flavour": "mineru"}),
    "md_marker_2021": ProducerLayout(
        "converter_text", "2021", "text", "md", (),
        "marker-style markdown pipe tables: <br> inside cells, merged cells empty, headers flattened, "
        "labels split from their numbers, footers as table rows", {"flavour": "marker"}),
    "md_docling_2019": ProducerLayout(
        "converter_text", "2019", "text", "md", (),
        "docling-style markdown pipe tables: spanned text repeated in every covered cell, padded columns, "
        "header words cut across rows (商业企/业), tables cut at page breaks", {"flavour": "docling"}),
    "pdftotext_layout_2019": ProducerLayout(
        "converter_text", "2019", "text", "txt", (*_LO, "pdftotext"),
        "pdftotext -layout run on a Writer PDF with wrapped labels, repeated headers and footers",
        {"flavour": "pdftotext"}),
    "pdftotext_layout_2021": ProducerLayout(
        "converter_text", "2021", "text", "txt", ("py:reportlab", "font:ttf-cjk", "pdftotext"),
        "pdftotext -layout run on a WPS-like PDF", {"flavour": "pdftotext", "source": "wps_like"}),
}


@dataclass
class Job:
    """One document to make: the spec, where it goes, and its seed (all a producer may use)."""

    spec: Any  # bench.corpus.ReportSpec
    path: Path
    truth_path: Path
    seed: int
    doc_id: str


@functools.cache
def _fonts() -> str:
    try:
        return subprocess.run(["fc-list", ":", "family", "file"], capture_output=True, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def ttf_cjk_font() -> Path | None:
    """A CJK font with TrueType outlines (reportlab embeds only those; Noto CJK is CFF)."""
    for line in _fonts().splitlines():
        path = line.split(":", 1)[0].strip()
        if path.lower().endswith((".ttf", ".ttc")) and any(
                k in line for k in ("WenQuanYi Zen Hei", "AR PL UMing", "AR PL UKai", "Droid Sans Fallback")):
            return Path(path)
    return None


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def missing_capability(need: str) -> str | None:
    """None when the capability is there, else what is missing (binary, font or module, exactly)."""
    if need.startswith("py:"):
        mod = need[3:]
        return None if importlib.util.find_spec(mod) else f"python module {mod} (pip install {mod})"
    if need == "font:ttf-cjk":
        return None if ttf_cjk_font() else "a TrueType CJK font (apt-get install fonts-wqy-zenhei)"
    if need.startswith("font:"):
        family = need[5:]
        return None if family in _fonts() else f"font {family!r} (apt-get install fonts-noto-cjk)"
    if need == "soffice":
        ok = shutil.which("soffice") or shutil.which("libreoffice")
        return None if ok else "binary soffice (apt-get install libreoffice-writer-nogui)"
    if need == "chromium":
        return None if chromium_path() else "binary chromium (apt-get install chromium)"
    return None if shutil.which(need) else f"binary {need} (apt-get install poppler-utils)"


def unavailable(name: str) -> str | None:
    """Why a producer layout cannot be made here (the first missing capability), or None."""
    for need in PRODUCER_LAYOUTS[name].needs:
        why = missing_capability(need)
        if why:
            return why
    return None


def make(name: str, jobs: list[Job]) -> list[dict[str, Any]]:
    """Render every job of one producer layout; returns each document's metadata (style, marks)."""
    layout = PRODUCER_LAYOUTS[name]
    module = importlib.import_module(f"bench.producers.{layout.module}")
    return module.make(name, layout, jobs)
