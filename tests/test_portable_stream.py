"""The streaming graph a cluster runs (keyed-state dedup, Parquet windows) on Beam's portable path."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from newswatch.cli import main
from newswatch.config import load_config
from newswatch.demo.run import site_dir
from newswatch.demo.server import StaticServer
from newswatch.pipelines.graph import GraphSettings
from newswatch.pipelines.stream import build_stream
from newswatch.sinks.parquet_read import open_parquet
from newswatch.http.settings import HttpSettings
from tests.test_portable import LABEL_SQL, job_service  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def test_portable_runner_streams_the_demo_into_parquet(tmp_path, job_service):  # noqa: F811
    site = Path(site_dir())
    lake = tmp_path / "lake"
    db = tmp_path / "batch.duckdb"
    with StaticServer(site, base_placeholder="__BASE__") as server:
        feeds = [f"{server.base_url}/feeds/{path.name}" for path in sorted((site / "feeds").glob("*.xml"))]
        cfg = load_config(None, politeness={"host_delay_s": 0.0})
        settings = GraphSettings(db_path=str(lake), config=cfg, http=HttpSettings.from_config(cfg, [server.host_port]),
                                 parquet=True)
        # The ticks end after 5 s so the job finishes; everything polled by then is processed.
        pipeline = build_stream(feeds, settings, ["--runner=PortableRunner", f"--job_endpoint={job_service}",
                                                  "--environment_type=LOOPBACK"], stop_after_s=5.0)
        pipeline.run().wait_until_finish()
        assert main(["run", "--feeds", *feeds, "--db", str(db), "--allow-host", server.host_port,
                     "--host-delay", "0"]) == 0
    streamed = open_parquet(str(lake))
    batch = duckdb.connect(str(db), read_only=True)
    try:
        rows = streamed.execute(LABEL_SQL).fetchall()
        assert len(rows) == 16 and sum(1 for r in rows if r[10]) == 1  # the demo's copy is linked
        assert rows == batch.execute(LABEL_SQL).fetchall()
        assert streamed.execute("SELECT count(*) FROM mentions").fetchone() == batch.execute(
            "SELECT count(*) FROM mentions").fetchone()
        # Incidents from keyed state equal the batch run's (issue 15).
        incidents = "SELECT url, incident_id FROM article_labels ORDER BY url"
        assert streamed.execute(incidents).fetchall() == batch.execute(incidents).fetchall()
    finally:
        streamed.close()
        batch.close()
