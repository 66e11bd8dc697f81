"""Issue 5's acceptance tests: the streaming job against a live copy of the dev corpus."""

from __future__ import annotations

import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newswatch.demo.server import StaticServer
from newswatch.sinks.duckdb import DuckDBStore
from tests.conftest import SHARED_CORPUS, requires_corpus
from tests.conftest_net_helpers import job_output, start_logged

pytestmark = [requires_corpus, pytest.mark.slow]

CORPUS_HOST = "127.0.0.1:8765"


def _copy_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SHARED_CORPUS / "site", site)
    return site


def _serve(site: Path) -> StaticServer:
    """Serve a copy of the corpus on a free port, with its links rewritten to that port."""
    server = StaticServer(site)
    for path in list(site.rglob("*.xml")) + list(site.rglob("*.html")):
        data = path.read_bytes()
        if CORPUS_HOST.encode() in data:
            path.write_bytes(data.replace(CORPUS_HOST.encode(), server.host_port.encode()))
    return server


def _truncate_feeds(site: Path, keep: int) -> dict[Path, bytes]:
    """Keep the first `keep` items of every feed; return the full feeds."""
    originals = {}
    for feed in (site / "feeds").glob("*.xml"):
        text = feed.read_text("utf-8")
        originals[feed] = feed.read_bytes()
        tag = "entry" if "<entry>" in text else "item"
        blocks = list(re.finditer(rf"<{tag}>.*?</{tag}>", text, re.S))
        if len(blocks) > keep:
            text = text[: blocks[keep].start()] + text[blocks[-1].end():]
        feed.write_text(text, "utf-8")
    return originals


def _start(db: Path, feeds: list[str], host_port: str, *extra: str, wait: bool = True) -> subprocess.Popen:
    """Start `newswatch stream`; with `wait`, return once it has recorded its run (signals are handled)."""
    runs = _read(db, "SELECT count(*) FROM runs")[0][0] if db.exists() else 0
    proc = start_logged(
        [sys.executable, "-m", "newswatch.cli", "stream", "--feeds", *feeds, "--db", str(db),
         "--allow-host", host_port, "--poll-interval", "2", "--host-delay", "0", *extra])
    if wait:
        assert _wait_for(lambda: db.exists() and _read(db, "SELECT count(*) FROM runs")[0][0] > runs, 60)
    return proc


def _query(db: Path, sql: str) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "newswatch.cli", "query", "--db", str(db), "--format", "csv", sql],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, time.monotonic() - started


def _read(db: Path, sql: str, params=()) -> list:
    """A read-only query that, like any analyst's, retries while the job holds the write lock."""
    with DuckDBStore(str(db), lock_timeout_s=15.0).reader() as con:
        return con.execute(sql, list(params)).fetchall()


def _stored_paths(db: Path) -> set[str]:
    return {re.sub(r"^https?://[^/]+", "", u) for (u,) in _read(db, "SELECT url FROM articles")}


def _counts(db: Path) -> tuple:
    return _read(
        db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions), (SELECT count(*) FROM errors)"
    )[0]


def _stop(proc: subprocess.Popen) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return code, time.monotonic() - started


def _wait_for(predicate, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def test_stream_picks_up_new_items_while_readers_query(tmp_path, corpus_gold):
    site = _copy_site(tmp_path)
    gold_paths = {re.sub(r"^https?://[^/]+", "", g["url"]) for g in corpus_gold}
    db = tmp_path / "stream.duckdb"
    with _serve(site) as server:
        originals = _truncate_feeds(site, keep=2)
        feeds = [f"{server.base_url}/feeds/{p.name}" for p in sorted(originals)]
        proc = _start(db, feeds, server.host_port)
        try:
            assert _wait_for(lambda: db.exists() and len(_stored_paths(db)) >= 6, 60), "first polls stored nothing"
            waits = []
            for _ in range(5):
                out, waited = _query(db, "SELECT count(*) AS n FROM article_labels")
                waits.append(waited)
                assert int(out.splitlines()[1]) >= 6
            first = len(_stored_paths(db))
            assert first < len(gold_paths)
            time.sleep(1.1)  # a new mtime second, so If-Modified-Since sees the change
            restored_at = time.time()
            for feed, data in originals.items():
                feed.write_bytes(data.replace(b"127.0.0.1:8765", server.host_port.encode()))
            assert _wait_for(lambda: gold_paths <= _stored_paths(db), 30), "not every gold article within 30 s"
            assert _stored_paths(db) == gold_paths
            latencies = [r[0] for r in _read(
                db, "SELECT epoch(stored_at) - ? FROM articles WHERE epoch(stored_at) > ?", [restored_at, restored_at]
            )]
            print(f"\nfeed change -> committed row: median {sorted(latencies)[len(latencies) // 2]:.2f} s, "
                  f"worst {max(latencies):.2f} s over {len(latencies)} articles; "
                  f"longest `newswatch query` {max(waits):.2f} s")
        finally:
            code, took = _stop(proc)
        output = job_output(proc)
        assert code == 0, output
        assert took < 10, f"SIGTERM took {took:.1f} s"
        # Issue 15: incidents built arrival by arrival (in two waves) equal one batch resolution of the same reports.
        from newswatch.sinks.duckdb import read_incident_window
        from newswatch.transforms.incidents.core import resolve

        batch = {m.article_id: i.incident_id for i in resolve(read_incident_window(str(db))[0])
                 for m in i.members if m.main}
        assert dict(_read(db, "SELECT article_id, incident_id FROM article_labels WHERE incident_id IS NOT NULL"
                          )) == batch and len(set(batch.values())) == 26

        before = _counts(db)
        polls_before = _read(db, "SELECT count(*) FROM feed_polls")[0][0]
        proc = _start(db, feeds, server.host_port)
        try:
            def polled_twice():
                return _read(db, "SELECT count(*) FROM feed_polls")[0][0] >= polls_before + 2 * len(feeds)
            assert _wait_for(polled_twice, 40)
        finally:
            code, _ = _stop(proc)
        assert code == 0
        assert _counts(db) == before


def test_kill_9_at_random_points_loses_and_duplicates_nothing(tmp_path, corpus_gold):
    site = _copy_site(tmp_path)
    gold_paths = {re.sub(r"^https?://[^/]+", "", g["url"]) for g in corpus_gold}
    db = tmp_path / "killed.duckdb"
    rng = random.Random(20261121)
    with _serve(site) as server:
        feeds = [f"{server.base_url}/feeds/{p.name}" for p in sorted((site / "feeds").glob("*.xml"))]
        for _ in range(4):
            proc = _start(db, feeds, server.host_port, wait=False)
            time.sleep(rng.uniform(2.0, 6.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if db.exists():
                _read(db, "SELECT count(*) FROM articles")  # opens cleanly after every kill
        proc = _start(db, feeds, server.host_port)
        try:
            assert _wait_for(lambda: db.exists() and gold_paths <= _stored_paths(db), 60)
        finally:
            code, _ = _stop(proc)
        assert code == 0
    assert _stored_paths(db) == gold_paths
    dupes = _read(db, "SELECT count(*) - count(DISTINCT url) FROM articles")[0][0]
    orphan_mentions = _read(
        db, "SELECT count(*) FROM mentions WHERE article_id NOT IN (SELECT article_id FROM articles)")[0][0]
    assert dupes == 0 and orphan_mentions == 0
