"""Alerts: rules, the DuckDB outbox, and delivery to a real receiver on 127.0.0.1."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newswatch import cli_alerts
from newswatch.alerts.channels import Channel, console_line, slack_message
from newswatch.alerts.outbox import deliver_pending, enqueue_alerts, next_delay
from newswatch.alerts.rules import (
    SECRET_ENV,
    AlertRule,
    AlertSettings,
    alert_id_for,
    alert_settings,
    build_payload,
    match_rule,
)
from newswatch.alerts.step import DeliverDueAlerts, RaiseAlerts
from newswatch.config import load_config
from newswatch.http.settings import HttpSettings
from newswatch.records import Article, ArticleLabels, EnrichedArticle, Mention, Relink, SinkRecord
from newswatch.sinks.duckdb import DuckDBStore

SECRET = "test-secret-3f9a"


# ---------------------------------------------------------------- fixtures


class Receiver(ThreadingHTTPServer):
    """A webhook receiver: scripted failures per path, then 200; de-duplicates by Idempotency-Key."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict, bytes]] = []
        self.script: dict[str, list[tuple[int, dict]]] = {}  # path -> replies before the 200s
        self.accepted: dict[str, bytes] = {}  # idempotency key -> body
        self.lock = threading.Lock()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host_port}{path}"

    def handle_error(self, request, client_address):
        pass  # the client closes connections after error replies; that is not a test failure

    def bodies(self, path: str = "/hook") -> list[dict]:
        return [json.loads(body) for p, _, body in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        server: Receiver = self.server
        with server.lock:
            server.requests.append((self.path, headers, body))
            queued = server.script.get(self.path)
            status, extra = queued.pop(0) if queued else (200, {})
            if status == 200:
                server.accepted.setdefault(headers.get("idempotency-key", ""), body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "alerts.duckdb")


def _settings(receiver, *channels, allow=True, **kw) -> AlertSettings:
    chans = channels or (Channel("webhook", receiver.url("/hook")),)
    kw.setdefault("backoff_initial_s", 0.05)
    kw.setdefault("drain_s", 10.0)
    return AlertSettings(
        # The synthetic reports here repeat one event; these tests are about stories (per article).
        rules=(AlertRule(channels=tuple(chans), per="article"),),
        allow_hosts=(receiver.host_port,) if allow else (),
        **kw,
    )


def _mention(aid, n=0, kind="defection", modality="report", people=12, weapons=3, country="Myanmar",
             sentence="A captain and eleven privates crossed to the resistance with three rifles.", start=0):
    return Mention(f"{aid}-m{n}", aid, kind, modality, people, "exact" if people else None, weapons,
                   ["captain"], [], ["KNDF"], ["Demoso"], country, None, sentence, start, start + len(sentence),
                   "test-1")


def _enriched(aid, mentions=None, dup=None, report=True, country="Myanmar", minhash=None, title=None):
    article = Article(
        aid, f"https://news.example/{aid}", "https://news.example/rss", "Example Times", title or f"Story {aid}",
        None, "2025-03-05T09:30:00+00:00", "page", "2025-03-05T10:00:00+00:00", "2025-03-05T09:59:00+00:00",
        "en", f"Body of {aid}: soldiers changed sides near Demoso, officials said.", "h" + aid, dup,
        "near" if dup else None, minhash,
    )
    mentions = [_mention(aid)] if mentions is None else mentions
    labels = ArticleLabels(report, False, report, 12 if report else None, 3 if report else None, ["KNDF"],
                           ["Demoso", "Karenni State"], country)
    return EnrichedArticle(article, mentions, labels)


def _store(db, *enriched):
    DuckDBStore(db).write([SinkRecord(enriched=e) for e in enriched])


def _rows(db, sql="SELECT alert_id, channel, status, attempts, last_error FROM alerts ORDER BY alert_id, channel"):
    with DuckDBStore(db).reader() as con:
        return con.execute(sql).fetchall()


def _raise(db, settings, *enriched):
    """What RaiseAlerts does per element, without Beam: enqueue, then deliver."""
    store = DuckDBStore(db)
    ids = [i for e in enriched for i in enqueue_alerts(store, e, settings)]
    return ids, deliver_pending(db, settings, wait=True)


# ---------------------------------------------------------------- rules (pure)


def test_default_rule_alerts_only_on_myanmar_defection_reports_of_originals():
    rule = AlertRule()
    assert match_rule(rule, _enriched("a1")).mention_id == "a1-m0"
    for modality in ("appeal", "offer", "policy", "rumour"):
        assert match_rule(rule, _enriched("a2", [_mention("a2", modality=modality)], report=False)) is None
    other = _enriched("a3", [_mention("a3", country="Thailand")], country="Thailand")
    assert match_rule(rule, other) is None
    assert match_rule(rule, _enriched("a4", dup="a1")) is None
    conscription = _enriched("a5", [_mention("a5", kind="conscription")], report=False)
    assert match_rule(rule, conscription) is None
    # A report clause in an article whose labels say it is no defection report does not alert...
    assert match_rule(rule, _enriched("a6", report=False)) is None
    # ...unless the rule asks for mention-level matching.
    assert match_rule(AlertRule(require_label=False), _enriched("a6", report=False)) is not None


def test_evidence_is_the_largest_count_else_the_first_mention():
    mentions = [_mention("b", 0, people=None, start=0), _mention("b", 1, people=40, start=100),
                _mention("b", 2, people=7, start=200), _mention("b", 3, modality="appeal", people=900, start=300)]
    assert match_rule(AlertRule(), _enriched("b", mentions)).mention_id == "b-m1"
    uncounted = [_mention("c", 0, people=None, start=50), _mention("c", 1, people=None, start=10)]
    assert match_rule(AlertRule(), _enriched("c", uncounted)).mention_id == "c-m1"


def test_optional_filters():
    e = _enriched("f1", title="Soldiers defect with a helicopter")
    assert match_rule(AlertRule(min_people=12), e) is not None
    assert match_rule(AlertRule(min_people=13), e) is None
    assert match_rule(AlertRule(places=("karenni state",)), e) is not None
    assert match_rule(AlertRule(places=("Sagaing",)), e) is None
    assert match_rule(AlertRule(orgs=("KNDF", "KIA")), e) is not None
    assert match_rule(AlertRule(orgs=("KIA",)), e) is None
    assert match_rule(AlertRule(keywords=("helicopter",)), e) is not None
    assert match_rule(AlertRule(keywords=("heli",)), e) is None
    assert match_rule(AlertRule(country=None), _enriched("f2", [_mention("f2", country="Laos")])) is not None


def test_settings_from_config_cli_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "from-env")
    toml = tmp_path / "nw.toml"
    toml.write_text(
        '[alerts]\nhorizon_hours = 2\nbackoff_initial_s = 5\n'
        '[[alerts.rules]]\nname = "big"\nmin_people = 50\nplaces = ["Sagaing"]\n'
        'channels = [{ type = "file", path = "big.jsonl" }]\n'
        '[[alerts.rules]]\nname = "conscripts"\nkind = "conscription"\nmodality = ["report", "policy"]\n'
        'country = ""\n'
    )
    cfg = load_config(toml)
    parser = argparse.ArgumentParser()
    cli_alerts.add_alert_flags(parser)
    args = parser.parse_args(["--alert-webhook", "https://hooks.example/a",
                              "--alert-webhook", "https://hooks.example/b",
                              "--alert-slack", "https://slack.example/T/B/x", "--alert-console"])
    s = alert_settings(cfg, args, HttpSettings.from_config(cfg, ["127.0.0.1:9999"]))
    assert [r.name for r in s.rules] == ["big", "conscripts"]
    big, conscripts = s.rules
    assert (big.min_people, big.places, big.kind, big.modalities, big.country) == (
        50, ("Sagaing",), "defection", ("report",), "Myanmar")
    assert (conscripts.kind, conscripts.modalities, conscripts.country) == ("conscription", ("report", "policy"), None)
    assert big.channels[0].type == "file" and big.channels[0].target.endswith("/big.jsonl")
    assert big.channels[1:] == conscripts.channels
    assert [c.key for c in conscripts.channels] == [
        "webhook:https://hooks.example/a", "webhook:https://hooks.example/b",
        "slack:https://slack.example/T/B/x", "console"]
    assert (s.secret, s.horizon_s, s.backoff_initial_s, s.allow_hosts) == ("from-env", 7200.0, 5.0, ("127.0.0.1:9999",))
    assert "from-env" not in repr(s)
    default = alert_settings(load_config(None), None, HttpSettings())
    assert default.rules == (AlertRule(),) and default.channels == ()
    for bad in ({"secret": "x"}, {"rules": [{"nmae": "typo"}]}, {"rules": [{"channels": [{"type": "pager"}]}]},
                {"rules": [{"channels": [{"type": "webhook", "url": "ftp://x"}]}]}, {"rules": [{"min_people": "3"}]}):
        with pytest.raises(ValueError):
            alert_settings(load_config(None, alerts=bad), None, HttpSettings())


