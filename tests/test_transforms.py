"""One TestPipeline per composite transform of the ingest path, plus their pure cores."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import duckdb
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newswatch.demo.server import StaticServer
from newswatch.records import (
    Article, ArticleLabels, EnrichedArticle, ErrorRecord, FeedItem, FeedPoll, FeedRequest, SinkRecord,
)
from newswatch.sinks.duckdb import DuckDBStore
from newswatch.sinks.duckdb_writer import WriteToDuckDB
from newswatch.transforms.shared.canonical import article_id
from newswatch.transforms.extract_text import ExtractText
from newswatch.transforms.feeds import PollFeeds, parse_feed
from newswatch.http.settings import HttpSettings
from newswatch.transforms.fetch import FetchArticles, NewItems
from newswatch.transforms.schedule import FeedState, PollOnSchedule, Schedule, advance, resumed

SITE = Path(__file__).parent / "fixtures" / "site"


@pytest.fixture(scope="module")
def site():
    with StaticServer(SITE, base_placeholder="__BASE__") as server:
        yield server


def _http(server) -> HttpSettings:
    return HttpSettings(allow_hosts=(server.host_port,), host_concurrency=0, host_delay_s=0.0, retries=0)


def _pipeline() -> TestPipeline:
    return TestPipeline(runner="DirectRunner")


# ---------------------------------------------------------------- pure cores


def test_parse_feed_links_guids_dates_and_caps(site):
    body = (SITE / "feeds" / "rss.xml").read_bytes().replace(b"__BASE__", site.base_url.encode())
    feed = parse_feed(body, "http://f/rss.xml", "application/rss+xml", seen_at="2025-03-06T00:00:00+00:00",
                      now=1741219200.0)
    urls = [i.url for i in feed.items]
    base = site.base_url
    assert urls == [
        f"{base}/news/harbour-crane.html",  # tracking params stripped; the "updated" twin folded in
        f"{base}/news/permalink-only.html",  # guid used as the link
        f"{base}/news/future.html",
        f"{base}/news/missing.html",
        f"{base}/news/consent.html",
    ]
    assert feed.skipped == 1  # the item with no link and a non-permalink guid
    by_url = {i.url: i for i in feed.items}
    assert by_url[f"{base}/news/harbour-crane.html"].published_at == "2025-03-04T01:30:00+00:00"
    assert by_url[f"{base}/news/future.html"].published_at is None  # year 2100 is not trusted
    assert by_url[f"{base}/news/missing.html"].published_at is None
    assert not feed.bozo and feed.title == "Fixture Daily"
    capped = parse_feed(body, "http://f/rss.xml", "application/rss+xml", max_items=2)
    assert len(capped.items) == 2 and capped.over_cap == 4


def test_parse_feed_rejects_html_and_garbage():
    with pytest.raises(ValueError, match="not_a_feed"):
        parse_feed(b"<!DOCTYPE html><html><body>hi</body></html>", "http://f/x", "text/html")
    with pytest.raises(ValueError, match="feed_malformed"):
        parse_feed(b"\x00\x01 not xml at all <<<", "http://f/x", "application/xml")


def test_parse_feed_recovers_bozo_items():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T & Co</title>
    <item><title>A & B</title><link>http://example.org/a</link></item></channel></rss>"""
    feed = parse_feed(body, "http://f/x", "application/rss+xml")
    assert feed.bozo and [i.url for i in feed.items] == ["http://example.org/a"]


