"""`newswatch status`: per-feed health for operators, read-only.

It reads the analyst file (views over what the job publishes), so it never
waits for a running job, and says how long ago the job last published.
"""

from __future__ import annotations

from newswatch.sinks.duckdb import DuckDBStore
from newswatch.tables import format_rows

_FEEDS_SQL = """
SELECT
    f.feed_url,
    f.last_status AS status,
    strftime(f.last_polled_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS last_poll_utc,
    strftime(f.next_poll_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS next_poll_utc,
    f.consecutive_errors AS errors_in_row,
    CASE WHEN f.suspended THEN 'suspended: ' || coalesce(f.suspended_reason, '') ELSE f.last_error_code END AS problem,
    (SELECT count(*) FROM articles a
      WHERE a.feed_url = f.feed_url AND a.stored_at >= now() - INTERVAL 1 DAY) AS articles_24h,
    (SELECT string_agg(code || '×' || n, ', ' ORDER BY n DESC, code) FROM (
        SELECT e.code, sum(e.count) AS n FROM errors e
        WHERE e.feed_url = f.feed_url AND e."at" >= now() - INTERVAL 1 DAY GROUP BY e.code)) AS errors_24h
FROM feeds f
ORDER BY f.feed_url
"""


def render_status(db_path: str) -> str:
    """Per-feed health table plus run totals."""
    with DuckDBStore(db_path, lock_timeout_s=10.0).reader() as con:
        cur = con.execute(_FEEDS_SQL)
        columns = [d[0] for d in cur.description]
        feeds = format_rows(columns, cur.fetchall(), "table")
        totals = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM errors),"
            " (SELECT strftime(max(finished_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') FROM runs)"
        ).fetchone()
    return (
        f"{feeds}\n\narticles: {totals[0]}  mentions: {totals[1]}  "
        f"error rows: {totals[2]}  last run finished (UTC): {totals[3]}\n{_published_line(db_path)}"
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
