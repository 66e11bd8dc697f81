"""Parquet sink for cluster runs: date-partitioned files that many workers can write at once.

A DuckDB file has a single writer, so on Flink, Spark or Dataflow the graph ends
here instead. Files go through Beam's `FileSystems`, so DIR may be a local
path, gs://, s3:// or any other filesystem Beam has. Hive-style layout:

    DIR/articles/date=2024-03-05/part-<id>.parquet     articles and their label columns
    DIR/mentions/date=2024-03-05/part-<id>.parquet     the mentions of those articles
    DIR/errors/date=…/  DIR/feed_polls/date=…/  DIR/relinks/date=…/
    DIR/incidents/date=…/  DIR/incident_mentions/date=…/   versions of incidents, by write day

Articles (and their mentions) are partitioned by the UTC date of
`published_at`, or `seen_at` when undated; errors by `at`; polls by
`polled_at`; relinks by the day they were written.

Idempotence, in two layers:
  1. Records are grouped per window, table, date and shard (a stable hash of
     the record's key). A group's file name is a hash of its sorted keys, so
     a retried bundle or a rerun over the same input rewrites the same files
     in place instead of adding new ones (atomic rename on local disks;
     object stores publish an object only once it is complete).
  2. When grouping differs between runs (other windows, a partial rerun),
     the same key can land in two files. The views `create_views` builds
     therefore keep one row per key, the one from the latest window and
     write. Reading back never shows a duplicate; storage may hold some.

Unbounded input is cut into fixed windows of `window_seconds` (late data
fires its own pane and file); bounded input keeps its windowing.

    # PCollection[SinkRecord] -> PCollection[EnrichedArticle] of the articles written
    written = records | WriteToParquet("gs://bucket/news")

`StoreInParquet` is what `ParquetStore.record_writer` gives the graph: its
streams of records, and the incidents of its articles, in one `WriteToParquet`.

Reading back (DuckDB views, loaders) is in `sinks/parquet_read.py`.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone
from typing import Iterable, Optional, Sequence

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import trigger, window

from newswatch.records import EnrichedArticle, ErrorRecord, FeedPoll, Incident, Relink, SinkRecord
from newswatch.sinks.article_rows import article_row, mention_rows
from newswatch.sinks.incidents_store import INCIDENT_COLUMNS, incident_row, latest_versions
from newswatch.sinks.schema import arrow_type, written_columns

_TS = pa.timestamp("us", tz="UTC")
_STRS = pa.list_(pa.string())
_STR = pa.string()


def arrow_columns(columns) -> tuple[tuple[str, pa.DataType], ...]:
    """(name, Arrow type) of `sinks/schema.py` columns."""
    return tuple((c.name, arrow_type(c.type)) for c in columns)


# Column name -> Parquet type: the DuckDB tables' columns a writer supplies (sinks/schema.py).
ARTICLE_COLUMNS = arrow_columns(written_columns("articles"))
MENTION_COLUMNS = arrow_columns(written_columns("mentions"))
ERROR_COLUMNS = arrow_columns(written_columns("errors"))  # one row per event; the `errors` view counts them
# A poll file holds the whole FeedPoll record: the view `feeds` is made from it.
POLL_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("feed_url", _STR), ("polled_at", _TS), ("status", _STR), ("http_status", pa.int32()),
    ("etag", _STR), ("last_modified", _STR), ("items_seen", pa.int32()), ("bozo", pa.bool_()),
    ("error_code", _STR), ("message", _STR), ("title", _STR), ("retry_after", pa.float64()),
    ("next_poll_at", _TS), ("suspended_reason", _STR),
)
RELINK_COLUMNS = tuple((n, t) for n, t in ARTICLE_COLUMNS if n in ("article_id", "duplicate_of", "duplicate_kind"))
INCIDENT_TABLE_COLUMNS = arrow_columns(written_columns("incidents"))
INCIDENT_MENTION_COLUMNS = arrow_columns(written_columns("incident_mentions"))
# Every file also carries when and in which window it was written: the views order versions by them.
WRITE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (("written_at", _TS), ("window_end_us", pa.int64()))

TABLE_COLUMNS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "articles": ARTICLE_COLUMNS,
    "mentions": MENTION_COLUMNS,
    "errors": ERROR_COLUMNS,
    "feed_polls": POLL_COLUMNS,
    "relinks": RELINK_COLUMNS,
    "incidents": INCIDENT_TABLE_COLUMNS,  # a version without members (n_articles 0) retires its id
    "incident_mentions": INCIDENT_MENTION_COLUMNS,
}
_ERROR_MESSAGE_MAX = 2000  # as the DuckDB sink stores it
# Object stores publish an object only when its upload completes, so no temp file is needed.
_ATOMIC_SCHEMES = {"gs", "s3", "azfs"}


# ---------------------------------------------------------------- pure functions


def parse_ts(value: Optional[str]) -> Optional[datetime]:
    """ISO-8601 string -> aware UTC datetime (naive means UTC); None stays None."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def utc_date(value: str) -> str:
    """UTC calendar date (YYYY-MM-DD) of an ISO-8601 timestamp."""
    return parse_ts(value).date().isoformat()


