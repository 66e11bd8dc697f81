"""Issue 16's quality gate: the Burmese pages (Unicode and Zawgyi) run end to end through the pipeline.

The pages in ``tests/fixtures/burmese`` are our own writing (``articles.py``; rebuild the
site with ``build_site.py``); they are served on an ephemeral loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from newswatch.cli import main
from newswatch.demo.server import StaticServer
from newswatch.evaluate import check_baseline, evaluate_db, load_gold
from newswatch.records import FeedItem, FetchedPage
from newswatch.transforms.shared.burmese_text import zawgyi_probability
from newswatch.transforms.extract_text import page_to_article
from newswatch.transforms.mentions.step import build_nlp, extract_article

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "burmese"
BASELINE = Path(__file__).with_name("eval_baseline_burmese.json")


@pytest.fixture(scope="module")
def burmese_run(tmp_path_factory):
    """One batch run over the Burmese site, politeness off; yields (database, gold with real URLs).

    All 22 pages are on one loopback host, so the default 1 s per-host gap alone
    would cost about half a minute; politeness has its own tests.
    """
    tmp = tmp_path_factory.mktemp("burmese")
    with StaticServer(FIXTURES / "site", base_placeholder="__BASE__") as server:
        feeds = tmp / "feeds.txt"
        feeds.write_text("".join(f"{server.base_url}/feeds/{p.name}\n" for p in sorted((FIXTURES / "site" / "feeds").glob("*.xml"))))
        db = tmp / "burmese.duckdb"
        assert main(["run", "--feeds", str(feeds), "--db", str(db), "--allow-host", server.host_port,
                     "--host-delay", "0", "--alert-file", str(tmp / "alerts.jsonl")]) == 0
        gold = tmp / "gold.jsonl"
        gold.write_text((FIXTURES / "gold.jsonl").read_text(encoding="utf-8").replace("__BASE__", server.base_url),
                        encoding="utf-8")
    return db, gold


def test_burmese_pages_hold_the_baseline(burmese_run):
    db, gold = burmese_run
    result = evaluate_db(db, gold)
    assert result["coverage"]["missing"] == [], "a Burmese page was dropped"
    broken = check_baseline(result, json.loads(BASELINE.read_text()))
    assert not broken, "Burmese quality below the pinned floors:\n" + "\n".join(broken)


def test_burmese_articles_store_language_and_encoding(burmese_run):
    db, gold = burmese_run
    want = {g["url"]: g["encoding"] for g in load_gold(gold)}
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT url, language, source_encoding, title, text FROM articles").fetchall()
        errors = con.execute("SELECT count(*) FROM errors").fetchone()[0]
    finally:
        con.close()
    assert errors == 0 and len(rows) == len(want)
    for url, language, encoding, title, text in rows:
        assert language == "my" and encoding == want[url], url
        assert zawgyi_probability(text) < 0.05 and zawgyi_probability(title) < 0.05, url  # stored as Unicode


def test_burmese_defection_reports_alert_with_the_headline_as_written(burmese_run):
    db, gold = burmese_run
    alerts = [json.loads(line) for line in (db.parent / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    reports = {g["url"]: g["title"] for g in load_gold(gold) if g["defection_report"]}
    assert {a["url"] for a in alerts} == set(reports)
    assert all(a["title"] == reports[a["url"]] for a in alerts)
    con = duckdb.connect(str(db), read_only=True)
    try:
        labelled = con.execute("SELECT count(*) FROM article_labels WHERE defection_report").fetchone()[0]
    finally:
        con.close()
    assert labelled == len(reports)


def _article(url: str, body: bytes):
    item = FeedItem("x", url, "feed", None, None, "2025-01-01T00:00:00+00:00")
    return page_to_article(FetchedPage(item, url, 200, "text/html", "utf-8", body, "2025-01-01T00:00:00+00:00"))


def test_zawgyi_pages_come_out_identical_to_their_unicode_versions():
    """Every Unicode page, re-encoded as Zawgyi, gives the same title, text, mentions and labels."""
    from myanmar.converter import convert

    nlp = build_nlp()
    pages = [p for p in sorted((FIXTURES / "site").rglob("*.html"))]
    gold = {g["url"].replace("__BASE__/", ""): g for g in load_gold(FIXTURES / "gold.jsonl")}
    checked = 0
    for path in pages:
        rel = str(path.relative_to(FIXTURES / "site"))
        if gold[rel]["encoding"] != "unicode":
            continue
        html = path.read_text(encoding="utf-8")
        unicode_article = _article(rel, html.encode())
        zawgyi_article = _article(rel, convert(html, "unicode", "zawgyi").encode())
        assert zawgyi_article.source_encoding == "zawgyi" and unicode_article.source_encoding == "unicode"
        assert (zawgyi_article.title, zawgyi_article.text) == (unicode_article.title, unicode_article.text), rel
        assert extract_article(nlp, "a", zawgyi_article.text, zawgyi_article.title) == \
            extract_article(nlp, "a", unicode_article.text, unicode_article.title)
        checked += 1
    assert checked >= 15
