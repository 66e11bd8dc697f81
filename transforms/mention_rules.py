"""The ``newswatch_mentions`` spaCy component: rules for defection and conscription mentions.

Input: a ``Doc`` already annotated by ``newswatch_sentences`` and ``newswatch_gazetteer``
(:mod:`~newswatch.transforms.mention_components`); output: one draft per mention sentence
and kind in ``doc.user_data["nw_mentions"]``, a plain dict holding the
:class:`~newswatch.records.Mention` fields that the rules decide plus the sentence's
``start_char`` / ``end_char`` (:func:`~newswatch.transforms.mentions.extract_article` turns
drafts into records). Trigger words and modality cues (``triggers.jsonl``,
``modality.jsonl``) are found by one PhraseMatcher pass; token Matcher patterns run on the
candidate sentences only; rules then decide kind, modality, counts, orgs, places and
attribution.

Example::

    nlp = build_nlp()  # newswatch.transforms.mentions
    nlp("Twelve soldiers defected to the KNDF on Monday, the group said.").user_data["nw_mentions"]
    # [{'kind': 'defection', 'modality': 'report', 'people_count': 12, ..., 'orgs': ('KNDF',), ...}]
"""

from __future__ import annotations

import bisect
import re
from typing import Iterable, NamedTuple, Optional, Sequence

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from newswatch.transforms.mention_components import (
    boilerplate_ranges, in_ranges, load_noun_lexicon, load_patterns, phrase_variants)
from newswatch.transforms.numbers import Quantity, find_quantities, list_total

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
_PRONOUN_SUBJECTS = frozenset("they he she men officers group soldiers troops all both them".split())
_CIVIL_RANKS = frozenset({"captain", "commander"})  # also football captains and rebel commanders
_CONSCRIPTION_EVENT_VERBS = frozenset("fled left escaped evaded dodged drafted conscripted called recruited abducted "
                                      "arrested detained enlisted registered began started enforced implemented "
                                      "trained deployed sent taken held hid rounded snatched drew drawn fleeing escaping hiding "
                                      "leaving".split())
_CONTINUATION_STARTS = frozenset("they these those he she the among all their together".split())
_LISTING_VERBS = frozenset("were are included include includes including comprised comprise consisted was is".split())
_BRINGING_VERBS = frozenset("brought bringing handed carried carrying surrendered came arrived took taking "
                            "with included include".split())
