"""Local test servers for the HTTP client and throttle tests (127.0.0.1 only)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional

from newswatch.http.politeness import HostThrottle

Route = Callable[["Handler"], None]


class Seen(NamedTuple):
    """One request as the test server received it."""

    method: str
    path: str
    headers: Dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.time() when the request line was parsed
    client_port: int


class Handler(BaseHTTPRequestHandler):
    """Dispatches each request to the route registered for its path."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: "RouteServer"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep pytest output clean

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append(
            Seen(self.command, self.path, headers, body, time.time(), self.client_address[1])
        )
        route = self.server.routes.get(path)
        try:
            if route is None:
                reply(self, 404, b"no route")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client hung up, as several tests intend

    do_GET = _dispatch
    do_POST = _dispatch


def reply(
    h: Handler,
    status: int,
    body: bytes = b"",
    headers: Optional[Dict[str, str]] = None,
    content_length: bool = True,
) -> None:
    """Send a whole response; without content_length the body ends at connection close."""
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if content_length:
        h.send_header("Content-Length", str(len(body)))
    else:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    if body and h.command != "HEAD":
        h.wfile.write(body)
    h.wfile.flush()


def stream(h: Handler, status: int, chunks: Iterator[bytes], headers: Optional[Dict[str, str]] = None,
           chunked: bool = False) -> None:
    """Send a body produced lazily, close-delimited or with chunked transfer coding."""
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    for chunk in chunks:
        if not chunk:
            continue
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
    if chunked:
        h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def gzip_zeros(total: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """Gzip stream of ``total`` zero bytes, compressed piece by piece (never held whole)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(piece)
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield compressor.compress(zeros if n == piece else zeros[:n])
        sent += n
    yield compressor.flush()


class RouteServer(ThreadingHTTPServer):
    """A threaded HTTP(S) server on 127.0.0.1 with per-path routes and a request log."""

    daemon_threads = True

    def __init__(self, routes: Dict[str, Route], tls: Optional[ssl.SSLContext] = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes
        self.seen: List[Seen] = []
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-request is what many of these tests provoke

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class RawServer:
    """A bare TCP listener on 127.0.0.1 that runs ``on_conn(sock)`` per connection and counts traffic."""

    def __init__(self, on_conn: Callable[[socket.socket, "RawServer"], None]) -> None:
        self.on_conn = on_conn
        self.accepted = 0
        self.bytes_received = 0
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._conns: List[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.on_conn(conn, self)
        except OSError:
            pass  # the client went away: expected in these tests

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass
        self._thread.join(2)


def count_bytes(conn: socket.socket, server: RawServer) -> None:
    """Read and count whatever a client sends, never answering."""
    conn.settimeout(0.1)
    while not server.stopping.is_set():
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return
        server.bytes_received += len(data)


def throttle_worker(state_dir: str, host_port: str, count: int, hold_s: float,
                    start_at: float, out: "object") -> None:
    """Take ``count`` throttle slots in a child process and report (enter, leave) times."""
    throttle = HostThrottle(concurrency=1, min_delay_s=0.2, state_dir=state_dir, max_wait_s=10)
    while time.time() < start_at:
        time.sleep(0.005)
    spans = []
    for _ in range(count):
        with throttle.slot(host_port):
            entered = time.time()
            time.sleep(hold_s)
            spans.append((entered, time.time()))
    out.put(spans)  # type: ignore[attr-defined]


def start_logged(cmd: List[str], **kwargs) -> subprocess.Popen:
    """Start a long-running job with its output going to a temporary file, not a pipe.

    Nobody reads a pipe while the job runs: once its logging fills the pipe's buffer (64 KiB) the job blocks
    in a write, and then neither finishes its work nor answers SIGTERM. Read the output with :func:`job_output`.
    """
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, **kwargs)
    proc.log_file = log  # type: ignore[attr-defined]
    return proc


def job_output(proc: subprocess.Popen) -> str:
    """Everything a job started by :func:`start_logged` has written so far."""
    log = proc.log_file  # type: ignore[attr-defined]
    log.flush()
    log.seek(0)
    return log.read()

