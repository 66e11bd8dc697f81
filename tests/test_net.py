"""Tests for newswatch.http.client against real servers on 127.0.0.1."""

from __future__ import annotations

import email.utils
import gzip
import pickle
import socket
import ssl
import time
import tracemalloc
import zlib
from typing import Dict, Iterator, List

import pytest
import trustme

from conftest_net_helpers import (
    Handler,
    RawServer,
    RouteServer,
    count_bytes,
    gzip_zeros,
    reply,
    stream,
)
from newswatch.http.client import SafeHttpClient
from newswatch.http.decode import parse_content_type, parse_retry_after
from newswatch.http.errors import FetchError
from newswatch.http.guard import is_blocked_ip
from newswatch.http.politeness import HostThrottle
from newswatch.http.request import FetchLimits, Response

MiB = 1024 * 1024
PAGE = b"<html><body><p>Plain test page written for the client tests.</p></body></html>"


@pytest.fixture
def servers() -> Iterator[List[object]]:
    """Collects servers started by a test and stops them afterwards."""
    started: List[object] = []
    yield started
    for server in started:
        server.stop()  # type: ignore[attr-defined]


def serve(servers: List[object], routes: Dict[str, object], **kwargs: object) -> RouteServer:
    server = RouteServer(routes, **kwargs)  # type: ignore[arg-type]
    servers.append(server)
    return server


def raw(servers: List[object], on_conn: object) -> RawServer:
    server = RawServer(on_conn)  # type: ignore[arg-type]
    servers.append(server)
    return server


def client_for(*hosts: str, **limits: object) -> SafeHttpClient:
    fast = {"backoff_s": 0.02, **limits}
    return SafeHttpClient(FetchLimits(**fast), allow_hosts=hosts)  # type: ignore[arg-type]


def fetch_error(call, *args, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> List[object]:
    """Every address a socket in this process tries to connect to."""
    seen: List[object] = []
    real = socket.socket.connect

    def recording(sock: socket.socket, address: object) -> None:
        seen.append(address)
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    return seen


# --- pure helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    "address, blocked",
    [
        ("8.8.8.8", False), ("172.32.0.1", False), ("100.128.0.1", False),
        ("2606:4700:4700::1111", False), ("::ffff:8.8.8.8", False),
        ("127.0.0.1", True), ("127.8.9.10", True), ("10.1.2.3", True), ("172.16.0.1", True),
        ("172.31.255.255", True), ("192.168.0.10", True), ("100.64.0.1", True),
        ("169.254.169.254", True), ("0.0.0.0", True), ("224.0.0.251", True), ("240.0.0.1", True),
        ("255.255.255.255", True), ("::1", True), ("::", True), ("fe80::1", True),
        ("fe80::1%eth0", True), ("fc00::1", True), ("fd00:ec2::254", True), ("ff02::1", True),
        ("::ffff:127.0.0.1", True), ("::ffff:169.254.169.254", True), ("::ffff:10.0.0.1", True),
        ("2002:7f00:1::", True), ("64:ff9b::a9fe:a9fe", True),
    ],
)
def test_is_blocked_ip(address: str, blocked: bool) -> None:
    assert is_blocked_ip(address) is blocked


def test_parse_content_type() -> None:
    assert parse_content_type('Text/HTML; Charset="UTF-8"') == ("text/html", "utf-8")
    assert parse_content_type("application/rss+xml") == ("application/rss+xml", None)
    assert parse_content_type("nonsense") == (None, None)
    assert parse_content_type(None) == (None, None)


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now) == 90.0
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_limits_defaults_and_pickle() -> None:
    limits = FetchLimits()
    assert (limits.total_deadline_s, limits.connect_timeout_s, limits.max_bytes) == (30.0, 10.0, 20 * MiB)
    assert (limits.max_redirects, limits.retries) == (5, 3)
    assert limits.user_agent.startswith("newswatch/") and "(+https://github.com/newswatch/newswatch)" in limits.user_agent
    assert pickle.loads(pickle.dumps(limits)) == limits
    with pytest.raises(ValueError):
        FetchLimits(total_deadline_s=0)


