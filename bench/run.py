"""Throughput bench: the same synthetic corpus through a plain loop and through Beam.

Generates (or reuses) a corpus with ``bench/generate.py``, serves it with
``StaticServer`` on loopback and runs, each as a fresh process tree writing a
fresh DuckDB file, with politeness off for the loopback host:

- ``loop``: the same per-article work (feed parse, robots check, fetch,
  extract and clean, MinHash, mentions) in a plain Python loop over 2 worker
  processes (``multiprocessing``, one feed per task); the parent does the LSH
  lookup and writes batches of 200 through the same ``DuckDBStore`` into one
  shared file. It runs as ``python bench/run.py loop ...``.
- ``direct``: ``newswatch run --runner=DirectRunner``: Beam's DirectRunner,
  which runs the FnApiRunner in process (after trying Prism).
- ``multiprocess``: the same with ``--direct_num_workers=2
  --direct_running_mode=multi_processing`` (Beam's own worker processes).
- ``inprocess``: ``newswatch run --direct_running_mode=in_memory``, the flag
  that keeps a run in one process.
- ``default``: ``newswatch run`` with no runner flags at all, as a user runs it
  (one worker process per core).

For each mode: wall time, articles/s, CPU seconds of the mode's process tree,
peak memory (RSS summed over the process tree, sampled from /proc), and the
stored rows checked against the manifest. The per-stage breakdown comes from
timers in the loop (wall and CPU seconds per stage, summed over both
workers). ``--repeat R`` interleaves R rounds and keeps each mode's fastest
correct run; ``--entry SCRIPT`` swaps in a diagnostic variant of the CLI.

    python bench/run.py --articles 10000 --out bench/results/10k.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (the sibling module, also a script)

MODES = ("loop", "direct", "multiprocess", "inprocess", "default")


# ---------------------------------------------------------------- process tree sampling


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, rss pages) for every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # gone since listdir
        fields = stat[stat.rindex(b")") + 2:].split()
        table[int(name)] = (int(fields[1]), int(fields[21]))
    return table


def tree_rss_bytes(root: int) -> tuple[int, int]:
    """(RSS of `root` plus all its descendants, number of processes)."""
    table = _proc_table()
    children = defaultdict(list)
    for pid, (ppid, _) in table.items():
        children[ppid].append(pid)
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
            count += 1
        todo.extend(children.get(pid, ()))
    return total * os.sysconf("SC_PAGE_SIZE"), count


class TreeSampler(threading.Thread):
    """Samples the RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, root: int, every_s: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.every_s = root, every_s
        self.peak_bytes, self.peak_processes, self.samples = 0, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss, count = tree_rss_bytes(self.root)
            self.peak_bytes = max(self.peak_bytes, rss)
            self.peak_processes = max(self.peak_processes, count)
            self.samples += 1
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# ---------------------------------------------------------------- machine


def machine_info() -> dict:
    """CPU, memory and software versions of this machine."""
    import apache_beam
    import duckdb
    import spacy
    import trafilatura

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "ram_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "beam": apache_beam.__version__,
        "duckdb": duckdb.__version__,
        "spacy": spacy.__version__,
        "trafilatura": trafilatura.__version__,
    }


# ---------------------------------------------------------------- the plain loop

# One per worker process of the loop's Pool, set by its initializer (the
# ordinary way to give multiprocessing workers heavy state).
_WORKER: Optional["_LoopWorker"] = None


