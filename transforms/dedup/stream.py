"""Mark near-duplicates in an unbounded stream: the LSH index and clusters in keyed state.

Input ``PCollection[Article]``; output ``(PCollection[Article],
PCollection[Relink])`` as ``MarkDuplicates``, which uses this graph for
streaming jobs on Flink, Dataflow and Spark (batch runs resolve in one
GroupByKey instead: see ``transforms/dedup/step.py``). The links are those of
``dedup.core.mark_duplicates``; ``tests/test_dedup.py`` runs both on the
same articles, in batch and with a TestStream.

Beam layout; every step is keyed, so it runs the same on the DirectRunner and
on Flink/Dataflow where state is partitioned by key::

    Sign --> BandIndex (key: band hash | content hash)
               |  query: "your band-mate", carrying its signature
               v
             Confirm (key: article_id; holds that article's signature)
               |  confirmed pairs (exact pairs come straight from BandIndex)
               v
             Resolve (one key; union-find over articles that have a pair)
               |  versioned link events
               v
             Settle (key: article_id) --> articles, relinks

BandIndex keeps only (id, times, flags) per band; signatures are held once, in
Confirm. Each arrival is compared with every entry already under its key, so
whichever of two band-mates arrives second reports the pair: stored (prior)
and new articles may reach a key in any order. Resolve emits a versioned
event whenever an article's original changes; Settle keeps the highest
version and writes it out on an event-time timer just past the element's
timestamp. That timer is the barrier: the watermark passes it only after
every element at or before that time has flowed through all earlier steps
(they emit while processing elements, never from timers, because the Python
streaming DirectRunner does not hold watermarks for timers). In batch the
watermark jumps to the end, so every article is written once with its final
link; in streaming each burst settles on its watermark, and later bursts that
change a written link produce a Relink. Resolve is one key because components
are global; it holds only clustered articles (small at news rates) and its
state is one pickled object, decoded once per bundle.

Cross-run: ``prior`` is a picklable callable returning ``PriorEntry`` rows for
what the store holds within the window (DuckDB on the DirectRunner; on a
cluster it must read a store every worker can reach, such as the same
database file on shared storage or a Parquet snapshot of it). It is read once
from an Impulse and its rows enter the same keyed steps as new articles;
stored clusters are seeded from their ``duplicate_of``. Entries without a
signature take part in exact matching only.

State is bounded in streaming: event-time timers drop it ``window_days``
after max(publication, arrival) in watermark time (arrival is the element
timestamp; for stored rows, when they were loaded), so a replay of old news
in a live pipeline is still deduplicated. Batch runs set no expiry timers:
the global window's end drops all state anyway. Shuffle volume: each article
sends its signature with each of its 43 keys. On the Python DirectRunner,
whose timers hold no watermark, a downstream GroupByKey may see outputs of
the last burst as late; Flink and Dataflow hold the watermark for timers.
"""

from __future__ import annotations

import math
import time
from typing import Any, Iterator, Optional

import apache_beam as beam
from apache_beam import coders
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Duration, Timestamp

from newswatch.records import Article, Relink
from newswatch.transforms.dedup.core import (
    DAY,
    DEFAULT_NUM_PERM,
    DEFAULT_ROWS,
    DEFAULT_SHINGLE,
    DEFAULT_THRESHOLD,
    EXACT,
    Clusters,
    Meta,
    MinHasher,
    PriorSource,
    article_meta,
    band_keys,
    check_parameters,
    comparable,
    estimate_jaccard,
    exact_key,
    prior_meta,
    usable_signature,
)

_RESOLVER_KEY = 0
_SETTLE_DELAY = Duration(seconds=0.001)  # Flink timers have millisecond resolution


_BANDS, _CONFIRM, _RESOLVE, _SETTLE, _EDGES, _RELINKS = "bands", "confirm", "resolve", "settle", "edges", "relinks"
_UNKNOWN = object()  # the link an expired article was written with
# (article_id, when, seen, expiry, prior, prior_link): a band entry without its content hash.
_ENTRY_CODER = coders.TupleCoder([
    coders.StrUtf8Coder(), coders.FloatCoder(), coders.FloatCoder(), coders.FloatCoder(),
    coders.BooleanCoder(), coders.NullableCoder(coders.StrUtf8Coder()),
])


