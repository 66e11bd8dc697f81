"""Issue 8: the unchanged pipeline on Beam's portable path gives the DirectRunner's rows."""

import socket
import subprocess
import sys
import time

import duckdb
import pytest

from newswatch.cli import main
from tests.conftest import requires_corpus

pytestmark = [requires_corpus, pytest.mark.slow]

LABEL_SQL = (
    "SELECT url, title, published_at, defection, conscription, defection_report, defectors, weapons,"
    " list_sort(orgs), list_sort(locations), duplicate_of_url, country FROM article_labels ORDER BY url"
)
MENTION_SQL = (
    "SELECT a.url, m.kind, m.modality, m.people_count, m.weapons_count, m.start_char, m.end_char"
    " FROM mentions m JOIN articles a USING (article_id) ORDER BY ALL"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def job_service():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("local job service did not start")
    yield f"localhost:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_portable_runner_stores_the_same_rows(tmp_path, job_service, corpus_db, corpus_server, corpus_feed_list):
    db = tmp_path / "portable.duckdb"
    code = main(["run", "--feeds", str(corpus_feed_list), "--db", str(db), "--allow-host", corpus_server.host_port,
                 "--host-delay", "0", "--runner=PortableRunner", f"--job_endpoint={job_service}",
                 "--environment_type=LOOPBACK"])
    assert code == 0
    assert _rows(db, LABEL_SQL) == _rows(corpus_db, LABEL_SQL)
    assert _rows(db, MENTION_SQL) == _rows(corpus_db, MENTION_SQL)
    assert _rows(db, "SELECT stage, url, code FROM errors ORDER BY ALL") == _rows(
        corpus_db, "SELECT stage, url, code FROM errors ORDER BY ALL")
