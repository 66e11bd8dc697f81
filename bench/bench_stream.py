"""Streaming bench (issue 12): `newswatch stream` over 1,000 live feeds for a few minutes.

One loopback server (`tests/feed_farm.FeedFarm`, politeness off for it)
serves `--feeds` RSS feeds of one item each at the start. While the job runs,
`--changes-per-s` random feeds gain a new item every second. The job polls at
`--poll-interval` (default 300 s, so 1,000 feeds need 3.3 polls/s). Reported:

- polls/s: `feed_polls` rows over the run; per round (every feed's k-th
  poll) how long the round took; per feed the gap between two polls minus
  the poll interval (on schedule when it is about 0);
- feed change -> committed row: per new article, `stored_at` minus the time
  its feed changed (p50/p95/max), and the job's own part of it from the
  `poll_freshness` view (poll -> committed row);
- RSS of the job's process tree every `--sample-s`, and CPU seconds used;
- the load average of the (shared) machine before and after.

    python bench/bench_stream.py --feeds 1000 --duration 420 --out bench/results/stream_1000.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from run import machine_info, tree_rss_bytes  # noqa: E402  (sibling bench module)
from tests.feed_farm import FeedFarm  # noqa: E402


def _tree_cpu_s(root: int) -> float:
    """utime + stime of `root` and its live descendants (children reaped are not counted)."""
    total, todo, seen = 0.0, [root], set()
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(name))
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
        todo.extend(children.get(pid, []))
    return total


def _pct(values: list[float], q: float):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=420.0, help="seconds the job runs")
    ap.add_argument("--poll-interval", type=float, default=300.0)
    ap.add_argument("--changes-per-s", type=float, default=1.0, help="feeds that gain an item per second")
    ap.add_argument("--sample-s", type=float, default=5.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import duckdb

    workdir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    db = workdir / "stream.duckdb"
    load_before = os.getloadavg()
    rng = random.Random(3)
    changes: list[tuple[float, str]] = []
    with FeedFarm(feeds=args.feeds, items=(1, 1), hosts=1, seed=3) as farm:
        feeds_file = workdir / "feeds.txt"
        feeds_file.write_text("\n".join(farm.feed_urls) + "\n")
        cmd = [sys.executable, "-m", "newswatch.cli", "stream", "--feeds", str(feeds_file), "--db", str(db),
               "--poll-interval", str(args.poll_interval), "--allow-host", farm.allow_hosts[0],
               "--host-delay", "0", "--host-concurrency", "0"]
        started = time.time()
        job = subprocess.Popen(cmd, stdout=open(workdir / "job.log", "w"), stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONPATH=str(REPO)))
        samples = []
        halt = threading.Event()

        def change_feeds():
            credit = 0.0
            while not halt.wait(1.0):
                credit += args.changes_per_s
                while credit >= 1:
                    credit -= 1
                    url = rng.choice(farm.feed_urls)
                    changes.append((farm.add_items(url, 1), url))

        changer = threading.Thread(target=change_feeds, daemon=True)
        changer.start()
        while time.time() - started < args.duration:
            rss, procs = tree_rss_bytes(job.pid)
            samples.append({"t_s": round(time.time() - started, 1), "rss_mib": round(rss / 2**20, 1),
                            "processes": procs, "cpu_s": round(_tree_cpu_s(job.pid), 1),
                            "load1": os.getloadavg()[0]})
            if job.poll() is not None:
                break
            time.sleep(args.sample_s)
        halt.set()
        cpu_s = _tree_cpu_s(job.pid)
        job.send_signal(signal.SIGTERM)
        job.wait(timeout=60)
        wall_s = time.time() - started
        initial_paths = {f"/a/feed{f:04d}/0.html" for f in range(args.feeds)}

    con = duckdb.connect(str(db), read_only=True)
    try:
        polls = con.execute("SELECT feed_url, epoch(polled_at) FROM feed_polls ORDER BY 1, 2").fetchall()
        stored = dict(con.execute("SELECT url, epoch(stored_at) FROM articles").fetchall())
        fresh = [r[0] for r in con.execute(
            "SELECT max_seen_to_stored_s FROM poll_freshness WHERE new_articles > 0").fetchall()]
    finally:
        con.close()
    gaps, last = [], {}
    for url, at in polls:
        if url in last:
            gaps.append(at - last[url] - args.poll_interval)
        last[url] = at
    first_poll = min(at for _, at in polls)
    # Round k = every feed's k-th poll: how long a whole round took, and its rate.
    rounds: dict[int, list[float]] = {}
    nth: dict[str, int] = {}
    for url, at in polls:
        nth[url] = nth.get(url, 0) + 1
        rounds.setdefault(nth[url], []).append(at)
    round_stats = [
        {"round": k, "polls": len(ats), "took_s": round(max(ats) - min(ats), 1),
         "polls_per_s": round(len(ats) / max(max(ats) - min(ats), 1.0), 1)}
        for k, ats in sorted(rounds.items())
    ]
    # Change -> committed row, for changes whose feed had time to be polled again (a full interval + 10 s).
    latencies, missing = [], 0
    for changed, url in changes:
        if changed > started + args.duration - args.poll_interval - 10:
            continue
        name = url.rsplit("/", 1)[1].removesuffix(".xml")
        hits = [at - changed for u, at in stored.items() if f"/a/{name}/" in u and at >= changed]
        if hits:
            latencies.append(min(hits))
        else:
            missing += 1
    steady = [s for s in samples if s["t_s"] >= 60]
    report = {
        "bench": "bench/bench_stream.py",
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "shared_machine_load_avg": {"before": [round(x, 2) for x in load_before],
                                    "after": [round(x, 2) for x in os.getloadavg()]},
        "command": " ".join(cmd),
        "feeds": args.feeds, "poll_interval_s": args.poll_interval, "duration_s": round(wall_s, 1),
        "changes_per_s": args.changes_per_s, "changes": len(changes),
        "initial_articles_stored": len([u for u in stored if "/" + u.split("/", 3)[3] in initial_paths]),
        "articles_stored": len(stored),
        "polls": len(polls),
        "polls_per_s_mean_since_first_poll": round(len(polls) / (started + wall_s - first_poll), 2),
        "target_polls_per_s": round(args.feeds / args.poll_interval, 2),
        "poll_rounds": round_stats,
        "poll_gap_minus_interval_s": {"p50": _pct(gaps, 0.5), "p95": _pct(gaps, 0.95), "max": _pct(gaps, 1.0),
                                      "n": len(gaps)},
        "change_to_committed_s": {"p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95),
                                  "max": _pct(latencies, 1.0), "n": len(latencies), "not_stored": missing},
        "poll_to_committed_s_from_poll_freshness": {"p50": _pct(fresh, 0.5), "p95": _pct(fresh, 0.95),
                                                     "max": _pct(fresh, 1.0), "n": len(fresh)},
        "rss_mib": {"max": max(s["rss_mib"] for s in samples), "steady_max": max((s["rss_mib"] for s in steady),
                                                                                 default=None)},
        "cpu_s": round(cpu_s, 1), "cpu_share_of_one_core": round(cpu_s / wall_s, 2),
        "samples": samples,
    }
    text = json.dumps(report, indent=2)
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
