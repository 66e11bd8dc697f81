"""A static file server on loopback for the bundled demo corpus and tests.

Files are served as `python -m http.server` would; with `base_placeholder`
set, that text in .html/.xml files is replaced by the server's own base URL
so the bundled feeds link to whatever port the server got.
"""

from __future__ import annotations

import functools
import io
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional


class _Handler(SimpleHTTPRequestHandler):
    base_placeholder: Optional[str] = None
    base_url: str = ""

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if self.base_placeholder is None or path.suffix not in (".html", ".xml") or not path.is_file():
            return super().send_head()
        body = path.read_bytes().replace(self.base_placeholder.encode(), self.base_url.encode())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class StaticServer:
    """Serve `directory` on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, directory: str | Path, port: int = 0, base_placeholder: Optional[str] = None):
        handler = type("Handler", (_Handler,), {"base_placeholder": base_placeholder})
        self._httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(handler, directory=str(directory))
        )
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.host_port = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host_port}"
        handler.base_url = self.base_url
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "StaticServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
