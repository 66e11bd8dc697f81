"""Alerts on new defection reports: the ``RaiseAlerts`` stage and the ``newswatch alerts`` command.

Input of ``RaiseAlerts``: PCollection[EnrichedArticle] of newly stored
articles (what ``ProcessItems`` returns). Output: PCollection[str] of the
alert ids it enqueued. Each article is checked against the rules of the
``[alerts]`` table of the config file and every match is written to the
DuckDB outbox once per story; after each bundle the due alerts are
delivered. ``DeliverDueAlerts`` retries due alerts in a stream job.

The stage is split by concern; this module wires them and re-exports their
public names, so callers import everything from here:

- ``alert_rules``: ``AlertRule``, ``AlertSettings``, config parsing, matching
  and the alert payload;
- ``alert_outbox``: the DuckDB outbox, delivery with retries and backoff,
  listing and manual retry;
- ``alert_channels``: webhook, Slack, file and console delivery, request
  signing (the receiver's view of the webhook request is documented there).

Example::

    NEWSWATCH_WEBHOOK_SECRET=... newswatch run --feeds feeds.txt --db news.duckdb \\
        --alert-webhook https://example.org/hook
    newswatch alerts --db news.duckdb --since 24h
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

import apache_beam as beam

from newswatch.records import EnrichedArticle
from newswatch.sinks.alert_channels import (
    CHANNEL_TYPES,
    Channel,
    DeliveryOutcome,
    append_jsonl,
    console_line,
    display_channel,
    send_alert,
    sign,
    slack_message,
)
from newswatch.sinks.alert_outbox import deliver_pending, enqueue_alerts, list_alerts, next_delay, reset_failed
from newswatch.sinks.alert_rules import (
    SECRET_ENV,
    AlertRule,
    AlertSettings,
    alert_id_for,
    alert_settings,
    build_payload,
    canonical_json,
    match_rule,
    parse_channel,
    parse_rule,
)
from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore

# The names of the split-out modules stay importable from here, where
# pipelines, the CLI and tests have always found them.
__all__ = [
    "CHANNEL_TYPES",
    "SECRET_ENV",
    "AlertRule",
    "AlertSettings",
    "Channel",
    "DeliverDueAlerts",
    "DeliveryOutcome",
    "RaiseAlerts",
    "add_alert_flags",
    "alert_id_for",
    "alert_settings",
    "append_jsonl",
    "build_payload",
    "canonical_json",
    "cmd_alerts",
    "console_line",
    "deliver_pending",
    "display_channel",
    "enqueue_alerts",
    "list_alerts",
    "match_rule",
    "next_delay",
    "parse_channel",
    "parse_rule",
    "parse_since",
    "register_alerts_command",
    "reset_failed",
    "send_alert",
    "sign",
    "slack_message",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- Beam


class _EnqueueFn(beam.DoFn):
    """Writes outbox rows for one new article; yields the new alert ids."""

    def __init__(self, db_path: str, settings: AlertSettings):
        self._db_path = db_path
        self._settings = settings

    def setup(self):
        self._store = DuckDBStore(self._db_path)

    def process(self, enriched: EnrichedArticle):
        ids = enqueue_alerts(self._store, enriched, self._settings)
        beam.metrics.Metrics.counter("alerts", "enqueued").inc(len(ids))
        yield from ids


class _DeliverFn(beam.DoFn):
    """Passes alert ids through; after a bundle that had any, delivers what is due."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 0.0, passthrough: bool = True):
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s
        self._passthrough = passthrough

    def setup(self):
        self._client = self._settings.client()
        self._last = float("-inf")

    def start_bundle(self):
        self._seen = False

    def process(self, element):
        self._seen = True
        if self._passthrough:
            yield element

    def finish_bundle(self):
        if not self._seen or time.monotonic() - self._last < self._every_s:
            return
        self._last = time.monotonic()
        try:
            stats = deliver_pending(self._db_path, self._settings, client=self._client)
        except DatabaseLocked as exc:
            # The rows stay pending in the outbox: the next pass delivers them.
            beam.metrics.Metrics.counter("alerts", "delivery_deferred").inc()
            log.warning("alert delivery deferred: %s", exc)
            return
        for key in ("delivered", "failed", "disabled"):
            beam.metrics.Metrics.counter("alerts", key).inc(stats[key])

    def teardown(self):
        self._client.close()


