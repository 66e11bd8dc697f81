"""Tests for transforms.dedup: pure MinHash/LSH core, the in-process twin, and MarkDuplicates on the DirectRunner."""

from __future__ import annotations

import pickle
import random
from datetime import datetime, timedelta, timezone

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.trigger import AccumulationMode, AfterWatermark
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from newswatch.records import Article
from newswatch.transforms.shared.canonical import content_hash
from newswatch.records import Relink
from newswatch.transforms.dedup.step import MarkDuplicates, MarkDuplicatesInProcess, _InProcessDedupFn
from newswatch.transforms.dedup.stream import MarkDuplicatesWithState
from newswatch.transforms.dedup.core import (
    Clusters,
    MinHasher,
    PriorEntry,
    make_meta,
    band_keys,
    epoch,
    estimate_jaccard,
    exact_key,
    jaccard,
    mark_duplicates,
    shingles,
    words,
)

# Invented vocabulary: test stories are random sentences over it, so independent
# stories share almost no 5-word run and copies are controlled edits.
_VOCAB = (
    "river ferry harbour lantern orchard quarry tannery bakery council ledger drought monsoon tariff "
    "convoy bridge valley plateau festival market clinic school teacher farmer miner weaver potter "
    "engineer courier archive blanket kettle ladder mirror needle pepper saddle timber anchor "
    "opened closed delayed praised counted repaired moved signed painted carried sold watched "
    "quietly early late twice nearly almost the a of in on at by with from near under over and"
).split()
_T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)


def _story(seed: int, paragraphs: int = 6) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(" ".join(rng.choice(_VOCAB) for _ in range(rng.randint(9, 16))).capitalize() + "."
                 for _ in range(rng.randint(2, 4)))
        for _ in range(paragraphs)
    ]


def _copy(paras: list[str], seed: int) -> list[str]:
    """A syndicated copy: one paragraph dropped, a few words swapped, a credit line added."""
    rng = random.Random(seed)
    out = [p for i, p in enumerate(paras) if i != 2]
    for _ in range(3):
        i = rng.randrange(len(out))
        toks = out[i].split()
        toks[rng.randrange(len(toks))] = "kingfisher"
        out[i] = " ".join(toks)
    return out + ["Reporting by a wire desk."]


def _article(article_id: str, paras: list[str], day: float, seen_day: float | None = None,
             published: bool = True) -> Article:
    text = "\n".join(paras)
    pub = (_T0 + timedelta(days=day)).isoformat() if published else None
    seen = (_T0 + timedelta(days=day if seen_day is None else seen_day, hours=1)).isoformat()
    return Article(article_id, f"http://example.test/{article_id}", "http://example.test/feed", "example",
                   None, None, pub, "page" if published else None, seen, seen, "en", text, content_hash(text),
                   None, None, None)


def _links(articles) -> dict:
    return {a.article_id: (a.duplicate_of, a.duplicate_kind) for a in articles}


def _stored(article: Article, duplicate_of=None, with_minhash: bool = True) -> PriorEntry:
    sig = MinHasher().signature(article.text) if with_minhash else None
    return PriorEntry(article.article_id, article.published_at, article.seen_at, article.content_hash, sig,
                      duplicate_of)


class _Prior:
    """Picklable prior source for tests."""

    def __init__(self, entries):
        self.entries = list(entries)

    def __call__(self):
        return list(self.entries)


def _streaming_pipeline() -> BeamTestPipeline:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return BeamTestPipeline(runner="BundleBasedDirectRunner", options=options)


def _link_rows(articles):
    return articles | "LinkRows" >> beam.Map(lambda a: (a.article_id, a.duplicate_of, a.duplicate_kind))


# A small world: o1 with a near copy c1 and an exact copy e1; o2 with copy c2; i1 on o1's
# topic (shares two sentences) but written apart; plain singletons s1, s2.
O1, O2 = _story(1), _story(2)
I1 = _story(3)[:4] + O1[0].split(". ")[:1] + O1[4].split(". ")[:1]
WORLD = {
    "o1": _article("o1", O1, 1.0),
    "c1": _article("c1", _copy(O1, 11), 1.5),
    "e1": _article("e1", list(O1), 2.0),
    "o2": _article("o2", O2, 3.0, seen_day=6.0),
    "c2": _article("c2", _copy(O2, 12), 3.2),
    "i1": _article("i1", I1, 1.2),
    "s1": _article("s1", _story(4), 2.5, published=False),
    "s2": _article("s2", _story(5), 4.0),
}
WORLD_LINKS = {
    "o1": (None, None), "c1": ("o1", "near"), "e1": ("o1", "exact"), "o2": (None, None),
    "c2": ("o2", "near"), "i1": (None, None), "s1": (None, None), "s2": (None, None),
}


