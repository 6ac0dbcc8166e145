"""The quality report as a person sees it: opened in real headless Chromium, offline."""

from __future__ import annotations

import io
import tempfile

import pytest

from ogi.core.config import Settings
from ogi.store.db import connect
from ogi.store.report import build_report
from tests.capabilities import chromium, needs_browser

CHARTS = ["coverage-province-year", "coverage-level-year", "documents-format-status", "quarantine-reasons",
          "failure-rate-by-check", "failure-rate-by-year", "distribution-counts", "distribution-rates",
          "year-over-year", "worst-sources"]


@pytest.fixture(scope="module")
def report_file(demo_runs, tmp_path_factory):
    home, _, _ = demo_runs
    con = connect(Settings.from_env_with_home(home).db_path, read_only=True)
    try:
        out = tmp_path_factory.mktemp("report") / "quality.html"
        build_report(con, out)
        with pytest.raises(FileExistsError, match="--force"):
            build_report(con, out)
    finally:
        con.close()
    return out


def test_report_is_self_contained(report_file):
    page = report_file.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page and "<link" not in page
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in page, chart


def _blank(png: bytes) -> float:
    """Share of pixels that differ from the image's most common colour."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 24) or []
    top = max(c for c, _ in colors) if colors else 0
    return 1 - top / (img.width * img.height)


@needs_browser()
def test_report_renders_in_headless_chromium_with_every_chart(report_file, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=chromium(), headless=True, viewport={"width": 1100, "height": 900},
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                    else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri(), wait_until="load")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            for chart in CHARTS:
                el = page.locator(f'figure[data-chart="{chart}"] svg')
                assert el.count() == 1, chart
                box = el.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 100, (chart, box)
                shot = el.screenshot()
                assert _blank(shot) > 0.02, f"{chart}: blank"
        finally:
            browser.close()
    assert not errors, errors
    assert requests == [report_file.as_uri()], requests
