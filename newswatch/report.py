"""`newswatch report`: one self-contained HTML page for analysts, from the analyst database.

Reads the DuckDB file read-only (or a Parquet sink directory) and writes one
HTML file with no external resource: a weekly timeline of defection and
conscription reports, a by-state/region view, the newest reports with their
evidence, feed health and the run's provenance. Every section is fed by one
SQL query, printed in the page, that a reader can run with `newswatch query`.

    newswatch report --db news.duckdb --out report.html --since 90d --topic all

Defection people are counted once per incident when the database has the
`incidents` table, else once per original article (duplicate_of_url IS NULL),
with the range over the original and its copies where their counts differ.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Optional

from newswatch.report_model import NEWEST_LIMIT, ReportData, Section

log = logging.getLogger("newswatch.report")

TOPICS = ("all", "defection", "conscription")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}




def parse_since(text: Optional[str]) -> Optional[timedelta]:
    """'90d', '12w', '36h', '30m', '45s' or 'all'/None (no limit) -> timedelta."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text.lower())
    if not match:
        raise ValueError(f"--since {text!r}: use a number and s/m/h/d/w (e.g. 90d), or 'all'")
    value, unit = int(match.group(1)), match.group(2)
    return timedelta(**{_UNITS[unit]: value})


# ---------------------------------------------------------------- queries
#
# `{since}` becomes a TIMESTAMPTZ literal (or a date far in the past), so the
# SQL printed in the page runs unchanged in `newswatch query`. An undated
# article counts at the time it was first seen in its feed.

DATED = "coalesce(l.published_at, a.seen_at, a.stored_at)"

# Per original article; the range covers the original and its stored copies.
TIMELINE_ARTICLES_SQL = f"""
WITH copies AS (
    SELECT duplicate_of AS article_id, min(defectors) AS lo, max(defectors) AS hi
    FROM articles WHERE duplicate_of IS NOT NULL AND defection_report GROUP BY 1
), originals AS (
    SELECT {DATED} AS dated, l.defection_report, l.conscription,
           least(l.defectors, c.lo) AS people_low, greatest(l.defectors, c.hi) AS people_high
    FROM article_labels l JOIN articles a USING (article_id) LEFT JOIN copies c USING (article_id)
    WHERE l.duplicate_of_url IS NULL AND (l.defection_report OR l.conscription)
      AND {DATED} >= {{since}}
)
SELECT CAST(date_trunc('week', dated) AS DATE) AS week,
       count(*) FILTER (WHERE defection_report) AS defection_reports,
       sum(people_low) FILTER (WHERE defection_report) AS people_low,
       sum(people_high) FILTER (WHERE defection_report) AS people_high,
       count(*) FILTER (WHERE conscription) AS conscription_reports
FROM originals GROUP BY 1 ORDER BY 1
"""

# Per incident: events only (a claimant's running total is never summed with events).
TIMELINE_INCIDENTS_SQL = """
WITH events AS (
    SELECT CAST(date_trunc('week', {date}) AS DATE) AS week, count(*) AS incidents,
           sum({low}) AS people_low, sum({high}) AS people_high
    FROM incidents WHERE kind = 'defection' {event_filter} AND {date} >= {since}
    GROUP BY 1
), articles_per_week AS (
    SELECT CAST(date_trunc('week', coalesce(l.published_at, a.seen_at, a.stored_at)) AS DATE) AS week,
           count(*) FILTER (WHERE l.defection_report) AS defection_reports,
           count(*) FILTER (WHERE l.conscription) AS conscription_reports
    FROM article_labels l JOIN articles a USING (article_id)
    WHERE l.duplicate_of_url IS NULL AND coalesce(l.published_at, a.seen_at, a.stored_at) >= {since}
    GROUP BY 1
)
SELECT week, coalesce(w.defection_reports, 0) AS defection_reports, coalesce(e.incidents, 0) AS incidents,
       e.people_low, e.people_high, coalesce(w.conscription_reports, 0) AS conscription_reports
FROM articles_per_week w FULL JOIN events e USING (week)
WHERE coalesce(w.defection_reports, 0) + coalesce(w.conscription_reports, 0) + coalesce(e.incidents, 0) > 0
ORDER BY week
"""

