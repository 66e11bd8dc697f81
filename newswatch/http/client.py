"""newswatch's safe HTTP client for feeds, article pages, robots.txt and webhooks.

``SafeHttpClient.get(url) -> Response`` (and ``post`` for webhooks) wraps
urllib3 with the protections a crawler fed by untrusted URLs needs: one wall
clock deadline for the whole request (redirects, retries and body included),
a byte cap counted after gzip/deflate decoding, manually followed and checked
redirects, and refusal of private, loopback, link-local and other non-public
addresses. Names are resolved by the client, every resolved address is
checked, and the socket is connected to the checked IP while the Host header,
SNI and certificate check keep the original name, so DNS rebinding cannot
slip between check and connect (``newswatch.http.guard`` holds that address
policy and the guarded connections). The client pickles without its
connection pool, which is rebuilt lazily, so Beam DoFns can hold it as
configuration. One call travels through its hops as a ``Request``
(``newswatch.http.request``).

Failures raise ``FetchError`` whose ``code`` is one of: ``http_404``,
``http_410``, ``http_429``, ``http_4xx``, ``http_5xx``, ``timeout``,
``too_large``, ``too_many_redirects``, ``blocked_address``, ``bad_scheme``,
``bad_url``, ``tls_error``, ``dns_error``, ``connection_error`` (also used for
a corrupt gzip/deflate body).

The deadline clock starts when the first hop may go: with a ``HostThrottle``,
the wait for the first slot is bounded by the throttle's own ``max_wait_s``
instead, so a busy host queues requests rather than failing them; waits for
later hops count against the deadline. Name resolution uses the system
resolver and cannot be interrupted, so a slow resolver can overrun it.

Example::

    client = SafeHttpClient(FetchLimits(total_deadline_s=20))
    page = client.get("https://example.org/news/1", headers={"If-None-Match": etag})
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
import threading
import time
from http.client import HTTPException
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError

from newswatch.http.deadline import Deadline, HopWatch, Watchdog
from newswatch.http.decode import (
    READ_CHUNK,
    BodyDecoder,
    CorruptBody,
    content_coding,
    parse_content_type,
    parse_retry_after,
)
from newswatch.http.errors import FetchError
from newswatch.http.guard import Guard, GuardedPoolManager, check_url, normalize_allow_entry, refuse_blocked_literal
from newswatch.http.politeness import HostThrottle, ThrottleTimeout
from newswatch.http.request import FetchLimits, Hop, Request, Response

_log = logging.getLogger(__name__)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_RETRYABLE_CODES = frozenset({"http_5xx", "timeout", "connection_error"})


def _status_error(status: int, url: str, retry_after: Optional[float]) -> Optional[FetchError]:
    """The FetchError for an HTTP error status, or None for a usable one."""
    if status < 400:
        return None
    if status in (404, 410, 429):
        code = f"http_{status}"
    else:
        code = "http_4xx" if status < 500 else "http_5xx"
    if status not in _RETRY_AFTER_STATUSES:
        retry_after = None
    return FetchError(code, f"HTTP {status}", url, status, retry_after)


def _classify(exc: BaseException) -> str:
    """Stable error code for a transport exception from urllib3 or the socket layer."""
    if isinstance(exc, ProtocolError) and len(exc.args) > 1 and isinstance(exc.args[1], BaseException):
        return _classify(exc.args[1])  # urllib3 wraps the socket-level cause
    if isinstance(exc, (urllib3.exceptions.SSLError, ssl.SSLError, ssl.CertificateError)):
        return "tls_error"
    if isinstance(exc, NewConnectionError):  # subclasses ConnectTimeoutError in urllib3 2
        return "connection_error"
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return "timeout"
    return "connection_error"


def _describe(exc: BaseException) -> str:
    """A short message for a transport exception, without urllib3's object reprs."""
    detail = exc.args[-1] if len(exc.args) > 1 and isinstance(exc.args[-1], str) else str(exc)
    return f"{type(exc).__name__}: {detail}"


