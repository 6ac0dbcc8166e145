"""A loopback web server for the bundled demo "agency websites" under data/demo/.

It plays the part of the portals so the demo and the tests exercise real HTTP without leaving the
machine. SimpleHTTPRequestHandler answers conditional requests (If-Modified-Since → 304), which
is what makes a second nightly run cheap.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file
from pathlib import Path

from ogi.core.config import DATA_DIR

DEMO_DIR = DATA_DIR / "demo"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def serve_directory(root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``root`` (default: the bundled demo sites) on loopback in a background thread; yields
    the base URL (no trailing slash)."""
    with contextlib.ExitStack() as stack:
        if root is None:
            root = stack.enter_context(as_file(DEMO_DIR))
        yield from _serve(Path(root), host, port)


def _serve(root: Path, host: str, port: int) -> Iterator[str]:
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: demo directory not found")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="ogi-demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