def test_backoff_grows_with_jitter_and_honours_retry_after():
    s = AlertSettings(backoff_initial_s=10, backoff_max_s=100)
    rng = random.Random(1)
    delays = [next_delay(n, None, s, rng) for n in range(1, 8)]
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert all(50 <= d <= 100 for d in delays[4:])
    assert next_delay(3, 120.0, s, rng) == 120.0
    assert next_delay(3, 0.0, s, rng) == 0.5  # floor against busy loops


def test_payload_slack_and_console_shapes():
    e = _enriched("p1")
    payload = build_payload("defection-reports", e, match_rule(AlertRule(), e))
    for key in ("alert_id", "rule", "url", "title", "source", "published_at", "kind", "modality", "people_count",
                "weapons_count", "locations", "orgs", "evidence", "article_id", "defectors", "weapons"):
        assert key in payload
    assert payload["alert_id"] == alert_id_for("defection-reports", "p1")
    assert (payload["people_count"], payload["weapons_count"], payload["orgs"]) == (12, 3, ["KNDF"])
    assert payload["locations"] == ["Demoso", "Karenni State"]
    slack = slack_message({**payload, "title": "Troops <defect> & | flee"})
    assert set(slack) == {"text", "blocks"} and "Troops <defect>" in slack["text"]
    assert [b["type"] for b in slack["blocks"]] == ["section", "section", "context"]
    first = slack["blocks"][0]["text"]
    assert first["type"] == "mrkdwn" and "&lt;defect&gt; &amp; ¦ flee" in first["text"]
    assert f"<{payload['url']}|" in first["text"]
    assert slack["blocks"][1]["text"]["text"].startswith("> A captain")
    line = console_line(payload)
    assert line.startswith("ALERT [defection-reports] Story p1") and "12 people" in line and "\n" not in line


