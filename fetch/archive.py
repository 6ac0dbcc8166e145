"""The raw archive: every fetched document's bytes, stored once under their sha256.

Content addressing makes re-fetches free (same bytes → same file) and revisions explicit (new
bytes → new file beside the old one). Files are written to a temporary name and renamed into
place, and an existing file is never overwritten or deleted, so a failed or partial re-fetch can
never damage what was archived before.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA = re.compile(r"[0-9a-f]{64}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    """Files at ``root/ab/cd/<sha256>`` (two fan-out levels keep directories small)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not _SHA.fullmatch(sha or ""):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha[2:4] / sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not already there); return its sha256."""
        sha = sha256_of(data)
        dest = self.path(sha)
        if dest.is_file():
            return sha
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if dest.is_file():  # another worker stored the same bytes meanwhile
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)  # atomic; content is identical if it raced
            os.chmod(dest, 0o444)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha

    def get(self, sha: str) -> bytes:
        """The stored bytes; raises FileNotFoundError naming the path when absent or corrupt."""
        p = self.path(sha)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: document {sha} not in the archive")
        data = p.read_bytes()
        if sha256_of(data) != sha:
            raise FileNotFoundError(f"{p}: archived file does not match its sha256 (corrupt)")
        return data