def test_fetch_error_pickles_with_fields() -> None:
    err = FetchError("http_429", "HTTP 429", "http://example.test/", 429, 12.5)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.message, copy.url, copy.status, copy.retry_after) == (
        "http_429", "HTTP 429", "http://example.test/", 429, 12.5)


# --- basic exchange ---------------------------------------------------------


def test_get_returns_response_with_identity_headers(servers) -> None:
    server = serve(servers, {"/page": lambda h: reply(
        h, 200, PAGE, {"Content-Type": "Text/HTML; charset=ISO-8859-1", "X-Mixed-Case": "yes"})})
    client = client_for(server.host_port)
    resp = client.get(server.url("/page"))
    assert isinstance(resp, Response)
    assert (resp.status, resp.body, resp.url) == (200, PAGE, server.url("/page"))
    assert (resp.content_type, resp.charset) == ("text/html", "iso-8859-1")
    assert resp.headers["x-mixed-case"] == "yes"
    assert resp.elapsed_s >= 0
    sent = server.seen[0].headers
    assert sent["user-agent"] == FetchLimits().user_agent
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["host"] == server.host_port


def test_connection_is_reused_between_requests(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"ok")})
    client = client_for(server.host_port)
    client.get(server.url("/"))
    client.get(server.url("/"))
    assert len({seen.client_port for seen in server.seen}) == 1


def test_caller_headers_override_accept_but_not_encoding_or_host(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"ok")})
    client_for(server.host_port).get(server.url("/"), headers={
        "Accept": "application/rss+xml", "accept-encoding": "br", "Host": "evil.test", "X-Extra": "1"})
    sent = server.seen[0].headers
    assert (sent["accept"], sent["accept-encoding"], sent["host"], sent["x-extra"]) == (
        "application/rss+xml", "gzip, deflate", server.host_port, "1")


def test_conditional_request_gets_304_passthrough(servers) -> None:
    def conditional(h: Handler) -> None:
        if h.headers.get("If-None-Match") == '"v7"':
            reply(h, 304, headers={"ETag": '"v7"'})
        else:
            reply(h, 200, PAGE, {"ETag": '"v7"'})

    server = serve(servers, {"/feed": conditional})
    client = client_for(server.host_port)
    resp = client.get(server.url("/feed"), headers={
        "If-None-Match": '"v7"', "If-Modified-Since": "Tue, 05 Mar 2024 09:30:00 GMT"})
    assert (resp.status, resp.body, resp.headers["etag"]) == (304, b"", '"v7"')
    sent = server.seen[0].headers
    assert sent["if-none-match"] == '"v7"'
    assert sent["if-modified-since"] == "Tue, 05 Mar 2024 09:30:00 GMT"


# --- content coding and size cap ------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-two-members"])
def test_compressed_bodies_are_decoded(servers, coding: str) -> None:
    text = PAGE * 50
    if coding in ("gzip", "x-gzip"):
        wire, header = gzip.compress(text), coding
    elif coding == "deflate-zlib":
        wire, header = zlib.compress(text), "deflate"
    elif coding == "deflate-raw":
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        wire, header = packer.compress(text) + packer.flush(), "deflate"
    else:
        wire, header = gzip.compress(text[:100]) + gzip.compress(text[100:]), "gzip"
    server = serve(servers, {"/": lambda h: reply(h, 200, wire, {"Content-Encoding": header})})
    assert client_for(server.host_port).get(server.url("/")).body == text


def test_corrupt_gzip_is_a_connection_error(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"\x1f\x8b\x08\x00garbage-garbage-garbage",
                                                  {"Content-Encoding": "gzip"})})
    assert fetch_error(client_for(server.host_port).get, server.url("/")).code == "connection_error"


