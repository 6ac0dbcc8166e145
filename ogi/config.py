"""All configuration in one place: paths, versions, network limits.

Values come from environment variables (``OGI_*``) with defaults that work in a fresh clone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
SHARED_DIR = Path(os.environ.get("OGI_SHARED_DIR", REPO_ROOT.parent / "shared"))

# Bump when extraction output for the same bytes may change: it is part of the cache key, so a
# bump makes the next nightly run re-extract everything (and replace each document's facts).
EXTRACTOR_VERSION = "3"
# Bump when normalization/validation may change for the same extracted tables.
TRANSFORM_VERSION = "2"

USER_AGENT = "ogi/0.1 (+https://github.com/ogi-project/ogi; open government information research crawler)"


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Construct with overrides in tests; ``Settings.from_env()`` elsewhere."""

    home: Path = field(default_factory=lambda: REPO_ROOT / "var")
    http_timeout_s: float = 20.0
    http_retries: int = 3
    http_backoff_s: float = 0.5
    http_max_bytes: int = 50 * 1024 * 1024
    http_max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_min_interval_s: float = 0.5
    respect_robots_txt: bool = True
    # Documents in flight at once in the nightly flow: bounds the bytes held in task parameters and
    # results on a first run over millions of documents (each batch is loaded before the next starts).
    process_batch_size: int = 64

    @property
    def db_path(self) -> Path:
        return self.home / "ogi.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def export_dir(self) -> Path:
        return self.home / "export"

    @classmethod
    def from_env(cls) -> Settings:
        return cls.from_env_with_home(Path(os.environ.get("OGI_HOME", REPO_ROOT / "var")))

    @classmethod
    def from_env_with_home(cls, home: Path) -> Settings:
        kw: dict = {"home": home}
        if "OGI_HTTP_TIMEOUT" in os.environ:
            kw["http_timeout_s"] = float(os.environ["OGI_HTTP_TIMEOUT"])
        if "OGI_HTTP_RETRIES" in os.environ:
            kw["http_retries"] = int(os.environ["OGI_HTTP_RETRIES"])
        if "OGI_MIN_INTERVAL" in os.environ:
            kw["per_host_min_interval_s"] = float(os.environ["OGI_MIN_INTERVAL"])
        if os.environ.get("OGI_IGNORE_ROBOTS") == "1":
            kw["respect_robots_txt"] = False
        if "OGI_BATCH_SIZE" in os.environ:
            kw["process_batch_size"] = max(1, int(os.environ["OGI_BATCH_SIZE"]))
        return cls(**kw)
