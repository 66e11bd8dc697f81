"""Timestamps as newswatch stores them: ISO-8601 strings in UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(value: datetime) -> str:
    """Format an aware datetime as ISO-8601 in UTC, to the second."""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def now_iso() -> str:
    """Current time as ISO-8601 UTC."""
    return iso_utc(datetime.now(timezone.utc))
