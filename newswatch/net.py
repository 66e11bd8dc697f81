"""newswatch's safe HTTP client for feeds, article pages, robots.txt and webhooks.

``SafeHttpClient.get(url) -> Response`` (and ``post`` for webhooks) wraps
urllib3 with the protections a crawler fed by untrusted URLs needs: one wall
clock deadline for the whole request (redirects, retries and body included),
a byte cap counted after gzip/deflate decoding, manually followed and checked
redirects, and refusal of private, loopback, link-local and other non-public
addresses. Names are resolved by the client, every resolved address is
checked, and the socket is connected to the checked IP while the Host header,
SNI and certificate check keep the original name, so DNS rebinding cannot
slip between check and connect (``newswatch.net_guard`` holds that address
policy and the guarded connections). The client pickles without its connection pool,
which is rebuilt lazily, so Beam DoFns can hold it as configuration.

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
import email.utils
import logging
import random
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from http.client import HTTPException
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError

from newswatch import __version__
from newswatch.net_guard import (
    FetchError,
    _check_url,
    _Deadline,
    _Guard,
    _GuardedPoolManager,
    _HopWatch,
    _normalize_allow_entry,
    _refuse_blocked_literal,
    _Target,
    _Watchdog,
    is_blocked_ip,
)
from newswatch.politeness import HostThrottle, ThrottleTimeout

__all__ = ["FetchError", "FetchLimits", "Response", "SafeHttpClient", "is_blocked_ip"]

_log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
DEFAULT_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,*/*;q=0.8"
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_RETRYABLE_CODES = frozenset({"http_5xx", "timeout", "connection_error"})
# Headers that must not travel to a different origin on a redirect.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Limits and identity for one client; immutable and picklable."""

    total_deadline_s: float = 30.0
    """Wall clock for a whole request: every hop, retry wait and body read."""
    connect_timeout_s: float = 10.0
    """Cap on one TCP connect (never beyond what is left of the deadline)."""
    max_bytes: int = 20 * 1024 * 1024
    """Largest body accepted, counted after Content-Encoding is decoded."""
    max_redirects: int = 5
    """Redirects followed before failing with ``too_many_redirects``."""
    retries: int = 3
    """Extra GET attempts after 5xx, timeouts and connection errors."""
    backoff_s: float = 0.5
    """First retry back-off; doubles per retry, with jitter."""
    user_agent: str = DEFAULT_USER_AGENT
    """User-Agent header sent with every request."""
    accept: str = DEFAULT_ACCEPT
    """Accept header sent unless the caller passes its own."""

    def __post_init__(self) -> None:
        if self.total_deadline_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("deadline and connect timeout must be positive")
        if self.max_bytes < 0 or self.max_redirects < 0 or self.retries < 0 or self.backoff_s < 0:
            raise ValueError("max_bytes, max_redirects, retries and backoff_s must be >= 0")


class Response(NamedTuple):
    """A completed exchange (2xx, 304, or a 3xx that was not followed)."""

    url: str  # final URL, after redirects
    status: int
    headers: Dict[str, str]  # lower-case names; repeated headers joined by ", "
    body: bytes  # decoded from gzip/deflate
    content_type: Optional[str]  # lower-case mime type without parameters
    charset: Optional[str]  # from the Content-Type parameters
    elapsed_s: float


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_dt = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    return max(0.0, (when - now_dt).total_seconds())