def record_kind(record: SinkRecord) -> str:
    """Which union member is set: enriched | error | poll | relink."""
    for kind in ("enriched", "error", "poll", "relink", "incident"):
        if getattr(record, kind) is not None:
            return kind
    raise ValueError("SinkRecord with no field set")


def record_identity(record: SinkRecord) -> str:
    """The key a record is de-duplicated by (a relink's includes its target, so versions never collide)."""
    if record.enriched is not None:
        return record.enriched.article.article_id
    if record.error is not None:
        e = record.error
        return "\x1f".join((e.stage, e.url, e.code, e.at))
    if record.poll is not None:
        return "\x1f".join((record.poll.feed_url, record.poll.polled_at))
    if record.relink is not None:
        r = record.relink
        return "\x1f".join((r.article_id, r.duplicate_of or "", r.duplicate_kind or ""))
    if record.incident is not None:  # the versions of an incident in one window share a group (the last is kept)
        return record.incident.incident_id
    raise ValueError("SinkRecord with no field set")


def partition_date(record: SinkRecord, today: str) -> str:
    """The date=… partition of a record; `today` (YYYY-MM-DD) is used for relinks."""
    if record.enriched is not None:
        a = record.enriched.article
        return utc_date(a.published_at or a.seen_at)
    if record.error is not None:
        return utc_date(record.error.at)
    if record.poll is not None:
        return utc_date(record.poll.polled_at)
    return today


