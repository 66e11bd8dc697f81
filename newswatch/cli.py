"""The `newswatch` command line.

App flags are parsed here; every flag this parser does not know is handed to
Beam's PipelineOptions untouched (``--runner``, ``--direct_num_workers``,
``--flink_master``, ...).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from newswatch import __version__
from newswatch.pipelines.worker import LOG_FORMAT
from newswatch.tables import format_rows

# Beam logs this at import on every machine without the GCP extras; it says
# nothing about newswatch. Installed before anything imports Beam.
logging.getLogger().addFilter(lambda record: not str(record.msg).startswith("apitools not found"))

EPILOG_RUN = """example:
  newswatch run --feeds feeds.txt --db news.duckdb
  newswatch run --feeds https://example.org/rss.xml --db news.duckdb --runner=DirectRunner --direct_num_workers=2
"""
EPILOG_QUERY = """example:
  newswatch query --db news.duckdb "SELECT url, defectors FROM article_labels WHERE defection_report"
"""


def _add_ingest_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", nargs="+", required=True, metavar="FEEDS",
                        help="feed URLs, or files: plain text (one URL per line, # comments) or OPML")
    parser.add_argument("--db", metavar="PATH",
                        help="the analyst DuckDB file (views; created if missing). The job writes its own "
                        "store in PATH.job/ and publishes to PATH")
    parser.add_argument("--publish-interval", type=float, default=5.0, metavar="SECONDS",
                        help="how often new rows are published to the --db file (default 5)")
    parser.add_argument("--sink", default="duckdb", metavar="SINK",
                        help="'duckdb' (default, the --db file) or 'parquet:DIR' for cluster runners "
                        "(DIR may be any Beam filesystem path, e.g. gs://bucket/news)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST:PORT",
                        help="allow this exact private/loopback host:port (repeatable); all others are refused")
    parser.add_argument("--config", metavar="TOML", help="settings file overlaying the shipped defaults")
    parser.add_argument("--host-delay", type=float, metavar="SECONDS",
                        help="minimum gap between requests to one host (default from config: 1.0)")
    parser.add_argument("--host-concurrency", type=int, metavar="N",
                        help="simultaneous requests per host (default from config: 2)")


def _settings(args, **overrides):
    from newswatch.config import load_config
    from newswatch.pipelines.graph import GraphSettings
    from newswatch.http.settings import HttpSettings

    politeness = {}
    if args.host_delay is not None:
        politeness["host_delay_s"] = args.host_delay
    if args.host_concurrency is not None:
        politeness["host_concurrency"] = args.host_concurrency
    from newswatch.alerts.rules import alert_settings

    cfg = load_config(args.config, politeness=politeness, **overrides)
    parquet = args.sink.startswith("parquet:")
    if parquet:
        target = args.sink.split(":", 1)[1]
    else:
        from newswatch.sinks.publish import resolve_store

        target = resolve_store(args.db)
    http = HttpSettings.from_config(cfg, args.allow_host)
    return GraphSettings(
        db_path=target, config=cfg, http=http, parquet=parquet, alerts=alert_settings(cfg, args, http)
    )


def _sink_error(args) -> str | None:
    if args.sink.startswith("parquet:"):
        return None if args.sink.split(":", 1)[1] else "--sink parquet:DIR needs a directory"
    if args.sink != "duckdb":
        return f"unknown --sink {args.sink!r} (use 'duckdb' or 'parquet:DIR')"
    return None if args.db else "--db PATH is required (or --sink parquet:DIR)"


class _UsageError(Exception):
    """A problem with the command line or the config: exit 2."""


def _prepare(args, command: str, beam_args: Sequence[str] = (), **overrides):
    """Feed URLs and graph settings for `run`/`stream`; raises _UsageError."""
    from newswatch.pipelines.batch import pipeline_options
    from newswatch.pipelines.graph import on_direct_runner
    from newswatch.transforms.feeds import read_feed_list

    try:
        feeds = read_feed_list(args.feeds)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    if not feeds:
        raise _UsageError("no feed URLs given")
    problem = _sink_error(args)
    if problem:
        raise _UsageError(problem)
    if command == "stream" and args.sink != "duckdb" and on_direct_runner(pipeline_options(beam_args)):
        raise _UsageError("the DirectRunner cannot stream into Parquet (its windows close only when the source "
                          "ends): use --db PATH, or a cluster runner such as --runner=FlinkRunner")
    from newswatch.sinks.duckdb import DatabaseLocked

    try:
        return feeds, _settings(args, **overrides)
    except (ValueError, OSError, DatabaseLocked) as exc:  # a bad config file or alert rule, an older file in use
        raise _UsageError(str(exc)) from None


def cmd_run(args, beam_args: Sequence[str]) -> int:
    from newswatch.pipelines.batch import run_batch

    try:
        feeds, settings = _prepare(args, "run")
    except _UsageError as exc:
        print(f"newswatch run: {exc}", file=sys.stderr)
        return 2
    try:
        publisher = _publisher(args, settings.store())
        try:
            summary = run_batch(feeds, settings, beam_args)
        finally:
            if publisher is not None:
                publisher.stop()
    except Exception as exc:  # a full disk, a failed pipeline
        return _fail("run", exc, args.verbose)
    readable = _feeds_read(settings, summary["started_at"])
    print(_run_summary(summary, readable))
    return 0 if readable else 1


def cmd_stream(args, beam_args: Sequence[str]) -> int:
    from newswatch.pipelines.stream import run_stream

    try:
        overrides = {"stream": {"poll_interval_s": args.poll_interval}} if args.poll_interval else {}
        feeds, settings = _prepare(args, "stream", beam_args, **overrides)
    except _UsageError as exc:
        print(f"newswatch stream: {exc}", file=sys.stderr)
        return 2
    if args.report:
        from newswatch.report import parse_since, start_periodic_report

        try:
            every = parse_since(args.report_every)
        except ValueError as exc:
            print(f"newswatch stream: {str(exc).replace('--since', '--report-every')}", file=sys.stderr)
            return 2
        start_periodic_report(args.report, every.total_seconds() if every else 600.0, settings.store())
    publisher = None
    try:
        publisher = _publisher(args, settings.store())
        # run_stream leaves with os._exit: it calls on_exit itself for the last publication.
        return run_stream(feeds, settings, beam_args, on_exit=publisher.stop if publisher else None)
    except Exception as exc:
        return _fail("stream", exc, args.verbose)
    finally:
        if publisher is not None:
            publisher.stop()


def _publisher(args, store):
    """Start publishing the job's store to the analyst file `--db` (now, then periodically).

    None for a store that the runner's workers write (Parquet): analysts read its files.
    """
    if not store.written_in_process:
        return None
    from newswatch.sinks.publish import Publisher

    return Publisher(args.db, interval_s=args.publish_interval).start()


def _fail(command: str, exc: Exception, verbose: bool) -> int:
    """Report a failed run in one readable line (the traceback only with -v)."""
    if verbose:
        import traceback

        traceback.print_exception(exc)
    text = str(exc).strip() or type(exc).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    # Beam wraps a worker's error in its own context; the last line names it.
    message = lines[-1] if len(lines) > 1 and not text.startswith("DuckDB file") else text
    print(f"newswatch {command}: failed: {message[:1500]}", file=sys.stderr)
    return 1


def _feeds_read(settings, since) -> int:
    with settings.store().session() as s:
        return s.feeds_read_since(since)


def _run_summary(run: dict, readable: int) -> str:
    new = (run["articles_after"] or 0) - (run["articles_before"] or 0)
    return (
        f"run {run['run_id']} {run['status']}: {readable}/{run['feeds']} feeds read, "
        f"{new} new articles ({run['articles_after']} stored), "
        f"{run['mentions_after']} mentions stored, {run['errors_seen']} item errors this run"
    )


def cmd_query(args, beam_args: Sequence[str]) -> int:
    from newswatch.sinks.duckdb import DatabaseLocked
    from newswatch.sinks.open_store import open_store

    if beam_args:
        print(f"newswatch query: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    if bool(args.db) == bool(args.parquet):
        print("newswatch query: give exactly one of --db PATH or --parquet DIR", file=sys.stderr)
        return 2
    if args.db and not Path(args.db).exists():
        print(f"newswatch query: no database at {args.db}", file=sys.stderr)
        return 2
    try:
        columns, rows = open_store(args.db, args.parquet, args.wait).query(args.sql)
    except DatabaseLocked as exc:
        print(f"newswatch query: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # a user's SQL error is reported, not a traceback
        print(f"newswatch query: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if columns:
        print(format_rows(columns, rows, args.format))
    return 0


def cmd_publish(args, beam_args: Sequence[str]) -> int:
    from newswatch.sinks.duckdb import DatabaseLocked
    from newswatch.sinks.publish import Publisher, publish_parquet_dataset, store_path

    if beam_args:
        print(f"newswatch publish: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    try:
        if args.parquet:
            publish_parquet_dataset(args.parquet, args.db)
            print(f"{args.db}: views over {args.parquet}. New files show up in open sessions; "
                  "a table that had no files yet needs this command again")
            return 0
        if not Path(store_path(args.db)).exists() and not Path(args.db).exists():
            print(f"newswatch publish: no database at {args.db}", file=sys.stderr)
            return 2
        stats = Publisher(args.db, lock_timeout_s=args.wait).publish_once()
    except DatabaseLocked as exc:
        print(f"newswatch publish: {exc}", file=sys.stderr)
        return 3
    print(f"published {args.db} in {stats.seconds:.2f} s: new rows {stats.rows}, snapshots rewritten {stats.snapshots}")
    return 0


def cmd_demo(args, beam_args: Sequence[str]) -> int:
    from newswatch.demo.run import run_demo

    return run_demo(args.db, beam_args)


def cmd_eval(args, beam_args: Sequence[str]) -> int:
    from newswatch.evaluate import evaluate_db, format_table, format_verbose

    result = evaluate_db(args.db, args.gold, args.incidents)
    print(format_table(result))
    if args.verbose:
        print()
        print(format_verbose(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    headline = {k: result[k] for k in ("coverage", "labels", "numbers", "sets", "country", "published", "incidents")
                if k in result}
    print(json.dumps(headline, default=str))
    return 0


def cmd_status(args, beam_args: Sequence[str]) -> int:
    from newswatch.status import render_status

    print(render_status(args.db))
    return 0


def cmd_feeds_resume(args, beam_args: Sequence[str]) -> int:
    from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore

    if beam_args:
        print(f"newswatch feeds resume: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    if bool(args.urls) == args.all:
        print("newswatch feeds resume: give feed URLs or --all", file=sys.stderr)
        return 2
    from newswatch.sinks.publish import Publisher, resolve_store

    if not Path(args.db).exists():
        print(f"newswatch feeds resume: no database at {args.db}", file=sys.stderr)
        return 2
    try:
        # Writes go to the job's private store; the analyst file shows them after the next publication.
        done = DuckDBStore(resolve_store(args.db)).resume_feeds(None if args.all else args.urls)
        Publisher(args.db).try_publish()
    except DatabaseLocked as exc:
        print(f"newswatch feeds resume: {exc}", file=sys.stderr)
        return 3
    for url, reason in done:
        print(f"resumed {url} (was: {reason})")
    missed = sorted(set(args.urls) - {url for url, _ in done})
    for url in missed:
        print(f"not suspended (or unknown): {url}", file=sys.stderr)
    if not done:
        print("no feed resumed", file=sys.stderr)
        return 1
    print("a running `newswatch stream` polls them within stream.resume_check_s (60 s); a new one at once")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from newswatch.cli_alerts import add_alert_flags, register_alerts_command

    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Monitor news feeds for defection and conscription reports (Apache Beam + DuckDB).",
    )
    parser.add_argument("--version", action="version", version=f"newswatch {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one batch pass: feeds -> articles -> DuckDB",
                         description="Poll the feeds once, fetch and extract new articles, store them in DuckDB. "
                         "Unknown flags go to Beam (e.g. --runner, --direct_num_workers).",
                         epilog=EPILOG_RUN, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_ingest_flags(run)
    add_alert_flags(run)
    run.set_defaults(func=cmd_run)

    stream = sub.add_parser("stream", help="long-lived job: poll feeds continuously into DuckDB",
                            description="Poll each feed on its own schedule (conditional requests, backoff, "
                            "suspension), store new articles within seconds, keep the file open to readers. "
                            "SIGINT/SIGTERM drain and exit 0. Unknown flags go to Beam.",
                            epilog="example:\n  newswatch stream --feeds feeds.txt --db news.duckdb --poll-interval 60",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_ingest_flags(stream)
    add_alert_flags(stream)
    stream.add_argument("--poll-interval", type=float, metavar="SECONDS",
                        help="how often each healthy feed is polled (default from config: 60)")
    stream.add_argument("--report", metavar="HTML",
                        help="keep this analyst page (newswatch report) current while the job runs")
    stream.add_argument("--report-every", default="10m", metavar="AGE",
                        help="how often --report is rewritten, e.g. 10m or 90s (default 10m)")
    stream.set_defaults(func=cmd_stream)

    query = sub.add_parser("query", help="run SQL on a newswatch DuckDB file, read-only",
                           description="Open the analyst file read-only and print the result. It holds views "
                           "over what the job publishes, so it is never locked by a running job.",
                           epilog=EPILOG_QUERY, formatter_class=argparse.RawDescriptionHelpFormatter)
    query.add_argument("--db", metavar="PATH", help="a newswatch DuckDB file")
    query.add_argument("--parquet", metavar="DIR", help="a Parquet sink directory (same tables and views)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                       help="how long to retry while a writer holds the file (default 10)")
    query.add_argument("sql", metavar="SQL")
    query.set_defaults(func=cmd_query)

    publish = sub.add_parser(
        "publish", help="bring the analyst file up to date now (a running job does this every few seconds)",
        description="Export what the job's private store (PATH.job/) committed since the last publication "
        "to the analyst file PATH. A running job publishes by itself; use this after a job was killed, or "
        "with --parquet to give a cluster run's Parquet dataset one file of views to open.",
        epilog="example:\n  newswatch publish --db news.duckdb\n"
        "  newswatch publish --db news.duckdb --parquet /data/news-parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    publish.add_argument("--db", required=True, metavar="PATH", help="the analyst DuckDB file")
    publish.add_argument("--parquet", metavar="DIR", help="a --sink parquet:DIR dataset to write views over")
    publish.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                         help="how long to retry while another process holds the private store (default 10)")
    publish.set_defaults(func=cmd_publish)

    demo = sub.add_parser("demo", help="serve the bundled demo corpus on loopback and ingest it",
                          description="Start a loopback server with the bundled demo feeds, run the batch "
                          "pipeline into a DuckDB file and print a summary and an example query.",
                          epilog="example:\n  newswatch demo --db newswatch-demo.duckdb",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--db", default="newswatch-demo.duckdb", metavar="PATH")
    demo.set_defaults(func=cmd_demo)

    ev = sub.add_parser("eval", help="score stored article labels against a gold file",
                        description="Precision/recall/F1 per label, count accuracy, org/location recall.",
                        epilog="example:\n  newswatch eval --db news.duckdb --gold ../shared/corpus/gold.jsonl --verbose",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ev.add_argument("--db", required=True, metavar="PATH")
    ev.add_argument("--gold", required=True, metavar="JSONL")
    ev.add_argument("--verbose", action="store_true", help="list false positives/negatives by article id")
    ev.add_argument("--json", metavar="PATH", help="also write the full result as JSON")
    ev.add_argument("--incidents", metavar="JSONL",
                    help="gold incident groups ({\"id\" or \"url\", \"incident\"} per line) to score incident_id")
    ev.set_defaults(func=cmd_eval)

    status = sub.add_parser("status", help="per-feed health for operators",
                            description="Last poll, status, errors, articles in the last 24 h, per feed.",
                            epilog="example:\n  newswatch status --db news.duckdb",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    status.add_argument("--db", required=True, metavar="PATH")
    status.set_defaults(func=cmd_status)

    feeds = sub.add_parser("feeds", help="manage feeds: resume suspended ones",
                           description="Feed management for operators.")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    resume = feeds_sub.add_parser(
        "resume", help="poll suspended feeds again",
        description="Lift the suspension of feeds (after 410 Gone or too many failures in a row) and reset "
        "their error count. A running stream job notices within stream.resume_check_s.",
        epilog="example:\n  newswatch feeds resume --db news.duckdb https://example.org/rss.xml\n"
        "  newswatch feeds resume --db news.duckdb --all",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    resume.add_argument("--db", required=True, metavar="PATH")
    resume.add_argument("--all", action="store_true", help="every suspended feed")
    resume.add_argument("urls", nargs="*", metavar="URL", help="feed URLs as `newswatch status` shows them")
    resume.set_defaults(func=cmd_feeds_resume)

    register_alerts_command(sub)
    from newswatch.report import add_report_command

    add_report_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:
        # The analyst page needs neither Beam nor the alert plumbing that
        # build_parser() imports: seconds saved on a busy machine.
        from newswatch.report import main as report_main

        return report_main(argv[1:])
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=LOG_FORMAT,
        force=True,
    )
    # newswatch's own lines (one per failed item, progress) are always shown.
    logging.getLogger("newswatch").setLevel(logging.INFO)
    if not args.verbose:
        # Beam logs every worker failure with its traceback; newswatch reports
        # failures itself in one line (use -v to see Beam's own logs).
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
        logging.getLogger("trafilatura").setLevel(logging.ERROR)
        logging.getLogger("htmldate").setLevel(logging.ERROR)
    return args.func(args, rest)


if __name__ == "__main__":
    sys.exit(main())
