"""DuckDB sink: idempotent, batched writes that hold the file only briefly.

`DuckDBStore` owns every connection to the file and is its `Store`
(`sinks/store.py`): the read-only sessions the commands ask, the typed
readers the graph needs, its writer (`record_writer`), run bookkeeping. Writers open it
read-write only for the length of one short transaction and close it again;
readers open read-only. A lock held by another process is retried until
`lock_timeout_s`, then reported with what to do about it; the pipeline's
writers (`write_patiently`) keep retrying with backoff instead, so a store
that is locked or full stalls the job but never kills it. The job writes its
private store (`news.duckdb.job/store.duckdb`); analysts read the views that
`sinks/publish.py` publishes from it.

Writes are keyed: an article is inserted once (by `article_id`) together
with its mentions, errors are one row per (stage, url, code), feed state is
one row per feed. Running the same batch twice adds no rows.

The Beam writer, `WriteToDuckDB`, is in `sinks/duckdb_writer.py`; this module
imports it only when a job asks for it, so `newswatch report` never loads Beam.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterator, NamedTuple, Optional, Sequence

import duckdb

from newswatch.sinks.incidents_store import incident_window, write_incidents
from newswatch.sinks.duckdb_connect import connect_when_free, is_lock_error
from newswatch.sinks.duckdb_rows import _apply_relinks, _insert_articles, _record_polls, _upsert_errors
from newswatch.sinks.schema import migrate
from newswatch.sinks.store import IncidentWindow, Store, feed_schedules_of, prior_entries_of

if TYPE_CHECKING:  # the records module imports Beam, which `newswatch report` must not load
    from newswatch.records import SinkRecord

log = logging.getLogger(__name__)


# Held for the length of every write transaction in this process, so a
# shutdown can wait for the current transaction instead of cutting it.
_WRITE_LOCK = threading.Lock()


def write_lock() -> threading.Lock:
    """The lock every write transaction of this process holds."""
    return _WRITE_LOCK


class DatabaseLocked(RuntimeError):
    """Another process holds the DuckDB file; `error` is DuckDB's own message."""

    def __init__(self, message: str, error: Optional[Exception] = None):
        super().__init__(message)
        self.error = error


class WriteStats(NamedTuple):
    """What one write transaction changed."""

    new_article_ids: list[str]
    mentions: int
    errors: int
    polls: int
    relinks: int


