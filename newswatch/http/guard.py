"""Where newswatch's HTTP client may connect.

The address policy of ``newswatch.http.client``: ``check_url`` checks a
request URL (scheme, host, port), ``is_blocked_ip`` refuses non-public
addresses, and ``GuardedPoolManager`` is the urllib3 pool manager whose
connections resolve a name, check every address it resolves to and connect
to a checked IP, so DNS rebinding cannot slip between check and connect. The
connections also join the ``HopWatch`` of the hop using them, so the
request's deadline can shut their sockets (``newswatch.http.deadline``).

Example::

    >>> is_blocked_ip("10.1.2.3"), is_blocked_ip("::ffff:127.0.0.1"), is_blocked_ip("9.9.9.9")
    (True, True, False)
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from typing import Any, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.util import parse_url

from newswatch.http.deadline import HopWatch
from newswatch.http.errors import FetchError

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def is_blocked_ip(address: str) -> bool:
    """True for any address that is not plainly public unicast (loopback, private, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # Judge IPv6 forms that carry an IPv4 address by the address they carry.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_blocked_ip(str(embedded))
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip in _CGNAT
    )


class Target(NamedTuple):
    """A checked request URL."""

    url: str
    scheme: str
    host: str  # lower-case, IPv6 without brackets
    port: int

    @property
    def host_port(self) -> str:
        return host_port(self.host, self.port)

    @property
    def origin(self) -> Tuple[str, str, int]:
        return self.scheme, self.host, self.port


def host_port(host: str, port: int) -> str:
    """The allow-list key for a host and port (IPv6 bracketed)."""
    host = host.strip("[]").lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalize_allow_entry(entry: str) -> str:
    """Lower-case an allow-list entry; it must read ``host:port``."""
    host, sep, port = entry.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"allow_hosts entries must be 'host:port', got {entry!r}")
    return host_port(host, int(port))


def check_url(url: str) -> Target:
    """Validate scheme and syntax of a URL; raise ``bad_scheme``/``bad_url``."""
    if not isinstance(url, str) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url.strip()):
        raise FetchError("bad_url", "URL is not a string or contains control characters", str(url))
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise FetchError("bad_url", "URL has no scheme", url)
    if scheme not in ("http", "https"):
        raise FetchError("bad_scheme", f"scheme {scheme!r} is not http or https", url)
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise FetchError("bad_url", f"unparsable URL: {exc}", url) from None
    if not parts.host:
        raise FetchError("bad_url", "URL has no host", url)
    port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
    if port == 0:
        raise FetchError("bad_url", "port 0", url)
    return Target(url, scheme, parts.host.strip("[]").lower(), port)


def refuse_blocked_literal(target: Target) -> None:
    """Refuse an IP-literal host before any pool, throttle or socket is involved."""
    try:
        blocked = is_blocked_ip(target.host)
    except ValueError:
        return  # a name: checked after resolution, at connect time
    if blocked:
        raise FetchError("blocked_address", f"{target.host} is not a public address", target.url)


class Guard:
    """Per-client address policy, shared by all connections of one pool manager."""

    def __init__(self, allow_hosts: frozenset) -> None:
        self.allow_hosts = allow_hosts
        self.local = threading.local()  # .watch: the HopWatch of this thread's hop

    def current_watch(self) -> Optional[HopWatch]:
        return getattr(self.local, "watch", None)

    def resolve(self, host: str, port: int) -> List[tuple]:
        """getaddrinfo results for host:port, all checked; raises FetchError."""
        host = host.strip("[]")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError("dns_error", f"cannot resolve {host}: {exc}") from None
        if not infos:
            raise FetchError("dns_error", f"no addresses for {host}")
        if host_port(host, port) not in self.allow_hosts:
            for info in infos:
                address = info[4][0]
                if is_blocked_ip(address):
                    raise FetchError("blocked_address", f"{host} resolves to non-public {address}")
        return infos


class GuardedConnectionMixin:
    """Connects only to checked addresses and can be aborted by a hop watch."""

    def __init__(self, *args: Any, nw_guard: Guard, **kwargs: Any) -> None:
        self._nw_guard = nw_guard
        self._nw_lock = threading.Lock()
        self._nw_abort_sock: Optional[socket.socket] = None
        self.nw_watch: Optional[HopWatch] = None  # the hop currently using this connection
        super().__init__(*args, **kwargs)

    def _nw_register(self) -> Optional[HopWatch]:
        watch = self._nw_guard.current_watch()
        if watch is not None:
            watch.add(self)
        return watch

    def _new_conn(self) -> socket.socket:
        """Resolve, check every address, then connect to a checked IP (never the name)."""
        watch = self._nw_register()
        infos = self._nw_guard.resolve(self._dns_host, self.port)
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        error: Optional[OSError] = None
        for family, socktype, proto, _, sockaddr in infos:
            if watch is not None:
                left = watch.deadline.remaining()
                if left <= 0:
                    break
                timeout = left if timeout is None else min(timeout, left)
            sock = socket.socket(family, socktype, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            try:
                # A duplicate descriptor stays valid after TLS wrapping takes
                # over the original, so the watch can always shut the socket.
                abort_sock = sock.dup()
            except OSError:
                sock.close()
                raise
            with self._nw_lock:
                self._nw_abort_sock = abort_sock
            if watch is not None:
                watch.add(self)  # aborts at once if the deadline passed meanwhile
            return sock
        if error is None or isinstance(error, TimeoutError):
            raise ConnectTimeoutError(self, f"connect to {self.host} timed out")
        raise NewConnectionError(self, f"failed to connect to {self.host}: {error}")

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._nw_register()
        super().request(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            with self._nw_lock:
                sock, self._nw_abort_sock = self._nw_abort_sock, None
            if sock is not None:
                sock.close()

    def nw_abort(self, watch: HopWatch) -> None:
        with self._nw_lock:
            # A pooled connection may already serve another thread's hop.
            if self._nw_abort_sock is not None and self.nw_watch is watch:
                with contextlib.suppress(OSError):
                    self._nw_abort_sock.shutdown(socket.SHUT_RDWR)


class _GuardedHTTPConnection(GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedPoolManager(urllib3.PoolManager):
    """A PoolManager whose pools build guarded connections bound to one Guard."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self._nw_guard = guard

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: Optional[Dict[str, Any]] = None
    ) -> HTTPConnectionPool:
        # The guard rides in the connection kwargs, not the pool key, which
        # urllib3 builds from a fixed set of fields.
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["nw_guard"] = self._nw_guard
        return super()._new_pool(scheme, host, port, context)
