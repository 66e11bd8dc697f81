"""Time `newswatch report` on a synthetic database of N articles (100,000 by default).

The database is made with the real schema (sinks/schema.py) and filled by SQL:
articles over two years from 200 feeds of 50 outlets, 10% defection reports
(two thirds with a count), 10% conscription stories, 10% copies of a report
(their count off by one now and then), three mentions per topical article,
one poll per article (so `poll_freshness` has 100k rows), 2,000 item errors
and a few failing and suspended feeds. Article text is short filler: no
report query reads it.

    python bench/bench_report.py --articles 100000 --out bench/results/report-100k.json

It reports the in-process time of build_report (median of --runs), the wall
time of the `newswatch report` command (Python start and imports included),
the page size, and one headless-Chromium load of the page when a browser is
installed. The machine is shared: the load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from newswatch.report import build_report
from newswatch.sinks.duckdb import DuckDBStore

PLACES = ["Kani Township", "Loikaw", "Demoso", "Hpa-an", "Myawaddy", "Lashio", "Kyaukme", "Hsenwi", "Falam",
          "Hakha", "Myitkyina", "Bhamo", "Kyaukphyu", "Sittwe", "Pauk", "Gangaw", "Dawei", "Taungoo", "Meiktila",
          "Madaya", "Yangon", "Mandalay", "Naypyitaw", "Pathein", "Mawlamyine", "Taunggyi", "Monywa", "Pekon",
          "Sagaing Region", "Karenni State", "somewhere abroad"]


def synthesise(path: str, n: int) -> float:
    """Fill a new database at `path` with `n` articles; return the seconds it took."""
    started = time.monotonic()
    store = DuckDBStore(path)
    store.init()
    places = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in PLACES) + "]"
    with store.transaction() as con:
        con.execute(f"""
        INSERT INTO articles (article_id, url, feed_url, source, title, published_at, date_origin, fetched_at,
            seen_at, stored_at, language, text, content_hash, duplicate_of, duplicate_kind, defection, conscription,
            defection_report, defectors, weapons, orgs, locations, country, extractor_version)
        SELECT 'a' || i, 'https://outlet' || (i % 50) || '.test/story/' || i,
            'https://outlet' || (i % 200) || '.test/feed.xml', 'Outlet ' || (i % 50),
            'Synthetic headline number ' || i,
            seen - INTERVAL 3 HOUR, 'page', seen + INTERVAL 20 SECOND, seen, seen + to_seconds(5 + i % 115),
            'en', 'Filler text of a synthetic article. ' || i, md5('a' || i),
            CASE WHEN i % 10 = 1 THEN 'a' || (i - 1) END, CASE WHEN i % 10 = 1 THEN 'near' END,
            i % 10 IN (0, 1, 3), i % 10 = 5, i % 10 IN (0, 1),
            CASE WHEN i % 10 = 0 AND i % 3 <> 0 THEN 1 + i % 97
                 WHEN i % 10 = 1 AND (i - 1) % 3 <> 0 THEN 1 + (i - 1) % 97 + (CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END) END,
            CASE WHEN i % 10 = 0 AND i % 4 = 0 THEN i % 13 END,
            ['military council', 'PDF'], [{places}[1 + i % {len(PLACES)}], {places}[1 + (i * 7) % {len(PLACES)}]],
            'Myanmar', 'bench-1'
        FROM (SELECT i, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * (730 * 86400 // {n})) AS seen
              FROM range({n}) t(i))
        """)
        con.execute("""
        INSERT INTO mentions
        SELECT a.article_id || '-' || k, a.article_id,
            CASE WHEN a.conscription THEN 'conscription' ELSE 'defection' END,
            CASE WHEN k = 0 AND (a.defection_report OR a.conscription) THEN 'report' ELSE 'analysis' END,
            CASE WHEN k = 0 THEN a.defectors END, 'exact', CASE WHEN k = 0 THEN a.weapons END,
            [], [], a.orgs, a.locations, 'Myanmar', NULL,
            'Synthetic evidence sentence ' || k || ' of ' || a.article_id || '.', 0, 40, 'bench-1'
        FROM articles a, range(3) r(k) WHERE a.defection OR a.conscription
        """)
        con.execute("""
        INSERT INTO feed_polls SELECT feed_url, seen_at, 'ok', 200, 20, NULL, NULL FROM articles
        """)
        con.execute("""
        INSERT INTO feeds (feed_url, title, last_status, last_http_status, last_polled_at, last_ok_at,
            consecutive_errors, last_error_code, bozo, suspended, suspended_reason)
        SELECT 'https://outlet' || f || '.test/feed.xml', 'Outlet ' || (f % 50) || ' feed ' || f,
            CASE WHEN f % 40 = 0 THEN 'error' ELSE 'ok' END, CASE WHEN f % 40 = 0 THEN 503 ELSE 200 END,
            TIMESTAMPTZ '2025-12-31 00:00:00+00', TIMESTAMPTZ '2025-12-30 00:00:00+00',
            CASE WHEN f % 40 = 0 THEN 4 WHEN f % 67 = 0 THEN 10 ELSE 0 END,
            CASE WHEN f % 40 = 0 THEN 'http_5xx' WHEN f % 67 = 0 THEN 'http_410' END, f % 90 = 0,
            f % 67 = 0, CASE WHEN f % 67 = 0 THEN 'http_410' END
        FROM range(200) t(f)
        """)
        con.execute("""
        INSERT INTO errors SELECT 'fetch', 'https://outlet' || (e % 50) || '.test/gone/' || e,
            'https://outlet' || (e % 200) || '.test/feed.xml', CASE WHEN e % 3 = 0 THEN 'http_404' ELSE 'timeout' END,
            'synthetic', TIMESTAMPTZ '2025-06-01 00:00:00+00', TIMESTAMPTZ '2025-06-02 00:00:00+00', 1 + e % 4
        FROM range(2000) t(e)
        """)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="keep the synthetic database here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "bench.duckdb")
        made_s = synthesise(db, args.articles)
        page = os.path.join(tmp, "report.html")
        timings = []
        for _ in range(args.runs):
            started = time.monotonic()
            data = build_report(page, db)
            timings.append(time.monotonic() - started)
        started = time.monotonic()
        cli = subprocess.run([sys.executable, "-m", "newswatch.cli", "report", "--db", db, "--out", page],
                             capture_output=True, text=True)
        cli_s = time.monotonic() - started
        size = os.path.getsize(page)
        browser = None
        from newswatch.report_browser import find_browser, render

        if find_browser():
            shown = render(page, width=1280, height=2400)
            browser = {"wall_s": round(shown.seconds, 2), "console_messages": len(shown.console)}
        with DuckDBStore(db).reader() as con:
            counts = con.execute("SELECT count(*), count(*) FILTER (WHERE defection_report), "
                                 "(SELECT count(*) FROM mentions), (SELECT count(*) FROM feed_polls) FROM articles").fetchone()
        db_bytes = os.path.getsize(db)
    result = {
        "articles": counts[0], "defection_report_articles": counts[1], "mentions": counts[2], "feed_polls": counts[3],
        "database_mib": round(db_bytes / 2**20, 1), "synthesise_s": round(made_s, 1),
        "build_report_s": [round(t, 3) for t in timings], "build_report_median_s": round(statistics.median(timings), 3),
        "cli_wall_s": round(cli_s, 2), "cli_exit": cli.returncode, "page_kib": round(size / 1024, 1),
        "timeline_weeks": len(data.sections["timeline"].rows), "chromium": browser,
        "machine": f"{os.cpu_count()} CPUs shared with ~8 engineers; load average {load_start[0]:.2f} "
                   f"{load_start[1]:.2f} {load_start[2]:.2f} at start, {os.getloadavg()[0]:.2f} at end",
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if cli.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
