"""Feed input: feed lists, feed polling and parsing into `FeedItem`s.

Feed bytes are fetched by newswatch's own client (`newswatch.net`), never by
feedparser, then parsed from memory. A malformed-but-recoverable feed (bozo)
still yields its items and is noted on its `FeedPoll`; an unreadable one is
an `errors` row.

Input: PCollection[FeedRequest]. Outputs: FeedItem, FeedPoll, ErrorRecord.

    newswatch run --feeds feeds.opml --db news.duckdb
"""

from __future__ import annotations

import calendar
import io
import logging
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Optional, Sequence

import apache_beam as beam
import feedparser

from newswatch.clock import iso_utc, now_iso
from newswatch.net import FetchError, SafeHttpClient
from newswatch.records import ErrorRecord, FeedItem, FeedPoll, FeedRequest
from newswatch.transforms.canonical import article_id, canonical_url
from newswatch.transforms.fetch import HttpSettings

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


# ---------------------------------------------------------------- feed lists


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def parse_feed_list_text(text: str) -> list[str]:
    """Parse a plain feed list (one URL per line, `#` comments) or an OPML document."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return parse_opml(stripped)
    urls = []
    for line in text.splitlines():
        # A comment is a whole line starting with '#', or ' #' after the URL
        # (a bare '#' inside a URL is a fragment, not a comment).
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not _looks_like_url(line):
            raise ValueError(f"not a feed URL: {line!r}")
        urls.append(line)
    return urls


def parse_opml(text: str) -> list[str]:
    """Return the `xmlUrl` of every outline in an OPML document, in document order."""
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise ValueError("OPML with a DOCTYPE or entity declarations is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"malformed OPML: {exc}") from None
    if root.tag.lower() != "opml":
        raise ValueError(f"not an OPML document (root element <{root.tag}>)")
    urls = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url and url.strip():
            urls.append(url.strip())
    return urls


def read_feed_list(args: Sequence[str]) -> list[str]:
    """Resolve `--feeds` arguments (URLs, text files, OPML files) to unique feed URLs."""
    urls: list[str] = []
    for arg in args:
        if _looks_like_url(arg):
            urls.append(arg.strip())
        else:
            path = Path(arg)
            if not path.is_file():
                raise ValueError(f"--feeds {arg!r} is neither an http(s) URL nor a readable file")
            urls.extend(parse_feed_list_text(path.read_text("utf-8-sig")))
    seen: dict[str, None] = {}
    for url in urls:
        seen.setdefault(url, None)
    return list(seen)


# ---------------------------------------------------------------- parsing


class ParsedFeed(NamedTuple):
    """What one feed document yielded."""

    title: Optional[str]
    items: list[FeedItem]
    bozo: bool
    bozo_message: Optional[str]
    skipped: int  # entries past the item cap or without a usable link


def _entry_date(entry: dict, now: float, future_tolerance_s: float) -> Optional[str]:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            stamp = calendar.timegm(parsed)
            if stamp > now + future_tolerance_s:
                return None  # a date in the future is not trusted
            return iso_utc(datetime.fromtimestamp(stamp, timezone.utc))
    return None


def _entry_link(entry: dict) -> Optional[str]:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links") or ():
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link and entry.get("guidislink") and _looks_like_url(entry.get("id") or ""):
        link = entry["id"]
    if not link and _looks_like_url(entry.get("id") or ""):
        # RSS guids are permalinks unless isPermaLink="false"; feedparser only
        # reports that through `guidislink` when a <link> is also present.
        link = entry["id"]
    return link


def parse_feed(
    body: bytes,
    feed_url: str,
    content_type: Optional[str] = None,
    *,
    seen_at: Optional[str] = None,
    max_items: int = 1000,
    future_tolerance_s: float = 86400.0,
    now: Optional[float] = None,
) -> ParsedFeed:
    """Parse feed bytes into FeedItems; raise ValueError when nothing is readable."""
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    bozo_exc = parsed.get("bozo_exception")
    # A missing or generic Content-Type is not a defect of the feed itself.
    benign = isinstance(bozo_exc, (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride))
    bozo = bool(parsed.get("bozo")) and not benign
    version = parsed.get("version") or ""
    if not parsed.entries and (not version or bozo):
        if body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
            raise ValueError("not_a_feed: the document is an HTML page, not RSS/Atom")
        reason = f": {bozo_exc}" if bozo_exc else ""
        raise ValueError(f"feed_malformed: no feed could be read{reason}")

    seen_at = seen_at or now_iso()
    now = time.time() if now is None else now
    items: list[FeedItem] = []
    ids: set[str] = set()
    skipped = 0
    for entry in parsed.entries:
        if len(items) >= max_items:
            skipped += 1
            continue
        link = _entry_link(entry)
        try:
            url = canonical_url(link) if link else None
        except ValueError:
            url = None
        if url is None:
            skipped += 1
            continue
        aid = article_id(url)
        if aid in ids:  # the same link listed twice (duplicate GUID, an "UPDATE:" item)
            continue
        ids.add(aid)
        items.append(
            FeedItem(
                article_id=aid,
                url=url,
                raw_url=link,
                feed_url=feed_url,
                guid=entry.get("id"),
                title=(entry.get("title") or None),
                published_at=_entry_date(entry, now, future_tolerance_s),
                seen_at=seen_at,
            )
        )
    return ParsedFeed(
        title=parsed.feed.get("title") or None,
        items=items,
        bozo=bozo,
        bozo_message=str(bozo_exc) if bozo and bozo_exc else None,
        skipped=skipped,
    )


# ---------------------------------------------------------------- Beam


class PollOutcome(NamedTuple):
    """Everything one poll of one feed produced."""

    items: list[FeedItem]
    poll: FeedPoll
    error: Optional[ErrorRecord]


def poll_feed(
    client: SafeHttpClient,
    request: FeedRequest,
    max_bytes: int,
    max_items: int = 1000,
    future_tolerance_s: float = 86400.0,
) -> PollOutcome:
    """Fetch one feed (conditionally, when validators are given) and parse it."""
    polled_at = now_iso()
    headers = {"Accept": FEED_ACCEPT}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    url = request.feed_url
    try:
        response = client.get(url, headers=headers, max_bytes=max_bytes)
    except FetchError as exc:
        poll = FeedPoll(url, polled_at, "error", exc.status, request.etag, request.last_modified,
                        0, False, exc.code, exc.message, None, exc.retry_after)
        return PollOutcome([], poll, ErrorRecord("feed", url, url, exc.code, exc.message, polled_at))
    etag = response.headers.get("etag") or request.etag
    last_modified = response.headers.get("last-modified") or request.last_modified
    if response.status == 304:
        poll = FeedPoll(url, polled_at, "not_modified", 304, etag, last_modified, 0, False, None, None, None, None)
        return PollOutcome([], poll, None)
    try:
        feed = parse_feed(
            response.body,
            url,
            response.headers.get("content-type"),
            seen_at=polled_at,
            max_items=max_items,
            future_tolerance_s=future_tolerance_s,
        )
    except ValueError as exc:
        code, _, message = str(exc).partition(": ")
        if code not in ("feed_malformed", "not_a_feed"):
            code, message = "feed_malformed", str(exc)
        poll = FeedPoll(url, polled_at, "error", response.status, etag, last_modified,
                        0, False, code, message, None, None)
        return PollOutcome([], poll, ErrorRecord("feed", url, url, code, message, polled_at))
    note = feed.bozo_message
    if feed.bozo:
        log.warning("feed %s is malformed but readable: %s", url, feed.bozo_message)
    if feed.skipped:
        note = f"{note + '; ' if note else ''}{feed.skipped} entries skipped (item cap or no link)"
    poll = FeedPoll(url, polled_at, "ok", response.status, etag, last_modified,
                    len(feed.items), feed.bozo, None, note, feed.title, None)
    return PollOutcome(feed.items, poll, None)


def emit_outcome(outcome: PollOutcome) -> Iterator:
    """Yield a poll's items on the main output, its poll and error on tagged outputs."""
    counter = beam.metrics.Metrics.counter
    if outcome.error is not None:
        counter("feeds", f"error_{outcome.error.code}").inc()
        log.info("feed %s failed: %s %s", outcome.poll.feed_url, outcome.error.code, outcome.error.message)
        yield beam.pvalue.TaggedOutput("errors", outcome.error)
    counter("feeds", f"poll_{outcome.poll.status}").inc()
    counter("feeds", "items").inc(len(outcome.items))
    yield from outcome.items
    yield beam.pvalue.TaggedOutput("polls", outcome.poll)


