"""Incidents end to end: the Beam step, the DuckDB and Parquet tables, eval and alerts on pages of our own.

The pages (tests/fixtures/incidents/stories.py, and heldout.py, written after
the rules) are served from an ephemeral loopback port: invented outlets
reporting the same incidents independently.
"""

import json
import random

import apache_beam as beam
import duckdb
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from newswatch.cli import main
from newswatch.demo.server import StaticServer
from newswatch.evaluate import check_baseline, evaluate
from newswatch.records import Article, ArticleLabels, EnrichedArticle, Mention, SinkRecord
from newswatch.sinks.duckdb import DuckDBStore, read_incident_window
from newswatch.sinks.parquet import WriteToParquet
from newswatch.sinks.parquet_read import open_parquet
from newswatch.transforms.incidents.step import IncidentWindow, ResolveIncidents
from newswatch.transforms.incidents.core import candidates_of, resolve
from tests.fixtures.incidents import heldout, heldout2
from tests.fixtures.incidents.stories import BASE, GOLD, STORIES, build_site

FLOORS = {"min": {"incidents.pairwise.f1": 0.95, "incidents.bcubed.f1": 0.95,
                  "incidents.pairwise.precision": 1.0}}


def _article(aid, published, title, sentences, *, count=None, qualifier="exact", places=(), units=(), orgs=(),
             source=None, duplicate_of=None):
    text = " ".join(sentences)
    article = Article(aid, f"http://news.example/{aid}", "http://news.example/feed", source or f"outlet-{aid}",
                      title, None, published, "page", published, published, "en", text, f"h-{aid}", duplicate_of,
                      "near" if duplicate_of else None, None)
    mentions, offset = [], 0
    for n, sentence in enumerate(sentences):
        mentions.append(Mention(f"{aid}-m{n}", aid, "defection", "report", count if n == 0 else None,
                                qualifier if count is not None and n == 0 else None, None, (), tuple(units),
                                tuple(orgs), tuple(places), "Myanmar", None, sentence, offset,
                                offset + len(sentence), "test"))
        offset += len(sentence) + 1
    labels = ArticleLabels(True, False, True, count, None, tuple(orgs), tuple(places), "Myanmar")
    return EnrichedArticle(article, tuple(mentions), labels)


ARTICLES = [
    _article("a", "2025-10-06T03:00:00+00:00", "Lieutenant-colonel and 12 soldiers defect in Kalay",
             ["A lieutenant-colonel and 12 soldiers defected in Kalay Township.", "They brought 20 rifles."],
             count=13, places=("Kalay Township",), units=("Light Infantry Battalion 345",), orgs=("NUG",)),
    _article("b", "2025-10-07T03:00:00+00:00", "Officer leads a dozen troops out of Kalay base",
             ["About a dozen soldiers led by a lieutenant colonel walked away near Kalay.", "They had rifles."],
             count=12, qualifier="about", places=("Kalay",)),
    _article("c", "2025-10-20T03:00:00+00:00", "Eight police officers in Tamu join the CDM",
             ["Eight police officers from Tamu Township joined the CDM.", "They took pistols."],
             count=8, places=("Tamu Township",)),
    _article("d", "2025-10-27T03:00:00+00:00", "Fifteen soldiers desert in Tamu",
             ["Fifteen soldiers deserted an outpost in Tamu Township.", "They brought 12 rifles."],
             count=15, places=("Tamu Township",)),
]


def _apply(state: dict, records) -> dict:
    """What a keyed sink holds after writing `records` in order: incident id -> member mention ids."""
    for incident in records:
        state.pop(incident.incident_id, None)
        if incident.members:
            state[incident.incident_id] = frozenset(m.mention_id for m in incident.members)
    return state


def test_batch_step_equals_the_core_and_the_in_process_window_in_any_order():
    expected = resolve(c for a in ARTICLES for c in candidates_of(a))
    with test_pipeline.TestPipeline(runner="DirectRunner") as p:
        out = p | beam.Create(ARTICLES) | ResolveIncidents()
        assert_that(out | beam.Map(lambda i: i.incident_id), equal_to([i.incident_id for i in expected]))
    want = {i.incident_id: frozenset(m.mention_id for m in i.members) for i in expected}
    for seed in range(5):
        order = ARTICLES[:]
        random.Random(seed).shuffle(order)
        window, state = IncidentWindow(None, 14.0), {}
        for article in order:
            _apply(state, window.add(candidates_of(article)))
        assert state == want, seed


