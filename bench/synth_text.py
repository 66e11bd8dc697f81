"""Synthetic news-like articles for benchmarks: pure, seeded, fast.

Articles are random sentences over an invented news vocabulary, grouped into
topics; articles on one topic share named entities and, now and then, a stock
background sentence, so independent same-topic articles overlap a little, as
real ones do. A known share are edited copies of an earlier article (new
headline, paragraph dropped or trimmed or swapped, small word edits, a
"Reporting by" tail), or verbatim re-posts.

    >>> arts = generate(1000, copy_share=0.1, seed=7)
    >>> sum(a.copy_of is not None for a in arts)
    100
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import NamedTuple, Optional

import numpy as np

_FUNCTION = (
    "the of and to in a on for that with by at from as was is said were has had it its their "
    "they he she after over about more than but not which who have been an into two three "
    "four this would could also including under since near during against while"
).split()
_GENERAL = (
    "government officials residents police soldiers army military forces troops village town "
    "district township region border camp office statement report reports week month year "
    "monday tuesday wednesday thursday friday saturday sunday morning night attack fighting "
    "clashes people families children students workers farmers traders leaders ministry "
    "minister spokesman spokeswoman council committee group groups members local national "
    "international aid food prices market road bridge river hospital school school's election "
    "vote law laws order orders decision plan plans talks meeting agreement ceasefire "
    "announced confirmed denied warned called urged arrested released killed wounded fled "
    "returned moved reached told added according least nearly about dozens hundreds thousands "
    "new old young senior former recent latest second third first last several many few "
    "public private security service services supply supplies fuel power water rain flood "
    "drought harvest rice prices exports imports trade company companies bank court judge "
    "case cases journalists media radio television online posts video photos witnesses"
).split()
_SYLLABLES = "ka la ma na pa ra sa ta wa ya zin thu kyi aung min htet win myo soe lwin nan mo".split()
_FIRST = "Aye Kyaw Thida Zaw Hla Nilar Tun Su Ko Ma Ei Lin".split()
_DESKS = "Nora Lee|Tomas Ruiz|Anan Chai|Mira Sol|Ken Oda|Ines Vale|Dara Moss|Pita Ro".split("|")
_T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


class SynthArticle(NamedTuple):
    """One synthetic article with its ground truth."""

    article_id: str
    title: str
    text: str  # headline line, then paragraphs separated by newlines
    published_at: Optional[str]
    seen_at: str
    topic: int
    copy_of: Optional[str]  # article_id of the original, for copies
    edit: Optional[str]  # 'exact' | 'light' | 'heavy' for copies


class _Topic(NamedTuple):
    names: list[str]
    stock: list[str]


_FUNCTION_P = 1.0 / np.arange(1, len(_FUNCTION) + 1) ** 1.1  # Zipf-like: "the" far ahead of "while"
_FUNCTION_P /= _FUNCTION_P.sum()
_FUNCTION_ARR = np.array(_FUNCTION, dtype=object)
_GENERAL_ARR = np.array(_GENERAL, dtype=object)


def _name(rng: np.random.Generator, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES, size=parts)).capitalize()


def _sentences(rng: np.random.Generator, topic: _Topic, lengths: np.ndarray) -> list[str]:
    """Random sentences of the given lengths; one batch of draws for all of them."""
    total = int(lengths.sum())
    kinds = rng.choice(3, size=total, p=(0.45, 0.4, 0.15))
    toks = np.where(
        kinds == 0, _FUNCTION_ARR[rng.choice(len(_FUNCTION), size=total, p=_FUNCTION_P)],
        np.where(kinds == 1, _GENERAL_ARR[rng.integers(0, len(_GENERAL), size=total)],
                 np.array(topic.names, dtype=object)[rng.integers(0, len(topic.names), size=total)]),
    ).tolist()
    commas = rng.random(len(lengths)) < 0.5
    out, at = [], 0
    for length, comma in zip(lengths.tolist(), commas.tolist()):
        words = toks[at:at + length]
        at += length
        words[0] = words[0].capitalize()
        if comma and length > 12:
            words[length // 2] += ","
        out.append(" ".join(words) + ".")
    return out


def _topic(rng: np.random.Generator) -> _Topic:
    names = [_name(rng, int(rng.integers(2, 4))) for _ in range(8)]
    names += [f"{rng.choice(_FIRST)} {_name(rng, 2)}" for _ in range(4)]
    return _Topic(names, _sentences(rng, _Topic(names, []), rng.integers(14, 24, size=4)))


def _title(rng: np.random.Generator, topic: _Topic) -> str:
    return _sentences(rng, topic, rng.integers(7, 12, size=1))[0][:-1]


def _body(rng: np.random.Generator, topic: _Topic, words: int) -> list[str]:
    lengths = rng.integers(10, 30, size=words // 10 + 1)
    lengths = lengths[: int(np.searchsorted(np.cumsum(lengths), words)) + 1]
    sentences = _sentences(rng, topic, lengths)
    sizes = rng.integers(2, 5, size=len(sentences))
    stock = rng.random(len(sentences)) < 0.12  # background line reused across the topic's stories
    paragraphs, at = [], 0
    for size, reuse in zip(sizes.tolist(), stock.tolist()):
        if at >= len(sentences):
            break
        chunk = sentences[at:at + size]
        at += size
        if reuse:
            chunk.insert(int(rng.integers(0, len(chunk) + 1)), topic.stock[int(rng.integers(0, 4))])
        paragraphs.append(" ".join(chunk))
    return paragraphs


def _edit_words(rng: np.random.Generator, paragraphs: list[str], edits: int) -> list[str]:
    out = list(paragraphs)
    for _ in range(edits):
        i = int(rng.integers(0, len(out)))
        toks = out[i].split()
        toks[int(rng.integers(0, len(toks)))] = str(rng.choice(_GENERAL))
        out[i] = " ".join(toks)
    return out


def _copy(rng: np.random.Generator, paragraphs: list[str], topic: _Topic, heavy: bool) -> tuple[str, list[str]]:
    out = list(paragraphs)
    drop = round(len(out) * (rng.uniform(0.15, 0.35) if heavy else rng.uniform(0.0, 0.12)))
    for _ in range(min(drop, len(out) - 2)):
        out.pop(int(rng.integers(1, len(out))))
    i = int(rng.integers(0, len(out)))
    sentences = out[i].split(". ")
    if len(sentences) > 1:  # trim a paragraph's last sentence
        out[i] = ". ".join(sentences[:-1]) + "."
    if rng.random() < 0.3 and len(out) > 2:
        j = int(rng.integers(0, len(out) - 1))
        out[j], out[j + 1] = out[j + 1], out[j]
    out = _edit_words(rng, out, int(rng.integers(6, 13)) if heavy else int(rng.integers(2, 7)))
    desk = rng.choice(_DESKS, size=2, replace=False)
    out.append(f"Reporting by {desk[0]}; editing by {desk[1]}.")
    return _title(rng, topic), out


def generate(n: int, copy_share: float = 0.1, seed: int = 0, days: float = 30.0,
             per_topic: int = 20, exact_share: float = 0.1, heavy_share: float = 0.3) -> list[SynthArticle]:
    """``n`` articles, ``round(n * copy_share)`` of them copies, in publication order."""
    rng = np.random.default_rng(seed)
    n_copies = int(round(n * copy_share))
    n_orig = n - n_copies
    topics = [_topic(rng) for _ in range(max(1, n_orig // per_topic))]
    starts = np.sort(rng.uniform(0, days * 86400, size=n_orig))
    originals = []
    for i, start in enumerate(starts):
        topic_no = int(rng.integers(0, len(topics)))
        topic = topics[topic_no]
        title = _title(rng, topic)
        originals.append((f"{seed:04x}{i:012x}", float(start), topic_no, title,
                          _body(rng, topic, int(rng.integers(400, 1201)))))
    rows = [(start, aid, topic_no, title, paras, None, None) for aid, start, topic_no, title, paras in originals]
    for c in range(n_copies):
        aid, start, topic_no, title, paras = originals[int(rng.integers(0, n_orig))]
        delay = float(rng.uniform(1800, 72 * 3600))
        roll = rng.random()
        if roll < exact_share:
            edit, new_title, new_paras = "exact", title, paras
        else:
            edit = "heavy" if roll < exact_share + heavy_share else "light"
            new_title, new_paras = _copy(rng, paras, topics[topic_no], edit == "heavy")
        rows.append((start + delay, f"{seed:04x}{n_orig + c:012x}", topic_no, new_title, new_paras, aid, edit))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for start, aid, topic_no, title, paras, copy_of, edit in rows:
        published = _T0 + timedelta(seconds=start)
        seen = published + timedelta(seconds=float(rng.uniform(30, 1200)))
        undated = copy_of is None and rng.random() < 0.01  # sorts by seen_at instead
        out.append(SynthArticle(aid, title, "\n".join([title] + paras),
                                None if undated else published.isoformat(), seen.isoformat(),
                                topic_no, copy_of, edit))
    return out
