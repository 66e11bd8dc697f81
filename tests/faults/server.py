"""A misbehaving news site on loopback, for the fault suite.

`FaultSite` starts, all on 127.0.0.1 with ports picked by the kernel:

* ``main``: an HTTP server that serves one healthy feed (``/healthy/...``)
  and every bad case under ``/case/<name>/...`` (feeds, article pages,
  redirects, slow and endless bodies, bombs);
* ``aux``: a second HTTP server (another host:port) whose robots.txt
  answers 503;
* ``tls``: an HTTPS server whose certificate comes from a throwaway trustme
  CA that the client does not trust;
* ``internal``: a bare TCP listener playing an internal service; it only
  counts connections and bytes, which must stay 0 in every SSRF case.

Every request the HTTP servers parse is logged (path, Host header, time),
and the slow handlers record after how many seconds the client hung up.
The cases live in `faults.cases`, the pages and feeds in `faults.pages`;
all texts were written for these tests.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional

from faults.cases import CaseRoutes
from faults.pages import ROBOTS_TXT, gzip_bomb, rfc822, rss, story_html

SLOW_HANDLER_LIMIT_S = 40.0  # a slow handler gives up after this even if nobody hangs up

# ------------------------------------------------------------------ HTTP plumbing


class Logged(NamedTuple):
    """One request as a fault server parsed it."""

    server: str  # main | aux | tls
    path: str
    host: str
    at: float


Route = Callable[["FaultHandler"], None]


class FaultHandler(BaseHTTPRequestHandler):
    """Looks the path up in the site's routes; the client hanging up is expected."""

    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        site = self.server.site
        site.log.append(Logged(self.server.role, self.path, self.headers.get("Host", ""), time.time()))
        try:
            site.route(self.server.role, self.path)(self)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True  # cut off by the client's cap or deadline, as intended

    def send(self, status: int, body: bytes = b"", content_type: Optional[str] = None,
             headers: Optional[Dict[str, str]] = None) -> None:
        """A whole response with Content-Length."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def stream(self, status: int, chunks: Iterable[bytes], content_type: str,
               headers: Optional[Dict[str, str]] = None, chunked: bool = False) -> None:
        """A body produced lazily: chunked, or ended by closing the connection."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def wait_for_hangup(self, step_s: float = 1.0, drip: bool = False) -> float:
        """Send nothing (or one byte per step) until the client closes; return seconds waited."""
        started = time.monotonic()
        sock = self.connection
        while time.monotonic() - started < SLOW_HANDLER_LIMIT_S:
            if drip:
                self.wfile.write(b"<")
                self.wfile.flush()
            readable, _, _ = select.select([sock], [], [], step_s)
            if readable:
                try:
                    data = sock.recv(1024)
                except OSError:
                    break
                if not data:
                    break
        self.close_connection = True
        return time.monotonic() - started


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: "FaultSite", role: str, tls: Optional[ssl.SSLContext] = None):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.site = site
        self.role = role
        self.tls = tls

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls is not None:
            # The handshake happens in the handler thread, where a failure is quiet.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address) -> None:
        pass  # failed TLS handshakes and hang-ups are what this server is for


class CountingListener:
    """A TCP listener that accepts, reads and counts; it never answers."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self.bytes_received = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        conn.settimeout(5.0)
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self.bytes_received += len(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


# ------------------------------------------------------------------ the site


class FaultSite(CaseRoutes):
    """All fault servers and the routes they serve; use as a context manager."""

    def __init__(self, secret_file: Optional[str] = None) -> None:
        import trustme

        self.secret_file = secret_file
        self.log: List[Logged] = []
        self.cutoffs: Dict[str, float] = {}  # path -> seconds until the client hung up
        self._hits: Dict[str, int] = {}
        self._lock = threading.Lock()
        self._bomb: Optional[bytes] = None
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.internal = CountingListener()
        self._servers = {
            "main": _Server(self, "main"),
            "aux": _Server(self, "aux"),
            "tls": _Server(self, "tls", tls=context),
        }
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self._servers.values()]

    def __enter__(self) -> "FaultSite":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self.internal.close()

    # addresses

    def port(self, role: str) -> int:
        return self._servers[role].server_address[1]

    def host_port(self, role: str = "main") -> str:
        return f"127.0.0.1:{self.port(role)}"

    @property
    def base(self) -> str:
        return f"http://{self.host_port('main')}"

    @property
    def allow_hosts(self) -> List[str]:
        """What `--allow-host` must list: the three HTTP(S) servers, never `internal`."""
        return [self.host_port(role) for role in ("main", "aux", "tls")]

    def feed_url(self, case: str) -> str:
        """The feed URL of a case (some cases live elsewhere than on `main`)."""
        if case == "tls_self_signed":
            return f"https://{self.host_port('tls')}/case/tls_self_signed/feed.xml"
        if case == "dns_loopback":
            return f"http://localhost:{self.port('main')}/case/dns_loopback/feed.xml"
        return f"{self.base}/case/{case}/feed.xml"

    def article_url(self, case: str, name: str = "article.html") -> str:
        return f"{self.base}/case/{case}/{name}"

    @property
    def healthy_feed(self) -> str:
        return f"{self.base}/healthy/feed.xml"

    def _hit(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    def bomb(self) -> bytes:
        with self._lock:
            if self._bomb is None:
                self._bomb = gzip_bomb()
            return self._bomb

    # routing

    def route(self, role: str, path: str) -> Route:
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            if role == "aux":
                return lambda h: h.send(503, b"try later", "text/plain")
            return lambda h: h.send(200, ROBOTS_TXT, "text/plain")
        if path.startswith("/healthy/"):
            return self._healthy(path)
        if path.startswith("/case/"):
            case, _, rest = path[len("/case/"):].partition("/")
            handler = getattr(self, f"case_{case}", None)
            if handler is not None:
                return lambda h: handler(h, rest)
        return lambda h: h.send(404, b"not here", "text/plain")

    def _healthy(self, path: str) -> Route:
        if path == "/healthy/feed.xml":
            items = [{"title": f"Healthy {n}", "link": f"{self.base}/healthy/a{n}.html",
                      "guid": f"healthy-{n}", "pubDate": rfc822(-1)} for n in (1, 2)]
            body = rss("Healthy Gazette", items)
            return lambda h: h.send(200, body, "application/rss+xml; charset=utf-8")
        if path in ("/healthy/a1.html", "/healthy/a2.html"):
            page = story_html(f"healthy_{path[-6]}", published="2024-05-06").encode()
            return lambda h: h.send(200, page, "text/html; charset=utf-8")
        return lambda h: h.send(404, b"not here", "text/plain")
