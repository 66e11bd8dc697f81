"""Issue 2's acceptance test: the dev corpus end to end, twice."""

import duckdb

from newswatch.cli import main
from tests.conftest import requires_corpus

pytestmark = [requires_corpus, __import__("pytest").mark.slow]


def _counts(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM errors), (SELECT count(*) FROM feeds)"
        ).fetchone()
    finally:
        con.close()


def test_corpus_stores_every_gold_article_and_the_expected_errors(corpus_db, corpus_gold, corpus_expected_errors):
    con = duckdb.connect(str(corpus_db), read_only=True)
    try:
        urls = {row[0] for row in con.execute("SELECT url FROM articles").fetchall()}
        errors = {(row[0], row[1]) for row in con.execute("SELECT url, code FROM errors").fetchall()}
        labels = con.execute("SELECT count(*) FROM article_labels").fetchone()[0]
        dated = dict(con.execute(
            "SELECT url, strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%d') FROM articles").fetchall())
        titles = dict(con.execute("SELECT url, title FROM articles").fetchall())
        bozo = con.execute("SELECT count(*) FROM feeds WHERE bozo").fetchone()[0]
    finally:
        con.close()
    assert urls == {g["url"] for g in corpus_gold}
    assert errors == {(e["url"], e["reason"]) for e in corpus_expected_errors}
    assert labels == len(corpus_gold)
    assert {g["url"]: g["published"] for g in corpus_gold} == dated
    assert {g["url"]: g["title"] for g in corpus_gold} == titles
    assert bozo == 1  # mandalay-wire's raw '&' is noted, its items still read


def test_second_identical_run_adds_no_rows(corpus_db, corpus_server, corpus_feed_list):
    before = _counts(corpus_db)
    code = main(["run", "--feeds", str(corpus_feed_list), "--db", str(corpus_db),
                 "--allow-host", corpus_server.host_port])
    assert code == 0
    assert _counts(corpus_db) == before