class _PollFeedFn(beam.DoFn):
    """Fetches and parses one feed; emits items, one FeedPoll and any error."""

    def __init__(self, http: HttpSettings, max_items: int, future_tolerance_s: float):
        self._http = http
        self._max_items = max_items
        self._future_tolerance_s = future_tolerance_s
        self._client: Optional[SafeHttpClient] = None

    def setup(self):
        self._client = self._http.client()

    def teardown(self):
        if self._client is not None:
            self._client.close()

    def process(self, request: FeedRequest) -> Iterator:
        yield from emit_outcome(
            poll_feed(self._client, request, self._http.feed_max_bytes, self._max_items, self._future_tolerance_s)
        )


class PollFeeds(beam.PTransform):
    """FeedRequest -> (FeedItem, FeedPoll, ErrorRecord), one poll per request."""

    def __init__(self, http: HttpSettings, max_items: int = 1000, future_tolerance_s: float = 86400.0):
        super().__init__()
        self._fn = _PollFeedFn(http, max_items, future_tolerance_s)

    def expand(self, requests):
        outputs = (
            requests
            | "SpreadFeeds" >> beam.Reshuffle()
            | "PollFeed"
            >> beam.ParDo(self._fn)
            .with_output_types(FeedItem, polls=FeedPoll, errors=ErrorRecord)
            .with_outputs("polls", "errors", main="items")
        )
        return outputs.items, outputs.polls, outputs.errors
