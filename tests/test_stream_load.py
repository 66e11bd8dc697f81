"""Issue 12: the streaming job under a realistic load commits while it runs, not at shutdown.

Fifty feeds of 10-30 items over ten loopback hosts, politeness on (robots.txt,
two requests per host, a delay between them), and an analyst's read-only
DuckDB session in another process that opens and closes short connections
and notes when each row first became visible to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.feed_farm import FeedFarm

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
POLL_INTERVAL_S = 15.0
HOST_DELAY_S = 0.05  # politeness stays on; at the default 1 s the backlog alone would outlast the test

# An analyst's loop: short read-only connections; a lock held by the writer is retried.
READER = r"""
import sys, time, duckdb
db, out = sys.argv[1], sys.argv[2]
seen = set()
with open(out, "a") as log:
    while True:
        try:
            con = duckdb.connect(db, read_only=True)
            try:
                rows = con.execute("SELECT url FROM articles").fetchall()
            finally:
                con.close()
        except duckdb.Error:  # the job holds the write lock, or has not created the table yet
            time.sleep(0.1)
            continue
        now = time.time()
        for (url,) in rows:
            if url not in seen:
                seen.add(url)
                log.write(f"{now:.3f} {url}\n")
        log.flush()
        time.sleep(0.5)
"""


def start_stream(db: Path, farm: FeedFarm, *extra: str) -> subprocess.Popen:
    hosts = [a for h in farm.allow_hosts for a in ("--allow-host", h)]
    return subprocess.Popen(
        [sys.executable, "-m", "newswatch.cli", "stream", "--feeds", *farm.feed_urls, "--db", str(db),
         "--poll-interval", str(POLL_INTERVAL_S), "--host-delay", str(HOST_DELAY_S), *hosts, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def start_reader(db: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", READER, str(db), str(log)])


def first_seen(log: Path) -> dict[str, float]:
    """Article path -> when the reader first saw its row."""
    seen = {}
    if log.exists():
        for line in log.read_text().splitlines():
            at, url = line.split(" ", 1)
            seen.setdefault("/" + url.split("/", 3)[3], float(at))
    return seen


def wait_for(predicate, timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.stdout.read() if proc.stdout else ""


def test_rows_become_visible_while_the_job_runs(tmp_path):
    db, log = tmp_path / "load.duckdb", tmp_path / "seen.txt"
    with FeedFarm(feeds=50, items=(10, 30), hosts=10) as farm:
        total = farm.article_count
        job, reader = start_stream(db, farm), start_reader(db, log)
        try:
            assert wait_for(lambda: len(first_seen(log)) >= 1, 60), "no row visible within 60 s"
            assert wait_for(lambda: len(first_seen(log)) >= total, 150), (
                f"{len(first_seen(log))} of {total} rows visible after 150 s"
            )
            seen = first_seen(log)
            # Rows appear during the run: the first well before the last page was fetched.
            first_path = min(seen, key=seen.get)
            assert seen[first_path] - farm.fetched_at[first_path] <= 15.0
            assert seen[first_path] < max(farm.fetched_at.values())
            lags = sorted(seen[p] - farm.fetched_at[p] for p in seen if p in farm.fetched_at)

            later = farm.feed_urls[7]
            before = farm.paths(later)
            changed = farm.add_items(later, 3)
            new_paths = farm.paths(later) - before
            budget = POLL_INTERVAL_S + 10.0
            assert wait_for(lambda: new_paths <= set(first_seen(log)), budget + 5), "new items not committed"
            change_lag = max(first_seen(log)[p] for p in new_paths) - changed
            first_lag = seen[first_path] - farm.fetched_at[first_path]
            print(f"\n{total} articles in {len(farm.feed_urls)} feeds over {len(farm.allow_hosts)} hosts; "
                  f"page fetched -> row visible to a reader: first {first_lag:.1f} s, "
                  f"median {lags[len(lags) // 2]:.1f} s, worst {lags[-1]:.1f} s; "
                  f"feed change -> rows visible {change_lag:.1f} s (poll interval {POLL_INTERVAL_S:.0f} s)")
            assert change_lag <= budget
        finally:
            reader.kill()
            output = stop(job)
        assert job.returncode == 0, output[-3000:]