# Places of original reports, per article; the page maps them to states/regions.
PLACES_SQL = f"""
SELECT l.article_id, l.defection_report, l.conscription AND l.country = 'Myanmar' AS conscription,
       l.locations
FROM article_labels l JOIN articles a USING (article_id)
WHERE l.duplicate_of_url IS NULL AND (l.defection_report OR (l.conscription AND l.country = 'Myanmar'))
  AND {DATED} >= {{since}}
"""

NEWEST_SQL = f"""
SELECT {DATED} AS dated, l.title, l.url,
       -- a page without a site name has its host as source: the feed's title reads better
       CASE WHEN l.source LIKE '% %' THEN l.source ELSE coalesce(f.title, l.source) END AS outlet,
       CASE WHEN l.defection_report THEN 'defection' ELSE 'conscription' END AS topic,
       l.defectors, l.weapons, l.locations, l.country,
       m.modality, m.sentence AS evidence, l.duplicate_of_url
FROM article_labels l JOIN articles a USING (article_id)
LEFT JOIN feeds f ON f.feed_url = l.feed_url
LEFT JOIN LATERAL (
    SELECT modality, sentence FROM mentions m
    WHERE m.article_id = l.article_id
      AND m.kind = CASE WHEN l.defection_report THEN 'defection' ELSE 'conscription' END
    ORDER BY (m.modality = 'report') DESC, m.people_count IS NULL, m.people_count DESC, m.start_char
    LIMIT 1
) m ON true
WHERE {{topic_filter}} AND {DATED} >= {{since}}
ORDER BY dated DESC, l.url
LIMIT {NEWEST_LIMIT}
"""

FEEDS_SQL = """
SELECT f.feed_url, f.title, f.last_status, f.last_http_status, f.consecutive_errors, f.last_error_code,
       f.suspended, f.suspended_reason, f.bozo, f.last_polled_at, f.last_ok_at,
       (SELECT string_agg(e.code || ' × ' || e.count, ', ' ORDER BY e.count DESC, e.code)
        FROM errors e WHERE e.feed_url = f.feed_url) AS item_errors
FROM feeds f
WHERE f.suspended OR f.last_status = 'error' OR f.consecutive_errors > 0
   OR f.bozo OR EXISTS (SELECT 1 FROM errors e WHERE e.feed_url = f.feed_url)
ORDER BY f.suspended DESC, f.consecutive_errors DESC, f.feed_url
"""

FRESHNESS_SQL = """
SELECT count(*) AS polls, count(DISTINCT feed_url) AS feeds, sum(new_articles) AS new_articles,
       median(median_seen_to_stored_s) AS median_seen_to_stored_s,
       max(max_seen_to_stored_s) AS worst_seen_to_stored_s,
       (SELECT count(*) FROM feeds) AS feeds_known,
       (SELECT count(*) FROM feeds WHERE suspended) AS feeds_suspended,
       (SELECT count(*) FROM feeds WHERE last_status = 'error') AS feeds_failing
FROM poll_freshness WHERE new_articles > 0
"""

PROVENANCE_SQL = f"""
SELECT (SELECT count(*) FROM articles) AS articles,
       (SELECT count(*) FROM articles WHERE duplicate_of IS NULL) AS originals,
       (SELECT count(*) FROM mentions) AS mentions,
       (SELECT min(published_at) FROM articles) AS first_published,
       (SELECT max(published_at) FROM articles) AS last_published,
       (SELECT max(stored_at) FROM articles) AS last_stored,
       (SELECT string_agg(DISTINCT extractor_version, ', ') FROM mentions) AS extractor_versions,
       (SELECT max(finished_at) FROM runs) AS last_run_finished
"""


def _has_incidents(session) -> Optional[dict]:
    """Column names of a usable, non-empty `incidents` table (issue 15), or None to count per article."""
    try:
        cols = session.columns_of("incidents")
    except Exception:  # noqa: BLE001 - an engine without information_schema: per article
        return None
    date = next((c for c in ("first_published", "first_seen") if c in cols), None)
    if not {"kind", "count_min", "count_max"} <= cols or date is None:
        return None
    # A file migrated from before issue 15 has the table but no incident for its older reports.
    if not session.count("incidents"):
        return None
    return {"date": date, "low": "count_min", "high": "count_max",
            "event_filter": "AND sort = 'event'" if "sort" in cols else ""}


