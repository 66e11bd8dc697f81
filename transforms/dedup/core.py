"""Near-duplicate detection core: MinHash signatures, LSH bands, clusters; no Beam.

``LinkIndex`` finds the pairs and ``Clusters`` joins them; ``mark_duplicates``
is the whole job for a list of articles, and every Beam path in
``transforms/dedup/step.py`` and ``transforms/dedup/stream.py`` gives its links.

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
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import datetime, timezone
from typing import Callable, Iterable, NamedTuple, Optional, Union

import numpy as np
import xxhash

from newswatch.records import Article, Relink

DEFAULT_THRESHOLD = 0.5
DEFAULT_NUM_PERM = 128
DEFAULT_ROWS = 3
DEFAULT_SHINGLE = 5
_SEED = 0x6E77  # changing it (or k, or num_perm) invalidates stored signatures
DAY = 86400.0
EXACT = b"\xff"  # band keys start with the band number (< 255)


class PriorEntry(NamedTuple):
    """What the store already holds for one article, as dedup needs it."""

    article_id: str
    published_at: Optional[str]
    seen_at: str
    content_hash: str
    minhash: Optional[bytes]
    duplicate_of: Optional[str]


PriorSource = Callable[[], Iterable[PriorEntry]]


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
    return EXACT + content_hash.encode("utf-8")


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


class Meta(NamedTuple):
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


def make_meta(article_id: str, published_at, seen_at, content_hash: str, arrival: float, window_s: float,
          prior: bool = False, prior_link: Optional[str] = None) -> Meta:
    seen = epoch(seen_at)
    seen = 0.0 if seen is None else seen
    when = epoch(published_at)
    when = seen if when is None else when
    return Meta(article_id, when, seen, content_hash, max(when, arrival) + window_s, prior, prior_link)


def article_meta(article: Article, arrival: float, window_s: float) -> Meta:
    return make_meta(article.article_id, article.published_at, article.seen_at, article.content_hash, arrival, window_s)


def prior_meta(entry: PriorEntry, arrival: float, window_s: float) -> Meta:
    return make_meta(entry.article_id, entry.published_at, entry.seen_at, entry.content_hash, arrival, window_s,
                 prior=True, prior_link=entry.duplicate_of)


def usable_signature(signature: Optional[bytes], num_perm: int) -> Optional[bytes]:
    """A stored signature made with other parameters cannot be compared: treat it as missing."""
    return signature if signature and len(signature) == 4 * num_perm else None


def comparable(a: Meta, b: Meta, window_s: float) -> bool:
    """Two different articles, not both stored (their link is known), published within the window."""
    return a.article_id != b.article_id and not (a.prior and b.prior) and abs(a.when - b.when) <= window_s


class LinkEvent(NamedTuple):
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

    def add(self, meta: Meta) -> None:
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

    def changes(self) -> list[LinkEvent]:
        """Events for members of touched components whose link differs from the last one sent."""
        events = []
        for group in sorted(self._touched):
            for article_id in sorted(self._groups[group]):
                member = self._members[article_id]
                link, kind = self.link_of(article_id)
                if link != member.sent:
                    self.version += 1
                    member.sent = link
                    events.append(LinkEvent(article_id, self.version, link, kind, member.prior,
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


def check_parameters(threshold: float, num_perm: int, rows: int) -> None:
    """Raise ValueError for settings no index can use (band numbers must fit in one byte)."""
    if not 0.0 < threshold <= 1.0 or num_perm // rows > 255 or num_perm < rows:
        raise ValueError("need 0 < threshold <= 1 and 1 <= num_perm // rows <= 255")


class LinkIndex:
    """Offer stored and new articles; find their pairs by band and content hash and join them.

    The links it gives do not depend on the order of the offers: pairs are
    symmetric and each cluster's original is its earliest member.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 rows: int = DEFAULT_ROWS, window_days: float = 14.0):
        self._threshold, self._num_perm, self._rows = threshold, num_perm, rows
        self._window_s = window_days * DAY
        self.clusters = Clusters()
        self._buckets: dict[bytes, list[Meta]] = defaultdict(list)
        self._signatures: dict[str, bytes] = {}
        self._checked: set[tuple[str, str]] = set()
        self._stored: list[PriorEntry] = []
        self._new: set[str] = set()

    def add_stored(self, entries: Iterable[PriorEntry]) -> None:
        """Offer what earlier runs stored; their stored links seed the clusters."""
        entries = list(entries)
        roots = {e.duplicate_of for e in entries if e.duplicate_of}
        for entry in entries:
            meta = prior_meta(entry, -math.inf, self._window_s)
            if entry.duplicate_of or entry.article_id in roots:
                self.clusters.add(meta)
            self._offer(meta, usable_signature(entry.minhash, self._num_perm), bool(entry.content_hash))
            self._stored.append(entry)

    def add_new(self, article_id: str, published_at: Optional[str], seen_at: str, content_hash: str,
                signature: Optional[bytes]) -> None:
        """Offer an article of this run; a text without words only matches nothing."""
        self._new.add(article_id)
        meta = make_meta(article_id, published_at, seen_at, content_hash, -math.inf, self._window_s)
        # Texts without words would all share one content hash.
        self._offer(meta, signature, signature is not None)

    def link_of(self, article_id: str) -> tuple[Optional[str], Optional[str]]:
        """(duplicate_of, duplicate_kind) of an offered article."""
        return self.clusters.link_of(article_id) if article_id in self.clusters else (None, None)

    def relinks(self) -> list[Relink]:
        """Stored articles (not offered again as new) whose original changed."""
        out = []
        for entry in self._stored:
            if entry.article_id in self.clusters and entry.article_id not in self._new:
                link, kind = self.clusters.link_of(entry.article_id)
                if link != entry.duplicate_of:
                    out.append(Relink(entry.article_id, link, kind))
        return out

    def _offer(self, meta: Meta, sig: Optional[bytes], exact: bool) -> None:
        keys = ([exact_key(meta.content_hash)] if exact else []) + (band_keys(sig, self._rows) if sig else [])
        for key in keys:
            bucket = self._buckets[key]
            for other in bucket:
                if not comparable(meta, other, self._window_s):
                    continue
                if key[:1] != EXACT:
                    pair = (min(meta.article_id, other.article_id), max(meta.article_id, other.article_id))
                    if pair in self._checked:
                        continue
                    self._checked.add(pair)
                    if estimate_jaccard(sig, self._signatures[other.article_id]) < self._threshold:
                        continue
                self.clusters.add(meta)
                self.clusters.add(other)
                self.clusters.union(meta.article_id, other.article_id)
            bucket.append(meta)
        if sig:
            self._signatures[meta.article_id] = sig


def mark_duplicates(articles: Iterable[Article], prior: Iterable[PriorEntry] = (), *,
                    threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                    rows: int = DEFAULT_ROWS, window_days: float = 14.0,
                    shingle_k: int = DEFAULT_SHINGLE) -> tuple[list[Article], list[Relink]]:
    """Sign and link a list of articles: the links every ``MarkDuplicates`` path gives."""
    hasher = MinHasher(num_perm, shingle_k)
    index = LinkIndex(threshold, num_perm, rows, window_days)
    index.add_stored(prior)
    signed = []
    for article in articles:
        sig = hasher.signature(article.text)
        signed.append(article._replace(minhash=sig))
        index.add_new(article.article_id, article.published_at, article.seen_at, article.content_hash, sig)
    out = [a._replace(duplicate_of=link, duplicate_kind=kind)
           for a in signed for link, kind in [index.link_of(a.article_id)]]
    return out, index.relinks()
