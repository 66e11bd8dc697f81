"""Mark near-duplicate articles: MinHash over word shingles, LSH bands, earliest member is the original.

Input: ``PCollection[Article]`` from text extraction (``minhash``,
``duplicate_of`` and ``duplicate_kind`` still None). Output of
``MarkDuplicates``: a tuple ``(articles, relinks)``: the same articles with
``minhash`` (128 little-endian uint32, 512 bytes), ``duplicate_of`` (the
ORIGINAL of the article's cluster, never a chain) and ``duplicate_kind``
('exact' when the text hashes like the original's, else 'near') set, and a
``PCollection[Relink]`` of new links for articles written earlier (stored by a
previous run, or emitted earlier by a streaming run); the sink applies them as
UPDATEs. Similarity, threshold and banding are in ``dedup.core``.

    newswatch run --feeds feeds.txt --db news.duckdb   # dedup runs inside

Three paths give the same links (``tests/test_dedup.py`` runs each on the same
articles):

- **Batch** (bounded input, any runner): articles are signed in parallel; only
  (id, dates, content hash, signature), about 0.6 KB per article, goes through
  one GroupByKey to a single key, where ``LinkIndex`` resolves the whole run
  with the stored window; the links come back as a side input. No keyed
  state: on Beam's Python SDK, state reads and the state cache's object sizing
  cost more than the work itself (bench/README.md: 19 articles/s with keyed
  state, over 100 without). One worker holds the index of the run and the
  stored window, about 7.7 KB per article (bench/bench_index_memory.py);
  split a backfill larger than that by date or feed: runs are incremental,
  so halves give the links of one run.
- **Streaming on Flink, Dataflow, Spark**: ``dedup.stream.MarkDuplicatesWithState``,
  the index and clusters in keyed state with event-time expiry.
- **Streaming on the DirectRunner**: ``MarkDuplicatesInProcess``, one worker
  holding the window's index in memory (the FnApiRunner behind Beam 2.77's
  streaming DirectRunner holds the keyed-state graph's elements until the
  source ends).
"""

from __future__ import annotations

import time
from typing import Iterator, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions

from newswatch.records import Article, Relink
from newswatch.transforms.dedup.core import (
    DAY,
    DEFAULT_NUM_PERM,
    DEFAULT_ROWS,
    DEFAULT_SHINGLE,
    DEFAULT_THRESHOLD,
    LinkIndex,
    MinHasher,
    PriorEntry,
    PriorSource,
    check_parameters,
    epoch,
)
from newswatch.transforms.dedup.stream import MarkDuplicatesWithState

_RELINKS = "relinks"
_RESOLVER_KEY = 0
# What the resolver needs of an article: id, published_at, seen_at, content_hash, signature.
_Signed = tuple[str, Optional[str], str, str, Optional[bytes]]


class _SignFn(beam.DoFn):
    """Attach the MinHash signature; links are set later."""

    def __init__(self, num_perm: int, shingle_k: int):
        self._num_perm, self._k = num_perm, shingle_k
        self._hasher = None

    def setup(self):
        self._hasher = MinHasher(self._num_perm, self._k)

    def process(self, article: Article) -> Iterator[Article]:
        yield article._replace(minhash=self._hasher.signature(article.text), duplicate_of=None, duplicate_kind=None)


def _to_resolver(article: Article) -> tuple[int, _Signed]:
    return _RESOLVER_KEY, (article.article_id, article.published_at, article.seen_at, article.content_hash,
                           article.minhash)


class _ResolveRunFn(beam.DoFn):
    """The one key: every signature of the run plus the stored window; emit links and relinks."""

    def __init__(self, prior: Optional[PriorSource], options: dict):
        self._prior, self._options = prior, options
        self._loaded = Metrics.counter("dedup", "prior_entries")
        self._duplicates = Metrics.counter("dedup", "duplicates_marked")
        self._relinks = Metrics.counter("dedup", "relinks")

    def process(self, element) -> Iterator:
        _, signed = element
        index = LinkIndex(**self._options)
        if self._prior is not None:
            stored = list(self._prior())
            self._loaded.inc(len(stored))
            index.add_stored(stored)
        new_ids = []
        for article_id, published_at, seen_at, content_hash, sig in sorted(signed, key=lambda s: s[0]):
            index.add_new(article_id, published_at, seen_at, content_hash, sig)
            new_ids.append(article_id)
        for article_id in new_ids:
            link, kind = index.link_of(article_id)
            if link is not None:
                self._duplicates.inc()
                yield article_id, (link, kind)
        for relink in index.relinks():
            self._relinks.inc()
            yield beam.pvalue.TaggedOutput(_RELINKS, relink)


def _apply_link(article: Article, links: dict) -> Article:
    link, kind = links.get(article.article_id, (None, None))
    return article._replace(duplicate_of=link, duplicate_kind=kind)


class _MarkDuplicatesBatch(beam.PTransform):
    """Bounded input: sign in parallel, resolve the run in one GroupByKey, apply links as a side input."""

    def __init__(self, prior: Optional[PriorSource], num_perm: int, shingle_k: int, options: dict):
        super().__init__()
        self._prior, self._num_perm, self._k, self._options = prior, num_perm, shingle_k, options

    def expand(self, articles):
        signed = articles | "Sign" >> beam.ParDo(_SignFn(self._num_perm, self._k)).with_output_types(Article)
        resolved = (
            signed
            | "ToResolver" >> beam.Map(_to_resolver).with_output_types(tuple[int, _Signed])
            | "OneKey" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(_ResolveRunFn(self._prior, self._options)).with_outputs(_RELINKS, main="links")
        )
        marked = signed | "ApplyLinks" >> beam.Map(
            _apply_link, links=beam.pvalue.AsDict(resolved.links)).with_output_types(Article)
        relinks = resolved[_RELINKS] | "AsRelinks" >> beam.Map(lambda r: r).with_output_types(Relink)
        return marked, relinks


