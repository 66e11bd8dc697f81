"""Parquet sink: same rows as the DuckDB sink, reruns add nothing, relinks apply, streaming windows."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing import test_pipeline, test_stream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from newswatch.records import (
    Article, ArticleLabels, EnrichedArticle, ErrorRecord, FeedPoll, Mention, Relink, SinkRecord,
)
from newswatch.sinks.duckdb import DuckDBStore
from newswatch.sinks.parquet import (
    WriteToParquet, group_tables, parquet_bytes, part_id, partition_date, stable_shard, write_file,
)
from newswatch.sinks.parquet_read import ParquetStore, create_views, open_parquet
from newswatch.sinks.parquet_read import _open_through_beam

FEED_A = "http://feeds.example/a.xml"
FEED_B = "http://feeds.example/b.xml"
VIEWS = ("articles", "mentions", "errors", "feed_polls", "feeds", "article_labels")


def _article(aid, published_at, dup=None, kind=None):
    return Article(
        aid, f"http://news.example/{aid}", FEED_A, "Example Times", f"Headline {aid}", "A. Writer",
        published_at, "page" if published_at else None, "2024-04-02T08:00:00+00:00",
        "2024-04-02T07:55:00+00:00", "en", f"Body text of story {aid}.", f"sha-{aid}", dup, kind,
        bytes([1, 2, len(aid)]),
    )


def _enriched(aid, published_at, n_mentions=0, dup=None, kind=None):
    mentions = [
        Mention(f"{aid}-m{i}", aid, "defection", "report", 7 + i, "at_least", 2, ["major"], ["Battalion 9"],
                ["PDF"], ["Sagaing"], "Myanmar", "PDF", f"Seven soldiers crossed over ({aid}, {i}).",
                10 * i, 10 * i + 9, "rules-2")
        for i in range(n_mentions)
    ]
    if mentions:
        labels = ArticleLabels(True, False, True, 7, 2, ["PDF"], ["Sagaing"], "Myanmar")
    else:
        labels = ArticleLabels(False, True, False, None, None, [], ["Yangon"], None)
    return SinkRecord(enriched=EnrichedArticle(_article(aid, published_at, dup, kind), mentions, labels))


def _error(url, code, at, message="went wrong", feed_url=FEED_A):
    return SinkRecord(error=ErrorRecord("fetch", url, feed_url, code, message, at))


def _poll(feed_url, at, status="ok", etag=None, title=None, next_poll_at=None, suspended=None):
    failed = status == "error"
    return SinkRecord(poll=FeedPoll(
        feed_url, at, status, 503 if failed else 200, etag, None, 0 if failed else 3, False,
        "http_5xx" if failed else None, "Service Unavailable" if failed else None, title, None,
        next_poll_at, suspended,
    ))


def _records() -> list[SinkRecord]:
    return [
        _enriched("a1", "2024-04-01T09:00:00+00:00", n_mentions=2),
        _enriched("a2", "2024-04-01T21:30:00-05:00"),  # 02:30 UTC the next day
        _enriched("a3", None, dup="a1", kind="near"),
        _enriched("a4", "2024-03-30T12:00:00+00:00", n_mentions=1),
        _error("http://news.example/gone", "http_404", "2024-04-02T08:01:00+00:00", "first try"),
        _error("http://news.example/gone", "http_404", "2024-04-02T09:01:00+00:00", "second try"),
        _error("http://news.example/slow", "timeout", "2024-04-01T23:59:00+00:00", feed_url=None),
        _poll(FEED_A, "2024-04-02T08:00:00+00:00", etag='"v1"', title="Feed A"),
        _poll(FEED_A, "2024-04-02T09:00:00+00:00", status="error"),
        _poll(FEED_A, "2024-04-02T10:00:00+00:00", status="error", suspended="http_410"),
        _poll(FEED_B, "2024-04-02T08:00:00+00:00", etag='"b"', title="Feed B",
              next_poll_at="2024-04-02T08:01:00+00:00"),
        SinkRecord(relink=Relink("a4", "a1", "near")),
    ]


def _write(directory, records, **kwargs) -> None:
    with test_pipeline.TestPipeline(runner="DirectRunner") as p:
        written = p | beam.Create(records).with_output_types(SinkRecord) | WriteToParquet(str(directory), **kwargs)
        ids = written | beam.Map(lambda e: e.article.article_id)
        expected = sorted({r.enriched.article.article_id for r in records if r.enriched is not None})
        assert_that(ids, equal_to(expected))


def _files(directory) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(root, name), directory)
        for root, _, names in os.walk(directory) for name in names
    )


def _rows(con, view: str) -> list[tuple]:
    # stored_at is the write time; an article without mentions gets the extractor version of
    # whatever else shares its write (a DuckDB batch, a Parquet group), so neither is comparable.
    exclude = {"articles": " EXCLUDE (stored_at, extractor_version)"}.get(view, "")
    return con.execute(f"SELECT *{exclude} FROM {view} ORDER BY ALL").fetchall()


def _types(con, view: str) -> list[tuple]:
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {view}").fetchall()]


# ---------------------------------------------------------------- pure functions


def test_partition_date_is_utc_and_falls_back_to_seen_at():
    assert partition_date(_enriched("x", "2024-04-01T21:30:00-05:00"), "2030-01-01") == "2024-04-02"
    assert partition_date(_enriched("x", None), "2030-01-01") == "2024-04-02"
    assert partition_date(_error("u", "c", "2024-04-01T23:59:00+00:00"), "2030-01-01") == "2024-04-01"
    assert partition_date(SinkRecord(relink=Relink("x", None, None)), "2030-01-01") == "2030-01-01"


def test_part_id_depends_on_keys_not_their_order():
    assert part_id("enriched", "2024-04-01", 0, ["b", "a"]) == part_id("enriched", "2024-04-01", 0, ["a", "b", "a"])
    assert part_id("enriched", "2024-04-01", 0, ["a"]) != part_id("enriched", "2024-04-01", 0, ["a", "b"])
    assert part_id("enriched", "2024-04-01", 0, ["a"]) != part_id("enriched", "2024-04-02", 0, ["a"])


def test_stable_shard_is_a_fixed_function_of_the_key():
    shards = [stable_shard(f"id-{i}", 4) for i in range(200)]
    assert set(shards) == {0, 1, 2, 3}
    assert stable_shard("id-0", 4) == shards[0] and stable_shard("anything", 1) == 0
    assert [stable_shard(k, 1000) for k in ("a1", "a2")] == [227, 18]  # golden: same in every process


# ---------------------------------------------------------------- round trip


def test_views_equal_the_duckdb_sink(tmp_path):
    records = _records()
    out = tmp_path / "news"
    _write(out, records)
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    store.write(records)

    assert "articles/date=2024-04-02" in {os.path.dirname(f) for f in _files(out)}  # a2 and undated a3
    with store.reader() as expected, open_parquet(str(out)) as got:
        for view in VIEWS:
            assert _types(got, view) == _types(expected, view), view
            assert _rows(got, view) == _rows(expected, view), view
        assert got.execute(
            "SELECT article_id, duplicate_of_url FROM article_labels WHERE duplicate_of IS NOT NULL ORDER BY 1"
        ).fetchall() == [("a3", "http://news.example/a1"), ("a4", "http://news.example/a1")]
        assert got.execute("SELECT count, first_at < \"at\" FROM errors WHERE code = 'http_404'").fetchall() == [
            (2, True)
        ]


def test_rerun_adds_no_rows_and_rewrites_the_same_files(tmp_path):
    out = tmp_path / "news"
    _write(out, _records())
    files = _files(out)
    with open_parquet(str(out)) as con:
        before = {v: _rows(con, v) for v in VIEWS}
    _write(out, _records())
    assert _files(out) == files  # same names: overwritten in place, no temp files left
    _write(out, list(reversed(_records())), shards=3)  # other grouping: new files, same rows read back
    assert len(_files(out)) > len(files)
    with open_parquet(str(out)) as con:
        assert {v: _rows(con, v) for v in VIEWS} == before
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone() == (4, 4)


def test_latest_relink_wins_like_the_duckdb_sink(tmp_path):
    out = tmp_path / "news"
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    batches = [
        [_enriched("a1", "2024-04-01T09:00:00+00:00"), _enriched("a2", "2024-04-01T10:00:00+00:00")],
        [SinkRecord(relink=Relink("a2", "a1", "near"))],
        [SinkRecord(relink=Relink("a1", "a2", "exact")), SinkRecord(relink=Relink("a2", None, None))],
    ]
    for batch in batches:
        _write(out, batch)
        store.write(batch)
    query = "SELECT article_id, duplicate_of, duplicate_kind, duplicate_of_url FROM article_labels ORDER BY 1"
    with store.reader() as expected, open_parquet(str(out)) as got:
        assert got.execute(query).fetchall() == expected.execute(query).fetchall() == [
            ("a1", "a2", "exact", "http://news.example/a2"),
            ("a2", None, None, None),
        ]


def test_a_later_window_beats_a_later_write(tmp_path):
    def write(name, relink, written_at, window_end_us):
        [(table, rows)] = group_tables("relink", [SinkRecord(relink=relink)], written_at, window_end_us)
        write_file(str(tmp_path / table / "date=2024-04-02" / f"{name}.parquet"), parquet_bytes(rows))

    _write(tmp_path, [_enriched("a1", None), _enriched("a2", None)])
    # Window 2 was written first (a slow worker finished window 1 later): window 2 still wins.
    write("w2", Relink("a2", "a1", "near"), datetime(2024, 4, 2, 9, 0, tzinfo=timezone.utc), 2_000_000)
    write("w1", Relink("a2", None, None), datetime(2024, 4, 2, 9, 5, tzinfo=timezone.utc), 1_000_000)
    with open_parquet(str(tmp_path)) as con:
        assert con.execute("SELECT duplicate_of FROM articles WHERE article_id = 'a2'").fetchall() == [("a1",)]


def test_empty_dataset_has_typed_empty_views(tmp_path):
    con = duckdb.connect()
    create_views(con, str(tmp_path / "nothing-yet"))
    with DuckDBStore(str(tmp_path / "n.duckdb")).writer() as ref:
        for view in VIEWS:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,)
            assert _types(con, view) == _types(ref, view), view
    con.close()


def test_loaders_read_through_beam_filesystems_like_the_duckdb_sink(tmp_path):
    out = tmp_path / "news"
    records = _records()
    _write(out, records)
    store = DuckDBStore(str(tmp_path / "n.duckdb"))
    store.write(records)
    lake = ParquetStore(str(out))
    assert sorted(lake.stored_ids()) == sorted(store.stored_ids())
    since = "2024-04-01T00:00:00+00:00"
    assert sorted(lake.prior_entries(since)) == sorted(store.prior_entries(since))
    assert lake.feed_schedules() == store.feed_schedules()
    with _open_through_beam(str(out)) as via_beam, open_parquet(str(out)) as via_duckdb:
        for view in VIEWS:
            sql = "SELECT * EXCLUDE (text) FROM articles ORDER BY ALL" if view == "articles" else None
            got = via_beam.execute(sql).fetchall() if sql else _rows(via_beam, view)
            expected = via_duckdb.execute(sql).fetchall() if sql else _rows(via_duckdb, view)
            assert got == expected, view


def test_files_without_a_newer_column_read_back_as_null(tmp_path):
    _write(tmp_path, [_enriched("a1", "2024-04-01T09:00:00+00:00", n_mentions=1)])
    [path] = [tmp_path / f for f in _files(tmp_path) if f.startswith("articles/")]
    pq.write_table(pq.read_table(path).drop_columns(["country"]), path)  # as an older writer would have
    for con in (open_parquet(str(tmp_path)), _open_through_beam(str(tmp_path))):
        with con:
            assert con.execute("SELECT article_id, country, defectors FROM articles").fetchall() == [("a1", None, 7)]


# ---------------------------------------------------------------- streaming


def test_streaming_writes_one_file_set_per_window(tmp_path):
    out = tmp_path / "news"
    first = [_enriched("a1", "2024-04-01T09:00:00+00:00"), _enriched("a2", "2024-04-01T10:00:00+00:00"),
             SinkRecord(relink=Relink("a2", None, None))]
    second = [_enriched("a3", "2024-04-01T11:00:00+00:00", n_mentions=1),
              SinkRecord(relink=Relink("a2", "a1", "near"))]
    stream = (
        test_stream.TestStream()
        .add_elements([TimestampedValue(r, 5) for r in first])
        .advance_watermark_to(20)
        .add_elements([TimestampedValue(r, 25) for r in second])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with test_pipeline.TestPipeline(runner="DirectRunner", options=options) as p:
        written = p | stream.with_output_types(SinkRecord) | WriteToParquet(str(out), window_seconds=10)
        assert_that(written | beam.Map(lambda e: e.article.article_id), equal_to(["a1", "a2", "a3"]))

    files = _files(out)
    assert len([f for f in files if f.startswith("articles/date=2024-04-01/")]) == 2  # one per window
    assert not [f for f in files if f.endswith(".tmp")]
    with open_parquet(str(out)) as con:
        # The later window's relink wins whichever file was written last.
        assert con.execute(
            "SELECT article_id, duplicate_of_url FROM article_labels ORDER BY 1"
        ).fetchall() == [("a1", None), ("a2", "http://news.example/a1"), ("a3", None)]
        assert con.execute("SELECT count(*) FROM mentions").fetchone() == (1,)


# ---------------------------------------------------------------- dev corpus


def _iso(value):
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _records_from_store(path) -> list[SinkRecord]:
    """The SinkRecords that reproduce a DuckDB sink's articles and mentions."""
    with DuckDBStore(str(path)).reader() as con:
        articles = con.execute("SELECT * FROM articles ORDER BY article_id").fetchall()
        names = [d[0] for d in con.description]
        mention_rows = con.execute(
            f"SELECT {', '.join(Mention._fields)} FROM mentions ORDER BY mention_id"
        ).fetchall()
    mentions: dict[str, list[Mention]] = {}
    for row in mention_rows:
        m = Mention(*row)
        mentions.setdefault(m.article_id, []).append(m)
    records = []
    for row in articles:
        a = dict(zip(names, row))
        for name in ("published_at", "fetched_at", "seen_at"):
            a[name] = _iso(a[name])
        article = Article(**{f: a[f] for f in Article._fields})
        labels = ArticleLabels(**{f: a[f] for f in ArticleLabels._fields})
        records.append(SinkRecord(enriched=EnrichedArticle(article, mentions.get(article.article_id, []), labels)))
    return records


