"""robots.txt for article fetches: fetched once per host, cached, size-capped.

`RobotsPolicy.check(url)` answers whether newswatch may fetch an article URL.
The robots.txt is fetched through the same `SafeHttpClient` as the pages
(deadline, byte cap of 512 KiB, redirect checks, private-address refusal,
per-host politeness) and parsed with `urllib.robotparser`. Answers are cached
per ``scheme://host:port`` inside the policy object, which each fetching DoFn
builds in `setup()`; there is no module-level cache.

What a robots.txt outcome means (RFC 9309 section 2.3.1):

* 2xx: its rules apply to the ``newswatch`` user agent.
* 404, 410 and other 4xx except 429: no rules, everything allowed.
* 5xx, 429, a timeout, a connection failure, or a file over 512 KiB: the
  host is treated as disallowing everything (code ``robots_unavailable``)
  until the entry expires (one hour), i.e. for the rest of a batch run.
* A URL the article request would fail on anyway (blocked address, bad
  scheme, DNS or TLS failure) gets no robots verdict, so the fetch reports
  its own, more telling, error.

Successful answers are reused for 24 hours (RFC 9309 asks for no longer).
`urllib.robotparser` matches path prefixes only: the ``*`` and ``$``
wildcards of RFC 9309 are not understood, so such lines never match.

Example::

    policy = RobotsPolicy(client)
    verdict = policy.check("https://example.org/news/1")
    if not verdict.allowed: ...  # verdict.code is robots_disallowed or robots_unavailable
"""

from __future__ import annotations

import time
import urllib.robotparser
from typing import Callable, NamedTuple, Optional
from urllib.parse import urlsplit, urlunsplit

from newswatch.http.client import SafeHttpClient
from newswatch.http.errors import FetchError

ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_AGENT = "newswatch"
# Failures that the article request itself would hit: leave them to it.
_NOT_A_ROBOTS_PROBLEM = frozenset({"blocked_address", "bad_scheme", "bad_url", "dns_error", "tls_error"})


class RobotsVerdict(NamedTuple):
    """Whether one URL may be fetched, and why not."""

    allowed: bool
    code: Optional[str] = None  # robots_disallowed | robots_unavailable
    message: Optional[str] = None


ALLOWED = RobotsVerdict(True)


class _Rules(NamedTuple):
    """A host's cached robots answer."""

    parser: Optional[urllib.robotparser.RobotFileParser]  # None: no rules apply
    unavailable: Optional[str]  # set when the host is disallowed for being unreachable
    expires_at: float  # time.monotonic() deadline


def robots_url(url: str) -> str:
    """The robots.txt URL governing `url` (same scheme, host and port)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/robots.txt", "", ""))


def parse_robots(text: str) -> urllib.robotparser.RobotFileParser:
    """A robots.txt parsed into a ready-to-query parser."""
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return parser


def decode_robots(body: bytes) -> str:
    """robots.txt bytes as text (UTF-8 per RFC 9309; stray bytes replaced)."""
    return body.decode("utf-8-sig", errors="replace")


def verdict_for(parser: urllib.robotparser.RobotFileParser, url: str, agent: str = ROBOTS_AGENT) -> RobotsVerdict:
    """Ask parsed rules about one URL."""
    if parser.can_fetch(agent, url):
        return ALLOWED
    return RobotsVerdict(False, "robots_disallowed", f"robots.txt of {urlsplit(url).netloc} disallows this URL")


class RobotsPolicy:
    """Per-host robots.txt answers for one fetching DoFn instance."""

    def __init__(
        self,
        client: SafeHttpClient,
        agent: str = ROBOTS_AGENT,
        max_bytes: int = ROBOTS_MAX_BYTES,
        ttl_s: float = 86400.0,
        unavailable_ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._agent = agent
        self._max_bytes = max_bytes
        self._ttl_s = ttl_s
        self._unavailable_ttl_s = unavailable_ttl_s
        self._clock = clock
        self._rules: dict[str, _Rules] = {}

    def check(self, url: str) -> RobotsVerdict:
        """Verdict for an article URL, fetching the host's robots.txt when not cached."""
        key = robots_url(url)
        rules = self._rules.get(key)
        if rules is None or rules.expires_at <= self._clock():
            rules = self._load(key)
            if rules is None:
                return ALLOWED
            self._rules[key] = rules
        if rules.unavailable is not None:
            return RobotsVerdict(False, "robots_unavailable", rules.unavailable)
        if rules.parser is None:
            return ALLOWED
        return verdict_for(rules.parser, url, self._agent)

    def _load(self, robots: str) -> Optional[_Rules]:
        """Fetch and interpret one robots.txt; None when the verdict is left to the fetch."""
        now = self._clock()
        try:
            response = self._client.get(robots, headers={"Accept": "text/plain, */*;q=0.5"}, max_bytes=self._max_bytes)
        except FetchError as exc:
            if exc.code in _NOT_A_ROBOTS_PROBLEM:
                return None
            if exc.code in ("http_404", "http_410", "http_4xx"):  # 429 has its own code
                return _Rules(None, None, now + self._ttl_s)
            reason = f"{robots} unavailable ({exc.code}: {exc.message}); host treated as disallowed"
            return _Rules(None, reason, now + self._unavailable_ttl_s)
        if response.status != 200:
            return _Rules(None, None, now + self._ttl_s)  # e.g. 204: nothing to obey
        return _Rules(parse_robots(decode_robots(response.body)), None, now + self._ttl_s)