class MarkDuplicates(beam.PTransform):
    """Set minhash, duplicate_of and duplicate_kind; return ``(articles, relinks)``.

    Bounded input resolves in one GroupByKey; unbounded input uses the
    keyed-state graph (``dedup.stream``).

    Args:
        prior: picklable callable returning ``PriorEntry`` rows already stored
            (e.g. ``functools.partial(DuckDBStore(db_path).prior_entries, since_iso)``);
            None for a first run.
        threshold: estimated Jaccard of word shingles at or above which two
            articles are copies (see ``dedup.core`` for the measurements).
        num_perm: MinHash permutations; the signature is ``4 * num_perm`` bytes.
        window_days: only articles published this close are compared.
        rows: rows per LSH band; ``num_perm // rows`` bands.
        shingle_k: words per shingle.

    Returns:
        ``(PCollection[Article], PCollection[Relink])``.
    """

    def __init__(self, prior: Optional[PriorSource] = None, threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = DEFAULT_NUM_PERM, window_days: float = 14.0, rows: int = DEFAULT_ROWS,
                 shingle_k: int = DEFAULT_SHINGLE):
        super().__init__()
        check_parameters(threshold, num_perm, rows)
        self._args = dict(prior=prior, threshold=threshold, num_perm=num_perm, window_days=window_days, rows=rows,
                          shingle_k=shingle_k)

    def expand(self, articles):
        if articles.pipeline.options.view_as(StandardOptions).streaming:
            return articles | "WithState" >> MarkDuplicatesWithState(**self._args)
        a = self._args
        options = dict(threshold=a["threshold"], num_perm=a["num_perm"], rows=a["rows"], window_days=a["window_days"])
        return articles | "Batch" >> _MarkDuplicatesBatch(a["prior"], a["num_perm"], a["shingle_k"], options)


class _InProcessDedupFn(beam.DoFn):
    """One worker's dedup: a ``LinkIndex`` over the window, fed one arrival at a time."""

    REBUILD_EVERY = 4096  # arrivals between dropping what left the window

    def __init__(self, prior: Optional[PriorSource], window_days: float, shingle_k: int, options: dict):
        self._prior, self._window_days, self._k, self._options = prior, window_days, shingle_k, options
        self._duplicates = Metrics.counter("dedup", "duplicates_marked")
        self._relinks = Metrics.counter("dedup", "relinks")

    def setup(self):
        self._hasher = MinHasher(self._options["num_perm"], self._k)
        self._seen: dict[str, PriorEntry] = {}
        for entry in (self._prior() if self._prior is not None else ()):
            self._seen[entry.article_id] = entry
        self._rebuild()

    def _rebuild(self) -> None:
        # Everything seen so far enters as stored, with the link it was written with; what
        # left the window can pair with nothing new (a copy's link names its original anyway).
        horizon = time.time() - self._window_days * DAY
        self._seen = {aid: e for aid, e in self._seen.items()
                      if max(epoch(e.published_at) or 0.0, epoch(e.seen_at) or 0.0) >= horizon}
        self._index = LinkIndex(window_days=self._window_days, **self._options)
        self._index.add_stored(self._seen.values())
        self._index.clusters.changes()  # the links the store holds are what the world has seen
        self._arrivals = 0

    def process(self, article: Article) -> Iterator:
        sig = self._hasher.signature(article.text)
        self._index.add_new(article.article_id, article.published_at, article.seen_at, article.content_hash, sig)
        link, kind = self._index.link_of(article.article_id)
        for event in self._index.clusters.changes():
            if event.article_id == article.article_id:
                continue
            self._relinks.inc()
            held = self._seen.get(event.article_id)
            if held is not None:
                self._seen[event.article_id] = held._replace(duplicate_of=event.duplicate_of)
            yield beam.pvalue.TaggedOutput(_RELINKS, Relink(event.article_id, event.duplicate_of, event.duplicate_kind))
        if link is not None:
            self._duplicates.inc()
        self._seen[article.article_id] = PriorEntry(article.article_id, article.published_at, article.seen_at,
                                                    article.content_hash, sig, link)
        self._arrivals += 1
        if self._arrivals >= self.REBUILD_EVERY:
            self._rebuild()
        yield article._replace(minhash=sig, duplicate_of=link, duplicate_kind=kind)


class MarkDuplicatesInProcess(beam.PTransform):
    """``MarkDuplicates`` for the streaming DirectRunner: same links, one worker, no timers.

    On Beam 2.77's DirectRunner a streaming job runs on the FnApiRunner, where
    a Flatten across stages and watermark timers hold elements until the
    source ends, so the keyed-state graph cannot settle there. This keeps the
    window's index in the DoFn (rebuilt from the store at start) and adds each
    arrival to it; an arrival costs the lookups of its own bands. Meant for
    one machine's stream; on Flink or Dataflow use ``MarkDuplicates``.
    """

    def __init__(self, prior: Optional[PriorSource] = None, threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = DEFAULT_NUM_PERM, window_days: float = 14.0, rows: int = DEFAULT_ROWS,
                 shingle_k: int = DEFAULT_SHINGLE):
        super().__init__()
        check_parameters(threshold, num_perm, rows)
        self._fn = _InProcessDedupFn(prior, window_days, shingle_k,
                                     dict(threshold=threshold, num_perm=num_perm, rows=rows))

    def expand(self, articles):
        out = articles | "DedupInProcess" >> beam.ParDo(self._fn).with_output_types(
            Article, **{_RELINKS: Relink}).with_outputs(_RELINKS, main="articles")
        return out["articles"], out[_RELINKS]
