"""Reading a Parquet sink back: the DuckDB views over its files and the loaders the graph needs.

`sinks/parquet.py` writes the dataset; this module reads it. The views keep
one row per key, the newest version (latest window, then latest write), so a
dataset that holds a key twice still reads back without duplicates.

    con = open_parquet("gs://bucket/news")   # DuckDB views: articles, mentions, errors, feeds, ...
    ParquetStore("gs://bucket/news").totals()  # the same through the `Store` interface
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional, Sequence

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from newswatch.sinks.parquet import (
    _STR,
    INCIDENT_MENTION_COLUMNS,
    INCIDENT_TABLE_COLUMNS,
    MENTION_COLUMNS,
    TABLE_COLUMNS,
    WRITE_COLUMNS,
    StoreInParquet,
    arrow_columns,
)
from newswatch.sinks.incidents_store import incident_window as incident_window_of
from newswatch.sinks.schema import _LABELS_WITH_INCIDENT, DUCK_TYPES, MIGRATIONS, TABLES, arrow_type
from newswatch.sinks.store import IncidentWindow, Store, feed_schedules_of, prior_entries_of

# Arrow type -> DuckDB type, for the casts of the views.
_DUCK_TYPES = {arrow_type(t): t for t in DUCK_TYPES}
# The DuckDB sink's feed_polls table keeps these; the rest of a poll feeds the `feeds` view.
_POLL_TABLE_COLUMNS = arrow_columns(TABLES["feed_polls"])
# Newest version of a key first: later window, then later write, then file name for a total order.
_LATEST_FIRST = "ORDER BY window_end_us DESC, written_at DESC, filename DESC"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pattern(directory: str, table: str) -> str:
    return f"{directory.rstrip('/')}/{table}/*/*.parquet"


def _empty(table: str) -> str:
    columns = [f"CAST(NULL AS {_DUCK_TYPES[t]}) AS {n}" for n, t in TABLE_COLUMNS[table] + WRITE_COLUMNS]
    return f"SELECT {', '.join(columns)}, CAST(NULL AS VARCHAR) AS filename WHERE false"


def _duckdb_sources(con: duckdb.DuckDBPyConnection, directory: str) -> dict[str, str]:
    """Per table, SQL reading its files lazily with DuckDB; a typed empty relation while it has none."""
    sources = {}
    for table in TABLE_COLUMNS:
        pattern = _pattern(directory, table)
        if con.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchone()[0]:
            # The union by name gives columns that no file has yet (an older writer's) as NULL.
            sources[table] = (
                f"(SELECT * FROM read_parquet({_literal(pattern)}, hive_partitioning = true, "
                f"union_by_name = true, filename = true) UNION ALL BY NAME {_empty(table)})"
            )
        else:
            sources[table] = f"({_empty(table)})"
    return sources


def _read_table(directory: str, table: str, skip: Sequence[str] = ()) -> Optional[pa.Table]:
    """Every file of one table read through Beam's FileSystems, `skip` columns left null; None if no files."""
    columns = TABLE_COLUMNS[table] + WRITE_COLUMNS
    parts = []
    for meta in FileSystems.match([_pattern(directory, table)])[0].metadata_list:
        handle = FileSystems.open(meta.path, compression_type=CompressionTypes.UNCOMPRESSED)
        try:
            source = pq.ParquetFile(pa.BufferReader(handle.read()))
        finally:
            handle.close()
        present = set(source.schema_arrow.names)
        part = source.read(columns=[n for n, _ in columns if n in present and n not in skip])
        parts.append(part.append_column("filename", pa.array([meta.path] * part.num_rows, _STR)))
    if not parts:
        return None
    # Files written before a column existed (or with it skipped) get nulls of its type.
    merged = pa.concat_tables(parts, promote_options="default")
    for name, type_ in columns:
        if name not in merged.column_names:
            merged = merged.append_column(name, pa.nulls(merged.num_rows, type_))
    return merged


def _beam_sources(con: duckdb.DuckDBPyConnection, directory: str, skip: Sequence[str]) -> dict[str, str]:
    """Per table, an Arrow table loaded through Beam's FileSystems and registered on `con`."""
    sources = {}
    for table in TABLE_COLUMNS:
        loaded = _read_table(directory, table, skip)
        if loaded is None:
            sources[table] = f"({_empty(table)})"
        else:
            con.register(f"raw_{table}", loaded)
            sources[table] = f"raw_{table}"
    return sources


def _select(columns, alias: str, override: Optional[dict[str, str]] = None) -> str:
    override = override or {}
    return ",\n    ".join(
        override.get(n, f"CAST({alias}.{n} AS {_DUCK_TYPES[t]}) AS {n}") for n, t in columns
    )


