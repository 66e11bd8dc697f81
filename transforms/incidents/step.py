"""Group stored defection and conscription reports into incidents across outlets.

Input: ``PCollection[EnrichedArticle]`` (the articles the sink stored). Output
of ``ResolveIncidents``: ``PCollection[Incident]``: every incident whose
members changed, plus a member-less record for each id that stopped naming an
incident (re-keyed to an earlier report); the sink upserts both by id. The
grouping rules live in ``incidents.core``; this module only decides what each
path holds and re-resolves:

- **Bounded runs** (any runner): every article's candidates go through one
  GroupByKey to a single key, where the run is resolved together with the
  stored window (``window_loader``: the candidates of articles seen or
  published in the last ``window_days`` and every member of an incident that
  has one there), like the batch dedup.
- **Streaming on the DirectRunner** (``in_process=True``): one DoFn holds the
  window's candidates in memory, loaded from the store at start, and
  re-resolves the window on each arrival that brings candidates.
- **Streaming elsewhere** (Flink, Dataflow): the same state in keyed state under
  one key (defection reports are a trickle, so one key suffices); what left the
  window is dropped on arrival, not by a timer.

Every path resolves the same *set* with the same function, so they give the
same incidents for the same input, whatever the arrival order.

    newswatch run --feeds feeds.txt --db news.duckdb   # incidents are resolved inside
"""

from __future__ import annotations

import time
from typing import Callable, Iterator, Optional

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from newswatch.records import EnrichedArticle, Incident, IncidentCandidate
from newswatch.transforms.incidents.core import DAY, candidates_of, diff, epoch, resolve

WindowLoader = Callable[[], tuple[list[IncidentCandidate], dict[str, frozenset]]]
_KEY = 0


class IncidentWindow:
    """The candidates an incident resolver holds and what the store knows of their incidents."""

    def __init__(self, loader: Optional[WindowLoader], window_days: float):
        self.window_days = window_days
        stored, self.known = loader() if loader is not None else ([], {})
        self.candidates = {c.mention_id: c for c in stored}

    def add(self, candidates: list[IncidentCandidate]) -> list[Incident]:
        """Add arrivals, re-resolve, and return what to write (the store then holds the result)."""
        assigned = {m for members in self.known.values() for m in members}
        fresh = [c.mention_id for c in candidates
                 if c.mention_id not in assigned or self.candidates.get(c.mention_id) != c]
        if not fresh:
            return []
        self.candidates.update((c.mention_id, c) for c in candidates)
        current = resolve(self.candidates.values())
        changes = diff(self.known, current, fresh)
        self.known = {i.incident_id: frozenset(m.mention_id for m in i.members) for i in current}
        return changes

    def prune(self, now: float) -> None:
        """Drop incidents none of whose articles is inside the window any more."""
        horizon = now - self.window_days * DAY
        by_id = {mid: iid for iid, members in self.known.items() for mid in members}
        live = {by_id.get(c.mention_id, c.mention_id) for c in self.candidates.values()
                if max(epoch(c.published_at) or 0.0, epoch(c.seen_at) or 0.0) >= horizon}
        self.candidates = {k: c for k, c in self.candidates.items() if by_id.get(k, k) in live}
        self.known = {k: v for k, v in self.known.items() if k in live}


def _keyed_candidates(enriched: EnrichedArticle) -> Iterator[tuple[int, IncidentCandidate]]:
    for c in candidates_of(enriched):
        yield _KEY, c


class _ResolveRunFn(beam.DoFn):
    """The one key of a bounded run: resolve the run's candidates with the stored window."""

    def __init__(self, loader: Optional[WindowLoader], window_days: float):
        self._loader, self._window_days = loader, window_days
        self._written = Metrics.counter("incidents", "incident_records")

    def process(self, element) -> Iterator[Incident]:
        _, candidates = element
        window = IncidentWindow(self._loader, self._window_days)
        for incident in window.add(sorted(candidates, key=lambda c: c.mention_id)):
            self._written.inc()
            yield incident


class _InProcessFn(beam.DoFn):
    """One worker's window, re-resolved on each arrival (the streaming DirectRunner)."""

    PRUNE_EVERY = 256

    def __init__(self, loader: Optional[WindowLoader], window_days: float):
        self._loader, self._window_days = loader, window_days
        self._written = Metrics.counter("incidents", "incident_records")

    def setup(self):
        self._window = IncidentWindow(self._loader, self._window_days)
        self._arrivals = 0

    def process(self, enriched: EnrichedArticle) -> Iterator[Incident]:
        candidates = candidates_of(enriched)
        if not candidates:
            return
        self._arrivals += 1
        if self._arrivals % self.PRUNE_EVERY == 0:
            self._window.prune(time.time())
        for incident in self._window.add(candidates):
            self._written.inc()
            yield incident


class _KeyedStateFn(beam.DoFn):
    """The window in keyed state under one key (Flink, Dataflow, Spark streaming)."""

    WINDOW = ReadModifyWriteStateSpec("incident_window", PickleCoder())

    def __init__(self, loader: Optional[WindowLoader], window_days: float):
        self._loader, self._window_days = loader, window_days
        self._written = Metrics.counter("incidents", "incident_records")

    def process(self, element, state=beam.DoFn.StateParam(WINDOW)) -> Iterator[Incident]:
        _, candidates = element
        window = state.read()
        if window is None:
            window = IncidentWindow(self._loader, self._window_days)
        window.prune(time.time())
        changes = window.add(list(candidates))
        state.write(window)
        for incident in changes:
            self._written.inc()
            yield incident


class ResolveIncidents(beam.PTransform):
    """EnrichedArticle -> Incident records to upsert (see the module docstring).

    Args:
        window_loader: picklable callable returning ``(candidates, known)``
            from the store (``sinks.duckdb.read_incident_window``); None when
            there is no store to read.
        window_days: how far back stored reports are re-resolved with new ones.
        in_process: hold the window in one DoFn (the streaming DirectRunner).
    """

    def __init__(self, window_loader: Optional[WindowLoader] = None, window_days: float = 14.0,
                 in_process: bool = False):
        super().__init__()
        self._loader, self._window_days, self._in_process = window_loader, window_days, in_process

    def expand(self, articles):
        args = (self._loader, self._window_days)
        if self._in_process:
            return articles | "ResolveInProcess" >> beam.ParDo(_InProcessFn(*args)).with_output_types(Incident)
        keyed = articles | "Candidates" >> beam.FlatMap(_keyed_candidates).with_output_types(
            tuple[int, IncidentCandidate])
        if articles.pipeline.options.view_as(StandardOptions).streaming:
            batches = keyed | "AsBatches" >> beam.Map(lambda kv: (kv[0], [kv[1]])).with_output_types(
                tuple[int, list[IncidentCandidate]])
            return batches | "ResolveWithState" >> beam.ParDo(_KeyedStateFn(*args)).with_output_types(Incident)
        return (
            keyed
            | "OneKey" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(_ResolveRunFn(*args)).with_output_types(Incident)
        )
