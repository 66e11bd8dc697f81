"""The one newswatch graph, shared by `newswatch run` (batch) and `newswatch stream`.

    FeedRequest -> PollFeeds -> NewItems -> FetchArticles -> ExtractText
                -> MarkDuplicates -> ExtractMentions -> WriteToDuckDB

Every stage's per-item failures are flattened into the sink's `errors`
table; feed polls update the `feeds` table. Only wiring lives here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import apache_beam as beam

from newswatch.config import Config
from newswatch.records import SinkRecord
from newswatch.sinks.duckdb import WriteToDuckDB, read_dedup_index, read_stored_ids, window_start
from newswatch.transforms.dedup import MarkDuplicates
from newswatch.transforms.extract_text import ExtractText
from newswatch.transforms.feeds import PollFeeds
from newswatch.transforms.fetch import FetchArticles, HttpSettings, NewItems
from newswatch.transforms.mentions import ExtractMentions


@dataclass(frozen=True)
class GraphSettings:
    """Everything the graph needs besides its input."""

    db_path: str
    config: Config
    http: HttpSettings


def _as_sink(field: str):
    return lambda value: SinkRecord(**{field: value})


class Ingest(beam.PTransform):
    """PCollection[FeedRequest] -> PCollection[str] of newly stored article ids."""

    def __init__(self, settings: GraphSettings):
        super().__init__()
        self._s = settings

    def expand(self, requests):
        cfg = self._s.config
        db = self._s.db_path
        items, polls, feed_errors = requests | "PollFeeds" >> PollFeeds(
            self._s.http, cfg.feeds.max_items_per_feed, cfg.feeds.future_tolerance_s
        )
        new_items = items | "NewItems" >> NewItems(functools.partial(read_stored_ids, db))
        pages, fetch_errors = new_items | "FetchArticles" >> FetchArticles(self._s.http)
        articles, extract_errors = pages | "ExtractText" >> ExtractText(cfg.extract.min_words)
        prior = functools.partial(read_dedup_index, db, window_start(cfg.dedup.window_days))
        deduped, relinks = articles | "MarkDuplicates" >> MarkDuplicates(
            prior=prior, window_days=cfg.dedup.window_days
        )
        enriched, mention_errors = deduped | "ExtractMentions" >> ExtractMentions(
            model=cfg.mentions.model or None
        )
        errors = (feed_errors, fetch_errors, extract_errors, mention_errors) | "AllErrors" >> beam.Flatten()
        records = (
            enriched | "EnrichedToSink" >> beam.Map(_as_sink("enriched")).with_output_types(SinkRecord),
            errors | "ErrorsToSink" >> beam.Map(_as_sink("error")).with_output_types(SinkRecord),
            polls | "PollsToSink" >> beam.Map(_as_sink("poll")).with_output_types(SinkRecord),
            relinks | "RelinksToSink" >> beam.Map(_as_sink("relink")).with_output_types(SinkRecord),
        ) | "SinkRecords" >> beam.Flatten()
        return records | "WriteToDuckDB" >> WriteToDuckDB(
            db, cfg.sink.batch_size, cfg.sink.lock_timeout_s
        )