def test_gzip_bomb_is_cut_at_cap_with_small_memory(servers) -> None:
    """1 GiB of zeros, gzip-compressed on the fly, against the default 20 MiB cap."""
    server = serve(servers, {"/bomb": lambda h: stream(
        h, 200, gzip_zeros(1024 * MiB), {"Content-Encoding": "gzip", "Content-Type": "text/html"})})
    client = client_for(server.host_port)
    tracemalloc.start()
    try:
        started = time.monotonic()
        err = fetch_error(client.get, server.url("/bomb"))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"gzip bomb: cut off after {elapsed:.2f}s, tracemalloc peak {peak / MiB:.1f} MiB")
    assert err.code == "too_large"
    assert peak < 100 * MiB


@pytest.mark.parametrize("chunked", [False, True])
def test_endless_body_is_cut_at_cap(servers, chunked: bool) -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 65536

    server = serve(servers, {"/": lambda h: stream(h, 200, endless(), chunked=chunked)})
    started = time.monotonic()
    err = fetch_error(client_for(server.host_port).get, server.url("/"), max_bytes=MiB)
    assert err.code == "too_large"
    assert time.monotonic() - started < 5


def test_declared_length_over_cap_is_refused_before_reading(servers) -> None:
    def huge(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(50 * MiB))
        h.end_headers()
        for _ in range(50):
            h.wfile.write(bytes(MiB))

    server = serve(servers, {"/": huge})
    started = time.monotonic()
    err = fetch_error(client_for(server.host_port).get, server.url("/"), max_bytes=MiB)
    assert (err.code, err.url) == ("too_large", server.url("/"))
    assert "Content-Length" in err.message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("declared", [True, False])
def test_cap_boundary_with_and_without_length(servers, declared: bool) -> None:
    cap = 100_000
    server = serve(servers, {
        "/exact": lambda h: reply(h, 200, b"a" * cap, content_length=declared),
        "/over": lambda h: reply(h, 200, b"a" * (cap + 1), content_length=declared),
    })
    client = client_for(server.host_port)
    assert len(client.get(server.url("/exact"), max_bytes=cap).body) == cap
    assert fetch_error(client.get, server.url("/over"), max_bytes=cap).code == "too_large"


def test_compressed_over_cap_is_too_large(servers) -> None:
    wire = gzip.compress(b"b" * 300_000)
    server = serve(servers, {"/": lambda h: reply(h, 200, wire, {"Content-Encoding": "gzip"})})
    err = fetch_error(client_for(server.host_port).get, server.url("/"), max_bytes=200_000)
    assert err.code == "too_large"


# --- deadline ------------------------------------------------------------------


def test_dripping_body_is_cut_at_total_deadline(servers) -> None:
    def drip(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"d")
            h.wfile.flush()
            time.sleep(1.0)

    server = serve(servers, {"/drip": drip})
    client = client_for(server.host_port, total_deadline_s=3.0, retries=0)
    started = time.monotonic()
    err = fetch_error(client.get, server.url("/drip"))
    elapsed = time.monotonic() - started
    print(f"drip body: cut off after {elapsed:.2f}s (deadline 3.0s)")
    assert err.code == "timeout"
    assert 2.0 <= elapsed <= 4.0


def test_dripping_headers_are_cut_at_total_deadline(servers) -> None:
    def drip_status_line(conn: socket.socket, server: RawServer) -> None:
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 1000:
            if server.stopping.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.2)

    server = raw(servers, drip_status_line)
    client = client_for(f"127.0.0.1:{server.port}", total_deadline_s=2.0, retries=0)
    started = time.monotonic()
    err = fetch_error(client.get, f"http://127.0.0.1:{server.port}/")
    elapsed = time.monotonic() - started
    print(f"drip headers: cut off after {elapsed:.2f}s (deadline 2.0s)")
    assert err.code == "timeout"
    assert 1.0 <= elapsed <= 3.0


