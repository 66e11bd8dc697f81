"""The `newswatch alerts` command and the alert flags of `run` and `stream`.

Part of the CLI layer: it parses arguments and prints; the outbox, the rules
and the channels it drives live in the ``alerts/`` package (``newswatch.alerts``).

    newswatch alerts --db news.duckdb --since 24h
    newswatch alerts retry --db news.duckdb --allow-host 127.0.0.1:9000
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

from newswatch.alerts.rules import SECRET_ENV


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
    from newswatch.alerts.outbox import deliver_pending, list_alerts, reset_failed
    from newswatch.alerts.rules import alert_settings
    from newswatch.config import load_config
    from newswatch.sinks.duckdb import DatabaseLocked
    from newswatch.tables import format_rows
    from newswatch.http.settings import HttpSettings

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