def _views_sql(src: dict[str, str]) -> list[str]:
    article_columns = arrow_columns(TABLES["articles"])  # with stored_at, the time of the write
    # A relink, when there is one, overrides the article row's own link.
    relinked = {
        "stored_at": "CAST(a.written_at AS TIMESTAMPTZ) AS stored_at",
        **{
            c: f"CASE WHEN r.article_id IS NULL THEN a.{c} ELSE r.{c} END AS {c}"
            for c in ("duplicate_of", "duplicate_kind")
        },
    }
    polls = (
        f"SELECT * FROM {src['feed_polls']}"
        f" QUALIFY row_number() OVER (PARTITION BY feed_url, polled_at {_LATEST_FIRST}) = 1"
    )
    return [
        f"""
CREATE OR REPLACE VIEW articles AS
WITH latest AS (
    SELECT * FROM {src['articles']}
    QUALIFY row_number() OVER (PARTITION BY article_id {_LATEST_FIRST}) = 1
), relink AS (
    SELECT article_id, duplicate_of, duplicate_kind FROM {src['relinks']}
    QUALIFY row_number() OVER (PARTITION BY article_id {_LATEST_FIRST}) = 1
)
SELECT
    {_select(article_columns, 'a', relinked)}
FROM latest a LEFT JOIN relink r ON r.article_id = a.article_id
""",
        f"""
CREATE OR REPLACE VIEW mentions AS
SELECT
    {_select(MENTION_COLUMNS, 'm')}
FROM {src['mentions']} m
WHERE m.article_id IN (SELECT article_id FROM articles)
QUALIFY row_number() OVER (PARTITION BY m.mention_id {_LATEST_FIRST}) = 1
""",
        f"""
CREATE OR REPLACE VIEW errors AS
WITH events AS (
    SELECT * FROM {src['errors']}
    QUALIFY row_number() OVER (PARTITION BY stage, url, code, "at" {_LATEST_FIRST}) = 1
)
SELECT
    stage, url,
    arg_max(feed_url, "at") AS feed_url,
    code,
    arg_max_null(message, "at") AS message,
    min("at") AS first_at,
    max("at") AS "at",
    CAST(count(*) AS INTEGER) AS count
FROM events
GROUP BY stage, url, code
""",
        f"""
CREATE OR REPLACE VIEW feed_polls AS
SELECT
    {_select(_POLL_TABLE_COLUMNS, 'p')}
FROM ({polls}) p
""",
        f"""
CREATE OR REPLACE VIEW feeds AS
WITH marked AS (
    SELECT *, max(polled_at) FILTER (WHERE status <> 'error') OVER (PARTITION BY feed_url) AS ok_at
    FROM ({polls})
)
SELECT
    feed_url,
    arg_max(title, polled_at) AS title,
    arg_max_null(status, polled_at) AS last_status,
    arg_max_null(http_status, polled_at) AS last_http_status,
    arg_max_null(etag, polled_at) AS etag,
    arg_max_null(last_modified, polled_at) AS last_modified,
    max(polled_at) AS last_polled_at,
    max(polled_at) FILTER (WHERE status <> 'error') AS last_ok_at,
    CAST(count(*) FILTER (WHERE status = 'error' AND (ok_at IS NULL OR polled_at > ok_at)) AS INTEGER)
        AS consecutive_errors,
    arg_max_null(error_code, polled_at) FILTER (WHERE status = 'error') AS last_error_code,
    arg_max_null(message, polled_at) FILTER (WHERE status = 'error') AS last_error,
    arg_max_null(items_seen, polled_at) AS items_seen_last,
    arg_max_null(bozo, polled_at) AS bozo,
    arg_max_null(next_poll_at, polled_at) AS next_poll_at,
    arg_max_null(suspended_reason, polled_at) IS NOT NULL AS suspended,
    arg_max_null(suspended_reason, polled_at) AS suspended_reason,
    CAST(NULL AS TIMESTAMPTZ) AS resumed_at  -- `feeds resume` writes DuckDB files only
FROM marked
GROUP BY feed_url
""",
        f"""
CREATE OR REPLACE VIEW incidents AS
SELECT {_select(INCIDENT_TABLE_COLUMNS, 'i')} FROM {src['incidents']} i
QUALIFY row_number() OVER (PARTITION BY i.incident_id {_LATEST_FIRST}) = 1 AND i.n_articles > 0
""",
        f"""
CREATE OR REPLACE VIEW incident_mentions AS
SELECT * FROM (
    SELECT {_select(INCIDENT_MENTION_COLUMNS, 'm')} FROM {src['incident_mentions']} m
    QUALIFY row_number() OVER (PARTITION BY m.mention_id {_LATEST_FIRST}) = 1
) WHERE incident_id IN (SELECT incident_id FROM incidents)
""",
        "CREATE OR REPLACE VIEW incident_timeline AS SELECT * FROM incidents ORDER BY first_seen, incident_id",
        _LABELS_WITH_INCIDENT,
    ]


