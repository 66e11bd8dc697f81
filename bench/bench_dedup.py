"""Benchmark transforms.dedup: throughput, state memory and precision/recall.

Synthetic mode generates articles with a known share of edited copies
(bench/synth_text.py) and runs the in-process twin ``mark_duplicates`` and,
up to ``--beam-max`` articles, the ``MarkDuplicates`` composite on the
DirectRunner (batch); corpus mode measures the Jaccard table behind the
threshold and checks the dev corpus against gold.jsonl.

    python bench/bench_dedup.py --articles 10000 --copy-share 0.1 --out bench-10k.json
    python bench/bench_dedup.py --corpus ../shared/corpus --out corpus.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
import tracemalloc
import unicodedata
from collections import defaultdict
from pathlib import Path

import apache_beam as beam
from apache_beam import coders

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_text  # noqa: E402

from newswatch.records import Article  # noqa: E402
from newswatch.transforms.dedup import step as dedup, stream as dedup_stream  # noqa: E402
from newswatch.transforms.dedup import core  # noqa: E402
from newswatch.transforms.shared.canonical import content_hash  # noqa: E402


def _machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "beam": beam.__version__}


def _to_article(s: synth_text.SynthArticle) -> Article:
    return Article(s.article_id, f"http://synth.test/{s.article_id}", "http://synth.test/feed", "synth", s.title,
                   None, s.published_at, "page" if s.published_at else None, s.seen_at, s.seen_at, "en", s.text,
                   content_hash(s.text), None, None, None)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _quality(links: dict, truth: dict) -> dict:
    """Pairwise precision/recall of duplicate_of links against the generator's ground truth."""
    predicted = {k: v for k, v in links.items() if v}
    correct = sum(1 for k, v in predicted.items() if truth.get(k) == v)
    return {
        "predicted_links": len(predicted), "true_links": len(truth), "correct": correct,
        "precision": correct / len(predicted) if predicted else 1.0,
        "recall": correct / len(truth) if truth else 1.0,
    }


def _recall_by_bucket(links: dict, truth: dict, true_j: dict) -> dict:
    """Copies found, per 0.05-wide bucket of their true Jaccard with the original."""
    found, total = defaultdict(int), defaultdict(int)
    for copy, original in truth.items():
        bucket = f"{min(int(true_j[copy] * 20) / 20, 0.95):.2f}"
        total[bucket] += 1
        found[bucket] += links.get(copy) == original
    return {b: f"{found[b]}/{total[b]}" for b in sorted(total)}


def _signing_speed(texts: list[str], repeats: int = 3) -> dict:
    """CPU ms/article (best of ``repeats``) for our numpy MinHasher and for datasketch's
    update_batch with xxhash over the same 5-shingles (shingling included in both)."""
    from datasketch import MinHash
    import xxhash

    hasher = core.MinHasher()

    def ours(text):
        hasher.signature(text)

    def theirs(text):
        toks = core.words(text)
        grams = [" ".join(toks[i:i + 5]).encode() for i in range(max(1, len(toks) - 4))]
        sketch = MinHash(num_perm=core.DEFAULT_NUM_PERM, seed=1, hashfunc=xxhash.xxh32_intdigest)
        sketch.update_batch(grams)

    best = {}
    for name, fn in (("numpy_ms", ours), ("datasketch_ms", theirs)):
        runs = []
        for _ in range(repeats):
            start = time.process_time()
            for text in texts:
                fn(text)
            runs.append(time.process_time() - start)
        best[name] = 1e3 * min(runs) / len(texts)
    return {"articles": len(texts), "mean_words": sum(len(t.split()) for t in texts) / len(texts), **best}


def _state_bytes(articles: list[Article], marked: list[Article]) -> dict:
    """Bytes a runner holds per article while it is inside the window, encoded with the steps' coders."""
    pickle = coders.PickleCoder()
    window_s = 14 * 86400.0
    band = confirm = settle = 0
    clusters = core.Clusters()
    for article, out in zip(articles, marked):
        meta = core.article_meta(article, 0.0, window_s)
        entry = len(dedup_stream._ENTRY_CODER.encode(dedup_stream._entry(meta)))
        keys = [core.exact_key(article.content_hash)] + (core.band_keys(out.minhash) if out.minhash else [])
        band += sum(len(k) + entry for k in keys)
        if out.minhash:
            confirm += len(pickle.encode((meta, out.minhash))) + 9  # + expire_at varint
        settle += len(pickle.encode((out.duplicate_of,))) + 18  # published link + two timer times
        if out.duplicate_of:
            for mid in (article.article_id, out.duplicate_of):
                clusters.add(meta if mid == article.article_id else meta._replace(article_id=mid))
            clusters.union(article.article_id, out.duplicate_of)
    resolve = len(pickle.encode(clusters))
    n = len(articles)
    per = {"band_index": band / n, "confirm": confirm / n, "resolve": resolve / n, "settle": settle / n}
    per["total"] = sum(per.values())
    return {"bytes_per_article": per, "mb_per_100k": {k: v * 1e5 / 1e6 for k, v in per.items()},
            "note": "encoded values plus keys; runner overhead (RocksDB, Dataflow) not included"}


