"""The quality and coverage report: one static, self-contained HTML page with inline SVG charts."""

from ogi.store.report.page import build_report

__all__ = ["build_report"]
