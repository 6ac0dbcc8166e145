"""The raw archive: every fetched document's bytes, stored once under their sha256, behind an
fsspec URL so every worker of a run reaches the same archive.

``file:///…`` (default ``file://<home>/archive``) or ``s3://bucket/prefix`` (endpoint and
credentials from the settings, else the usual AWS_* variables); any other fsspec protocol works
the same way. Content addressing makes re-fetches free (same bytes → same object) and revisions
explicit (new bytes → new object beside the old one). Objects are write-once: on a local disk they
are written to a temporary name, fsynced and renamed into place; on object storage they are one
PUT that only creates (``If-None-Match: *``), so a partial upload is never visible and an existing
object is never replaced. Nothing is ever overwritten or deleted, so a failed or partial re-fetch
can never damage what was archived before.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ogi.core.config import Settings

_SHA = re.compile(r"[0-9a-f]{64}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArchiveError(OSError):
    """The archive cannot be reached or written; the message names the archive URL."""


def storage_options(settings: Settings, url: str) -> dict[str, Any]:
    """fsspec options for ``url`` from the settings (S3 endpoint and keys; fresh listings)."""
    if not url.startswith(("s3://", "s3a://")):
        return {}
    opts: dict[str, Any] = {"use_listings_cache": False}
    if settings.s3_endpoint_url:
        opts["endpoint_url"] = settings.s3_endpoint_url
    if settings.s3_access_key_id:
        opts["key"] = settings.s3_access_key_id
    if settings.s3_secret_access_key:
        opts["secret"] = settings.s3_secret_access_key.get_secret_value()
    t = settings.http_timeout_s
    opts["config_kwargs"] = {"connect_timeout": t, "read_timeout": t,
                             "retries": {"max_attempts": 1 + settings.http_retries, "mode": "standard"}}
    return opts


class Archive:
    """Objects at ``<url>/ab/cd/<sha256>`` (two fan-out levels keep directories small)."""

    def __init__(self, url: str | Path, **options: Any) -> None:
        text = str(url)
        if "://" not in text:  # a plain path
            text = Path(text).resolve().as_uri()
        self.url = text.rstrip("/")
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url, **options)
        except ImportError as e:  # e.g. s3:// without s3fs
            raise ArchiveError(f"{self.url}: archive protocol not available: {e}") from e
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)

    @classmethod
    def from_settings(cls, settings: Settings) -> Archive:
        url = settings.archive_location
        return cls(url, **storage_options(settings, url))

    def path(self, sha: str) -> str:
        """Where the object of ``sha`` lives (a local path or a ``bucket/key``)."""
        if not _SHA.fullmatch(sha or ""):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return f"{self.root}/{sha[:2]}/{sha[2:4]}/{sha}"

    def _where(self, sha: str) -> str:
        return self.path(sha) if self.local else f"{self.url}/{sha[:2]}/{sha[2:4]}/{sha}"

    def has(self, sha: str) -> bool:
        try:  # info(), not isfile(): isfile() answers False when the store cannot be reached
            return self.fs.info(self.path(sha)).get("type") == "file"
        except FileNotFoundError:
            return False
        except Exception as e:  # botocore's connection errors are not OSErrors
            raise ArchiveError(f"{self._where(sha)}: archive not reachable: {e}") from e

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not already there); return its sha256."""
        sha = sha256_of(data)
        if self.has(sha):
            return sha
        if self.local:
            self._put_local(self.path(sha), data)
        else:
            self._put_remote(sha, data)
        return sha

    @staticmethod
    def _put_local(dest: str, data: bytes) -> None:
        parent = os.path.dirname(dest)
        os.makedirs(parent, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if os.path.isfile(dest):  # another worker stored the same bytes meanwhile
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)  # atomic; content is identical if it raced
            os.chmod(dest, 0o444)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _put_remote(self, sha: str, data: bytes) -> None:
        where = self.path(sha)
        try:
            # One PUT that only creates: visible whole or not at all, and never replacing anything.
            self.fs.pipe_file(where, data, mode="create")
        except FileExistsError:
            return  # another worker stored the same bytes meanwhile
        except Exception as e:
            if "PreconditionFailed" in str(e) or "412" in str(e):
                return
            raise ArchiveError(f"{self._where(sha)}: archive write failed: {e}") from e

    def get(self, sha: str) -> bytes:
        """The stored bytes; raises FileNotFoundError naming the object when absent or corrupt."""
        where = self._where(sha)
        try:
            data = self.fs.cat_file(self.path(sha))
        except FileNotFoundError:
            raise FileNotFoundError(f"{where}: document {sha} not in the archive") from None
        except Exception as e:
            raise ArchiveError(f"{where}: archive not reachable: {e}") from e
        if sha256_of(data) != sha:
            raise FileNotFoundError(f"{where}: archived object does not match its sha256 (corrupt)")
        return data
