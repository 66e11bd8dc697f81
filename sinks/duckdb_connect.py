"""Opening a DuckDB file that another process may hold: retried with backoff, without importing Beam.

DuckDB lets one read-write process, or any number of read-only ones, hold a
file. Both the job's store (`sinks/duckdb.py`) and `newswatch report`, which
must start fast and so never imports Beam, open files through this.

    con = connect_when_free("news.duckdb", read_only=True, wait_s=10.0)
"""

from __future__ import annotations

import time

import duckdb


def is_lock_error(exc: Exception) -> bool:
    """True when `exc` is DuckDB refusing the file because another process holds its lock."""
    text = str(exc).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text or "held" in text)


def connect_when_free(path: str, read_only: bool, wait_s: float, max_delay_s: float = 0.25) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, retried with backoff while the file is locked; the lock error once `wait_s` is spent."""
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_error(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, max_delay_s)
