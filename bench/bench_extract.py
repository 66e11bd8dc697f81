"""English extraction speed in words per CPU second on one core (issue 13 asks for >= 50k/s).

Times :func:`~newswatch.transforms.mentions.step.extract_article` (spaCy pass, rules, labels) over
real-style texts: the seed articles and the corpus sources in ``../shared`` when present, the
article fixtures in ``tests/fixtures/mentions``, and any text files or ``*.jsonl`` fixture files
given on the command line (for example a private batch of real articles). Best of N rounds.

    .venv/bin/python bench/bench_extract.py [--rounds 6] [--only] [FILE_OR_GLOB ...]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time
from pathlib import Path

from newswatch.transforms.mentions.step import build_nlp, extract_article

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _texts(patterns: list[str], only: bool = False) -> list[str]:
    paths = [] if only else sorted(glob.glob(str(SHARED / "seeds" / "*.txt"))) + sorted(
        glob.glob(str(SHARED / "corpus" / "_build" / "articles" / "*.txt"))) + sorted(
        glob.glob(str(REPO / "tests" / "fixtures" / "mentions" / "*.jsonl")))
    for pattern in patterns:
        paths += sorted(glob.glob(pattern))
    texts: list[str] = []
    for path in paths:
        if path.endswith(".jsonl"):
            texts += [json.loads(line)["text"] for line in Path(path).read_text(encoding="utf-8").splitlines()
                      if line.strip()]
        else:
            texts.append(Path(path).read_text(encoding="utf-8"))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help="more text files, globs or *.jsonl fixture files")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--only", action="store_true",
                        help="time only the files given, without the seeds, corpus sources and fixtures")
    args = parser.parse_args()
    texts = _texts(args.paths, args.only)
    nlp = build_nlp()
    words = sum(len(t.split()) for t in texts)
    best = float("inf")
    for _ in range(args.rounds):
        start = time.process_time()
        for i, text in enumerate(texts):
            extract_article(nlp, str(i), text, None)
        best = min(best, time.process_time() - start)
    print(f"{len(texts)} texts, {words} words: best of {args.rounds} {best:.3f} s CPU, {words / best:,.0f} words/s")
    print(f"load average {os.getloadavg()[0]:.2f} (shared machine)")


if __name__ == "__main__":
    main()
