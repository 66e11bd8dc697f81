"""Many live RSS feeds on loopback, for the streaming load test and `bench/bench_stream.py`.

A `FeedFarm` serves `feeds` RSS feeds spread over `hosts` loopback addresses
(127.0.0.2, 127.0.0.3, ...; each its own host for politeness and
`--allow-host`), each feed with its own article pages. Pages are generated
prose, distinct per article, long enough for extraction. It records when
each article page was first fetched, and `add_items` makes a feed gain new
items while the job runs, returning the time of the change.

    with FeedFarm(feeds=50, items=(10, 30), hosts=10) as farm:
        farm.feed_urls, farm.allow_hosts, farm.add_items(farm.feed_urls[0], 3)
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

_WORDS = (
    "council market river harbour bridge school clinic village township road farmers traders teachers "
    "officials monsoon harvest rice ferry bus fuel prices power cuts water supply district office meeting "
    "residents elders volunteers repairs schedule weekly report budget transport festival temple library "
    "students exams flooding drought seeds fertiliser loans cooperative wages workers factory shift"
).split()


def _paragraphs(article_id: str, count: int = 5) -> list[str]:
    rng = random.Random(article_id)
    return [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(28, 40))).capitalize() + "." for _ in range(count)
    ]


class _Item:
    __slots__ = ("article_id", "path", "title", "published")

    def __init__(self, feed: str, index: int, published: float):
        self.article_id = f"{feed}-{index}"
        self.path = f"/a/{feed}/{index}.html"
        self.title = f"Story {index} from {feed}: " + " ".join(_paragraphs(self.article_id, 1)[0].split()[:6])
        self.published = published


class FeedFarm:
    """Serve `feeds` feeds of `items` (min, max) items each over `hosts` loopback addresses."""

    def __init__(self, feeds: int, items: tuple[int, int] = (10, 30), hosts: int = 1, seed: int = 12):
        rng = random.Random(seed)
        self._lock = threading.Lock()
        self.fetched_at: dict[str, float] = {}  # article path -> first GET time (epoch s)
        self.requests = 0
        self._feeds: dict[str, list[_Item]] = {}
        self._servers = []
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                host, port = self.server.server_address[:2]
                status, ctype, body = farm._respond(self.path, f"http://{host}:{port}")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for h in range(hosts):
            server = ThreadingHTTPServer((f"127.0.0.{2 + h}", 0), Handler)
            server.daemon_threads = True
            self._servers.append(server)
        self.allow_hosts = [f"{s.server_address[0]}:{s.server_address[1]}" for s in self._servers]
        self.feed_urls = []
        now = time.time()
        for f in range(feeds):
            name = f"feed{f:04d}"
            host = self.allow_hosts[f % hosts]
            self.feed_urls.append(f"http://{host}/feeds/{name}.xml")
            self._feeds[name] = [_Item(name, i, now - 3600 * (i + 1)) for i in range(rng.randint(*items))]

    @property
    def article_count(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._feeds.values())

    def add_items(self, feed_url: str, count: int) -> float:
        """Put `count` new items at the top of the feed; return the time of the change."""
        name = feed_url.rsplit("/", 1)[1].removesuffix(".xml")
        with self._lock:
            items = self._feeds[name]
            changed = time.time()
            items[:0] = [_Item(name, len(items) + i, changed) for i in range(count)]
        return changed

    def fetched(self) -> dict[str, float]:
        """A copy of `fetched_at`, taken while no request changes it."""
        with self._lock:
            return dict(self.fetched_at)

    def paths(self, feed_url: Optional[str] = None) -> set[str]:
        """Article paths of one feed, or of all."""
        with self._lock:
            names = [feed_url.rsplit("/", 1)[1].removesuffix(".xml")] if feed_url else list(self._feeds)
            return {item.path for name in names for item in self._feeds[name]}

    def _respond(self, path: str, base: str) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests += 1
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path.startswith("/feeds/"):
            name = path[len("/feeds/"):].removesuffix(".xml")
            with self._lock:
                items = list(self._feeds.get(name, ()))
            if not items:
                return 404, "text/plain", b"no such feed"
            return 200, "application/rss+xml", _rss(name, items, base).encode()
        if path.startswith("/a/"):
            _, _, name, page = path.split("/", 3)
            index = page.removesuffix(".html")
            with self._lock:
                self.fetched_at.setdefault(path, time.time())
            return 200, "text/html; charset=utf-8", _page(f"{name}-{index}").encode()
        return 404, "text/plain", b"not found"

    def __enter__(self) -> "FeedFarm":
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


def _rss(name: str, items: list[_Item], base: str) -> str:
    entries = "".join(
        f"<item><title>{item.title}</title><link>{base}{item.path}</link>"
        f"<guid isPermaLink=\"false\">{item.article_id}</guid><pubDate>{formatdate(item.published)}</pubDate></item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>{base}/</link><description>{name}</description>{entries}</channel></rss>"
    )


def _page(article_id: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in _paragraphs(article_id))
    digest = hashlib.sha1(article_id.encode()).hexdigest()[:8]
    return (
        f"<!doctype html><html><head><title>Local news {digest}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>Local news {digest}</h1>{paras}</article>"
        "<footer>Copyright the local paper</footer></body></html>"
    )
