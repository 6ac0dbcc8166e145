"""What this machine can do beyond Python: each optional tool a test needs, probed exactly.

A test that needs LibreOffice Calc must skip (with the reason) where only Writer is installed:
``soffice`` on the PATH says nothing about which components are there, so the probe looks for the
component's library next to the binary (Debian ships Writer and Calc as separate packages).
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

import pytest

# The library each LibreOffice component installs into program/ (same name on Debian and upstream).
_LIBREOFFICE_COMPONENTS = {"writer": "libswlo.so", "calc": "libsclo.so"}
_DEBIAN_PACKAGES = {"writer": "libreoffice-writer-nogui", "calc": "libreoffice-calc-nogui"}


@cache
def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@cache
def missing_libreoffice(component: str) -> str | None:
    """None when ``soffice`` can open documents of ``component`` ("writer", "calc"); else why not."""
    return component_missing(component, soffice())


def component_missing(component: str, binary: str | None) -> str | None:
    if binary is None:
        return "LibreOffice (soffice) is not installed"
    program = Path(os.path.realpath(binary)).parent
    if not (program / _LIBREOFFICE_COMPONENTS[component]).exists():
        return (f"LibreOffice {component.title()} is not installed ({program} has no "
                f"{_LIBREOFFICE_COMPONENTS[component]}; Debian: {_DEBIAN_PACKAGES[component]})")
    return None


def needs_libreoffice(component: str) -> pytest.MarkDecorator:
    reason = missing_libreoffice(component)
    return pytest.mark.skipif(reason is not None, reason=reason or "")



CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


@cache
def chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@cache
def missing_browser() -> str | None:
    """None when headless Chromium can be driven by Playwright; else why not."""
    if chromium() is None:
        return "Chromium is not installed (Debian: chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    return None


def needs_browser() -> pytest.MarkDecorator:
    reason = missing_browser()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@cache
def missing_pdftotext() -> str | None:
    """None when poppler's ``pdftotext`` is on the PATH; else why not."""
    return None if shutil.which("pdftotext") else "pdftotext is not installed (Debian: poppler-utils)"


def needs_pdftotext() -> pytest.MarkDecorator:
    reason = missing_pdftotext()
    return pytest.mark.skipif(reason is not None, reason=reason or "")