class SafeHttpClient:
    """HTTP GET/POST with deadline, byte cap, checked redirects and private-address refusal."""

    def __init__(
        self,
        limits: FetchLimits = FetchLimits(),
        allow_hosts: Iterable[str] = (),
        ca_certs: Optional[str] = None,
        throttle: Optional[HostThrottle] = None,
    ) -> None:
        """Store configuration; the connection pool is built on first use.

        Args:
            limits: deadline, byte cap, redirect and retry limits, identity headers.
            allow_hosts: exact ``host:port`` strings (as written in URLs, e.g.
                ``"127.0.0.1:8765"`` or ``"localhost:8765"``) exempt from the
                private-address refusal.
            ca_certs: CA bundle to trust instead of certifi's (meant for tests).
            throttle: per-host politeness applied around every request hop.
        """
        self.limits = limits
        self.allow_hosts = frozenset(normalize_allow_entry(h) for h in allow_hosts)
        self.ca_certs = ca_certs
        self.throttle = throttle
        self._lock = threading.Lock()
        self._manager: Optional[GuardedPoolManager] = None
        self._guard: Optional[Guard] = None
        self._watchdog = Watchdog()

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        for live in ("_lock", "_manager", "_guard", "_watchdog"):
            state.pop(live)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._manager = None
        self._guard = None
        self._watchdog = Watchdog()

    def close(self) -> None:
        """Close pooled connections; the client stays usable and reconnects lazily."""
        with self._lock:
            manager, self._manager, self._guard = self._manager, None, None
        if manager is not None:
            manager.clear()

    def get(
        self,
        url: str,
        *,
        headers: Optional[Mapping[str, str]] = None,
        max_bytes: Optional[int] = None,
    ) -> Response:
        """Fetch a URL, following redirects and retrying transient failures.

        Args:
            url: an http or https URL.
            headers: extra request headers (e.g. If-None-Match); they override
                User-Agent and Accept but not Host or Accept-Encoding.
            max_bytes: byte cap for this call instead of ``limits.max_bytes``.

        Returns:
            The final Response; 304 Not Modified is returned, not raised.

        Raises:
            FetchError: with one of the documented codes.
        """
        return self._send(self._request("GET", url, None, headers, max_bytes), self.limits.retries)

    def post(
        self,
        url: str,
        body: bytes,
        headers: Optional[Mapping[str, str]] = None,
        *,
        max_bytes: Optional[int] = None,
    ) -> Response:
        """Send one POST (no retries, no redirects followed: a 3xx comes back as a Response).

        Raises:
            FetchError: with one of the documented codes.
        """
        return self._send(self._request("POST", url, bytes(body), headers, max_bytes), 0)

    def _request(
        self,
        method: str,
        url: str,
        body: Optional[bytes],
        headers: Optional[Mapping[str, str]],
        max_bytes: Optional[int],
    ) -> Request:
        """The Request for one call, its URL checked and its deadline not yet started."""
        return Request(
            method=method,
            target=check_url(url),
            headers=self._request_headers(headers),
            body=body,
            max_bytes=self.limits.max_bytes if max_bytes is None else max_bytes,
            deadline=Deadline(self.limits.total_deadline_s),
            follow_redirects=method == "GET",
        )

    def _send(self, request: Request, retries: int) -> Response:
        """Exchange the request, retrying transient failures within its deadline."""
        attempt = 0
        while True:
            tried_at = time.monotonic()
            try:
                return self._exchange(request)
            except FetchError as err:
                took = time.monotonic() - tried_at
                delay = self._retry_delay(err, attempt, retries, request.deadline, took)
                if delay is None:
                    raise
                _log.debug(
                    "%s %s: %s; retry %d in %.2fs", request.method, request.url, err.code, attempt + 1, delay
                )
                attempt += 1
                time.sleep(delay)

    def _retry_delay(
        self, err: FetchError, attempt: int, retries: int, deadline: Deadline, took: float
    ) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up.

        The wait and another attempt as long as the last one (``took``) must fit in what is left of the deadline:
        an attempt started just before it would end after it."""
        if attempt >= retries or not deadline.started:
            return None
        remaining = deadline.remaining() - took
        if err.retry_after is not None:
            return err.retry_after if err.retry_after < remaining else None
        if err.code not in _RETRYABLE_CODES:
            return None
        delay = self.limits.backoff_s * (2**attempt) * random.uniform(0.5, 1.0)
        return delay if delay < remaining else None

    def _request_headers(self, extra: Optional[Mapping[str, str]]) -> Dict[str, str]:
        """Identity headers, overlaid with the caller's, then the ones we own."""
        merged = urllib3.HTTPHeaderDict({"User-Agent": self.limits.user_agent, "Accept": self.limits.accept})
        for name, value in (extra or {}).items():
            merged[name] = value
        for owned in ("Host", "Accept-Encoding"):
            merged.discard(owned)
        merged["Accept-Encoding"] = "gzip, deflate"
        return dict(merged.items())

    def _exchange(self, request: Request) -> Response:
        """One attempt: every hop of the redirect chain."""
        for _ in range(self.limits.max_redirects + 1):
            hop = self._hop(request)
            location = hop.headers.get("location")
            if request.follow_redirects and hop.status in _REDIRECT_STATUSES and location:
                request = request.redirected_to(check_url(urljoin(request.url, location.strip())))
                continue
            retry_after = parse_retry_after(hop.headers.get("retry-after"))
            error = _status_error(hop.status, request.url, retry_after)
            if error is not None:
                raise error
            mime, charset = parse_content_type(hop.headers.get("content-type"))
            return Response(
                request.url, hop.status, hop.headers, hop.body or b"", mime, charset, request.deadline.elapsed()
            )
        raise FetchError(
            "too_many_redirects", f"more than {self.limits.max_redirects} redirects", request.url
        )

    def _hop(self, request: Request) -> Hop:
        """One HTTP exchange, after waiting for the host's politeness slot."""
        target, deadline = request.target, request.deadline
        if target.host_port not in self.allow_hosts:
            refuse_blocked_literal(target)
        manager, guard = self._pool()
        try:
            # The first wait for a throttle slot is outside the deadline, so a
            # busy host queues requests instead of failing them.
            slot = (
                self.throttle.slot(target.host_port, deadline.remaining() if deadline.started else None)
                if self.throttle is not None
                else contextlib.nullcontext()
            )
            with slot:
                deadline.start()
                return self._transfer(manager, guard, request)
        except ThrottleTimeout as exc:
            raise FetchError("timeout", str(exc), target.url) from None

    def _transfer(self, manager: GuardedPoolManager, guard: Guard, request: Request) -> Hop:
        """Send the request on a guarded connection and read what is needed of the answer."""
        method, url, deadline = request.method, request.url, request.deadline
        remaining = deadline.remaining()
        if remaining <= 0:
            raise FetchError("timeout", "deadline passed", url)
        watch = HopWatch(deadline, self._watchdog)
        guard.local.watch = watch
        resp = None
        try:
            resp = manager.urlopen(
                method,
                url,
                body=request.body,
                headers=dict(request.headers),
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(
                    connect=min(self.limits.connect_timeout_s, remaining), read=remaining
                ),
            )
            resp_headers = {name.lower(): resp.headers[name] for name in resp.headers.keys()}
            status = resp.status
            skip_body = status >= 400 or (
                request.follow_redirects and status in _REDIRECT_STATUSES and "location" in resp_headers
            )
            data = None if skip_body else self._read_body(resp, resp_headers, request)
            _log.debug(
                "%s %s -> %d (%s bytes, %.2fs)",
                method, url, status, "-" if data is None else len(data), deadline.elapsed(),
            )
            return Hop(status, resp_headers, data)
        except FetchError as err:
            if err.url is None:
                err.url = url  # raised at connect time, where only host:port is known
            _log.debug("%s %s failed: %s", method, url, err)
            raise
        except (HTTPError, HTTPException, OSError, CorruptBody) as exc:
            if isinstance(exc, CorruptBody):
                code = "connection_error"
            elif watch.fired or deadline.remaining() <= 0:
                code = "timeout"
            else:
                code = _classify(exc)
            _log.debug("%s %s failed: %s (%r)", method, url, code, exc)
            message = _describe(exc)
            if code == "timeout" and watch.fired:
                # The watch cut the socket, so the exception reads like a hang-up.
                message = f"total deadline of {self.limits.total_deadline_s:g} s passed ({message})"
            raise FetchError(code, message, url) from None
        finally:
            watch.stop()
            guard.local.watch = None
            if resp is not None:
                if not resp.isclosed():
                    resp.close()  # unread or cut-off body: the connection cannot be reused
                resp.release_conn()

    def _read_body(self, resp: urllib3.BaseHTTPResponse, headers: Mapping[str, str], request: Request) -> bytes:
        """Stream the body, decoding as it comes, within the cap and the deadline."""
        cap, deadline, url = request.max_bytes, request.deadline, request.url
        coding = content_coding(headers)
        length = headers.get("content-length", "").strip()
        if coding == "identity" and length.isdigit() and int(length) > cap:
            raise FetchError("too_large", f"Content-Length {length} exceeds {cap} bytes", url)
        decoder = BodyDecoder(coding)
        body = bytearray()
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise FetchError("timeout", "deadline passed while reading the body", url)
            conn = getattr(resp, "connection", None)
            if conn is not None and conn.sock is not None:
                conn.sock.settimeout(remaining)
            raw = resp.read1(READ_CHUNK, decode_content=False)
            if not raw:
                break
            for piece in decoder.feed(raw):
                if len(body) + len(piece) > cap:
                    raise FetchError("too_large", f"body exceeds {cap} bytes", url)
                body += piece
        return bytes(body)

    def _pool(self) -> Tuple[GuardedPoolManager, Guard]:
        """The lazily built pool manager and its guard."""
        with self._lock:
            if self._manager is None or self._guard is None:
                self._guard = Guard(self.allow_hosts)
                self._manager = GuardedPoolManager(
                    self._guard,
                    num_pools=32,
                    maxsize=16,
                    cert_reqs="CERT_REQUIRED",
                    ca_certs=self.ca_certs or _default_ca_bundle(),
                    retries=False,
                )
            return self._manager, self._guard


def _default_ca_bundle() -> Optional[str]:
    """certifi's bundle when installed, else None (urllib3 loads the system store)."""
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()