# ---------------------------------------------------------------- pure core

def test_words_and_shingles():
    assert words("The junta’s draft: 5,000 called-up! O'Neil") == ["the", "juntas", "draft", "5", "000", "called",
                                                                      "up", "oneil"]
    assert shingles("one two three", k=5) == {"one two three"}
    assert shingles("a b c d e f", k=5) == {"a b c d e", "b c d e f"}
    assert shingles("...", k=5) == set()


def test_signature_is_deterministic_pinned_and_picklable():
    text = "\n".join(O1)
    hasher = MinHasher()
    sig = hasher.signature(text)
    assert len(sig) == 512
    assert sig == MinHasher().signature(text) == pickle.loads(pickle.dumps(hasher)).signature(text)
    # Pinned: stored signatures must stay comparable across releases.
    assert MinHasher().signature("ferry lantern orchard quarry bakery council").hex()[:32] == "45bd16467dc08f68ad465e13583c2634"
    assert hasher.signature("  ") is None
    assert estimate_jaccard(sig, sig) == 1.0
    assert estimate_jaccard(sig, sig[:256]) == 0.0



@pytest.mark.parametrize("replace_share", [0.0, 0.03, 0.08, 0.15, 0.3, 0.6, 1.0])
def test_estimate_is_close_to_true_jaccard(replace_share):
    rng = random.Random(int(replace_share * 100))
    base = " ".join(rng.choice(_VOCAB) for _ in range(600)).split()
    edited = [rng.choice(_VOCAB) + "x" if rng.random() < replace_share else w for w in base]
    a, b = " ".join(base), " ".join(edited)
    true = jaccard(shingles(a), shingles(b))
    hasher = MinHasher()
    # 128 permutations: standard error <= 0.045, so 0.12 is well past 2.5 sd.
    assert abs(estimate_jaccard(hasher.signature(a), hasher.signature(b)) - true) < 0.12


def test_band_keys():
    sig = MinHasher().signature("\n".join(O1))
    keys = band_keys(sig)
    assert len(keys) == 42 and len(set(keys)) == 42
    assert [k[0] for k in keys] == list(range(42)) and all(len(k) == 13 for k in keys)
    changed = bytearray(sig)
    changed[13] ^= 1  # value 3 sits in band 1 (rows 3..5)
    assert [a == b for a, b in zip(keys, band_keys(bytes(changed)))].count(False) == 1
    assert exact_key("ab")[:1] == b"\xff"


def test_epoch():
    assert epoch("2024-03-01T06:00:00+00:00") == epoch("2024-03-01T12:30:00+06:30") == _T0.timestamp()
    assert epoch("2024-03-01T06:00:00Z") == epoch("2024-03-01T06:00:00") == _T0.timestamp()
    assert epoch(_T0) == _T0.timestamp()
    assert epoch("2024-03-01") == _T0.timestamp() - 6 * 3600
    assert epoch("soon") is None and epoch(None) is None


def _m(article_id, day, prior=False, link=None, ch=None):
    when = (_T0 + timedelta(days=day)).isoformat()
    return make_meta(article_id, when, when, ch or article_id, 0.0, 86400.0, prior, link)


def test_clusters_pick_earliest_and_never_chain():
    clusters = Clusters()
    for meta in (_m("b", 2), _m("c", 3), _m("a", 1)):
        clusters.add(meta)
    clusters.union("c", "b")
    assert clusters.link_of("c") == ("b", "near")
    first = clusters.changes()
    clusters.union("b", "a")  # a bridges in, earlier than b
    assert clusters.link_of("b") == ("a", "near") and clusters.link_of("c") == ("a", "near")
    second = clusters.changes()
    assert [(e.article_id, e.duplicate_of) for e in first] == [("c", "b")]
    assert [(e.article_id, e.duplicate_of) for e in second] == [("b", "a"), ("c", "a")]
    assert second[0].version > first[-1].version
    assert clusters.changes() == []


