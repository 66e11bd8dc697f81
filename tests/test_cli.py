import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from newswatch.cli import main
from newswatch.tables import format_rows


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(b"<rss version='2.0'><channel><title>x</title></channel></rss>")

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_feed():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counting.hits = 0
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_run_refuses_private_address_not_in_allow_host(tmp_path, loopback_feed, capsys):
    db = tmp_path / "x.duckdb"
    code = main(["run", "--feeds", f"http://{loopback_feed}/feed.xml", "--db", str(db), "--host-delay", "0"])
    assert code == 1  # nothing could be read
    assert _Counting.hits == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT stage, code FROM errors").fetchall() == [("feed", "blocked_address")]
    con.close()


def test_run_allows_exactly_the_allowed_host(tmp_path, loopback_feed):
    db = tmp_path / "x.duckdb"
    other = "127.0.0.1:1" if not loopback_feed.endswith(":1") else "127.0.0.1:2"
    code = main(["run", "--feeds", f"http://{loopback_feed}/feed.xml", "--db", str(db), "--host-delay", "0",
                 "--allow-host", other, "--allow-host", loopback_feed])
    assert code == 0 and _Counting.hits == 1


def test_query_formats(tmp_path, capsys):
    db = tmp_path / "q.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 'x' AS b, ['p', 'q'] AS l")
    con.close()
    assert main(["query", "--db", str(db), "SELECT * FROM t"]) == 0
    out = capsys.readouterr().out
    assert "a | b | l" in out and "[p, q]" in out and "(1 row)" in out
    assert main(["query", "--db", str(db), "--format", "json", "SELECT * FROM t"]) == 0
    assert json.loads(capsys.readouterr().out) == {"a": 1, "b": "x", "l": ["p", "q"]}
    assert main(["query", "--db", str(db), "--format", "csv", "SELECT a, b FROM t"]) == 0
    assert capsys.readouterr().out.splitlines() == ["a,b", "1,x"]


def test_query_reports_bad_sql_and_missing_db(tmp_path, capsys):
    db = tmp_path / "q.duckdb"
    duckdb.connect(str(db)).close()
    assert main(["query", "--db", str(db), "SELEC nonsense"]) == 1
    assert "ParserException" in capsys.readouterr().err
    assert main(["query", "--db", str(tmp_path / "none.duckdb"), "SELECT 1"]) == 2


def test_format_rows_truncates_long_cells():
    out = format_rows(["t"], [["x" * 100]], "table")
    assert "…" in out


def test_feeds_resume(tmp_path, capsys):
    from newswatch.records import FeedPoll, SinkRecord
    from newswatch.sinks.duckdb import DuckDBStore

    db = str(tmp_path / "n.duckdb")
    gone = FeedPoll("http://f.example/gone", "2024-03-05T10:00:00+00:00", "error", 410, None, None, 0, False,
                    "http_410", "Gone", None, None, None, "gone: the server answered 410")
    DuckDBStore(db).write([SinkRecord(poll=gone)])
    assert main(["feeds", "resume", "--db", db]) == 2  # neither URLs nor --all
    assert main(["feeds", "resume", "--db", db, "--all", "http://f.example/gone"]) == 2
    assert main(["feeds", "resume", "--db", str(tmp_path / "missing.duckdb"), "--all"]) == 2
    capsys.readouterr()
    assert main(["feeds", "resume", "--db", db, "http://f.example/gone", "http://f.example/other"]) == 0
    out, err = capsys.readouterr()
    assert "resumed http://f.example/gone (was: gone: the server answered 410)" in out
    assert "not suspended (or unknown): http://f.example/other" in err
    assert main(["feeds", "resume", "--db", db, "--all"]) == 1
    assert "no feed resumed" in capsys.readouterr().err
    assert DuckDBStore(db).feed_schedules()["http://f.example/gone"].suspended is None


# ------------------------------------------------------------------ runner choice (issue 12: every core)


def test_run_without_runner_flags_uses_one_worker_process_per_core(monkeypatch):
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    from newswatch.pipelines import batch

    monkeypatch.setattr(batch, "cores", lambda: 3)
    options = batch.pipeline_options([])
    # Named, never left to Beam's DirectRunner, which tries Prism (a download) first.
    assert options.view_as(StandardOptions).runner == "FnApiRunner"
    assert options.view_as(DirectOptions).direct_running_mode == "multi_processing"
    assert options.view_as(DirectOptions).direct_num_workers == 3
    runner = batch.batch_runner(options)
    assert runner is not None and "newswatch.pipelines.worker" in runner._default_environment.command_string
    assert options.view_as(DirectOptions).direct_running_mode is None  # the runner object carries the mode now


@pytest.mark.parametrize("flags, in_process", [
    (["--direct_running_mode=in_memory"], True),
    (["--direct_running_mode", "in_memory"], True),
    (["--direct_num_workers=1"], True),
    (["--direct_num_workers=4"], False),
])
def test_runner_flags_override_the_default(monkeypatch, flags, in_process):
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    from newswatch.pipelines import batch

    monkeypatch.setattr(batch, "cores", lambda: 2)
    options = batch.pipeline_options(flags)
    direct = options.view_as(DirectOptions)
    assert options.view_as(StandardOptions).runner == "FnApiRunner"
    assert (batch.batch_runner(options) is None) == in_process
    if not in_process:
        assert direct.direct_num_workers == 4


def test_a_named_runner_is_left_to_beam():
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    from newswatch.pipelines import batch

    options = batch.pipeline_options(["--runner=DirectRunner"])
    assert options.view_as(StandardOptions).runner == "DirectRunner"
    assert options.view_as(DirectOptions).direct_running_mode == "in_memory"
    assert batch.batch_runner(options) is None


def test_a_failure_inside_a_worker_process_is_one_line_without_traceback(tmp_path):
    """A misconfigured spaCy model fails in each worker's setup(); the CLI says so in one line."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from faults.server import FaultSite

    repo = Path(__file__).resolve().parent.parent
    config = tmp_path / "newswatch.toml"
    config.write_text('[mentions]\nmodel = "xx_newswatch_no_such_model"\n')
    with FaultSite() as site:
        done = subprocess.run(
            [sys.executable, "-m", "newswatch.cli", "run", "--feeds", site.healthy_feed, "--db", str(tmp_path / "n.duckdb"),
             "--config", str(config), "--host-delay", "0", *[a for h in site.allow_hosts for a in ("--allow-host", h)]],
            capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(repo)),
        )
    print(f"\n--- stderr ---\n{done.stderr[-2000:]}")
    assert done.returncode == 1
    assert "xx_newswatch_no_such_model" in done.stderr and "is not installed" in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if "failed:" in line]) == 1
