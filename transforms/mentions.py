"""Defection and conscription mentions: spaCy rule components and their Beam stage.

Input: ``PCollection[Article]``; output: ``PCollection[EnrichedArticle]`` (the article,
its :class:`~newswatch.records.Mention` rows and :class:`~newswatch.records.ArticleLabels`)
plus a dead-letter ``PCollection[ErrorRecord]``. The pipeline is ``spacy.blank("en")``
with three components registered here, all driven by data files in
``transforms/patterns/`` (triggers, modality cues, nouns, places, organisations,
countries, ranks, units, boilerplate lines):

- ``newswatch_sentences``: rule sentence boundaries (paragraphs, abbreviations such as
  "Lt. Col.", "No. 5") and the boilerplate lines trafilatura keeps ("READ MORE: ...").
- ``newswatch_gazetteer``: places, organisations (aliases resolved per country),
  countries and ranks, with PhraseMatchers over the whole text.
- ``newswatch_mentions``: trigger words find candidate sentences; token Matcher
  patterns then run on those sentences only and rules decide kind, modality,
  counts, attribution and evidence offsets.

Example::

    nlp = build_nlp()
    extract_mentions(nlp, "a1", "Twelve soldiers defected to the KNDF on Monday, the group said.")
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import json
import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Optional, Sequence

import apache_beam as beam
import numpy
import spacy
from apache_beam.utils import shared
from spacy.attrs import IS_PUNCT, IS_SPACE, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from newswatch.records import Article, ArticleLabels, EnrichedArticle, ErrorRecord, Mention
from newswatch.transforms.labels import DocFacts, article_labels, headline_end, lead_end
from newswatch.transforms.numbers import Quantity, find_quantities

_PATTERN_FILES = ("triggers.jsonl", "modality.jsonl", "nouns.jsonl", "units.jsonl", "places.jsonl", "orgs.jsonl",
                  "countries.jsonl", "ranks.jsonl", "boilerplate.jsonl", "abbreviations.jsonl")


def _patterns_dir():
    return importlib.resources.files("newswatch.transforms") / "patterns"


def load_patterns(name: str) -> list[dict]:
    """Rows of one JSONL pattern file in ``transforms/patterns``."""
    with (_patterns_dir() / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _patterns_digest() -> str:
    digest = hashlib.sha1()
    for name in _PATTERN_FILES:
        digest.update((_patterns_dir() / name).read_bytes())
    return digest.hexdigest()[:8]


# The version changes whenever a rule file changes, so stored mentions say which rules made them.
EXTRACTOR_VERSION: str = f"1.0+{_patterns_digest()}"


def load_noun_lexicon() -> dict[str, str]:
    """Lower-case noun -> category ('people', 'weapons', ...) from nouns.jsonl."""
    return {row["word"]: row["category"] for row in load_patterns("nouns.jsonl")}


def _variants(pattern: str) -> set[str]:
    """A phrase with both straight and curly apostrophes."""
    return {pattern, pattern.replace("'", "’"), pattern.replace("’", "'")}


_UNSAFE_CHARS = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_for_spacy(text: str) -> str:
    """Lone surrogates and control characters become one safe character each, so offsets stay valid."""
    return _UNSAFE_CHARS.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", text)


# --------------------------------------------------------------------------- sentences


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
        if n:
            flags = doc.to_array([IS_PUNCT, IS_SPACE])
            # only punctuation and whitespace tokens can end a sentence: skip the rest in C
            for i in numpy.flatnonzero(flags[:, 0] | flags[:, 1]).tolist():
                self._boundary_after(doc, int(i), starts)
        boilerplate = []
        offset = 0
        for line in doc.text.split("\n"):
            if line.strip() and self.boilerplate.search(line):
                boilerplate.append((offset, offset + len(line)))
            offset += len(line) + 1
        return _cap_sentence_length(doc, sorted(set(starts))), boilerplate

    def _boundary_after(self, doc: Doc, i: int, starts: list[int]) -> None:
        n = len(doc)
        tok = doc[i]
        text = tok.text
        if tok.is_space:
            if "\n" in text:
                j = i + 1
                while j < n and doc[j].is_space:
                    j += 1
                if j < n:
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
            if first.isupper() or first.isdigit() or first in "“\"‘'([":
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


def _boilerplate_ranges(doc: Doc) -> list[tuple[int, int]]:
    group = doc.spans["nw_boilerplate"] if "nw_boilerplate" in doc.spans else []
    return sorted((span.start_char, span.end_char) for span in group)


def _inside(ranges: Sequence[tuple[int, int]], pos: int) -> bool:
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
            grouped.setdefault((entry, case), set()).update(_variants(row["pattern"]))
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
        boiler = _boilerplate_ranges(doc)
        checked: list[tuple[_GazEntry, int, int]] = []
        for entry, s, e in hits:
            if _inside(boiler, doc[s].idx):
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
            if taken.intersection(range(ent.start, ent.end)) or _inside(boiler, ent.start_char):
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


# --------------------------------------------------------------------------- mentions

_MODALS = frozenset("would will could can may might should must shall 'd ’d 'll ’ll".split())
_NEGATIONS = frozenset("not never n't n’t no none nobody".split())
_WH = frozenset("how whether why if unless".split())
_CLAUSE_BREAKS = frozenset("; — – but while whereas although though however".split())
_DETERMINERS = frozenset("a an the this that these those their his her its our your my one two three four five "
                         "six seven eight nine ten all some several both".split())
_GENERIC_HEADS = frozenset("those anyone anybody everyone everybody any whoever people".split())
_PAST_EVENT_VERBS = frozenset("received welcomed confirmed reported announced took arrived processed accepted recorded "
                              "registered documented happened occurred verified handled sheltered hosted rose risen "
                              "topped reached numbered totalled totaled included came took brought crossed fled "
                              "escaped walked swam drove flew sailed left".split())
_VERB_CONTEXT = frozenset("to will would could can may might should must not n't n’t never who that and or they we "
                          "also then later reportedly allegedly soon had have has did".split())
_PRONOUN_SUBJECTS = frozenset("they he she men officers group soldiers troops all both".split())
_CIVIL_RANKS = frozenset({"captain", "commander"})  # also football captains and rebel commanders
_CONSCRIPTION_EVENT_VERBS = frozenset("fled left escaped evaded dodged drafted conscripted called recruited abducted "
                                      "arrested detained enlisted registered began started enforced implemented "
                                      "trained deployed sent taken held hid rounded snatched drew drawn fleeing escaping hiding "
                                      "leaving".split())
_SPECULATIVE = frozenset("may might could likely unlikely whether why suggests suggest suggested theory "
                         "hypothetically".split())
_REPORT_VERBS = frozenset("said says told announced claimed stated reported confirmed added according".split())
_CONSCRIPTION_CONTEXT = frozenset("military army service conscription conscripts conscript draft training troops "
                                  "recruit recruits recruitment enlist enlisted battalion front junta law ward "
                                  "called call-up batch batches armed mobilisation soldiers".split())
_RECRUITMENT_CONTEXT = frozenset("service training conscription conscripts conscript conscripted draft drafted "
                                 "recruit recruits recruitment recruited enlist enlisted front frontline batch "
                                 "batches law ward call-up called mobilisation mobilization reservists".split())
_SPORT_CONTEXT = frozenset("squad team match coach tournament league club player players cup fixture".split())
_DOC_NOUNS = frozenset("bill bills resolution constitution agreement report text legislation budget proposal document "
                       "statement version treaty plan regulation regulations amendment law laws of letter "
                       "pick picks round class".split())


class _Hit(NamedTuple):
    kind: str  # defection | conscription
    trigger: str
    form: str  # event | base | ing | noun | program | handover | handover_ing
    force: str  # '' (any subject), 'near' (armed-force word close by), 'sentence' (in this sentence)
    start: int  # token offsets inside the sentence
    end: int


class _Candidate(NamedTuple):
    """A sentence with trigger matches, found by ``MentionRules.match``."""

    sent: Span
    index: int  # position among the doc's sentences
    hits: list[_Hit]
    cues: list[tuple[str, int, int]]  # modality cue label, token offsets inside the sentence
    units: list[Span]


class MentionRules:
    """Finds mention sentences and decides kind, modality, counts, orgs, places and attribution."""

    def __init__(self, nlp: Language, name: str = "newswatch_mentions"):
        self.name = name
        self.nouns = load_noun_lexicon()
        noun_rows = load_patterns("nouns.jsonl")
        self.force_words = frozenset(r["word"] for r in noun_rows if r["force"])
        self.non_military = frozenset(r["word"] for r in noun_rows if r["category"] == "non_military")
        # literal trigger and cue phrases: one PhraseMatcher pass over the whole text
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        # patterns with wildcards: a token Matcher, run on candidate sentences only
        self.matcher = Matcher(nlp.vocab)
        self.triggers: dict[str, _Hit] = {}
        phrase_groups: dict[str, set[str]] = {}
        anchors: set[str] = set()
        for row in load_patterns("triggers.jsonl"):
            force = row["force"]
            meta = _Hit("defection" if row["label"] == "DEFECTION" else "conscription", row["id"], row["form"],
                        force if isinstance(force, str) else ("near" if force else ""), 0, 0)
            key = f"T_{meta.kind}_{meta.trigger}_{meta.form}_{meta.force}"
            self.triggers[key] = meta
            if isinstance(row["pattern"], str):
                phrase_groups.setdefault(key, set()).update(_variants(row["pattern"]))
            else:
                self.matcher.add(key, [row["pattern"]])
                anchors.update(_first_words(row["pattern"]))
        for row in load_patterns("modality.jsonl"):
            phrase_groups.setdefault(f"C_{row['label']}", set()).update(_variants(row["pattern"]))
        phrase_groups["ANCHOR"] = anchors
        for key, phrases in phrase_groups.items():
            self.phrases.add(key, [nlp.make_doc(p) for p in sorted(phrases)])
        self.units = Matcher(nlp.vocab)
        for row in load_patterns("units.jsonl"):
            self.units.add("UNIT", [row["pattern"]])

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list[_Candidate]:
        """Candidate sentences with their trigger, cue and unit matches, in text order."""
        sents = list(doc.sents)
        starts = [s.start for s in sents]
        boiler = _boilerplate_ranges(doc)
        strings = doc.vocab.strings
        found: dict[int, tuple[list[_Hit], list[tuple[str, int, int]], list[bool]]] = {}
        for key_id, s, e in self.phrases(doc):
            k = bisect.bisect_right(starts, s) - 1
            hits, cues, anchored = found.setdefault(k, ([], [], [False]))
            key = strings[key_id]
            offset = starts[k]
            if key == "ANCHOR":
                anchored[0] = True
            elif key.startswith("C_"):
                cues.append((key[2:], s - offset, e - offset))
            else:
                hits.append(self.triggers[key]._replace(start=s - offset, end=e - offset))
        out = []
        for k in sorted(found):
            hits, cues, anchored = found[k]
            sent = sents[k]
            if not (hits or anchored[0]) or _inside(boiler, sent.start_char):
                continue
            if anchored[0]:
                hits.extend(self.triggers[strings[key_id]]._replace(start=s, end=e) for key_id, s, e in self.matcher(sent))
            units = spacy.util.filter_spans(self.units(sent, as_spans=True)) \
                if any(h.kind == "defection" for h in hits) else []
            if hits:
                out.append(_Candidate(sent, k, _dedupe_hits(hits), sorted(cues, key=lambda c: c[1]), units))
        return out

    def set_annotations(self, doc: Doc, matches: Sequence[_Candidate]) -> None:
        """Store mention drafts (plain dicts) in ``doc.user_data['nw_mentions']``."""
        drafts: list[dict] = []
        sents = list(doc.sents) if matches else []
        last_defection = -10
        force_cache: dict[int, bool] = {}
        places = _spans_by_start(doc, "nw_places")
        orgs = _spans_by_start(doc, "nw_orgs")
        ranks = _spans_by_start(doc, "nw_ranks")
        countries = _spans_by_start(doc, "nw_countries")
        doc_country = doc.user_data.get("nw_country")
        for sent, k, hits, cues, units in matches:
            lows = [t.lower_ for t in sent]
            quantities = find_quantities(sent.text, self.nouns)
            has_force = self._has_force(sent) or any(r.kb_id_ not in _CIVIL_RANKS for r in _in_sentence(ranks, sent))
            armed = any(self.nouns.get(w) == "weapons" for w in lows)  # "walked out with their rifles"
            non_military = bool(self.non_military.intersection(lows)) and not has_force
            near_force = has_force or (not non_military and (
                last_defection >= k - 3 or any(self._force_at(sents, j, force_cache) for j in (k - 1, k - 2) if j >= 0)))
            for kind in ("defection", "conscription"):
                valid = [h for h in hits if h.kind == kind and self._valid(
                    h, sent, lows, quantities, self._force_ok(h, lows, has_force, armed, near_force))]
                if not valid:
                    continue
                draft = self._draft(kind, sent, lows, valid, cues, units, quantities, places, orgs, ranks,
                                    countries, doc_country)
                drafts.append(draft)
                if kind == "defection":
                    last_defection = k
        doc.user_data["nw_mentions"] = drafts

    @staticmethod
    def _force_ok(hit: _Hit, lows: Sequence[str], has_force: bool, armed: bool, near_force: bool) -> bool:
        """Whether the armed-force context the trigger needs is there."""
        if hit.force == "sentence":
            # "they walked out" right after a sentence about soldiers: the pronoun carries the context
            subject = lows[max(0, hit.start - 2):hit.start]
            return has_force or armed or (near_force and bool(_PRONOUN_SUBJECTS.intersection(subject)))
        if hit.form.startswith("handover"):
            return near_force
        return near_force or armed

    def _has_force(self, sent: Span) -> bool:
        for tok in sent:
            low = tok.lower_
            if low in self.force_words:
                return True
            if low in ("force", "forces") and tok.i > 0 and tok.nbor(-1).lower_ in ("air", "police", "security", "armed"):
                return True
        return False

    def _force_at(self, sents: Sequence[Span], j: int, cache: dict[int, bool]) -> bool:
        if j not in cache:
            cache[j] = self._has_force(sents[j])
        return cache[j]

    def _valid(self, hit: _Hit, sent: Span, lows: Sequence[str], quantities: Sequence[Quantity], force_ok: bool) -> bool:
        """Context checks that keep 'a manufacturing defect' or 'the NBA draft' out."""
        prev = lows[hit.start - 1] if hit.start > 0 else ""
        nxt = lows[hit.end] if hit.end < len(lows) else ""
        if hit.force and not force_ok:
            return False
        if hit.trigger in ("defect", "desert") and hit.form == "base" and not (
                prev in _VERB_CONTEXT or self.nouns.get(prev) in ("people", "force") or sent[hit.start].i == sent.start):
            return False  # "a manufacturing defect", "the desert"
        if hit.trigger == "walk_out" and nxt == "of" and lows[hit.start] in ("ran", "run", "runs", "running"):
            return False  # "running out of soldiers"
        if hit.trigger == "desert" and hit.form == "event" and nxt in ("village", "villages", "town", "streets",
                                                                        "street", "road", "roads", "area", "areas",
                                                                        "island", "house", "houses", "building"):
            return False
        if hit.form.startswith("handover"):
            verb_end = sent[hit.end - 1].idx + len(sent[hit.end - 1]) - sent.start_char
            return any(q.category == "weapons" and not q.subset and 0 <= q.start - verb_end <= 25 for q in quantities)
        if hit.kind == "conscription":
            return self._conscription_ok(hit, lows, prev, nxt)
        return True

    @staticmethod
    def _conscription_ok(hit: _Hit, lows: Sequence[str], prev: str, nxt: str) -> bool:
        words = set(lows)
        if hit.trigger == "draft":
            # "a draft (supplemental spending) bill": the document sense, up to two modifiers away
            if hit.form == "noun" and (_DOC_NOUNS.intersection(lows[hit.end:hit.end + 3])
                                       or prev in ("first", "final", "rough", "revised", "initial",
                                                   "earlier", "latest", "nba", "nfl", "nhl")):
                return False
            # "bills ... have been drafted": a document written, nobody called up
            if hit.form == "event" and _DOC_NOUNS.intersection(lows[:hit.start]) and not (
                    _CONSCRIPTION_CONTEXT - {"draft", "law", "ward", "called"}).intersection(words):
                return False
            if hit.form == "event" and nxt in ("a", "an", "by", "the", "letters", "plans"):
                return nxt == "the" and bool(_CONSCRIPTION_CONTEXT.intersection(lows[hit.end:hit.end + 3]))
            return not _SPORT_CONTEXT.intersection(words)
        if hit.trigger == "call_up":
            if _SPORT_CONTEXT.intersection(words):
                return False
            return nxt not in ("his", "her", "my", "me", "him", "their", "a", "the", "to") or \
                bool(_CONSCRIPTION_CONTEXT.intersection(words))
        if hit.trigger in ("abduction", "lottery", "recruitment_quota", "mobilisation", "enlisted"):
            return bool(_RECRUITMENT_CONTEXT.intersection(words))  # not kidnappings or a state lottery
        if hit.trigger == "recruits":  # "recruits are taught ..." is ordinary enlistment
            return bool(_RECRUITMENT_CONTEXT.intersection(words) - {"recruit", "recruits", "recruitment",
                                                                    "recruited", "training", "front", "frontline"})
        return True

    def _draft(self, kind, sent, lows, hits, cues, units, quantities, places, orgs, ranks, countries,
               doc_country) -> dict:
        modality, anchor, events = _modality(kind, sent, lows, hits, cues, quantities, self.nouns)
        # each reported event owns the count nearest to it; the mention keeps the largest
        picked = [_pick_count(quantities, sent[h.start].idx - sent.start_char, ("people", "bare"))
                  for h in events or [anchor]]
        people = max((q for q in picked if q is not None), key=lambda q: q.value, default=None)
        weapons = [q.value for q in quantities if q.category == "weapons" and not q.subset] if kind == "defection" else []
        sent_orgs = _in_sentence(orgs, sent)
        country = doc_country
        for span in _in_sentence(countries, sent):
            following = [t.lower_ for t in sent.doc[span.end:span.end + 3]]
            if any(self.nouns.get(w) in ("people", "force") for w in following):
                country = span.kb_id_  # "North Korean soldier", "Russian conscripts": whose force it is
                break
        return {
            "kind": kind,
            "modality": modality,
            "people_count": people.value if people else None,
            "count_qualifier": people.qualifier if people else None,
            "weapons_count": max(weapons) if weapons else None,
            "ranks": _unique(span.kb_id_ for span in _in_sentence(ranks, sent)),
            "units": _unique(span.text for span in units),
            "orgs": _unique(span.kb_id_ for span in sent_orgs),
            "locations": _unique(span.text for span in _in_sentence(places, sent)),
            "country": country,
            "source_party": _source_party(sent, lows, sent_orgs),
            "start_char": sent.start_char,
            "end_char": sent.end_char,
        }


def _first_words(pattern: Sequence[dict]) -> set[str]:
    """Literal words the first token of a pattern can be: the anchors of a candidate sentence."""
    lower = pattern[0].get("LOWER")
    if isinstance(lower, str):
        return {lower}
    if isinstance(lower, dict) and "IN" in lower:
        return set(lower["IN"])
    raise ValueError(f"token pattern must start with a literal word: {pattern!r}")


def _dedupe_hits(hits: Sequence[_Hit]) -> list[_Hit]:
    """Drop hits inside a longer hit of the same trigger ("laid down their arms" over "laid down arms")."""
    ordered = sorted(hits, key=lambda h: (h.start, -(h.end - h.start)))
    out: list[_Hit] = []
    for hit in ordered:
        if any(o.trigger == hit.trigger and o.start <= hit.start and hit.end <= o.end for o in out):
            continue
        out.append(hit)
    return out


class _SpanIndex(NamedTuple):
    spans: list[Span]
    starts: list[int]


def _spans_by_start(doc: Doc, group: str) -> _SpanIndex:
    spans = sorted(doc.spans[group], key=lambda s: s.start) if group in doc.spans else []
    return _SpanIndex(spans, [s.start for s in spans])


def _in_sentence(index: _SpanIndex, sent: Span) -> list[Span]:
    spans = index.spans
    k = bisect.bisect_left(index.starts, sent.start)
    out = []
    while k < len(spans) and spans[k].start < sent.end:
        if spans[k].end <= sent.end:
            out.append(spans[k])
        k += 1
    return out


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _clause(lows: Sequence[str], i: int) -> tuple[int, int]:
    """Token range of the clause around position i."""
    s = i
    while s > 0 and lows[s - 1] not in _CLAUSE_BREAKS:
        s -= 1
    e = i
    while e < len(lows) and lows[e] not in _CLAUSE_BREAKS:
        e += 1
    return s, e


def _is_event(hit: _Hit, sent: Span, lows: Sequence[str], quantities: Sequence[Quantity],
              nouns: dict[str, str]) -> Optional[bool]:
    """True when the trigger asserts that it happened; None when it is negated."""
    i = hit.start
    cs, _ = _clause(lows, i)
    before = lows[max(cs, i - 3):i]
    prev = lows[i - 1] if i > 0 else ""
    if lows and lows[-1] == "?" or _WH.intersection(lows[cs:i]):
        return False
    trigger_char = sent[i].idx - sent.start_char
    if hit.form in ("noun", "program"):
        if prev in ("no", "none"):
            return None
        if _MODALS.intersection(lows[max(cs, i - 4):i]):
            return False
        window = lows[cs:min(len(lows), hit.end + 6)]
        if hit.kind == "conscription":
            return bool(_CONSCRIPTION_EVENT_VERBS.intersection(window)) and not _MODALS.intersection(window)
        if any(q.category == "people" and not q.subset and not q.casualty for q in quantities):
            return True
        return bool(_PAST_EVENT_VERBS.intersection(window)) and not _NEGATIONS.intersection(lows[cs:i])
    if hit.form == "base" and prev in _DETERMINERS:
        return False  # "the surrender": a noun, decided by the sentence's other triggers
    negated = _negated(lows, i, cs)
    if prev == "to" or _MODALS.intersection(before) or negated == "modal":
        return False
    if negated:
        return None
    nxt = lows[hit.end] if hit.end < len(lows) else ""
    if hit.form == "event" and nouns.get(nxt) == "people" and hit.end - hit.start == 1:
        return False  # "surrendered soldiers": an adjective
    if hit.form in ("base", "ing"):
        if hit.form == "ing" and prev in ("are", "were", "is", "was", "been", "be", "after", "since", "upon"):
            return True  # "are defecting", "after defecting"
        return hit.form == "base" and any(q.category == "people" and q.end <= trigger_char for q in quantities)
    rel = next((j for j in range(i - 1, max(cs, i - 4) - 1, -1) if lows[j] in ("who", "that")), None)
    if rel is not None and rel > 0:
        head = lows[rel - 1]
        if head in _GENERIC_HEADS:
            return False
        if nouns.get(head) == "people" and not _specific_np(lows, cs, rel):
            return False  # "soldiers who defected would receive": a class of people, not an event
    return True


def _specific_np(lows: Sequence[str], cs: int, end: int) -> bool:
    """Whether the noun phrase ending before ``end`` starts with a determiner, number or possessive."""
    j = end - 1
    while j > cs:
        word = lows[j - 1]
        if word in _DETERMINERS and word not in ("that", "this"):
            if j - 2 >= cs and lows[j - 2] == "of":
                j -= 2  # "members of the armed forces": the phrase head is further left
                continue
            return True
        if word.endswith(("'s", "’s")) or word in ("'s", "’s") or word.replace(",", "").isdigit():
            return True
        if not word.isalpha() or word in _REPORT_VERBS or word in ("to", "on", "that", "this", "said", "for", "at"):
            return False
        j -= 1
        if end - j > 8:
            return False
    return False


# a sentence with several triggers takes the strongest: one reported event makes it a report
_MODALITY_RANK = {"report": 0, "denial": 1, "rumour": 2, "appeal": 3, "offer": 4, "policy": 5, "analysis": 6}
_AUXILIARIES = frozenset("yet been be have had has ever even actually already all really still".split())


def _negated(lows: Sequence[str], i: int, cs: int) -> Optional[str]:
    """'did not defect' -> 'plain'; 'would not be drafted' -> 'modal'; else None."""
    if "none" in lows[cs:i] or any(lows[k] == "no" and k + 1 < i and lows[k + 1].isalpha()
                                   and lows[k + 1] not in ("longer", "sooner", "doubt") for k in range(cs, i)):
        return "plain"  # "none of the soldiers have defected", "no troops surrendered"
    j = i - 1
    while j >= cs and lows[j] in _AUXILIARIES:
        j -= 1
    if j < cs or lows[j] not in _NEGATIONS:
        return None
    if j - 1 >= cs and lows[j - 1] in _MODALS:
        return "modal"
    return "plain"


def _modality(kind: str, sent: Span, lows: Sequence[str], hits: Sequence[_Hit], cues, quantities,
              nouns) -> tuple[str, _Hit, list[_Hit]]:
    """Modality of the mention, the trigger that decided it, and the triggers that report events."""
    best: Optional[tuple[int, str, _Hit]] = None
    events: list[_Hit] = []
    for hit in hits:
        cs, ce = _clause(lows, hit.start)
        in_clause = [c for c in cues if cs <= c[1] < ce]
        labels = {c[0] for c in in_clause}
        event = _is_event(hit, sent, lows, quantities, nouns)
        speculative = any(lows[j] in _SPECULATIVE for j in range(cs, hit.start))
        if "denial" in labels:
            modality = "denial"
        elif "rumour" in labels:
            modality = "rumour"
        elif event is None:
            modality = "denial"
        elif event and not speculative:
            modality = "report"
            events.append(hit)
        else:
            labels = {c[0] for c in cues}
            modality = next((m for m in ("appeal", "offer", "policy", "analysis") if m in labels), "analysis")
            if kind == "conscription" and modality == "analysis" and not speculative and (
                    {"law", "service", "will", "would", "plans", "planned", "shall"}.intersection(lows[cs:ce])):
                modality = "policy"  # announced rules and plans for the draft
        if best is None or _MODALITY_RANK[modality] < best[0]:
            best = (_MODALITY_RANK[modality], modality, hit)
    assert best is not None
    return best[1], best[2], events


def _pick_count(quantities: Sequence[Quantity], anchor_char: int, categories: Sequence[str]) -> Optional[Quantity]:
    """The count that belongs to the trigger: nearest before it (subject), else just after (object)."""
    usable = [q for q in quantities if q.category in categories and not q.subset and not q.casualty]
    before = [q for q in usable if q.start <= anchor_char]
    if before:
        return min(before, key=lambda q: anchor_char - q.end)
    after = [q for q in usable if q.start > anchor_char and q.start - anchor_char <= 120]
    return min(after, key=lambda q: q.start - anchor_char) if after else None


_ATTRIBUTION_VERBS = ("said", "says", "told", "according", "announced", "claimed", "stated", "confirmed", "added")
_NOT_IN_SOURCE = frozenset("had has have was were is are be been would will could can who which that he she they it "
                           "we i you said says told".split())


def _source_party(sent: Span, lows: Sequence[str], orgs: Sequence[Span]) -> Optional[str]:
    """Who the sentence attributes the claim to: a canonical org name or a short noun phrase."""

    def name_of(s: int, e: int) -> Optional[str]:
        inside = [o.kb_id_ for o in orgs if s <= o.start - sent.start < e]
        if inside:
            return inside[0]
        words = [t for t in sent[s:e] if not t.is_punct]
        while words and (words[0].lower_ in _DETERMINERS or words[0].lower_ in ("of", "by", "from")):
            words = words[1:]
        if not words or len(words) > 7 or all(t.is_stop for t in words) \
                or any(t.lower_ in _NOT_IN_SOURCE for t in words):
            return None  # pronouns, elided subjects and clause fragments name nobody
        return " ".join(t.text for t in words)

    for j in range(len(lows) - 1):
        if lows[j] == "according" and lows[j + 1] == "to":
            e = j + 2
            while e < len(lows) and lows[e] not in (",", ".", ";", "who", "which", "that") and e - j < 12:
                e += 1
            return name_of(j + 2, e)
    for verb in _ATTRIBUTION_VERBS:
        for j in range(len(lows) - 1, -1, -1):
            if lows[j] != verb or (verb not in ("said", "says", "told") and j + 1 < len(lows)
                                   and lows[j + 1] in ("since", "by", "as", "to", "in")):
                continue  # "surrenders reported since February" is not an attribution
            s = j
            while s > 0 and lows[s - 1] not in (",", "”", '"', ";", "“", "and", "but", "that") and j - s < 8:
                s -= 1
            found = name_of(s, j)
            if found:
                return found
            if j > 0 and lows[j - 1] in (",", "”", '"'):  # inverted: '..., said a KNDF officer'
                e = j + 1
                while e < len(lows) and lows[e] not in (",", ".", ";", "who", "on", "in", "that", "by") and e - j < 9:
                    e += 1
                found = name_of(j + 1, e)
                if found:
                    return found
    return None


@Language.factory("newswatch_mentions")
def make_mention_rules(nlp: Language, name: str) -> MentionRules:
    return MentionRules(nlp, name)


# --------------------------------------------------------------------------- public API


def build_nlp(model: str | None = None) -> Language:
    """Blank English plus the newswatch components; ``model`` optionally adds a spaCy NER.

    Args:
      model: name of an installed spaCy pipeline (e.g. ``en_core_web_sm``) whose NER may
        add organisations and places; None (the default) runs on rules alone.
    """
    if model is None:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(model, exclude=["parser", "senter", "lemmatizer", "textcat"])
        except OSError as exc:
            raise ValueError(
                f"spaCy model {model!r} is not installed; install it (python -m spacy download {model}) "
                "or leave the model unset to run on rules alone") from exc
    nlp.max_length = max(nlp.max_length, MAX_TEXT_CHARS)
    nlp.add_pipe("newswatch_sentences", first=True)
    nlp.add_pipe("newswatch_gazetteer")
    nlp.add_pipe("newswatch_mentions")
    return nlp


MAX_TEXT_CHARS = 10_000_000  # the rules are linear; beyond this only the first part is read


def _mention_id(article_id: str, kind: str, start: int, end: int) -> str:
    return f"{article_id}:{kind[0]}:{start}-{end}"


def _doc_facts(doc: Doc, text: str, title: Optional[str]) -> DocFacts:
    body_start = headline_end(text, title)
    places: dict[str, str] = {}
    for span in _spans_by_start(doc, "nw_places").spans:
        if span.start_char >= body_start:
            places.setdefault(span.kb_id_, " ".join(span.text.split()))
    orgs = _unique(span.kb_id_ for span in _spans_by_start(doc, "nw_orgs").spans if span.start_char >= body_start)
    return DocFacts(tuple(places.values()), orgs, doc.user_data.get("nw_country"), body_start,
                    lead_end(text, body_start))


def extract_article(nlp: Language, article_id: str, text: str,
                    title: str | None = None) -> tuple[list[Mention], ArticleLabels]:
    """Mentions and article labels for one article's text (pure; no Beam)."""
    doc = nlp.make_doc(_clean_for_spacy(text[:nlp.max_length]))
    doc = nlp(doc)
    mentions = []
    for draft in doc.user_data.get("nw_mentions", []):
        start, end = draft.pop("start_char"), draft.pop("end_char")
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        kind = draft["kind"]
        mentions.append(Mention(
            mention_id=_mention_id(article_id, kind, start, end), article_id=article_id, sentence=text[start:end],
            start_char=start, end_char=end, extractor_version=EXTRACTOR_VERSION, **draft))
    return mentions, article_labels(mentions, text, _doc_facts(doc, text, title))


