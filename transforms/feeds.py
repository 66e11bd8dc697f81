"""Feed input: feed lists, feed polling and parsing into `FeedItem`s.

Feed bytes are fetched by newswatch's own client (`newswatch.http`), never by
feedparser, then parsed from memory. A malformed-but-recoverable feed (bozo)
still yields its items and is noted on its `FeedPoll`; an unreadable one is
an `errors` row. feedparser never expands entities declared in a DOCTYPE nor
reads external ones, so billion-laughs and XXE feeds stay inert.

Per-item problems that do not stop the feed:

* entries past ``max_items`` or without any link are skipped and counted in
  the poll's note (``FeedPoll.message``);
* a link that is not http(s) (``file:``, ``javascript:``, ``ftp:``, ...) or
  not a URL is an `errors` row (stage ``feed``, code ``bad_scheme`` or
  ``bad_url``, url = the link as given);
* a date later than now + ``future_tolerance_s`` is not trusted: the item's
  `published_at` is left empty (the page's own date is used if it has one)
  and an `errors` row with the warning code ``future_date`` names the item.

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
from typing import Iterator, NamedTuple, Optional, Sequence
from urllib.parse import urlsplit

import apache_beam as beam
import feedparser

from newswatch.clock import iso_utc, now_iso
from newswatch.http.client import SafeHttpClient
from newswatch.http.errors import FetchError
from newswatch.http.settings import HttpSettings
from newswatch.records import ErrorRecord, FeedItem, FeedPoll, FeedRequest
from newswatch.transforms.shared.canonical import article_id, canonical_url
from newswatch.transforms.fetch import retry_after_note

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
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        if not _looks_like_url(url):
            raise ValueError(f"not a feed URL in OPML: {url!r}")
        urls.append(url)
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
    skipped: int  # entries not turned into items: over the cap, no link, refused link
    over_cap: int = 0  # entries past the item cap
    no_link: int = 0  # entries with neither a link nor a URL-like id
    refused: tuple[tuple[str, str, str], ...] = ()  # (link, code, reason) of non-http(s) or broken links
    future_dated: tuple[tuple[str, str], ...] = ()  # (canonical url, the untrusted date)


def _entry_stamp(entry: dict) -> Optional[int]:
    """The entry's own date as a Unix time, or None."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return calendar.timegm(parsed)
            except (TypeError, ValueError, OverflowError):
                return None
    return None


def _iso_stamp(stamp: int) -> Optional[str]:
    try:
        return iso_utc(datetime.fromtimestamp(stamp, timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None


def _refusal(link: str) -> tuple[str, str]:
    """(code, reason) for a link that canonical_url rejected."""
    try:
        scheme = urlsplit(link.strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme and scheme not in ("http", "https"):
        return "bad_scheme", f"item link scheme {scheme!r} is not http or https"
    return "bad_url", "item link is not an absolute http(s) URL"


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
    over_cap = no_link = 0
    refused: list[tuple[str, str, str]] = []
    future: list[tuple[str, str]] = []
    for entry in parsed.entries:
        if len(items) >= max_items:
            over_cap += 1
            continue
        link = _entry_link(entry)
        if not link:
            no_link += 1
            continue
        try:
            url = canonical_url(link)
        except ValueError:
            refused.append((link[:1000], *_refusal(link)))
            continue
        aid = article_id(url)
        if aid in ids:  # the same link listed twice (duplicate GUID, an "UPDATE:" item)
            continue
        ids.add(aid)
        stamp = _entry_stamp(entry)
        published = _iso_stamp(stamp) if stamp is not None else None
        if stamp is not None and stamp > now + future_tolerance_s:
            future.append((url, published or str(stamp)))
            published = None  # a date in the future is not trusted
        items.append(
            FeedItem(
                article_id=aid,
                url=url,
                feed_url=feed_url,
                title=(entry.get("title") or None),
                published_at=published,
                seen_at=seen_at,
            )
        )
    return ParsedFeed(
        title=parsed.feed.get("title") or None,
        items=items,
        bozo=bozo,
        bozo_message=str(bozo_exc) if bozo and bozo_exc else None,
        skipped=over_cap + no_link + len(refused),
        over_cap=over_cap,
        no_link=no_link,
        refused=tuple(refused),
        future_dated=tuple(future),
    )


def poll_note(feed: ParsedFeed, max_items: int) -> Optional[str]:
    """The poll's note: parse problems and what was skipped, or None."""
    parts = [feed.bozo_message] if feed.bozo_message else []
    if feed.over_cap:
        parts.append(f"{feed.over_cap} entries over the item cap ({max_items}) skipped")
    if feed.no_link:
        parts.append(f"{feed.no_link} entries without a link skipped")
    if feed.refused:
        parts.append(f"{len(feed.refused)} links refused (not http/https)")
    if feed.future_dated:
        parts.append(f"{len(feed.future_dated)} future dates not trusted")
    return "; ".join(parts) or None


# ---------------------------------------------------------------- Beam


class PollOutcome(NamedTuple):
    """Everything one poll of one feed produced."""

    items: list[FeedItem]
    poll: FeedPoll
    error: Optional[ErrorRecord]
    item_errors: tuple[ErrorRecord, ...] = ()  # refused links and untrusted dates, one row each


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
        message = retry_after_note(exc)
        poll = FeedPoll(url, polled_at, "error", exc.status, request.etag, request.last_modified,
                        0, False, exc.code, message, None, exc.retry_after)
        return PollOutcome([], poll, ErrorRecord("feed", url, url, exc.code, message, polled_at))
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
    if feed.bozo:
        log.warning("feed %s is malformed but readable: %s", url, feed.bozo_message)
    item_errors = tuple(
        ErrorRecord("feed", link, url, code, reason, polled_at) for link, code, reason in feed.refused
    ) + tuple(
        ErrorRecord("feed", item_url, url, "future_date",
                    f"feed date {date} is later than now + {future_tolerance_s:.0f} s; not trusted", polled_at)
        for item_url, date in feed.future_dated
    )
    poll = FeedPoll(url, polled_at, "ok", response.status, etag, last_modified,
                    len(feed.items), feed.bozo, None, poll_note(feed, max_items), feed.title, None)
    return PollOutcome(feed.items, poll, None, item_errors)


def emit_outcome(outcome: PollOutcome) -> Iterator:
    """Yield a poll's items on the main output, its poll and error on tagged outputs."""
    counter = beam.metrics.Metrics.counter
    if outcome.error is not None:
        counter("feeds", f"error_{outcome.error.code}").inc()
        log.info("feed %s failed: %s %s", outcome.poll.feed_url, outcome.error.code, outcome.error.message)
        yield beam.pvalue.TaggedOutput("errors", outcome.error)
    for item_error in outcome.item_errors:
        counter("feeds", f"item_{item_error.code}").inc()
        yield beam.pvalue.TaggedOutput("errors", item_error)
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
