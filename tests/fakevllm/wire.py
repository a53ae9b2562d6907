"""HTTP/1.1 plumbing: a threaded server with keep-alive, chunked streams, and abrupt closes."""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class App(Protocol):
    def handle(self, ex: Exchange) -> None: ...


class Exchange(Protocol):
    """One request and the means to answer it."""

    method: str
    path: str
    body: bytes
    peer: str  # "host:port" of the client's end of the connection

    def header(self, name: str) -> str | None: ...
    def gone(self) -> bool: ...
    def send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> bool: ...
    def send_partial(self, status: int, body: bytes, total: int, content_type: str) -> None: ...
    def start_stream(self) -> bool: ...
    def stream(self, data: bytes) -> bool: ...
    def end_stream(self) -> bool: ...
    def drop(self) -> None: ...


class Server(ThreadingHTTPServer):
    """Serves ``app`` on a thread per connection; :meth:`close_connections` ends them all."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that reset its connection is no error of the server (uvicorn is quiet too)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: Server

    # -- plumbing ------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        self.path, _, _query = self.path.partition("?")
        self.method = self.command
        self.peer = f"{self.client_address[0]}:{self.client_address[1]}"
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            self.body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length > 0 else b""
        self.server.app.handle(self)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    # -- Exchange ------------------------------------------------------------------------------

    method: str
    body: bytes
    peer: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def gone(self) -> bool:
        """Whether the client has closed its end (checked without blocking)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peeked == b""
        except (OSError, ValueError):
            return True

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> bool:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
        except OSError:
            self.close_connection = True
            return False
        return self._write(body)

    def send_partial(self, status: int, body: bytes, total: int, content_type: str) -> None:
        """Announce ``total`` bytes, send ``body`` (fewer), then close the connection."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(total))
            self.end_headers()
        except OSError:
            pass
        self._write(body)
        self.drop()

    def start_stream(self) -> bool:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            return True
        except OSError:
            self.close_connection = True
            return False

    def stream(self, data: bytes) -> bool:
        return self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end_stream(self) -> bool:
        return self._write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Close the connection at once, whatever was (not) sent."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