class _LoopWorker:
    """Per-process state of the loop: config, HTTP client, spaCy pipeline, MinHasher."""

    def __init__(self, host_port: str):
        from newswatch.config import load_config
        from newswatch.transforms.dedup.core import MinHasher
        from newswatch.http.settings import HttpSettings
        from newswatch.transforms.mentions.step import build_nlp

        t0 = time.perf_counter()
        self.cfg = load_config(None, politeness={"host_delay_s": 0.0, "host_concurrency": 0})
        self.http = HttpSettings.from_config(self.cfg, [host_port])
        self.client = self.http.client()
        self.robots = None
        if self.http.robots:
            from newswatch.http.robots import RobotsPolicy

            self.robots = RobotsPolicy(self.client, max_bytes=self.http.robots_max_bytes)
        self.nlp = build_nlp(self.cfg.mentions.model or None)
        self.hasher = MinHasher()
        self.init_s = time.perf_counter() - t0

    def feed(self, feed_url: str) -> dict:
        """Everything one feed yields: enriched articles, errors, the poll, stage timings."""
        from newswatch.clock import now_iso
        from newswatch.records import EnrichedArticle, ErrorRecord, FeedRequest
        from newswatch.transforms.extract_text import page_to_article
        from newswatch.transforms.feeds import poll_feed
        from newswatch.transforms.fetch import fetch_page
        from newswatch.transforms.mentions.step import extract_article

        cfg, http = self.cfg, self.http
        clock = _StageClock()
        if self.init_s:
            clock.wall["worker_start"], self.init_s = self.init_s, 0.0
        outcome = poll_feed(self.client, FeedRequest(feed_url, None, None), http.feed_max_bytes,
                            cfg.feeds.max_items_per_feed, cfg.feeds.future_tolerance_s)
        clock.lap("feed_fetch_parse")
        enriched, errors = [], ([outcome.error] if outcome.error else []) + list(outcome.item_errors)
        for item in outcome.items:
            clock.lap("other")
            if self.robots is not None and item.feed_url not in http.robots_exempt_feeds:
                verdict = self.robots.check(item.url)
                if not verdict.allowed:
                    errors.append(ErrorRecord("fetch", item.url, item.feed_url, verdict.code, verdict.message,
                                              now_iso()))
                    continue
            page = fetch_page(self.client, item, http.article_max_bytes)  # one at a time: a plain loop
            clock.lap("fetch")
            if isinstance(page, ErrorRecord):
                errors.append(page)
                continue
            try:
                article = page_to_article(page, cfg.extract.min_words)
            except ValueError as exc:
                errors.append(ErrorRecord("extract", item.url, item.feed_url, "no_content", str(exc), now_iso()))
                continue
            clock.lap("extract_clean")
            article = article._replace(minhash=self.hasher.signature(article.text))
            clock.lap("minhash")
            mentions, labels = extract_article(self.nlp, article.article_id, article.text, article.title)
            enriched.append(EnrichedArticle(article, tuple(mentions), labels))
            clock.lap("mentions")
        clock.lap("other")
        return {"enriched": enriched, "errors": errors, "poll": outcome.poll, "wall": dict(clock.wall),
                "cpu": dict(clock.cpu)}


class _StageClock:
    """Wall and CPU seconds per stage, charged to whichever stage a lap ends."""

    def __init__(self):
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._t, self._c = time.perf_counter(), time.process_time()

    def lap(self, stage: str) -> None:
        t, c = time.perf_counter(), time.process_time()
        self.wall[stage] += t - self._t
        self.cpu[stage] += c - self._c
        self._t, self._c = t, c


def _loop_init(host_port: str) -> None:
    global _WORKER
    _WORKER = _LoopWorker(host_port)


def _loop_feed(feed_url: str) -> dict:
    return _WORKER.feed(feed_url)


