"""Typed configuration: packaged defaults overlaid by a user's TOML file.

    cfg = load_config("newswatch.toml")   # or load_config(None) for defaults
    cfg.fetch.total_deadline_s

Secrets (webhook signing keys) never live here: they come from the
environment.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FetchConfig:
    """Limits for every HTTP request newswatch makes."""

    total_deadline_s: float = 30.0
    connect_timeout_s: float = 10.0
    feed_max_bytes: int = 15 * 1024 * 1024
    article_max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3


@dataclass(frozen=True)
class PolitenessConfig:
    """How gently newswatch treats each host."""

    host_concurrency: int = 2
    host_delay_s: float = 1.0
    robots: bool = True
    robots_exempt_feeds: list = field(default_factory=list)  # feed URLs whose articles skip robots.txt


@dataclass(frozen=True)
class FeedsConfig:
    """Feed parsing limits."""

    max_items_per_feed: int = 1000
    future_tolerance_s: float = 86400.0


@dataclass(frozen=True)
class ExtractConfig:
    """Main-text extraction settings."""

    min_words: int = 80


@dataclass(frozen=True)
class DedupConfig:
    """Near-duplicate detection settings."""

    window_days: float = 14.0


@dataclass(frozen=True)
class MentionsConfig:
    """Mention extraction settings."""

    model: str = ""


@dataclass(frozen=True)
class SinkConfig:
    """DuckDB write batching."""

    batch_size: int = 200
    lock_timeout_s: float = 5.0


@dataclass(frozen=True)
class StreamConfig:
    """Polling schedule of the streaming job."""

    poll_interval_s: float = 60.0
    tick_s: float = 1.0
    commit_after_s: float = 2.0  # longest a stored record waits in a writer's buffer for its commit
    backoff_initial_s: float = 60.0
    backoff_max_s: float = 3600.0
    suspend_after: int = 10
    resume_check_s: float = 60.0
    shutdown_grace_s: float = 8.0


@dataclass(frozen=True)
class Config:
    """All newswatch settings."""

    fetch: FetchConfig = field(default_factory=FetchConfig)
    politeness: PolitenessConfig = field(default_factory=PolitenessConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    mentions: MentionsConfig = field(default_factory=MentionsConfig)
    sink: SinkConfig = field(default_factory=SinkConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    alerts: dict = field(default_factory=dict)  # parsed by newswatch.alerts.rules


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"unknown setting {where}{key}")
        default = known[key].default_factory() if known[key].default is dataclasses.MISSING else known[key].default  # type: ignore[misc]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ValueError(f"setting {where}{key} must be a table")
            kwargs[key] = value
        elif dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise ValueError(f"setting {where}{key} must be a table")
            kwargs[key] = _build(type(default), value, f"{where}{key}.")
        else:
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not type(default):
                raise ValueError(
                    f"setting {where}{key} must be {type(default).__name__}, got {value!r}"
                )
            kwargs[key] = value
    return cls(**kwargs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: str | Path | None = None, **overrides: dict[str, Any]) -> Config:
    """Load packaged defaults, overlay the user's file, then `overrides` tables."""
    text = resources.files("newswatch").joinpath("defaults.toml").read_text("utf-8")
    values = tomllib.loads(text)
    if path is not None:
        with open(path, "rb") as fh:
            values = _merge(values, tomllib.load(fh))
    values = _merge(values, overrides)
    return _build(Config, values, "")
