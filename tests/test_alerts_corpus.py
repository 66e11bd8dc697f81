"""Issue 6's acceptance tests: alerts from a batch run over the dev corpus, to a real receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newswatch.cli import main
from tests.conftest import requires_corpus

pytestmark = [requires_corpus, pytest.mark.slow]

SECRET = "corpus-test-secret"


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fail_first: int):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first = fail_first  # 503 answers per alert before it is accepted
        self.log: list[tuple[str, int, dict, bytes]] = []  # key, status, headers, body
        self.lock = threading.Lock()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def accepted(self) -> Counter:
        return Counter(key for key, status, _, _ in self.log if status == 200)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        key = headers.get("idempotency-key", "")
        server: _Receiver = self.server
        with server.lock:
            tries = sum(1 for k, _, _, _ in server.log if k == key)
            status = 503 if tries < server.fail_first else 200
            server.log.append((key, status, headers, body))
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def receiver_factory():
    servers = []

    def make(fail_first: int = 0) -> _Receiver:
        server = _Receiver(fail_first)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def _run(db, feeds, corpus_server, receiver) -> int:
    return main(["run", "--feeds", str(feeds), "--db", str(db), "--host-delay", "0",
                 "--allow-host", corpus_server.host_port, "--allow-host", receiver.host_port,
                 "--alert-webhook", f"http://{receiver.host_port}/hook"])


def _expected_urls(gold: list[dict]) -> set[str]:
    return {g["url"] for g in gold if g["defection_report"] and g["duplicate_of"] is None}


def _one_per_incident(alerted: set[str], gold: list[dict]) -> bool:
    """Each gold incident (tests/fixtures/incidents) alerted exactly once, from one of its original reports."""
    path = Path(__file__).parent / "fixtures" / "incidents" / "corpus_incidents.jsonl"
    group = {json.loads(line)["id"]: json.loads(line)["incident"] for line in path.read_text().splitlines()}
    incident_of = {g["url"]: group[g["id"]] for g in gold if g["url"] in _expected_urls(gold)}
    alerted_incidents = [incident_of.get(url) for url in alerted]
    return sorted(alerted_incidents, key=str) == sorted(set(incident_of.values()))


def test_one_signed_webhook_per_new_defection_report(tmp_path, monkeypatch, corpus_server, corpus_feed_list,
                                                      corpus_gold, receiver_factory):
    monkeypatch.setenv("NEWSWATCH_WEBHOOK_SECRET", SECRET)
    receiver = receiver_factory()
    db = tmp_path / "alerts.duckdb"
    assert _run(db, corpus_feed_list, corpus_server, receiver) == 0
    bodies = [json.loads(body) for _, _, _, body in receiver.log]
    assert _one_per_incident({b["url"] for b in bodies}, corpus_gold)
    assert len(bodies) == len({b["url"] for b in bodies})  # exactly one per incident (d040/d041 are one)
    assert all(b["kind"] == "defection" and b["modality"] == "report" for b in bodies)
    for key, _, headers, body in receiver.log:
        assert headers["idempotency-key"] == key
        stamp = headers["x-newswatch-timestamp"]
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-newswatch-signature"], f"sha256={expected}")

    sent = len(receiver.log)
    assert _run(db, corpus_feed_list, corpus_server, receiver) == 0
    assert len(receiver.log) == sent  # a rerun alerts nobody


def test_alerts_survive_503s_and_arrive_exactly_once(tmp_path, corpus_server, corpus_feed_list, corpus_gold,
                                                     receiver_factory):
    receiver = receiver_factory(fail_first=2)
    db = tmp_path / "alerts503.duckdb"
    assert _run(db, corpus_feed_list, corpus_server, receiver) == 0
    accepted = receiver.accepted()
    delivered = {json.loads(body)["url"] for _, status, _, body in receiver.log if status == 200}
    assert len(accepted) == len(delivered) and set(accepted.values()) == {1}
    assert _one_per_incident(delivered, corpus_gold)
