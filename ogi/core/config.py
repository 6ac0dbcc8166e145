"""All configuration in one place: where things live, code versions, network and batch limits.

Settings come from environment variables (``OGI_*``, documented on each field) or keyword
arguments, through pydantic-settings, so a typo in a value fails at start with the variable's name.
Reference data ships inside the package (``ogi.data``) and is read through ``importlib.resources``,
so an installed wheel works outside a checkout; the working home (database, archive, exports) is
``$OGI_HOME``, else the per-user data directory — never the installation directory.
"""

from __future__ import annotations

import os
from importlib import metadata
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The package's reference data (codebook, labels, identities, registry, demo sites): data/ in a
# checkout, ogi/data/ inside an installed wheel.
DATA_DIR: Traversable = files("ogi.data")

# Bump when extraction output for the same bytes may change: it is part of the cache key, so a
# bump makes the next nightly run re-extract everything (and replace each document's facts).
EXTRACTOR_VERSION = "4"
# Bump when normalization/validation may change for the same extracted tables.
TRANSFORM_VERSION = "6"


def package_version() -> str:
    """The installed distribution's version (pyproject's ``version``)."""
    try:
        return metadata.version("ogi")
    except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


__version__ = package_version()

USER_AGENT = (f"ogi/{__version__} (+https://github.com/ogi-project/ogi; "
              "open government information research crawler)")


def default_home() -> Path:
    """``$OGI_HOME`` is read by Settings; without it, the per-user data directory."""
    return platformdirs.user_data_path("ogi", appauthor=False)


