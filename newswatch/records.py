"""Element types that flow between pipeline stages.

Every PCollection in newswatch carries one of these NamedTuples; Beam infers
a schema (RowCoder) for each, so the graph is type-checked and the elements
cross process and language boundaries on portable runners. Timestamps are
ISO-8601 strings in UTC (``2024-03-05T09:30:00+00:00``): they survive every
coder unchanged and DuckDB casts them on insert.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import apache_beam as beam


class FeedRequest(NamedTuple):
    """A feed to poll, with the validators from its previous poll."""

    feed_url: str
    etag: Optional[str]
    last_modified: Optional[str]


class FeedItem(NamedTuple):
    """One entry of a feed, after link canonicalisation."""

    article_id: str
    url: str  # canonical article URL
    feed_url: str
    title: Optional[str]
    published_at: Optional[str]  # from the feed, when it gives one
    seen_at: str  # when newswatch first saw the entry in the feed


class FetchedPage(NamedTuple):
    """Bytes of an article page as fetched, before extraction."""

    item: FeedItem
    final_url: str  # after redirects
    status: int
    content_type: Optional[str]
    charset: Optional[str]  # declared in the Content-Type header
    body: bytes
    fetched_at: str


class Article(NamedTuple):
    """A stored article: cleaned main text plus metadata."""

    article_id: str
    url: str
    feed_url: str
    source: Optional[str]
    title: Optional[str]
    author: Optional[str]
    published_at: Optional[str]
    date_origin: Optional[str]  # 'page', 'feed' or None
    fetched_at: str
    seen_at: str
    language: Optional[str]
    text: str
    content_hash: str
    duplicate_of: Optional[str]  # article_id of the original, if a copy
    duplicate_kind: Optional[str]  # 'exact' or 'near'
    minhash: Optional[bytes]  # MinHash signature (set by transforms.dedup)
    source_encoding: Optional[str] = None  # Myanmar script as fetched: 'zawgyi' | 'unicode' | None (none)


class Mention(NamedTuple):
    """One defection or conscription mention: one evidence sentence or clause."""

    mention_id: str
    article_id: str
    kind: str  # 'defection' | 'conscription'
    modality: str  # report | appeal | offer | policy | denial | rumour | analysis
    people_count: Optional[int]
    count_qualifier: Optional[str]  # exact | at_least | more_than | about | nearly | range
    weapons_count: Optional[int]
    ranks: Sequence[str]
    units: Sequence[str]
    orgs: Sequence[str]
    locations: Sequence[str]
    country: Optional[str]
    source_party: Optional[str]
    sentence: str
    start_char: int
    end_char: int
    extractor_version: str


class ArticleLabels(NamedTuple):
    """Article-level labels derived from its mentions (see README)."""

    defection: bool
    conscription: bool
    defection_report: bool
    defectors: Optional[int]
    weapons: Optional[int]
    orgs: Sequence[str]
    locations: Sequence[str]
    country: Optional[str]


class EnrichedArticle(NamedTuple):
    """An article with its mentions: the unit the sinks write atomically."""

    article: Article
    mentions: Sequence[Mention]
    labels: ArticleLabels


class ErrorRecord(NamedTuple):
    """A per-item failure, stored in the `errors` table instead of crashing."""

    stage: str  # feed | fetch | extract | mentions | sink
    url: str
    feed_url: Optional[str]
    code: str  # http_404, http_5xx, timeout, too_large, not_html, ...
    message: str
    at: str


class FeedPoll(NamedTuple):
    """Outcome of polling one feed once; updates the `feeds` table."""

    feed_url: str
    polled_at: str
    status: str  # ok | not_modified | error
    http_status: Optional[int]
    etag: Optional[str]
    last_modified: Optional[str]
    items_seen: int
    bozo: bool
    error_code: Optional[str]
    message: Optional[str]
    title: Optional[str]
    retry_after: Optional[float]  # seconds the server asked us to wait
    next_poll_at: Optional[str] = None  # streaming: when this feed is due again
    suspended_reason: Optional[str] = None  # streaming: set when polling stopped for good


class Relink(NamedTuple):
    """A change of `duplicate_of` for an article that is already stored."""

    article_id: str
    duplicate_of: Optional[str]
    duplicate_kind: Optional[str]


class IncidentCandidate(NamedTuple):
    """A mention the incident layer groups, with the article facts it needs (see transforms/incidents/core.py)."""

    mention_id: str
    article_id: str
    url: str
    source: Optional[str]  # the outlet
    title: Optional[str]
    published_at: Optional[str]
    seen_at: str
    duplicate_of: Optional[str]
    kind: str  # 'defection' | 'conscription'
    people_count: Optional[int]
    count_qualifier: Optional[str]
    weapons_count: Optional[int]
    ranks: Sequence[str]
    units: Sequence[str]
    orgs: Sequence[str]
    locations: Sequence[str]
    source_party: Optional[str]
    sentence: str
    start_char: int


class IncidentMember(NamedTuple):
    """One mention of an incident; ``main`` when it is its article's main defection-report incident."""

    mention_id: str
    article_id: str
    main: bool


class Incident(NamedTuple):
    """One real-world event or claimant figure across outlets; no members means the id was retired."""

    incident_id: str
    sort: str  # 'event' | 'figure'
    kind: str  # 'defection' | 'conscription'
    title: Optional[str]
    count_min: Optional[int]
    count_max: Optional[int]
    weapons_min: Optional[int]
    weapons_max: Optional[int]
    claimants: Sequence[str]
    places: Sequence[str]
    units: Sequence[str]
    ranks: Sequence[str]
    first_published: Optional[str]
    first_seen: Optional[str]
    last_seen: Optional[str]
    n_articles: int
    n_outlets: int
    representative_url: Optional[str]
    members: Sequence[IncidentMember]


class SinkRecord(NamedTuple):
    """One write for the sink; exactly one field is set (a typed union)."""

    enriched: Optional[EnrichedArticle] = None
    error: Optional[ErrorRecord] = None
    poll: Optional[FeedPoll] = None
    relink: Optional[Relink] = None
    incident: Optional[Incident] = None


for _record in (FeedRequest, FeedItem, FetchedPage, Article, Mention, ArticleLabels, EnrichedArticle, ErrorRecord, FeedPoll, Relink,
                IncidentCandidate, IncidentMember, Incident, SinkRecord):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