def _literal(moment: Optional[datetime]) -> str:
    if moment is None:
        return "TIMESTAMPTZ '1900-01-01 00:00:00+00'"
    return f"TIMESTAMPTZ '{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}+00'"


def _run(session, sql: str) -> Section:
    return Section(sql.strip(), *session.query(sql))


def load_regions() -> tuple[dict[str, str], list[str]]:
    """(place pattern or id, lower-case -> state/region, the regions in display order)."""
    data = json.loads(resources.files("newswatch").joinpath("report_data/regions.json").read_text())
    data.pop("_comment", None)
    by_id = {pid: region for region, ids in data.items() for pid in ids}
    lookup = dict(by_id)
    patterns = resources.files("newswatch.transforms.mentions").joinpath("patterns/places.jsonl").read_text()
    for line in patterns.splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("id") in by_id:
            lookup.setdefault(row["pattern"].lower(), by_id[row["id"]])
    return lookup, list(data)


_QUALIFIERS = re.compile(r"\s+(township|town|city|district|region|division|state|village)$")


def region_of(place: str, lookup: dict[str, str]) -> Optional[str]:
    """The state/region a place name (as written in an article) lies in, or None."""
    name = " ".join(place.lower().split())
    for candidate in (name, _QUALIFIERS.sub("", name)):
        if candidate in lookup:
            return lookup[candidate]
    return None


def _by_region(rows: list[tuple]) -> tuple[list[tuple[str, int, int]], tuple[int, int]]:
    lookup, order = load_regions()
    counts = {region: [0, 0] for region in order}
    unplaced = [0, 0]
    for _id, defection, conscription, places in rows:
        regions = {r for r in (region_of(p, lookup) for p in places or []) if r}
        for i, flag in enumerate((defection, conscription)):
            if not flag:
                continue
            if not regions:
                unplaced[i] += 1
            for region in regions:
                counts[region][i] += 1
    return [(r, d, c) for r, (d, c) in counts.items()], (unplaced[0], unplaced[1])


def collect(session, source: str, since: Optional[timedelta] = None, topic: str = "all",
            now: Optional[datetime] = None) -> ReportData:
    """Run every query of the page in an open read-only store session (`sinks/store.Session`) set to UTC."""
    if topic not in TOPICS:
        raise ValueError(f"--topic must be one of {', '.join(TOPICS)}")
    now = now or datetime.now(timezone.utc)
    start = now - since if since else None
    lit = _literal(start)
    incidents = _has_incidents(session)
    timeline = (TIMELINE_INCIDENTS_SQL.format(since=lit, **incidents) if incidents
                else TIMELINE_ARTICLES_SQL.format(since=lit))
    topic_filter = {"all": "(l.defection_report OR l.conscription)", "defection": "l.defection_report",
                    "conscription": "l.conscription"}[topic] + " AND l.duplicate_of_url IS NULL"
    sections = {
        "timeline": _run(session, timeline),
        "places": _run(session, PLACES_SQL.format(since=lit)),
        "newest": _run(session, NEWEST_SQL.format(since=lit, topic_filter=topic_filter)),
        "feeds": _run(session, FEEDS_SQL),
        "freshness": _run(session, FRESHNESS_SQL),
        "provenance": _run(session, PROVENANCE_SQL),
    }
    regions, unplaced = _by_region(sections["places"].rows)
    return ReportData(source, start, topic, now, incidents is not None, sections, regions, unplaced)


class DatabaseBusy(RuntimeError):
    """The file stayed locked by a writer for the whole --wait."""


@contextlib.contextmanager
def _open(store):
    """A read-only session of the store, in UTC."""
    from newswatch.sinks.duckdb import DatabaseLocked

    try:
        with store.session(time_zone="UTC") as session:  # weeks and dates in UTC, whatever the machine's zone
            yield session
    except DatabaseLocked as exc:  # only a DuckDB file is locked
        raise DatabaseBusy(f"{store.path} stayed locked for {store.lock_timeout_s:g} s ({exc.error}); "
                           "retry, or raise --wait") from None


def build_report(out: str, db: Optional[str] = None, parquet: Optional[str] = None,
                 since: Optional[timedelta] = None, topic: str = "all", wait_s: float = 10.0) -> ReportData:
    """Query the database (or the Parquet sink) and write the page to `out` atomically (temp file + rename)."""
    from newswatch.sinks.open_store import open_store  # a Parquet store's module imports Beam, a DuckDB file's not

    return _write_report(out, open_store(db, parquet, wait_s), since, topic)


