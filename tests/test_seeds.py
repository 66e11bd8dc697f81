"""The five real seed articles in ../shared/seeds come out with the labels their README gives.

They are not ours and are never copied into the repository: the test reads them where they
are and skips when ../shared is absent. Each text goes through the same article-level
labelling as the pipeline (:func:`~newswatch.transforms.mentions.step.extract_article`).
"""

from pathlib import Path

import pytest

from newswatch.transforms.mentions.step import build_nlp, extract_article

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

# file -> (defection, conscription, defection_report, defectors, weapons), from ../shared/seeds/README.md
EXPECTED = {
    "000_00e3c816fe8c9889.txt": (True, False, True, 64, 44),
    "001_0cddb9383b0f6ff7.txt": (True, False, True, 64, None),
    "002_6626cb12755be356.txt": (True, True, False, None, None),
    "003_7579f7245541d155.txt": (True, False, True, 14000, None),
    "004_a824d340559a6dc8.txt": (True, False, True, 8000, None),
}
WITH_HEADLINE = {"004_a824d340559a6dc8.txt"}  # the others start with body text

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds")


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_article_labels(nlp, name):
    text = (SEEDS / name).read_text(encoding="utf-8")
    title = text.split("\n", 1)[0].strip() if name in WITH_HEADLINE else None
    _, labels = extract_article(nlp, name, text, title)
    got = (labels.defection, labels.conscription, labels.defection_report, labels.defectors, labels.weapons)
    assert got == EXPECTED[name]