# ---------------------------------------------------------------- outbox and delivery


def test_one_webhook_per_qualifying_article_and_rerun_sends_none(receiver, db):
    arts = [
        _enriched("good1"),
        _enriched("good2", [_mention("good2", people=None)]),
        _enriched("appeal", [_mention("appeal", modality="appeal")], report=False),
        _enriched("offer", [_mention("offer", modality="offer")], report=False),
        _enriched("policy", [_mention("policy", modality="policy")], report=False),
        _enriched("abroad", [_mention("abroad", country="Philippines")], country="Philippines"),
        _enriched("copy1", dup="good1"),
    ]
    _store(db, *arts)
    settings = _settings(receiver)
    ids, stats = _raise(db, settings, *arts)
    assert sorted(ids) == sorted(alert_id_for("defection-reports", a) for a in ("good1", "good2"))
    assert sorted(b["article_id"] for b in receiver.bodies()) == ["good1", "good2"]
    assert stats == {"attempts": 2, "delivered": 2, "failed": 0, "disabled": 0, "pending": 0}
    assert {r[2] for r in _rows(db)} == {"delivered"}

    again, stats = _raise(db, settings, *arts)  # a retried bundle or a restarted job
    assert again == [] and stats["attempts"] == 0 and len(receiver.requests) == 2


