"""Issue 18: analysts hold read-only sessions on the --db file while the job writes.

A real second process holds `duckdb.connect(db, read_only=True)` for the
whole run (through a kill -9 of the job and its restart) and queries through
that held connection and through fresh ones; the job must exit 0, store every
article once, lose no committed row, and the held connection must see new
rows without reconnecting.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from newswatch.demo.server import StaticServer
from newswatch.sinks.duckdb import DuckDBStore
from newswatch.sinks.publish import Publisher, store_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
WORDS = ("township village battalion officers residents district checkpoint river market monastery "
         "council clinic harvest road bridge monsoon ferry school teachers farmers traders convoy "
         "curfew shelter families rations fuel prices border crossing station patrol volunteers").split()


def _article_html(feed: int, item: int) -> str:
    rng = random.Random(feed * 1000 + item)
    sentences = [
        f"Story {feed}-{item}: " + " ".join(rng.choice(WORDS) for _ in range(14)) + f" number {rng.randint(1, 10**6)}."
        for _ in range(12)
    ]
    body = "".join(f"<p>{s}</p>" for s in sentences)
    return (f"<html><head><title>Report {feed}-{item}</title></head><body><article>"
            f"<h1>Report {feed}-{item} from district {feed}</h1>{body}</article></body></html>")


def _write_feed(site: Path, feed: int, items: int) -> None:
    entries = "".join(
        f"<item><title>Report {feed}-{i}</title><link>__BASE__/a/{feed}-{i}.html</link>"
        f"<guid>r-{feed}-{i}</guid><pubDate>Mon, 0{1 + i % 9} Dec 2026 0{i % 10}:00:00 GMT</pubDate></item>"
        for i in range(items)
    )
    for i in range(items):
        page = site / "a" / f"{feed}-{i}.html"
        if not page.exists():
            page.write_text(_article_html(feed, i))
    tmp = site / "feeds" / f".{feed}.xml"
    tmp.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                   f"<link>__BASE__/</link>{entries}</channel></rss>")
    os.replace(tmp, site / "feeds" / f"{feed}.xml")


@pytest.fixture
def site(tmp_path):
    """Thirty generated feeds of two articles each, served on an ephemeral loopback port."""
    root = tmp_path / "site"
    (root / "a").mkdir(parents=True)
    (root / "feeds").mkdir()
    for feed in range(30):
        _write_feed(root, feed, 2)
    with StaticServer(root, base_placeholder="__BASE__") as server:
        feeds = [f"{server.base_url}/feeds/{f}.xml" for f in range(30)]
        yield root, server, feeds


# The analyst: one connection held for the whole test, plus a fresh one per query.
READER = r"""
import duckdb, json, os, sys, time
db = sys.argv[1]
while not os.path.exists(db):
    time.sleep(0.2)
held = duckdb.connect(db, read_only=True)
print(json.dumps({"ready": True}), flush=True)
sql = "SELECT count(*), count(DISTINCT article_id), (SELECT count(*) FROM article_labels) FROM articles"
while not os.path.exists(db + ".stop-reader"):
    row = {"t": time.time()}
    try:
        row["held"] = held.execute(sql).fetchone()
        row["stored"] = held.execute("SELECT article_id, epoch(stored_at) FROM articles").fetchall()
        fresh = duckdb.connect(db, read_only=True)
        row["fresh"] = fresh.execute(sql).fetchone()
        fresh.close()
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(row), flush=True)
    time.sleep(0.5)
