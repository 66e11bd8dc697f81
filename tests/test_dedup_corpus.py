"""Issue 4's acceptance tests on the dev corpus: links exact, and the same in two halves as in one run."""

import duckdb
import pytest

from newswatch.cli import main
from tests.conftest import requires_corpus

pytestmark = [requires_corpus, pytest.mark.slow]

LINKS = "SELECT url, duplicate_of_url FROM article_labels ORDER BY url"


def _links(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(LINKS).fetchall()
    finally:
        con.close()


def test_near_duplicates_point_at_their_originals(corpus_db, corpus_gold):
    by_id = {g["id"]: g["url"] for g in corpus_gold}
    expected = sorted((g["url"], by_id[g["duplicate_of"]] if g["duplicate_of"] else None) for g in corpus_gold)
    assert _links(corpus_db) == expected


def test_two_halves_give_the_links_of_one_run(tmp_path, corpus_db, corpus_server, corpus_feed_list):
    feeds = [line for line in corpus_feed_list.read_text().splitlines() if line.startswith("http")]
    # This half holds four copies but none of their originals, so the second
    # run must re-link stored articles to earlier originals it only now sees.
    first = [f for f in feeds if any(n in f for n in ("frontier-dispatch", "irrawaddy-ledger", "mandalay-wire"))]
    assert len(first) == 3
    db = tmp_path / "halves.duckdb"
    common = ["--db", str(db), "--allow-host", corpus_server.host_port, "--host-delay", "0"]
    assert main(["run", "--feeds", *first, *common]) == 0
    assert main(["run", "--feeds", *feeds, *common]) == 0
    assert _links(db) == _links(corpus_db)
