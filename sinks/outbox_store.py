"""DuckDB side of the alert outbox: every statement on the ``alerts`` and ``alert_endpoints`` tables.

Typed functions on an open connection; the caller holds the transaction, so
several calls commit together. Times go in and come out as Unix seconds.
Which rows to write, and what a status means, is the outbox's business
(``newswatch.alerts.outbox``): this module only reads and writes rows.

The tables are declared in ``sinks/schema.py`` (migration 3). ``alerts`` has
one row per alert and channel, keyed on (alert_id, channel), so inserting an
alert again changes nothing; ``alert_endpoints`` lists the channels disabled
after ``410 Gone``.

Example::

    with store.transaction() as con:
        insert_alerts(con, [OutboxRow(alert_id, "console", rule, article_id, body, now, now + 86400)])
        next_due, pending = pending_state(con)
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple, Optional, Sequence


class OutboxRow(NamedTuple):
    """A new outbox row: one alert for one channel, pending from `created_at` until `expires_at`."""

    alert_id: str
    channel: str
    rule: str
    article_id: str
    payload: str
    created_at: float
    expires_at: float


class DueAlert(NamedTuple):
    """A pending row whose next attempt is due."""

    alert_id: str
    channel: str
    payload: str
    attempts: int
    expires_at: float


def iso(epoch: float) -> str:
    """Unix seconds as the ISO-8601 UTC text the statements cast to TIMESTAMPTZ."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


# ---------------------------------------------------------------- enqueue


def count_story_alerts(con, rule: str, article_id: str, original_id: str) -> int:
    """Rows of `rule` for either article, or for a stored copy linked to either."""
    return con.execute(
        "SELECT count(*) FROM alerts al LEFT JOIN articles a ON a.article_id = al.article_id"
        " WHERE al.rule = ? AND (al.article_id IN (?, ?) OR a.duplicate_of IN (?, ?))",
        [rule, article_id, original_id, article_id, original_id],
    ).fetchone()[0]


def alerted_signatures(con, rule: str, since: float) -> list[bytes]:
    """The MinHash signatures of the stored articles alerted under `rule` since `since`."""
    rows = con.execute(
        "SELECT DISTINCT a.minhash FROM alerts al JOIN articles a ON a.article_id = al.article_id"
        " WHERE al.rule = ? AND a.minhash IS NOT NULL AND al.created_at >= CAST(? AS TIMESTAMPTZ)",
        [rule, iso(since)],
    ).fetchall()
    return [bytes(sig) for (sig,) in rows]


def first_alerted(con, rule: str, article_ids: Sequence[str]) -> Optional[str]:
    """The smallest of `article_ids` that has a row under `rule`, or None."""
    if not article_ids:
        return None
    return con.execute("SELECT min(article_id) FROM alerts WHERE rule = ? AND list_contains(?, article_id)",
                       [rule, list(article_ids)]).fetchone()[0]


def insert_alerts(con, rows: Sequence[OutboxRow]) -> None:
    """Add pending rows, due at once; a row already there (same alert and channel) is left as it is."""
    con.executemany(
        "INSERT INTO alerts (alert_id, channel, rule, article_id, payload, status, attempts,"
        " created_at, next_attempt_at, expires_at) VALUES (?, ?, ?, ?, ?, 'pending', 0,"
        " CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ)) ON CONFLICT DO NOTHING",
        [[r.alert_id, r.channel, r.rule, r.article_id, r.payload, iso(r.created_at), iso(r.created_at),
          iso(r.expires_at)] for r in rows],
    )


# ---------------------------------------------------------------- delivery


def disable_pending_of_gone_endpoints(con) -> None:
    """Mark the pending rows of endpoints in ``alert_endpoints`` disabled."""
    con.execute(
        "UPDATE alerts SET status = 'disabled', next_attempt_at = NULL,"
        " last_error = coalesce(last_error, 'endpoint disabled after 410 Gone')"
        " WHERE status = 'pending' AND channel IN (SELECT channel FROM alert_endpoints)"
    )


def fail_expired(con, now: float) -> None:
    """Mark the pending rows whose horizon has passed failed, keeping their last error in the message."""
    con.execute(
        "UPDATE alerts SET status = 'failed', next_attempt_at = NULL,"
        " last_error = 'gave up at the horizon; last error: ' || coalesce(last_error, 'none')"
        " WHERE status = 'pending' AND expires_at <= CAST(? AS TIMESTAMPTZ)",
        [iso(now)],
    )