def _serve(root, stories, gold_groups):
    feeds = build_site(root, stories)
    server = StaticServer(root, base_placeholder=BASE)
    feed_list = root / "feeds.txt"
    feed_list.write_text("".join(f"{server.base_url}/{f}\n" for f in feeds))
    gold = [{**g, "id": g["url"].rsplit("/", 1)[1], "url": g["url"].replace(BASE, server.base_url)}
            for g in gold_groups]
    return server, feed_list, gold, root


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    served = _serve(tmp_path_factory.mktemp("incident-site"), STORIES, GOLD)
    with served[0]:
        yield served


@pytest.fixture(scope="module", params=["stories", "heldout", "heldout2"])
def any_site(request, site, tmp_path_factory):
    if request.param == "stories":
        yield site
        return
    module = {"heldout": heldout, "heldout2": heldout2}[request.param]
    served = _serve(tmp_path_factory.mktemp(request.param), module.STORIES, module.GOLD)
    with served[0]:
        yield served


def _run(server, feed_list, db, *extra) -> None:
    assert main(["run", "--feeds", str(feed_list), "--db", str(db), "--allow-host", server.host_port,
                 "--host-delay", "0", *extra]) == 0


def _count(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_independent_reports_share_an_incident_and_a_rerun_adds_nothing(any_site, tmp_path):
    server, feed_list, gold, _ = any_site
    db = tmp_path / "news.duckdb"
    _run(server, feed_list, db)
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("SELECT * FROM article_labels")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
        timeline = con.execute("SELECT sort, count_min, count_max, n_articles, n_outlets FROM incident_timeline"
                               ).fetchall()
    result = evaluate(rows, gold)
    assert result["coverage"]["matched"] == len(gold)
    assert not check_baseline(result, FLOORS), result["incidents"]
    if {g["incident"] for g in gold} == {g["incident"] for g in GOLD}:
        assert ("event", 30, 31, 2, 2) in timeline  # "about 30" and "31"
        assert ("figure", 212, 212, 2, 2) in timeline  # the NUG's October figure, relayed twice
    before = _count(db, "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM incident_mentions),"
                        " (SELECT list(incident_id ORDER BY incident_id) FROM incidents)")
    _run(server, feed_list, db)
    assert _count(db, "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM incident_mentions),"
                      " (SELECT list(incident_id ORDER BY incident_id) FROM incidents)") == before


def test_incident_tables_are_idempotent_and_a_retired_id_disappears(tmp_path):
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    store.write([SinkRecord(enriched=a) for a in ARTICLES])
    late_first = [ARTICLES[1]]  # b arrives first, then the earlier-published a re-keys the incident
    window = IncidentWindow(None, 14.0)
    first = window.add([c for a in late_first for c in candidates_of(a)])
    store.write([SinkRecord(incident=i) for i in first])
    second = window.add([c for a in ARTICLES for c in candidates_of(a)])
    for _ in range(2):
        store.write([SinkRecord(incident=i) for i in second])
    expected = resolve(c for a in ARTICLES for c in candidates_of(a))
    with store.reader() as con:
        assert sorted(r[0] for r in con.execute("SELECT incident_id FROM incidents").fetchall()) == sorted(
            i.incident_id for i in expected)
        assert con.execute("SELECT count(*) FROM incident_mentions").fetchone()[0] == sum(
            len(i.members) for i in expected)
        labels = dict(con.execute("SELECT article_id, incident_id FROM article_labels").fetchall())
    assert labels["a"] == labels["b"] and len({labels["a"], labels["c"], labels["d"]}) == 3
    candidates, known = read_incident_window(str(tmp_path / "n.duckdb"))
    assert len(candidates) == 8 and sorted(known) == sorted(i.incident_id for i in expected)


def test_parquet_views_mirror_the_incident_tables(tmp_path):
    window = IncidentWindow(None, 14.0)
    records = [SinkRecord(enriched=a) for a in ARTICLES[1:2]]
    records += [SinkRecord(incident=i) for i in window.add(candidates_of(ARTICLES[1]))]
    rest = [SinkRecord(enriched=a) for a in ARTICLES[:1] + ARTICLES[2:]]
    rest += [SinkRecord(incident=i) for i in window.add([c for a in ARTICLES for c in candidates_of(a)])]
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    for batch in (records, rest):
        with test_pipeline.TestPipeline(runner="DirectRunner") as p:
            _ = p | beam.Create(batch).with_output_types(SinkRecord) | WriteToParquet(str(tmp_path / "pq"))
        store.write(batch)
    query = ("SELECT i.incident_id, i.sort, i.count_min, i.count_max, i.n_articles,"
             " list(m.mention_id ORDER BY m.mention_id) FROM incidents i JOIN incident_mentions m USING"
             " (incident_id) GROUP BY ALL ORDER BY 1")
    labels = "SELECT article_id, incident_id FROM article_labels ORDER BY 1"
    with store.reader() as expected, open_parquet(str(tmp_path / "pq")) as got:
        assert got.execute(query).fetchall() == expected.execute(query).fetchall()
        assert got.execute(labels).fetchall() == expected.execute(labels).fetchall()


def test_alerts_fire_once_per_incident_unless_the_rule_says_per_article(site, tmp_path):
    server, feed_list, gold, _ = site
    per_incident = tmp_path / "incident.jsonl"
    _run(server, feed_list, tmp_path / "a.duckdb", "--alert-file", str(per_incident))
    alerts = [json.loads(line) for line in per_incident.read_text().splitlines()]
    incident_of = {g["url"]: g["incident"] for g in gold}
    assert sorted(incident_of[a["url"]] for a in alerts) == sorted(set(incident_of.values()))  # one each
    config = tmp_path / "per-article.toml"
    out = tmp_path / "article.jsonl"
    config.write_text(f'[[alerts.rules]]\nname = "each"\nper = "article"\n'
                      f'channels = [{{ type = "file", path = "{out}" }}]\n')
    _run(server, feed_list, tmp_path / "b.duckdb", "--config", str(config))
    assert len(out.read_text().splitlines()) == len(STORIES)


def test_an_update_alert_is_sent_when_the_count_range_moves_if_the_rule_asks(tmp_path):
    from newswatch.alerts.channels import Channel
    from newswatch.alerts.outbox import enqueue_alerts
    from newswatch.alerts.rules import AlertRule, AlertSettings

    channel = Channel("file", str(tmp_path / "out.jsonl"))
    for update_change, expected in ((0.0, 1), (0.05, 2)):
        store = DuckDBStore(str(tmp_path / f"u{update_change}.duckdb"))
        settings = AlertSettings(rules=(AlertRule(channels=(channel,), update_change=update_change),))
        ids = []
        for article in ARTICLES[:2]:  # 13 soldiers, then "about a dozen": the range becomes 12-13
            store.write([SinkRecord(enriched=article)])
            ids += enqueue_alerts(store, article, settings)
        assert len(ids) == expected
        with store.reader() as con:
            payloads = [json.loads(p) for (p,) in con.execute("SELECT payload FROM alerts").fetchall()]
        updates = [p for p in payloads if p.get("update")]
        assert len(updates) == expected - 1
        for update in updates:
            assert (update["count_min"], update["count_max"]) == (12, 13)
            assert (update["previous_count_min"], update["previous_count_max"]) == (13, 13)


def test_one_batch_may_hold_several_versions_of_an_incident(tmp_path):
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    store.write([SinkRecord(enriched=a) for a in ARTICLES])
    window, records = IncidentWindow(None, 14.0), []
    for article in (ARTICLES[1], ARTICLES[0], ARTICLES[3], ARTICLES[2]):  # re-keyed on the way
        records += window.add(candidates_of(article))
    store.write([SinkRecord(incident=i) for i in records])  # one transaction, as a stream's batch writer does
    expected = resolve(c for a in ARTICLES for c in candidates_of(a))
    with store.reader() as con:
        assert sorted(r[0] for r in con.execute("SELECT incident_id FROM incidents").fetchall()) == sorted(
            i.incident_id for i in expected)
        assert sorted(con.execute("SELECT mention_id, incident_id FROM incident_mentions").fetchall()) == sorted(
            (m.mention_id, i.incident_id) for i in expected for m in i.members)