def stable_shard(identity: str, shards: int) -> int:
    """Shard in [0, shards) from a hash that is the same in every process (unlike `hash`)."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(identity.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def part_id(kind: str, date: str, shard: int, identities: Iterable[str]) -> str:
    """File stem for one group: the same keys give the same name, in any order."""
    h = hashlib.sha256(f"{kind}\n{date}\n{shard}".encode("utf-8"))
    for identity in sorted(set(identities)):
        h.update(b"\n" + identity.encode("utf-8"))
    return "part-" + h.hexdigest()[:24]


def _table(rows: list[dict], columns, written_at: datetime, window_end_us: int) -> pa.Table:
    for row in rows:
        row["written_at"] = written_at
        row["window_end_us"] = window_end_us
    schema = pa.schema([pa.field(n, t) for n, t in columns + WRITE_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def _ts_fields(row: dict, names: Sequence[str]) -> dict:
    for name in names:
        row[name] = parse_ts(row[name])
    return row


def article_tables(
    enriched: Sequence[EnrichedArticle], written_at: datetime, window_end_us: int
) -> tuple[pa.Table, pa.Table]:
    """(articles, mentions) Arrow tables for a group of enriched articles."""
    # An article without mentions was still read by this run's extractor: record its version.
    group_version = next((m.extractor_version for e in enriched for m in e.mentions), None)
    article_rows = [_ts_fields(article_row(e, group_version), ("published_at", "fetched_at", "seen_at"))
                    for e in enriched]
    mentions = [row for e in enriched for row in mention_rows(e)]
    return (
        _table(article_rows, ARTICLE_COLUMNS, written_at, window_end_us),
        _table(mentions, MENTION_COLUMNS, written_at, window_end_us),
    )


def errors_table(errors: Sequence[ErrorRecord], written_at: datetime, window_end_us: int) -> pa.Table:
    """Arrow table of error events (one row per stage, url, code and time)."""
    rows = [
        _ts_fields({**e._asdict(), "message": e.message[:_ERROR_MESSAGE_MAX]}, ("at",)) for e in errors
    ]
    return _table(rows, ERROR_COLUMNS, written_at, window_end_us)


def polls_table(polls: Sequence[FeedPoll], written_at: datetime, window_end_us: int) -> pa.Table:
    """Arrow table of feed polls."""
    rows = [_ts_fields(p._asdict(), ("polled_at", "next_poll_at")) for p in polls]
    return _table(rows, POLL_COLUMNS, written_at, window_end_us)


def relinks_table(relinks: Sequence[Relink], written_at: datetime, window_end_us: int) -> pa.Table:
    """Arrow table of relinks."""
    return _table([r._asdict() for r in relinks], RELINK_COLUMNS, written_at, window_end_us)


def incident_tables(incidents: Sequence[Incident], written_at: datetime, window_end_us: int) -> list:
    """(incident_mentions, incidents) Arrow tables for a group of incident versions."""
    rows = [_ts_fields(dict(zip(INCIDENT_COLUMNS, incident_row(i))), ("first_published", "first_seen", "last_seen"))
            for i in incidents]
    members = [{**m._asdict(), "incident_id": i.incident_id} for i in incidents for m in i.members]
    return [("incident_mentions", _table(members, INCIDENT_MENTION_COLUMNS, written_at, window_end_us)),
            ("incidents", _table(rows, INCIDENT_TABLE_COLUMNS, written_at, window_end_us))]


def group_tables(
    kind: str, records: Sequence[SinkRecord], written_at: datetime, window_end_us: int
) -> list[tuple[str, pa.Table]]:
    """(table name, Arrow table) pairs for one group of same-kind records, one row per key, sorted by key."""
    by_key: dict[str, SinkRecord] = {}
    for record in records:
        # A relink's identity includes its target; keep one relink per article, as one UPDATE pass would.
        key = (record.relink.article_id if kind == "relink" else
               record.incident.incident_id if kind == "incident" else record_identity(record))
        by_key[key] = record
    ordered = [by_key[k] for k in sorted(by_key)]
    if kind == "enriched":
        articles, mentions = article_tables([r.enriched for r in ordered], written_at, window_end_us)
        # Mentions first: an article row is visible only once its mentions are.
        return [("mentions", mentions), ("articles", articles)] if mentions.num_rows else [("articles", articles)]
    if kind == "error":
        return [("errors", errors_table([r.error for r in ordered], written_at, window_end_us))]
    if kind == "poll":
        return [("feed_polls", polls_table([r.poll for r in ordered], written_at, window_end_us))]
    if kind == "incident":  # `records` order, not key order: the last version of an incident wins
        return incident_tables(latest_versions([r.incident for r in records]), written_at, window_end_us)
    return [("relinks", relinks_table([r.relink for r in ordered], written_at, window_end_us))]


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise an Arrow table as one zstd-compressed Parquet file."""
    out = pa.BufferOutputStream()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue().to_pybytes()


def write_file(path: str, data: bytes) -> None:
    """Write bytes to any Beam filesystem so readers never see a half-written file."""
    scheme = FileSystems.get_scheme(path)
    if scheme in _ATOMIC_SCHEMES:
        target = path
    else:
        directory, name = FileSystems.split(path)
        target = FileSystems.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")
    handle = FileSystems.create(
        target, mime_type="application/octet-stream", compression_type=CompressionTypes.UNCOMPRESSED
    )
    try:
        handle.write(data)
    finally:
        handle.close()
    if target == path:
        return
    if scheme not in (None, "file") and FileSystems.exists(path):
        # os.rename replaces atomically; other filesystems (HDFS) refuse to rename onto a file.
        FileSystems.delete([path])
    FileSystems.rename([target], [path])


