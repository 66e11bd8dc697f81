"""`newswatch feeds resume` against a running `newswatch stream`: the suspended feed is polled again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from newswatch.cli import main
from newswatch.demo.server import StaticServer
from tests.conftest_net_helpers import job_output, start_logged
from tests.test_stream import _read, _stop, _wait_for

pytestmark = pytest.mark.slow

_PAGE = """<!doctype html><html><head><title>Ferry timetable changes at the river port</title>
<meta property="article:published_time" content="2026-11-20T08:00:00+00:00"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav><article><h1>Ferry timetable changes at the river port</h1>
{paras}</article><footer>Copyright the harbour gazette</footer></body></html>"""
_PARAS = (
    "The port office said on Thursday that the morning ferry to the island villages will leave half an hour "
    "later from next week, because the channel near the old jetty must be dredged before the dry season.",
    "Traders who carry rice and dried fish to the market on the first boat asked the office to add a second "
    "departure at dawn, and the harbour master promised to consider it once the dredger has finished.",
    "The evening boat will stop at the new pier beside the fish market instead of the customs steps, which "
    "were damaged by a storm in August and are still closed to passengers while engineers inspect them.",
    "Fares stay the same for now. Students and monks keep travelling free, and the office will print the new "
    "timetable on boards at both piers and read it out on the town radio every morning for a fortnight.",
)
_FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour gazette</title>
<link>{base}/</link><description>Port news</description>
<item><title>Ferry timetable changes at the river port</title><link>{base}/news/ferry.html</link>
<guid>{base}/news/ferry.html</guid><pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate></item>
</channel></rss>"""


def test_running_stream_polls_a_resumed_feed(tmp_path: Path):
    site = tmp_path / "site"
    (site / "news").mkdir(parents=True)
    (site / "news" / "ferry.html").write_text(_PAGE.format(paras="\n".join(f"<p>{p}</p>" for p in _PARAS)))
    config = tmp_path / "fast.toml"
    config.write_text("[stream]\nsuspend_after = 1\nbackoff_initial_s = 1.0\nresume_check_s = 1.0\n")
    db = tmp_path / "news.duckdb"
    with StaticServer(site) as server:
        feed = f"{server.base_url}/feed.xml"  # not there yet: 404, suspended after one failure
        proc = start_logged(
            [sys.executable, "-m", "newswatch.cli", "stream", "--feeds", feed, "--db", str(db), "--config",
             str(config), "--allow-host", server.host_port, "--poll-interval", "2", "--host-delay", "0"])
        try:
            suspended = "SELECT suspended_reason FROM feeds WHERE suspended"
            assert _wait_for(lambda: db.exists() and _read(db, suspended), 60), "the feed was never suspended"
            assert "http_404" in _read(db, suspended)[0][0]
            (site / "feed.xml").write_text(_FEED.format(base=server.base_url))
            assert main(["feeds", "resume", "--db", str(db), feed]) == 0
            stored = "SELECT count(*) FROM articles"
            if not _wait_for(lambda: _read(db, stored)[0][0] == 1, 30):
                polls = _read(db, "SELECT status, error_code FROM feed_polls ORDER BY polled_at")
                errors = _read(db, "SELECT stage, code, message FROM errors")
                pytest.fail(f"the resumed feed was not polled or stored: polls {polls}, errors {errors}")
            # The analyst file is published every few seconds: a later 304 poll may already show.
            assert _read(db, "SELECT suspended, consecutive_errors, last_status FROM feeds") in (
                [(False, 0, "ok")], [(False, 0, "not_modified")])
        finally:
            code, _ = _stop(proc)
            output = job_output(proc)
    assert code == 0, output
