"""Per-request cost of SafeHttpClient against plain urllib3 on loopback.

Serves one small page with the demo's StaticServer and times N sequential
GETs with each client: wall and CPU (process_time) per request. Measures the
client's own overhead (deadline watch, address checks, body cap), not the
network.

    python bench/bench_http.py --requests 2000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import urllib3

from newswatch.demo.server import StaticServer
from newswatch.http.client import SafeHttpClient
from newswatch.http.request import FetchLimits


def _time(label: str, get, n: int) -> dict:
    get()  # connect and warm up outside the timing
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        get()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"client": label, "requests": n, "wall_ms_per_request": round(1000 * wall / n, 3),
            "cpu_ms_per_request": round(1000 * cpu / n, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: python bench/bench_http.py --requests 2000")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "page.html").write_text("<html><body><p>" + "word " * 800 + "</p></body></html>")
        with StaticServer(root) as server:
            url = f"{server.base_url}/page.html"
            host = url.split("/")[2]
            safe = SafeHttpClient(FetchLimits(), allow_hosts=[host])
            plain = urllib3.PoolManager()
            rows = [_time("urllib3.PoolManager", lambda: plain.request("GET", url).data, args.requests),
                    _time("SafeHttpClient", lambda: safe.get(url).body, args.requests)]
    for row in rows:
        print(f"{row['client']:22s} wall {row['wall_ms_per_request']:.3f} ms  cpu {row['cpu_ms_per_request']:.3f} ms")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