def test_server_that_never_answers_times_out_at_deadline(servers) -> None:
    server = raw(servers, count_bytes)
    client = client_for(f"127.0.0.1:{server.port}", total_deadline_s=2.0, retries=2)
    started = time.monotonic()
    err = fetch_error(client.get, f"http://127.0.0.1:{server.port}/")
    elapsed = time.monotonic() - started
    assert err.code == "timeout"
    assert 1.5 <= elapsed <= 3.0
    assert server.bytes_received > 0  # the request went out; only the answer never came


# --- redirects -------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_chain_is_followed(servers, status: int) -> None:
    server = serve(servers, {
        "/a": lambda h: reply(h, status, headers={"Location": "/b"}),
        "/b": lambda h: reply(h, status, headers={"Location": f"http://127.0.0.1:{h.server.port}/c"}),
        "/c": lambda h: reply(h, 200, PAGE),
    })
    resp = client_for(server.host_port).get(server.url("/a"))
    assert (resp.status, resp.url, resp.body) == (200, server.url("/c"), PAGE)
    assert [seen.path for seen in server.seen] == ["/a", "/b", "/c"]


def test_redirect_loop_is_too_many_redirects(servers) -> None:
    server = serve(servers, {"/x": lambda h: reply(h, 302, headers={"Location": "/y"}),
                             "/y": lambda h: reply(h, 302, headers={"Location": "/x"})})
    err = fetch_error(client_for(server.host_port).get, server.url("/x"))
    assert err.code == "too_many_redirects"
    assert len(server.seen) == 6  # the first request plus max_redirects=5 followed


def test_redirect_limit_is_exact(servers) -> None:
    server = serve(servers, {"/1": lambda h: reply(h, 301, headers={"Location": "/2"}),
                             "/2": lambda h: reply(h, 301, headers={"Location": "/3"}),
                             "/3": lambda h: reply(h, 200, b"end")})
    assert client_for(server.host_port, max_redirects=2).get(server.url("/1")).body == b"end"
    assert fetch_error(client_for(server.host_port, max_redirects=1).get,
                       server.url("/1")).code == "too_many_redirects"


def test_redirect_to_internal_listener_sends_nothing(servers, connects) -> None:
    internal = raw(servers, count_bytes)
    server = serve(servers, {"/": lambda h: reply(
        h, 302, headers={"Location": f"http://127.0.0.1:{internal.port}/admin"})})
    err = fetch_error(client_for(server.host_port).get, server.url("/"))
    assert (err.code, err.url) == ("blocked_address", f"http://127.0.0.1:{internal.port}/admin")
    time.sleep(0.1)
    assert (internal.accepted, internal.bytes_received) == (0, 0)
    assert all(address[1] != internal.port for address in connects)


def test_redirect_to_metadata_address_is_refused_without_connecting(servers, connects) -> None:
    server = serve(servers, {"/": lambda h: reply(
        h, 301, headers={"Location": "http://169.254.169.254/latest/meta-data/"})})
    started = time.monotonic()
    err = fetch_error(client_for(server.host_port).get, server.url("/"))
    assert err.code == "blocked_address"
    assert time.monotonic() - started < 0.5
    assert all(address[0] != "169.254.169.254" for address in connects)


def test_redirect_to_other_scheme_is_bad_scheme(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 302, headers={"Location": "file:///etc/passwd"})})
    assert fetch_error(client_for(server.host_port).get, server.url("/")).code == "bad_scheme"


def test_cross_origin_redirect_drops_credentials(servers) -> None:
    second = serve(servers, {"/land": lambda h: reply(h, 200, b"landed")})
    first = serve(servers, {"/go": lambda h: reply(h, 302, headers={"Location": second.url("/land")})})
    client = client_for(first.host_port, second.host_port)
    client.get(first.url("/go"), headers={"Authorization": "Bearer t0ken", "X-Keep": "1"})
    assert first.seen[0].headers["authorization"] == "Bearer t0ken"
    assert "authorization" not in second.seen[0].headers
    assert second.seen[0].headers["x-keep"] == "1"


