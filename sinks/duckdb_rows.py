"""The rows one write puts in the DuckDB file: articles with their mentions, errors, polls, relinks.

Each function takes an open connection inside the caller's transaction
(`DuckDBStore.write`) and is keyed: an article is inserted once by
`article_id`, errors are upserted by `(stage, url, code)`, a poll updates its
feed's row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from newswatch.sinks.article_rows import article_row, mention_rows
from newswatch.sinks.schema import arrow_type, written_columns

if TYPE_CHECKING:  # the records module imports Beam; `newswatch report` reaches this module without it
    from newswatch.records import EnrichedArticle, ErrorRecord, FeedPoll, Relink


def _insert_new(con, table: str, rows: list[dict], now_columns: Sequence[str] = ()) -> None:
    """INSERT rows (column -> value, times as ISO text) into `table`, skipping keys already stored.

    The columns come from `sinks/schema.py`; `now_columns` are set to the time of the insert.
    """
    import pyarrow as pa  # here, not at the top: a read-only `newswatch report` never loads it

    columns = written_columns(table)
    name = f"new_{table}"
    con.register(name, pa.table({
        c.name: pa.array([row[c.name] for row in rows],
                         type=pa.string() if c.type == "TIMESTAMPTZ" else arrow_type(c.type))
        for c in columns
    }))
    select = ", ".join(f"CAST({c.name} AS TIMESTAMPTZ)" if c.type == "TIMESTAMPTZ" else c.name for c in columns)
    con.execute(
        f"INSERT INTO {table} ({', '.join([c.name for c in columns] + list(now_columns))}) "
        f"SELECT {select}{''.join(', now()' for _ in now_columns)} FROM {name} ON CONFLICT DO NOTHING"
    )
    con.unregister(name)


def _insert_articles(con, enriched: Sequence[EnrichedArticle]) -> tuple[list[str], int]:
    if not enriched:
        return [], 0
    # A batch may carry the same article twice (a retried bundle): keep one.
    by_id: dict[str, EnrichedArticle] = {}
    for e in enriched:
        by_id.setdefault(e.article.article_id, e)
    placeholders = ",".join("?" * len(by_id))
    existing = {
        row[0]
        for row in con.execute(
            f"SELECT article_id FROM articles WHERE article_id IN ({placeholders})", list(by_id)
        ).fetchall()
    }
    fresh = [e for aid, e in by_id.items() if aid not in existing]
    if not fresh:
        return [], 0
    version = fresh[0].mentions[0].extractor_version if fresh[0].mentions else None
    _insert_new(con, "articles", [article_row(e, version) for e in fresh], now_columns=("stored_at",))

    mentions = [row for e in fresh for row in mention_rows(e)]
    if mentions:
        _insert_new(con, "mentions", mentions)
    return [e.article.article_id for e in fresh], len(mentions)


def _upsert_errors(con, errors: Sequence[ErrorRecord]) -> None:
    if not errors:
        return
    con.executemany(
        """
        INSERT INTO errors (stage, url, feed_url, code, message, first_at, "at", count)
        VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), 1)
        ON CONFLICT (stage, url, code) DO UPDATE SET
            count = errors.count + 1, "at" = excluded."at", message = excluded.message,
            feed_url = coalesce(excluded.feed_url, errors.feed_url)
        """,
        [[e.stage, e.url, e.feed_url, e.code, e.message[:2000], e.at, e.at] for e in errors],
    )


def _record_polls(con, polls: Sequence[FeedPoll]) -> None:
    for p in sorted(polls, key=lambda p: p.polled_at):
        failed = p.status == "error"
        con.execute(
            """
            INSERT INTO feeds AS f (feed_url, title, last_status, last_http_status, etag, last_modified,
                               last_polled_at, last_ok_at, consecutive_errors, last_error_code,
                               last_error, items_seen_last, bozo, next_poll_at, suspended, suspended_reason)
            VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ),
                    CASE WHEN ? THEN NULL ELSE CAST(? AS TIMESTAMPTZ) END,
                    CASE WHEN ? THEN 1 ELSE 0 END, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, ?)
            ON CONFLICT (feed_url) DO UPDATE SET
                title = coalesce(excluded.title, f.title),
                last_status = excluded.last_status,
                last_http_status = excluded.last_http_status,
                etag = excluded.etag,
                last_modified = excluded.last_modified,
                last_polled_at = excluded.last_polled_at,
                last_ok_at = coalesce(excluded.last_ok_at, f.last_ok_at),
                consecutive_errors = CASE WHEN ? THEN f.consecutive_errors + 1 ELSE 0 END,
                last_error_code = CASE WHEN ? THEN excluded.last_error_code ELSE f.last_error_code END,
                last_error = CASE WHEN ? THEN excluded.last_error ELSE f.last_error END,
                items_seen_last = excluded.items_seen_last,
                bozo = excluded.bozo,
                next_poll_at = excluded.next_poll_at,
                suspended = excluded.suspended,
                suspended_reason = excluded.suspended_reason
            """,
            [
                p.feed_url, p.title, p.status, p.http_status, p.etag, p.last_modified, p.polled_at,
                failed, p.polled_at, failed, p.error_code, p.message, p.items_seen, p.bozo,
                p.next_poll_at, p.suspended_reason is not None, p.suspended_reason,
                failed, failed, failed,
            ],
        )
        con.execute(
            "INSERT INTO feed_polls VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [p.feed_url, p.polled_at, p.status, p.http_status, p.items_seen, p.error_code, p.message],
        )


def _apply_relinks(con, relinks: Sequence[Relink]) -> None:
    if relinks:
        con.executemany(
            "UPDATE articles SET duplicate_of = ?, duplicate_kind = ? WHERE article_id = ?",
            [[r.duplicate_of, r.duplicate_kind, r.article_id] for r in relinks],
        )


# The loaders run inside the job, whose writers may hold the file open: in one
# process DuckDB refuses a read-only connection beside a read-write one.