class LoopDedup:
    """The loop's dedup: LSH buckets and content hashes, union-find, the earliest member is the original."""

    def __init__(self, threshold: float, window_s: float):
        self.threshold, self.window_s = threshold, window_s
        self.buckets: dict[bytes, list[str]] = defaultdict(list)
        self.info: dict[str, tuple] = {}  # id -> (order, signature, content hash)
        self.group: dict[str, list[str]] = {}  # id -> the (shared) member list of its component
        self.link: dict[str, Optional[str]] = {}

    def add(self, article) -> tuple[Optional[str], Optional[str], list]:
        """(duplicate_of, duplicate_kind, relinks of articles added before) for a new article."""
        from newswatch.records import Relink
        from newswatch.transforms.dedup.core import band_keys, epoch, estimate_jaccard, exact_key

        aid, sig = article.article_id, article.minhash
        seen = epoch(article.seen_at) or 0.0
        when = epoch(article.published_at) or seen
        self.info[aid] = ((when, seen, aid), sig, article.content_hash)
        self.group[aid] = [aid]
        exact = exact_key(article.content_hash)
        compared: set[str] = set()
        for key in [exact] + (band_keys(sig) if sig else []):
            for other in self.buckets[key]:
                if other in compared or self.group[other] is self.group[aid]:
                    continue
                compared.add(other)
                if abs(self.info[other][0][0] - when) > self.window_s:
                    continue
                if key is exact or estimate_jaccard(sig, self.info[other][1]) >= self.threshold:
                    self._union(aid, other)
            self.buckets[key].append(aid)
        members = self.group[aid]
        original = min(members, key=lambda m: self.info[m][0])
        relinks = []
        for m in members:
            new = None if m == original else original
            kind = None if new is None else ("exact" if self.info[m][2] == self.info[original][2] else "near")
            if m != aid and self.link[m] != new:
                relinks.append(Relink(m, new, kind))
            self.link[m] = new
        link = self.link[aid]
        return link, (None if link is None else ("exact" if self.info[aid][2] == self.info[link][2] else "near")), relinks

    def _union(self, a: str, b: str) -> None:
        big, small = sorted((self.group[a], self.group[b]), key=len, reverse=True)
        big.extend(small)
        for m in small:
            self.group[m] = big


def loop_main(argv: list[str]) -> int:
    """The plain loop as a process of its own: `run.py loop --feeds-file F --db DB --allow-host H:P`."""
    import multiprocessing

    parser = argparse.ArgumentParser(prog="run.py loop", description="The plain-loop baseline of the bench.")
    parser.add_argument("--feeds-file", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--allow-host", required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--stats", help="write stage timings here (JSON)")
    args = parser.parse_args(argv)

    from newswatch.config import load_config
    from newswatch.records import SinkRecord
    from newswatch.sinks.duckdb import DuckDBStore
    from newswatch.transforms.dedup.core import DEFAULT_THRESHOLD
    from newswatch.transforms.feeds import read_feed_list

    t_start = time.perf_counter()
    cfg = load_config(None)
    feeds = read_feed_list([args.feeds_file])
    store = DuckDBStore(args.db, cfg.sink.lock_timeout_s)
    store.init()
    dedup = LoopDedup(DEFAULT_THRESHOLD, cfg.dedup.window_days * 86400.0)
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    pending: list = []

    def flush() -> None:
        t, c = time.perf_counter(), time.process_time()
        stats = store.write(pending)
        counts["articles"] += len(stats.new_article_ids)
        wall["parent_duckdb_write"] += time.perf_counter() - t
        cpu["parent_duckdb_write"] += time.process_time() - c
        pending.clear()

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.processes, initializer=_loop_init, initargs=(args.allow_host,)) as pool:
        for out in pool.imap_unordered(_loop_feed, feeds):
            for stage, value in out["wall"].items():
                wall[stage] += value
            for stage, value in out["cpu"].items():
                cpu[stage] += value
            t, c = time.perf_counter(), time.process_time()
            pending.append(SinkRecord(poll=out["poll"]))
            pending.extend(SinkRecord(error=e) for e in out["errors"])
            counts["errors"] += len(out["errors"])
            for e in out["enriched"]:
                link, kind, relinks = dedup.add(e.article)
                article = e.article._replace(duplicate_of=link, duplicate_kind=kind)
                pending.append(SinkRecord(enriched=e._replace(article=article)))
                pending.extend(SinkRecord(relink=r) for r in relinks)
                counts["relinks"] += len(relinks)
            wall["parent_dedup_lsh"] += time.perf_counter() - t
            cpu["parent_dedup_lsh"] += time.process_time() - c
            if sum(1 for r in pending if r.enriched is not None) >= cfg.sink.batch_size:
                flush()
    if pending:
        flush()
    counts["feeds"] = len(feeds)
    if args.stats:
        Path(args.stats).write_text(json.dumps({
            "processes": args.processes, "total_wall_s": round(time.perf_counter() - t_start, 2),
            "wall_s": {k: round(v, 3) for k, v in wall.items()}, "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
            "counts": dict(counts)}, indent=1))
    print(f"loop: {counts['articles']} articles stored from {len(feeds)} feeds")
    return 0