def create_views(con: duckdb.DuckDBPyConnection, directory: str) -> None:
    """Create views articles, mentions, errors, feed_polls, feeds and article_labels over a Parquet dataset.

    One row per key (the latest version), relinks applied. A table that has
    no files yet gets an empty view of the right type; call again once it has.

    Args:
      con: a DuckDB connection (in-memory or a file that should hold the views).
      directory: the root `WriteToParquet` wrote to; remote URLs need DuckDB's httpfs and credentials.
    """
    for sql in _views_sql(_duckdb_sources(con, directory)):
        con.execute(sql)


def open_parquet(directory: str) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB connection with the newswatch views over a Parquet dataset."""
    con = duckdb.connect(":memory:")
    create_views(con, directory)
    return con


def _open_through_beam(directory: str) -> duckdb.DuckDBPyConnection:
    """`open_parquet` read through Beam's FileSystems (so with the worker's credentials), without article text."""
    con = duckdb.connect(":memory:")
    for sql in _views_sql(_beam_sources(con, directory, skip=("text",))):
        con.execute(sql)
    return con


class ParquetStore(Store):
    """The `Store` of a `--sink parquet:DIR` dataset: sessions over the views, loaders through Beam's FileSystems.

    A session shows what a DuckDB file shows: the views of `create_views`,
    plus `poll_freshness` and an empty `runs` table (a Parquet run keeps no run rows:
    `start_run` and `finish_run` count what a run added from the views).
    """

    def __init__(self, directory: str):
        self.directory = directory
        self._runs: dict[str, tuple] = {}  # run_id -> (started, feeds, articles before), while it runs

    def source(self) -> str:
        """The dataset's directory, as given."""
        return self.directory

    def record_writer(self, resolve_incidents, batch_size: int, heartbeat_file: Optional[str] = None,
                      commit_after_s: Optional[float] = None) -> StoreInParquet:
        """`StoreInParquet` (files are written per window and group, so the batch settings do not apply)."""
        return StoreInParquet(self.directory, resolve_incidents)

    def start_run(self, run_id: str, mode: str, feeds: int, args: str) -> None:
        """Count the articles before the run; a Parquet dataset keeps no `runs` rows, so this stays in memory."""
        self._runs[run_id] = (datetime.now(timezone.utc), feeds, self.totals().articles)

    def finish_run(self, run_id: str, status: str) -> dict:
        """The run's summary, counted from the views; a run that did not end ok is neither counted nor recorded."""
        started, feeds, before = self._runs.pop(run_id)
        summary = {"run_id": run_id, "status": status, "feeds": feeds, "started_at": started,
                   "articles_before": before}
        if status != "ok":
            return summary
        with self.session() as s:
            after, errors = s.totals(), s.errors_since(started)
        return {**summary, "articles_after": after.articles, "mentions_after": after.mentions, "errors_seen": errors}

    def _open_read_only(self) -> duckdb.DuckDBPyConnection:
        con = open_parquet(self.directory)
        con.execute(next(m.sql for m in MIGRATIONS if "poll_freshness" in m.sql))
        con.execute("CREATE TABLE runs (finished_at TIMESTAMPTZ)")
        return con

    def stored_ids(self) -> list[str]:
        """Every article id in the dataset."""
        with _open_through_beam(self.directory) as con:
            return [row[0] for row in con.execute("SELECT article_id FROM articles").fetchall()]

    def feed_schedules(self) -> dict:
        """feed_url -> `FeedState`, as `DuckDBStore.feed_schedules`."""
        with _open_through_beam(self.directory) as con:
            return feed_schedules_of(con)

    def prior_entries(self, since: Optional[str] = None) -> list:
        """`PriorEntry` of the window, as `DuckDBStore.prior_entries`."""
        with _open_through_beam(self.directory) as con:
            return prior_entries_of(con, since)

    def incident_window(self, since: Optional[str] = None) -> IncidentWindow:
        """Stored candidates of the window and their incidents, as `DuckDBStore.incident_window`."""
        with _open_through_beam(self.directory) as con:
            return IncidentWindow(*incident_window_of(con, since))
