"""The one door to stored data: `Store`, implemented for a DuckDB file and for a Parquet dataset.

Commands, the CLI and the pipelines reach what the job stored only through a
store: `DuckDBStore` (`sinks/duckdb.py`) for a DuckDB file, the job's private
store or the analyst file of views, and `ParquetStore` (`sinks/parquet_read.py`)
for a `--sink parquet:DIR` dataset. Both show the same tables and views, so
the named readers of `Session` are written once, here. Each also gives the
graph its writer (`record_writer`) and keeps a run's bookkeeping
(`start_run`, `finish_run`); `sinks/open_store.py` picks which one a command means.

    with DuckDBStore("news.duckdb").session() as s:   # read-only
        print(s.totals().articles)

This module imports neither Beam nor the records, so `newswatch report`
starts fast; what the graph reads back (`PriorEntry`, `FeedState`,
`IncidentCandidate`) is imported when it is read.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any, Iterator, NamedTuple, Optional, Sequence


class Rows(NamedTuple):
    """The result of a query: column names and rows (no columns for a statement that returns none)."""

    columns: list[str]
    rows: list[tuple]


class Totals(NamedTuple):
    """Row counts of the main tables and the end of the last run."""

    articles: int
    duplicates: int  # articles marked as a copy of another
    mentions: int
    error_rows: int
    last_run_finished_utc: Optional[str]  # 'YYYY-MM-DD HH:MM:SS', None before the first finished run


class IncidentWindow(NamedTuple):
    """Stored incident candidates of the dedup window and the member mention ids of their incidents."""

    candidates: list  # IncidentCandidate
    members: dict[str, frozenset]  # incident_id -> mention ids


# What `newswatch status` shows per feed.
_FEED_HEALTH_SQL = """
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

_TOTALS_SQL = (
    "SELECT (SELECT count(*) FROM articles), (SELECT count(duplicate_of) FROM articles),"
    " (SELECT count(*) FROM mentions), (SELECT count(*) FROM errors),"
    " (SELECT strftime(max(finished_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') FROM runs)"
)