# ---------------------------------------------------------------- code identity

_REPO = Path(__file__).resolve().parent.parent
_WATCHED = ("transforms/dedup/step.py", "transforms/dedup/core.py", "transforms/mentions/step.py", "transforms/mentions/rules.py",
            "transforms/mentions/components.py", "transforms/fetch.py", "transforms/extract_text.py",
            "transforms/feeds.py", "sinks/duckdb.py", "pipelines/graph.py", "pipelines/batch.py",
            "newswatch/http/client.py", "newswatch/http/guard.py", "newswatch/http/deadline.py")


def code_identity() -> dict:
    """Git HEAD plus short content hashes of the source a mode ran (the tree may have local edits)."""
    import hashlib

    head = (_REPO / ".git" / "HEAD").read_text().strip() if (_REPO / ".git" / "HEAD").exists() else ""
    if head.startswith("ref: "):
        ref = _REPO / ".git" / head[5:]
        head = ref.read_text().strip() if ref.exists() else head
    files = {name: hashlib.sha1((_REPO / name).read_bytes()).hexdigest()[:10]
             for name in _WATCHED if (_REPO / name).exists()}
    return {"git_head": head[:12], "files": files}


# ---------------------------------------------------------------- checking the stored rows


def check_db(db: str, manifest: dict) -> dict:
    """Compare what a mode stored with the manifest: counts, duplicate links, defection labels."""
    from newswatch.sinks.duckdb import DuckDBStore

    with DuckDBStore(db).reader() as con:
        rows = con.execute(
            "SELECT article_id, url, duplicate_of, defection_report, defectors, epoch(stored_at) FROM articles"
        ).fetchall()
        errors = con.execute("SELECT stage, code, count(*) FROM errors GROUP BY ALL ORDER BY 3 DESC").fetchall()
        mentions = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
    path_of = {aid: urlsplit(url).path for aid, url, *_ in rows}
    stored = {urlsplit(url).path: (path_of.get(dup), report, count) for _, url, dup, report, count, _ in rows}
    truth = {a["path"]: a for a in manifest["articles"]}
    path_by_id = {a["id"]: a["path"] for a in manifest["articles"]}
    expected_links = {a["path"]: path_by_id[a["duplicate_of"]] for a in manifest["articles"] if a["duplicate_of"]}
    found_links = {p: v[0] for p, v in stored.items() if v[0] is not None}
    correct = sum(1 for p, q in expected_links.items() if found_links.get(p) == q)
    reports = [a for a in manifest["articles"] if a["defection_report"] and a["path"] in stored]
    stamps = sorted(r[5] for r in rows)
    return {
        "stored": len(rows),
        "expected": len(manifest["articles"]),
        "missing": len(set(truth) - set(stored)),
        "mentions": mentions,
        "errors": [list(e) for e in errors],
        "duplicates_expected": len(expected_links),
        "duplicates_found": correct,
        "duplicate_links_wrong": len(found_links) - correct,
        "defection_reports_expected": len(reports),
        "defection_reports_found": sum(1 for a in reports if stored[a["path"]][1]),
        "defector_counts_equal": sum(1 for a in reports if stored[a["path"]][2] == a["defectors"]),
        "store_span_s": round(stamps[-1] - stamps[0], 2) if stamps else None,
        "ok": len(rows) == len(manifest["articles"]),
    }


# ---------------------------------------------------------------- running one mode


def mode_command(mode: str, feeds_file: str, db: str, host_port: str, stats: str,
                 beam_flags: tuple[str, ...] = (), entry: Optional[str] = None) -> list[str]:
    """The exact command line a mode runs."""
    if mode == "loop":
        return [sys.executable, str(Path(__file__).resolve()), "loop", "--feeds-file", feeds_file,
                "--db", db, "--allow-host", host_port, "--processes", "2", "--stats", stats]
    cli = [sys.executable, entry] if entry else [sys.executable, "-m", "newswatch.cli"]
    cmd = [*cli, "run", "--feeds", feeds_file, "--db", db,
           "--allow-host", host_port, "--host-delay", "0", "--host-concurrency", "0"]
    if mode in ("direct", "multiprocess"):  # `default`: no runner flags at all, what a user gets
        cmd.append("--runner=DirectRunner")
    if mode == "inprocess":
        cmd.append("--direct_running_mode=in_memory")
    if mode == "multiprocess":
        cmd += ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    return cmd + list(beam_flags)


