"""One nightly run per home: an exclusive ``flock`` on ``<home>/ogi.lock``.

The lock file names its holder (pid, host, start time) so a refused second run can say who holds
it. The kernel releases a ``flock`` when its process dies, so a killed run never leaves the home
locked; the file's stale text is simply overwritten by the next holder.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class RunLocked(RuntimeError):
    """Another run holds the home's lock (the message names it)."""


@contextmanager
def run_lock(home: Path) -> Iterator[Path]:
    """Hold ``<home>/ogi.lock`` for the block, or raise RunLocked at once naming the holder."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "ogi.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown holder"
            raise RunLocked(f"{path}: another run is using this home ({holder}); "
                            "wait for it to finish or stop it") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (f"pid {os.getpid()} on {socket.gethostname()} since "
                       f"{datetime.now(UTC).isoformat(timespec='seconds')}\n").encode(), 0)
        os.fsync(fd)
        yield path
    finally:
        os.close(fd)  # releases the lock
