"""Sentence and gazetteer spaCy components, and the loader for their pattern files.

Input: a ``Doc`` straight from the tokenizer of ``spacy.blank("en")``; output: the same
``Doc`` annotated for :mod:`~newswatch.transforms.mentions.rules`. Both components are
registered with ``@Language.factory`` and read data files in ``transforms/mentions/patterns/``
through :func:`load_patterns`:

- ``newswatch_sentences`` (:class:`SentenceRules`): sentence starts from punctuation and
  paragraph breaks (not after "Lt." or "No."), and a ``nw_boilerplate`` span group over the
  lines trafilatura keeps from page furniture ("READ MORE: ...").
- ``newswatch_gazetteer`` (:class:`Gazetteer`): span groups ``nw_places``, ``nw_orgs``,
  ``nw_countries`` and ``nw_ranks`` (``span.kb_id_`` is the canonical name) and the
  article's country in ``doc.user_data["nw_country"]``.

Example::

    nlp = spacy.blank("en")
    nlp.add_pipe("newswatch_sentences")
    nlp.add_pipe("newswatch_gazetteer")
    doc = nlp("Troops left Hpakant Township in Kachin State.\nREAD MORE: Army retakes town")
    [(s.text, s.kb_id_) for s in doc.spans["nw_places"]]
    # [('Hpakant Township', 'hpakant'), ('Kachin State', 'kachin state')]
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import json
import re
from collections import Counter
from typing import NamedTuple, Optional, Sequence

import numpy
from spacy.attrs import IS_PUNCT, IS_SPACE, SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

_PATTERN_FILES = ("triggers.jsonl", "modality.jsonl", "nouns.jsonl", "units.jsonl", "places.jsonl", "orgs.jsonl",
                  "countries.jsonl", "ranks.jsonl", "boilerplate.jsonl", "abbreviations.jsonl", "words.jsonl")


def _patterns_dir():
    return importlib.resources.files("newswatch.transforms.mentions") / "patterns"


def load_patterns(name: str) -> list[dict]:
    """Rows of one JSONL pattern file in ``transforms/mentions/patterns``."""
    with (_patterns_dir() / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def patterns_digest() -> str:
    """Short hash over every pattern file, so a rule change shows in the extractor version."""
    digest = hashlib.sha1()
    for name in _PATTERN_FILES + tuple(sorted(p.name for p in _patterns_dir().glob("my_*.jsonl"))):  # my_*: Burmese
        digest.update((_patterns_dir() / name).read_bytes())
    return digest.hexdigest()[:8]


_WORD_SETS: dict[str, frozenset[str]] = {}


def word_sets() -> dict[str, frozenset[str]]:
    """Named word lists the rules test tokens against ("modals", "report_verbs", ...), from words.jsonl."""
    if not _WORD_SETS:
        _WORD_SETS.update((row["set"], frozenset(row["words"])) for row in load_patterns("words.jsonl"))
    return _WORD_SETS


def load_noun_lexicon() -> dict[str, str]:
    """Lower-case noun -> category ('people', 'weapons', ...) from nouns.jsonl."""
    return {row["word"]: row["category"] for row in load_patterns("nouns.jsonl")}


def force_nouns() -> frozenset[str]:
    """Nouns that name an armed or security force or its members ("soldiers", "police", "battalion")."""
    return frozenset(row["word"] for row in load_patterns("nouns.jsonl") if row["force"])


def phrase_variants(pattern: str) -> set[str]:
    """A phrase with both straight and curly apostrophes."""
    return {pattern, pattern.replace("'", "’"), pattern.replace("’", "'")}


# --------------------------------------------------------------------------- sentences



_VERB_GOES_ON = frozenset("have has had were was are is will would defected deserted surrendered fled joined crossed".split())


def _hard_wrap(doc: Doc, i: int, j: int) -> bool:
    """A single line break inside a sentence of hard-wrapped text (old mail archives, plain-text wires): the line
    before is long and ends mid-sentence, and the next goes on in lower case ("About 20 soldiers / have deserted")."""
    if doc[i].text.count("\n") != 1 or i == 0 or doc[i - 1].is_punct:
        return False
    line = doc[i].idx - doc_text(doc).rfind("\n", 0, doc[i].idx) - 1
    if doc[j].text[:1].islower():
        # ("Eight Ethiopian soldiers / have defected to Eritrea": a short line whose verb comes on the next one)
        return line >= 45 or line >= 12 and doc[j].lower_ in _VERB_GOES_ON
    # "... attending military training in Shan / State East's Kengtung have deserted": in text wrapped throughout,
    # a line that stops mid-sentence goes on even when the next word is a name
    return line >= 60 and doc[j].text[:1].isupper() and _wrapped_throughout(doc)  # (Burmese has no case: no join)


def _wrapped_throughout(doc: Doc) -> bool:
    """Most long lines end mid-sentence: the text was hard-wrapped at a fixed width (computed once per document)."""
    if "nw_wrapped" not in doc.user_data:
        long = [line.rstrip() for line in doc_text(doc).split("\n") if len(line.rstrip()) >= 60]
        open_ended = sum(not line.endswith((".", "!", "?", ":", '"', "”", ")", "’", "'", "။", "၊")) for line in long)
        doc.user_data["nw_wrapped"] = len(long) >= 4 and open_ended * 2 >= len(long)
    return doc.user_data["nw_wrapped"]


class SentenceRules:
    """Sentence starts from punctuation and paragraph breaks, plus boilerplate-line spans."""

    def __init__(self, nlp: Language, name: str = "newswatch_sentences"):
        self.name = name
        self.abbreviations = frozenset(row["abbr"] for row in load_patterns("abbreviations.jsonl"))
        self.boilerplate = re.compile("|".join(f"(?:{row['regex']})" for row in load_patterns("boilerplate.jsonl")), re.I)

    def __call__(self, doc: Doc) -> Doc:
        starts, boilerplate = self.match(doc)
        self.set_annotations(doc, starts, boilerplate)
        return doc

    def match(self, doc: Doc) -> tuple[list[int], list[tuple[int, int]]]:
        """Token indices that start sentences, and character ranges of boilerplate lines."""
        n = len(doc)
        starts = [0] if n else []
        text = doc_text(doc)
        if n:
            flags = doc.to_array([IS_PUNCT, IS_SPACE])
            lower_starts = _caption_case(text)
            # only punctuation and whitespace tokens can end a sentence: skip the rest in C
            for i in numpy.flatnonzero(flags[:, 0] | flags[:, 1]).tolist():
                self._boundary_after(doc, int(i), starts, lower_starts)
        boilerplate = []
        offset = 0
        for line in text.split("\n"):
            if line.strip() and self.boilerplate.search(line):
                boilerplate.append((offset, offset + len(line)))
            offset += len(line) + 1
        return _cap_sentence_length(doc, sorted(set(starts))), boilerplate

    def _boundary_after(self, doc: Doc, i: int, starts: list[int], lower_starts: bool = False) -> None:
        """Add the start of the sentence that follows token ``i``, if one does."""
        n = len(doc)
        tok = doc[i]
        text = tok.text
        if tok.is_space:
            if "\n" in text:
                j = i + 1
                while j < n and doc[j].is_space:
                    j += 1
                if j < n and not _hard_wrap(doc, i, j):
                    starts.append(j)
            return
        if text not in (".", "!", "?", "…", "...", "?!", "!?"):
            return
        if text == "." and i > 0 and not doc[i - 1].whitespace_:
            prev = doc[i - 1].text
            if prev.lower() in self.abbreviations or (len(prev) == 1 and prev.isupper()):
                return
        j = i + 1
        while j < n and not doc[j - 1].whitespace_ and doc[j].text in ("”", '"', "’", "'", ")", "]", "»"):
            j += 1
        while j < n and doc[j].is_space and "\n" not in doc[j].text:
            j += 1
        if j < n and not doc[j].is_space:
            first = doc[j].text[0]
            if first.isupper() or first.isdigit() or first in "“\"‘'([" or (lower_starts and first.isalpha()):
                starts.append(j)

    def set_annotations(self, doc: Doc, starts: Sequence[int], boilerplate: Sequence[tuple[int, int]]) -> None:
        """Write sentence starts and the ``nw_boilerplate`` span group."""
        if len(doc):
            # one array write: setting token.is_sent_start one by one is quadratic in spaCy
            values = numpy.full((len(doc), 1), -1, dtype="int64")
            values[list(starts), 0] = 1
            doc.from_array([SENT_START], values.astype("uint64"))
        spans = [doc.char_span(s, e, alignment_mode="expand") for s, e in boilerplate]
        doc.spans["nw_boilerplate"] = [span for span in spans if span is not None]


_LOWER_AFTER_STOP = re.compile(r"[a-z]{2}[.!?] [a-z]")
_UPPER_AFTER_STOP = re.compile(r"[a-z]{2}[.!?] [A-Z]")


def _caption_case(text: str) -> bool:
    """Machine captions and transcripts in lower case: "... in loikaw. he was among ..." starts sentences too."""
    lower = len(_LOWER_AFTER_STOP.findall(text))
    return lower >= 3 and lower > 2 * len(_UPPER_AFTER_STOP.findall(text))


MAX_SENTENCE_TOKENS = 160  # longer "sentences" are lists or tables; cut them so rules stay linear


def _cap_sentence_length(doc: Doc, starts: list[int]) -> list[int]:
    """Add breaks inside runs longer than MAX_SENTENCE_TOKENS, after a comma or semicolon when possible."""
    out: list[int] = []
    bounds = starts + [len(doc)]
    for start, end in zip(bounds, bounds[1:]):
        out.append(start)
        while end - start > MAX_SENTENCE_TOKENS:
            cut = start + MAX_SENTENCE_TOKENS
            for j in range(cut, start + MAX_SENTENCE_TOKENS // 2, -1):
                if doc[j - 1].text in (",", ";", ":"):
                    cut = j
                    break
            out.append(cut)
            start = cut
    return out


@Language.factory("newswatch_sentences")
def make_sentence_rules(nlp: Language, name: str) -> SentenceRules:
    return SentenceRules(nlp, name)


def doc_text(doc: Doc) -> str:
    """The doc's text, kept in ``user_data``: ``Doc.text`` rebuilds it from every token on each access."""
    text = doc.user_data.get("nw_text")
    if text is None:
        text = doc.user_data["nw_text"] = doc.text
    return text


