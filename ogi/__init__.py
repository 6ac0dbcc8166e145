"""ogi: government information disclosure annual reports (政府信息公开工作年度报告) → one
cross-agency, multi-year fact table.

The pipeline's stages are sub-packages: ``ogi.fetch`` → ``ogi.extract`` → ``ogi.transform`` →
``ogi.store``, told as a Prefect flow in ``ogi.flows``; ``ogi.core`` holds what they share. For
notebooks: ``ogi.extract_file(path)`` and ``ogi.connect(home)`` (see ``ogi.api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION, __version__

if TYPE_CHECKING:
    from ogi.api import connect, extract_file

__all__ = ["EXTRACTOR_VERSION", "TRANSFORM_VERSION", "__version__", "connect", "extract_file"]


def __getattr__(name: str) -> Any:
    # The API pulls in every stage; ``import ogi`` (and every ``ogi.core`` import) stays cheap.
    if name in ("extract_file", "connect"):
        from ogi import api

        return getattr(api, name)
    raise AttributeError(f"module 'ogi' has no attribute {name!r}")