def _heap_bytes(marked: list[Article]) -> dict:
    """Python heap of an in-memory index of the same data (DirectRunner-style state), via tracemalloc."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    buckets: dict[bytes, list] = defaultdict(list)
    signatures = {}
    for a in marked:
        meta = core.article_meta(a, 0.0, 14 * 86400.0)
        entry = dedup_stream._entry(meta)
        for key in [core.exact_key(a.content_hash)] + (core.band_keys(a.minhash) if a.minhash else []):
            buckets[key].append(entry)
        if a.minhash:
            signatures[a.article_id] = (meta, a.minhash)
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del buckets, signatures
    return {"bytes_per_article": held / len(marked), "mb_per_100k": held / len(marked) * 1e5 / 1e6}


def _run_beam(articles: list[Article], state_cache: bool = True) -> tuple[dict, list, tuple[float, float]]:
    """Run MarkDuplicates on the in-process DirectRunner; return links, relinks, (wall, cpu) seconds.

    ``state_cache=False`` switches off the SDK harness state cache, whose per-write object sizing
    (objsize walking every module's globals) dominates the DirectRunner's time on keyed state.
    """
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    cache_mb = worker_handlers.STATE_CACHE_SIZE_MB
    worker_handlers.STATE_CACHE_SIZE_MB = cache_mb if state_cache else 0  # in-memory mode has no option for it
    try:
        return _run_beam_once(articles)
    finally:
        worker_handlers.STATE_CACHE_SIZE_MB = cache_mb


def _run_beam_once(articles: list[Article]) -> tuple[dict, list, tuple[float, float]]:
    from apache_beam.options.pipeline_options import PipelineOptions

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        with beam.Pipeline(runner="DirectRunner", options=PipelineOptions(direct_running_mode="in_memory")) as p:
            marked, relinks = p | beam.Create(articles) | dedup.MarkDuplicates()
            _ = (marked
                 | "Rows" >> beam.Map(lambda a: json.dumps([a.article_id, a.duplicate_of, a.duplicate_kind]))
                 | "Write" >> beam.io.WriteToText(f"{tmp}/links", shard_name_template=""))
            _ = (relinks | "RelinkRows" >> beam.Map(lambda r: json.dumps(list(r)))
                 | "WriteRelinks" >> beam.io.WriteToText(f"{tmp}/relinks", shard_name_template=""))
        elapsed = (time.perf_counter() - start, time.process_time() - cpu)
        rows = [json.loads(line) for line in Path(f"{tmp}/links").read_text().splitlines()]
        relink_rows = Path(f"{tmp}/relinks").read_text().splitlines()
    return {r[0]: r[1] for r in rows}, relink_rows, elapsed


def synthetic(args) -> dict:
    start = time.perf_counter()
    synth = synth_text.generate(args.articles, args.copy_share, seed=args.seed)
    generated = time.perf_counter() - start
    articles = [_to_article(s) for s in synth]
    truth = {s.article_id: s.copy_of for s in synth if s.copy_of}
    by_id = {s.article_id: s for s in synth}
    true_j = {k: core.jaccard(core.shingles(by_id[k].text), core.shingles(by_id[v].text)) for k, v in truth.items()}

    start, cpu = time.perf_counter(), time.process_time()
    marked, relinks = core.mark_duplicates(articles)
    pure_s, pure_cpu = time.perf_counter() - start, time.process_time() - cpu
    links = {a.article_id: a.duplicate_of for a in marked}
    above = {k: v for k, v in truth.items() if true_j[k] >= core.DEFAULT_THRESHOLD}
    result = {
        "articles": len(articles), "copy_share": args.copy_share, "seed": args.seed, "machine": _machine(),
        "params": {"threshold": core.DEFAULT_THRESHOLD, "num_perm": core.DEFAULT_NUM_PERM,
                   "rows": core.DEFAULT_ROWS, "bands": core.DEFAULT_NUM_PERM // core.DEFAULT_ROWS,
                   "shingle_k": core.DEFAULT_SHINGLE, "window_days": 14.0},
        "generate_s": generated,
        "mean_words": sum(len(a.text.split()) for a in articles) / len(articles),
        "copies": {"total": len(truth), "true_jaccard_below_threshold": len(truth) - len(above),
                   "min_true_jaccard": min(true_j.values(), default=None)},
        "load_average_at_start": os.getloadavg()[0],
        "pure": {"seconds": pure_s, "articles_per_s": len(articles) / pure_s, "cpu_seconds": pure_cpu,
                 "articles_per_cpu_s": len(articles) / pure_cpu, "relinks": len(relinks),
                 "peak_rss_mb_after": _peak_rss_mb(),
                 **_quality(links, truth),
                 "recall_true_jaccard_ge_threshold": _quality({k: links[k] for k in above}, above)["recall"],
                 "recall_by_true_jaccard": _recall_by_bucket(links, truth, true_j)},
        "signing": _signing_speed([a.text for a in articles[:1000]]),
        "state": _state_bytes(articles, marked),
        "heap": _heap_bytes(marked),
    }
    for name, cache, limit in (("beam_direct_batch", True, args.beam_max),
                               ("beam_direct_batch_no_state_cache", False, args.beam_nocache_max)):
        if len(articles) > limit:
            result[name] = f"skipped: more than {limit} articles"
            continue
        beam_links, beam_relinks, (wall, cpu) = _run_beam(articles, state_cache=cache)
        result[name] = {
            "seconds": wall, "articles_per_s": len(articles) / wall, "cpu_seconds": cpu,
            "articles_per_cpu_s": len(articles) / cpu, "relinks": len(beam_relinks),
            "peak_rss_mb_after": _peak_rss_mb(),
            "same_links_as_pure": beam_links == links, **_quality(beam_links, truth),
        }
    return result


_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
_COPIES = [("d003", "d002"), ("d008", "d007"), ("d016", "d015"), ("d028", "d027"), ("d044", "d043"), ("d047", "d046")]
_SAME_EVENT = ("d040", "d041")


def _corpus_text(root: Path, url: str) -> str:
    import trafilatura

    body = (root / "site" / url.split("http://127.0.0.1:8765/", 1)[1]).read_bytes()
    match = _CHARSET.search(body[:4096])
    html = body.decode(match.group(1).decode() if match else "utf-8")
    text = trafilatura.extract(html, include_comments=False, fast=True, output_format="txt") or ""
    return unicodedata.normalize("NFC", text)


def corpus(args) -> dict:
    root = Path(args.corpus)
    gold = [json.loads(line) for line in (root / "gold.jsonl").read_text().splitlines() if line.strip()]
    texts = {g["id"]: _corpus_text(root, g["url"]) for g in gold}
    known = {frozenset(p) for p in _COPIES} | {frozenset(_SAME_EVENT)}
    table = {}
    for k in (3, 4, 5, 6):
        sets = {i: core.shingles(t, k) for i, t in texts.items()}
        row = {f"{a}->{b}": core.jaccard(sets[a], sets[b]) for a, b in _COPIES}
        row["d040~d041"] = core.jaccard(*(sets[i] for i in _SAME_EVENT))
        others = [(core.jaccard(sets[a], sets[b]), f"{a}~{b}")
                  for a, b in itertools.combinations(sorted(texts), 2) if frozenset((a, b)) not in known]
        row["max_other"], row["max_other_pair"] = max(others)
        row["other_pairs"] = len(others)
        table[f"k={k}"] = row
    hasher = core.MinHasher()
    sigs = {i: hasher.signature(t) for i, t in texts.items()}
    estimates = {f"{a}->{b}": core.estimate_jaccard(sigs[a], sigs[b]) for a, b in _COPIES + [_SAME_EVENT]}
    articles = []
    for g in gold:
        published = f"{g['published']}T06:00:00+00:00" if g["published"] else None
        articles.append(Article(g["id"], g["url"], "feed", g["source"], g["title"], None, published, None,
                                "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00", "en", texts[g["id"]],
                                content_hash(texts[g["id"]]), None, None, None))
    truth = {g["id"]: g["duplicate_of"] for g in gold if g["duplicate_of"]}
    marked, _ = core.mark_duplicates(articles)
    beam_links, _, beam_s = _run_beam(articles)
    return {
        "machine": _machine(), "jaccard": table, "estimated_k5_128perm": estimates,
        "pure": _quality({a.article_id: a.duplicate_of for a in marked}, truth),
        "beam_direct_batch": {**_quality(beam_links, truth), "seconds": beam_s[0], "cpu_seconds": beam_s[1]},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python bench/bench_dedup.py --articles 10000 --out b.json")
    parser.add_argument("--articles", type=int, default=10000, help="synthetic articles to generate")
    parser.add_argument("--copy-share", type=float, default=0.1, help="share of articles that are copies")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--beam-max", type=int, default=10000,
                        help="largest size also run on the DirectRunner as configured by default")
    parser.add_argument("--beam-nocache-max", type=int, default=100000,
                        help="largest size also run on the DirectRunner with its SDK state cache off")
    parser.add_argument("--corpus", help="corpus directory: measure the threshold table instead")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    result = corpus(args) if args.corpus else synthetic(args)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