# ---------------------------------------------------------------- Beam

GroupKey = tuple[str, str, int]  # (kind, date, shard)


def _key_record(record: SinkRecord, shards: int) -> tuple[GroupKey, SinkRecord]:
    today = datetime.now(timezone.utc).date().isoformat()
    key = (record_kind(record), partition_date(record, today), stable_shard(record_identity(record), shards))
    return key, record


class _WriteGroupFn(beam.DoFn):
    """Writes one group's Parquet file(s); yields the EnrichedArticles written."""

    def __init__(self, directory: str):
        self._directory = directory

    def process(self, element, w=beam.DoFn.WindowParam):
        (kind, date, shard), records = element
        records = list(records)
        stem = part_id(kind, date, shard, (record_identity(r) for r in records))
        written_at = datetime.now(timezone.utc)
        window_end_us = int(w.max_timestamp().micros)
        for table_name, table in group_tables(kind, records, written_at, window_end_us):
            path = FileSystems.join(self._directory, table_name, f"date={date}", stem + ".parquet")
            write_file(path, parquet_bytes(table))
            beam.metrics.Metrics.counter("parquet_sink", f"{table_name}_rows").inc(table.num_rows)
            beam.metrics.Metrics.counter("parquet_sink", "files").inc()
        if kind == "enriched":
            written = {}
            for r in records:
                written[r.enriched.article.article_id] = r.enriched
            yield from (written[aid] for aid in sorted(written))


class WriteToParquet(beam.PTransform):
    """SinkRecord -> EnrichedArticle of each article written, as date-partitioned Parquet under `directory`.

    Like `WriteToDuckDB`'s output, except that a rerun emits rewritten
    articles again: files cannot tell new from rewritten.

    Args:
      directory: root of the dataset (local path, gs://…, s3://…).
      shards: files per table, date and window; raise it when one day holds
        more rows than one worker should hold in memory.
      window_seconds: fixed window for unbounded input: one set of files per
        window, so shorter means fresher data and more small files.
      allowed_lateness_s: how late data may arrive and still be written (in its own file).
    """

    def __init__(
        self,
        directory: str,
        shards: int = 1,
        window_seconds: float = 300.0,
        allowed_lateness_s: float = 86400.0,
    ):
        super().__init__()
        self._directory = directory.rstrip("/") or "/"
        self._shards = shards
        self._window_seconds = window_seconds
        self._allowed_lateness_s = allowed_lateness_s

    def expand(self, records):
        if not records.is_bounded:
            records = records | "FixedWindows" >> beam.WindowInto(
                window.FixedWindows(self._window_seconds),
                trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
                accumulation_mode=trigger.AccumulationMode.DISCARDING,
                allowed_lateness=self._allowed_lateness_s,
            )
        return (
            records
            | "KeyByPartition" >> beam.Map(_key_record, self._shards)
            .with_output_types(tuple[GroupKey, SinkRecord])
            | "GroupByPartition" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteGroupFn(self._directory)).with_output_types(EnrichedArticle)
        )


def _enriched(record: SinkRecord) -> EnrichedArticle:
    return record.enriched


def _incident_record(incident: Incident) -> SinkRecord:
    return SinkRecord(incident=incident)


class StoreInParquet(beam.PTransform):
    """The graph's records (label -> PCollection[SinkRecord]) -> EnrichedArticle written, in one `WriteToParquet`.

    Incidents are resolved before the write, from the articles that go in
    ("Articles"): the stored window they read back holds earlier runs' reports.
    """

    def __init__(self, directory: str, resolve_incidents: beam.PTransform):
        super().__init__()
        self._directory, self._resolve = directory, resolve_incidents

    def expand(self, records):
        incidents = (
            records["Articles"]
            | "Enriched" >> beam.Map(_enriched).with_output_types(EnrichedArticle)
            | "ResolveIncidents" >> self._resolve
            | "IncidentsToSink" >> beam.Map(_incident_record).with_output_types(SinkRecord)
        )
        return (
            (*records.values(), incidents)
            | "AllRecords" >> beam.Flatten()
            | "WriteToParquet" >> WriteToParquet(self._directory)
        )