def _entry(meta: Meta) -> tuple:
    return (meta.article_id, meta.when, meta.seen, meta.expiry, meta.prior, meta.prior_link)


def _from_entry(entry: tuple, content_hash: str) -> Meta:
    article_id, when, seen, expiry, prior, prior_link = entry
    return Meta(article_id, when, seen, content_hash, expiry, prior, prior_link)


def _seconds(ts: Timestamp) -> float:
    return ts.micros / 1e6


def _ceil_ms(micros: int) -> int:
    return -(-micros // 1000) * 1000


def _micros(seconds: float) -> int:
    """Timer time for an expiry, rounded up to a millisecond as portable runners and Flink keep
    timers; expiry checks use it too, so a timer that fires always finds something due."""
    return _ceil_ms(math.ceil(seconds * 1e6))


def _arm(at_state, timer, at: int, later: bool) -> None:
    """Keep one timer per key at the earliest (or latest) requested time, in micros."""
    current = at_state.read()
    if current is None or (at > current if later else at < current):
        at_state.write(at)
        timer.set(Timestamp(micros=at))


class _SignFn(beam.DoFn):
    """Signature and band keys of a new article; the article goes on to Settle."""

    def __init__(self, num_perm: int, shingle_k: int, rows: int, window_s: float):
        self._num_perm, self._k, self._rows, self._window_s = num_perm, shingle_k, rows, window_s
        self._hasher = None

    def setup(self):
        self._hasher = MinHasher(self._num_perm, self._k)

    def process(self, article: Article, ts=beam.DoFn.TimestampParam) -> Iterator:
        sig = self._hasher.signature(article.text)
        meta = article_meta(article, _seconds(ts), self._window_s)
        signed = article._replace(minhash=sig, duplicate_of=None, duplicate_kind=None)
        yield beam.pvalue.TaggedOutput(_SETTLE, (article.article_id, ("article", (signed, meta.expiry))))
        if sig:  # texts without words would all share one content hash
            yield exact_key(article.content_hash), (meta, None)
            yield beam.pvalue.TaggedOutput(_CONFIRM, (article.article_id, ("reg", meta, sig)))
            for key in band_keys(sig, self._rows):
                yield key, (meta, sig)


class _ReadPriorFn(beam.DoFn):
    """Read what the store holds, once, and feed it to the same keyed steps as new articles."""

    def __init__(self, prior: PriorSource, num_perm: int, rows: int, window_s: float):
        self._prior, self._num_perm, self._rows, self._window_s = prior, num_perm, rows, window_s
        self._loaded = Metrics.counter("dedup", "prior_entries")

    def process(self, unused_impulse) -> Iterator:
        arrival = time.time()  # stored rows have no element time; keep them a window from now
        stored = list(self._prior())
        roots = {e.duplicate_of for e in stored if e.duplicate_of}
        for entry in stored:
            self._loaded.inc()
            meta = prior_meta(entry, arrival, self._window_s)
            if entry.content_hash:
                yield exact_key(entry.content_hash), (meta, None)
            sig = usable_signature(entry.minhash, self._num_perm)
            if sig:
                yield beam.pvalue.TaggedOutput(_CONFIRM, (entry.article_id, ("reg", meta, sig)))
                for key in band_keys(sig, self._rows):
                    yield key, (meta, sig)
            if entry.duplicate_of or entry.article_id in roots:
                yield beam.pvalue.TaggedOutput(_RESOLVE, (_RESOLVER_KEY, ("member", meta, None)))


class _BandIndexFn(beam.DoFn):
    """Per band (or content-hash) key: remember who was here, report each new band-mate."""

    ENTRIES = userstate.BagStateSpec("entries", _ENTRY_CODER)
    NEXT_EXPIRY = userstate.ReadModifyWriteStateSpec("next_expiry", coders.VarIntCoder())
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, window_s: float, expire: bool):
        self._window_s, self._expire = window_s, expire
        self._candidates = Metrics.counter("dedup", "band_candidates")
        self._expired = Metrics.counter("dedup", "band_entries_expired")

    def process(self, element, entries=beam.DoFn.StateParam(ENTRIES),
                next_expiry=beam.DoFn.StateParam(NEXT_EXPIRY), expire=beam.DoFn.TimerParam(EXPIRE)) -> Iterator:
        key, (meta, sig) = element
        exact = key[:1] == EXACT
        for entry in entries.read():
            other = _from_entry(entry, meta.content_hash if exact else "")
            if not comparable(meta, other, self._window_s):
                continue
            self._candidates.inc()
            if exact:  # same content hash: nothing left to confirm
                yield beam.pvalue.TaggedOutput(_EDGES, (_RESOLVER_KEY, ("edge", meta, other)))
            else:  # the other's signature lives under its own key
                yield other.article_id, ("query", meta, sig)
        entries.add(_entry(meta))
        if self._expire:
            _arm(next_expiry, expire, _micros(meta.expiry), later=False)

    @userstate.on_timer(EXPIRE)
    def on_expire(self, now=beam.DoFn.TimestampParam, entries=beam.DoFn.StateParam(ENTRIES),
                  next_expiry=beam.DoFn.StateParam(NEXT_EXPIRY), expire=beam.DoFn.TimerParam(EXPIRE)):
        kept = [e for e in entries.read() if _micros(e[3]) > now.micros]
        self._expired.inc(sum(1 for _ in entries.read()) - len(kept))
        entries.clear()
        next_expiry.clear()
        for entry in kept:
            entries.add(entry)
            _arm(next_expiry, expire, _micros(entry[3]), later=False)