class Session:
    """A read-only connection to a store, and the named questions commands ask of it."""

    def __init__(self, con):
        self._con = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement (a user's, or a page's printed SQL) and return what it selects."""
        # No parameters: executed as given, so a user's script of several statements still runs.
        cur = self._con.execute(sql, list(params)) if params else self._con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return Rows(columns, cur.fetchall() if columns else [])

    def columns_of(self, table: str) -> set[str]:
        """Column names of a table or view (empty when there is none by that name)."""
        return {row[0] for row in self._con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}

    def count(self, table: str) -> int:
        """Rows in one of the store's tables or views."""
        return self._con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]

    def totals(self) -> Totals:
        """Row counts of articles, copies, mentions and error rows, and when the last run finished."""
        return Totals(*self._con.execute(_TOTALS_SQL).fetchone())

    def feed_health(self) -> Rows:
        """Per feed: last poll, next poll, errors in a row, the problem, articles and errors of the last day."""
        return self.query(_FEED_HEALTH_SQL)

    def mentions_by_kind(self) -> list[tuple[str, int]]:
        """('kind/modality', mentions), most frequent first."""
        return self._con.execute(
            "SELECT kind || '/' || modality, count(*) FROM mentions GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()

    def error_urls(self) -> list[tuple[str, str]]:
        """(code, url) of every error row."""
        return self._con.execute("SELECT code, url FROM errors ORDER BY code, url").fetchall()

    def article_labels(self) -> list[dict]:
        """Every row of the `article_labels` view, as column -> value."""
        rows = self.query("SELECT * FROM article_labels")
        return [dict(zip(rows.columns, values)) for values in rows.rows]

    def feeds_read_since(self, since) -> int:
        """Feeds polled without an error since `since` (a datetime or ISO time, to the second)."""
        return self._con.execute(
            "SELECT count(DISTINCT feed_url) FROM feed_polls"
            " WHERE polled_at >= date_trunc('second', CAST(? AS TIMESTAMPTZ)) AND status <> 'error'", [since],
        ).fetchone()[0]

    def errors_since(self, since) -> int:
        """Error rows last seen since `since` (to the second)."""
        return self._con.execute(
            "SELECT count(*) FROM errors WHERE \"at\" >= date_trunc('second', CAST(? AS TIMESTAMPTZ))", [since]
        ).fetchone()[0]


class Store(ABC):
    """Where a newswatch job keeps its rows: read-only sessions, the graph's writer and readers, its runs."""

    # True when the job's own process writes the store (a DuckDB file, one writer at a time): a stream
    # job then drains its writers before it stops, and the CLI publishes the store to the analyst file.
    # False when a cluster runner's workers write it (Parquet): stopping the job is the runner's.
    written_in_process = False

    @abstractmethod
    def _open_read_only(self):
        """A read-only DuckDB connection showing the store's tables and views."""

    @contextlib.contextmanager
    def session(self, time_zone: Optional[str] = None) -> Iterator[Session]:
        """A read-only `Session`, closed on exit; `time_zone` sets how timestamps are shown and truncated."""
        con = self._open_read_only()
        try:
            if time_zone:
                con.execute("SET TimeZone = '" + time_zone.replace("'", "''") + "'")
            yield Session(con)
        finally:
            con.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement in a session of its own."""
        with self.session() as s:
            return s.query(sql, params)

    def totals(self) -> Totals:
        """`Session.totals` in a session of its own."""
        with self.session() as s:
            return s.totals()

    @abstractmethod
    def source(self) -> str:
        """Where the rows are, as a page names it: a file's absolute path, a dataset's directory."""

    def exists(self) -> bool:
        """True when there is something to read (an empty dataset shows empty tables)."""
        return True

    def init(self) -> None:
        """Create what the store needs before a job writes to it (nothing, unless a store says so)."""

    def alert_outbox(self) -> Optional[str]:
        """The DuckDB file that keeps the alert outbox; None: this store keeps none, so its jobs raise no alerts."""
        return None

    # ------------------------------------------------------------ what the graph writes, and its runs

    @abstractmethod
    def record_writer(self, resolve_incidents, batch_size: int, heartbeat_file: Optional[str] = None,
                      commit_after_s: Optional[float] = None):
        """The Beam `PTransform` that stores the graph's records.

        Its input is a dict of label -> `PCollection[SinkRecord]` ("Articles"
        for the enriched articles, then polls, errors, relinks); its output the
        `EnrichedArticle`s it stored. `resolve_incidents` (EnrichedArticle ->
        Incident) is applied where this store can read back what it needs, and
        the incidents written too. A store ignores the settings it has no use for.
        """

    @abstractmethod
    def start_run(self, run_id: str, mode: str, feeds: int, args: str) -> None:
        """Note the start of a run (`mode` batch or stream, `args` a JSON of its feeds and Beam flags)."""

    @abstractmethod
    def finish_run(self, run_id: str, status: str) -> dict:
        """Note the end of a run with `status` (ok, failed, stopped); return its summary, like a `runs` row."""

    # ------------------------------------------------------------ what the graph reads back

    @abstractmethod
    def stored_ids(self) -> list[str]:
        """Every stored article_id (for `NewItems`)."""

    @abstractmethod
    def prior_entries(self, since: Optional[str] = None) -> list:
        """`PriorEntry` of the stored articles of the dedup window that starts at `since` (for `MarkDuplicates`)."""

    @abstractmethod
    def feed_schedules(self) -> dict:
        """feed_url -> `FeedState` as stored (for `PollOnSchedule`)."""

    @abstractmethod
    def incident_window(self, since: Optional[str] = None) -> IncidentWindow:
        """Stored candidates of the window and their incidents (for `ResolveIncidents`)."""


# What the streaming scheduler needs of each feed, from a `feeds` table or view.
_FEED_STATES_SQL = (
    "SELECT feed_url, epoch(next_poll_at), consecutive_errors,"
    " CASE WHEN suspended THEN coalesce(suspended_reason, 'suspended') END,"
    " CASE WHEN suspended THEN epoch(last_polled_at) END, epoch(resumed_at) FROM feeds"
)


def feed_schedules_of(con) -> dict:
    """feed_url -> `FeedState` from the `feeds` table or view of an open connection."""
    from newswatch.transforms.schedule import FeedState

    return {
        url: FeedState(next_poll or 0.0, errors or 0, None, None, suspended, suspended_at or 0.0, resumed_at or 0.0)
        for url, next_poll, errors, suspended, suspended_at, resumed_at in con.execute(_FEED_STATES_SQL).fetchall()
    }


def _dedup_index_query(since: Optional[str]) -> tuple[str, list]:
    """SQL (over an `articles` table or view) for what dedup needs of stored articles.

    With `since`: articles published or first seen after it (a backfill of old
    news stored an hour ago is as fresh as today's news), plus the originals
    they point at, so a copy never loses its older original.
    """
    sql = (
        "SELECT article_id, strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00'),"
        " strftime(seen_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00'),"
        " content_hash, minhash, duplicate_of FROM articles"
    )
    if not since:
        return sql, []
    recent = "(coalesce(published_at, seen_at) >= CAST(? AS TIMESTAMPTZ) OR seen_at >= CAST(? AS TIMESTAMPTZ))"
    return f"{sql} WHERE {recent} OR article_id IN (SELECT duplicate_of FROM articles WHERE {recent})", [since] * 4


def prior_entries_of(con, since: Optional[str]) -> list:
    """`PriorEntry` of the stored articles of the window, from an open connection."""
    from newswatch.transforms.dedup.core import PriorEntry

    sql, params = _dedup_index_query(since)
    return [PriorEntry(*row) for row in con.execute(sql, params).fetchall()]
