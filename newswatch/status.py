"""`newswatch status`: per-feed health for operators, read-only.

It reads the analyst file (views over what the job publishes), so it never
waits for a running job, and says how long ago the job last published.
"""

from __future__ import annotations

from newswatch.sinks.duckdb import DuckDBStore
from newswatch.tables import format_rows


def render_status(db_path: str) -> str:
    """Per-feed health table plus run totals."""
    with DuckDBStore(db_path, lock_timeout_s=10.0).session() as s:
        feeds = format_rows(*s.feed_health(), "table")
        totals = s.totals()
    return (
        f"{feeds}\n\narticles: {totals.articles}  mentions: {totals.mentions}  "
        f"error rows: {totals.error_rows}  last run finished (UTC): {totals.last_run_finished_utc}\n"
        f"{_published_line(db_path)}"
    )


def _published_line(db_path: str) -> str:
    """When the job last published to this file: how fresh everything above is."""
    import time

    from newswatch.sinks.publish import last_published

    at = last_published(db_path)
    if at is None:
        return "published: never (an older file, or no job has run on it)"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))
    return (f"published (UTC): {stamp}, {time.time() - at:.0f} s ago; "
            "a running job publishes every --publish-interval (5 s by default)")