class _ConfirmFn(beam.DoFn):
    """Per article: hold its signature, confirm band-mates by estimated Jaccard."""

    OWN = userstate.ReadModifyWriteStateSpec("own", coders.PickleCoder())
    PENDING = userstate.BagStateSpec("pending", coders.PickleCoder())
    ASKED = userstate.SetStateSpec("asked", coders.StrUtf8Coder())
    EXPIRE_AT = userstate.ReadModifyWriteStateSpec("expire_at", coders.VarIntCoder())
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, threshold: float, expire: bool):
        self._threshold, self._expire = threshold, expire
        self._confirmed = Metrics.counter("dedup", "pairs_confirmed")
        self._rejected = Metrics.counter("dedup", "pairs_rejected")

    def process(self, element, own=beam.DoFn.StateParam(OWN), pending=beam.DoFn.StateParam(PENDING),
                asked=beam.DoFn.StateParam(ASKED), expire_at=beam.DoFn.StateParam(EXPIRE_AT),
                expire=beam.DoFn.TimerParam(EXPIRE)) -> Iterator:
        _, (tag, meta, sig) = element
        held = own.read()
        # The article being processed again wins over its stored copy, which is ignored.
        stale = tag == "reg" and held is not None and meta.prior and not held[0].prior
        if tag == "reg" and not stale:
            own.write((meta, sig))
            waiting = list(pending.read())
            pending.clear()
            for other, other_sig in waiting:
                yield from self._answer(meta, sig, other, other_sig, asked)
        elif tag != "reg" and held is None:  # a band-mate's query overtook this article's own signature
            pending.add((meta, sig))
        elif tag != "reg":
            yield from self._answer(held[0], held[1], meta, sig, asked)
        if self._expire and not stale:
            _arm(expire_at, expire, _micros(meta.expiry), later=True)

    def _answer(self, meta: Meta, sig: bytes, other: Meta, other_sig: bytes, asked) -> Iterator:
        if other.article_id in asked.read():
            return  # the pair shares several bands; answer once
        asked.add(other.article_id)
        if estimate_jaccard(sig, other_sig) >= self._threshold:
            self._confirmed.inc()
            yield _RESOLVER_KEY, ("edge", meta, other)
        else:
            self._rejected.inc()

    @userstate.on_timer(EXPIRE)
    def on_expire(self, own=beam.DoFn.StateParam(OWN), pending=beam.DoFn.StateParam(PENDING),
                  asked=beam.DoFn.StateParam(ASKED), expire_at=beam.DoFn.StateParam(EXPIRE_AT)):
        for state in (own, pending, asked, expire_at):
            state.clear()