def boilerplate_ranges(doc: Doc) -> list[tuple[int, int]]:
    group = doc.spans["nw_boilerplate"] if "nw_boilerplate" in doc.spans else []
    return sorted((span.start_char, span.end_char) for span in group)


def in_ranges(ranges: Sequence[tuple[int, int]], pos: int) -> bool:
    k = bisect.bisect_right(ranges, (pos, float("inf"))) - 1
    return k >= 0 and ranges[k][0] <= pos < ranges[k][1]


# --------------------------------------------------------------------------- gazetteer

_LOCATIVE = frozenset("in of across throughout northern southern eastern western central north south east west upper "
                      "lower to from into near around within and northwestern northeastern southwestern southeastern "
                      "rural".split())
_NOT_PLACE_AFTER = frozenset("people peoples communities community fighters rebels forces force army resistance militia "
                             "militias groups group men women villagers ethnic armed national independence nationalities "
                             "party language refugees civilians youths leaders leader activists soldiers troops "
                             "'s ’s state".split())


_NOT_STATE_FORCE_BEFORE = frozenset("ethnic rebel rebels resistance revolutionary kachin karen karenni kokang ta'ang ta’ang "
                                    "chin shan wa mon rakhine arakan kayin kayah palaung people's people’s 's ’s "
                                    "insurgent guerrilla allied local".split())