def test_clusters_seed_stored_links_with_placeholder_original():
    clusters = Clusters()
    clusters.add(_m("s2", 5, prior=True, link="s1"))  # s1 not loaded (yet)
    assert clusters.link_of("s2") == ("s1", "near")
    assert clusters.changes() == []  # matches what is stored
    clusters.add(_m("s1", 4, prior=True, ch="s2"))
    clusters.add(_m("n0", 3))
    clusters.union("n0", "s2")
    events = {e.article_id: e for e in clusters.changes()}
    assert events["s1"].duplicate_of == "n0" and events["s2"].duplicate_of == "n0"
    assert events["s1"].duplicate_kind == "near"
    assert clusters.expire(lambda expiry: expiry <= _T0.timestamp() + 10 * 86400) == 3 and len(clusters) == 0


def test_mark_duplicates_world():
    out, relinks = mark_duplicates(WORLD.values())
    assert _links(out) == WORLD_LINKS and relinks == []
    assert all(a.minhash and len(a.minhash) == 512 for a in out)
    reverse, _ = mark_duplicates(reversed(list(WORLD.values())))
    assert _links(reverse) == WORLD_LINKS


def test_texts_without_words_are_not_copies_of_each_other():
    blank = [_article("w1", ["— … —"], 1.0), _article("w2", ["— … —"], 1.1)]
    out, _ = mark_duplicates(blank)
    assert _links(out) == {"w1": (None, None), "w2": (None, None)}
    assert [a.minhash for a in out] == [None, None]


def test_window_limits_pairs():
    far = _article("far", _copy(O1, 13), 20.0)
    out, _ = mark_duplicates([WORLD["o1"], far], window_days=14.0)
    assert _links(out)["far"] == (None, None)
    out, _ = mark_duplicates([WORLD["o1"], far], window_days=30.0)
    assert _links(out)["far"] == ("o1", "near")


def _apply(links: dict, relinks) -> dict:
    applied = dict(links)
    for r in relinks:
        applied[r.article_id] = (r.duplicate_of, r.duplicate_kind)
    return applied


def _two_halves(first_ids, run=mark_duplicates) -> dict:
    first, relinks = mark_duplicates([WORLD[i] for i in first_ids])
    assert relinks == []
    stored = [_stored(a, a.duplicate_of) for a in first]
    second, relinks = run([a for i, a in WORLD.items() if i not in first_ids], stored)
    return _apply({**_links(first), **_links(second)}, relinks)


@pytest.mark.parametrize("first_ids", [("c1", "c2", "s1", "i1"), ("o1", "c2", "e1"), ("c1", "e1", "o2")])
def test_two_halves_give_the_links_of_one_run(first_ids):
    assert _two_halves(first_ids) == WORLD_LINKS


# ---------------------------------------------------------------- Beam

# MarkDuplicates resolves bounded input in one GroupByKey; the keyed-state graph (streaming on
# Flink/Dataflow) runs in batch too, and both must give the twin's links.
BATCH_PATHS = [MarkDuplicates, MarkDuplicatesWithState]


@pytest.mark.parametrize("dedup", BATCH_PATHS)
def test_mark_duplicates_batch(dedup):
    with BeamTestPipeline(runner="DirectRunner") as p:
        articles, relinks = p | beam.Create(list(WORLD.values())) | dedup()
        assert_that(_link_rows(articles), equal_to([(k, *v) for k, v in WORLD_LINKS.items()]))
        assert_that(articles | "Sigs" >> beam.Map(lambda a: len(a.minhash)), equal_to([512] * len(WORLD)),
                    label="Signatures")
        assert_that(relinks, equal_to([]), label="NoRelinks")