class _ResolveFn(beam.DoFn):
    """One key: connected components of confirmed pairs; emit versioned link changes."""

    CLUSTERS = userstate.ReadModifyWriteStateSpec("clusters", coders.PickleCoder())
    NEXT_EXPIRY = userstate.ReadModifyWriteStateSpec("next_expiry", coders.VarIntCoder())
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, expire: bool):
        self._expire = expire
        self._expired = Metrics.counter("dedup", "cluster_members_expired")

    def process(self, element, clusters_state=beam.DoFn.StateParam(CLUSTERS),
                next_expiry=beam.DoFn.StateParam(NEXT_EXPIRY), expire=beam.DoFn.TimerParam(EXPIRE)) -> Iterator:
        _, (tag, a, b) = element
        clusters = clusters_state.read() or Clusters()
        clusters.add(a)
        if b is not None:
            clusters.add(b)
            clusters.union(a.article_id, b.article_id)
        for event in clusters.changes():
            yield event.article_id, ("link", event)
        clusters_state.write(clusters)
        if self._expire:
            _arm(next_expiry, expire, _micros(min(a.expiry, b.expiry) if b is not None else a.expiry), later=False)

    @userstate.on_timer(EXPIRE)
    def on_expire(self, now=beam.DoFn.TimestampParam, clusters_state=beam.DoFn.StateParam(CLUSTERS),
                  next_expiry=beam.DoFn.StateParam(NEXT_EXPIRY), expire=beam.DoFn.TimerParam(EXPIRE)):
        clusters = clusters_state.read()
        next_expiry.clear()
        if clusters is None:
            return
        self._expired.inc(clusters.expire(lambda expiry: _micros(expiry) <= now.micros))
        if not len(clusters):
            clusters_state.clear()
            return
        clusters_state.write(clusters)
        _arm(next_expiry, expire, _micros(clusters.next_expiry()), later=False)


class _SettleFn(beam.DoFn):
    """Per article: write it (or a Relink) with its latest link once the watermark passes."""

    ARTICLE = userstate.ReadModifyWriteStateSpec("article", coders.PickleCoder())
    BEST = userstate.ReadModifyWriteStateSpec("best", coders.PickleCoder())
    PUBLISHED = userstate.ReadModifyWriteStateSpec("published", coders.PickleCoder())
    SETTLE_AT = userstate.ReadModifyWriteStateSpec("settle_at", coders.VarIntCoder())
    EXPIRE_AT = userstate.ReadModifyWriteStateSpec("expire_at", coders.VarIntCoder())
    SETTLE = userstate.TimerSpec("settle", TimeDomain.WATERMARK)
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, expire: bool):
        self._expire = expire
        self._relinks = Metrics.counter("dedup", "relinks")
        self._duplicates = Metrics.counter("dedup", "duplicates_marked")

    def process(self, element, ts=beam.DoFn.TimestampParam, best=beam.DoFn.StateParam(BEST),
                article_state=beam.DoFn.StateParam(ARTICLE), settle_at=beam.DoFn.StateParam(SETTLE_AT),
                expire_at=beam.DoFn.StateParam(EXPIRE_AT), settle=beam.DoFn.TimerParam(SETTLE),
                expire=beam.DoFn.TimerParam(EXPIRE)) -> None:
        _, (tag, value) = element
        if tag == "article":
            article, expiry = value
            article_state.write(article)
        else:
            held = best.read()
            if held is None or value.version > held.version:
                best.write(value)
            expiry = value.expiry
        settle_micros = _ceil_ms((ts + _SETTLE_DELAY).micros)
        _arm(settle_at, settle, settle_micros, later=True)
        if self._expire:
            _arm(expire_at, expire, max(_micros(expiry), settle_micros), later=True)

    @userstate.on_timer(SETTLE)
    def on_settle(self, key=beam.DoFn.KeyParam, article_state=beam.DoFn.StateParam(ARTICLE),
                  best=beam.DoFn.StateParam(BEST), published=beam.DoFn.StateParam(PUBLISHED),
                  settle_at=beam.DoFn.StateParam(SETTLE_AT)) -> Iterator:
        settle_at.clear()
        yield from self._flush(key, article_state, best, published)

    @userstate.on_timer(EXPIRE)
    def on_expire(self, key=beam.DoFn.KeyParam, article_state=beam.DoFn.StateParam(ARTICLE),
                  best=beam.DoFn.StateParam(BEST), published=beam.DoFn.StateParam(PUBLISHED),
                  settle_at=beam.DoFn.StateParam(SETTLE_AT), expire_at=beam.DoFn.StateParam(EXPIRE_AT)) -> Iterator:
        # Timers due together may fire in any order: settle first, then forget.
        yield from self._flush(key, article_state, best, published)
        for state in (article_state, best, published, settle_at, expire_at):
            state.clear()

    def _flush(self, key: str, article_state, best, published) -> Iterator:
        event = best.read()
        link, kind = (event.duplicate_of, event.duplicate_kind) if event is not None else (None, None)
        article = article_state.read()
        if article is not None:
            article_state.clear()
            published.write((link,))
            if link is not None:
                self._duplicates.inc()
            yield article._replace(duplicate_of=link, duplicate_kind=kind)
            return
        if event is None:
            return
        written = published.read()
        held = written[0] if written is not None else (event.stored_link if event.prior else _UNKNOWN)
        if link != held:
            published.write((link,))
            self._relinks.inc()
            yield beam.pvalue.TaggedOutput(_RELINKS, Relink(key, link, kind))


