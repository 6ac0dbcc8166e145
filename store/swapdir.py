"""Replace a directory of files as one unit: a reader (or a kill -9 half-way) sees the previous
complete set or the new one, never new files beside old ones.

The new set is built in a staging directory beside the destination (same file system), every file
flushed to disk, then the two directories are exchanged in one ``renameat2(RENAME_EXCHANGE)`` and
the previous set, now under the staging name, deleted. Python has no ``renameat2`` (hence ctypes);
where the kernel or file system lacks it the swap is two renames (old set aside, new set in), and
the one moment between them — no destination, two complete sets beside it — is what
``recover_directory`` repairs on the next run. A staging directory is ``flock``-ed while its writer
lives, so recovery never removes one that is still being written.

A destination that also holds files not in the set (``--out`` naming a folder the user keeps other
things in) is not swapped away: the set's files are moved in one by one, the marker file (the
manifest) removed first and written last, so a kill half-way leaves a set without its manifest.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ogi.core.atomic import fsync_dir, fsync_file

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_STAGE, _OLD = ".stage-", ".old-"


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux ``renameat2``); OSError(ENOSYS) where unavailable."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        raise OSError(errno.ENOSYS, "renameat2 unavailable") from None
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a), None, str(b))


def _leftovers(dest: Path) -> list[Path]:
    if not dest.parent.is_dir():
        return []
    return [p for p in dest.parent.iterdir()
            if p.name.startswith(f".{dest.name}{_STAGE}") or p.name.startswith(f".{dest.name}{_OLD}")]


@contextlib.contextmanager
def staging_directory(dest: Path) -> Iterator[Path]:
    """An empty directory beside ``dest``, locked while the block runs, removed afterwards (after
    ``publish_directory`` it holds the previous set)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}{_STAGE}", dir=dest.parent))
    fd = os.open(stage, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield stage
    finally:
        os.close(fd)
        shutil.rmtree(stage, ignore_errors=True)


def publish_directory(stage: Path, dest: Path, owned: tuple[str, ...], marker: str) -> None:
    """Make ``stage``'s files the content of ``dest`` in one step.

    ``owned``: the names a set consists of (``marker`` among them, the file whose presence says the
    set is complete). ``dest`` holding anything else is updated file by file instead (module doc).
    """
    for f in stage.rglob("*"):
        if f.is_file():
            fsync_file(f)
    fsync_dir(stage)
    os.chmod(stage, 0o755)
    if not dest.exists():
        os.rename(stage, dest)
        fsync_dir(dest.parent)
        return
    if not dest.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(dest))
    ours = set(owned)
    foreign = [p.name for p in dest.iterdir()
               if p.name not in ours and not any(p.name.startswith(f".{n}.") for n in ours)]
    if not foreign:
        try:
            _exchange(stage, dest)
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
                raise
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}{_OLD}", dir=dest.parent))
            os.replace(dest, old)  # dest gone for a moment: recover_directory's case
            os.rename(stage, dest)
        fsync_dir(dest.parent)
        return  # the previous set now lies at ``stage`` (or ``old``), removed as a leftover
    (dest / marker).unlink(missing_ok=True)
    fsync_dir(dest)
    for name in owned:
        if name != marker and (stage / name).exists():
            os.replace(stage / name, dest / name)
    fsync_dir(dest)
    os.replace(stage / marker, dest / marker)
    fsync_dir(dest)


def recover_directory(dest: Path, complete: Callable[[Path], str | None]) -> None:
    """Clear the staging and set-aside directories killed runs left beside ``dest``.

    ``complete(dir)`` says whether a leftover holds a whole set (returning a sortable age, e.g. its
    creation time, else None); if ``dest`` is missing, the newest complete leftover becomes ``dest``.
    A staging directory still locked by a living writer is left alone.
    """
    dest = Path(dest)
    held: dict[Path, int] = {}  # leftovers locked by us until removed, so no writer takes them meanwhile
    try:
        for p in _leftovers(dest):
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # being written right now
                continue
            held[p] = fd
        if not dest.exists():
            ranked = sorted(((age, str(p)) for p in held if (age := complete(p)) is not None), reverse=True)
            if ranked:
                chosen = Path(ranked[0][1])
                os.rename(chosen, dest)
                fsync_dir(dest.parent)
                os.close(held.pop(chosen))
        for p in held:
            shutil.rmtree(p, ignore_errors=True)
    finally:
        for fd in held.values():
            os.close(fd)