@pytest.mark.parametrize("dedup", BATCH_PATHS)
def test_priors_cross_run(dedup):
    a1 = _article("a1", _story(21), 5.0)
    a2 = _article("a2", _copy(_story(21), 22), 6.0)  # new copy of a stored article
    b1 = _article("b1", _story(31), 5.0)
    b2 = _article("b2", _copy(_story(31), 32), 6.0)
    b0 = _article("b0", _copy(_story(31), 33), 4.0)  # new, but published before stored b1
    c1 = _article("c1", _story(41), 5.0)
    c2 = _article("c2", _story(41), 5.5)  # same text as stored c1, whose signature is missing
    a3 = _article("a3", _copy(_story(21), 23), 5.5)  # stored as a1's copy and processed again
    prior = _Prior([_stored(a1), _stored(a3, "a1"), _stored(b1), _stored(b2, "b1"), _stored(c1, with_minhash=False)])
    new = [a2, a3, b0, c2]
    expected = {"a2": ("a1", "near"), "a3": ("a1", "near"), "b0": (None, None), "c2": ("c1", "exact")}
    expected_relinks = [Relink("b1", "b0", "near"), Relink("b2", "b0", "near")]
    out, relinks = mark_duplicates(new, prior())
    assert _links(out) == expected and sorted(relinks) == expected_relinks
    with BeamTestPipeline(runner="DirectRunner") as p:
        articles, relinks = p | beam.Create(new) | dedup(prior=prior)
        assert_that(_link_rows(articles), equal_to([(k, *v) for k, v in expected.items()]))
        assert_that(relinks, equal_to(expected_relinks), label="Relinks")


@pytest.mark.parametrize("dedup", BATCH_PATHS)
def test_two_halves_on_beam(dedup):
    def beam_run(new, stored):
        with BeamTestPipeline(runner="DirectRunner") as p:
            articles, relinks = p | beam.Create(new) | dedup(prior=_Prior(stored))
            expected_new = {a.article_id: WORLD_LINKS[a.article_id] for a in new}
            assert_that(_link_rows(articles), equal_to([(k, *v) for k, v in expected_new.items()]))
            # c1 and c2 were stored as originals; their originals arrive now.
            assert_that(relinks, equal_to([Relink("c1", "o1", "near"), Relink("c2", "o2", "near")]),
                        label="Relinks")
        return [], []

    _two_halves(("c1", "c2", "s1", "i1"), run=beam_run)


def test_empty_input_reads_no_prior():
    def refuse():
        raise AssertionError("nothing new: the store need not be read")

    with BeamTestPipeline(runner="DirectRunner") as p:
        articles, relinks = p | beam.Create([], reshuffle=False).with_output_types(Article) | MarkDuplicates(
            prior=refuse)
        assert_that(articles, equal_to([]))
        assert_that(relinks, equal_to([]), label="NoRelinks")


def _in_process(order, stored=()):
    """Feed the in-process DoFn one arrival at a time, as the streaming DirectRunner does."""
    fn = _InProcessDedupFn(_Prior(stored), 14.0, 5, dict(threshold=0.5, num_perm=128, rows=3))
    fn.setup()
    out, relinks = [], []
    for article in order:
        for value in fn.process(article):
            if isinstance(value, beam.pvalue.TaggedOutput):
                relinks.append(value.value)
            else:
                out.append(value)
    return out, relinks


def test_in_process_arrivals_and_relinks_give_batch_links(monkeypatch):
    monkeypatch.setattr("time.time", lambda: (_T0 + timedelta(days=7)).timestamp())
    order = [WORLD[i] for i in ("c2", "o1", "c1", "i1", "s1", "o2", "e1", "s2")]  # c2 before its original
    out, relinks = _in_process(order)
    assert relinks == [Relink("c2", "o2", "near")]
    assert _links(out)["c2"] == (None, None) and _apply(_links(out), relinks) == WORLD_LINKS
    assert all(len(a.minhash) == 512 for a in out)


def test_in_process_drops_what_left_the_window(monkeypatch):
    now = [(_T0 + timedelta(days=2)).timestamp()]
    monkeypatch.setattr("time.time", lambda: now[0])
    fn = _InProcessDedupFn(_Prior([_stored(WORLD["o1"])]), 14.0, 5, dict(threshold=0.5, num_perm=128, rows=3))
    fn.setup()
    assert "o1" in fn._seen
    now[0] += 30 * 86400.0
    fn._rebuild()
    assert fn._seen == {}