def test_original_whose_copy_already_alerted_stays_quiet(receiver, db):
    settings = _settings(receiver)
    signature = bytes(range(256)) * 2
    # The copy was stored (and alerted) first, then an earlier original arrived and took over the cluster.
    copy = _enriched("wire-copy", minhash=signature)
    _store(db, copy)
    assert _raise(db, settings, copy)[0] == [alert_id_for("defection-reports", "wire-copy")]
    DuckDBStore(db).write([SinkRecord(relink=Relink("wire-copy", "first-print", "near"))])
    original = _enriched("first-print", minhash=bytes(512))
    _store(db, original)
    assert _raise(db, settings, original)[0] == []
    # Same story while the relink has not been written yet: the MinHash match blocks it.
    twin = _enriched("second-print", minhash=signature[:-8] + bytes(8))
    _store(db, twin)
    assert _raise(db, settings, twin)[0] == []
    # A different story with its own signature still alerts.
    other = _enriched("other-story", minhash=bytes([7]) * 512)
    _store(db, other)
    assert len(_raise(db, settings, other)[0]) == 1
    assert [b["article_id"] for b in receiver.bodies()] == ["wire-copy", "other-story"]


def test_receiver_failing_twice_still_gets_the_alert_exactly_once(receiver, db):
    receiver.script["/hook"] = [(503, {"Retry-After": "0"}), (503, {"Retry-After": "1"})]
    e = _enriched("flaky")
    _store(db, e)
    settings = _settings(receiver)
    ids, stats = _raise(db, settings, e)
    assert stats["delivered"] == 1 and stats["attempts"] == 3
    keys = [h["idempotency-key"] for _, h, _ in receiver.requests]
    assert keys == ids * 3  # every attempt carries the same key...
    assert len(receiver.accepted) == 1  # ...and the receiver kept it once
    assert len({body for _, _, body in receiver.requests}) == 1
    (row,) = _rows(db)
    assert row[2:4] == ("delivered", 3) and row[4].startswith("http_5xx")


def test_backoff_schedules_retry_and_horizon_fails(receiver, db):
    receiver.script["/hook"] = [(500, {})] * 5
    e = _enriched("down")
    _store(db, e)
    settings = _settings(receiver, backoff_initial_s=60.0, horizon_s=3600.0)
    enqueue_alerts(DuckDBStore(db), e, settings)
    stats = deliver_pending(db, settings)
    assert stats["pending"] == 1 and stats["attempts"] == 1
    (delay,) = _rows(db, "SELECT epoch(next_attempt_at) - epoch(created_at) FROM alerts")[0]
    assert 29 <= delay <= 61
    assert deliver_pending(db, settings)["attempts"] == 0  # not due yet
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    stats = deliver_pending(db, settings, now=later)
    assert stats == {"attempts": 0, "delivered": 0, "failed": 0, "disabled": 0, "pending": 0}
    (row,) = _rows(db)
    assert row[2] == "failed" and "horizon" in row[4] and "http_5xx" in row[4]
    assert len(receiver.requests) == 1


def test_unreachable_endpoint_is_tried_once_per_pass(db):
    import socket

    with socket.socket() as probe:  # a port nobody listens on: connections are refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arts = [_enriched(f"u{i}") for i in range(3)]
    _store(db, *arts)
    settings = AlertSettings(rules=(AlertRule(channels=(Channel("webhook", f"http://127.0.0.1:{port}/hook"),),
                                              per="article"),),
                             allow_hosts=(f"127.0.0.1:{port}",), backoff_initial_s=30.0)
    for e in arts:
        enqueue_alerts(DuckDBStore(db), e, settings)
    stats = deliver_pending(db, settings)
    assert stats["attempts"] == 1 and stats["pending"] == 3
    rows = _rows(db, "SELECT attempts, status, epoch(next_attempt_at) - epoch(now()) FROM alerts ORDER BY attempts")
    assert [r[:2] for r in rows] == [(0, "pending"), (0, "pending"), (1, "pending")]
    assert all(r[2] > 10 for r in rows)  # all wait for the endpoint's next try
    assert _rows(db, "SELECT last_error FROM alerts WHERE attempts = 1")[0][0].startswith("connection_error")