held.close()
"""


class Analyst:
    """A second process holding a read-only connection on the analyst file."""

    def __init__(self, db: Path):
        self.db = db
        self.proc = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdout=subprocess.PIPE, text=True)
        self.rows: list[dict] = []

    def wait_ready(self) -> None:
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def wait_for(self, articles: int, timeout: float) -> float:
        """Seconds until the held connection sees at least `articles` rows."""
        started = time.time()
        while time.time() - started < timeout:
            row = json.loads(self.proc.stdout.readline())
            self.rows.append(row)
            if row.get("held", [0])[0] >= articles:
                return time.time() - started
        raise AssertionError(f"held connection saw {self.rows[-1]} after {timeout} s, wanted {articles}")

    def stop(self) -> list[dict]:
        Path(str(self.db) + ".stop-reader").touch()
        out, _ = self.proc.communicate(timeout=30)
        self.rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return self.rows


def _cli(*args: str) -> subprocess.Popen:
    """newswatch in a subprocess, its output in a temporary file (a pipe nobody reads could fill and stall it)."""
    import tempfile

    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-m", "newswatch.cli", *args], stdout=log, stderr=subprocess.STDOUT,
                            text=True, cwd=REPO)
    proc.log = log
    return proc


def _output(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()


def _stop(job: subprocess.Popen) -> str:
    """SIGTERM, then the job's output; a job that does not stop in 60 s fails the test with its output."""
    job.send_signal(signal.SIGTERM)
    try:
        job.wait(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        job.wait()
        pytest.fail("the job did not stop within 60 s:\n" + _output(job)[-4000:])
    return _output(job)


def _stream(db: Path, server, feeds) -> subprocess.Popen:
    return _cli("stream", "--feeds", *feeds, "--db", str(db), "--allow-host", server.host_port,
                "--poll-interval", "2", "--host-delay", "0", "--publish-interval", "5")


def _counts(path: Path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone()
    finally:
        con.close()


def _no_errors(rows: list[dict]) -> None:
    errors = [r["error"] for r in rows if "error" in r]
    assert not errors, errors[:3]
    assert all(r["held"][0] == r["held"][1] == r["held"][2] for r in rows if "held" in r)


def test_stream_with_a_held_reader_through_kill_9_stores_everything_once_and_the_reader_sees_it(tmp_path, site):
    """One held session through a kill -9 of the job, its restart, and new articles."""
    root, server, feeds = site
    db = tmp_path / "news.duckdb"
    job = _stream(db, server, feeds)
    analyst = Analyst(db)
    try:
        analyst.wait_ready()
        analyst.wait_for(20, timeout=120)
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
        # kill -9 with a reader connected loses no committed row.
        committed = _counts(Path(store_path(str(db))))
        assert committed[0] == committed[1] >= 20
        from newswatch.cli import main

        assert main(["publish", "--db", str(db)]) == 0  # what the next start does first
        assert _counts(db) == committed
        # The restarted job completes the set; the reader keeps the connection it had.
        job = _stream(db, server, feeds)
        analyst.wait_for(60, timeout=120)
        # New articles while the reader keeps its connection: visible without reconnecting, within 60 s.
        for feed in range(30):
            _write_feed(root, feed, 3)
        lag = analyst.wait_for(90, timeout=60)
        print(f"\nheld connection saw 30 new articles {lag:.1f} s after they were published in the feeds")
        out = _stop(job)
    finally:
        if job.poll() is None:
            job.kill()
        rows = analyst.stop()
    assert job.returncode == 0, out[-2000:]
    assert "locked" not in out
    _no_errors(rows)
    # Commit (stored_at) to first sight through the held connection, per article.
    first_seen = {}
    for row in rows:
        for article_id, stored_at in row.get("stored", []):
            first_seen.setdefault(article_id, row["t"] - stored_at)
    lags = sorted(first_seen.values())
    p95 = lags[int(0.95 * (len(lags) - 1))]
    print(f"commit -> visible in the held session: median {lags[len(lags) // 2]:.1f} s, p95 {p95:.1f} s, "
          f"max {lags[-1]:.1f} s over {len(lags)} articles")
    assert len(lags) == 90 and p95 < 60
    assert rows[-1]["held"][0] == rows[-1]["fresh"][0] == 90
    assert _counts(db) == (90, 90)
    assert _counts(Path(store_path(str(db)))) == (90, 90)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'stopped'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM feeds").fetchone()[0] == 30
    con.close()


def test_batch_runs_with_a_held_reader_exit_0_and_a_rerun_adds_nothing(tmp_path, site):
    _root, server, feeds = site
    db = tmp_path / "news.duckdb"
    analyst = Analyst(db)
    try:
        for _ in range(2):
            done = _cli("run", "--feeds", *feeds, "--db", str(db), "--allow-host", server.host_port,
                        "--host-delay", "0")
            done.wait(timeout=300)
            assert done.returncode == 0, _output(done)[-2000:]
            if not analyst.rows:
                analyst.wait_ready()
            analyst.wait_for(60, timeout=30)
    finally:
        rows = analyst.stop()
    _no_errors(rows)
    assert _counts(db) == (60, 60)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'ok'").fetchone()[0] == 2
    con.close()


HOLD_STORE = r"""
import duckdb, sys, time
while True:  # the job holds the store for a moment per write: take it between two
    try:
        con = duckdb.connect(sys.argv[1])  # read-write: the mistake this test forgives
        break
    except duckdb.IOException:
        time.sleep(0.05)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_read_write_client_on_the_private_store_stalls_the_job_but_does_not_kill_it(tmp_path, site):
    root, server, feeds = site
    db = tmp_path / "news.duckdb"
    job = _stream(db, server, feeds)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and (not db.exists() or _counts(db)[0] < 60):
            time.sleep(1)
        assert _counts(db)[0] == 60
        holder = subprocess.Popen([sys.executable, "-c", HOLD_STORE, store_path(str(db)), "15"],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "holding"
        for feed in range(30):  # arrives while the store is held
            _write_feed(root, feed, 3)
        holder.wait(timeout=60)
        deadline = time.time() + 90
        while time.time() < deadline and _counts(db)[0] < 90:
            time.sleep(1)
        out = _stop(job)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 0, out[-3000:]
    assert "unavailable" in out  # said so, once a minute at most
    assert _counts(db) == (90, 90)


def _add_articles(store: DuckDBStore, ids, duplicate_of=None) -> None:
    with store.transaction() as con:
        con.executemany(
            "INSERT INTO articles (article_id, url, stored_at, text, content_hash, duplicate_of) "
            "VALUES (?, ?, now(), 'text', ?, ?)", [[i, f"https://x.example/{i}", i, duplicate_of] for i in ids])


def test_publication_is_keyed_follows_relinks_and_picks_up_new_tables(tmp_path):
    db = str(tmp_path / "news.duckdb")
    store = DuckDBStore(store_path(db))
    store.init()
    publisher = Publisher(db)
    _add_articles(store, ["a1", "a2"])
    publisher.publish_once()
    held = duckdb.connect(db, read_only=True)
    assert held.execute("SELECT count(*) FROM articles").fetchone() == (2,)
    _add_articles(store, ["a3"], duplicate_of="a1")
    with store.transaction() as con:  # a relink, as dedup sends when an original arrives late
        con.execute("UPDATE articles SET duplicate_of = 'a1', duplicate_kind = 'near' WHERE article_id = 'a2'")
        con.execute("INSERT INTO errors VALUES ('fetch', 'u', NULL, 'timeout', 'm', now(), now(), 1)")
    stats = publisher.publish_once()
    assert stats.rows["articles"] == 1
    # The held connection sees the new row, the relink and the new error row without reconnecting.
    assert held.execute("SELECT article_id, duplicate_of FROM articles ORDER BY 1").fetchall() == [
        ("a1", None), ("a2", "a1"), ("a3", "a1")]
    assert held.execute("SELECT count(*) FROM article_labels WHERE duplicate_of_url IS NOT NULL").fetchone() == (2,)
    assert held.execute("SELECT count FROM errors").fetchall() == [(1,)]
    with store.transaction() as con:  # an upsert bumps the count: the snapshot is replaced, not appended
        con.execute("UPDATE errors SET count = count + 1")
    # A rerun, and a second publisher (a restart), export nothing twice.
    assert publisher.publish_once().rows["articles"] == 0
    assert Publisher(db).publish_once().rows["articles"] == 0
    assert held.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (3, 3)
    assert held.execute("SELECT count FROM errors").fetchall() == [(2,)]
    held.close()
    # A table someone adds to the schema later is published with no code change.
    with store.transaction() as con:
        con.execute("CREATE TABLE watchlist (entry_id VARCHAR PRIMARY KEY, title VARCHAR)")
        con.execute("INSERT INTO watchlist VALUES ('w1', 'first')")
    publisher.publish_once()
    fresh = duckdb.connect(db, read_only=True)
    assert fresh.execute("SELECT * FROM watchlist").fetchall() == [("w1", "first")]
    assert {r[0] for r in fresh.execute("SELECT table_name FROM information_schema.tables").fetchall()} >= {
        "articles", "mentions", "errors", "feeds", "feed_polls", "runs", "alerts", "article_labels",
        "poll_freshness", "incidents", "incident_timeline", "watchlist"}
    fresh.close()


def test_compaction_keeps_every_row_once(tmp_path, monkeypatch):
    from newswatch.sinks import publish

    monkeypatch.setattr(publish, "MAX_SEGMENTS", 4)
    db = str(tmp_path / "news.duckdb")
    store = DuckDBStore(store_path(db))
    store.init()
    publisher = Publisher(db)
    compacted = []
    for i in range(12):
        _add_articles(store, [f"a{i}"])
        compacted += publisher.publish_once().compacted
    assert "articles" in compacted
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (12, 12)
    con.close()
    assert len(os.listdir(os.path.join(publish.parquet_root(db), "articles", "current"))) <= 6


def test_a_file_from_an_older_newswatch_becomes_the_private_store(tmp_path):
    db = tmp_path / "news.duckdb"
    legacy = DuckDBStore(str(db))
    legacy.init()
    _add_articles(legacy, ["a1"])
    Publisher(str(db)).start().stop()  # what `newswatch run --db` does before its pipeline
    assert _counts(db) == (1, 1) and _counts(Path(store_path(str(db)))) == (1, 1)


def test_write_patiently_waits_out_a_locked_store_and_stores_once(tmp_path, caplog):
    from tests.test_crash_safety import _article

    path = tmp_path / "store.duckdb"
    store = DuckDBStore(str(path), lock_timeout_s=0.3)
    store.init()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_STORE, str(path), "3"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    started = time.monotonic()
    with caplog.at_level("INFO", logger="newswatch.sinks.duckdb"):
        stats = store.write_patiently([_article(i, f"held story {i} " * 40) for i in range(3)])
        assert store.write_patiently([_article(i, f"held story {i} " * 40) for i in range(3)]).new_article_ids == []
    holder.wait(timeout=30)
    assert len(stats.new_article_ids) == 3 and time.monotonic() - started >= 2.0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1, messages  # one line a minute, not one per try
    assert any("available again" in m for m in messages)
    assert _counts(path) == (3, 3)
