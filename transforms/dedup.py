"""Mark near-duplicate articles: MinHash over word shingles, LSH bands on keyed state.

Input: ``PCollection[Article]`` from text extraction (``minhash``,
``duplicate_of`` and ``duplicate_kind`` still None). Output of
``MarkDuplicates``: a tuple ``(articles, relinks)``: the same articles with
``minhash`` (128 little-endian uint32, 512 bytes), ``duplicate_of`` (the
ORIGINAL of the article's cluster, never a chain) and ``duplicate_kind``
('exact' when the text hashes like the original's, else 'near') set, and a
``PCollection[Relink]`` of new links for articles written earlier (stored by a
previous run, or emitted earlier by a streaming run); the sink applies them as
UPDATEs.

    python bench/bench_dedup.py --corpus ../shared/corpus --out corpus.json

Similarity is the Jaccard index of word 5-shingles of the casefolded text with
apostrophes removed and punctuation dropped. Measured on the dev corpus (text
as the pipeline extracts it: declared charset, trafilatura fast txt, NFC) by
``bench_dedup.py --corpus``, exact Jaccard::

    pair            k=3    k=4    k=5    k=6
    d003->d002     0.821  0.808  0.795  0.786
    d008->d007     0.749  0.723  0.699  0.676
    d016->d015     0.767  0.748  0.728  0.709
    d028->d027     0.789  0.774  0.760  0.746
    d044->d043     0.740  0.714  0.691  0.668
    d047->d046     0.739  0.708  0.678  0.649
    d040~d041      0.013  0.005  0.003  0.002   (same event, written apart)
    max other      0.075  0.057  0.045  0.037   (d028~d058; k=6 d057~d058; 1,704 pairs)

Copies sit at 0.68-0.80, everything else at or below 0.045, so the threshold
(0.5) lies in the gap: 4 standard errors of a 128-permutation estimate (sd
0.041 at J=0.68) below the lightest-edited copy, and far above independent
articles. A copy keeping about 60% of the original still clears it, while
follow-ups that reuse a background paragraph or two (J 0.1-0.3) stay apart.
LSH uses 42 bands of 3 rows: a pair is a candidate with probability
1-(1-J^3)^42, which is 0.996 at J=0.5, 0.94 at 0.4 and 0.005 at J=0.05. On
synthetic copies (bench_dedup.py, 100k articles) precision is 1.0 and every
copy with true J >= 0.65 is found; misses are estimate noise for copies with
J in 0.5-0.6.

Clusters are the connected components of confirmed pairs (equal content hash,
or estimated Jaccard >= threshold, publication times within ``window_days``);
the original is the member earliest by (published_at or seen_at, seen_at,
article_id), so links do not depend on processing order, and a run over the
corpus in halves gives the links of one run: when a new article is earlier
than a stored cluster's original, the stored members get ``Relink`` records.

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
import re
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
import numpy as np
import xxhash
from apache_beam import coders
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Duration, Timestamp

from newswatch.records import Article

DEFAULT_THRESHOLD = 0.5
DEFAULT_NUM_PERM = 128
DEFAULT_ROWS = 3
DEFAULT_SHINGLE = 5
_SEED = 0x6E77  # changing it (or k, or num_perm) invalidates stored signatures
_DAY = 86400.0
_EXACT = b"\xff"  # band keys start with the band number (< 255)
_RESOLVER_KEY = 0
_SETTLE_DELAY = Duration(seconds=0.001)  # Flink timers have millisecond resolution


class PriorEntry(NamedTuple):
    """What the store already holds for one article, as dedup needs it."""

    article_id: str
    published_at: Optional[str]
    seen_at: str
    content_hash: str
    minhash: Optional[bytes]
    duplicate_of: Optional[str]


PriorSource = Callable[[], Iterable[PriorEntry]]


class Relink(NamedTuple):
    """A new original for an article written earlier; apply as an UPDATE."""

    article_id: str
    duplicate_of: Optional[str]
    duplicate_kind: Optional[str]


beam.coders.registry.register_coder(Relink, beam.coders.RowCoder)


# ---------------------------------------------------------------- pure core

_WORD = re.compile(r"\w+")
_APOSTROPHE = re.compile(r"['\u2019\u02bc]")


def words(text: str) -> list[str]:
    """Casefolded word tokens; apostrophes joined, other punctuation dropped."""
    return _WORD.findall(_APOSTROPHE.sub("", text.casefold()))


def shingles(text: str, k: int = DEFAULT_SHINGLE) -> set[str]:
    """The set of word k-shingles (a text shorter than k is one shingle)."""
    toks = words(text)
    if len(toks) <= k:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}


def jaccard(a: set, b: set) -> float:
    """Exact Jaccard index of two sets (1.0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 1.0


def _constants(tag: str, n: int, seed: int) -> np.ndarray:
    # Derived from xxhash, not numpy's RNG, whose streams may change between
    # numpy versions: stored signatures must stay comparable forever.
    return np.array([xxhash.xxh3_64_intdigest(f"{tag}{i}".encode(), seed) for i in range(n)], dtype=np.uint64)


class MinHasher:
    """MinHash signatures of word k-shingles, vectorised with numpy.

    Each shingle is one 64-bit hash built from xxh3 word hashes; permutation i
    is the multiply-shift hash (a_i * x + b_i mod 2**64) >> 32. About 1.6x
    faster than datasketch's update_batch with xxhash (bench_dedup.py).
    """

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, k: int = DEFAULT_SHINGLE, seed: int = _SEED):
        self.num_perm, self.k = num_perm, k
        self._a = _constants("a", num_perm, seed) | np.uint64(1)
        self._b = _constants("b", num_perm, seed)
        self._mix = _constants("m", k, seed) | np.uint64(1)

    def shingle_hashes(self, text: str) -> np.ndarray:
        """64-bit hashes of the text's word k-shingles (with repeats)."""
        toks = words(text)
        if not toks:
            return np.empty(0, dtype=np.uint64)
        h = np.fromiter((xxhash.xxh3_64_intdigest(t.encode()) for t in toks), dtype=np.uint64, count=len(toks))
        k = min(self.k, len(h))
        n = len(h) - k + 1
        acc = h[:n] * self._mix[0]
        for j in range(1, k):
            acc += h[j:j + n] * self._mix[j]
        acc ^= acc >> np.uint64(31)  # finaliser: spread the sum over all bits
        acc *= np.uint64(0x9E3779B97F4A7C15)
        acc ^= acc >> np.uint64(29)
        return acc

    def signature(self, text: str) -> Optional[bytes]:
        """Signature bytes (num_perm little-endian uint32), or None for a text without words."""
        hashes = self.shingle_hashes(text)
        if hashes.size == 0:
            return None
        mins = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        for start in range(0, hashes.size, 4096):  # bounds the temporary matrix
            block = np.multiply.outer(self._a, hashes[start:start + 4096])
            block += self._b[:, None]
            np.minimum(mins, block.min(axis=1), out=mins)
        return (mins >> np.uint64(32)).astype("<u4").tobytes()