# --- address policy ---------------------------------------------------------------


def test_loopback_name_not_allowed_is_blocked(servers, connects) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"ok")})
    client = client_for(server.host_port)  # allows 127.0.0.1:port, not localhost:port
    assert fetch_error(client.get, server.url("/", host="localhost")).code == "blocked_address"
    assert server.seen == [] and connects == []


def test_allow_list_entry_is_taken_literally(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"ok")})
    client = client_for(f"localhost:{server.port}")
    assert client.get(server.url("/", host="localhost")).body == b"ok"
    assert server.seen[0].headers["host"] == f"localhost:{server.port}"
    assert fetch_error(client.get, server.url("/")).code == "blocked_address"  # 127.0.0.1 not listed


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "2130706433",
                                  "0x7f.1", "10.0.0.8", "192.168.1.1", "100.64.1.1", "[fe80::1]"])
def test_non_public_hosts_are_blocked_by_default(host: str, connects) -> None:
    err = fetch_error(SafeHttpClient().get, f"http://{host}:8080/")
    assert err.code == "blocked_address"
    assert connects == []


def test_every_resolved_address_is_checked(monkeypatch, connects) -> None:
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    err = fetch_error(SafeHttpClient().get, "http://rebind.example/")
    assert (err.code, err.url) == ("blocked_address", "http://rebind.example/")
    assert connects == []


def test_connects_to_resolved_ip_and_keeps_the_name(servers, monkeypatch) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"named")})
    calls: List[str] = []

    def resolver(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    client = client_for(f"news.example:{server.port}")
    assert client.get(f"http://news.example:{server.port}/").body == b"named"
    assert server.seen[0].headers["host"] == f"news.example:{server.port}"
    assert calls == ["news.example"]


def test_unresolvable_name_is_dns_error(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    err = fetch_error(SafeHttpClient().get, "http://no-such-host.invalid/")
    assert (err.code, err.url) == ("dns_error", "http://no-such-host.invalid/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/",
                                 "data:text/plain,hello", "javascript:alert(1)", "HTTPX://example.org/"])
def test_other_schemes_are_bad_scheme(url: str) -> None:
    assert fetch_error(SafeHttpClient().get, url).code == "bad_scheme"


@pytest.mark.parametrize("url", ["", "example.org/path", "//example.org/", "http://", "http:///path",
                                 "http://example.org:99999/", "http://example.org:0/",
                                 "http://exa\nmple.org/", "http://example.org/\r\nX-Injected: 1"])
def test_malformed_urls_are_bad_url(url: str) -> None:
    assert fetch_error(SafeHttpClient().get, url).code == "bad_url"


def test_connect_timeout_is_retried_within_the_deadline() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):  # fill the accept queue so later handshakes stall
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        client = client_for(f"127.0.0.1:{port}", connect_timeout_s=0.3, retries=1, total_deadline_s=5)
        started = time.monotonic()
        err = fetch_error(client.get, f"http://127.0.0.1:{port}/")
        elapsed = time.monotonic() - started
        for filler in fillers:
            filler.close()
    assert err.code == "timeout"
    assert 0.6 <= elapsed < 1.5  # two connect attempts of 0.3 s, not the 5 s deadline


def test_refused_connection_is_connection_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    client = client_for(f"127.0.0.1:{port}", retries=1)
    assert fetch_error(client.get, f"http://127.0.0.1:{port}/").code == "connection_error"


def test_server_hanging_up_is_connection_error(servers) -> None:
    server = raw(servers, lambda conn, srv: (conn.recv(65536), conn.close()))
    client = client_for(f"127.0.0.1:{server.port}", retries=1)
    err = fetch_error(client.get, f"http://127.0.0.1:{server.port}/")
    assert err.code == "connection_error"
    assert server.accepted == 2  # retried once