@pytest.mark.corpus
@pytest.mark.slow
def test_dev_corpus_round_trips_to_the_same_article_labels(tmp_path, corpus_db):
    records = _records_from_store(corpus_db)
    assert len(records) > 20
    # The run's incidents are the stored window resolved (issue 15), so article_labels.incident_id agrees.
    from newswatch.sinks.duckdb import read_incident_window
    from newswatch.transforms.incidents.core import resolve

    records += [SinkRecord(incident=i) for i in resolve(read_incident_window(str(corpus_db))[0])]
    out = tmp_path / "news"
    _write(out, records)
    query = "SELECT * FROM article_labels ORDER BY article_id"
    with DuckDBStore(str(corpus_db)).reader() as expected, open_parquet(str(out)) as got:
        assert got.execute(query).fetchall() == expected.execute(query).fetchall()
        mentions = "SELECT * FROM mentions ORDER BY mention_id"
        assert got.execute(mentions).fetchall() == expected.execute(mentions).fetchall()


def test_stream_graph_for_a_cluster_runner_writes_parquet_with_keyed_dedup(tmp_path):
    from newswatch.config import load_config
    from newswatch.pipelines.graph import GraphSettings
    from newswatch.pipelines.stream import build_stream
    from newswatch.http.settings import HttpSettings

    cfg = load_config(None)
    settings = GraphSettings(db_path=str(tmp_path / "lake"), config=cfg, http=HttpSettings.from_config(cfg),
                             parquet=True)
    pipeline = build_stream(["http://example.org/rss.xml"], settings,
                            ["--runner=PortableRunner", "--job_endpoint=localhost:8099"])
    proto = pipeline.to_runner_api()  # what a job service receives
    labels = {t.unique_name for t in proto.components.transforms.values()}
    assert any(label.endswith("MarkDuplicates/WithState") for label in labels)  # keyed state, not in-process
    assert any(label.endswith("WriteToParquet") for label in labels)
    assert not any("RetryAlerts" in label or "WriteArticles" in label for label in labels)