def estimate_jaccard(a: bytes, b: bytes) -> float:
    """Share of equal MinHash values: an unbiased estimate of the Jaccard index."""
    if len(a) != len(b) or not a:
        return 0.0
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / (len(a) // 4)


def band_keys(signature: bytes, rows: int = DEFAULT_ROWS) -> list[bytes]:
    """LSH band keys: band number plus the raw bytes of its rows."""
    width = 4 * rows
    return [bytes([i]) + signature[i * width:(i + 1) * width] for i in range(len(signature) // width)]


def exact_key(content_hash: str) -> bytes:
    """Key under which articles with the same content hash meet."""
    return _EXACT + content_hash.encode("utf-8")


def epoch(value: Union[str, datetime, None]) -> Optional[float]:
    """Seconds since 1970 of an ISO-8601 string or datetime (naive means UTC); None if unparseable."""
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None  # a bad date must not drop the article; it sorts by seen_at instead
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class _Meta(NamedTuple):
    """What every step needs to know about an article besides its signature."""

    article_id: str
    when: float  # published_at, else seen_at (epoch s): orders and windows
    seen: float
    content_hash: str
    expiry: float  # watermark time (epoch s) after which state about it may go
    prior: bool  # stored by an earlier run
    prior_link: Optional[str]  # its stored duplicate_of

    @property
    def order(self) -> tuple:
        return (self.when, self.seen, self.article_id)


def _meta(article_id: str, published_at, seen_at, content_hash: str, arrival: float, window_s: float,
          prior: bool = False, prior_link: Optional[str] = None) -> _Meta:
    seen = epoch(seen_at)
    seen = 0.0 if seen is None else seen
    when = epoch(published_at)
    when = seen if when is None else when
    return _Meta(article_id, when, seen, content_hash, max(when, arrival) + window_s, prior, prior_link)


def _article_meta(article: Article, arrival: float, window_s: float) -> _Meta:
    return _meta(article.article_id, article.published_at, article.seen_at, article.content_hash, arrival, window_s)


def _prior_meta(entry: PriorEntry, arrival: float, window_s: float) -> _Meta:
    return _meta(entry.article_id, entry.published_at, entry.seen_at, entry.content_hash, arrival, window_s,
                 prior=True, prior_link=entry.duplicate_of)


def _usable(signature: Optional[bytes], num_perm: int) -> Optional[bytes]:
    """A stored signature made with other parameters cannot be compared: treat it as missing."""
    return signature if signature and len(signature) == 4 * num_perm else None


def _comparable(a: _Meta, b: _Meta, window_s: float) -> bool:
    """Two different articles, not both stored (their link is known), published within the window."""
    return a.article_id != b.article_id and not (a.prior and b.prior) and abs(a.when - b.when) <= window_s


class _LinkEvent(NamedTuple):
    """The resolver's current view of one article's link; the highest version wins."""

    article_id: str
    version: int
    duplicate_of: Optional[str]
    duplicate_kind: Optional[str]
    prior: bool
    stored_link: Optional[str]
    expiry: float


class _Member:
    __slots__ = ("group", "order", "content_hash", "prior", "stored_link", "sent", "expiry")

    def __init__(self, group, order, content_hash, prior, stored_link, expiry):
        self.group, self.order, self.content_hash = group, order, content_hash
        self.prior, self.stored_link, self.expiry = prior, stored_link, expiry
        self.sent = stored_link if prior else None  # the link the world holds


class Clusters:
    """Connected components of confirmed pairs; the earliest member of each is the original.

    Mutable and picklable; ``Resolve`` keeps one in keyed state.
    """

    def __init__(self) -> None:
        self._members: dict[str, _Member] = {}
        self._groups: dict[int, list[str]] = {}
        self._touched: set[int] = set()
        self._next_group = 0
        self.version = 0

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._members

    def _create(self, article_id, order, content_hash, prior, stored_link, expiry) -> _Member:
        group = self._next_group
        self._next_group += 1
        member = self._members[article_id] = _Member(group, order, content_hash, prior, stored_link, expiry)
        self._groups[group] = [article_id]
        self._touched.add(group)
        return member

    def add(self, meta: _Meta) -> None:
        """Know an article; a stored one also rejoins its stored original."""
        member = self._members.get(meta.article_id)
        if member is None:
            self._create(meta.article_id, meta.order, meta.content_hash, meta.prior, meta.prior_link, meta.expiry)
        elif member.content_hash is None or not meta.prior:
            # A placeholder learns its real order; a new copy of a stored id wins
            # and is written afresh, so nothing has been sent for it yet.
            member.order, member.content_hash = meta.order, meta.content_hash
            if member.prior and not meta.prior:
                member.prior, member.sent = False, None
            member.expiry = max(member.expiry, meta.expiry)
            self._touched.add(member.group)
        if meta.prior and meta.prior_link and meta.prior_link != meta.article_id:
            if meta.prior_link not in self._members:
                # Stored original not (yet) seen: assume it stays the earliest.
                self._create(meta.prior_link, (-math.inf, -math.inf, meta.prior_link), None, True, None, -math.inf)
            self.union(meta.article_id, meta.prior_link)

    def union(self, a: str, b: str) -> None:
        """Join the components of two known articles."""
        ga, gb = self._members[a].group, self._members[b].group
        if ga == gb:
            return
        if len(self._groups[ga]) < len(self._groups[gb]):
            ga, gb = gb, ga
        for article_id in self._groups.pop(gb):
            self._members[article_id].group = ga
            self._groups[ga].append(article_id)
        self._touched.discard(gb)
        self._touched.add(ga)

    def link_of(self, article_id: str) -> tuple[Optional[str], Optional[str]]:
        """(duplicate_of, duplicate_kind) of a known article."""
        member = self._members[article_id]
        root = min(self._groups[member.group], key=lambda i: self._members[i].order)
        if root == article_id:
            return None, None
        root_hash = self._members[root].content_hash
        return root, "exact" if root_hash is not None and root_hash == member.content_hash else "near"

    def changes(self) -> list[_LinkEvent]:
        """Events for members of touched components whose link differs from the last one sent."""
        events = []
        for group in sorted(self._touched):
            for article_id in sorted(self._groups[group]):
                member = self._members[article_id]
                link, kind = self.link_of(article_id)
                if link != member.sent:
                    self.version += 1
                    member.sent = link
                    events.append(_LinkEvent(article_id, self.version, link, kind, member.prior,
                                             member.stored_link, member.expiry))
        self._touched.clear()
        return events

    def next_expiry(self) -> float:
        """Earliest time at which some whole component may be forgotten."""
        return min((max(self._members[i].expiry for i in ids) for ids in self._groups.values()), default=math.inf)

    def expire(self, is_due: Callable[[float], bool]) -> int:
        """Forget components whose latest member expiry is due; return how many members went."""
        gone = 0
        for group, ids in list(self._groups.items()):
            if is_due(max(self._members[i].expiry for i in ids)):
                for article_id in ids:
                    del self._members[article_id]
                del self._groups[group]
                self._touched.discard(group)
                gone += len(ids)
        return gone


def mark_duplicates(articles: Iterable[Article], prior: Iterable[PriorEntry] = (), *,
                    threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                    rows: int = DEFAULT_ROWS, window_days: float = 14.0,
                    shingle_k: int = DEFAULT_SHINGLE) -> tuple[list[Article], list[Relink]]:
    """In-process twin of ``MarkDuplicates`` (same pairs, same links), for tests and benchmarks."""
    hasher = MinHasher(num_perm, shingle_k)
    window_s = window_days * _DAY
    clusters = Clusters()
    buckets: dict[bytes, list[_Meta]] = defaultdict(list)
    signatures: dict[str, bytes] = {}
    checked: set[tuple[str, str]] = set()

    def offer(meta: _Meta, sig: Optional[bytes], exact: bool) -> None:
        keys = ([exact_key(meta.content_hash)] if exact else []) + (band_keys(sig, rows) if sig else [])
        for key in keys:
            for other in buckets[key]:
                if not _comparable(meta, other, window_s):
                    continue
                if key[:1] != _EXACT:
                    pair = (min(meta.article_id, other.article_id), max(meta.article_id, other.article_id))
                    if pair in checked:
                        continue
                    checked.add(pair)
                    if estimate_jaccard(sig, signatures[other.article_id]) < threshold:
                        continue
                clusters.add(meta)
                clusters.add(other)
                clusters.union(meta.article_id, other.article_id)
            buckets[key].append(meta)
        if sig:
            signatures[meta.article_id] = sig

    stored = list(prior)
    roots = {e.duplicate_of for e in stored if e.duplicate_of}
    for entry in stored:
        meta = _prior_meta(entry, -math.inf, window_s)
        if entry.duplicate_of or entry.article_id in roots:
            clusters.add(meta)
        offer(meta, _usable(entry.minhash, num_perm), bool(entry.content_hash))
    signed = []
    for article in articles:
        sig = hasher.signature(article.text)
        signed.append(article._replace(minhash=sig, duplicate_of=None, duplicate_kind=None))
        offer(_article_meta(article, -math.inf, window_s), sig, sig is not None)
    out = []
    for article in signed:
        link, kind = clusters.link_of(article.article_id) if article.article_id in clusters else (None, None)
        out.append(article._replace(duplicate_of=link, duplicate_kind=kind))
    new_ids = {a.article_id for a in signed}
    relinks = []
    for entry in stored:
        if entry.article_id in clusters and entry.article_id not in new_ids:
            link, kind = clusters.link_of(entry.article_id)
            if link != entry.duplicate_of:
                relinks.append(Relink(entry.article_id, link, kind))
    return out, relinks


# ---------------------------------------------------------------- Beam

_BANDS, _CONFIRM, _RESOLVE, _SETTLE, _EDGES, _RELINKS = "bands", "confirm", "resolve", "settle", "edges", "relinks"
_UNKNOWN = object()  # the link an expired article was written with
# (article_id, when, seen, expiry, prior, prior_link): a band entry without its content hash.
_ENTRY_CODER = coders.TupleCoder([
    coders.StrUtf8Coder(), coders.FloatCoder(), coders.FloatCoder(), coders.FloatCoder(),
    coders.BooleanCoder(), coders.NullableCoder(coders.StrUtf8Coder()),
])


def _entry(meta: _Meta) -> tuple:
    return (meta.article_id, meta.when, meta.seen, meta.expiry, meta.prior, meta.prior_link)


def _from_entry(entry: tuple, content_hash: str) -> _Meta:
    article_id, when, seen, expiry, prior, prior_link = entry
    return _Meta(article_id, when, seen, content_hash, expiry, prior, prior_link)


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
        meta = _article_meta(article, _seconds(ts), self._window_s)
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
            meta = _prior_meta(entry, arrival, self._window_s)
            if entry.content_hash:
                yield exact_key(entry.content_hash), (meta, None)
            sig = _usable(entry.minhash, self._num_perm)
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
        exact = key[:1] == _EXACT
        for entry in entries.read():
            other = _from_entry(entry, meta.content_hash if exact else "")
            if not _comparable(meta, other, self._window_s):
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
        if tag == "reg":
            if held is not None and meta.prior and not held[0].prior:
                return  # the article being processed again wins over its stored copy
            own.write((meta, sig))
            waiting = list(pending.read())
            pending.clear()
            for other, other_sig in waiting:
                yield from self._answer(meta, sig, other, other_sig, asked)
        elif held is None:  # a band-mate's query overtook this article's own signature
            pending.add((meta, sig))
        else:
            yield from self._answer(held[0], held[1], meta, sig, asked)
        if self._expire:
            _arm(expire_at, expire, _micros(meta.expiry), later=True)

    def _answer(self, meta: _Meta, sig: bytes, other: _Meta, other_sig: bytes, asked) -> Iterator:
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


class MarkDuplicates(beam.PTransform):
    """Set minhash, duplicate_of and duplicate_kind; return ``(articles, relinks)``.

    Args:
        prior: picklable callable returning ``PriorEntry`` rows already stored
            (e.g. ``functools.partial(read_dedup_index, db_path, since_iso)``);
            None for a first run.
        threshold: estimated Jaccard of word shingles at or above which two
            articles are copies (see the module docstring for the measurements).
        num_perm: MinHash permutations; the signature is ``4 * num_perm`` bytes.
        window_days: only articles published this close are compared; state is
            kept this long after max(publication, arrival).
        rows: rows per LSH band; ``num_perm // rows`` bands.
        shingle_k: words per shingle.

    Returns:
        ``(PCollection[Article], PCollection[Relink])``.
    """

    def __init__(self, prior: Optional[PriorSource] = None, threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = DEFAULT_NUM_PERM, window_days: float = 14.0, rows: int = DEFAULT_ROWS,
                 shingle_k: int = DEFAULT_SHINGLE):
        super().__init__()
        if not 0.0 < threshold <= 1.0 or num_perm // rows > 255 or num_perm < rows:
            raise ValueError("need 0 < threshold <= 1 and 1 <= num_perm // rows <= 255")
        self._prior, self._threshold, self._num_perm = prior, threshold, num_perm
        self._window_s, self._rows, self._k = window_days * _DAY, rows, shingle_k

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
            | "FlattenBandKeys" >> beam.Flatten()
            | "BandIndex" >> beam.ParDo(_BandIndexFn(self._window_s, expire)).with_outputs(_EDGES, main="queries")
        )
        confirmed = (
            to_confirm + [band_mates["queries"]]
            | "FlattenQueries" >> beam.Flatten()
            | "Confirm" >> beam.ParDo(_ConfirmFn(self._threshold, expire))
        )
        link_events = (
            to_resolve + [band_mates[_EDGES], confirmed]
            | "FlattenPairs" >> beam.Flatten()
            | "Resolve" >> beam.ParDo(_ResolveFn(expire))
        )
        settled = (
            (signed[_SETTLE], link_events)
            | "FlattenSettle" >> beam.Flatten()
            | "Settle" >> beam.ParDo(_SettleFn(expire)).with_outputs(_RELINKS, main="articles")
        )
        marked = settled["articles"] | "AsArticles" >> beam.Map(lambda a: a).with_output_types(Article)
        relinks = settled[_RELINKS] | "AsRelinks" >> beam.Map(lambda r: r).with_output_types(Relink)
        return marked, relinks


class _InProcessDedupFn(beam.DoFn):
    """One worker's dedup: the in-process twin over everything seen in the window."""

    def __init__(self, prior: Optional[PriorSource], window_s: float, options: dict):
        self._prior = prior
        self._window_s = window_s
        self._options = options

    def setup(self):
        self._seen: dict[str, PriorEntry] = {}
        for entry in (self._prior() if self._prior is not None else ()):
            self._seen[entry.article_id] = entry

    def process(self, article: Article) -> Iterator:
        marked, relinks = mark_duplicates([article], self._seen.values(), **self._options)
        done = marked[0]
        self._seen[done.article_id] = PriorEntry(done.article_id, done.published_at, done.seen_at,
                                                 done.content_hash, done.minhash, done.duplicate_of)
        for relink in relinks:
            if relink.article_id in self._seen:
                self._seen[relink.article_id] = self._seen[relink.article_id]._replace(duplicate_of=relink.duplicate_of)
            yield beam.pvalue.TaggedOutput(_RELINKS, relink)
        self._forget_old()
        yield done

    def _forget_old(self) -> None:
        horizon = time.time() - self._window_s
        if len(self._seen) % 256 == 0:
            stale = [aid for aid, e in self._seen.items()
                     if max(epoch(e.published_at) or 0.0, epoch(e.seen_at) or 0.0) < horizon
                     and not e.duplicate_of]
            for aid in stale:
                del self._seen[aid]


class MarkDuplicatesInProcess(beam.PTransform):
    """``MarkDuplicates`` for the streaming DirectRunner: same links, one worker, no timers.

    On Beam 2.77's DirectRunner a streaming job runs on the FnApiRunner, where
    a Flatten across stages and watermark timers hold elements until the
    source ends, so the keyed-state graph above cannot settle there. This
    keeps the window's stored and new articles in the DoFn instance (rebuilt
    from the store at start) and applies ``mark_duplicates`` to each arrival,
    which gives the same links as the keyed-state path. Each arrival costs
    time linear in what the window holds: meant for one machine's stream.
    On Flink or Dataflow use ``MarkDuplicates``.
    """

    def __init__(self, prior: Optional[PriorSource] = None, threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = DEFAULT_NUM_PERM, window_days: float = 14.0, rows: int = DEFAULT_ROWS,
                 shingle_k: int = DEFAULT_SHINGLE):
        super().__init__()
        self._fn = _InProcessDedupFn(prior, window_days * _DAY, dict(
            threshold=threshold, num_perm=num_perm, rows=rows, window_days=window_days, shingle_k=shingle_k))

    def expand(self, articles):
        out = articles | "DedupInProcess" >> beam.ParDo(self._fn).with_output_types(
            Article, **{_RELINKS: Relink}).with_outputs(_RELINKS, main="articles")
        return out["articles"], out[_RELINKS]
