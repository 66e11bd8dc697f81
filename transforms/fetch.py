"""Article fetching: FeedItem -> FetchedPage, with per-item errors.

Each new item (not seen before in this job, not already stored) is fetched
once by newswatch's own HTTP client with its deadline, byte cap, redirect cap
and private-address protection, after its host's robots.txt allows it
(`newswatch.http.robots`; off with ``[politeness] robots = false``, or per feed
with ``robots_exempt_feeds``). Failures become `ErrorRecord(stage="fetch")`.

Input: PCollection[FeedItem]. Outputs: FetchedPage, ErrorRecord.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, Optional, Union

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils import shared
from apache_beam.utils.windowed_value import WindowedValue

from newswatch.clock import now_iso
from newswatch.http.client import SafeHttpClient
from newswatch.http.errors import FetchError
from newswatch.http.robots import RobotsPolicy
from newswatch.http.settings import HttpSettings
from newswatch.records import ErrorRecord, FeedItem, FetchedPage

log = logging.getLogger(__name__)

ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")


def retry_after_note(exc: FetchError) -> str:
    """The error message, plus the wait the server asked for (429/503 Retry-After)."""
    if exc.retry_after is None:
        return exc.message
    return f"{exc.message} (Retry-After: {exc.retry_after:.0f} s)"


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


class _KnownIdsFn(beam.DoFn):
    """Base for the NewItems steps: the stored ids, loaded once per worker process."""

    def __init__(self, stored_ids: Optional[Callable[[], Iterable[str]]]):
        self._stored_ids = stored_ids
        self._shared = shared.Shared()
        self._known: frozenset[str] = frozenset()

    def setup(self):
        if self._stored_ids is not None:
            loader = self._stored_ids
            self._known = self._shared.acquire(lambda: _KnownIds(frozenset(loader()))).ids

    def _is_new(self, aid: str) -> bool:
        if aid in self._known:
            beam.metrics.Metrics.counter("fetch", "already_stored").inc()
            return False
        return True


class _FirstSightFn(_KnownIdsFn):
    """Streaming: passes each article_id once per job (keyed state) and never one already stored."""

    SEEN = ReadModifyWriteStateSpec("seen", StrUtf8Coder())

    def process(self, keyed, seen=beam.DoFn.StateParam(SEEN)):
        aid, item = keyed
        if seen.read() is not None:
            return
        seen.write(item.seen_at)
        if self._is_new(aid):
            yield item


class _FirstOfGroupFn(_KnownIdsFn):
    """Batch: one item per grouped article_id (the earliest sighting), never one already stored."""

    def process(self, grouped):
        aid, items = grouped
        if self._is_new(aid):
            yield min(items, key=lambda item: (item.seen_at, item.feed_url))


class NewItems(beam.PTransform):
    """FeedItem -> FeedItem, dropping links seen earlier in this job or already stored.

    `stored_ids` is a picklable callable returning the article ids the sink
    holds; it is read once per worker process.
    """

    def __init__(self, stored_ids: Optional[Callable[[], Iterable[str]]] = None):
        super().__init__()
        self._stored_ids = stored_ids

    def expand(self, items):
        keyed = items | "KeyByArticle" >> beam.Map(lambda item: (item.article_id, item)).with_output_types(
            tuple[str, FeedItem]
        )
        if items.pipeline.options.view_as(StandardOptions).streaming:
            return keyed | "FirstSight" >> beam.ParDo(_FirstSightFn(self._stored_ids)).with_output_types(FeedItem)
        # Bounded input: one GroupByKey sees every sighting at once. Per-key state
        # would cost a state read and write per item, which the DirectRunner pays
        # in deep object sizing (in process) or gRPC round trips (multi-process).
        return (
            keyed
            | "GroupByArticle" >> beam.GroupByKey()
            | "FirstSight" >> beam.ParDo(_FirstOfGroupFn(self._stored_ids)).with_output_types(FeedItem)
        )


def fetch_page(client: SafeHttpClient, item: FeedItem, max_bytes: int) -> Union[FetchedPage, ErrorRecord]:
    """GET one article page: the FetchedPage, or the ErrorRecord saying why not (thread-safe)."""
    try:
        response = client.get(item.url, headers={"Accept": ARTICLE_ACCEPT}, max_bytes=max_bytes)
    except FetchError as exc:
        log.info("fetch %s failed: %s %s", item.url, exc.code, exc.message)
        return ErrorRecord("fetch", item.url, item.feed_url, exc.code, retry_after_note(exc), now_iso())
    if not is_html(response.content_type, response.body):
        return ErrorRecord("fetch", item.url, item.feed_url, "not_html",
                           f"response is {response.content_type or 'of unknown type'}, not HTML", now_iso())
    return FetchedPage(
        item=item,
        final_url=response.url,
        status=response.status,
        content_type=response.content_type,
        charset=response.charset,
        body=response.body,
        fetched_at=now_iso(),
    )


class _FetchArticleFn(beam.DoFn):
    """Keeps up to `fetch_in_flight` GETs running so downloads overlap the CPU work fused after it."""

    def __init__(self, http: HttpSettings):
        self._http = http
        self._client: Optional[SafeHttpClient] = None
        self._robots: Optional[RobotsPolicy] = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pending: deque = deque()

    def setup(self):
        self._client = self._http.client()
        if self._http.robots:
            self._robots = RobotsPolicy(self._client, max_bytes=self._http.robots_max_bytes)
        if self._http.fetch_in_flight > 1:
            self._pool = ThreadPoolExecutor(self._http.fetch_in_flight, thread_name_prefix="newswatch-fetch")

    def start_bundle(self):
        self._pending = deque()

    def teardown(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def process(self, item: FeedItem, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam) -> Iterator:
        if self._robots is not None and item.feed_url not in self._http.robots_exempt_feeds:
            verdict = self._robots.check(item.url)
            if not verdict.allowed:
                beam.metrics.Metrics.counter("fetch", f"error_{verdict.code}").inc()
                log.info("fetch %s skipped: %s", item.url, verdict.message)
                yield beam.pvalue.TaggedOutput(
                    "errors", ErrorRecord("fetch", item.url, item.feed_url, verdict.code, verdict.message, now_iso())
                )
                return
        if self._pool is None:
            yield self._output(fetch_page(self._client, item, self._http.article_max_bytes), timestamp, window)
            return
        future = self._pool.submit(fetch_page, self._client, item, self._http.article_max_bytes)
        self._pending.append((future, timestamp, window))
        while self._pending and (len(self._pending) >= self._http.fetch_in_flight or self._pending[0][0].done()):
            yield self._output(*self._take())

    def finish_bundle(self) -> Iterator:
        while self._pending:
            yield self._output(*self._take())

    def _take(self) -> tuple:
        future, timestamp, window = self._pending.popleft()
        return future.result(), timestamp, window

    @staticmethod
    def _output(result: Union[FetchedPage, ErrorRecord], timestamp, window):
        # Results of earlier elements leave with their own timestamp and window.
        value = WindowedValue(result, timestamp, (window,))
        if isinstance(result, ErrorRecord):
            beam.metrics.Metrics.counter("fetch", f"error_{result.code}").inc()
            return beam.pvalue.TaggedOutput("errors", value)
        beam.metrics.Metrics.counter("fetch", "pages").inc()
        return value


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