def _env(*names: str) -> AliasChoices:
    """The environment variables that set a field (keyword arguments use the field's own name;
    the name alone is never looked up in the environment, where ``HOME`` would set ``home``)."""
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Runtime settings. Keyword arguments override the environment (tests pass them)."""

    # Every field names its OGI_* variable; env_prefix keeps bare field names out of the environment.
    model_config = SettingsConfigDict(env_prefix="OGI_", frozen=True, populate_by_name=True, extra="ignore",
                                      case_sensitive=True)

    home: Path = Field(default_factory=default_home, validation_alias=_env("OGI_HOME"),
                       description="database, archive, exports, Prefect results")
    http_timeout_s: float = Field(20.0, validation_alias=_env("OGI_HTTP_TIMEOUT"), gt=0)
    http_retries: int = Field(3, validation_alias=_env("OGI_HTTP_RETRIES"), ge=0)
    http_backoff_s: float = Field(0.5, validation_alias=_env("OGI_HTTP_BACKOFF"), ge=0)
    http_max_bytes: int = Field(50 * 1024 * 1024, validation_alias=_env("OGI_HTTP_MAX_BYTES"), gt=0)
    http_max_redirects: int = Field(5, validation_alias=_env("OGI_HTTP_MAX_REDIRECTS"), ge=0)
    per_host_concurrency: int = Field(2, validation_alias=_env("OGI_PER_HOST_CONCURRENCY"), ge=1)
    per_host_min_interval_s: float = Field(0.5, validation_alias=_env("OGI_MIN_INTERVAL"),
                                           ge=0)
    ignore_robots: bool = Field(False, validation_alias=_env("OGI_IGNORE_ROBOTS"),
                                description="only for sites that permit this crawl")
    # One wall clock per request attempt: connect, TLS, headers and body together (a server that
    # drips its headers a byte at a time stays under every per-read timeout).
    http_deadline_s: float = Field(60.0, validation_alias=_env("OGI_HTTP_DEADLINE"), gt=0)
    # Retry-After: one wait is at most the cap; a host's waits together at most the budget per night.
    # A host asking for more is left alone for the night (its URLs fail fast, with the reason).
    retry_after_cap_s: float = Field(60.0, validation_alias=_env("OGI_RETRY_AFTER_CAP"), ge=0)
    retry_after_budget_s: float = Field(300.0, validation_alias=_env("OGI_RETRY_AFTER_BUDGET"), ge=0)
    # After this many requests in a row to one host fail (timeouts, resets, 5xx after retries),
    # the host's remaining URLs fail fast for the night instead of each costing its deadline.
    host_failure_limit: int = Field(4, validation_alias=_env("OGI_HOST_FAILURE_LIMIT"), ge=1)
    # Listing pages visited per agency and listing; hitting the cap is recorded as a warning.
    max_listing_pages: int = Field(50, validation_alias=_env("OGI_MAX_LISTING_PAGES"), ge=1)
    # Crawl tasks (one host each, never two at once for one host) in flight at once in the flow,
    # and agencies per task (a big host's agencies go in several tasks, one after the other).
    crawl_parallel_sites: int = Field(8, validation_alias=_env("OGI_CRAWL_SITES"), ge=1)
    crawl_chunk_agencies: int = Field(100, validation_alias=_env("OGI_CRAWL_CHUNK"), ge=1)
    # Where raw documents are archived: an fsspec URL (file:///…, s3://bucket/prefix); default
    # file://<home>/archive. S3 endpoint and credentials: these, else the usual AWS_* variables.
    archive_url: str | None = Field(None, validation_alias=_env("OGI_ARCHIVE"))
    s3_endpoint_url: str | None = Field(None, validation_alias=_env("OGI_S3_ENDPOINT"))
    s3_access_key_id: str | None = Field(None, validation_alias=_env("OGI_S3_KEY"))
    s3_secret_access_key: SecretStr | None = Field(None, validation_alias=_env("OGI_S3_SECRET"))
    # Documents per processing task (Prefect's per-task cost is paid once per batch), and batches
    # in flight at once (each loaded, oldest first, before more are submitted).
    process_batch_size: int = Field(32, validation_alias=_env("OGI_BATCH_SIZE"), ge=1)
    process_batches_in_flight: int = Field(2, validation_alias=_env("OGI_BATCHES_IN_FLIGHT"), ge=1)
    # Alert: when the night failed or a source broke, POST a small JSON summary here (optional).
    alert_webhook: str | None = Field(None, validation_alias=_env("OGI_ALERT_WEBHOOK"))
    alert_timeout_s: float = Field(10.0, validation_alias=_env("OGI_ALERT_TIMEOUT"), gt=0)
    alert_retries: int = Field(2, validation_alias=_env("OGI_ALERT_RETRIES"), ge=0)
    corrections_file: Path | None = Field(None, validation_alias=_env("OGI_CORRECTIONS"),
                                          description="reviewed corrections CSV (default: the package's "
                                                      "data/corrections.csv)")
    release_license: str = Field("CC-BY-4.0", validation_alias=_env("OGI_RELEASE_LICENSE"),
                                 description="SPDX id of the licence the release bundle is published under")

    # The budget of one document (README "Limits"). Extraction runs in worker processes, one document
    # at a time each, under a wall-time and a memory limit; inside, the parsers check their own limits
    # before doing the work. A document past a limit is quarantined with a reason naming it.
    extract_workers: int = Field(default_factory=lambda: os.cpu_count() or 1,
                                 validation_alias=_env("OGI_EXTRACT_WORKERS"), ge=0,
                                 description="worker processes per host process (0: extract in-process, unbounded)")
    db_memory_mb: int = Field(1024, validation_alias=_env("OGI_DB_MEMORY_MB"), ge=128,
                              description="memory DuckDB may use in the loader's process (beyond it, it spills "
                                          "to disk): without a limit its buffers grow with the database")
    second_reader: Literal["doubt", "always", "never"] = Field(
        "doubt", validation_alias=_env("OGI_SECOND_READER"),
        description="when a text PDF's ruled tables are read again by pdfplumber and compared cell by cell: "
                    "only when the first reading fails a check (doubt), always, or never")
    extract_timeout_s: float = Field(180.0, validation_alias=_env("OGI_EXTRACT_TIMEOUT"), gt=0,
                                     description="wall time of one document in its worker")
    extract_max_memory_mb: int = Field(1280, validation_alias=_env("OGI_EXTRACT_MAX_MEMORY_MB"), ge=64,
                                       description="resident memory of a worker while it extracts one document")
    extract_worker_max_docs: int = Field(100, validation_alias=_env("OGI_EXTRACT_WORKER_MAX_DOCS"), ge=1,
                                         description="documents a worker extracts before it is replaced")
    extract_max_input_mb: int = Field(64, validation_alias=_env("OGI_EXTRACT_MAX_INPUT_MB"), ge=1,
                                      description="size of one document's bytes")
    extract_max_unzipped_mb: int = Field(256, validation_alias=_env("OGI_EXTRACT_MAX_UNZIPPED_MB"), ge=1,
                                         description="declared size of all members of a .docx/.xlsx zip")
    extract_max_stream_mb: int = Field(256, validation_alias=_env("OGI_EXTRACT_MAX_STREAM_MB"), ge=1,
                                       description="decompressed size of one PDF stream")
    extract_max_pages: int = Field(500, validation_alias=_env("OGI_EXTRACT_MAX_PAGES"), ge=1,
                                   description="pages of one PDF")
    extract_max_page_area_m2: float = Field(2.0, validation_alias=_env("OGI_EXTRACT_MAX_PAGE_AREA_M2"), gt=0,
                                            description="area of one PDF page (A4 is 0.0625 m², A0 1 m²)")
    extract_max_table_cells: int = Field(200_000, validation_alias=_env("OGI_EXTRACT_MAX_TABLE_CELLS"), ge=1,
                                         description="cells of one table after spans and merges are expanded")
    extract_max_tables: int = Field(2000, validation_alias=_env("OGI_EXTRACT_MAX_TABLES"), ge=1,
                                    description="tables of one document")
    extract_max_cell_chars: int = Field(100_000, validation_alias=_env("OGI_EXTRACT_MAX_CELL_CHARS"), ge=100,
                                        description="characters of one table cell")
    extract_max_text_chars: int = Field(2_000_000, validation_alias=_env("OGI_EXTRACT_MAX_TEXT_CHARS"),
                                        ge=1000, description="characters of a document's extracted text")
    extract_max_depth: int = Field(512, validation_alias=_env("OGI_EXTRACT_MAX_DEPTH"), ge=8,
                                   description="nesting depth of HTML elements")

    @property
    def respect_robots_txt(self) -> bool:
        return not self.ignore_robots

    @property
    def db_path(self) -> Path:
        return self.home / "ogi.duckdb"

    @property
    def snapshot_path(self) -> Path:
        """The read-only copy published after each successful load; every reader opens it
        (``store.db.reader_path``), so readers never hold the file the night writes."""
        return self.home / "snapshot" / "ogi.duckdb"

    @property
    def archive_dir(self) -> Path:
        """The default local archive (used when ``archive_url`` is not set)."""
        return self.home / "archive"

    @property
    def archive_location(self) -> str:
        """The archive's fsspec URL: ``archive_url``, else ``file://<home>/archive``."""
        return self.archive_url or self.archive_dir.resolve().as_uri()

    @property
    def export_dir(self) -> Path:
        return self.home / "export"

    @property
    def corrections_path(self) -> Path:
        return self.corrections_file or Path(str(DATA_DIR / "corrections.csv"))

    @classmethod
    def from_env(cls) -> Settings:
        return cls()

    @classmethod
    def from_env_with_home(cls, home: Path | str) -> Settings:
        return cls(home=Path(home))
