"""Alerts on new defection reports: the ``RaiseAlerts`` stage.

Input of ``RaiseAlerts``: PCollection[EnrichedArticle] of newly stored
articles (what ``ProcessItems`` returns). Output: PCollection[str] of the
alert ids it enqueued. Each article is checked against the rules of the
``[alerts]`` table of the config file and every match is written to the
DuckDB outbox once per story; after each bundle the due alerts are
delivered. ``DeliverDueAlerts`` retries due alerts in a stream job.

The DoFns only adapt: the rules are ``newswatch.alerts.rules``'s, enqueueing
and delivery ``newswatch.alerts.outbox``'s, sending ``newswatch.alerts.channels``'s.
The ``newswatch alerts`` command and the ``--alert-*`` flags are the CLI's
(``newswatch/cli_alerts.py``).

Example::

    NEWSWATCH_WEBHOOK_SECRET=... newswatch run --feeds feeds.txt --db news.duckdb \\
        --alert-webhook https://example.org/hook
    newswatch alerts --db news.duckdb --since 24h
"""

from __future__ import annotations

import logging
import time

import apache_beam as beam

from newswatch.alerts.outbox import deliver_pending, enqueue_alerts
from newswatch.alerts.rules import AlertSettings, match_rule
from newswatch.records import EnrichedArticle
from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore
from newswatch.transforms.incidents.core import epoch

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- Beam


class _EnqueueFn(beam.DoFn):
    """Writes outbox rows for one new article; yields the new alert ids."""

    def __init__(self, db_path: str, settings: AlertSettings):
        self._db_path = db_path
        self._settings = settings

    def setup(self):
        self._store = DuckDBStore(self._db_path)

    def process(self, enriched: EnrichedArticle):
        ids = enqueue_alerts(self._store, enriched, self._settings)
        beam.metrics.Metrics.counter("alerts", "enqueued").inc(len(ids))
        yield from ids


class _DeliverFn(beam.DoFn):
    """Passes alert ids through; after a bundle that had any, delivers what is due."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 0.0, passthrough: bool = True):
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s
        self._passthrough = passthrough

    def setup(self):
        self._client = self._settings.client()
        self._last = float("-inf")

    def start_bundle(self):
        self._seen = False

    def process(self, element):
        self._seen = True
        if self._passthrough:
            yield element

    def finish_bundle(self):
        if not self._seen or time.monotonic() - self._last < self._every_s:
            return
        self._last = time.monotonic()
        try:
            stats = deliver_pending(self._db_path, self._settings, client=self._client)
        except DatabaseLocked as exc:
            # The rows stay pending in the outbox: the next pass delivers them.
            beam.metrics.Metrics.counter("alerts", "delivery_deferred").inc()
            log.warning("alert delivery deferred: %s", exc)
            return
        for key in ("delivered", "failed", "disabled"):
            beam.metrics.Metrics.counter("alerts", key).inc(stats[key])

    def teardown(self):
        self._client.close()


def _report_order(enriched: EnrichedArticle) -> tuple[float, str]:
    a = enriched.article
    return epoch(a.published_at) or epoch(a.seen_at) or 0.0, a.article_id


class RaiseAlerts(beam.PTransform):
    """EnrichedArticle (newly stored) -> alert ids enqueued in the outbox, then delivered when due.

    With ``whole_batch`` (a batch run), the articles that match a rule are enqueued only once every article of
    the run is stored, in order of publication: the incident gate then sees each incident whole, so it alerts
    once, whichever worker stored which copy first. A stream alerts per article as it lands.
    """

    def __init__(self, db_path: str, settings: AlertSettings, whole_batch: bool = False):
        super().__init__()
        self._db_path = db_path
        self._settings = settings
        self._whole_batch = whole_batch

    def expand(self, new_articles):
        if self._whole_batch:
            rules = [r for r in self._settings.rules if r.channels]
            new_articles = (
                new_articles
                | "MatchesARule" >> beam.Filter(lambda e: any(match_rule(r, e) for r in rules))
                | "AfterAllStored" >> beam.combiners.ToList()
                | "InReportOrder" >> beam.FlatMap(lambda found: sorted(found, key=_report_order)
                                                  ).with_output_types(EnrichedArticle)
            )
        return (
            new_articles
            | "Enqueue" >> beam.ParDo(_EnqueueFn(self._db_path, self._settings)).with_output_types(str)
            | "Deliver" >> beam.ParDo(_DeliverFn(self._db_path, self._settings)).with_output_types(str)
        )


class DeliverDueAlerts(beam.PTransform):
    """Any PCollection (e.g. a stream job's ticks) -> retries of due alerts at most every `every_s`; no output."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 5.0):
        super().__init__()
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s

    def expand(self, ticks):
        return ticks | "DeliverDue" >> beam.ParDo(
            _DeliverFn(self._db_path, self._settings, self._every_s, passthrough=False)
        ).with_output_types(str)
