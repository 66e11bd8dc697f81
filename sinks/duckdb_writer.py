"""`WriteToDuckDB`: the Beam sink that writes SinkRecords through `DuckDBStore` in short transactions.

    # PCollection[SinkRecord] -> PCollection[EnrichedArticle] newly stored
    stored = records | WriteToDuckDB(DuckDBStore("news.duckdb"))

Streaming jobs pass `commit_after_s`, so a record is committed within that
time even while a long bundle is still running (issue 12). `StoreInDuckDB` is
what `DuckDBStore.record_writer` gives the graph: one such writer per stream of
records, incidents resolved after the article commit.

The store comes in as an argument: `sinks/duckdb.py` imports this module (in
`record_writer`), so this module does not import it back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from newswatch.records import EnrichedArticle, Incident, SinkRecord

log = logging.getLogger(__name__)


class _WriteBatchFn(beam.DoFn):
    """Buffers records and writes them in short transactions: when `batch_size` are waiting, when the
    oldest has waited `commit_after_s` (a background flusher, so a record never waits on the next one),
    and at the end of every bundle.

    A long bundle (a streaming job's first poll of many feeds) therefore commits as it goes instead of
    at its end. Newly stored articles leave on the next `process()` or at `finish_bundle`.
    """

    def __init__(
        self,
        store,  # DuckDBStore
        batch_size: int,
        commit_after_s: Optional[float],
        heartbeat_file: Optional[str],
        progress_every_s: Optional[float],
    ):
        self._store = store
        self._batch_size = max(1, batch_size)
        self._commit_after_s = commit_after_s
        self._heartbeat_file = heartbeat_file
        self._progress_every_s = progress_every_s

    def setup(self):
        self._totals = {"articles": 0, "mentions": 0, "errors": 0}
        self._last_progress = time.monotonic()
        self._buffer: list[tuple] = []  # (record, timestamp, window)
        self._oldest = 0.0  # monotonic time the oldest buffered record arrived
        self._stored: list[WindowedValue] = []  # committed new articles not yet emitted
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one transaction of this writer at a time, in arrival order
        self._stop = threading.Event()
        self._flusher = None
        if self._commit_after_s:
            self._flusher = threading.Thread(target=self._flush_when_due, name="newswatch-commit", daemon=True)
            self._flusher.start()

    def teardown(self):
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=self._store.lock_timeout_s + 1)

    def process(self, record: SinkRecord, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        with self._buffer_lock:
            if not self._buffer:
                self._oldest = time.monotonic()
            self._buffer.append((record, timestamp, window))
            full = len(self._buffer) >= self._batch_size
        if full:
            self._flush()
        yield from self._take_stored()

    def finish_bundle(self):
        self._flush()
        yield from self._take_stored()

    def _flush_when_due(self) -> None:
        """Background: commit what has waited `commit_after_s`; a failure is retried, then raised by the bundle."""
        step = min(0.5, self._commit_after_s / 2)
        while not self._stop.wait(step):
            with self._buffer_lock:
                due = bool(self._buffer) and time.monotonic() - self._oldest >= self._commit_after_s
            if not due:
                continue
            try:
                self._flush()
            except Exception as exc:  # noqa: BLE001 - records stay buffered; the bundle's own flush raises it
                log.warning("commit of buffered records failed, retrying: %s", exc)

    def _flush(self) -> None:
        with self._flush_lock:
            with self._buffer_lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                stats = self._store.write_patiently([record for record, _, _ in batch])
            except BaseException:
                with self._buffer_lock:  # keep them for the next attempt, in order
                    self._buffer[:0] = batch
                    self._oldest = time.monotonic()
                raise
            self._account(stats)
            if stats.new_article_ids:
                new = set(stats.new_article_ids)
                stored = [
                    WindowedValue(record.enriched, timestamp, (window,))
                    for record, timestamp, window in batch
                    if record.enriched is not None and record.enriched.article.article_id in new
                ]
                with self._buffer_lock:
                    self._stored.extend(stored)

    def _take_stored(self) -> list[WindowedValue]:
        with self._buffer_lock:
            stored, self._stored = self._stored, []
        return stored

    def _account(self, stats) -> None:  # sinks.duckdb.WriteStats
        if self._heartbeat_file:
            with open(self._heartbeat_file, "w"):
                pass  # its mtime tells a stopping stream job when writes went quiet
        beam.metrics.Metrics.counter("sink", "articles").inc(len(stats.new_article_ids))
        beam.metrics.Metrics.counter("sink", "mentions").inc(stats.mentions)
        beam.metrics.Metrics.counter("sink", "errors").inc(stats.errors)
        self._totals["articles"] += len(stats.new_article_ids)
        self._totals["mentions"] += stats.mentions
        self._totals["errors"] += stats.errors
        now = time.monotonic()
        if self._progress_every_s is not None and now - self._last_progress >= self._progress_every_s:
            self._last_progress = now
            log.info(
                "progress: %(articles)d new articles, %(mentions)d mentions, %(errors)d errors stored",
                self._totals,
            )


class WriteToDuckDB(beam.PTransform):
    """SinkRecord -> EnrichedArticle of each newly stored article, written in short batched transactions.

    A transaction holds at most `batch_size` records. With `commit_after_s` set (the streaming job), no
    record waits longer than that for its commit, even inside a bundle that runs for minutes; without it
    (batch) the leftovers of a bundle are written when the bundle finishes. No GroupIntoBatches and no
    timers: on Beam 2.77's DirectRunner those hold a streaming job's elements until its source ends.
    """

    def __init__(
        self,
        store,
        batch_size: int = 200,
        heartbeat_file: Optional[str] = None,
        progress_every_s: Optional[float] = None,
        commit_after_s: Optional[float] = None,
    ):
        """`store` is the `DuckDBStore` written to; its `lock_timeout_s` bounds a writer's shutdown."""
        super().__init__()
        self._progress_every_s = progress_every_s
        self._store = store
        self._batch_size = batch_size
        self._heartbeat_file = heartbeat_file
        self._commit_after_s = commit_after_s

    def expand(self, records):
        return records | "Write" >> beam.ParDo(
            _WriteBatchFn(
                self._store, self._batch_size, self._commit_after_s, self._heartbeat_file, self._progress_every_s
            )
        ).with_output_types(EnrichedArticle)


def _incident_record(incident: Incident) -> SinkRecord:
    return SinkRecord(incident=incident)


class StoreInDuckDB(beam.PTransform):
    """The graph's records (label -> PCollection[SinkRecord]) -> EnrichedArticle newly stored in a DuckDB file.

    Each stream gets its own writer instead of one Flatten: on the
    DirectRunner a Flatten across stages holds a streaming job's elements
    until its source ends. Writers share one process-wide write lock, so they
    still take turns on the file. Incidents follow the article commit, so the
    stored window they re-read includes these articles.
    """

    def __init__(self, store, resolve_incidents: beam.PTransform, batch_size: int,
                 heartbeat_file: Optional[str] = None, commit_after_s: Optional[float] = None):
        super().__init__()
        self._store, self._resolve = store, resolve_incidents
        self._batch_size, self._heartbeat_file, self._commit_after_s = batch_size, heartbeat_file, commit_after_s

    def _writer(self, progress_every_s: Optional[float] = None) -> WriteToDuckDB:
        return WriteToDuckDB(self._store, self._batch_size, self._heartbeat_file, progress_every_s,
                             self._commit_after_s)

    def expand(self, records):
        for label, pcoll in records.items():
            if label != "Articles":
                _ = pcoll | f"Write{label}" >> self._writer()
        stored = records["Articles"] | "WriteArticles" >> self._writer(5.0)
        _ = (
            stored
            | "ResolveIncidents" >> self._resolve
            | "IncidentsToSink" >> beam.Map(_incident_record).with_output_types(SinkRecord)
            | "WriteIncidents" >> self._writer()
        )
        return stored
