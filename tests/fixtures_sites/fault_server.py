"""A loopback web server for crawler tests: static fixture sites plus scripted faults.

Static files under this directory are served with a strong ETag (sha256 of the bytes) and honour
``If-None-Match`` (→ 304). ``routes`` maps a path (with its query, or without one for any query)
to a function that writes the response itself, so a test can script timeouts, 5xx runs, 429s,
resets, redirect loops, oversized bodies and listing APIs, and can change a page's content
between two crawls. Every request's path is logged in ``hits``.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITES_DIR = Path(__file__).resolve().parent


@dataclass
class FixtureServer:
    base_url: str
    root: Path
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    overrides: dict[str, bytes] = field(default_factory=dict)  # path → bytes replacing the file

    def url(self, path: str) -> str:
        return self.base_url + path

    def count(self, path: str) -> int:
        return sum(1 for h in self.hits if h == path)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
         *, content_length: bool = True) -> None:
    handler.send_response(status)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    if content_length:
        handler.send_header("Content-Length", str(len(body)))
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if body:
        with contextlib.suppress(OSError):
            handler.wfile.write(body)


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Close the socket abruptly (RST instead of FIN): the client sees a connection reset."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def _make_handler(state: FixtureServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = self.path.split("#")[0]
            state.hits.append(path)
            route = state.routes.get(path) or state.routes.get(path.split("?")[0])
            if route is not None:
                route(self)
                return
            rel = path.split("?")[0].lstrip("/")
            data = state.overrides.get("/" + rel)
            file = (state.root / rel).resolve()
            if data is None:
                if file.is_dir():
                    file = file / "index.html"
                if state.root not in file.parents or not file.is_file():
                    send(self, 404, b"not found", {"Content-Type": "text/plain"})
                    return
                data = file.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                send(self, 304, b"", {"ETag": etag})
                return
            ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if ctype == "text/html" and "/utf8/" in "/" + rel:
                ctype += "; charset=utf-8"
            send(self, 200, data, {"Content-Type": ctype, "ETag": etag})

    return Handler


@contextlib.contextmanager
def serve(root: Path = SITES_DIR, host: str = "127.0.0.1") -> Iterator[FixtureServer]:
    """Serve ``root`` on an ephemeral loopback port in a thread; always shut down afterwards."""
    server = ThreadingHTTPServer((host, 0), None)  # type: ignore[arg-type]
    state = FixtureServer(base_url=f"http://{host}:{server.server_address[1]}", root=root.resolve())
    server.RequestHandlerClass = _make_handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