class MarkDuplicatesWithState(beam.PTransform):
    """``MarkDuplicates`` for unbounded input on a cluster runner: same arguments, same outputs.

    State about an article is kept ``window_days`` after max(publication,
    arrival) in watermark time.
    """

    def __init__(self, prior: Optional[PriorSource] = None, threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = DEFAULT_NUM_PERM, window_days: float = 14.0, rows: int = DEFAULT_ROWS,
                 shingle_k: int = DEFAULT_SHINGLE):
        super().__init__()
        check_parameters(threshold, num_perm, rows)
        self._prior, self._threshold, self._num_perm = prior, threshold, num_perm
        self._window_s, self._rows, self._k = window_days * DAY, rows, shingle_k

    def expand(self, articles):
        # Bounded input ends with the global window, which drops all state: expiry timers
        # would only add work there.
        expire = articles.pipeline.options.view_as(StandardOptions).streaming
        signed = articles | "Sign" >> beam.ParDo(
            _SignFn(self._num_perm, self._k, self._rows, self._window_s)).with_outputs(_CONFIRM, _SETTLE, main=_BANDS)
        to_bands, to_confirm, to_resolve = [signed[_BANDS]], [signed[_CONFIRM]], []
        if self._prior is not None:
            stored = (
                articles.pipeline
                | "Impulse" >> beam.Impulse()
                | "ReadPrior" >> beam.ParDo(_ReadPriorFn(self._prior, self._num_perm, self._rows, self._window_s))
                .with_outputs(_CONFIRM, _RESOLVE, main=_BANDS)
            )
            to_bands.append(stored[_BANDS])
            to_confirm.append(stored[_CONFIRM])
            to_resolve.append(stored[_RESOLVE])
        band_mates = (
            to_bands
            # Typed keys give the stateful steps deterministic key coders, as runners partition state by them.
            | "FlattenBandKeys" >> beam.Flatten().with_output_types(tuple[bytes, Any])
            | "BandIndex" >> beam.ParDo(_BandIndexFn(self._window_s, expire)).with_outputs(_EDGES, main="queries")
        )
        confirmed = (
            to_confirm + [band_mates["queries"]]
            | "FlattenQueries" >> beam.Flatten().with_output_types(tuple[str, Any])
            | "Confirm" >> beam.ParDo(_ConfirmFn(self._threshold, expire))
        )
        link_events = (
            to_resolve + [band_mates[_EDGES], confirmed]
            | "FlattenPairs" >> beam.Flatten().with_output_types(tuple[int, Any])
            | "Resolve" >> beam.ParDo(_ResolveFn(expire))
        )
        settled = (
            (signed[_SETTLE], link_events)
            | "FlattenSettle" >> beam.Flatten().with_output_types(tuple[str, Any])
            | "Settle" >> beam.ParDo(_SettleFn(expire)).with_outputs(_RELINKS, main="articles")
        )
        marked = settled["articles"] | "AsArticles" >> beam.Map(lambda a: a).with_output_types(Article)
        relinks = settled[_RELINKS] | "AsRelinks" >> beam.Map(lambda r: r).with_output_types(Relink)
        return marked, relinks