def test_stream_to_parquet_on_the_direct_runner_is_refused(tmp_path, capsys):
    from newswatch.cli import main

    code = main(["stream", "--feeds", "http://example.org/rss.xml", "--sink", f"parquet:{tmp_path}"])
    assert code == 2 and "DirectRunner cannot stream into Parquet" in capsys.readouterr().err


def _summary(out: str) -> tuple:
    """The numbers of a `newswatch run` summary line, without its run id."""
    import re

    found = re.search(r"^run \w+ (\w+): (\d+)/(\d+) feeds read, (\d+) new articles \((\d+) stored\), "
                      r"(\d+) mentions stored, (\d+) item errors this run$", out, re.MULTILINE)
    assert found, out
    return found.groups()


@pytest.mark.slow
def test_a_batch_run_into_parquet_reports_like_one_into_duckdb(tmp_path, capsys):
    """`run --sink parquet:DIR` goes through the same store calls (writer, run bookkeeping) as `run --db`."""
    from pathlib import Path

    from newswatch.cli import main
    from newswatch.demo.run import site_dir
    from newswatch.demo.server import StaticServer

    site, lake, db = Path(site_dir()), tmp_path / "lake", tmp_path / "news.duckdb"
    with StaticServer(site, base_placeholder="__BASE__") as server:
        feeds = [f"{server.base_url}/feeds/{path.name}" for path in sorted((site / "feeds").glob("*.xml"))]
        flags = ["run", "--feeds", *feeds, "--allow-host", server.host_port, "--host-delay", "0"]
        assert main([*flags, "--sink", f"parquet:{lake}"]) == 0
        first = _summary(capsys.readouterr().out)
        assert main([*flags, "--sink", f"parquet:{lake}"]) == 0
        again = _summary(capsys.readouterr().out)
        assert main([*flags, "--db", str(db)]) == 0
        duck = _summary(capsys.readouterr().out)
    assert first == duck and first[0] == "ok" and int(first[3]) == int(first[4]) > 0
    assert again[3] == "0" and again[4] == first[4] and again[5] == first[5]  # nothing new the second time
    store = ParquetStore(str(lake))
    assert store.query("SELECT count(*) FROM runs").rows == [(0,)]  # a Parquet run keeps no run rows
    label_sql = "SELECT url, defection, conscription, defectors, duplicate_of_url FROM article_labels ORDER BY url"
    with duckdb.connect(str(db), read_only=True) as con:
        assert store.query(label_sql).rows == con.execute(label_sql).fetchall()