def _write_report(out: str, store, since: Optional[timedelta] = None, topic: str = "all",
                  lock=contextlib.nullcontext()) -> ReportData:
    """The page of `store`, written to `out`; `lock` is held while the connection is open."""
    from newswatch.report_html import render_page

    with lock, _open(store) as session:
        data = collect(session, store.source(), since, topic)
    write_atomic(out, render_page(data))  # rendered with no connection held
    return data


def start_periodic_report(out: str, every_s: float, store, stop: Optional[threading.Event] = None,
                          first_after_s: float = 15.0) -> threading.Thread:
    """Rewrite the page of `store` soon after the start, then every `every_s` seconds, in a daemon thread.

    This is `newswatch stream --report`. The queries run under the process's
    write lock, because DuckDB refuses a read-only connection while the same
    process holds a read-write one (and the other way round).
    """
    from newswatch.sinks.duckdb import write_lock

    stop = stop or threading.Event()

    def loop() -> None:
        # The first page waits until the job has created the file and its run row
        # (those two writes do not take the write lock).
        if stop.wait(min(every_s, first_after_s)):
            return
        while True:
            if store.exists():
                try:
                    _write_report(out, store, lock=write_lock())
                    log.info("report refreshed: %s", out)
                except Exception as exc:  # noqa: BLE001 - a failed refresh must never stop the job
                    log.warning("report %s not refreshed: %s", out, exc)
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=loop, name="newswatch-report", daemon=True)
    thread.start()
    return thread


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` so a reader never sees a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cmd_report(args, beam_args) -> int:
    """The `newswatch report` subcommand."""
    import sys

    if beam_args:
        print(f"newswatch report: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    if bool(args.db) == bool(args.parquet):
        print("newswatch report: give exactly one of --db PATH or --parquet DIR", file=sys.stderr)
        return 2
    if args.db and not os.path.exists(args.db):
        print(f"newswatch report: no database at {args.db}", file=sys.stderr)
        return 2
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"newswatch report: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        build_report(args.out, args.db, args.parquet, since, args.topic, args.wait)
    except DatabaseBusy as exc:
        print(f"newswatch report: {exc}", file=sys.stderr)
        return 3
    print(f"report written to {os.path.abspath(args.out)} in {time.monotonic() - started:.2f}s")
    return 0


def main(argv: list[str]) -> int:
    """`newswatch report ARGS` without building the whole CLI (whose other commands import Beam)."""
    import argparse

    parser = argparse.ArgumentParser(prog="newswatch")
    add_report_command(parser.add_subparsers(dest="command", required=True))
    args, rest = parser.parse_known_args(["report", *argv])
    from newswatch.pipelines.worker import LOG_FORMAT  # stdlib only: the report still loads no Beam

    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    return args.func(args, rest)


def add_report_command(sub) -> None:
    """Register `newswatch report` on the CLI's subparsers."""
    import argparse

    report = sub.add_parser(
        "report", help="write a self-contained HTML page for analysts",
        description="Write one offline HTML page: weekly timeline of defection and conscription reports, "
        "states/regions, the newest reports with their evidence, feed health and provenance. Each section "
        "shows the SQL behind it. The database is opened read-only.",
        epilog="example:\n  newswatch report --db news.duckdb --out report.html --since 90d --topic defection",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("--db", metavar="PATH", help="a newswatch DuckDB file (opened read-only)")
    report.add_argument("--parquet", metavar="DIR", help="a Parquet sink directory instead of --db")
    report.add_argument("--out", required=True, metavar="HTML", help="the page to write (replaced atomically)")
    report.add_argument("--since", default="all", metavar="AGE",
                        help="only reports dated within this age of now, e.g. 90d, 12w, 36h (default: all)")
    report.add_argument("--topic", choices=TOPICS, default="all",
                        help="the topic of the charts and the newest list (the summary and tables keep both)")
    report.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                        help="how long to retry while a writer holds the file (default 10)")
    report.set_defaults(func=cmd_report)


__all__ = ["build_report", "collect", "parse_since", "region_of", "start_periodic_report", "write_atomic"]