# --- TLS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(servers, ca: trustme.CA, names: List[str], sni: List[object]) -> RouteServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: sni.append(name)
    return serve(servers, {"/": lambda h: reply(h, 200, b"secure")}, tls=context)


def test_untrusted_certificate_is_tls_error(servers, ca) -> None:
    server = tls_server(servers, ca, ["localhost"], [])
    client = SafeHttpClient(FetchLimits(retries=0), allow_hosts=[f"localhost:{server.port}"])
    err = fetch_error(client.get, server.url("/", host="localhost", scheme="https"))
    assert err.code == "tls_error"


def test_trusted_certificate_checks_the_original_name(servers, ca, tmp_path) -> None:
    sni: List[object] = []
    server = tls_server(servers, ca, ["localhost"], sni)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = SafeHttpClient(allow_hosts=[f"localhost:{server.port}"], ca_certs=str(bundle))
    resp = client.get(server.url("/", host="localhost", scheme="https"))
    assert (resp.status, resp.body) == (200, b"secure")
    assert sni == ["localhost"]  # SNI carries the name although we connected to the resolved IP


def test_certificate_for_another_name_is_tls_error(servers, ca, tmp_path) -> None:
    server = tls_server(servers, ca, ["news.example"], [])
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = SafeHttpClient(FetchLimits(retries=0), allow_hosts=[f"localhost:{server.port}"],
                            ca_certs=str(bundle))
    err = fetch_error(client.get, server.url("/", host="localhost", scheme="https"))
    assert err.code == "tls_error"


# --- status codes and retries -----------------------------------------------------------


@pytest.mark.parametrize("status, code", [(404, "http_404"), (410, "http_410"), (403, "http_4xx"),
                                          (418, "http_4xx"), (429, "http_429"), (500, "http_5xx"),
                                          (503, "http_5xx")])
def test_error_statuses_map_to_codes(servers, status: int, code: str) -> None:
    server = serve(servers, {"/": lambda h: reply(h, status, b"nope")})
    err = fetch_error(client_for(server.host_port, retries=0).get, server.url("/"))
    assert (err.code, err.status, err.url, err.retry_after) == (code, status, server.url("/"), None)


def test_429_without_retry_after_is_not_retried(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 429)})
    assert fetch_error(client_for(server.host_port).get, server.url("/")).code == "http_429"
    assert len(server.seen) == 1


def test_5xx_is_retried_then_succeeds(servers) -> None:
    statuses = iter([500, 502])
    server = serve(servers, {"/": lambda h: reply(h, next(statuses, 200), b"third time")})
    resp = client_for(server.host_port, retries=3).get(server.url("/"))
    assert (resp.status, resp.body, len(server.seen)) == (200, b"third time", 3)


def test_5xx_retries_are_bounded(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 502)})
    err = fetch_error(client_for(server.host_port, retries=2).get, server.url("/"))
    assert (err.code, len(server.seen)) == ("http_5xx", 3)


def test_retry_backoff_never_passes_the_deadline(servers) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 500)})
    client = client_for(server.host_port, retries=10, backoff_s=0.4, total_deadline_s=1.0)
    started = time.monotonic()
    assert fetch_error(client.get, server.url("/")).code == "http_5xx"
    # without the deadline the backoff alone would sleep 0.4 + 0.8 + 1.6 s before the fourth try; the margin above the
    # 1 s deadline is for a loaded machine (this failed once at 1.0 s with two jobs beside the suite)
    assert time.monotonic() - started < 1.8