_STATE_FORCES = frozenset({"military council", "Royal Thai Army", "Myanmar Police Force"})


class _GazEntry(NamedTuple):
    label: str  # PLACE | ORG | COUNTRY | RANK
    id: str
    country: Optional[str]  # ORG: only valid in articles about this country
    context: Optional[str]  # PLACE: 'locative' (only after "in", "northern", ...) or 'generic' (unlisted)
    weight: float  # COUNTRY: evidence weight
    ambiguous: bool  # RANK: needs a check ("a major offensive")
    home: Optional[str]  # ORG: naming it is evidence that the story is about this country


class Gazetteer:
    """Places, organisations, countries and ranks as span groups, with the article's country."""

    def __init__(self, nlp: Language, name: str = "newswatch_gazetteer"):
        self.name = name
        self.entries: list[_GazEntry] = []
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.media_words: frozenset[str] = frozenset()
        grouped: dict[tuple[_GazEntry, str], set[str]] = {}
        rows = [(row, "exact") for row in load_patterns("places.jsonl")]
        rows += [(row, row.get("case", "lower")) for row in load_patterns("orgs.jsonl")]
        rows += [(row, row.get("case", "exact")) for row in load_patterns("countries.jsonl")]
        rows += [(row, row.get("case", "lower")) for row in load_patterns("ranks.jsonl")]
        media = set()
        for row, case in rows:
            if row["label"] == "MEDIA_WORD":
                media.add(row["pattern"])
                continue
            entry = _GazEntry(row["label"], row["id"], row.get("country"), row.get("context"),
                              float(row.get("weight", 1.0)), bool(row.get("ambiguous", False)), row.get("home"))
            grouped.setdefault((entry, case), set()).update(phrase_variants(row["pattern"]))
        self.media_words = frozenset(media)
        for (entry, case), phrases in grouped.items():
            key = str(len(self.entries))
            self.entries.append(entry)
            matcher = self.exact if case == "exact" else self.lower
            matcher.add(key, [nlp.make_doc(p) for p in sorted(phrases)])
        self.anchor = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.anchor.add("TOWNSHIP", [nlp.make_doc("township")])
        self.anchor.add("VILLAGE", [nlp.make_doc("village")])

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list[tuple[_GazEntry, int, int]]:
        """All gazetteer hits (overlaps included), plus unlisted townships and villages."""
        strings = doc.vocab.strings
        hits = [(self.entries[int(strings[key])], s, e) for key, s, e in self.exact(doc)]
        hits += [(self.entries[int(strings[key])], s, e) for key, s, e in self.lower(doc)]
        for key, s, e in self.anchor(doc):
            generic = self._generic_place(doc, strings[key], s)
            if generic is not None:
                hits.append(generic)
        return hits

    @staticmethod
    def _generic_place(doc: Doc, anchor: str, i: int) -> Optional[tuple[_GazEntry, int, int]]:
        """'Kyauk Ta Township' or 'the village of Ywa Thit' for names the gazetteer lacks."""
        if anchor == "TOWNSHIP":
            s = i
            while s > 0 and i - s < 3 and doc[s - 1].is_title and doc[s - 1].is_alpha and not doc[s - 1].is_stop:
                s -= 1
            if s < i:
                return _GazEntry("PLACE", doc[s:i].text.lower(), None, "generic", 1.0, False, None), s, i + 1
            return None
        if i + 2 < len(doc) and doc[i + 1].lower_ == "of" and doc[i + 2].is_title:
            e = i + 2
            while e < len(doc) and e - i < 5 and doc[e].is_title and doc[e].is_alpha and not doc[e].is_stop:
                e += 1
            return _GazEntry("PLACE", doc[i + 2:e].text.lower(), None, "generic", 1.0, False, None), i + 2, e
        s = i
        while s > 0 and i - s < 3 and doc[s - 1].is_title and doc[s - 1].is_alpha and not doc[s - 1].is_stop:
            s -= 1
        if s < i:
            return _GazEntry("PLACE", doc[s:i].text.lower(), None, "generic", 1.0, False, None), s, i
        return None

    def set_annotations(self, doc: Doc, hits: Sequence[tuple[_GazEntry, int, int]]) -> None:
        """Resolve context rules, the article's country and per-country aliases; write span groups."""
        boiler = boilerplate_ranges(doc)
        checked: list[tuple[_GazEntry, int, int]] = []
        for entry, s, e in hits:
            if in_ranges(boiler, doc[s].idx):
                continue
            nxt = doc[e].text if e < len(doc) else ""
            if entry.label in ("PLACE", "COUNTRY") and nxt in self.media_words:
                continue  # an outlet's name ("Mandalay Wire"), not a place
            if entry.label == "PLACE" and entry.context == "locative":
                prev = doc[s - 1].lower_ if s > 0 else ""
                if prev not in _LOCATIVE or nxt.lower() in _NOT_PLACE_AFTER:
                    continue
            if entry.label == "RANK" and entry.ambiguous and not _rank_ok(doc, s, e):
                continue
            checked.append((entry, s, e))
        scores: Counter[str] = Counter()
        country_at: dict[int, str] = {}
        for entry, s, e in checked:
            if entry.label == "COUNTRY":
                scores[entry.id] += entry.weight
                country_at[e] = entry.id
            elif entry.label == "PLACE" and entry.context != "generic":
                scores["Myanmar"] += 1.0
            elif entry.label == "ORG" and entry.home:
                scores[entry.home] += 1.0
        country = scores.most_common(1)[0][0] if scores else None
        resolved = []
        for entry, s, e in checked:
            if entry.context == "generic" and country != "Myanmar":
                continue  # an unlisted village is only taken as a Myanmar place in a Myanmar story
            if entry.label == "ORG" and entry.country is not None:
                if entry.id in _STATE_FORCES and s > 0 and doc[s - 1].lower_ in _NOT_STATE_FORCE_BEFORE:
                    continue  # "Kachin army", "resistance forces", "the NUG's armed forces"
                before = country_at.get(s)
                if before is not None and before != entry.country:
                    continue  # "the Thai army" in a Myanmar story
                if before is None and entry.country != country:
                    continue
            resolved.append((entry, s, e))
        resolved.sort(key=lambda h: (-(h[2] - h[1]), h[1]))
        taken = bytearray(len(doc))
        groups: dict[str, list[Span]] = {"nw_places": [], "nw_orgs": [], "nw_countries": [], "nw_ranks": []}
        names = {"PLACE": "nw_places", "ORG": "nw_orgs", "COUNTRY": "nw_countries", "RANK": "nw_ranks"}
        for entry, s, e in resolved:
            if any(taken[s:e]):
                continue  # longest match wins: "Arakan Army" over "army"
            taken[s:e] = b"\x01" * (e - s)
            groups[names[entry.label]].append(Span(doc, s, e, label=entry.label, kb_id=entry.id))
        if doc.has_annotation("ENT_IOB"):
            self._add_model_entities(doc, groups, boiler, country)
        for name, spans in groups.items():
            doc.spans[name] = sorted(spans, key=lambda span: span.start)
        doc.user_data["nw_country"] = country

    @staticmethod
    def _add_model_entities(doc: Doc, groups: dict[str, list[Span]], boiler: Sequence[tuple[int, int]],
                            country: Optional[str]) -> None:
        """A statistical NER adds organisations (and, in Myanmar stories, places); it never overrides the rules."""
        taken = set()
        for spans in groups.values():
            for span in spans:
                taken.update(range(span.start, span.end))
        for ent in doc.ents:
            if taken.intersection(range(ent.start, ent.end)) or in_ranges(boiler, ent.start_char):
                continue
            if ent.label_ == "ORG":
                groups["nw_orgs"].append(Span(doc, ent.start, ent.end, label="ORG", kb_id=ent.text))
            elif ent.label_ in ("GPE", "LOC") and country == "Myanmar":
                groups["nw_places"].append(Span(doc, ent.start, ent.end, label="PLACE", kb_id=ent.text.lower()))


def _rank_ok(doc: Doc, s: int, e: int) -> bool:
    """'a major from the unit' is a rank; 'a major offensive' and 'in general' are not."""
    tok = doc[s]
    nxt = doc[e] if e < len(doc) else None
    if s > 0 and doc[s - 1].lower_ == "in":
        return False
    if tok.lower_ in ("privates", "generals", "majors"):
        return True
    if tok.is_title and nxt is not None and nxt.is_title:
        return True
    return nxt is None or nxt.is_punct or nxt.lower_ in (
        "from", "of", "in", "who", "and", "with", "had", "has", "was", "were", "is", "said", "says", "told",
        "defected", "surrendered", "deserted", "fled", "left", "at", "on")


@Language.factory("newswatch_gazetteer")
def make_gazetteer(nlp: Language, name: str) -> Gazetteer:
    return Gazetteer(nlp, name)