def run_mode(mode: str, workdir: Path, feeds_file: str, host_port: str, manifest: dict, timeout_s: float,
             beam_flags: tuple[str, ...] = (), entry: Optional[str] = None) -> dict:
    """Run one mode as a fresh process tree on a fresh database; measure and check it."""
    from newswatch.sinks.publish import job_dir

    db = workdir / f"{mode}.duckdb"
    for leftover in (db, Path(f"{db}.wal")):
        leftover.unlink(missing_ok=True)
    # The job's private store lives beside the analyst file: left over, it
    # would hold every article already and the next run would fetch nothing.
    shutil.rmtree(job_dir(str(db)), ignore_errors=True)
    stats = workdir / f"{mode}-stages.json"
    cmd = mode_command(mode, feeds_file, str(db), host_port, str(stats), beam_flags, entry)
    code = code_identity()
    load_before = os.getloadavg()[0]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    # Own session: the whole tree (Beam's worker processes too) can be stopped at once.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:  # interrupted: leave no workers behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    wall = time.perf_counter() - t0
    sampler.stop()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    n = len(manifest["articles"])
    result = {
        "command": shlex.join(cmd),
        "code": code,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "articles_per_s": round(n / wall, 1),
        "cpu_s": round((after_children.ru_utime + after_children.ru_stime)
                       - (before_children.ru_utime + before_children.ru_stime), 2),
        "server_cpu_s": round((after_self.ru_utime + after_self.ru_stime)
                              - (before_self.ru_utime + before_self.ru_stime), 2),
        "peak_rss_mib": round(sampler.peak_bytes / 2**20, 1),
        "peak_processes": sampler.peak_processes,
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "stdout_tail": out.strip().splitlines()[-3:],
        "stderr_tail": [line for line in err.strip().splitlines() if "apitools" not in line][-5:],
    }
    result["cpu_ms_per_article"] = round(result["cpu_s"] / n * 1000, 1)
    result["check"] = check_db(str(db), manifest) if db.exists() else {"ok": False, "stored": 0}
    if stats.exists():
        result["stages"] = json.loads(stats.read_text())
    return result


def ensure_corpus(directory: Path, args) -> tuple[dict, float]:
    """Reuse the corpus in `directory` when its parameters match; otherwise write it."""
    wanted = {"articles": args.articles, "seed": args.seed, "dup_share": args.dup_share,
              "topic_share": args.topic_share}
    manifest = generate.load_manifest(directory)
    if manifest is not None and manifest.get("params") == wanted and manifest.get("version") == generate.MANIFEST_VERSION:
        return manifest, 0.0
    t0 = time.perf_counter()
    manifest = generate.generate(args.articles, directory, args.seed, args.dup_share, args.topic_share)
    return manifest, time.perf_counter() - t0


def summarise(results: dict) -> dict:
    """Top-level figures: the best Beam mode against the loop."""
    loop = results.get("loop")
    beam_modes = {m: r for m, r in results.items() if m != "loop" and r.get("check", {}).get("ok")}
    summary: dict = {"best_mode": None, "best_articles_per_s": None, "best_ratio_to_loop": None}
    for mode, r in results.items():
        if mode != "loop" and loop and loop.get("check", {}).get("ok"):
            r["ratio_to_loop"] = round(r["articles_per_s"] / loop["articles_per_s"], 3)
            # Less sensitive to other load on the machine than wall-clock rates.
            r["cpu_efficiency_vs_loop"] = round(loop["cpu_ms_per_article"] / r["cpu_ms_per_article"], 3)
    if beam_modes:
        best = max(beam_modes, key=lambda m: beam_modes[m]["articles_per_s"])
        summary.update(best_mode=best, best_articles_per_s=beam_modes[best]["articles_per_s"],
                       best_ratio_to_loop=beam_modes[best].get("ratio_to_loop"))
    peak = max((r["peak_rss_mib"] for r in results.values()), default=None)
    summary["targets"] = {
        "best_articles_per_s_ge_100": summary["best_articles_per_s"] is not None and summary["best_articles_per_s"] >= 100,
        "best_ratio_to_loop_ge_0.8": summary["best_ratio_to_loop"] is not None and summary["best_ratio_to_loop"] >= 0.8,
        "peak_rss_lt_2gib_all_modes": peak is not None and peak < 2048,
    }
    return summary


