"""The outbox's statements (sinks/outbox_store.py) on a fresh DuckDB file, without the alert logic above them."""

from __future__ import annotations

import duckdb
import pytest

from newswatch.sinks import outbox_store as ob
from newswatch.sinks.duckdb import DuckDBStore

T0 = 1_800_000_000.0  # a fixed clock: 2027-01-15


@pytest.fixture
def store(tmp_path):
    s = DuckDBStore(str(tmp_path / "outbox.duckdb"))
    s.init()
    return s


def _rows(store):
    with store.reader() as con:
        return con.execute("SELECT alert_id, channel, status, attempts, last_error, epoch(next_attempt_at),"
                           " delivered_at IS NOT NULL FROM alerts ORDER BY alert_id, channel").fetchall()


def _add(store, alert_id, channel, created=T0, rule="r"):
    with store.transaction() as con:
        ob.insert_alerts(con, [ob.OutboxRow(alert_id, channel, rule, "art-" + alert_id, "{}", created, created + 100)])


def test_an_alert_is_inserted_once_per_channel_and_is_due_when_created(store):
    for _ in range(2):  # a retried bundle writes the same rows again
        _add(store, "a1", "console")
        _add(store, "a1", "file:/tmp/x.jsonl")
    _add(store, "a0", "console", created=T0 + 5)
    assert [r[:4] for r in _rows(store)] == [("a0", "console", "pending", 0), ("a1", "console", "pending", 0),
                                             ("a1", "file:/tmp/x.jsonl", "pending", 0)]
    with store.transaction() as con:
        assert ob.due_alerts(con, T0 - 1, 10) == []
        due = ob.due_alerts(con, T0 + 5, 10)
        assert [(d.alert_id, d.channel) for d in due] == [("a1", "console"), ("a1", "file:/tmp/x.jsonl"),
                                                           ("a0", "console")]  # oldest first
        assert due[0].expires_at == T0 + 100
        assert ob.due_alerts(con, T0 + 5, 1) == due[:1]
        assert ob.pending_state(con) == (T0, 3)


def test_attempts_leases_and_the_horizon(store):
    _add(store, "a1", "console")
    _add(store, "a2", "console")
    with store.transaction() as con:
        first, second = ob.due_alerts(con, T0, 10)
        ob.record_attempt(con, first, "delivered", 1, None, None, T0 + 1)
        ob.record_attempt(con, second, "pending", 1, "http_5xx: HTTP 503", T0 + 30, T0 + 1)
        ob.reschedule(con, [(first, T0 + 60), (second, T0 + 50)])  # the delivered row is left alone
        assert ob.pending_state(con) == (T0 + 50, 1)
        ob.fail_expired(con, T0 + 99)  # not yet at the horizon
        assert ob.pending_state(con) == (T0 + 50, 1)
        ob.fail_expired(con, T0 + 100)
    assert _rows(store) == [
        ("a1", "console", "delivered", 1, None, None, True),
        ("a2", "console", "failed", 1, "gave up at the horizon; last error: http_5xx: HTTP 503", None, False),
    ]


def test_a_gone_endpoint_disables_its_pending_rows_now_and_later(store):
    _add(store, "a1", "webhook:https://h.example/x")
    _add(store, "a2", "webhook:https://h.example/x")
    _add(store, "a3", "console")
    with store.transaction() as con:
        gone = ob.due_alerts(con, T0, 10)[0]
        ob.record_attempt(con, gone, "disabled", 1, "http_410: HTTP 410", None, T0)
        ob.disable_endpoint(con, gone.channel, T0, "http_410: HTTP 410")
        ob.disable_endpoint(con, gone.channel, T0 + 1, "another reason")  # the first reason stays
        reasons = con.execute("SELECT channel, reason FROM alert_endpoints").fetchall()
    assert reasons == [("webhook:https://h.example/x", "http_410: HTTP 410")]
    assert [r[2] for r in _rows(store)] == ["disabled", "disabled", "pending"]
    _add(store, "a4", "webhook:https://h.example/x")
    with store.transaction() as con:
        ob.disable_pending_of_gone_endpoints(con)
    assert [(r[0], r[2], r[4]) for r in _rows(store)][3] == ("a4", "disabled", "endpoint disabled after 410 Gone")
    with store.transaction() as con:
        ob.enable_all_endpoints(con)
        assert ob.reopen(con, ["failed", "disabled"], T0 + 10, T0 + 500) == 3
    assert [r[2:4] for r in _rows(store)] == [("pending", 0)] * 4
    with store.transaction() as con:
        assert con.execute("SELECT count(*) FROM alert_endpoints").fetchone()[0] == 0
        horizons = {d.alert_id: d.expires_at for d in ob.due_alerts(con, T0 + 10, 10)}
    assert horizons == {"a1": T0 + 500, "a2": T0 + 500, "a3": T0 + 100, "a4": T0 + 500}  # a3 was not reopened


def test_story_lookups(store):
    _add(store, "a1", "console", rule="r")
    _add(store, "a2", "console", rule="other")
    with store.transaction() as con:
        assert ob.count_story_alerts(con, "r", "art-a1", "art-a1") == 1
        assert ob.count_story_alerts(con, "r", "art-zz", "art-a1") == 1  # through the original's id
        assert ob.count_story_alerts(con, "r", "art-a2", "art-a2") == 0  # another rule's alert
        assert ob.first_alerted(con, "r", ["art-b", "art-a1"]) == "art-a1"
        assert ob.first_alerted(con, "r", ["art-a2"]) is None
        assert ob.first_alerted(con, "r", []) is None
        assert ob.alerted_signatures(con, "r", T0 - 1) == []  # no stored article carries a MinHash


def test_the_listing_has_display_columns_and_needs_no_outbox(store, tmp_path):
    _add(store, "a1", "console", created=T0)
    _add(store, "a2", "console", created=T0 + 3600)
    with store.reader() as con:
        names, rows = ob.outbox_rows(con)
        assert names[:4] == ["alert_id", "created_at", "rule", "channel"] and names[-1] == "payload"
        assert [(r[0], r[1]) for r in rows] == [("a1", "2027-01-15T08:00:00Z"), ("a2", "2027-01-15T09:00:00Z")]
        assert [r[0] for r in ob.outbox_rows(con, T0 + 1)[1]] == ["a2"]
    bare = str(tmp_path / "bare.duckdb")
    duckdb.connect(bare).close()
    with duckdb.connect(bare, read_only=True) as con:
        assert ob.outbox_rows(con) == ([], [])
