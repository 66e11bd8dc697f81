"""The rows one write puts in the DuckDB file: articles with their mentions, errors, polls, relinks.

Each function takes an open connection inside the caller's transaction
(`DuckDBStore.write`) and is keyed: an article is inserted once by
`article_id`, errors are upserted by `(stage, url, code)`, a poll updates its
feed's row.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

from newswatch.records import EnrichedArticle, ErrorRecord, FeedPoll, Relink


_ARTICLE_COLUMNS = (
    "article_id", "url", "feed_url", "source", "title", "author", "published_at", "date_origin",
    "fetched_at", "seen_at", "language", "text", "content_hash", "duplicate_of", "duplicate_kind",
    "minhash", "source_encoding",
)
_LABEL_COLUMNS = (
    "defection", "conscription", "defection_report", "defectors", "weapons", "orgs", "locations",
    "country",
)
_MENTION_COLUMNS = (
    "mention_id", "article_id", "kind", "modality", "people_count", "count_qualifier",
    "weapons_count", "ranks", "units", "orgs", "locations", "country", "source_party",
    "sentence", "start_char", "end_char", "extractor_version",
)
_TIMESTAMP_COLUMNS = {"published_at", "fetched_at", "seen_at"}
_LIST_COLUMNS = {"orgs", "locations", "ranks", "units"}


def _arrow(rows: list[dict], columns: Sequence[str], types: dict[str, pa.DataType]) -> pa.Table:
    return pa.table(
        {c: pa.array([row[c] for row in rows], type=types.get(c, pa.string())) for c in columns}
    )


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
    article_rows = []
    for e in fresh:
        row = e.article._asdict()
        row.update(
            {c: (list(v) if c in _LIST_COLUMNS else v) for c, v in e.labels._asdict().items()}
        )
        row["extractor_version"] = e.mentions[0].extractor_version if e.mentions else version
        article_rows.append(row)
    types = {
        "minhash": pa.binary(),
        "defection": pa.bool_(),
        "conscription": pa.bool_(),
        "defection_report": pa.bool_(),
        "defectors": pa.int64(),
        "weapons": pa.int64(),
        "orgs": pa.list_(pa.string()),
        "locations": pa.list_(pa.string()),
    }
    columns = _ARTICLE_COLUMNS + _LABEL_COLUMNS + ("extractor_version",)
    new_articles = _arrow(article_rows, columns, types)
    select = ", ".join(
        f"CAST({c} AS TIMESTAMPTZ)" if c in _TIMESTAMP_COLUMNS else c for c in columns
    )
    con.register("new_articles", new_articles)
    con.execute(
        f"INSERT INTO articles ({', '.join(columns)}, stored_at) "
        f"SELECT {select}, now() FROM new_articles ON CONFLICT DO NOTHING"
    )
    con.unregister("new_articles")

    mention_rows = [
        {**m._asdict(), **{c: list(getattr(m, c)) for c in _LIST_COLUMNS}}
        for e in fresh
        for m in e.mentions
    ]
    if mention_rows:
        types = {
            "people_count": pa.int64(),
            "weapons_count": pa.int64(),
            "start_char": pa.int64(),
            "end_char": pa.int64(),
            **{c: pa.list_(pa.string()) for c in _LIST_COLUMNS},
        }
        con.register("new_mentions", _arrow(mention_rows, _MENTION_COLUMNS, types))
        con.execute(
            f"INSERT INTO mentions ({', '.join(_MENTION_COLUMNS)}) "
            f"SELECT {', '.join(_MENTION_COLUMNS)} FROM new_mentions ON CONFLICT DO NOTHING"
        )
        con.unregister("new_mentions")
    return [e.article.article_id for e in fresh], len(mention_rows)


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
