"""`newswatch run`: one bounded pass over the feeds, the batch case of the graph.

    newswatch run --feeds feeds.txt --db news.duckdb --runner=DirectRunner
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from newswatch.pipelines.graph import GraphSettings, ProcessItems, poll_once
from newswatch.records import FeedRequest
from newswatch.sinks.duckdb import DuckDBStore

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


def run_batch(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str] = ()) -> dict:
    """Run one batch pass; return the `runs` row summarising it."""
    store = DuckDBStore(settings.db_path, settings.config.sink.lock_timeout_s)
    store.init()
    # Batch polls are unconditional: validators stored by a run that died
    # before its articles were written would otherwise hide those articles.
    requests = [FeedRequest(url, None, None) for url in feed_urls]
    run_id = uuid.uuid4().hex[:12]
    store.start_run(run_id, "batch", len(requests), json.dumps({"feeds": list(feed_urls), "beam": list(beam_args)}))
    status = "failed"
    try:
        with beam.Pipeline(options=pipeline_options(beam_args)) as pipeline:
            _ = (
                pipeline
                | "FeedRequests" >> beam.Create(requests).with_output_types(FeedRequest)
                | "PollFeeds" >> poll_once(settings)
                | "ProcessItems" >> ProcessItems(settings)
            )
        status = "ok"
    finally:
        summary = store.finish_run(run_id, status)
    return summary