def parse_content_type(value: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(mime type, charset) from a Content-Type header, both lower-case or None."""
    if not value:
        return None, None
    mime, *params = value.split(";")
    mime = mime.strip().lower()
    charset = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return (mime if "/" in mime else None), charset


class _BodyDecoder:
    """Streaming gzip/deflate decoder whose output comes in bounded pieces."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._d: Any = None
        self._pending = b""  # deflate: bytes held until the zlib header can be sniffed
        self._ended = False
        if coding == "gzip":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.coding == "identity":
            if data:
                yield data
            return
        if self._ended:
            return  # trailing bytes after the stream end are ignored, as browsers do
        if self._d is None:
            data = self._pending + data
            if len(data) < 2:
                self._pending = data
                return
            self._pending = b""
            # Some servers send raw deflate under "deflate"; sniff the zlib header.
            wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        while True:
            try:
                out = self._d.decompress(data, _READ_CHUNK)
            except zlib.error as exc:
                raise _CorruptBody(str(exc)) from None
            if out:
                yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                rest = self._d.unused_data
                if self.coding == "gzip" and rest[:2] == b"\x1f\x8b":
                    self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
                    data = rest
                    continue
                self._ended = True
                return
            if not data and len(out) < _READ_CHUNK:
                return  # input used up and no output left inside zlib


class _CorruptBody(Exception):
    """A compressed body that zlib cannot decode."""


def _content_coding(headers: Mapping[str, str]) -> str:
    """The decoder to use for a response; unknown codings pass through raw."""
    value = headers.get("content-encoding", "").strip().lower()
    if value in ("gzip", "x-gzip"):
        return "gzip"
    if value == "deflate":
        return "deflate"
    return "identity"


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
        self.allow_hosts = frozenset(_normalize_allow_entry(h) for h in allow_hosts)
        self.ca_certs = ca_certs
        self.throttle = throttle
        self._lock = threading.Lock()
        self._manager: Optional[_GuardedPoolManager] = None
        self._guard: Optional[_Guard] = None
        self._watchdog = _Watchdog()

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
        self._watchdog = _Watchdog()

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
        return self._with_retries("GET", url, None, headers, max_bytes, self.limits.retries)

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
        return self._with_retries("POST", url, bytes(body), headers, max_bytes, 0)

    def _with_retries(
        self,
        method: str,
        url: str,
        body: Optional[bytes],
        headers: Optional[Mapping[str, str]],
        max_bytes: Optional[int],
        retries: int,
    ) -> Response:
        cap = self.limits.max_bytes if max_bytes is None else max_bytes
        deadline = _Deadline(self.limits.total_deadline_s)
        request_headers = self._request_headers(headers)
        attempt = 0
        while True:
            try:
                return self._exchange(method, url, body, request_headers, cap, deadline)
            except FetchError as err:
                delay = self._retry_delay(err, attempt, retries, deadline)
                if delay is None:
                    raise
                _log.debug("%s %s: %s; retry %d in %.2fs", method, url, err.code, attempt + 1, delay)
                attempt += 1
                time.sleep(delay)

    def _retry_delay(
        self, err: FetchError, attempt: int, retries: int, deadline: _Deadline
    ) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= retries or not deadline.started:
            return None
        remaining = deadline.remaining()
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

    def _exchange(
        self,
        method: str,
        url: str,
        body: Optional[bytes],
        headers: Dict[str, str],
        cap: int,
        deadline: _Deadline,
    ) -> Response:
        """One attempt: every hop of the redirect chain."""
        target = _check_url(url)
        follow = method == "GET"
        for _ in range(self.limits.max_redirects + 1):
            status, resp_headers, data = self._hop(method, target, body, headers, cap, deadline, follow)
            location = resp_headers.get("location")
            if follow and status in _REDIRECT_STATUSES and location:
                next_target = _check_url(urljoin(target.url, location.strip()))
                if next_target.origin != target.origin:
                    headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
                target = next_target
                continue
            retry_after = parse_retry_after(resp_headers.get("retry-after"))
            error = _status_error(status, target.url, retry_after)
            if error is not None:
                raise error
            mime, charset = parse_content_type(resp_headers.get("content-type"))
            return Response(target.url, status, resp_headers, data or b"", mime, charset, deadline.elapsed())
        raise FetchError(
            "too_many_redirects", f"more than {self.limits.max_redirects} redirects", target.url
        )

    def _hop(
        self,
        method: str,
        target: _Target,
        body: Optional[bytes],
        headers: Dict[str, str],
        cap: int,
        deadline: _Deadline,
        follow: bool,
    ) -> Tuple[int, Dict[str, str], Optional[bytes]]:
        """One HTTP exchange: (status, headers, body or None when not needed)."""
        if target.host_port not in self.allow_hosts:
            _refuse_blocked_literal(target)
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
                return self._transfer(manager, guard, method, target, body, headers, cap, deadline, follow)
        except ThrottleTimeout as exc:
            raise FetchError("timeout", str(exc), target.url) from None

    def _transfer(
        self,
        manager: _GuardedPoolManager,
        guard: _Guard,
        method: str,
        target: _Target,
        body: Optional[bytes],
        headers: Dict[str, str],
        cap: int,
        deadline: _Deadline,
        follow: bool,
    ) -> Tuple[int, Dict[str, str], Optional[bytes]]:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise FetchError("timeout", "deadline passed", target.url)
        watch = _HopWatch(deadline, self._watchdog)
        guard.local.watch = watch
        resp = None
        try:
            resp = manager.urlopen(
                method,
                target.url,
                body=body,
                headers=headers,
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
                follow and status in _REDIRECT_STATUSES and "location" in resp_headers
            )
            data = None if skip_body else self._read_body(resp, resp_headers, cap, deadline, target)
            _log.debug(
                "%s %s -> %d (%s bytes, %.2fs)",
                method, target.url, status, "-" if data is None else len(data), deadline.elapsed(),
            )
            return status, resp_headers, data
        except FetchError as err:
            if err.url is None:
                err.url = target.url  # raised at connect time, where only host:port is known
            _log.debug("%s %s failed: %s", method, target.url, err)
            raise
        except (HTTPError, HTTPException, OSError, _CorruptBody) as exc:
            if isinstance(exc, _CorruptBody):
                code = "connection_error"
            elif watch.fired or deadline.remaining() <= 0:
                code = "timeout"
            else:
                code = _classify(exc)
            _log.debug("%s %s failed: %s (%r)", method, target.url, code, exc)
            message = _describe(exc)
            if code == "timeout" and watch.fired:
                # The watch cut the socket, so the exception reads like a hang-up.
                message = f"total deadline of {self.limits.total_deadline_s:g} s passed ({message})"
            raise FetchError(code, message, target.url) from None
        finally:
            watch.stop()
            guard.local.watch = None
            if resp is not None:
                if not resp.isclosed():
                    resp.close()  # unread or cut-off body: the connection cannot be reused
                resp.release_conn()

    def _read_body(
        self,
        resp: urllib3.BaseHTTPResponse,
        headers: Mapping[str, str],
        cap: int,
        deadline: _Deadline,
        target: _Target,
    ) -> bytes:
        """Stream the body, decoding as it comes, within the cap and the deadline."""
        coding = _content_coding(headers)
        length = headers.get("content-length", "").strip()
        if coding == "identity" and length.isdigit() and int(length) > cap:
            raise FetchError("too_large", f"Content-Length {length} exceeds {cap} bytes", target.url)
        decoder = _BodyDecoder(coding)
        body = bytearray()
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise FetchError("timeout", "deadline passed while reading the body", target.url)
            conn = getattr(resp, "connection", None)
            if conn is not None and conn.sock is not None:
                conn.sock.settimeout(remaining)
            raw = resp.read1(_READ_CHUNK, decode_content=False)
            if not raw:
                break
            for piece in decoder.feed(raw):
                if len(body) + len(piece) > cap:
                    raise FetchError("too_large", f"body exceeds {cap} bytes", target.url)
                body += piece
        return bytes(body)

    def _pool(self) -> Tuple[_GuardedPoolManager, _Guard]:
        """The lazily built pool manager and its guard."""
        with self._lock:
            if self._manager is None or self._guard is None:
                self._guard = _Guard(self.allow_hosts)
                self._manager = _GuardedPoolManager(
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
