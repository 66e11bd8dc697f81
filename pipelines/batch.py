"""`newswatch run`: one bounded pass over the feeds, the batch case of the graph.

    newswatch run --feeds feeds.txt --db news.duckdb                    # one worker process per core
    newswatch run --feeds feeds.txt --db news.duckdb --direct_running_mode=in_memory   # in one process
    newswatch run --feeds feeds.txt --sink parquet:gs://bucket/news --runner=DataflowRunner ...
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from typing import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, SetupOptions, StandardOptions

from newswatch.alerts.outbox import deliver_pending
from newswatch.pipelines.graph import GraphSettings, ProcessItems, poll_once
from newswatch.pipelines.worker import worker_command
from newswatch.records import FeedRequest

log = logging.getLogger(__name__)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _names(args: Sequence[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


def pipeline_options(beam_args: Sequence[str], *, streaming: bool = False) -> PipelineOptions:
    """Beam options from pass-through flags; the runner is always named, never left to Beam.

    A bounded run without `--runner` gets the FnApiRunner, by default with
    one worker process per core (`--direct_num_workers=N` sets another
    count, one meaning this process; `--direct_running_mode=in_memory`
    keeps everything in this process). A streaming run
    without `--runner` stays on the in-process DirectRunner: Beam 2.77's
    multi-processing mode ends an unbounded job early. Naming the runner
    matters: Beam 2.77's DirectRunner first tries the Prism runner, which
    downloads a binary.
    """
    args = list(beam_args)
    if not streaming and not _names(args, "--runner"):
        args.append("--runner=FnApiRunner")
        if not _names(args, "--direct_running_mode"):
            workers = PipelineOptions(args).view_as(DirectOptions).direct_num_workers
            if not _names(args, "--direct_num_workers") or workers == 0:  # 0 is Beam's "every core"
                workers = cores()
                args.append(f"--direct_num_workers={workers}")
            if workers > 1:
                args.append("--direct_running_mode=multi_processing")
    if not _names(args, "--runner"):
        args.append("--runner=DirectRunner")
    options = PipelineOptions(args)
    options.view_as(SetupOptions).save_main_session = False
    if streaming:
        options.view_as(StandardOptions).streaming = True
    return options


def batch_runner(options: PipelineOptions):
    """The runner object for a bounded run: None lets Beam build the one `--runner` names.

    For the FnApiRunner in multi-processing mode it is an FnApiRunner whose
    worker processes start through `newswatch.pipelines.worker`, which keeps
    Beam's tracebacks of failed bundles off stderr (the CLI reports a failure
    in one line). With Beam's logs on (`newswatch -v`) Beam's worker runs as is.
    """
    direct = options.view_as(DirectOptions)
    if options.view_as(StandardOptions).runner != "FnApiRunner" or direct.direct_running_mode != "multi_processing":
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle
    from apache_beam.transforms.environments import SubprocessSDKEnvironment

    quiet = not logging.getLogger("apache_beam").isEnabledFor(logging.INFO)
    # The FnApiRunner replaces its environment with Beam's own worker command
    # when the options say multi_processing: the runner object carries the
    # mode instead. Workers get the options as the DirectRunner passes them.
    direct.direct_running_mode = None
    provision = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(
            pipeline_options=JobServiceHandle.encode_pipeline_options(options.get_all_options())
        )
    )
    return fn_runner.FnApiRunner(
        default_environment=SubprocessSDKEnvironment.from_command_string(worker_command(quiet)),
        provision_info=provision,
    )


def _build_and_run(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str]) -> None:
    # Batch polls are unconditional: validators stored by a run that died
    # before its articles were written would otherwise hide those articles.
    requests = [FeedRequest(url, None, None) for url in feed_urls]
    options = pipeline_options(beam_args)
    with beam.Pipeline(runner=batch_runner(options), options=options) as pipeline:
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
