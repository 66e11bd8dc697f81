import duckdb
import pytest

from newswatch.records import (
    Article, ArticleLabels, EnrichedArticle, ErrorRecord, FeedPoll, Mention, Relink, SinkRecord,
)
from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore
from newswatch.sinks.schema import LATEST_VERSION, MIGRATIONS, TABLES, migrate


def _article(aid, url, dup=None):
    return Article(aid, url, "http://f.example/rss", "Outlet", "T " + aid, None, "2024-03-05T09:30:00+00:00",
                   "page", "2024-03-05T10:00:00+00:00", "2024-03-05T09:59:00+00:00", "en",
                   "Some text about " + aid, "hash" + aid, dup, "near" if dup else None, b"\x01\x02")


def _enriched(aid, url, n_mentions=1, dup=None):
    mentions = [
        Mention(f"{aid}-{i}", aid, "defection", "report", 12, "exact", 3, ["captain"], ["LIB 1"], ["KIA"],
                ["Bhamo"], "Myanmar", "KIA", "A captain and 11 soldiers defected.", 0, 35, "test-1")
        for i in range(n_mentions)
    ]
    labels = ArticleLabels(True, False, True, 12, 3, ["KIA"], ["Bhamo"], "Myanmar")
    return SinkRecord(enriched=EnrichedArticle(_article(aid, url, dup), mentions, labels))


def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = str(tmp_path / "m.duckdb")
    con = duckdb.connect(path)
    assert migrate(con) == [m.version for m in MIGRATIONS]
    assert migrate(con) == []
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == LATEST_VERSION
    con.close()


def test_newer_schema_is_refused(tmp_path):
    path = str(tmp_path / "m.duckdb")
    con = duckdb.connect(path)
    migrate(con)
    con.execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    with pytest.raises(RuntimeError, match="newer"):
        migrate(con)
    con.close()


def test_write_is_idempotent_and_labels_view_resolves_duplicates(tmp_path):
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    batch = [
        _enriched("a1", "http://x.example/1", n_mentions=2),
        _enriched("a2", "http://y.example/2", dup="a1"),
        SinkRecord(error=ErrorRecord("fetch", "http://x.example/404", "http://f.example/rss", "http_404",
                                     "not found", "2024-03-05T10:00:00+00:00")),
        SinkRecord(poll=FeedPoll("http://f.example/rss", "2024-03-05T10:00:00+00:00", "ok", 200, '"e1"', None,
                                 2, False, None, None, "Feed", None)),
    ]
    stats = store.write(batch)
    assert sorted(stats.new_article_ids) == ["a1", "a2"] and stats.mentions == 3
    again = store.write(batch)
    assert again.new_article_ids == [] and again.mentions == 0
    with store.reader() as con:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM errors), (SELECT count FROM errors), (SELECT count(*) FROM feeds)"
        ).fetchone()
        assert counts == (2, 3, 1, 2, 1)
        rows = con.execute(
            "SELECT url, defection_report, defectors, orgs, duplicate_of_url FROM article_labels ORDER BY url"
        ).fetchall()
    assert rows == [
        ("http://x.example/1", True, 12, ["KIA"], None),
        ("http://y.example/2", True, 12, ["KIA"], "http://x.example/1"),
    ]


def test_relink_and_feed_state(tmp_path):
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    store.write([_enriched("a1", "http://x.example/1"), _enriched("a2", "http://x.example/2")])
    store.write([SinkRecord(relink=Relink("a1", "a2", "near"))])
    fail = FeedPoll("http://f.example/rss", "2024-03-05T10:00:00+00:00", "error", 503, None, None, 0, False,
                    "http_5xx", "Service Unavailable", None, 30.0)
    store.write([SinkRecord(poll=fail)])
    store.write([SinkRecord(poll=fail._replace(polled_at="2024-03-05T10:01:00+00:00"))])
    with store.reader() as con:
        assert con.execute("SELECT duplicate_of FROM articles WHERE article_id='a1'").fetchone()[0] == "a2"
        assert con.execute("SELECT consecutive_errors, last_error_code FROM feeds").fetchone() == (2, "http_5xx")
    assert sorted(store.stored_ids()) == ["a1", "a2"]
    assert {entry.article_id for entry in store.prior_entries()} == {"a1", "a2"}


def test_resume_feeds_lifts_suspension_and_records_when(tmp_path):
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    gone = FeedPoll("http://f.example/gone", "2024-03-05T10:00:00+00:00", "error", 410, None, None, 0, False,
                    "http_410", "Gone", None, None, None, "gone: the server answered 410")
    flaky = gone._replace(feed_url="http://f.example/flaky", suspended_reason="10 consecutive failures, last timeout")
    fine = gone._replace(feed_url="http://f.example/fine", status="ok", http_status=200, error_code=None,
                         suspended_reason=None, next_poll_at="2024-03-05T10:01:00+00:00")
    store.write([SinkRecord(poll=p) for p in (gone, flaky, fine)])
    gone_state = store.feed_schedules()["http://f.example/gone"]
    assert gone_state.suspended_at == 1709632800.0 and gone_state.suspended.startswith("gone")

    assert store.resume_feeds(["http://f.example/gone", "http://f.example/fine", "http://nowhere/"]) == [
        ("http://f.example/gone", "gone: the server answered 410")]
    resumed = store.feed_schedules()["http://f.example/gone"]
    assert (resumed.next_poll, resumed.errors, resumed.suspended, resumed.suspended_at) == (0.0, 0, None, 0.0)
    assert resumed.resumed_at > gone_state.suspended_at
    assert store.feed_schedules()["http://f.example/flaky"].suspended.startswith("10 consecutive")
    fine_state = store.feed_schedules()["http://f.example/fine"]  # untouched
    assert (fine_state.errors, fine_state.suspended, fine_state.suspended_at, fine_state.resumed_at) == (0, None, 0.0, 0.0)
    assert store.resume_feeds() == [("http://f.example/flaky", "10 consecutive failures, last timeout")]
    assert store.resume_feeds() == []


def test_second_writer_fails_fast_with_a_clear_message(tmp_path):
    import subprocess
    import sys
    import time

    path = str(tmp_path / "locked.duckdb")
    DuckDBStore(path).init()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({path!r}); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(DatabaseLocked, match="locked by another process.*read-only"):
            DuckDBStore(path, lock_timeout_s=1.0).write([_enriched("a1", "http://x.example/1")])
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert DuckDBStore(path).stored_ids() == []


def test_the_migrations_build_exactly_the_column_definition(tmp_path):
    """sinks/schema.py's TABLES (what the inserts, the Parquet files and views are made from) is what the
    migrations, which are never edited, leave in a file: same columns, order and types."""
    con = duckdb.connect(str(tmp_path / "n.duckdb"))
    migrate(con)
    for table, columns in TABLES.items():
        built = con.execute(
            "SELECT column_name, replace(data_type, 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ') FROM duckdb_columns()"
            " WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
        assert built == [tuple(c) for c in columns], table