def store_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the file cannot be used right now (locked, disk full, I/O), not a bug."""
    if isinstance(exc, (DatabaseLocked, OSError)):
        return True
    if isinstance(exc, (duckdb.IOException, duckdb.FatalException)):
        return True
    text = str(exc).lower()
    return "no space left" in text or "database has been invalidated" in text or "could not write" in text


# Per store file: when it became unavailable and when that was last logged, so that
# every writer (and the publisher) waiting on it shares one line a minute.
_OUTAGES: dict[str, list[float]] = {}
_OUTAGES_LOCK = threading.Lock()


def note_unavailable(path: str, exc: BaseException, doing: str) -> None:
    """Record a failed attempt on `path`; log it if nothing was logged about the file for a minute."""
    now = time.monotonic()
    with _OUTAGES_LOCK:
        since, last_log = _OUTAGES.setdefault(path, [now, -math.inf])
        if now - last_log < 60.0:
            return
        _OUTAGES[path][1] = now
    log.warning("store %s unavailable for %.0f s (%s); retrying: %s",
                path, now - since, doing, str(exc).splitlines()[0][:300])


def note_available(path: str) -> None:
    """The file works again: say so once if an outage was logged."""
    with _OUTAGES_LOCK:
        outage = _OUTAGES.pop(path, None)
    if outage is not None:
        log.info("store %s available again after %.0f s", path, time.monotonic() - outage[0])


def _lock_message(path: str, exc: Exception) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    if directory.endswith(".job"):  # the job's private store (sinks/publish.py)
        return (
            f"DuckDB file {path} is locked by another process ({exc}). It is the newswatch job's private "
            f"store: close whatever opened it, and point analysts' clients at {directory[:-len('.job')]} instead."
        )
    return (
        f"DuckDB file {path} is locked by another process ({exc}). "
        "Only one process may open it read-write: close other read-write connections "
        "(a DuckDB shell, a notebook, a second newswatch job on the same file) or open them "
        "read-only (`duckdb -readonly`, `newswatch query`), then retry."
    )


class DuckDBStore(Store):
    """Owns connections to one newswatch DuckDB file: the job's private store or the analyst file."""

    written_in_process = True

    def __init__(self, path: str, lock_timeout_s: float = 5.0):
        self.path = str(path)
        self.lock_timeout_s = lock_timeout_s
        self._migrated = False

    def __reduce__(self):
        return (DuckDBStore, (self.path, self.lock_timeout_s))

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            return connect_when_free(self.path, read_only, self.lock_timeout_s)
        except duckdb.IOException as exc:
            if is_lock_error(exc):
                raise DatabaseLocked(_lock_message(self.path, exc), exc) from None
            raise

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, schema up to date, closed on exit."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        con = self._connect(read_only=False)
        try:
            # zstd keeps checkpoints of long article text fast and the file small.
            con.execute("SET force_compression = 'zstd'")
            if not self._migrated:
                migrate(con)
                self._migrated = True
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, holding this process's write lock; committed on exit."""
        with _WRITE_LOCK, self.writer() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise

    def _open_read_only(self) -> duckdb.DuckDBPyConnection:
        return self._connect(read_only=True)

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, closed on exit."""
        con = self._connect(read_only=True)
        try:
            yield con
        finally:
            con.close()

    def source(self) -> str:
        """The file's absolute path."""
        return os.path.abspath(self.path)

    def exists(self) -> bool:
        """True when the database file exists."""
        return os.path.exists(self.path)

    def init(self) -> None:
        """Create the file and apply migrations."""
        with self.writer():
            pass

    # ------------------------------------------------------------ writes

    def write(self, records: Sequence["SinkRecord"]) -> WriteStats:
        """Write a batch in one transaction; idempotent."""
        enriched = [r.enriched for r in records if r.enriched is not None]
        errors = [r.error for r in records if r.error is not None]
        polls = [r.poll for r in records if r.poll is not None]
        relinks = [r.relink for r in records if r.relink is not None]
        with self.transaction() as con:
            new_ids, n_mentions = _insert_articles(con, enriched)
            _upsert_errors(con, errors)
            _record_polls(con, polls)
            _apply_relinks(con, relinks)
            write_incidents(con, [r.incident for r in records if r.incident is not None])
        return WriteStats(new_ids, n_mentions, len(errors), len(polls), len(relinks))

    def write_patiently(self, records: Sequence["SinkRecord"], stop: Optional[threading.Event] = None,
                        max_delay_s: float = 30.0) -> Optional[WriteStats]:
        """`write`, retried with backoff for as long as the file is unavailable (locked, disk full).

        The batch stays in memory meanwhile; one line a minute says so. Returns
        None only when `stop` is set before the batch could be written. A
        failed attempt rolled back completely, so a retry stores nothing twice.
        """
        delay = 0.5
        while True:
            try:
                stats = self.write(records)
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                note_unavailable(self.path, exc, f"holding {len(records)} records in memory, next try in {delay:.0f} s")
                if stop is not None and stop.wait(delay):
                    return None
                if stop is None:
                    time.sleep(delay)
                delay = min(delay * 2, max_delay_s)
                continue
            note_available(self.path)
            return stats

    def record_writer(self, resolve_incidents, batch_size: int, heartbeat_file: Optional[str] = None,
                      commit_after_s: Optional[float] = None):
        """`StoreInDuckDB`: one writer per stream of records, incidents resolved after the article commit."""
        from newswatch.sinks.duckdb_writer import StoreInDuckDB  # Beam: only a job asks for its writer

        return StoreInDuckDB(self, resolve_incidents, batch_size, heartbeat_file, commit_after_s)

    def alert_outbox(self) -> str:
        """This file: it keeps the alert outbox too."""
        return self.path

    def start_run(self, run_id: str, mode: str, feeds: int, args: str) -> None:
        """Record the start of a run."""
        with self.writer() as con:
            before = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            con.execute(
                "INSERT INTO runs (run_id, mode, started_at, status, feeds, articles_before, args) "
                "VALUES (?, ?, now(), 'running', ?, ?, ?)",
                [run_id, mode, feeds, before, args],
            )

    def finish_run(self, run_id: str, status: str) -> dict:
        """Record the end of a run; return its summary row."""
        with self.writer() as con:
            con.execute(
                """
                UPDATE runs SET finished_at = now(), status = ?,
                    articles_after = (SELECT count(*) FROM articles),
                    mentions_after = (SELECT count(*) FROM mentions),
                    errors_seen = (SELECT count(*) FROM errors
                                   WHERE errors."at" >= date_trunc('second', runs.started_at))
                WHERE run_id = ?
                """,
                [status, run_id],
            )
            cur = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
            names = [d[0] for d in cur.description]
            return dict(zip(names, cur.fetchone()))

    # ------------------------------------------------------------ reads

    def stored_ids(self) -> list[str]:
        """Every stored article_id (empty when the file does not exist yet)."""
        with self._loading("articles") as con:
            return [] if con is None else [row[0] for row in con.execute("SELECT article_id FROM articles").fetchall()]

    def feed_schedules(self) -> dict:
        """feed_url -> `FeedState` as stored, for the streaming scheduler."""
        with self._loading("feeds") as con:
            return {} if con is None else feed_schedules_of(con)

    def resume_feeds(self, feed_urls: Optional[Sequence[str]] = None) -> list[tuple[str, str]]:
        """Lift the suspension of the given feeds (None: every suspended feed); return (url, old reason).

        They are polled at once by the next stream job, and within
        `resume_check_s` by one that is running.
        """
        with self.transaction() as con:
            rows = con.execute(
                "SELECT feed_url, coalesce(suspended_reason, 'suspended') FROM feeds WHERE suspended"
                + ("" if feed_urls is None else " AND list_contains(?, feed_url)") + " ORDER BY feed_url",
                [] if feed_urls is None else [list(feed_urls)],
            ).fetchall()
            con.execute(
                "UPDATE feeds SET suspended = false, suspended_reason = NULL, consecutive_errors = 0,"
                " next_poll_at = NULL, resumed_at = now() WHERE list_contains(?, feed_url)",
                [[url for url, _ in rows]],
            )
        return [tuple(row) for row in rows]

    def prior_entries(self, since: Optional[str] = None) -> list:
        """`PriorEntry` of the stored articles of the dedup window, for `MarkDuplicates`.

        `since` limits to articles published or first seen after that ISO
        time (the dedup window), plus the originals those point at.
        """
        with self._loading("articles") as con:
            return [] if con is None else prior_entries_of(con, since)

    def incident_window(self, since: Optional[str] = None) -> IncidentWindow:
        """Stored candidates of the window and their incidents, for `ResolveIncidents`."""
        with self._loading("incident_mentions") as con:
            return IncidentWindow([], {}) if con is None else IncidentWindow(*incident_window(con, since))

    @contextlib.contextmanager
    def _loading(self, table: str) -> Iterator[Optional[duckdb.DuckDBPyConnection]]:
        """A read-only connection for the graph's loaders; None while the file or `table` does not exist yet.

        It holds this process's write lock: the loaders run inside the job,
        whose writers may hold the file open, and in one process DuckDB refuses
        a read-only connection beside a read-write one.
        """
        with _WRITE_LOCK:
            if not self.exists():
                yield None
                return
            with self.reader() as con:
                yield con if _has_table(con, table) else None


def _rollback(con) -> None:
    """Roll back, keeping the original error: after a failed COMMIT (a full
    disk) DuckDB has no transaction left and ROLLBACK itself fails."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _has_table(con, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def read_incident_window(path: str, since: Optional[str] = None) -> IncidentWindow:
    """`DuckDBStore.incident_window` of the file at `path`."""
    return DuckDBStore(path).incident_window(since)


def window_start(days: float) -> str:
    """ISO time `days` ago, the start of the dedup window."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0).isoformat()
