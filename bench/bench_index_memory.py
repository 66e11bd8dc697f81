"""Memory the batch dedup's single resolver holds: a LinkIndex over N articles.

Random signatures (no band shared, the worst case for bucket count), real-looking
ids and dates; tracemalloc counts what the index keeps.

    python bench/bench_index_memory.py --articles 50000
"""

from __future__ import annotations

import argparse
import hashlib
import tracemalloc

import numpy as np

from newswatch.transforms.dedup.core import LinkIndex


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: python bench/bench_index_memory.py --articles 50000")
    parser.add_argument("--articles", type=int, default=50000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    rows = []
    for i in range(args.articles):
        article_id = hashlib.sha256(str(i).encode()).hexdigest()
        rows.append((article_id, f"2026-11-{1 + i % 14:02d}T10:00:00+00:00", "2026-11-20T10:00:00+00:00",
                     hashlib.sha256(article_id.encode()).hexdigest(),
                     rng.integers(0, 2**32, 128, dtype=np.uint32).astype("<u4").tobytes()))
    tracemalloc.start()
    index = LinkIndex()
    for row in rows:
        index.add_new(*row)
    held, peak = tracemalloc.get_traced_memory()
    print(f"{args.articles} articles: the index holds {held / args.articles:,.0f} bytes per article "
          f"({held / 2**20:,.0f} MiB; peak {peak / 2**20:,.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