@pytest.mark.parametrize("status, form", [(429, "seconds"), (503, "date")])
def test_short_retry_after_is_honoured(servers, status: int, form: str) -> None:
    def limited(h: Handler) -> None:
        if len(h.server.seen) == 1:
            wait = "1" if form == "seconds" else email.utils.formatdate(time.time() + 2, usegmt=True)
            reply(h, status, headers={"Retry-After": wait})
        else:
            reply(h, 200, b"after wait")

    server = serve(servers, {"/": limited})
    started = time.monotonic()
    resp = client_for(server.host_port).get(server.url("/"))
    waited = server.seen[1].at - server.seen[0].at
    assert (resp.status, resp.body) == (200, b"after wait")
    assert 0.9 <= waited <= 2.5
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("status, form, code", [(429, "seconds", "http_429"), (503, "date", "http_5xx")])
def test_long_retry_after_fails_with_the_wait_exposed(servers, status: int, form: str, code: str) -> None:
    wait = "3600" if form == "seconds" else email.utils.formatdate(time.time() + 3600, usegmt=True)
    server = serve(servers, {"/": lambda h: reply(h, status, headers={"Retry-After": wait})})
    started = time.monotonic()
    err = fetch_error(client_for(server.host_port).get, server.url("/"))
    assert (err.code, err.status) == (code, status)
    assert err.retry_after == pytest.approx(3600, abs=5)
    assert time.monotonic() - started < 1
    assert len(server.seen) == 1


# --- POST -------------------------------------------------------------------------------


def test_post_sends_body_and_never_follows_or_retries(servers) -> None:
    server = serve(servers, {
        "/hook": lambda h: reply(h, 202, b'{"ok":true}', {"Content-Type": "application/json"}),
        "/moved": lambda h: reply(h, 307, headers={"Location": "/hook"}),
        "/broken": lambda h: reply(h, 500),
    })
    client = client_for(server.host_port)
    resp = client.post(server.url("/hook"), b'{"alert":1}', {"Content-Type": "application/json"})
    assert (resp.status, resp.content_type) == (202, "application/json")
    assert (server.seen[0].method, server.seen[0].body) == ("POST", b'{"alert":1}')
    assert server.seen[0].headers["content-type"] == "application/json"
    assert client.post(server.url("/moved"), b"x").status == 307
    assert fetch_error(client.post, server.url("/broken"), b"x").code == "http_5xx"
    assert [seen.path for seen in server.seen] == ["/hook", "/moved", "/broken"]


def test_post_to_blocked_address_is_refused() -> None:
    assert fetch_error(SafeHttpClient().post, "http://169.254.169.254/", b"x").code == "blocked_address"


# --- pickling and throttling ------------------------------------------------------------


def test_client_pickles_after_use_and_still_works(servers, tmp_path) -> None:
    server = serve(servers, {"/": lambda h: reply(h, 200, b"ok")})
    throttle = HostThrottle(concurrency=1, min_delay_s=0, state_dir=str(tmp_path))
    client = SafeHttpClient(FetchLimits(max_bytes=1234), allow_hosts=[server.host_port], throttle=throttle)
    client.get(server.url("/"))
    copy = pickle.loads(pickle.dumps(client))
    assert (copy.limits, copy.allow_hosts, copy.throttle.state_dir) == (
        client.limits, client.allow_hosts, str(tmp_path))
    assert copy.get(server.url("/")).body == b"ok"
    client.close()
    assert client.get(server.url("/")).body == b"ok"  # usable again after close


def test_throttle_spaces_request_starts(servers, tmp_path) -> None:
    server = serve(servers, {"/a": lambda h: reply(h, 301, headers={"Location": "/b"}),
                             "/b": lambda h: reply(h, 200, b"ok")})
    throttle = HostThrottle(concurrency=1, min_delay_s=0.2, state_dir=str(tmp_path))
    client = SafeHttpClient(allow_hosts=[server.host_port], throttle=throttle)
    client.get(server.url("/a"))
    client.get(server.url("/b"))
    starts = [seen.at for seen in server.seen]
    assert len(starts) == 3  # the redirect hop is throttled too
    assert starts[-1] - starts[0] >= 2 * 0.2 - 0.02
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.15  # minus scheduler jitter


def test_allow_hosts_entries_are_validated() -> None:
    with pytest.raises(ValueError):
        SafeHttpClient(allow_hosts=["127.0.0.1"])