def print_report(report: dict) -> None:
    """Human-readable summary on stdout."""
    m = report["machine"]
    print(f"\n{report['articles']} articles on {m['nproc']} x {m['cpu_model']}, {m['ram_gib']} GiB, "
          f"Python {m['python']}, Beam {m['beam']}")
    print(f"{'mode':<13}{'art/s':>8}{'wall s':>9}{'cpu s':>8}{'ms cpu/art':>11}{'peak MiB':>10}{'ratio':>7}"
          f"{'cpu eff':>8}{'stored':>8}{'dups':>10}{'load':>6}")
    for mode, r in report["modes"].items():
        c = r["check"]
        dups = f"{c.get('duplicates_found', '-')}/{c.get('duplicates_expected', '-')}"
        print(f"{mode:<13}{r['articles_per_s']:>8}{r['wall_s']:>9}{r['cpu_s']:>8}{r['cpu_ms_per_article']:>11}"
              f"{r['peak_rss_mib']:>10}{r.get('ratio_to_loop', ''):>7}{r.get('cpu_efficiency_vs_loop', ''):>8}"
              f"{c.get('stored', 0):>8}{dups:>10}"
              f"{r['load_avg_1m_before']:>6}")
        if r["exit_code"] != 0 or not c.get("ok"):
            print(f"  !! exit {r['exit_code']}: {' | '.join(r['stderr_tail'])}")
    stages = report["modes"].get("loop", {}).get("stages")
    if stages:
        n = max(1, stages["counts"].get("articles", 1))
        print("loop per stage, ms per stored article (both workers summed), wall / cpu:")
        print("  " + ", ".join(f"{k} {v / n * 1000:.2f}/{stages['cpu_s'].get(k, 0) / n * 1000:.2f}"
                               for k, v in stages["wall_s"].items()))
    s = report["summary"]
    print(f"best Beam mode: {s['best_mode']} at {s['best_articles_per_s']} articles/s, "
          f"{s['best_ratio_to_loop']} of the loop; targets: {s['targets']}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure newswatch throughput on a synthetic corpus: plain loop vs DirectRunner modes.",
        epilog="example:\n  python bench/run.py --articles 10000 --out bench/results/10k.json --keep /tmp/bench10k",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, required=True, metavar="N")
    parser.add_argument("--out", required=True, metavar="FILE.json", help="where to write the results")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {','.join(MODES)}")
    parser.add_argument("--keep", metavar="DIR", help="corpus and databases here (reused when it matches); "
                        "default: a temporary directory removed at the end")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-share", type=float, default=0.1)
    parser.add_argument("--topic-share", type=float, default=0.3)
    parser.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS", help="per mode")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="run the modes R times, interleaved; each mode reports its fastest correct run")
    parser.add_argument("--entry", metavar="SCRIPT", help="diagnostics: run this script instead of "
                        "`python -m newswatch.cli` for the Beam modes (it must accept the same arguments)")
    parser.add_argument("--beam-flag", action="append", default=[], metavar="FLAG",
                        help="extra flag for both Beam modes (repeatable), e.g. --beam-flag=--max_cache_memory_usage_mb=0")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup in `finally` blocks
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")

    from newswatch.demo.server import StaticServer

    tmp = None
    if args.keep:
        workdir = Path(args.keep)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="newswatch-bench-")
        workdir = Path(tmp.name)
    try:
        manifest, gen_s = ensure_corpus(workdir, args)
        print(f"corpus: {len(manifest['articles'])} articles, {len(manifest['feeds'])} feeds in {workdir}"
              + (f" (generated in {gen_s:.1f} s)" if gen_s else " (reused)"), flush=True)
        report = {
            "command": shlex.join([sys.executable, *sys.argv]) if argv is None else shlex.join(argv),
            "started_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "articles": len(manifest["articles"]),
            "machine": machine_info(),
            "corpus": {**manifest["params"], "feeds": len(manifest["feeds"]),
                       "page_mb": round(manifest["page_bytes"] / 1e6, 1), "generate_s": round(gen_s, 2),
                       "mean_words": round(sum(a["words"] for a in manifest["articles"]) / len(manifest["articles"]))},
            "notes": {
                "loop": "2 worker processes (multiprocessing spawn, one feed per task) do feed parse, fetch, "
                        "extract+clean, MinHash and mentions; the parent does the LSH lookup and writes "
                        "batches of 200 through DuckDBStore into one shared file",
                "stages": "loop timers: wall and CPU (process_time) seconds per stage, summed over both workers; "
                          "parent_* stages run in the loop's parent process",
                "memory": "peak of the summed RSS of the mode's process tree, sampled every 0.25 s from /proc",
                "cpu_s": "user+system CPU of the mode's process tree (getrusage RUSAGE_CHILDREN)",
                "server": "StaticServer runs in the bench process; its CPU is server_cpu_s, not in cpu_s",
            },
            "modes": {},
        }
        with generate_server(StaticServer, workdir) as server:
            feeds_file = workdir / "feeds.txt"
            feeds_file.write_text("".join(f"{server.base_url}{f['path']}\n" for f in manifest["feeds"]))
            runs: dict[str, list[dict]] = {mode: [] for mode in modes}
            for round_no in range(args.repeat):
                for mode in modes:  # interleaved, so a busy spell on a shared machine hits every mode
                    print(f"running {mode} (round {round_no + 1}/{args.repeat}) ...", flush=True)
                    result = run_mode(mode, workdir, str(feeds_file), server.host_port, manifest, args.timeout,
                                      tuple(args.beam_flag), args.entry)
                    runs[mode].append(result)
                    print(f"  {mode}: {result['articles_per_s']} articles/s, {result['wall_s']} s, "
                          f"peak {result['peak_rss_mib']} MiB, stored {result['check'].get('stored')}", flush=True)
            for mode, results in runs.items():
                best = max(results, key=lambda r: (r["check"].get("ok", False), r["articles_per_s"]))
                report["modes"][mode] = {
                    **best,
                    "runs_articles_per_s": [r["articles_per_s"] for r in results],
                    # every run's figures with the machine's load around it (a shared machine)
                    "runs": [{k: r[k] for k in ("articles_per_s", "wall_s", "cpu_s", "cpu_ms_per_article",
                                                "peak_rss_mib", "load_avg_1m_before", "load_avg_1m_after")}
                             | {"stored": r["check"].get("stored")} for r in results],
                }
        report["summary"] = summarise(report["modes"])
        report["best_articles_per_s"] = report["summary"]["best_articles_per_s"]
        report["best_ratio_to_loop"] = report["summary"]["best_ratio_to_loop"]
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))
        print_report(report)
        print(f"wrote {args.out}")
        return 0 if all(r["check"].get("ok") for r in report["modes"].values()) else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


def generate_server(server_cls, workdir: Path):
    """The corpus's static server, rewriting the placeholder base to its own address."""
    import http.server

    # The stdlib server listens with a backlog of 5: more simultaneous connects
    # (concurrent fetches) overflow it and the kernel's SYN retry stalls them 1 s.
    http.server.ThreadingHTTPServer.request_queue_size = 1024
    return server_cls(workdir / "site", base_placeholder=generate.BASE_PLACEHOLDER)


if __name__ == "__main__":
    sys.exit(loop_main(sys.argv[2:]) if sys.argv[1:2] == ["loop"] else main())