def test_schedule_backoff_retry_after_and_suspension():
    sched = Schedule(poll_interval_s=30, backoff_initial_s=60, backoff_max_s=3600, suspend_after=3)
    ok = FeedPoll("u", "t", "ok", 200, '"e"', "lm", 3, False, None, None, None, None)
    fail = FeedPoll("u", "t", "error", 503, None, None, 0, False, "http_5xx", "x", None, None)
    state = advance(FeedState(), ok, 1000.0, sched)
    assert state == FeedState(1030.0, 0, '"e"', "lm", None)
    state = advance(state, fail, 2000.0, sched)
    assert (state.next_poll, state.errors, state.etag) == (2060.0, 1, '"e"')
    state = advance(state, fail._replace(retry_after=600.0), 3000.0, sched)
    assert state.next_poll == 3600.0 and state.suspended is None  # Retry-After beats the 120 s backoff
    state = advance(state, fail, 4000.0, sched)
    assert state.suspended and "3 consecutive" in state.suspended
    assert advance(FeedState(), fail._replace(http_status=410, error_code="http_410"), 0, sched).suspended
    assert FeedState.decode(state.encode()) == state
    assert state.suspended_at == 4000.0


def test_resume_needs_a_request_after_the_suspension():
    suspended = FeedState(500.0, 10, '"e"', "lm", "10 consecutive failures", suspended_at=1000.0)
    assert resumed(suspended, None) is None
    assert resumed(suspended, FeedState(resumed_at=900.0)) is None  # an older resume: suspended again since
    assert resumed(suspended, FeedState(resumed_at=1100.0, suspended="x")) is None  # store says suspended
    assert resumed(suspended, FeedState(resumed_at=1100.0)) == FeedState(0.0, 0, '"e"', "lm")
    assert resumed(FeedState(), FeedState(resumed_at=1100.0)) is None  # not suspended: nothing to do
    assert FeedState.decode('{"next_poll": 1.0, "errors": 0, "etag": null, "last_modified": null, '
                            '"suspended": null}') == FeedState(1.0)  # state written by an older version


class _StatesByCall:
    """Picklable stored-state loader: suspended on the first read, resumed on later ones."""

    def __init__(self, url: str, counter: str, resume: bool):
        self.url, self.counter, self.resume = url, counter, resume

    def __call__(self):
        path = Path(self.counter)
        calls = int(path.read_text() or 0) if path.exists() else 0
        path.write_text(str(calls + 1))
        if calls == 0 or not self.resume:
            return {self.url: FeedState(0.0, 10, None, None, "10 consecutive failures", suspended_at=100.0)}
        return {self.url: FeedState(resumed_at=200.0)}


@pytest.mark.parametrize("resume", [False, True])
def test_poll_on_schedule_picks_up_a_resume(site, tmp_path, resume):
    url = f"{site.base_url}/feeds/rss.xml"
    states = _StatesByCall(url, str(tmp_path / "calls"), resume)
    with _pipeline() as p:
        _, polls, _ = (
            p | beam.Create([1.0, 2.0])
            | PollOnSchedule([url], _http(site), Schedule(poll_interval_s=3600, resume_check_s=0.0),
                             stored_states=states)
        )
        assert_that(polls | beam.Map(lambda p: p.status), equal_to(["ok"] if resume else []))


# ---------------------------------------------------------------- composites


def test_poll_feeds_composite(site):
    url = f"{site.base_url}/feeds/rss.xml"
    missing = f"{site.base_url}/feeds/none.xml"
    with _pipeline() as p:
        items, polls, errors = (
            p | beam.Create([FeedRequest(url, None, None), FeedRequest(missing, None, None)])
            | PollFeeds(_http(site))
        )
        assert_that(items | "ItemUrls" >> beam.Map(lambda i: i.url.rsplit("/", 1)[1]), equal_to(
            ["harbour-crane.html", "permalink-only.html", "future.html", "missing.html", "consent.html"]),
            label="items")
        assert_that(polls | "PollStatus" >> beam.Map(lambda p: (p.feed_url, p.status, p.items_seen)),
                    equal_to([(url, "ok", 5), (missing, "error", 0)]), label="polls")
        assert_that(errors | "ErrorCodes" >> beam.Map(lambda e: (e.stage, e.url.rsplit("/", 1)[1], e.code)),
                    equal_to([("feed", "none.xml", "http_404"), ("feed", "future.html", "future_date")]),
                    label="errors")


