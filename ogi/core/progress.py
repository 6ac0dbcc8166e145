"""Progress bars (rich) for the long steps — crawl, extraction, export — shown only when the command
line turned them on and stdout is a terminal; everywhere else (logs, pipes, tests) a no-op."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

_enabled = False


def enable_if_terminal(stream=None) -> bool:
    """Turn progress bars on when ``stream`` (default stdout) is a terminal; return whether they are."""
    global _enabled
    stream = stream or sys.stdout
    _enabled = bool(getattr(stream, "isatty", lambda: False)())
    return _enabled


def _noop(n: int = 1) -> None:
    del n


def disable() -> None:
    global _enabled
    _enabled = False


@contextlib.contextmanager
def track(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; draws a bar while the block runs if progress is on."""
    if not _enabled:
        yield _noop
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=False) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance
