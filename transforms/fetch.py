"""Article fetching: FeedItem -> FetchedPage, with per-item errors.

Each new item (not seen before in this job, not already stored) is fetched
once by newswatch's own HTTP client with its deadline, byte cap, redirect cap
and private-address protection. Failures become `ErrorRecord(stage="fetch")`.

Input: PCollection[FeedItem]. Outputs: FetchedPage, ErrorRecord.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils import shared

from newswatch.clock import now_iso
from newswatch.net import FetchError, FetchLimits, SafeHttpClient
from newswatch.politeness import HostThrottle
from newswatch.records import ErrorRecord, FeedItem, FetchedPage

log = logging.getLogger(__name__)

ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class HttpSettings:
    """Picklable description of the HTTP client every fetching DoFn builds in setup()."""

    total_deadline_s: float = 30.0
    connect_timeout_s: float = 10.0
    feed_max_bytes: int = 15 * 1024 * 1024
    article_max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    allow_hosts: tuple[str, ...] = ()
    host_concurrency: int = 2
    host_delay_s: float = 1.0
    throttle_dir: Optional[str] = None
    ca_certs: Optional[str] = None

    @classmethod
    def from_config(cls, cfg, allow_hosts: Iterable[str] = (), **extra) -> "HttpSettings":
        """Build from `newswatch.config.Config` plus the CLI's --allow-host values."""
        return cls(
            total_deadline_s=cfg.fetch.total_deadline_s,
            connect_timeout_s=cfg.fetch.connect_timeout_s,
            feed_max_bytes=cfg.fetch.feed_max_bytes,
            article_max_bytes=cfg.fetch.article_max_bytes,
            max_redirects=cfg.fetch.max_redirects,
            retries=cfg.fetch.retries,
            allow_hosts=tuple(allow_hosts),
            host_concurrency=cfg.politeness.host_concurrency,
            host_delay_s=cfg.politeness.host_delay_s,
            **extra,
        )

    def client(self) -> SafeHttpClient:
        """A new client with these limits (call from DoFn.setup)."""
        limits = FetchLimits(
            total_deadline_s=self.total_deadline_s,
            connect_timeout_s=self.connect_timeout_s,
            max_bytes=self.article_max_bytes,
            max_redirects=self.max_redirects,
            retries=self.retries,
        )
        throttle = None
        if self.host_concurrency or self.host_delay_s:
            throttle = HostThrottle(
                concurrency=self.host_concurrency,
                min_delay_s=self.host_delay_s,
                state_dir=self.throttle_dir,
            )
        return SafeHttpClient(limits, allow_hosts=self.allow_hosts, ca_certs=self.ca_certs, throttle=throttle)


def is_html(content_type: Optional[str], body: bytes) -> bool:
    """True when a response is an HTML page (by header, or by sniffing when absent)."""
    if content_type:
        return content_type in HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


class _KnownIds:
    """Weak-referenceable holder for the ids already stored (Shared needs one)."""

    def __init__(self, ids: frozenset[str]):
        self.ids = ids


class _FirstSightFn(beam.DoFn):
    """Passes each article_id once per job and never one already stored."""

    SEEN = ReadModifyWriteStateSpec("seen", StrUtf8Coder())

    def __init__(self, stored_ids: Optional[Callable[[], Iterable[str]]]):
        self._stored_ids = stored_ids
        self._shared = shared.Shared()
        self._known: frozenset[str] = frozenset()

    def setup(self):
        if self._stored_ids is not None:
            loader = self._stored_ids
            self._known = self._shared.acquire(lambda: _KnownIds(frozenset(loader()))).ids

    def process(self, keyed, seen=beam.DoFn.StateParam(SEEN)):
        aid, item = keyed
        if seen.read() is not None:
            return
        seen.write(item.seen_at)
        if aid in self._known:
            beam.metrics.Metrics.counter("fetch", "already_stored").inc()
            return
        yield item


class NewItems(beam.PTransform):
    """FeedItem -> FeedItem, dropping links seen earlier in this job or already stored.

    `stored_ids` is a picklable callable returning the article ids the sink
    holds; it is read once per worker process.
    """

    def __init__(self, stored_ids: Optional[Callable[[], Iterable[str]]] = None):
        super().__init__()
        self._stored_ids = stored_ids

    def expand(self, items):
        return (
            items
            | "KeyByArticle" >> beam.Map(lambda item: (item.article_id, item)).with_output_types(
                tuple[str, FeedItem]
            )
            | "FirstSight" >> beam.ParDo(_FirstSightFn(self._stored_ids)).with_output_types(FeedItem)
        )


class _FetchArticleFn(beam.DoFn):
    def __init__(self, http: HttpSettings):
        self._http = http
        self._client: Optional[SafeHttpClient] = None

    def setup(self):
        self._client = self._http.client()

    def teardown(self):
        if self._client is not None:
            self._client.close()

    def process(self, item: FeedItem) -> Iterator:
        try:
            response = self._client.get(
                item.url, headers={"Accept": ARTICLE_ACCEPT}, max_bytes=self._http.article_max_bytes
            )
        except FetchError as exc:
            beam.metrics.Metrics.counter("fetch", f"error_{exc.code}").inc()
            log.info("fetch %s failed: %s %s", item.url, exc.code, exc.message)
            yield beam.pvalue.TaggedOutput(
                "errors", ErrorRecord("fetch", item.url, item.feed_url, exc.code, exc.message, now_iso())
            )
            return
        if not is_html(response.content_type, response.body):
            beam.metrics.Metrics.counter("fetch", "error_not_html").inc()
            yield beam.pvalue.TaggedOutput(
                "errors",
                ErrorRecord("fetch", item.url, item.feed_url, "not_html",
                            f"response is {response.content_type or 'of unknown type'}, not HTML", now_iso()),
            )
            return
        beam.metrics.Metrics.counter("fetch", "pages").inc()
        yield FetchedPage(
            item=item,
            final_url=response.url,
            status=response.status,
            content_type=response.content_type,
            charset=response.charset,
            body=response.body,
            fetched_at=now_iso(),
        )


class FetchArticles(beam.PTransform):
    """FeedItem -> (FetchedPage, ErrorRecord): one polite, bounded GET per item."""

    def __init__(self, http: HttpSettings):
        super().__init__()
        self._http = http

    def expand(self, items):
        # No Reshuffle here: the keyed NewItems step before this already
        # spreads items across workers by article_id, and a GroupByKey would
        # hold a streaming job's items until the end of the global window on
        # the DirectRunner.
        outputs = (
            items
            | "Fetch"
            >> beam.ParDo(_FetchArticleFn(self._http))
            .with_output_types(FetchedPage, errors=ErrorRecord)
            .with_outputs("errors", main="pages")
        )
        return outputs.pages, outputs.errors
