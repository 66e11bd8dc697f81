"""The one newswatch graph, shared by `newswatch run` (batch) and `newswatch stream`.

    batch:   FeedRequest ─ PollFeeds ──────┐
    stream:  ticks ─────── PollOnSchedule ─┴─ ProcessItems:
             NewItems → FetchArticles → ExtractText → MarkDuplicates
             → ExtractMentions → the store's writer (with ResolveIncidents)

Only the front differs: batch polls every feed once, streaming polls each
feed on its own schedule. Every stage's per-item failures go to the store's
`errors` table; feed polls update `feeds`. How the records are written is the
store's (`Store.record_writer`). Only wiring lives here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from newswatch.alerts.rules import AlertSettings
from newswatch.alerts.step import RaiseAlerts
from newswatch.config import Config
from newswatch.http.settings import HttpSettings
from newswatch.records import SinkRecord
from newswatch.sinks.duckdb import window_start
from newswatch.sinks.open_store import open_store
from newswatch.sinks.store import Store
from newswatch.transforms.dedup.step import MarkDuplicates, MarkDuplicatesInProcess
from newswatch.transforms.extract_text import ExtractText
from newswatch.transforms.feeds import PollFeeds
from newswatch.transforms.fetch import FetchArticles, NewItems
from newswatch.transforms.incidents.step import ResolveIncidents
from newswatch.transforms.mentions.step import ExtractMentions
from newswatch.transforms.schedule import PollOnSchedule, Schedule


@dataclass(frozen=True)
class GraphSettings:
    """Everything the graph needs besides its input."""

    db_path: str  # the DuckDB file, or the Parquet directory when parquet is True
    config: Config
    http: HttpSettings
    heartbeat_file: Optional[str] = None  # touched after every write (streaming shutdown)
    parquet: bool = False  # write Parquet files (cluster runs) instead of one DuckDB file
    alerts: Optional["AlertSettings"] = None  # rules and channels; None or no channels: no alerts

    def store(self) -> Store:
        """The store the graph writes to and reads back from."""
        return open_store(None if self.parquet else self.db_path, self.db_path if self.parquet else None,
                          self.config.sink.lock_timeout_s)

    def alert_outbox(self) -> Optional[str]:
        """Where alerts are queued: the store's outbox when there are channels to send to, else None (no alerts)."""
        if self.alerts is None or not self.alerts.channels:
            return None
        return self.store().alert_outbox()

    def loaders(self) -> "Loaders":
        """What the graph reads back from its store, as picklable callables."""
        store, since = self.store(), window_start(self.config.dedup.window_days)
        return Loaders(store.stored_ids, functools.partial(store.prior_entries, since), store.feed_schedules,
                       functools.partial(store.incident_window, since))


class Loaders(NamedTuple):
    """Picklable readers of a store, one per stage that reads stored rows back."""

    stored_ids: Callable[[], list]  # article ids, for NewItems
    prior: Callable[[], list]  # PriorEntry of the dedup window, for MarkDuplicates
    feed_states: Callable[[], dict]  # feed_url -> FeedState, for PollOnSchedule
    incident_window: Callable[[], tuple]  # IncidentWindow, for ResolveIncidents


def on_direct_runner(options: PipelineOptions) -> bool:
    """True when the options pick a local runner: the DirectRunner (also when no runner is named) or the FnApiRunner."""
    return str(options.view_as(StandardOptions).runner or "DirectRunner").endswith(("DirectRunner", "FnApiRunner"))


def _as_sink(field: str):
    return lambda value: SinkRecord(**{field: value})


def poll_once(settings: GraphSettings) -> PollFeeds:
    """The batch front: every FeedRequest polled once."""
    cfg = settings.config
    return PollFeeds(settings.http, cfg.feeds.max_items_per_feed, cfg.feeds.future_tolerance_s)


def poll_on_schedule(
    settings: GraphSettings, feed_urls: Sequence[str], stop_file: Optional[str] = None
) -> PollOnSchedule:
    """The streaming front: ticks in, each feed polled when due."""
    cfg = settings.config
    schedule = Schedule(
        poll_interval_s=cfg.stream.poll_interval_s,
        backoff_initial_s=cfg.stream.backoff_initial_s,
        backoff_max_s=cfg.stream.backoff_max_s,
        suspend_after=cfg.stream.suspend_after,
        resume_check_s=cfg.stream.resume_check_s,
    )
    return PollOnSchedule(
        feed_urls,
        settings.http,
        schedule,
        cfg.feeds.max_items_per_feed,
        cfg.feeds.future_tolerance_s,
        stored_states=settings.loaders().feed_states,
        stop_file=stop_file,
    )


class ProcessItems(beam.PTransform):
    """(items, polls, feed errors) -> PCollection[EnrichedArticle] of newly stored articles."""

    def __init__(self, settings: GraphSettings):
        super().__init__()
        self._s = settings

    def expand(self, polled):
        items, polls, feed_errors = polled
        cfg = self._s.config
        loaders = self._s.loaders()
        new_items = items | "NewItems" >> NewItems(loaders.stored_ids)
        pages, fetch_errors = new_items | "FetchArticles" >> FetchArticles(self._s.http)
        articles, extract_errors = pages | "ExtractText" >> ExtractText(cfg.extract.min_words)
        options = articles.pipeline.options
        in_process = options.view_as(StandardOptions).streaming and on_direct_runner(options)
        # The keyed-state dedup cannot settle on the streaming DirectRunner
        # (see MarkDuplicatesInProcess); everywhere else it is the one used.
        dedup = MarkDuplicatesInProcess if in_process else MarkDuplicates
        deduped, relinks = articles | "MarkDuplicates" >> dedup(prior=loaders.prior, window_days=cfg.dedup.window_days)
        enriched, mention_errors = deduped | "ExtractMentions" >> ExtractMentions(
            model=cfg.mentions.model or None
        )
        streams = {
            "Articles": (enriched, "enriched"),
            "Polls": (polls, "poll"),
            "FeedErrors": (feed_errors, "error"),
            "FetchErrors": (fetch_errors, "error"),
            "ExtractErrors": (extract_errors, "error"),
            "MentionErrors": (mention_errors, "error"),
            "Relinks": (relinks, "relink"),
        }
        records = {
            label: pcoll | f"{label}ToSink" >> beam.Map(_as_sink(field)).with_output_types(SinkRecord)
            for label, (pcoll, field) in streams.items()
        }
        # Streaming writers also commit on a time budget: on the DirectRunner a
        # bundle can run for minutes (see transforms/schedule.py, issue 12).
        commit_after_s = cfg.stream.commit_after_s if options.view_as(StandardOptions).streaming else None
        resolve = ResolveIncidents(loaders.incident_window, cfg.dedup.window_days, in_process=in_process)
        stored = records | "Store" >> self._s.store().record_writer(
            resolve, cfg.sink.batch_size, self._s.heartbeat_file, commit_after_s)
        outbox = self._s.alert_outbox()
        if outbox is not None:
            # Alerts follow the commit: only stored articles can alert (a batch run's, once all are stored).
            _ = stored | "RaiseAlerts" >> RaiseAlerts(
                outbox, self._s.alerts, whole_batch=not options.view_as(StandardOptions).streaming)
        return stored