def test_gone_endpoint_is_disabled_for_later_alerts(receiver, db):
    receiver.script["/hook"] = [(410, {})]
    first, second = _enriched("g1"), _enriched("g2")
    _store(db, first, second)
    settings = _settings(receiver, Channel("webhook", receiver.url("/hook")),
                         Channel("webhook", receiver.url("/other")))
    _raise(db, settings, first)
    _raise(db, settings, second)
    rows = {(r[0], r[1].rsplit("/", 1)[1]): r[2] for r in _rows(db)}
    g1, g2 = alert_id_for("defection-reports", "g1"), alert_id_for("defection-reports", "g2")
    assert rows == {(g1, "hook"): "disabled", (g2, "hook"): "disabled", (g1, "other"): "delivered",
                    (g2, "other"): "delivered"}
    assert [p for p, _, _ in receiver.requests].count("/hook") == 1


def test_signature_verifies_with_the_secret(receiver, db):
    e = _enriched("signed")
    _store(db, e)
    _raise(db, _settings(receiver, secret=SECRET), e)
    (_, headers, body), = receiver.requests
    assert headers["content-type"] == "application/json"
    stamp = headers["x-newswatch-timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-newswatch-signature"], "sha256=" + expected)
    wrong = hmac.new(b"other", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-newswatch-signature"] != "sha256=" + wrong
    assert abs(int(stamp) - datetime.now(timezone.utc).timestamp()) < 60
    assert json.loads(body)["alert_id"] == headers["idempotency-key"]


def test_no_signature_headers_without_a_secret(receiver, db):
    e = _enriched("unsigned")
    _store(db, e)
    _raise(db, _settings(receiver), e)
    (_, headers, _), = receiver.requests
    assert "x-newswatch-signature" not in headers and headers["idempotency-key"]


def test_slack_channel_posts_slack_payload(receiver, db):
    e = _enriched("chat")
    _store(db, e)
    _raise(db, _settings(receiver, Channel("slack", receiver.url("/slack"))), e)
    (message,) = receiver.bodies("/slack")
    assert set(message) == {"text", "blocks"} and "Story chat" in message["text"]


def test_file_channel_appends_each_alert_once(tmp_path, receiver, db):
    path = tmp_path / "out" / "alerts.jsonl"
    a, b = _enriched("file1"), _enriched("file2")
    _store(db, a, b)
    settings = _settings(receiver, Channel("file", str(path)))
    # A line for file2 already there (written before a crash, say), and a torn last line.
    path.parent.mkdir()
    path.write_text(json.dumps({"alert_id": alert_id_for("defection-reports", "file2")}) + "\n{\"alert_")
    _raise(db, settings, a, b)
    with DuckDBStore(db).writer() as con:  # as if the outcome had not been recorded
        con.execute("UPDATE alerts SET status = 'pending', next_attempt_at = now()")
    deliver_pending(db, settings)
    lines = path.read_text().splitlines()
    ids = [json.loads(line)["alert_id"] for line in lines if line.endswith("}")]
    assert sorted(ids) == sorted(alert_id_for("defection-reports", x) for x in ("file1", "file2"))
    assert json.loads(lines[-1])["title"] == "Story file1"


def test_console_channel_prints_one_line(capsys, receiver, db):
    e = _enriched("loud")
    _store(db, e)
    _raise(db, _settings(receiver, Channel("console")), e)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("ALERT [defection-reports] Story loud")


def test_private_webhook_not_allowed_is_refused(receiver, db):
    e = _enriched("private")
    _store(db, e)
    _, stats = _raise(db, _settings(receiver, allow=False), e)
    assert stats["failed"] == 1 and stats["delivered"] == 0
    (row,) = _rows(db)
    assert row[2] == "failed" and row[4].startswith("blocked_address")
    assert receiver.requests == []


# ---------------------------------------------------------------- Beam and CLI


def test_raise_alerts_transform(receiver, db):
    arts = [_enriched("beam1"), _enriched("beam2"), _enriched("beam-dup", dup="beam1"),
            _enriched("beam-appeal", [_mention("beam-appeal", modality="appeal")], report=False)]
    _store(db, *arts)
    settings = _settings(receiver)
    with BeamTestPipeline(runner="DirectRunner") as p:
        ids = p | beam.Create(arts).with_output_types(EnrichedArticle) | "RaiseAlerts" >> RaiseAlerts(db, settings)
        assert_that(ids, equal_to([alert_id_for("defection-reports", a) for a in ("beam1", "beam2")]))
    assert sorted(b["article_id"] for b in receiver.bodies()) == ["beam1", "beam2"]
    assert {r[2] for r in _rows(db)} == {"delivered"}


def test_deliver_due_alerts_on_ticks(receiver, db):
    receiver.script["/hook"] = [(503, {"Retry-After": "0"})]
    e = _enriched("tick")
    _store(db, e)
    settings = _settings(receiver)
    enqueue_alerts(DuckDBStore(db), e, settings)
    assert deliver_pending(db, settings)["pending"] == 1
    (wait,) = _rows(db, "SELECT greatest(epoch(next_attempt_at) - epoch(now()), 0) FROM alerts")[0]
    import time

    time.sleep(wait + 0.05)
    with BeamTestPipeline(runner="DirectRunner") as p:
        out = p | beam.Create([0, 1]) | DeliverDueAlerts(db, settings, every_s=0.0)
        assert_that(out, equal_to([]))
    assert _rows(db)[0][2:4] == ("delivered", 2) and len(receiver.accepted) == 1


def test_alerts_command_lists_and_retries(receiver, db, capsys):
    receiver.script["/hook"] = [(400, {})]
    e = _enriched("cli")
    _store(db, e)
    _raise(db, _settings(receiver), e)
    parser = argparse.ArgumentParser()
    cli_alerts.register_alerts_command(parser.add_subparsers(dest="command"))

    def run(*argv):
        args, rest = parser.parse_known_args(list(argv))
        return args.func(args, rest)

    assert run("alerts", "--db", db, "--format", "json") == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (listed["status"], listed["attempts"], listed["title"]) == ("failed", 1, "Story cli")
    assert listed["channel"] == f"webhook:http://{receiver.host_port}/…"
    assert run("alerts", "--db", db, "--since", "1h") == 0 and "(1 row)" in capsys.readouterr().out
    assert run("alerts", "--db", db, "--since", "2999-01-01") == 0 and "(0 rows)" in capsys.readouterr().out

    assert run("alerts", "retry", "--db", db, "--allow-host", receiver.host_port) == 0
    assert "1 delivered" in capsys.readouterr().out
    assert _rows(db)[0][2:4] == ("delivered", 1)
    assert len(receiver.accepted) == 1 and len(receiver.requests) == 2


def test_parse_since():
    now = datetime(2025, 3, 5, 12, tzinfo=timezone.utc)
    assert cli_alerts.parse_since("24h", now) == now - timedelta(hours=24)
    assert cli_alerts.parse_since("7d", now) == now - timedelta(days=7)
    assert cli_alerts.parse_since("2025-03-01", now) == datetime(2025, 3, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        cli_alerts.parse_since("yesterday", now)


def test_settings_pickle_for_beam():
    import pickle

    s = AlertSettings(rules=(AlertRule(channels=(Channel("console"),)),), secret="s")
    assert pickle.loads(pickle.dumps(s)) == s