def _item(url: str, feed: str = "http://f/rss.xml") -> FeedItem:
    return FeedItem(article_id(url), url, feed, None, None, "2025-03-06T00:00:00+00:00")


def test_new_items_drops_repeats_and_stored_ids():
    stored = _item("http://a.example/stored")
    fresh = _item("http://a.example/fresh")
    twice = [_item("http://a.example/twice"), _item("http://a.example/twice", feed="http://g/atom.xml")]
    with _pipeline() as p:
        out = (
            p | beam.Create([stored, fresh, *twice]).with_output_types(FeedItem)
            | NewItems(stored_ids=lambda: [stored.article_id])
        )
        assert_that(out | beam.Map(lambda i: i.url), equal_to(["http://a.example/fresh", "http://a.example/twice"]))


def test_fetch_and_extract_composites(site):
    base = site.base_url
    items = [_item(f"{base}/news/harbour-crane.html"), _item(f"{base}/news/missing.html"),
             _item(f"{base}/news/consent.html"), _item(f"{base}/feeds/rss.xml")]
    with _pipeline() as p:
        pages, fetch_errors = p | beam.Create(items).with_output_types(FeedItem) | FetchArticles(_http(site))
        articles, extract_errors = pages | ExtractText(min_words=80)
        assert_that(fetch_errors | "FetchCodes" >> beam.Map(lambda e: (e.url.rsplit("/", 1)[1], e.code)),
                    equal_to([("missing.html", "http_404"), ("rss.xml", "not_html")]), label="fetch_errors")
        assert_that(extract_errors | "ExtractCodes" >> beam.Map(lambda e: (e.url.rsplit("/", 1)[1], e.code)),
                    equal_to([("consent.html", "no_content")]), label="extract_errors")
        assert_that(
            articles | beam.Map(lambda a: (a.title, a.published_at, a.date_origin, a.language,
                                           "cranes" in a.text, "Most read" in a.text, "tracker" in a.text)),
            equal_to([("Harbour crane contract awarded after long tender", "2025-03-04T00:00:00+00:00", "page",
                       "en", True, False, False)]),
            label="articles",
        )


def test_write_to_duckdb_composite(tmp_path):
    db = str(tmp_path / "w.duckdb")
    article = Article("a1", "http://x/1", "http://f", "X", "T", None, None, None, "2025-01-01T00:00:00+00:00",
                      "2025-01-01T00:00:00+00:00", "en", "text", "h", None, None, None)
    labels = ArticleLabels(False, False, False, None, None, [], [], None)
    records = [
        SinkRecord(enriched=EnrichedArticle(article, [], labels)),
        SinkRecord(error=ErrorRecord("fetch", "http://x/2", "http://f", "http_404", "gone", "2025-01-01T00:00:00+00:00")),
    ]
    with _pipeline() as p:
        new = p | beam.Create(records).with_output_types(SinkRecord) | WriteToDuckDB(DuckDBStore(db), batch_size=1)
        assert_that(new | beam.Map(lambda e: e.article.article_id), equal_to(["a1"]))
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM errors)").fetchone() == (1, 1)
    con.close()


def test_poll_on_schedule_composite(site):
    url = f"{site.base_url}/feeds/rss.xml"
    schedule = Schedule(poll_interval_s=3600)
    with _pipeline() as p:
        items, polls, errors = (
            p | beam.Create([1.0, 2.0, 3.0])  # three ticks, one poll: the feed is not due again for an hour
            | PollOnSchedule([url], _http(site), schedule)
        )
        assert_that(polls | beam.Map(lambda p: (p.status, p.next_poll_at is not None)), equal_to([("ok", True)]),
                    label="polls")
        assert_that(items | beam.combiners.Count.Globally(), equal_to([5]), label="items")