_WISH_OR_PLAN = frozenset("want wants wanted wish wishes wishing hope hopes hoping intend intends plan plans "
                          "planning scheme policy program programme".split())
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
        self.force_people = frozenset(r["word"] for r in noun_rows if r["force"] and r["category"] == "people") \
            | {"defector", "defectors", "deserter", "deserters", "corporal", "sergeant", "private", "captain", "major",
               "lieutenant", "officer", "policeman", "policemen"}
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
                phrase_groups.setdefault(key, set()).update(phrase_variants(row["pattern"]))
            else:
                self.matcher.add(key, [row["pattern"]])
                anchors.update(_first_words(row["pattern"]))
        for row in load_patterns("modality.jsonl"):
            phrase_groups.setdefault(f"C_{row['label']}", set()).update(phrase_variants(row["pattern"]))
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
        boiler = boilerplate_ranges(doc)
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
            if not (hits or anchored[0]) or in_ranges(boiler, sent.start_char):
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
        places = spans_by_start(doc, "nw_places")
        orgs = spans_by_start(doc, "nw_orgs")
        ranks = spans_by_start(doc, "nw_ranks")
        countries = spans_by_start(doc, "nw_countries")
        doc_country = doc.user_data.get("nw_country")
        reports: dict[int, dict] = {}
        for sent, k, hits, cues, units in matches:
            lows = _lower_words(sent)
            quantities = find_quantities(sent.text, self.nouns, singles=True)
            has_force = self._has_force(sent) or any(r.kb_id_ not in _CIVIL_RANKS for r in _in_sentence(ranks, sent))
            armed = any(self.nouns.get(w) == "weapons" for w in lows)  # "walked out with their rifles"
            non_military = bool(self.non_military.intersection(lows)) and not has_force
            near_force = has_force or (not non_military and (
                last_defection >= k - 3 or any(self._force_at(sents, j, force_cache) for j in (k - 1, k - 2) if j >= 0)))
            if any(h.kind == "conscription" for h in hits):
                hits = hits + _deserting_conscripts(lows)
            for kind in ("defection", "conscription"):
                valid = [h for h in hits if h.kind == kind and self._valid(h, sent, lows, quantities, self._force_ok(
                    h, lows, has_force, armed, near_force,
                    not non_military and any(self._force_at(sents, j, force_cache) for j in (k + 1, k + 2)
                                             if j < len(sents))))]
                if not valid:
                    continue
                draft = self._draft(kind, sent, lows, valid, cues, units, quantities, places, orgs, ranks,
                                    countries, doc_country)
                drafts.append(draft)
                if kind == "defection":
                    last_defection = k
                    reports[k] = draft
        for k, draft in reports.items():
            if draft["modality"] == "report" and k + 1 < len(sents) and k + 1 not in reports:
                self._counts_from_next(draft, sents[k + 1])
        doc.user_data["nw_mentions"] = drafts

    def _counts_from_next(self, draft: dict, nxt: Span) -> None:
        """"They were one major, two corporals and ...", "They brought 21 weapons": the count follows the event."""
        lows = [t.lower_ for t in nxt[:12]]
        if not lows or lows[0] not in _CONTINUATION_STARTS:
            return
        quantities = [q for q in find_quantities(nxt.text, self.nouns)
                      if not (q.subset or q.casualty or q.size or q.single or q.qualifier == "range")]
        words = set(lows)
        if draft["people_count"] is None and _LISTING_VERBS.intersection(words):
            people = [q for q in quantities if q.category == "people"]
            if people:
                best = max(people, key=lambda q: q.value)
                draft["people_count"], draft["count_qualifier"] = best.value, best.qualifier
        if draft["weapons_count"] is None and _BRINGING_VERBS.intersection(words):
            weapons = [q.value for q in quantities if q.category == "weapons"]
            if weapons:
                draft["weapons_count"] = max(weapons)

    def _force_ok(self, hit: _Hit, lows: Sequence[str], has_force: bool, armed: bool, near_force: bool,
                  force_ahead: bool = False) -> bool:
        """Whether the armed-force context the trigger needs is there."""
        if hit.force == "subject":
            # "two soldiers from LIB 556 joined the KNLA": the joiner must be a member of a force
            cs, _ = _clause(lows, hit.start)
            before = lows[max(cs, hit.start - 14):hit.start]
            return any(w in self.force_people for w in before) or (
                near_force and bool({"they", "he", "she", "them", "defectors", "deserters"}.intersection(before)))
        if hit.force == "sentence":
            # "they walked out" right after a sentence about soldiers: the pronoun carries the context
            subject = lows[max(0, hit.start - 2):hit.start]
            counted = any(w[:1].isdigit() for w in subject)  # "a total of 15,000 have joined the CDM"
            return has_force or armed or ((near_force or (counted and force_ahead))
                                          and (bool(_PRONOUN_SUBJECTS.intersection(subject)) or counted))
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
        picked = [_pick_count(quantities, sent[h.start].idx - sent.start_char, ("people", "bare"),
                              single_ok=h.form == "event" and not {"who", "that", "which"}.intersection(
                                  lows[max(0, h.start - 3):h.start]), sent_text=sent.text) for h in events or [anchor]]
        if events:  # a running total stated in a reporting sentence belongs to no single verb
            picked += [q for q in quantities if q.total and not (q.subset or q.casualty)]
        people = max((q for q in picked if q is not None), key=lambda q: q.value, default=None)
        weapons_total = list_total([q for q in quantities if modality == "report" or not q.single], sent.text,
                                   "weapons", self.nouns) if kind == "defection" else None
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
            "weapons_count": weapons_total,
            "ranks": unique(span.kb_id_ for span in _in_sentence(ranks, sent)),
            "units": unique(span.text for span in units),
            "orgs": unique(span.kb_id_ for span in sent_orgs),
            "locations": unique(span.text for span in _in_sentence(places, sent)),
            "country": country,
            "source_party": _source_party(sent, lows, sent_orgs),
            "start_char": sent.start_char,
            "end_char": sent.end_char,
        }


_MONTH_CONTEXT = frozenset("in since from until till of early late mid last this next by during end".split())


def _lower_words(sent: Span) -> list[str]:
    """Lower-case words, with the month "May" told apart from the modal ("in May 2024" is no hedge)."""
    lows = [t.lower_ for t in sent]
    for k, tok in enumerate(sent):
        if lows[k] == "may" and tok.text == "May" and k > 0 and (
                lows[k - 1] in _MONTH_CONTEXT or lows[k - 1].isdigit()
                or (k + 1 < len(lows) and (lows[k + 1][:1].isdigit() or lows[k + 1] in (",", ".")))):
            lows[k] = "may_month"
    return lows


_ESCAPE_FORMS = {"escaped": "event", "fled": "event", "deserted": "event", "absconded": "event", "escape": "noun",
                 "escapes": "noun", "escaping": "ing", "fleeing": "ing"}
_ESCAPED_FROM = frozenset("training depot depots camp school custody captivity pdf pdfs kndf knla knu kia aa tnla "
                          "mndaa cdf resistance refuge guerrilla revolutionary force forces".split())


_CONSCRIPTED = frozenset("conscripts conscript conscripted recruits recruited trainees trainee draftees abducted "
                         "training depot custody captivity escapees".split())
_EVADING = frozenset("avoid avoiding evade evading dodge dodging".split())


