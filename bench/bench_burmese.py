"""Burmese extraction speed in syllables per second on one core (issue 16 asks for >= 20k/s).

Reads the Burmese test pages' texts (tests/fixtures/burmese/articles.py), repeats them
to about 200k syllables and times: Zawgyi detection + conversion, the Burmese rules
alone, and the whole ``extract_article`` (English spaCy pass + Burmese rules + labels).

    .venv/bin/python bench/bench_burmese.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from myanmar.converter import convert

from newswatch.transforms.mentions.burmese import burmese_mentions
from newswatch.transforms.shared.burmese_text import syllable_count, to_unicode
from newswatch.transforms.mentions.step import build_nlp, extract_article

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "burmese"))
from articles import ARTICLES  # noqa: E402


def main() -> None:
    texts = ["\n".join([a["title"]] + a["paragraphs"]) for a in ARTICLES]
    per_round = sum(syllable_count(t) for t in texts)
    rounds = max(1, 200_000 // per_round)
    zawgyi = [convert(t, "unicode", "zawgyi") for t in texts]
    nlp = build_nlp()
    total = per_round * rounds
    for name, run in (
        ("zawgyi detect+convert", lambda: [to_unicode(t) for t in zawgyi]),
        ("burmese rules", lambda: [burmese_mentions(t) for t in texts]),
        ("extract_article (all)", lambda: [extract_article(nlp, "a", t, None) for t in texts]),
    ):
        start = time.process_time()
        for _ in range(rounds):
            run()
        seconds = time.process_time() - start
        print(f"{name:24s} {total:>8d} syllables  {seconds:6.2f} s CPU  {total / seconds:>10,.0f} syllables/s")
    print(f"load average {os.getloadavg()[0]:.2f} (shared machine)")


if __name__ == "__main__":
    main()
