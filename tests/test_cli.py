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
