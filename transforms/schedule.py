"""Per-feed polling schedule for the streaming job.

A periodic impulse ticks every `tick_s`; each tick is fanned out to every
feed, keyed by feed URL, and `_ScheduledPollFn` keeps that feed's schedule in
keyed state: when the feed is due it is polled (conditionally, with the
ETag/Last-Modified from its previous poll in this job), and the outcome sets
the next due time:

- ok / 304: next poll after `poll_interval_s`;
- failure: exponential backoff from `backoff_initial_s` doubling up to
  `backoff_max_s`, never sooner than a server's Retry-After;
- 410 Gone, or `suspend_after` failures in a row: suspended (shown by
  `newswatch status`; a suspended feed stays suspended across restarts
  until `newswatch feeds resume`, which a running job notices within
  `resume_check_s`).

The first poll of every feed after a (re)start is unconditional on purpose:
a job killed after storing a feed's validators but before storing its
articles would otherwise get 304s and never fetch them.

`Ticks` is the clock. It replaces Beam's `PeriodicImpulse` on purpose: on
the DirectRunner (FnApiRunner) everything after the tick runs fused in the
tick's bundle, and `PeriodicImpulse` keeps claiming ticks inside one bundle
for as long as the previous tick's work took longer than `tick_s` (polls,
politeness waits, fetches). That bundle then never ends, so nothing fused
after it reaches `finish_bundle` (issue 12). `Ticks` emits exactly one tick
per bundle, merges ticks missed while work ran into that one, and sleeps
until the next tick is due instead of letting the runner spin.

Input: PCollection of ticks. Outputs: FeedItem, FeedPoll, ErrorRecord.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator, Mapping, NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.periodicsequence import ImpulseSeqGenRestrictionProvider
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils import shared
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Timestamp

from newswatch.clock import iso_utc
from newswatch.config import StreamConfig
from newswatch.http.client import SafeHttpClient
from newswatch.http.settings import HttpSettings
from newswatch.records import ErrorRecord, FeedItem, FeedPoll, FeedRequest
from newswatch.transforms.feeds import emit_outcome, poll_feed

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """How often feeds are polled and how failures back off."""

    poll_interval_s: float = StreamConfig.poll_interval_s
    backoff_initial_s: float = StreamConfig.backoff_initial_s
    backoff_max_s: float = StreamConfig.backoff_max_s
    suspend_after: int = StreamConfig.suspend_after
    retry_after_max_s: float = 86400.0
    resume_check_s: float = StreamConfig.resume_check_s  # how often a running job looks for `feeds resume`


class _OneTickPerBundleFn(beam.DoFn):
    """(start, stop, interval) -> the due tick's epoch seconds, one per bundle (a splittable DoFn)."""

    def __init__(self, wait_in_process: bool):
        self._wait_in_process = wait_in_process

    def process(
        self,
        element,
        tracker=beam.DoFn.RestrictionParam(ImpulseSeqGenRestrictionProvider()),
        watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator:
        start, _stop, interval = element
        restriction = tracker.current_restriction()
        index = restriction.start
        if index >= restriction.stop:
            return  # the last tick was emitted
        due = start + interval * index
        if self._wait_in_process and due > time.time():
            # The FnApiRunner re-runs a deferred remainder at once, ignoring its
            # resume time: wait here rather than spin. Cluster runners honour it.
            time.sleep(min(due - time.time(), interval))
        now = time.time()
        if due > now:
            watermark.set_watermark(Timestamp(due))
            tracker.defer_remainder(Timestamp(due))
            return
        # Ticks that fell due while the previous tick's work ran are one tick now.
        latest = min(index + int((now - due) // interval), restriction.stop - 1)
        if not tracker.try_claim(latest):
            return
        tick = start + interval * latest
        watermark.set_watermark(Timestamp(tick))
        yield TimestampedValue(tick, tick)
        # End the bundle here, so everything fused after the tick finishes its bundle too.
        tracker.defer_remainder()


class Ticks(beam.PTransform):
    """PBegin -> PCollection[float]: epoch seconds every `interval_s`, each tick its own bundle."""

    def __init__(
        self,
        interval_s: float,
        start_s: Optional[float] = None,
        stop_s: Optional[float] = None,
        wait_in_process: bool = True,
    ):
        super().__init__()
        self._wait_in_process = wait_in_process
        self._interval_s = interval_s
        self._start_s = start_s
        self._stop_s = stop_s

    def expand(self, pbegin):
        start = time.time() if self._start_s is None else self._start_s
        stop = MAX_TIMESTAMP if self._stop_s is None else Timestamp.of(self._stop_s)
        interval = self._interval_s
        return (
            pbegin
            | "Impulse" >> beam.Impulse()
            | "Range" >> beam.Map(lambda _: (start, stop, interval))
            | "OneTickPerBundle" >> beam.ParDo(_OneTickPerBundleFn(self._wait_in_process)).with_output_types(float)
        )


class FeedState(NamedTuple):
    """One feed's schedule, as kept in keyed state."""

    next_poll: float = 0.0  # epoch seconds
    errors: int = 0  # consecutive failures
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    suspended: Optional[str] = None
    suspended_at: float = 0.0  # epoch seconds of the poll that suspended it
    resumed_at: float = 0.0  # as stored: when `newswatch feeds resume` last asked

    def encode(self) -> str:
        return json.dumps(self._asdict())

    @classmethod
    def decode(cls, text: str) -> "FeedState":
        return cls(**json.loads(text))


def advance(state: FeedState, poll: FeedPoll, now: float, schedule: Schedule) -> FeedState:
    """The feed's state after a poll finished at `now`."""
    if poll.status != "error":
        return FeedState(now + schedule.poll_interval_s, 0, poll.etag, poll.last_modified, None)
    errors = state.errors + 1
    suspended = None
    if poll.http_status == 410 or poll.error_code == "http_410":
        suspended = "gone: the server answered 410"
    elif errors >= schedule.suspend_after:
        suspended = f"{errors} consecutive failures, last {poll.error_code}"
    delay = min(schedule.backoff_initial_s * 2 ** (errors - 1), schedule.backoff_max_s)
    if poll.retry_after is not None:
        delay = max(delay, min(poll.retry_after, schedule.retry_after_max_s))
    return FeedState(now + delay, errors, state.etag, state.last_modified, suspended, now if suspended else 0.0)


def resumed(current: FeedState, stored: Optional[FeedState]) -> Optional[FeedState]:
    """The state to poll from when the store says a suspended feed was resumed after it was suspended."""
    if not current.suspended or stored is None or stored.suspended or stored.resumed_at <= current.suspended_at:
        return None
    return FeedState(0.0, 0, current.etag, current.last_modified)


class _StoredStates:
    """Weak-referenceable holder of the feed states read from the sink at start."""

    def __init__(self, states: Mapping[str, FeedState]):
        self.states = dict(states)


class _ScheduledPollFn(beam.DoFn):
    """Polls one feed (the key) whenever its schedule says it is due."""

    STATE = ReadModifyWriteStateSpec("feed", StrUtf8Coder())

    def __init__(
        self,
        http: HttpSettings,
        schedule: Schedule,
        max_items: int,
        future_tolerance_s: float,
        stored_states: Optional[Callable[[], Mapping[str, FeedState]]],
        stop_file: Optional[str],
    ):
        self._http = http
        self._schedule = schedule
        self._max_items = max_items
        self._future_tolerance_s = future_tolerance_s
        self._stored_states = stored_states
        self._stop_file = stop_file
        self._shared = shared.Shared()

    def setup(self):
        self._client: SafeHttpClient = self._http.client()
        self._initial: dict[str, FeedState] = {}
        if self._stored_states is not None:
            loader = self._stored_states
            self._initial = self._shared.acquire(lambda: _StoredStates(loader())).states
        self._latest = self._initial
        self._checked_at = time.monotonic()

    def _stored_now(self, feed_url: str) -> Optional[FeedState]:
        """The store's view of a feed, re-read at most every `resume_check_s`."""
        if self._stored_states is None:
            return None
        if time.monotonic() - self._checked_at >= self._schedule.resume_check_s:
            self._checked_at = time.monotonic()
            try:
                self._latest = dict(self._stored_states())
            except Exception as exc:  # noqa: BLE001 - any sink's read error; the next check retries
                _log.warning("could not re-read feed states (resume requests wait): %s", exc)
        return self._latest.get(feed_url)

    def teardown(self):
        self._client.close()

    def process(self, keyed, state=beam.DoFn.StateParam(STATE)) -> Iterator:
        feed_url, _tick = keyed
        current = self._due(feed_url, state)
        if current is not None:
            yield from self._poll(feed_url, current, state)

    def _due(self, feed_url: str, state) -> Optional[FeedState]:
        """The feed's state if it is to be polled now, else None."""
        if self._stop_file and os.path.exists(self._stop_file):
            return None  # shutting down: let in-flight work drain, start nothing new
        raw = state.read()
        current = FeedState.decode(raw) if raw else self._initial.get(feed_url, FeedState())
        if current.suspended:
            current = resumed(current, self._stored_now(feed_url)) or current
        if current.suspended or time.time() < current.next_poll:
            if raw is None:
                state.write(current.encode())
            return None
        return current

    def _poll(self, feed_url: str, current: FeedState, state) -> Iterator:
        outcome = poll_feed(
            self._client,
            FeedRequest(feed_url, current.etag, current.last_modified),
            self._http.feed_max_bytes,
            self._max_items,
            self._future_tolerance_s,
        )
        updated = advance(current, outcome.poll, time.time(), self._schedule)
        state.write(updated.encode())
        poll = outcome.poll._replace(
            next_poll_at=None if updated.suspended else iso_utc(datetime.fromtimestamp(updated.next_poll, timezone.utc)),
            suspended_reason=updated.suspended,
        )
        yield from emit_outcome(outcome._replace(poll=poll))


class PollOnSchedule(beam.PTransform):
    """Ticks -> (FeedItem, FeedPoll, ErrorRecord): each feed polled when due."""

    def __init__(
        self,
        feed_urls: Sequence[str],
        http: HttpSettings,
        schedule: Schedule,
        max_items: int = 1000,
        future_tolerance_s: float = 86400.0,
        stored_states: Optional[Callable[[], Mapping[str, FeedState]]] = None,
        stop_file: Optional[str] = None,
    ):
        super().__init__()
        self._feed_urls = tuple(feed_urls)
        self._fn = _ScheduledPollFn(http, schedule, max_items, future_tolerance_s, stored_states, stop_file)

    def expand(self, ticks):
        feed_urls = self._feed_urls
        outputs = (
            ticks
            | "PerFeed" >> beam.FlatMap(lambda tick: [(url, float(tick)) for url in feed_urls]).with_output_types(
                tuple[str, float]
            )
            | "PollWhenDue"
            >> beam.ParDo(self._fn)
            .with_output_types(FeedItem, polls=FeedPoll, errors=ErrorRecord)
            .with_outputs("polls", "errors", main="items")
        )
        return outputs.items, outputs.polls, outputs.errors
