"""The HTTP settings every fetching stage and command builds its client from.

``HttpSettings`` is a frozen, picklable description (limits, politeness,
robots, the allow-list) that Beam DoFns hold as configuration and turn into a
``SafeHttpClient`` in ``setup()``. Feeds, article fetching, schedule, alerts,
the CLI and the demo all use it.

Example::

    http = HttpSettings.from_config(load_config(None), allow_hosts=["127.0.0.1:8765"])
    client = http.client()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from newswatch.config import FetchConfig, PolitenessConfig
from newswatch.http.client import SafeHttpClient
from newswatch.http.politeness import HostThrottle
from newswatch.http.request import FetchLimits
from newswatch.http.robots import ROBOTS_MAX_BYTES


@dataclass(frozen=True)
class HttpSettings:
    """Picklable description of the HTTP client every fetching DoFn builds in setup()."""

    # Defaults are the config's, so a settings object built in code (tests, the
    # bench) behaves like one built from the shipped config.
    total_deadline_s: float = FetchConfig.total_deadline_s
    connect_timeout_s: float = FetchConfig.connect_timeout_s
    feed_max_bytes: int = FetchConfig.feed_max_bytes
    article_max_bytes: int = FetchConfig.article_max_bytes
    max_redirects: int = FetchConfig.max_redirects
    retries: int = FetchConfig.retries
    allow_hosts: tuple[str, ...] = ()
    host_concurrency: int = PolitenessConfig.host_concurrency
    host_delay_s: float = PolitenessConfig.host_delay_s
    throttle_dir: Optional[str] = None
    ca_certs: Optional[str] = None
    robots: bool = PolitenessConfig.robots
    robots_exempt_feeds: tuple[str, ...] = ()
    robots_max_bytes: int = ROBOTS_MAX_BYTES
    fetch_in_flight: int = 8  # article GETs one fetching DoFn keeps running at once (1 = one by one)

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
            robots=cfg.politeness.robots,
            robots_exempt_feeds=tuple(cfg.politeness.robots_exempt_feeds),
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
