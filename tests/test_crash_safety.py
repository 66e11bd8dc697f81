"""Crash safety of the DuckDB file: a full disk and a second writer.

(kill -9 under a 50-feed streaming load is checked in tests/test_stream_load.py, on the same load
as the rows-while-running test.)

The full disk is real when the test may mount a size-limited tmpfs (root on
Linux); elsewhere the write failure is injected into the sink instead. Either
way the failed batch must leave nothing behind, the error must say what
happened, and the file must reopen with every row committed before.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from newswatch.records import Article, ArticleLabels, EnrichedArticle, ErrorRecord, SinkRecord
from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore
from newswatch.sinks.publish import store_path

REPO = Path(__file__).resolve().parent.parent
SMALL_FS_BYTES = 8 * 1024 * 1024


def _article(i: int, text: str) -> SinkRecord:
    article = Article(
        article_id=f"crash{i:06d}", url=f"http://news.example/{i}", feed_url="http://news.example/feed.xml",
        source="news.example", title=f"Story {i}", author=None, published_at=None, date_origin=None,
        fetched_at="2024-01-01T00:00:00+00:00", seen_at="2024-01-01T00:00:00+00:00", language="en",
        text=text, content_hash=f"hash{i}", duplicate_of=None, duplicate_kind=None, minhash=None,
    )
    labels = ArticleLabels(False, False, False, None, None, [], [], None)
    return SinkRecord(enriched=EnrichedArticle(article, [], labels))


def _error(i: int) -> SinkRecord:
    return SinkRecord(error=ErrorRecord("fetch", f"http://news.example/e{i}", None, "http_404", "HTTP 404",
                                        "2024-01-01T00:00:00+00:00"))


def _counts(path: Path) -> tuple[int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (con.execute("SELECT count(*) FROM articles").fetchone()[0],
                con.execute("SELECT count(*) FROM errors").fetchone()[0])
    finally:
        con.close()


@contextlib.contextmanager
def _mounted_small_fs(parent: Path):
    """A directory on an 8 MiB tmpfs, or None when mounting is not permitted."""
    mount_point = parent / "small"
    mount_point.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_FS_BYTES}", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.fixture
def small_fs(tmp_path):
    with _mounted_small_fs(tmp_path) as mount_point:
        yield mount_point


def _fill(directory: Path, leave: int) -> Path:
    """Take all free space of the file system but `leave` bytes."""
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    filler = directory / "filler"
    with open(filler, "wb") as fh:
        fh.write(bytes(max(free - leave, 0)))
    return filler


def test_full_disk_keeps_committed_rows(small_fs, tmp_path, monkeypatch):
    directory = small_fs or tmp_path
    db = directory / "news.duckdb"
    store = DuckDBStore(str(db))
    store.init()
    store.write([_article(i, f"committed story {i} " * 50) for i in range(20)] + [_error(1)])
    assert _counts(db) == (20, 1)

    big_batch = [_article(1000 + i, os.urandom(100_000).hex()) for i in range(50)] + [_error(2)]  # ~10 MB
    if small_fs is not None:
        filler = _fill(directory, leave=256 * 1024)
    else:
        import newswatch.sinks.duckdb as sink

        def no_space(con, enriched):
            raise duckdb.IOException("Could not write file: No space left on device (simulated)")

        monkeypatch.setattr(sink, "_insert_articles", no_space)
    with pytest.raises(duckdb.Error) as failure:
        store.write(big_batch)
    print(f"\nwrite on a full disk ({'tmpfs' if small_fs else 'simulated'}) raised "
          f"{type(failure.value).__name__}: {failure.value}; cause: {failure.value.__context__!r}")
    if small_fs is not None:
        filler.unlink()
    monkeypatch.undo()
    # The file reopens with every committed row and nothing of the failed batch.
    assert _counts(db) == (20, 1)
    # And it still takes writes once there is room again.
    store = DuckDBStore(str(db))
    store.write([_article(2000, "after the disk was freed " * 20)])
    assert _counts(db) == (21, 1)


def test_full_disk_error_names_the_disk(small_fs):
    if small_fs is None:
        pytest.skip("needs a real full file system (tmpfs mount not permitted here)")
    db = small_fs / "news.duckdb"
    store = DuckDBStore(str(db))
    store.init()
    _fill(small_fs, leave=256 * 1024)
    with pytest.raises(duckdb.Error, match="(?i)no space left"):
        store.write([_article(i, os.urandom(100_000).hex()) for i in range(50)])


def _hold_open(path: Path) -> subprocess.Popen:
    """Another process holding the file read-write, as a DuckDB shell or notebook would."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