def due_alerts(con, now: float, limit: int) -> list[DueAlert]:
    """The pending rows due by `now`, oldest first, at most `limit`."""
    return [
        DueAlert(*row)
        for row in con.execute(
            "SELECT alert_id, channel, payload, attempts, epoch(expires_at) FROM alerts"
            " WHERE status = 'pending' AND next_attempt_at <= CAST(? AS TIMESTAMPTZ)"
            " ORDER BY created_at, alert_id, channel LIMIT ?",
            [iso(now), limit],
        ).fetchall()
    ]


def reschedule(con, rows: Sequence[tuple[DueAlert, float]]) -> None:
    """Set the next attempt of each still pending row to its time, attempts unchanged."""
    if rows:
        con.executemany(
            "UPDATE alerts SET next_attempt_at = CAST(? AS TIMESTAMPTZ) WHERE alert_id = ? AND channel = ?"
            " AND status = 'pending'",
            [[iso(at), row.alert_id, row.channel] for row, at in rows],
        )


def pending_state(con) -> tuple[Optional[float], int]:
    """(when the next pending row is due, or None; how many rows are pending)."""
    next_due, pending = con.execute(
        "SELECT epoch(min(next_attempt_at)), count(*) FROM alerts WHERE status = 'pending'"
    ).fetchone()
    return next_due, pending


def record_attempt(con, row: DueAlert, status: str, attempts: int, error: Optional[str],
                   next_at: Optional[float], now: float) -> None:
    """Write one attempt's outcome; `error` None keeps the row's last error, `delivered` stamps the time."""
    con.execute(
        "UPDATE alerts SET status = ?, attempts = ?, last_error = coalesce(?, last_error),"
        " next_attempt_at = CAST(? AS TIMESTAMPTZ),"
        " delivered_at = CASE WHEN ? THEN CAST(? AS TIMESTAMPTZ) ELSE delivered_at END"
        " WHERE alert_id = ? AND channel = ?",
        [status, attempts, error, None if next_at is None else iso(next_at),
         status == "delivered", iso(now), row.alert_id, row.channel],
    )


def disable_endpoint(con, channel: str, now: float, reason: Optional[str]) -> None:
    """Record `channel` as gone (the first reason stays) and disable its pending rows."""
    con.execute(
        "INSERT INTO alert_endpoints VALUES (?, CAST(? AS TIMESTAMPTZ), ?) ON CONFLICT DO NOTHING",
        [channel, iso(now), reason],
    )
    con.execute(
        "UPDATE alerts SET status = 'disabled', next_attempt_at = NULL,"
        " last_error = 'endpoint disabled after 410 Gone' WHERE channel = ? AND status = 'pending'",
        [channel],
    )


# ---------------------------------------------------------------- inspection and manual retry


_LIST_SQL = (
    "SELECT alert_id, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS created_at, rule, channel,"
    " status, attempts, strftime(delivered_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS delivered_at,"
    " strftime(next_attempt_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS next_attempt_at, last_error, payload"
    " FROM alerts WHERE created_at >= CAST(? AS TIMESTAMPTZ) ORDER BY created_at, alert_id, channel"
)


def outbox_rows(con, since: float = 0.0) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of the rows created since `since`, oldest first; ([], []) without an outbox."""
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'alerts'").fetchone()[0]
    if not has:
        return [], []
    cur = con.execute(_LIST_SQL, [iso(since)])
    return [d[0] for d in cur.description], cur.fetchall()


def reopen(con, statuses: Sequence[str], now: float, expires_at: float) -> int:
    """Make the rows in `statuses` pending again, due now with no attempts; return how many."""
    marks = ", ".join("?" * len(statuses))
    count = con.execute(f"SELECT count(*) FROM alerts WHERE status IN ({marks})", list(statuses)).fetchone()[0]
    con.execute(
        "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = CAST(? AS TIMESTAMPTZ),"
        f" expires_at = CAST(? AS TIMESTAMPTZ) WHERE status IN ({marks})",
        [iso(now), iso(expires_at), *statuses],
    )
    return count


def enable_all_endpoints(con) -> None:
    """Forget every endpoint disabled after 410 Gone."""
    con.execute("DELETE FROM alert_endpoints")
