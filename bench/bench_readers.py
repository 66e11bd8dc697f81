"""How should analysts read while the job writes? Measures the candidate designs side by side (issue 18).

    python bench/bench_readers.py --articles 100000 1000000 --out bench/results/readers.json

For each size it synthesises a private store (articles of ~3 KB of text,
0.7 mentions per article, 10% marked as copies) directly with Arrow, then:

(a) Parquet publication (sinks/publish.py): the first full export, then
    rounds of 200 new articles + 20 relinks each published incrementally
    (seconds, bytes written), a compaction of 48 small segments, disk use,
    and analyst query latency through the views against the native store;
(b) snapshots: CHECKPOINT, copy the store file, fsync, rename (what a
    snapshot every interval costs);
(c) a query endpoint owned by the job: the same queries on the job's own
    connection (its latency floor; it adds no disk and no copy).

Run by hand, never timed in tests. The machine is shared: the load average
is recorded with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from newswatch.sinks import publish  # noqa: E402
from newswatch.sinks.duckdb import DuckDBStore  # noqa: E402

CHUNK = 50_000
QUERIES = {
    "count_defection_reports":
        "SELECT count(*) FROM article_labels WHERE defection_report AND duplicate_of_url IS NULL",
    "latest_50_labels": "SELECT title, url, defectors FROM article_labels ORDER BY published_at DESC LIMIT 50",
    "one_article_text": "SELECT length(text) FROM articles WHERE article_id = 'a000000000001234'",
    "mentions_by_kind": "SELECT kind, modality, count(*) FROM mentions GROUP BY ALL",
}


def _pool(rng: np.random.Generator, size: int = 8 << 20) -> str:
    """A long stretch of Zipf-distributed words: slices of it compress like prose (about 3x)."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, rng.integers(2, 11))) for _ in range(20_000)]
    ranks = np.minimum(rng.zipf(1.15, size // 6), len(vocab)) - 1
    return " ".join(vocab[i] for i in ranks)[:size]


def _articles(start: int, n: int, pool: str, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    ids = [f"a{i:015d}" for i in range(start, start + n)]
    offsets = rng.integers(0, len(pool) - 3200, n)
    texts = [pool[o:o + int(2800 + o % 400)] for o in offsets]
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    times = [base + timedelta(seconds=int(i) * 30) for i in range(start, start + n)]
    dup = rng.random(n) < 0.1
    report = rng.random(n) < 0.05
    articles = pa.table({
        "article_id": ids,
        "url": [f"https://outlet{i % 97}.example/news/{i}" for i in range(start, start + n)],
        "feed_url": [f"https://outlet{i % 97}.example/rss" for i in range(start, start + n)],
        "source": [f"outlet{i % 97}" for i in range(start, start + n)],
        "title": [t[:80] for t in texts],
        "published_at": pa.array(times, pa.timestamp("us", "UTC")),
        "seen_at": pa.array(times, pa.timestamp("us", "UTC")),
        "stored_at": pa.array(times, pa.timestamp("us", "UTC")),
        "language": ["en"] * n,
        "text": texts,
        "content_hash": [hashlib.blake2b(t[:64].encode(), digest_size=8).hexdigest() for t in texts],
        "duplicate_of": [f"a{max(i - 5, 0):015d}" if d else None for i, d in zip(range(start, start + n), dup)],
        "duplicate_kind": ["near" if d else None for d in dup],
        "minhash": [rng.bytes(256) for _ in range(n)],
        "defection": report, "conscription": rng.random(n) < 0.05, "defection_report": report,
        "defectors": pa.array([int(x) if r else None for x, r in zip(rng.integers(1, 60, n), report)], pa.int32()),
    })
    has = rng.random(n) < 0.7
    m_ids = [a for a, h in zip(ids, has) if h]
    mentions = pa.table({
        "mention_id": [f"m{a}" for a in m_ids],
        "article_id": m_ids,
        "kind": ["defection"] * len(m_ids),
        "modality": ["report"] * len(m_ids),
        "sentence": [pool[j * 50:(j * 50) + 180] for j in range(len(m_ids))],
        "start_char": [0] * len(m_ids), "end_char": [180] * len(m_ids),
        "extractor_version": ["bench"] * len(m_ids),
    })
    return articles, mentions


def _insert(con, articles: pa.Table, mentions: pa.Table) -> None:
    con.register("a", articles)
    con.execute(f"INSERT INTO articles ({', '.join(articles.column_names)}) SELECT * FROM a")
    con.register("m", mentions)
    con.execute(f"INSERT INTO mentions ({', '.join(mentions.column_names)}) SELECT * FROM m")
    con.unregister("a")
    con.unregister("m")


def _du(path: str) -> int:
    """Bytes on disk under `path`, counting a hard-linked file once."""
    if os.path.isfile(path):
        return os.path.getsize(path) + (os.path.getsize(path + ".wal") if os.path.exists(path + ".wal") else 0)
    seen = {}
    for d, _, fs in os.walk(path):
        for f in fs:
            st = os.lstat(os.path.join(d, f))
            if not os.path.islink(os.path.join(d, f)):
                seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


def _written_since(root: str, since: float) -> int:
    """Bytes of the files under `root` written after `since` (what one publication wrote)."""
    total = 0
    for d, _, fs in os.walk(root):
        for f in fs:
            st = os.lstat(os.path.join(d, f))
            if not os.path.islink(os.path.join(d, f)) and st.st_mtime >= since - 0.01:
                total += st.st_size
    return total


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _query_times(path: str) -> dict[str, float]:
    """Best of three, in ms, on a read-only connection held across the runs."""
    con = duckdb.connect(path, read_only=True)
    try:
        return {name: round(min(_timed(lambda: con.execute(sql).fetchall())[0] for _ in range(3)) * 1000, 1)
                for name, sql in QUERIES.items()}
    finally:
        con.close()


def bench(n: int, workdir: str, rounds: int) -> dict:
    rng = np.random.default_rng(n)
    pool = _pool(rng)
    db = os.path.join(workdir, f"news-{n}.duckdb")
    store = DuckDBStore(publish.store_path(db))
    store.init()
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        with store.transaction() as con:
            _insert(con, *_articles(start, min(CHUNK, n - start), pool, rng))
    with store.writer() as con:
        con.execute("CHECKPOINT")
    out = {"articles": n, "synthesise_s": round(time.perf_counter() - started, 1),
           "store_bytes": _du(store.path)}
    with store.reader() as con:
        out["mentions"] = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
        out["text_bytes"] = con.execute("SELECT sum(strlen(text)) FROM articles").fetchone()[0]

    # (a) Parquet publication
    pub = publish.Publisher(db)
    first_s, _ = _timed(pub.publish_once)
    parquet_bytes = _du(publish.parquet_root(db))
    incremental = []
    for r in range(rounds):
        with store.transaction() as con:
            _insert(con, *_articles(n + r * 200, 200, pool, rng))
            con.execute("UPDATE articles SET duplicate_of = 'a000000000000001', duplicate_kind = 'near' "
                        f"WHERE article_id IN (SELECT article_id FROM articles USING SAMPLE 20 ROWS)")
        since = time.time()
        seconds, stats = _timed(pub.publish_once)
        incremental.append({"s": round(seconds, 3), "bytes_written": _written_since(publish.parquet_root(db), since),
                            "rows": stats.rows, "snapshots": stats.snapshots})
    compact_s, compacted = None, []
    for r in range(publish.MAX_SEGMENTS + 1):  # small segments until a compaction is due
        with store.transaction() as con:
            _insert(con, *_articles(n + 10_000_000 + r * 20, 20, pool, rng))
        seconds, stats = _timed(pub.publish_once)
        if stats.compacted:
            compact_s, compacted = seconds, stats.compacted
    out["a_parquet"] = {
        "first_full_export_s": round(first_s, 1),
        "parquet_bytes": parquet_bytes,
        "incremental_publish_s_median": float(np.median([x["s"] for x in incremental])),
        "incremental_publish_s_max": max(x["s"] for x in incremental),
        "incremental_rounds": incremental,
        "compaction_publish_s": compact_s, "compacted": compacted,
        "disk_store_plus_parquet_bytes": _du(store.path) + _du(publish.parquet_root(db)),
        "query_ms_views": _query_times(db),
    }
    # (c) the job's own connection: what an endpoint would answer from
    out["c_endpoint"] = {"query_ms_native": _query_times(store.path), "extra_disk_bytes": 0}
    # (b) snapshot: checkpoint + copy + fsync + rename
    snap = os.path.join(workdir, f"snap-{n}.duckdb")

    def snapshot():
        with store.writer() as con:
            con.execute("CHECKPOINT")
            shutil.copyfile(store.path, snap + ".tmp")
        fd = os.open(snap + ".tmp", os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        os.replace(snap + ".tmp", snap)

    times = [round(_timed(snapshot)[0], 2) for _ in range(2)]
    size = _du(snap)
    out["b_snapshot"] = {"snapshot_s": times, "bytes_per_snapshot": size,
                         "bytes_per_hour_at_60s": size * 60, "disk_store_plus_snapshot_bytes": _du(store.path) + size}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="bench/results/readers.json")
    parser.add_argument("--workdir", help="keep the files here (default: a temporary directory, removed)")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-readers-")
    results = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count(),
               "duckdb": duckdb.__version__, "runs": []}
    try:
        for n in args.articles:
            results["runs"].append(bench(n, workdir, args.rounds))
            print(json.dumps(results["runs"][-1], indent=1), flush=True)
    finally:
        results["load_average_after"] = os.getloadavg()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