class RaiseAlerts(beam.PTransform):
    """EnrichedArticle (newly stored) -> alert ids enqueued in the outbox, then delivered when due."""

    def __init__(self, db_path: str, settings: AlertSettings):
        super().__init__()
        self._db_path = db_path
        self._settings = settings

    def expand(self, new_articles):
        return (
            new_articles
            | "Enqueue" >> beam.ParDo(_EnqueueFn(self._db_path, self._settings)).with_output_types(str)
            | "Deliver" >> beam.ParDo(_DeliverFn(self._db_path, self._settings)).with_output_types(str)
        )


class DeliverDueAlerts(beam.PTransform):
    """Any PCollection (e.g. a stream job's ticks) -> retries of due alerts at most every `every_s`; no output."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 5.0):
        super().__init__()
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s

    def expand(self, ticks):
        return ticks | "DeliverDue" >> beam.ParDo(
            _DeliverFn(self._db_path, self._settings, self._every_s, passthrough=False)
        ).with_output_types(str)


# ---------------------------------------------------------------- CLI


def add_alert_flags(parser: argparse.ArgumentParser) -> None:
    """Add the alert channel flags of `run` and `stream`."""
    group = parser.add_argument_group("alerts (channels added to every alert rule)")
    group.add_argument("--alert-webhook", action="append", default=[], metavar="URL",
                       help="POST each alert as JSON to URL (repeatable); signed when "
                       f"{SECRET_ENV} is set")
    group.add_argument("--alert-slack", action="append", default=[], metavar="URL",
                       help="post each alert to a Slack-compatible incoming webhook (repeatable)")
    group.add_argument("--alert-file", metavar="PATH", help="append each alert as one JSON line to PATH")
    group.add_argument("--alert-console", action="store_true", help="print one line per alert")


def parse_since(value: str, now: Optional[datetime] = None) -> datetime:
    """An ISO time, or an age like ``24h``, ``30m``, ``7d``, as an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return now - timedelta(seconds=float(match.group(1)) * unit)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since must be an ISO time or an age like 24h, 7d: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def cmd_alerts(args, beam_args: Sequence[str]) -> int:
    """`newswatch alerts [list|retry]`."""
    from newswatch.cli import format_rows
    from newswatch.config import load_config
    from newswatch.transforms.fetch import HttpSettings

    if beam_args:
        print(f"newswatch alerts: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    if not os.path.exists(args.db):
        print(f"newswatch alerts: no database at {args.db}", file=sys.stderr)
        return 2
    try:
        if args.action == "list":
            since = parse_since(args.since) if args.since else None
            columns, rows = list_alerts(args.db, since)
            if rows or args.format == "table":
                print(format_rows(columns or ["alert_id"], rows, args.format))
            return 0
        cfg = load_config(args.config)
        settings = alert_settings(cfg, None, HttpSettings.from_config(cfg, args.allow_host))
        from newswatch.sinks.publish import Publisher, resolve_store

        store = resolve_store(args.db)  # the job's private store takes writes; --db holds views
        count = reset_failed(store, settings, args.include_disabled)
        stats = deliver_pending(store, settings, wait=True)
        Publisher(args.db).try_publish()
    except (ValueError, DatabaseLocked) as exc:
        print(f"newswatch alerts: {exc}", file=sys.stderr)
        return 2
    print(f"retried {count} alerts: {stats['delivered']} delivered, {stats['failed']} failed, "
          f"{stats['disabled']} disabled, {stats['pending']} still pending")
    return 0 if stats["failed"] == 0 and stats["pending"] == 0 else 1


def register_alerts_command(subparsers) -> None:
    """Add `newswatch alerts` (list) and `newswatch alerts retry` to the CLI."""
    parser = subparsers.add_parser(
        "alerts",
        help="list alerts and their delivery state; `alerts retry` re-sends failed ones",
        description="List the alert outbox (one row per alert and channel) with delivery status, attempts "
        "and last error; `retry` makes failed alerts pending again and delivers them (waiting up to the "
        f"drain time). Webhook signatures use {SECRET_ENV} from the environment.",
        epilog="example:\n  newswatch alerts --db news.duckdb --since 24h\n"
        "  newswatch alerts retry --db news.duckdb --allow-host 127.0.0.1:9000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("list", "retry"), default="list",
                        help="list (default) or retry")
    parser.add_argument("--db", required=True, metavar="PATH", help="newswatch DuckDB file")
    parser.add_argument("--since", metavar="ISO|24h", help="list: only alerts raised since then")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table", help="list: output format")
    parser.add_argument("--config", metavar="TOML", help="retry: settings file (horizon, backoff, timeouts)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST:PORT",
                        help="retry: allow this exact private/loopback webhook host:port (repeatable)")
    parser.add_argument("--include-disabled", action="store_true",
                        help="retry: also re-enable endpoints disabled by 410 Gone and resend their alerts")
    parser.set_defaults(func=cmd_alerts)
