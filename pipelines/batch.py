"""`newswatch run`: one bounded pass over the feeds, the batch case of the graph.

    newswatch run --feeds feeds.txt --db news.duckdb --runner=DirectRunner
    newswatch run --feeds feeds.txt --sink parquet:gs://bucket/news --runner=DataflowRunner ...
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from newswatch.alerts.outbox import deliver_pending
from newswatch.pipelines.graph import GraphSettings, ProcessItems, poll_once
from newswatch.records import FeedRequest

log = logging.getLogger(__name__)


def pipeline_options(beam_args: Sequence[str], *, streaming: bool = False) -> PipelineOptions:
    """Beam options from pass-through flags, defaulting to the in-process DirectRunner.

    Beam 2.77 would otherwise try the Prism runner, which downloads a binary.
    """
    args = list(beam_args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append("--runner=DirectRunner")
    options = PipelineOptions(args)
    options.view_as(beam.options.pipeline_options.SetupOptions).save_main_session = False
    if streaming:
        options.view_as(beam.options.pipeline_options.StandardOptions).streaming = True
    return options


def _build_and_run(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str]) -> None:
    # Batch polls are unconditional: validators stored by a run that died
    # before its articles were written would otherwise hide those articles.
    requests = [FeedRequest(url, None, None) for url in feed_urls]
    with beam.Pipeline(options=pipeline_options(beam_args)) as pipeline:
        _ = (
            pipeline
            | "FeedRequests" >> beam.Create(requests).with_output_types(FeedRequest)
            | "PollFeeds" >> poll_once(settings)
            | "ProcessItems" >> ProcessItems(settings)
        )


def run_batch(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str] = ()) -> dict:
    """Run one batch pass; return a summary like a `runs` row."""
    store = settings.store()
    store.init()
    run_id = uuid.uuid4().hex[:12]
    store.start_run(run_id, "batch", len(feed_urls), json.dumps({"feeds": list(feed_urls), "beam": list(beam_args)}))
    try:
        _build_and_run(feed_urls, settings, beam_args)
        outbox = settings.alert_outbox()
        if outbox is not None:
            # Alerts whose first attempt failed inside the pipeline get their
            # retries here, bounded by the alerts' drain time.
            log.info("alerts: %s", deliver_pending(outbox, settings.alerts, wait=True))
    except BaseException:
        try:
            store.finish_run(run_id, "failed")
        except Exception as exc:  # a full disk cannot take this row either
            log.error("could not mark run %s as failed: %s", run_id, exc)
        raise
    return store.finish_run(run_id, "ok")