@pytest.fixture
def locked_db(tmp_path):
    db = tmp_path / "locked.duckdb"
    DuckDBStore(str(db)).init()
    holder = _hold_open(db)
    yield db
    holder.stdin.close()
    holder.wait(timeout=10)


def test_second_writer_gets_database_locked_in_time(locked_db):
    started = time.monotonic()
    with pytest.raises(DatabaseLocked) as failure:
        DuckDBStore(str(locked_db), lock_timeout_s=1.0).init()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 1.0
    message = str(failure.value)
    assert "locked by another process" in message and "read-only" in message


def _run_cli(db: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "newswatch.cli", "run", "--feeds", "http://127.0.0.1:9/feed.xml", "--db", str(db)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    return done, time.monotonic() - started


def _import_seconds() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import newswatch.cli, newswatch.pipelines.batch"], check=True,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    return time.monotonic() - started


@pytest.fixture(scope="module")
def locked_cli_run(tmp_path_factory):
    """One `newswatch run` on a file another process holds: (result, seconds, seconds of imports alone)."""
    db = tmp_path_factory.mktemp("locked") / "locked.duckdb"
    DuckDBStore(str(db)).init()
    holder = _hold_open(db)
    try:
        imports = _import_seconds()
        done, elapsed = _run_cli(db)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    return done, elapsed, imports


def test_cli_run_on_a_locked_file_fails_within_lock_timeout(locked_cli_run):
    done, elapsed, imports = locked_cli_run
    print(f"\nnewswatch run on a locked file: exit {done.returncode} after {elapsed:.1f} s "
          f"(start-up and imports alone: {imports:.1f} s)\n--- stderr tail ---\n{done.stderr[-1500:]}")
    assert done.returncode != 0
    assert elapsed - imports < 5.0 + 5.0  # lock_timeout_s (5 s) plus slack
    assert "is locked by another process" in done.stderr
    assert "read-only" in done.stderr  # names the fix


def test_cli_run_on_a_locked_file_prints_no_traceback(locked_cli_run):
    done, _, _ = locked_cli_run
    assert "Traceback" not in done.stderr


def _cli_run_on_full_disk(small_fs: Path) -> tuple[subprocess.CompletedProcess, Path]:
    from faults.server import FaultSite

    db = small_fs / "news.duckdb"
    store = DuckDBStore(str(db))
    store.init()
    store.write([_article(i, f"committed story {i} " * 50) for i in range(5)] + [_error(1)])
    filler = _fill(small_fs, leave=64 * 1024)
    try:
        with FaultSite() as site:
            done = subprocess.run(
                [sys.executable, "-m", "newswatch.cli", "run", "--feeds", site.healthy_feed, "--db", str(db),
                 "--host-delay", "0", *[a for h in site.allow_hosts for a in ("--allow-host", h)]],
                capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)),
            )
    finally:
        filler.unlink()
    return done, db


@pytest.fixture(scope="module")
def full_disk_cli_run(tmp_path_factory):
    """One `newswatch run` onto a full tmpfs: (result, database path); skips where mounting is not permitted."""
    with _mounted_small_fs(tmp_path_factory.mktemp("full")) as mount_point:
        if mount_point is None:
            pytest.skip("needs a real full file system (tmpfs mount not permitted here)")
        done, db = _cli_run_on_full_disk(mount_point)
        # What the tests read from the file system, read while it is still mounted.
        db = Path(store_path(str(db))) if Path(store_path(str(db))).exists() else db
        con = duckdb.connect(str(db), read_only=True)
        try:
            ids = {row[0] for row in con.execute("SELECT article_id FROM articles").fetchall()}
        finally:
            con.close()
        yield done, ids, _counts(db)


def test_cli_run_on_a_full_disk_fails_and_keeps_committed_rows(full_disk_cli_run):
    done, ids, counts = full_disk_cli_run
    print(f"\nnewswatch run on a full disk: exit {done.returncode}; last stderr line: "
          f"{done.stderr.strip().splitlines()[-1]}")
    assert done.returncode != 0
    assert "No space left on device" in done.stderr
    # Everything committed before is there (a batch of this run may have fitted, too); the
    # fixture read the job's private store, to which the file from before is copied when the
    # disk had room for that, else the file itself.
    assert {f"crash{i:06d}" for i in range(5)} <= ids and counts[1] >= 1


def test_cli_run_on_a_full_disk_prints_no_traceback(full_disk_cli_run):
    done, _, _ = full_disk_cli_run
    assert "Traceback" not in done.stderr