def test_in_process_on_beam_applies_to_batch_links():
    order = [WORLD[i] for i in ("c2", "o1", "c1", "i1", "s1", "o2", "e1", "s2")]  # at most one relink per article
    with BeamTestPipeline(runner="DirectRunner") as p:
        articles, relinks = p | beam.Create(order) | MarkDuplicatesInProcess()
        written = _link_rows(articles) | "KeyWritten" >> beam.Map(lambda r: (r[0], ("a", r[1], r[2])))
        updated = relinks | "KeyUpdates" >> beam.Map(lambda r: (r.article_id, ("r", r.duplicate_of, r.duplicate_kind)))
        applied = (
            (written, updated)
            | beam.Flatten()
            | beam.GroupByKey()
            # Relinks come after the article they change, in the one DoFn: the last one wins.
            | beam.MapTuple(lambda k, rows: (k, *sorted(rows, key=lambda r: r[0] != "r")[0][1:]))
        )
        assert_that(applied, equal_to([(k, *v) for k, v in WORLD_LINKS.items()]))


def _timestamped(article: Article, at: datetime) -> TimestampedValue:
    return TimestampedValue(article, at.timestamp())


def test_streaming_gives_batch_links():
    first = ["o1", "c1", "c2", "i1", "s1"]  # c2 arrives before its original o2
    second = ["o2", "e1", "s2"]
    t1, t2 = _T0 + timedelta(days=7), _T0 + timedelta(days=7, minutes=5)
    stream = (
        BeamTestStream()
        .add_elements([_timestamped(WORLD[i], t1) for i in first])
        .advance_watermark_to(t1.timestamp() + 60)
        .add_elements([_timestamped(WORLD[i], t2) for i in second])
        # The DirectRunner does not hold watermarks for timers: outputs of timers that fire only on
        # the jump to infinity would reach the asserts' GroupByKey late and be dropped.
        .advance_watermark_to(t2.timestamp() + 60)
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        articles, relinks = p | stream | MarkDuplicates()
        assert_that(relinks, equal_to([Relink("c2", "o2", "near")]), label="Relinks")
        written = _link_rows(articles) | "KeyWritten" >> beam.Map(lambda r: (r[0], ("a", r[1], r[2])))
        updated = relinks | "KeyUpdates" >> beam.Map(lambda r: (r.article_id, ("r", r.duplicate_of, r.duplicate_kind)))
        applied = (
            (written, updated)
            | beam.Flatten()
            | beam.WindowInto(GlobalWindows(), trigger=AfterWatermark(), accumulation_mode=AccumulationMode.DISCARDING)
            | beam.GroupByKey()
            | beam.MapTuple(lambda k, rows: (k, *sorted(rows, key=lambda r: r[0] != "r")[0][1:]))
        )
        assert_that(applied, equal_to([(k, *v) for k, v in WORLD_LINKS.items()]), label="Applied")


@pytest.mark.parametrize("window_days, linked", [(14.0, False), (30.0, True)])
def test_old_entries_expire_by_watermark(window_days, linked):
    original = _article("x1", _story(51), 0.0)
    late_copy = _article("x2", _copy(_story(51), 52), 1.0)  # one day apart: within either window
    stream = (
        BeamTestStream()
        .add_elements([_timestamped(original, _T0)])
        .advance_watermark_to((_T0 + timedelta(days=15)).timestamp())
        .add_elements([_timestamped(late_copy, _T0 + timedelta(days=15, seconds=1))])
        .advance_watermark_to((_T0 + timedelta(days=15, seconds=60)).timestamp())
        .advance_watermark_to_infinity()
    )
    # With 14 days, x1's state expired when the watermark passed day 14, before x2 arrived
    # (batch would link them); with 30 days it is still held.
    expected = [("x1", None, None), ("x2", "x1", "near") if linked else ("x2", None, None)]
    with _streaming_pipeline() as p:
        articles, _ = p | stream | MarkDuplicates(window_days=window_days)
        assert_that(_link_rows(articles), equal_to(expected))


@pytest.mark.parametrize("dedup", [MarkDuplicates, MarkDuplicatesWithState, MarkDuplicatesInProcess])
@pytest.mark.parametrize("params", [dict(threshold=0.0), dict(threshold=1.5), dict(num_perm=1024, rows=2),
                                    dict(num_perm=2, rows=3)])
def test_unusable_parameters_are_refused(dedup, params):
    with pytest.raises(ValueError, match="threshold"):
        dedup(**params)