def extract_mentions(nlp: Language, article_id: str, text: str, title: str | None = None) -> list[Mention]:
    """Defection and conscription mentions in ``text``; offsets index into ``text``."""
    return extract_article(nlp, article_id, text, title)[0]


# --------------------------------------------------------------------------- Beam

ERRORS_TAG = "errors"
_EMPTY_LABELS = ArticleLabels(False, False, False, None, None, (), (), None)


class _SharedNlp:
    """Weak-referenceable holder so ``Shared`` can keep one pipeline per worker process."""

    def __init__(self, nlp: Language):
        self.nlp = nlp


class _ExtractMentionsFn(beam.DoFn):
    """Adapts :func:`extract_article` to Beam; failures become ``ErrorRecord``s on ``errors``."""

    def __init__(self, model: str | None):
        self._model = model
        self._shared = shared.Shared()
        self._nlp: Optional[Language] = None
        self._articles = beam.metrics.Metrics.counter("mentions", "articles")
        self._defection = beam.metrics.Metrics.counter("mentions", "defection_mentions")
        self._conscription = beam.metrics.Metrics.counter("mentions", "conscription_mentions")
        self._failures = beam.metrics.Metrics.counter("mentions", "errors")

    def setup(self) -> None:
        model = self._model
        holder = self._shared.acquire(lambda: _SharedNlp(build_nlp(model)), tag=f"newswatch-nlp:{model}:{EXTRACTOR_VERSION}")
        self._nlp = holder.nlp

    def process(self, article: Article) -> Iterable[Any]:
        assert self._nlp is not None
        self._articles.inc()
        try:
            mentions, labels = extract_article(self._nlp, article.article_id, article.text or "", article.title)
        except Exception as exc:  # any rule bug must not stop the pipeline: dead-letter it
            self._failures.inc()
            yield EnrichedArticle(article, (), _EMPTY_LABELS)
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, ErrorRecord(
                stage="mentions", url=article.url, feed_url=article.feed_url, code=type(exc).__name__,
                message=str(exc)[:500], at=datetime.now(timezone.utc).isoformat(timespec="seconds")))
            return
        for mention in mentions:
            (self._defection if mention.kind == "defection" else self._conscription).inc()
        yield EnrichedArticle(article, tuple(mentions), labels)


class ExtractMentions(beam.PTransform):
    """``PCollection[Article]`` -> ``(PCollection[EnrichedArticle], PCollection[ErrorRecord])``.

    Duplicates (``article.duplicate_of`` set) are processed like any article.
    """

    def __init__(self, model: str | None = None):
        super().__init__()
        self._model = model

    def expand(self, articles):
        outputs = articles | "ExtractMentions" >> beam.ParDo(_ExtractMentionsFn(self._model)) \
            .with_input_types(Article) \
            .with_output_types(EnrichedArticle, errors=ErrorRecord) \
            .with_outputs(ERRORS_TAG, main="articles")
        return outputs.articles, outputs[ERRORS_TAG]