def _deserting_conscripts(lows: Sequence[str]) -> list[_Hit]:
    """In a sentence about conscription, "escaped from the training school", "fled to join the PDF":
    conscripts and trainees who get away are deserters, so these are defection triggers too."""
    words = set(lows)
    if not (_ESCAPED_FROM & words and _CONSCRIPTED & words) or _EVADING & words:
        return []  # "young people fled abroad to avoid being called up" is draft evasion, not desertion
    return [_Hit("defection", "desert", _ESCAPE_FORMS[w], "", k, k + 1) for k, w in enumerate(lows)
            if w in _ESCAPE_FORMS and (_ESCAPE_FORMS[w] != "noun" or (k > 0 and lows[k - 1] in ("a", "the", "mass")))]


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


def spans_by_start(doc: Doc, group: str) -> _SpanIndex:
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


def unique(items: Iterable[str]) -> tuple[str, ...]:
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
        trigger_end = sent[hit.end - 1].idx + len(sent[hit.end - 1]) - sent.start_char
        if any(q.category == "people" and not (q.subset or q.casualty or q.size or q.single)
               and (q.start <= trigger_char <= q.end or 0 <= trigger_char - q.end <= 80 or 0 <= q.start - trigger_end <= 80)
               and not _CLAUSE_CHANGE.search(sent.text[min(q.end, trigger_end):max(q.start, trigger_char)])
               for q in quantities):  # "64 soldiers sought the People's Embrace", not a count in another clause
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
        if hit.form == "ing" and prev in ("after", "since", "upon") and (
                _MODALS.intersection(lows[:i]) or _GENERIC_HEADS.intersection(lows[:i])
                or _WISH_OR_PLAN.intersection(lows[:i])):
            return False  # "a plan for those who ... after defecting": hypothetical
        if hit.form == "ing" and prev in ("are", "were", "is", "was", "been", "be", "after", "since", "upon"):
            return True  # "are defecting", "after defecting"
        # "40 soldiers defect ...", "with 64 personnel, including a major, seeking refuge": a counted subject
        return any(q.category == "people" and not (q.size or q.single or q.subset) and q.end <= trigger_char
                   and (hit.form == "base" or q.start >= sent[cs].idx - sent.start_char) for q in quantities)
    rel = next((j for j in range(i - 1, max(cs, i - 4) - 1, -1) if lows[j] in ("who", "that")), None)
    if rel is not None and rel > 0:
        head = lows[rel - 1]
        if head in _GENERIC_HEADS:
            return False
        if nouns.get(head) == "people" and not _specific_np(lows, cs, rel):
            return False  # "soldiers who defected would receive": a class of people, not an event
        if _MODALS.intersection(lows[hit.end:hit.end + 15]) and not any(
                q.category == "people" and not q.single and q.end <= trigger_char for q in quantities):
            return False  # "a policy so that the police who defected can continue": a class again
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
    attributed = bool(_ATTRIBUTION_WORDS.intersection(lows))
    previous: Optional[tuple[_Hit, Optional[bool]]] = None
    for hit in sorted(hits, key=lambda h: h.start):
        cs, ce = _clause(lows, hit.start)
        in_clause = [c for c in cues if cs <= c[1] < ce]
        labels = {c[0] for c in in_clause}
        event = _is_event(hit, sent, lows, quantities, nouns)
        if event and previous is not None and previous[1] is False and previous[0].start >= cs \
                and "and" in lows[max(previous[0].end, hit.start - 2):hit.start]:
            event = False  # "those who defected and sought refuge": the second verb shares the first's subject
        previous = (hit, event)
        speculative = any(lows[j] in _SPECULATIVE for j in range(cs, hit.start))
        if "rumour" in labels and attributed and all(lows[c[1]] == "reportedly" for c in in_clause if c[0] == "rumour"):
            labels.discard("rumour")  # "... reportedly surrendered, the KNDF said": an attributed report
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


_CLAUSE_CHANGE = re.compile(r"\b(?:said|says|told|added|according)\b|;")


def _pick_count(quantities: Sequence[Quantity], anchor_char: int, categories: Sequence[str],
                single_ok: bool = False, sent_text: str = "") -> Optional[Quantity]:
    """The count that belongs to the trigger: nearest before it (subject), else just after (object).

    A count of one without a numeral ("a soldier", "Captain Aung Ko") only counts as the
    subject right before an event verb ("Captain Aung Ko defected" is 1).
    """
    usable = [q for q in quantities if q.category in categories and not (q.subset or q.casualty or q.size)
              and (not q.single or (single_ok and q.end <= anchor_char <= q.end + (
                  15 if q.noun in ("he", "she") else 100)))]
    before = [q for q in usable if q.start <= anchor_char]
    if before:
        return min(before, key=lambda q: anchor_char - q.end)
    after = [q for q in usable if q.start > anchor_char and q.start - anchor_char <= 120
             and not _CLAUSE_CHANGE.search(sent_text[anchor_char:q.start])]
    return min(after, key=lambda q: q.start - anchor_char) if after else None


_ATTRIBUTION_WORDS = frozenset("said says told according announced stated confirmed".split())
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
