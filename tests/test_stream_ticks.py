"""The streaming clock and runner defaults behind issue 12 (fast; no network)."""

from __future__ import annotations

import json
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

from newswatch.pipelines.batch import pipeline_options
from newswatch.transforms.schedule import Ticks


class _SlowBundleLog(beam.DoFn):
    """Takes longer than a tick per element and writes each bundle's elements as one line."""

    def __init__(self, path: str):
        self._path = path

    def start_bundle(self):
        self._ticks = []

    def process(self, tick):
        self._ticks.append(tick)
        time.sleep(0.5)

    def finish_bundle(self):
        with open(self._path, "a") as fh:
            fh.write(json.dumps(self._ticks) + "\n")


def test_ticks_end_a_bundle_after_every_tick_even_when_work_outlasts_the_tick(tmp_path):
    # Beam's PeriodicImpulse would keep claiming ticks in one bundle here (issue 12).
    log = tmp_path / "bundles.jsonl"
    start = time.time()
    with beam.Pipeline(options=pipeline_options([], streaming=True)) as p:
        _ = p | Ticks(0.2, start, start + 2.0) | beam.ParDo(_SlowBundleLog(str(log)))
    bundles = [json.loads(line) for line in log.read_text().splitlines()]
    ticks = [t for bundle in bundles for t in bundle]
    assert ticks and all(len(bundle) <= 1 for bundle in bundles)
    # Ticks missed while work ran were merged, not queued: fewer than 10, in order, on the 0.2 s grid.
    assert len(ticks) < 10 and ticks == sorted(ticks)
    assert all(abs(((t - start) / 0.2) - round((t - start) / 0.2)) < 1e-6 for t in ticks)


def test_streaming_runs_in_one_process_on_the_direct_runner():
    # Beam 2.77's multi-processing mode ends an unbounded job early.
    options = pipeline_options([], streaming=True)
    assert options.view_as(StandardOptions).runner == "DirectRunner"
    assert options.view_as(DirectOptions).direct_running_mode == "in_memory"
