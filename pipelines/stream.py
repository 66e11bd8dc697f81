"""`newswatch stream`: the long-lived job, the unbounded case of the graph.

    newswatch stream --feeds feeds.opml --db news.duckdb --poll-interval 30
    newswatch stream --feeds feeds.opml --sink parquet:gs://bucket/news --runner=DataflowRunner ...

`Ticks` (one tick per bundle, see transforms/schedule.py) drives
`PollOnSchedule`; everything after polling is the same `ProcessItems` the
batch job uses, with writers that commit every `stream.commit_after_s`. The
DuckDB file is opened only while a batch is written, so analysts can query
it read-only while the job runs.

SIGUSR1 prints the stack of every thread to stderr and the job goes on.

SIGINT/SIGTERM: polling stops at once, in-flight work gets up to
`stream.shutdown_grace_s` to be written (the job waits until no write has
happened for two ticks), then the process exits 0 between two writes, never
during one. Anything fetched but not yet written is fetched again after a
restart: the seen-set is rebuilt from what the file holds, so nothing is
lost and nothing is stored twice. On a cluster runner the job writes Parquet
and is stopped with the runner's own drain (Dataflow drain, Flink
stop-with-savepoint); the DirectRunner cannot stream into Parquet, because
its streaming mode holds windowed groups until the source ends.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from faulthandler import register as dump_stacks_on
from typing import Callable, Optional, Sequence

import apache_beam as beam

from newswatch.alerts.step import DeliverDueAlerts
from newswatch.pipelines.batch import pipeline_options
from newswatch.pipelines.graph import GraphSettings, ProcessItems, on_direct_runner, poll_on_schedule
from newswatch.sinks.duckdb import write_lock
from newswatch.transforms.schedule import Ticks

log = logging.getLogger(__name__)


def _last_write(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def build_stream(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str] = (),
                 stop_file: Optional[str] = None, stop_after_s: Optional[float] = None) -> beam.Pipeline:
    """The streaming pipeline: ticks, polls when due, the shared ProcessItems, alert retries.

    `stop_after_s` ends the ticks after that long (a timed run); by default they never end.
    """
    pipeline = beam.Pipeline(options=pipeline_options(beam_args, streaming=True))
    start = time.time()
    ticks = pipeline | "Tick" >> Ticks(
        settings.config.stream.tick_s,
        start,
        start + stop_after_s if stop_after_s is not None else None,
        wait_in_process=on_direct_runner(pipeline.options),
    )
    _ = (
        ticks
        | "PollOnSchedule" >> poll_on_schedule(settings, feed_urls, stop_file)
        | "ProcessItems" >> ProcessItems(settings)
    )
    outbox = settings.alert_outbox()
    if outbox is not None:
        _ = ticks | "RetryAlerts" >> DeliverDueAlerts(outbox, settings.alerts)
    return pipeline


def run_stream_on_cluster(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str]) -> int:
    """Submit the streaming job to a cluster runner (a store its workers write: Parquet) and wait while it runs.

    Stopping is the runner's: Flink stop-with-savepoint, Dataflow drain.
    """
    result = build_stream(feed_urls, settings, beam_args).run()
    log.info("streaming %d feeds into %s on %s", len(feed_urls), settings.db_path, type(result).__name__)
    result.wait_until_finish()
    return 0


def run_stream(feed_urls: Sequence[str], settings: GraphSettings, beam_args: Sequence[str] = (),
               on_exit: Optional[Callable[[], None]] = None) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or a pipeline failure (exit 1); `on_exit` runs before a clean exit."""
    store = settings.store()
    if not store.written_in_process:
        return run_stream_on_cluster(feed_urls, settings, beam_args)
    # Handlers first: a signal that arrives while the job is still starting
    # must also end in a clean exit 0, not in Python's default death.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack to stderr: a stuck job can be read
        dump_stacks_on(signal.SIGUSR1, all_threads=True)
    cfg = settings.config
    store.init()
    run_id = uuid.uuid4().hex[:12]
    store.start_run(run_id, "stream", len(feed_urls), json.dumps({"feeds": list(feed_urls), "beam": list(beam_args)}))
    control = tempfile.mkdtemp(prefix="newswatch-stream-")
    stop_file = os.path.join(control, "stop")
    heartbeat = os.path.join(control, "last-write")
    settings = dataclasses.replace(settings, heartbeat_file=heartbeat)

    pipeline = build_stream(feed_urls, settings, beam_args, stop_file)
    failure: list[BaseException] = []

    def execute():
        try:
            pipeline.run().wait_until_finish()
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=execute, name="newswatch-stream", daemon=True)
    worker.start()
    log.info("streaming %d feeds into %s (run %s); SIGINT/SIGTERM stops", len(feed_urls), settings.db_path, run_id)
    # Wait in slices: a signal delivered to another thread only sets CPython's pending flag, and a main thread
    # blocked in an untimed lock wait never wakes to run the handler (CI once saw SIGTERM ignored for 150 s).
    while not stop.wait(0.5):
        pass

    if failure:
        log.error("streaming pipeline failed: %s", failure[0])
        store.finish_run(run_id, "failed")
        return 1
    asked, asked_wall = time.monotonic(), time.time()
    open(stop_file, "w").close()
    # Quiet means no commit for two ticks and longer than a writer may hold a record.
    quiet_for = max(2 * cfg.stream.tick_s, cfg.stream.commit_after_s + 1.0) + 0.5
    while time.monotonic() - asked < cfg.stream.shutdown_grace_s:
        if time.time() - max(_last_write(heartbeat), asked_wall) >= quiet_for:
            break
        time.sleep(0.1)
    # Never cut a transaction in half: wait for the current one, but a stuck
    # writer must not keep the process alive past the grace period.
    locked = write_lock().acquire(timeout=cfg.sink.lock_timeout_s)
    try:
        summary = store.finish_run(run_id, "stopped")
        log.info("stopped after %.1f s of draining: %s", time.monotonic() - asked, summary)
    except Exception as exc:  # e.g. a reader held the file: the articles are stored, the run row is not
        log.error("stopped, but could not record the end of run %s: %s", run_id, exc)
    finally:
        if on_exit is not None:  # it takes the write lock itself, between two transactions
            if locked:
                write_lock().release()
            try:
                on_exit()
            except Exception as exc:  # the rows are stored; only their publication waits for the next start
                log.error("could not publish the last rows: %s", exc)
            locked = write_lock().acquire(timeout=cfg.sink.lock_timeout_s)
        sys.stdout.flush()
        sys.stderr.flush()
        # The Beam worker threads never return from an unbounded source;
        # leave without waiting for them, between two writes.
        os._exit(0 if locked else 1)
