"""`newswatch demo`: ingest the bundled demo corpus from a loopback server.

The demo's feeds and pages ship inside the package (newswatch/demo/site),
so it runs from a plain clone with no network.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from typing import Sequence

EXAMPLE_SQL = (
    "SELECT title, defectors, weapons, locations FROM article_labels "
    "WHERE defection_report AND duplicate_of_url IS NULL ORDER BY published_at"
)


def site_dir() -> str:
    """Folder holding the bundled demo site."""
    return str(resources.files("newswatch.demo").joinpath("site"))


def run_demo(db_path: str, beam_args: Sequence[str] = ()) -> int:
    """Serve the demo site, run the batch pipeline into `db_path`, print a summary."""
    from newswatch.config import load_config
    from newswatch.demo.server import StaticServer
    from newswatch.pipelines.batch import run_batch
    from newswatch.pipelines.graph import GraphSettings
    from newswatch.sinks.duckdb import DuckDBStore
    from newswatch.tables import format_rows
    from newswatch.http.settings import HttpSettings
    from newswatch.sinks.publish import Publisher, resolve_store

    site = site_dir()
    feeds = sorted(name for name in os.listdir(os.path.join(site, "feeds")) if name.endswith(".xml"))
    # The demo server is our own, on loopback: no politeness delay needed.
    cfg = load_config(politeness={"host_delay_s": 0.0, "host_concurrency": 0})
    with StaticServer(site, base_placeholder="__BASE__") as server:
        urls = [f"{server.base_url}/feeds/{name}" for name in feeds]
        print(f"demo: serving {len(urls)} feeds at {server.base_url}; writing {db_path}", file=sys.stderr)
        settings = GraphSettings(resolve_store(db_path), cfg, HttpSettings.from_config(cfg, [server.host_port]))
        publisher = Publisher(db_path).start()
        try:
            run = run_batch(urls, settings, beam_args)
        finally:
            publisher.stop()
    with DuckDBStore(db_path).session() as s:
        totals = s.totals()
        by_kind = s.mentions_by_kind()
        errors = s.error_urls()
        example = format_rows(*s.query(EXAMPLE_SQL), "table")
    print(f"run {run['run_id']}: {run['status']}")
    print(f"articles stored: {totals.articles} ({totals.duplicates} marked as duplicates)")
    print(f"mentions: {totals.mentions} (" + ", ".join(f"{k}: {n}" for k, n in by_kind) + ")")
    print(f"errors: {len(errors)}" + "".join(f"\n  {code}  {url}" for code, url in errors))
    print(f"\nexample query:\n  newswatch query --db {db_path} \"{EXAMPLE_SQL}\"\n")
    print(example)
    from newswatch.report import build_report

    report = os.path.splitext(os.path.abspath(db_path))[0] + "-report.html"
    build_report(report, db_path)
    print(f"\nanalyst report (one offline HTML file, open it in a browser):\n  {report}")
    return 0 if run["status"] == "ok" else 1
