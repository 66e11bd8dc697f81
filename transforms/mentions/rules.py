"""The ``newswatch_mentions`` spaCy component: rules for defection and conscription mentions.

Input: a ``Doc`` already annotated by ``newswatch_sentences`` and ``newswatch_gazetteer``
(:mod:`~newswatch.transforms.mentions.components`); output: one draft per mention sentence
and kind in ``doc.user_data["nw_mentions"]``, a plain dict holding the
:class:`~newswatch.records.Mention` fields that the rules decide plus the sentence's
``start_char`` / ``end_char`` (:func:`~newswatch.transforms.mentions.step.extract_article` turns
drafts into records). Trigger words and modality cues (``triggers.jsonl``,
``modality.jsonl``) are found by one PhraseMatcher pass; token Matcher patterns run on the
candidate sentences only; rules then decide kind, modality, counts, orgs, places and
attribution (modality, count picking and attribution live in
:mod:`~newswatch.transforms.mentions.modality`; context checks such as retreats and
deserting conscripts in :mod:`~newswatch.transforms.mentions.context`; word lists in
``words.jsonl``).

Example::

    nlp = build_nlp()  # newswatch.transforms.mentions.step
    nlp("Twelve soldiers defected to the KNDF on Monday, the group said.").user_data["nw_mentions"]
    # [{'kind': 'defection', 'modality': 'report', 'people_count': 12, ..., 'orgs': ('KNDF',), ...}]
"""

from __future__ import annotations

import bisect
import re
from typing import Iterable, NamedTuple, Optional, Sequence

import numpy
import spacy
from spacy.attrs import LOWER, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from newswatch.transforms.mentions.components import (
    boilerplate_ranges, doc_text, force_nouns, in_ranges, load_noun_lexicon, load_patterns, phrase_variants, word_sets)
from newswatch.transforms.mentions.context import (
    FAR_COUNTRIES, _COMPULSION, _INSTITUTIONS, _JUNTA_SOURCE, _MILITIA, _NOT_LEFT_AFTER, _REPATRIATED, _ROUT_TRIGGERS,
    _TIME_LINKS, _RESISTANCE_SIDE, _VOLUNTARY_IN_MILITIA, _deserting_conscripts, _evading_draft, _quota, _retreat,
    debunks_claim, refutes_claim, story_context)
from newswatch.transforms.mentions.itemised import itemised_counts
from newswatch.transforms.mentions.modality import (
    _CLAUSE_CHANGE, _ENQUIRY, _MODALS, CLAIMS, FALSE, _clause, _force_breakdown, _Hit, _modality, _pick_count,
    _source_party, named_act)
from newswatch.transforms.mentions.number_lists import _ANYONE, _singular, find_quantities, list_total
from newswatch.transforms.mentions.numbers import (
    _ELIDED_MORE, _NUMBER_WORDS, _TITLES, RUNNING_TOTAL_TO, Quantity, parse_number)

_W = word_sets()
_VERB_CONTEXT = _W["verb_context"]
_PRONOUN_SUBJECTS = _W["pronoun_subjects"]
_CIVIL_RANKS = _W["civil_ranks"]
_CONTINUATION_STARTS = _W["continuation_starts"]
_LISTING_VERBS = _W["listing_verbs"]
_BRINGING_VERBS = _W["bringing_verbs"]
_CONSCRIPTION_CONTEXT = _W["conscription_context"]
_RECRUITMENT_CONTEXT = _W["recruitment_context"]
_SPORT_CONTEXT = _W["sport_context"]
_DOC_NOUNS = _W["doc_nouns"]
_WRITTEN_DOCS = _DOC_NOUNS - {"of", "class", "round", "pick", "picks", "report"}  # "the constitution was drafted"
_MONTH_CONTEXT = _W["month_context"]


class _Candidate(NamedTuple):
    """A sentence with trigger matches, found by ``MentionRules.match``."""

    sent: Span
    index: int  # position among the doc's sentences
    hits: list[_Hit]
    cues: list[tuple[str, int, int]]  # modality cue label, token offsets inside the sentence
    units: list[Span]


_LONE_FORMS = ("event", "base", "ing", "handover", "handover_ing", "handover_event")


_THOSE_WHO = re.compile(r"[\"“‘']?\s*(?:those|the\s+ones)\s+(?:who|that)\s+(?:had\s+|have\s+)?(?:surrendered|defected|deserted|"
                        r"escaped|fled|crossed|joined|arrived)\b[^.;]{0,60}?\b(?:were|are|comprised|included)\s", re.I)
_VAGUE_GROUP = re.compile(r"\b(?:dozens|hundreds|thousands|scores|several|numerous|many|some|a\s+few|a\s+handful|"
                          r"a\s+(?:growing\s+|large\s+|small\s+|rising\s+)?number)\s+(?!\d|about\b|around\b)(?:of\s+)?"
                          r"((?:[\w'’-]+\s+){0,3}[\w'’-]+)", re.I)  # not "some 200 soldiers"
_COMRADES = re.compile(r"\b(?:his|her|their|fellow)\s+(?:fellow\s+|former\s+)?(?:colleagues|comrades|men)\b", re.I)
_THEY_BROUGHT = (r"(?:(?:(?!\bsaid\b|\btold\b|\bsays\b)[^.;\"“”]){0,200}?\s)?(?:also\s+)?(?:brought|carried(?!\s+out)|"
                 r"handed\s+over|laid\s+down|came\s+with|arrived\s+with|returned\s+with|yielded|turned\s+over|"
                 r"turned\s+in|handed\s+in|"
                 r"(?:take|takes|took|bring|brings)\s+along|"  # translated English: "They take along three hand of MA-1"
                 r"deposited|submitted|surrendered(?=\s+(?:\w+\s+){0,4}?"
                 r"(?:firearms|weapons|guns|rifles?|pistols?|revolvers?|carbines?)\b)|"
                 # "The deserting soldiers ... took 4 Galil 5.56 rifles"
                 r"took(?=\s+(?:with\s+them\s+)?(?:\S+\s+){0,4}?(?:firearms|weapons|guns|rifles?|pistols?|revolvers?|carbines?)\b)|"
                 # "The men ... reached KNLA lines near Kawkareik with nine assault rifles", "They arrived at our side
                 # with 6 hands of arms"
                 r"(?:reached|arrived|crossed)(?=[^.;]{0,80}?\bwith\s+(?:\w+\s+){0,2}?(?:\d|one|two|three|four|five|"
                 r"six|seven|eight|nine|ten|their|his|an?)\b))\b")
_THE_DEFECTORS = (r"(?:the|these)\s+(?:surrendered\s+)?(?:[\w()-]+\s+){0,2}?(?:men|soldiers|defectors|deserters|sailors|police\w*|officers|"
                  r"group|conscripts|rebels|fighters|insurgents|militants|returnees|surrenderers|surrenderees|duo|pair|trio|"
                  r"cadres|members|guerrillas|ultras|naxalites|naxals|maoists|outlaws|extremists|troops|"
                  r"personnel)")  # also "the seven BIFF members", "the surrendered militants", "These militants"
# "They brought two rifles", "Four of them carried out their MA-1 rifles", "X said the surrenderees yielded 11 firearms"
# (after "X said", only a noun names the defectors: "villagers said they had brought 40 rifles" is the villagers)
_BROUGHT_BY_THEM = re.compile(
    rf"(?:(?:according\s+to\s+[^,]{{1,60}},\s*|(?:at|during|after|upon|on|before)\s+[^,]{{1,40}},\s*)?(?:they|{_THE_DEFECTORS}|\w+\s+of\s+them"
    # "At the ceremony, those who returned handed over one MA-1 rifle, ..."
    rf"|those\s+who\s+(?:had\s+)?(?:returned|surrendered|defected|arrived|came|joined))|"

    rf"(?:[^.;\"“”]|\.(?=\s[A-Z])){{1,120}}?\s(?:said|says|added|noted)\s+(?:that\s+)?{_THE_DEFECTORS}),?\s+{_THEY_BROUGHT}",
    re.I)  # ("Capt. Bala Tumayo ... said": a title's full stop)
# "The group also handed over weapons to the PDF. These included four MA-1 rifles, ..."
_THESE_INCLUDED = re.compile(r"(?:(?:and\s+)?among\s+)?(?:these|the\s+(?:surrendered\s+|deposited\s+)?(?:weapons|arms|firearms))\s+"
                             # "And among the weapons they brought with them were two rocket launchers, one gun ..."
                             r"(?:(?:that\s+|which\s+)?they\s+(?:brought|bring|handed\s+over|surrendered|deposited|carried)"
                             # ("The arms they bring along are two hands of MA-2 rifle, ...": translated English)
                             r"(?:\s+with\s+them|\s+along)?\s+(?:were|was|are|is)|included|include|comprised|consisted\s+of)\b"
                             r"|these\s+(?:were|are)\b",  # "They brought their weapons with them. These were eleven ..."
                             re.I)
# "Four AK-rifles, ... and two 9mm pistols were handed over by the surrenderees during the ceremony": the passive
_HANDED_OVER_BY_THEM = re.compile(rf"\b(?:were|was|had\s+been)\s+(?:also\s+)?(?:handed\s+over|surrendered|deposited|laid\s+down|turned\s+over|"
                                  rf"turned\s+in|brought|yielded)\s+by\s+(?:them|{_THE_DEFECTORS})\b", re.I)
# "Eight AK series rifles ... were recovered from them", "Five weapons ... were recovered from cadres during the
# surrender", "Around 70 weapons, mostly rifles, were also turned in.": arms taken from the same people
_RECOVERED_FROM_THEM = re.compile(r"\b(?:were|was|had\s+been)\s+(?:also\s+)?(?:recovered|seized|collected|received|taken)\s+"
                                  r"from\s+(?:(?:the|their)\s+possession(?:\s+of)?\s+)?"  # "from the possession of"
                                  r"(?:them|(?:the\s+)?(?:surrendered\s+)?(?:cadres|militants|surrenderees|surrenderers|rebels|insurgents|"
                                  r"fighters|defectors|deserters|soldiers|returnees|individuals|persons|members|men|"
                                  r"bandits))\b"
                                  r"|\b(?:were|was)\s+also\s+(?:turned|handed)\s+(?:in|over)\s*[.;]?\s*$"
                                  # "Police recovered the following items from the possession of the two cadres: ..."
                                  r"|\brecovered\s+(?:the\s+following\s+(?:items|weapons|arms)\s+)?from\s+(?:the|their)\s+"
                                  r"possession\s+of\s+(?:the\s+)?(?:[\w()-]+\s+){0,3}?(?:cadres|militants|rebels|insurgents|"
                                  r"fighters|defectors|deserters|surrenderees|returnees)\b"
                                  # "officials received 11 firearms, eight hand grenades and ammunition from the returnees"
                                  r"|\b(?:received|accepted|collected)\s[^.;]{0,120}?\bfrom\s+(?:them|the\s+(?:surrendered\s+)?"
                                  r"(?:returnees|defectors|deserters|surrenderees|surrenderers|cadres|militants|rebels|"
                                  r"insurgents|fighters))\b", re.I)
# "Along with them, 2 hand of MA-3 and 1 hand of MA-1 and the ammunitions about 300 was brought, it is said."
_ALONG_WITH_THEM = re.compile(r"\W*(?:along|together)\s+with\s+them\s*,[^.;]{0,160}?\b(?:was|were)\s+(?:also\s+)?"
                              r"(?:brought|carried|handed\s+over|taken)\b", re.I)
_FLED_THE_ARMY = re.compile(r"\b(?:campaign|crackdown|violence|attacks?|operations?|offensive|persecution|atrocities|abuses|"
                            r"air\s*strikes|shelling|clearance)\b[^.;]{0,40}?\bby\s+(?:the\s+)?(?:myanmar\s+|burmese\s+)?"
                            r"(?:military|army|junta|tatmadaw|regime|troops)\b", re.I)
_RESISTANCE_NAMES = frozenset("aa arakan bpla cdf chinland cna cnf ctu kia kna kndf knla knpp knu kpla mdf mndaa nug pdf pdfs "
                               "plaf resistance tnla ydf".split())
_RETREATING = frozenset("retreating retreated retreat withdrawing routed".split())
_OWN = frozenset("their his her your my our".split())  # "abandoned their posts", "leave your posts": their own, deserted
_DEFIED_ORDERS = re.compile(r"\b(?:could\s+not|would\s+not|could\s+no\s+longer|did\s+not\s+want\s+to|refused\s+to|"
                            r"refusing\s+to|declined\s+to)\s+(?:obey|follow|carry\s+out|execute)\b|\bdefied\s+(?:the\s+)?"
                            r"(?:\w+\s+){0,2}orders\b", re.I)
_ADJECTIVE_THEN_NAME = re.compile(r"\S+\s+[\w-]+\s+(?:named|called)\s+")
# "After defecting in March, Captain Zin Yaw told ...": the one who did it is the subject after the fronted clause
_FRONTED_ACT = re.compile(r"(?:^|\W)(?:after|since|upon)\s+$", re.I)
_FRONTED_CLAUSE = re.compile(r"\w+ing\b[^,;.:]{0,60},\s*(?:(?:[A-Z][\w'’-]+\s*){1,4},\s*)?")  # "..., Khin Soe, a major"
_CAPTIVE_FIRST = re.compile(r"(?:captured|detained|arrested|jailed|imprisoned)\b", re.I)  # "Captured General X ..."


def _name_key(phrase: str, nouns: dict) -> Optional[frozenset]:
    """The name words of one counted person ("Private Maung Ye Htet" -> {Maung, Ye, Htet}); None without a name."""
    words = [w for w in re.findall(r"\b[A-Z][\w'’-]*", phrase)
             if w.lower() not in _TITLES and not nouns.get(w.lower()) and w.lower() not in ("a", "an", "the", "another")]
    return frozenset(words) if len(words) >= 2 else None


# "a commander ... had defected with some of his troops": one man and an uncounted group
_WITH_UNCOUNTED = re.compile(r"\bwith\s+(?:some|several|many|dozens|scores|hundreds|a\s+few|a\s+handful|a\s+number)\s+"
                             r"(?:of\s+)?(?:his|her|their)\s+(?:own\s+)?(?:troops|soldiers|men|fighters|followers|"
                             r"comrades|colleagues|officers|bodyguards|policemen)\b", re.I)
# "Six ultras from NSCN (IM), one from NSCN (K), four from FGN and one from NDFB laid down ...": the noun said once
_FROM_GROUP = re.compile(r"\s+from\s+[^,;.]{1,40}?(?=,|\s+and\s)")
_ELIDED_PART = re.compile(r"(?:,\s*(?:and\s+)?|\s+and\s+)(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                          r"twelve|[a-z]+teen|twenty|thirty|forty|fifty)\s+from\s+[^,;.]{1,40}?(?=,|\s+and\s|\s+[a-z]+\b)", re.I)


def _elided_parts(text: str, end: int) -> int:
    """What "one from B, four from C and one from D" adds to a count "Six ultras from A" that ends at ``end``."""
    first = _FROM_GROUP.match(text, end)
    if first is None or _ELIDED_MORE.match(text, end):
        return 0  # ("two policemen from Tonzang and one from Tamu": the count already took its second part)
    pos, extra = first.end(), 0
    while (part := _ELIDED_PART.match(text, pos)) is not None:
        extra += parse_number(part.group(1)) or 0
        pos = part.end()
    return extra


# "Ko Nay Lin, a former police sergeant who defected in 2021": the name set beside "a former ..." (not "In Mandalay
# Region, a soldier"): a name opens the sentence or follows a lower-case word, and no word of it names a place or a unit
_APPOSED_NAME = re.compile(r"(?:^|\b[a-z]+\s+)((?:[A-Z][\w'’-]*\s+){1,3}[A-Z][\w'’-]*),\s+(?:\d{1,2},\s+)?$")
_NOT_NAME_WORDS = frozenset("in on at after before when while the a an this that last since during meanwhile but and "
                            "region state township district division army force forces battalion command village "
                            "town city camp".split())


def _apposed_name(sent_text: str, people: Quantity, nouns: dict) -> Optional[frozenset]:
    """The name key of one counted person told as "Name, a former sergeant who defected"; None otherwise."""
    if not re.match(r"an?\s", sent_text[people.start:people.end], re.I):
        return None
    name = _APPOSED_NAME.search(sent_text, max(0, people.start - 60), people.start)
    if name is None or any(w.lower() in _NOT_NAME_WORDS for w in name.group(1).split()):
        return None
    return _name_key(name.group(1), nouns)


def _distinct_names(keys: Iterable[Optional[frozenset]]) -> int:
    """How many different people the named single defectors are ("Ko Aung Ko" and "Captain Aung Ko" are one)."""
    seen: list[frozenset] = []
    for key in keys:
        if key is None:
            continue
        same = next((k for k, old in enumerate(seen) if key <= old or old <= key), None)
        if same is None:
            seen.append(key)
        elif len(key) > len(seen[same]):
            seen[same] = key
    return len(seen)


_DRAFT_DODGE = re.compile(r"\bto\s+(?:avoid|evade|escape|dodge)\s+(?:being\s+(?:called\s+up|conscripted|drafted|recruited)|"
                          r"(?:the\s+)?(?:draft|call-up|call\s+-\s+up|conscription|military\s+service))\b")
# "young men and women ... who fled the military council's conscription lottery have arrived in areas controlled by KNU"
_FLED_THE_DRAFT = re.compile(r"\b(?:fled|fleeing|escaped|escaping|avoided|avoiding|evaded|evading|dodged|dodging)\s+(?:the\s+)?"
                             r"(?:[\w'’-]+\s+){0,3}?(?:conscription|draft|call-up|lottery|military\s+service)"
                             r"(?:\s+(?:lottery|law|drive|orders?))?\b"
                             r"(?!\s+(?:training|school|camp|centre|center|unit|battalion))")
_HELD_BY_DRAFT = frozenset("recruited conscripted drafted enlisted abducted".split())
_YOUNG_CIVILIANS = frozenset("young youths youth students graduates civilians".split())
_SINCE_THE_DRAFT = re.compile(r"\b(?:since|after|as|because|amid|following)\b[^.;]{0,80}?\b(?:call\s*-\s*ups?|call-ups?|"
                              r"conscription|draft|military\s+service|lotter(?:y|ies))\b")
_DISPLACED = frozenset("locals idps idp villagers residents civilians refugees families displaced".split())
_SPORTSPEOPLE = frozenset("swimmer swimmers athlete athletes footballer footballers player players boxer boxers runner "
                          "runners wrestler wrestlers sprinter sprinters cyclist cyclists weightlifter weightlifters "
                          "gymnast gymnasts referee referees".split())
_NOT_NAME_TOKENS = frozenset("the a an he she they it we i his her their its this that these those on in at after before when "
                             "while then but and or junta regime military army police government state region township "
                             "district division village town city monday tuesday wednesday thursday friday saturday sunday "
                             "january february march april may june july august september october november december".split())


def _name_subject(events: Sequence[_Hit], sent: Span, lows: Sequence[str], places_orgs: Sequence[Span], nouns: dict) -> bool:
    """"..., Min Thant fled his unit with his MA-3 rifle": a bare name, two to four capitalised words that name no place,
    organisation or noun of the lexicon, is the subject of the act (a story told of one person without his title)."""
    covered = {t for span in places_orgs for t in range(span.start, span.end)}
    for h in events:
        if h.form != "event" or not any(t.is_lower for t in sent[h.end:h.end + 4]):
            continue  # (a headline in title case names no one this way)
        k = h.start
        while k > 0 and h.start - k < 4 and sent[k - 1].is_title and sent[k - 1].is_alpha \
                and lows[k - 1] not in _NOT_NAME_TOKENS and not nouns.get(lows[k - 1]) and sent[k - 1].i not in covered:
            k -= 1
        if 2 <= h.start - k <= 4 and (k == 0 or lows[k - 1] in (",", "and", "then")):
            return True
    return False


def _lone_anchor(hit: _Hit, lows: Sequence[str]) -> bool:
    """A trigger whose subject may be the one defector: a verb, a handover, or "a defector" itself."""
    return hit.form in _LONE_FORMS or (hit.form == "noun" and lows[hit.start] in ("defector", "deserter")
                                       and not {"a", "an"}.isdisjoint(lows[max(0, hit.start - 3):hit.start]))


def _lone_defector(quantities: Sequence[Quantity], anchors: Sequence[int], text: str) -> bool:
    """A single person ("a sergeant", "Captain Aung Ko", "he") is the subject of a defection verb, and no group is counted."""
    if any(q.category in ("people", "bare") and not (q.single or q.subset or q.casualty or q.size) for q in quantities):
        return False
    return any(q.single and q.category == "people" and not q.noun.endswith(("s", "men", "first"))
               and not _CAPTIVE_FIRST.match(text, q.start)  # "Captured Junta General Demands Surrender"
               and (q.end <= a and a - q.end <= (30 if q.noun in ("he", "she", "i") else 160)
                    and not _CLAUSE_CHANGE.search(text, q.end, a)
                    or q.start < a < q.end  # "a defected soldier": the act inside the phrase
                    or _ADJECTIVE_THEN_NAME.fullmatch(text, a, q.start) is not None  # "a defected soldier named X"
               or q.start > a and _FRONTED_ACT.search(text[max(0, a - 8):a]) is not None
               and _FRONTED_CLAUSE.fullmatch(text, a, q.start) is not None)  # "After defecting in March, Captain X"
               for a in anchors for q in quantities)


class MentionRules:
    """Finds mention sentences and decides kind, modality, counts, orgs, places and attribution."""

    def __init__(self, nlp: Language, name: str = "newswatch_mentions"):
        self.name = name
        self.nouns = load_noun_lexicon()
        noun_rows = load_patterns("nouns.jsonl")
        self.force_words = force_nouns()
        self.force_people = frozenset(r["word"] for r in noun_rows if r["force"] and r["category"] == "people") \
            | {"defector", "defectors", "deserter", "deserters", "corporal", "sergeant", "private", "captain", "major",
               "lieutenant", "officer", "policeman", "policemen"}
        self.non_military = frozenset(r["word"] for r in noun_rows if r["category"] == "non_military")
        # literal trigger and cue phrases: one PhraseMatcher pass over the whole text
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        # patterns with wildcards: a token Matcher, run on candidate sentences only
        # one Matcher per anchor word: a sentence runs only the patterns whose first word it contains
        self.matchers: dict[str, Matcher] = {}
        self.reach: dict[str, Optional[int]] = {}  # the most tokens a pattern of that anchor can span (None: no limit)
        # words one of which must follow the anchor inside its reach for any of its patterns to match (None: no such set);
        # most anchor words ("have", "two", "people") match nothing, and this skips the Matcher call for them
        required: dict[str, Optional[set[str]]] = {}
        self.triggers: dict[str, _Hit] = {}
        phrase_groups: dict[str, set[str]] = {}

        for row in load_patterns("triggers.jsonl"):
            force = row["force"]
            meta = _Hit("defection" if row["label"] == "DEFECTION" else "conscription", row["id"], row["form"],
                        force if isinstance(force, str) else ("near" if force else ""), 0, 0)
            key = f"T_{meta.kind}_{meta.trigger}_{meta.form}_{meta.force}"
            self.triggers[key] = meta
            if isinstance(row["pattern"], str):
                phrase_groups.setdefault(key, set()).update(phrase_variants(row["pattern"]))
            else:
                reach = _reach(row["pattern"])
                for word in _first_words(row["pattern"]):
                    self.matchers.setdefault(word, Matcher(nlp.vocab)).add(key, [row["pattern"]])
                    known = self.reach.get(word, 0)
                    self.reach[word] = None if known is None or reach is None else max(known, reach)
                    words = _required_words(row["pattern"])
                    needed = required.get(word, set())
                    required[word] = None if needed is None or words is None else needed | words
        for row in load_patterns("modality.jsonl"):
            phrase_groups.setdefault(f"C_{row['label']}", set()).update(phrase_variants(row["pattern"]))
        for word in self.matchers:
            phrase_groups[f"A_{word}"] = {word}
        self.required = {word: None if words is None else frozenset(nlp.vocab.strings.add(w) for w in words)
                         for word, words in required.items()}
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
        sents = _sentences(doc)
        starts = [s.start for s in sents]
        boiler = boilerplate_ranges(doc)
        strings = doc.vocab.strings
        found: dict[int, tuple[list[_Hit], list[tuple[str, int, int]], list[tuple[str, int]]]] = {}
        lowers: Optional[list[int]] = None  # each token's lowercase form, read once when an anchor needs it
        for key_id, s, e in self.phrases(doc):
            k = bisect.bisect_right(starts, s) - 1
            hits, cues, anchored = found.setdefault(k, ([], [], []))
            key = strings[key_id]
            offset = starts[k]
            if key.startswith("A_"):
                anchored.append((key[2:], s))
            elif key.startswith("C_"):
                cues.append((key[2:], s - offset, e - offset))
            else:
                hits.append(self.triggers[key]._replace(start=s - offset, end=e - offset))
        out = []
        for k in sorted(found):
            hits, cues, anchored = found[k]
            sent = sents[k]
            if not (hits or anchored) or in_ranges(boiler, sent.start_char):
                continue
            for word, at in anchored:
                # a pattern starts at its anchor word: match only from there, as far as the anchor's longest pattern reaches
                reach = self.reach[word]
                end = sent.end if reach is None else min(sent.end, at + reach)
                needed = self.required[word]
                if needed is not None:
                    if lowers is None:
                        lowers = doc.to_array(LOWER).tolist()
                    if needed.isdisjoint(lowers[at + 1:end]):
                        continue
                window = doc[at:end]
                shift = at - sent.start
                hits.extend(self.triggers[strings[key_id]]._replace(start=shift + s, end=shift + e)
                            for key_id, s, e in self.matchers[word](window) if s == 0)
            units = spacy.util.filter_spans(self.units(sent, as_spans=True)) \
                if any(h.kind == "defection" for h in hits) else []
            if hits:
                out.append(_Candidate(sent, k, _dedupe_hits(hits), sorted(cues, key=lambda c: c[1]), units))
        return out

    def set_annotations(self, doc: Doc, matches: Sequence[_Candidate]) -> None:
        """Store mention drafts (plain dicts) in ``doc.user_data['nw_mentions']``."""
        drafts: list[dict] = []
        sents = _sentences(doc) if matches else []
        last_defection = -10
        force_cache: dict[int, bool] = {}
        places = spans_by_start(doc, "nw_places")
        orgs = spans_by_start(doc, "nw_orgs")
        ranks = spans_by_start(doc, "nw_ranks")
        countries = spans_by_start(doc, "nw_countries")
        doc_country = doc.user_data.get("nw_country")
        reports: dict[int, dict] = {}
        drafted_for_service = False
        text = doc_text(doc) if matches else ""
        whole_story = story_context(text)
        for sent, k, hits, cues, units in matches:
            lows = _lower_words(sent)
            # "Two soldiers who deserted their unit crossed into Mizoram": a rout told far off is background here
            story = whole_story.around(text, sent.start_char) if _SAYS_DESERTED.intersection(lows) else whole_story
            sent_text = text[sent.start_char:sent.end_char]  # Span.text would rebuild it from the tokens each time
            quantities = find_quantities(sent_text, self.nouns, singles=True)
            sent_ranks = _in_sentence(ranks, sent)
            # "Captain Aung Myo defected to the NUG": a rank that could be a ship's or a team's, going over to the resistance
            has_force = self._has_force(lows) or _members_of_force(lows, self.force_words) or any(
                r.kb_id_ not in _CIVIL_RANKS for r in sent_ranks) or (
                bool(sent_ranks) and bool(_RESISTANCE_SIDE.intersection(lows)))
            armed = any(self.nouns.get(w) == "weapons" for w in lows)  # "walked out with their rifles"
            # ("from a different company", right after a defection, is a military company)
            non_military = not has_force and not self.non_military.isdisjoint(lows) and bool(
                (self.non_military - (_UNIT_LIKE if last_defection >= k - 2 or _UNIT_POST.search(" ".join(lows))
                                      else frozenset())).intersection(lows))  # ("the company's hilltop camp")
            near_force = has_force or (not non_military and (
                last_defection >= k - 3 or any(self._force_at(sents, j, force_cache) for j in (k - 1, k - 2) if j >= 0)))
            hits = hits + _deserting_conscripts(lows)
            if not drafted_for_service:  # "five of the nine arrested escaped" deserts only people held for the draft
                hits = [h for h in hits if h.trigger != "escaped_custody"]
            hits = _narrative_escapes(hits, lows, story.held_for_service)
            if not story.defection_story:  # "five Venezuelan soldiers crossed into Colombia": maybe an incursion
                hits = [h for h in hits if not (h.trigger == "flee_abroad" and lows[h.end - 1] in FAR_COUNTRIES)]
            if story.political and not has_force:  # "the LP defectors took their oath" in a story of lawmakers
                hits = [h for h in hits if h.kind != "defection"]
            if story.civilian:  # "An unarmed North Korean man presumed to be a civilian" defected: no soldier named
                hits = [h for h in hits if h.kind != "defection"
                        or self.force_people.intersection(lows[max(0, h.start - 12):h.start])]
            # "thousands were killed and roughly 840,000 others fled to neighboring Bangladesh": the people who fled
            # the killing, not soldiers
            hits = [h for h in hits if not (h.trigger == "flee_abroad" and not _CIVILIAN_FLIGHT.isdisjoint(
                lows[max(0, h.start - 3):h.start]) and "killed" in lows[max(0, h.start - 12):h.start])]
            # "the town is quiet and deserted", "streets remained deserted": a place left empty
            hits = [h for h in hits if not (lows[h.start] == "deserted" and h.end - h.start == 1 and h.start and (
                lows[h.start - 1] in _EMPTY_PLACE or lows[h.start - 1] == "and" and lows[h.start - 2:h.start - 1] in (
                    ["quiet"], ["empty"], ["silent"], ["abandoned"])))]
            if any(h.trigger == "minor_recruited" for h in hits) and not _MINOR.search(sent_text):
                # "a 14-year-old boy persuaded to join the army": a child recruited
                hits = [h for h in hits if h.trigger != "minor_recruited"]
            if not story.forced_porters:  # "villagers taken as porters", not "dock porters went on strike"
                hits = [h for h in hits if not (h.trigger == "forced_portering" and h.form == "noun")]
            # "crossed into Mizoram saying they could not obey the regime's orders": no rout told elsewhere in the
            # story makes that flight a rout
            defied = (story.overrun or bool(story.retreat_triggers)) and bool(_DEFIED_ORDERS.search(sent_text))
            if story.overrun and not defied:  # "troops fled the outposts" that the other side then took: a rout
                hits = [h for h in hits if not (h.trigger == "leave_post" and lows[h.end - 1] in _PLACES_OVERRUN
                                                 or h.trigger == "flee_abroad"
                                                 # "soldiers ran away with weapons" from the battalion that fell
                                                 or h.trigger in ("desert_armed", "walk_out") and lows[h.start] == "ran"
                                                 and not _goes_to_resistance(lows[h.end:h.end + 10])
                                                 or h.trigger in ("cross_over", "surrender")
                                                 and _ABROAD.intersection(lows[h.end:h.end + 4])
                                                 # "surrendered before the paramilitary force 'Assam Rifles' in
                                                 # Mizoram": to a foreign force, named later in the clause
                                                 or h.trigger in ("surrender", "give_up") and _FOREIGN.intersection(
                                                     lows[h.end:h.end + 12])
                                                 # "approached an Assam Rifles post, where they handed over their weapons"
                                                 or h.trigger == "lay_down_arms" and _FOREIGN.intersection(
                                                     lows[max(0, h.start - 12):h.end + 12]))]
                if _AFTER_OVERRUN.search(sent_text):  # "they fled with their arms after their camps were overrun"
                    hits = [h for h in hits if h.kind != "defection" or _goes_to_resistance(lows[h.end:h.end + 8])]
            if story.refusers and not (self.force_people - _RECRUIT_WORDS).intersection(lows):
                hits = [h for h in hits if h.kind != "defection"]  # civilians who refuse the draft are no deserters
            if ("fle" in sent_text or "Fle" in sent_text or "scap" in sent_text or "roke" in sent_text) \
                    and _FLED_CAPTIVITY.search(sent_text):  # "personnel who fled the detention camp and entered Bangladesh"
                hits = [h for h in hits if h.kind != "defection"]  # prisoners of war getting away, no side switched
            # "800,000 of them fled to Bangladesh following a campaign by the military": they fled the army
            if any(h.trigger in ("flee_abroad", "seek_refuge") for h in hits) and _FLED_THE_ARMY.search(sent_text):
                hits = [h for h in hits if h.trigger not in ("flee_abroad", "seek_refuge")]
            if _RETREATING.intersection(lows) and not defied:  # "around 200 retreating soldiers sought refuge in Thailand"
                hits = [h for h in hits if not (h.trigger in _ROUT_TRIGGERS and not _goes_to_resistance(lows[h.end:h.end + 8]))]
            if story.retreat_triggers and not defied:
                # "the surrendered soldiers were taken into custody by the Assam Rifles" (a rout abroad); "abandoned a
                # hill camp and withdrew to the battalion HQ. 'They deserted their posts'" (a retreat)
                hits = [h for h in hits if not (h.trigger in story.retreat_triggers
                                                and not _goes_to_resistance(lows[h.end:h.end + 8]))]
            # "villagers fled to KIA-controlled areas": a place, not the group
            hits = [h for h in hits if not (h.trigger == "flee_to_group" and h.end < len(lows)
                                            and lows[h.end] in _GROUP_AS_PLACE)]
            # "a retired colonel defected to the National Unity Party": a politician changing parties
            # (also "quit the military-backed party and joined the National Unity Party ... welcomed the defection")
            hits = [h for h in hits if not (h.kind == "defection" and (
                _PARTIES.intersection(lows[h.end:h.end + 10]) and not _ARMED_PARTIES.intersection(lows[h.end:h.end + 10])
                or h.trigger == "switch_sides" and {"politics", "political"}.intersection(lows[h.end:h.end + 6])
                or h.form == "noun" and {"party", "nup", "usdp"}.intersection(lows)
                # "I have defected from the military council's sports federation": a sportsman leaving a sports body
                or _FROM_A_SPORTS_BODY.match(" ".join(lows[h.end:h.end + 9]))
                # "a retired colonel who left the military in 2010 to contest the election": a career change
                or h.trigger == "leave_post" and _TO_POLITICS.search(" ".join(lows[h.end:h.end + 8]))))]
            # "2,000 others have done the same", "he reported to the authorities" need a defection just before ("Another
            # three privates from the same battalion followed him" may come a few sentences after his story)
            if last_defection < k - (5 if lows[:1] == ["another"] else 2):
                hits = [h for h in hits if h.trigger not in ("did_same", "report_in")]  # need a defection just before
            for kind in ("defection", "conscription"):
                valid = [h for h in hits if h.kind == kind and self._valid(h, sent, lows, quantities, self._force_ok(
                    h, lows, has_force, armed, near_force,
                    not non_military and any(self._force_at(sents, j, force_cache) for j in (k + 1, k + 2)
                                             if j < len(sents))), story.press_gang)]
                if not valid:
                    continue
                # "reportedly" is an attributed report when the sentence or a neighbour names a source
                attributed_near = any(t.lower_ in _ATTRIBUTION_NEAR for j in (k - 1, k + 1, k + 2) if 0 <= j < len(sents)
                                      for t in sents[j]) if "reportedly" in lows else False
                draft = self._draft(kind, sent, sent_text, lows, valid, cues, units, quantities, places, orgs, ranks,
                                    countries, doc_country, attributed_near)
                if draft["lone"] and not draft["vague"]:  # "..., he said. Dozens of his colleagues have since followed him"
                    draft["vague"] = self._vague_group(text[sent.end_char:sent.end_char + 300])
                drafts.append(draft)
                drafted_for_service = drafted_for_service or kind == "conscription"
                if kind == "defection":
                    last_defection = k
                    reports[k] = draft
        for k, draft in reports.items():
            if draft["people_count"] is not None and k + 1 < len(sents) and _TOTAL_WITH_FAMILIES.search(sents[k + 1].text):
                draft["people_count"] = None  # "100,000 people have surrendered. Note, this number includes ... families"
                members = [q for q in find_quantities(sents[k + 1].text, self.nouns) if q.category == "people"
                           and q.noun in self.force_people and not (q.subset or q.casualty or q.single)]
                if members:  # "97 people arrived ... That figure includes 41 police officers and 56 of their family members"
                    draft["people_count"] = max(q.value for q in members)
                    draft["count_qualifier"] = "exact"
            corrected = _CORRECT_FIGURE.match(sents[k + 1].text) if k + 1 < len(sents) else None
            if corrected and draft["people_count"] is not None and parse_number(corrected.group(1)):
                # "... stated that 40 police officers had joined the CDM. The correct figure is 14."
                draft["people_count"], draft["count_qualifier"] = parse_number(corrected.group(1)), "exact"
                if draft["modality"] in ("report", "denial") and _CORRECTED.search(sents[k].text):
                    # "An earlier version ... stated that 35 soldiers had defected. The correct number is 25": the
                    # event stands, only its figure was wrong
                    draft["modality"] = "report"
                    continue
            if draft["modality"] == "report" and (k + 1 < len(sents) and (
                    _REFUTED_START.match(sents[k + 1].text) or draft["people_count"] and _NOT_DESERTERS.search(
                        sents[k + 1].text)) or _CORRECTED.search(sents[k].text)):
                draft["modality"] = "denial"  # "Residents said 12 police had defected. That report was false, ..."
        for k, draft in reports.items():
            each = reports.get(k + 1)
            if each is not None and draft["people_count"] is not None and 1 < draft["people_count"] <= 50 \
                    and each["people_count"] is None and each["weapons_count"] == 1 and _EACH_BROUGHT.match(sents[k + 1].text):
                each["weapons_count"] = draft["people_count"]  # "Two police officers joined the KNDF. Each brought his pistol"
        for k, draft in reports.items():
            j = k + 1
            while j < len(sents) and not any(t.is_alpha for t in sents[j]):
                j += 1  # "4." alone: a numbered statement's paragraph marker
            if draft["modality"] == "report" and j < len(sents) and (j not in reports or draft["people_count"] is None and (
                    reports[j]["modality"] == "analysis" and (_OF_THOSE_THERE_WERE.match(sents[j].text)
                                                              or _THEY_WERE_LIST.match(sents[j].text)))):
                # ("They were a captain, two sergeants and eight privates, ..., to arrange their surrender": the list
                # is the count even when the sentence also tells of the act)
                self._counts_from_next(draft, sents[j])
                if draft["people_count"] is None and j + 1 < len(sents) and j + 1 not in reports \
                        and _THEY_WERE_LIST.match(sents[j + 1].text):
                    # "A group of soldiers crossed over. The soldiers, from LIB 376, left their hill post ... They were
                    # one captain, two sergeants and eight privates."
                    self._counts_from_next(draft, sents[j + 1])
            elif draft["modality"] == "report" and draft["people_count"] is None and j in reports \
                    and reports[j]["modality"] == "analysis" and reports[j]["people_count"] is not None \
                    and _THOSE_WHO.match(sents[j].text):
                # "A group of militants surrendered on Monday. Those who surrendered were 23 fighters, 17 women ..."
                draft["people_count"] = reports[j]["people_count"]
                draft["count_qualifier"] = reports[j]["count_qualifier"]
            elif draft["modality"] == "report" and draft["weapons_count"] is None and j in reports \
                    and reports[j]["modality"] == "analysis" and reports[j]["people_count"] is None:
                # "37 soldiers had defected ... The paper said the defecting soldiers had taken 10 weapons with them"
                draft["weapons_count"] = reports[j]["weapons_count"]
        for k, draft in reports.items():
            if draft["modality"] != "report" or draft["people_count"] not in (None, 1):
                continue
            for j in (k + 1, k + 2):
                others = _JOINED_BY_OTHERS.search(sents[j].text) if j < len(sents) and j not in reports else None
                if others and parse_number(others.group(1)):
                    # "A senior general defected Monday. ... Gen. X was joined by more than a dozen other senior
                    # military leaders": he and the dozen
                    draft["people_count"], draft["count_qualifier"] = parse_number(others.group(1)) + 1, "exact"
                    break
        _add_among_parts(reports, sents, text)
        _weapons_of_parts(reports, text)
        for k, draft in reports.items():
            # "They brought two rifles with them," up to eight sentences on: what the same people brought, told later
            later = draft["modality"] == "report" and draft["weapons_count"] is None and (
                draft["people_count"] or draft["lone"] or _WITH_THEIR_ARMS.search(sents[k].text))
            # ("Two brothers from the column have arrived to the revolution side with their arms": the arms named later
            # are theirs, whoever the list below says they are)
            for j in range(k + 1, min(k + 9, len(sents))) if later else ():
                if j in reports and reports[j]["weapons_count"] is None \
                        and reports[j]["people_count"] == draft["people_count"] is not None:
                    continue  # "... the successful surrender of five cadres of KCP": the same five, told again
                if j in reports and reports[j]["modality"] != "report" \
                        and reports[j]["people_count"] == draft["people_count"] is not None:
                    draft["weapons_count"] = reports[j]["weapons_count"]  # "The two surrendered militants also
                    break  # deposited two pistols": the same two, and what they handed in
                if j in reports and (reports[j]["people_count"] is not None or reports[j]["weapons_count"] is not None):
                    if reports[j]["modality"] != "report" and reports[j]["people_count"] is None:
                        # "At the ceremony, those who returned handed over one MA-1 rifle, ...": read as no event of
                        # its own, it tells what the same people brought
                        draft["weapons_count"] = self._weapons_brought(sents[j])
                    break  # another counted event; an uncounted "The cadres laid down their weapons" is the same one
                draft["weapons_count"] = self._weapons_brought(sents[j])
                if draft["weapons_count"] is not None:
                    break
        lone = [k for k, d in reports.items() if d["modality"] == "report" and d["people_count"] == 1]
        if lone and reports[lone[0]]["weapons_count"] is None and not any(
                (d["people_count"] or 0) > 1 or d["weapons_count"] for d in reports.values() if d["modality"] == "report"):
            # an interview with the one defector: "Then one night I took my MA-1 rifle and two magazines, climbed
            # over the back fence ...", told in his own words anywhere after the report
            mine = next((j for j in range(lone[0] + 1, len(sents)) if _I_BROUGHT_MY.search(sents[j].text)), None)
            if mine is not None:
                arms = [q for q in find_quantities(sents[mine].text, self.nouns, singles=True)
                        if q.category == "weapons" and not (q.casualty or q.subset)]
                reports[lone[0]]["weapons_count"] = list_total(arms, sents[mine].text, "weapons", self.nouns) or 1
        for k, draft in reports.items():
            # "The first group brought five rifles with them. The second group ... came with 12 rifles and two pistols"
            if draft["weapons_count"] is not None and k + 1 < len(sents) and k + 1 not in reports \
                    and _FIRST_GROUP.match(sents[k].text) and _SECOND_GROUP.match(sents[k + 1].text):
                draft["weapons_count"] += self._weapons_brought(sents[k + 1]) or 0
        for draft in reports.values():  # "Posts on several Telegram channels claimed that the general had crossed
            # over": what unverified accounts say is a rumour, as "social media posts claimed" is
            if draft["modality"] == "report" and _SOCIAL_WORDS.search(text, draft["start_char"], draft["end_char"]) \
                    and _social_claim(text[draft["start_char"]:draft["end_char"]]):
                draft["modality"] = "rumour"
        if reports and debunks_claim(text):
            for draft in reports.values():  # a fact check that rates the claim false: what it retells is the claim
                if draft["modality"] == "report":
                    draft["modality"] = "rumour"
        if reports and refutes_claim(text):
            for draft in reports.values():  # "The junta announced that two KIA members defected ... false propaganda"
                if draft["modality"] == "report" and _JUNTA_SOURCE.search(
                        text, max(0, draft["start_char"] - 150), draft["end_char"]):
                    draft["modality"] = "rumour"  # the junta's claim, which the story shows to be false
        if reports and "\n" in text:
            _counts_from_lists(drafts, text)
        if reports:
            self._weapons_from_rewards(drafts, text)
        # one defector is the subject of an event and no uncounted group went too: the article's count is 1 if no
        # report states a number (applied by ``labels.article_labels``)
        # ("hundreds of deserters have fled abroad" far from his story is background, not his companions)
        vague = [k for k, d in reports.items() if d["vague"]]
        doc.user_data["nw_lone_defector"] = any(d["lone"] and not any(abs(j - k) <= 3 for j in vague)
                                                for k, d in reports.items())
        # "A police sergeant ... has deserted. ... Dozens of his colleagues have since followed him": his one is no count
        # ("a commander ... had defected with some of his troops": the same, in his own sentence)
        doc.user_data["nw_untold_group"] = any(d["people_count"] == 1 and d["modality"] == "report" and (
            any(abs(j - k) <= 3 for j in vague) or _WITH_UNCOUNTED.search(sents[k].text) is not None)
            for k, d in reports.items())
        doc.user_data["nw_named_defectors"] = _distinct_names(d.pop("named") for d in drafts)
        for d in drafts:
            del d["lone"], d["vague"]
        doc.user_data["nw_mentions"] = drafts

    def _weapons_brought(self, sent: Span) -> Optional[int]:
        """Firearms in a later sentence whose subject is the defectors: "They brought two rifles with them",
        "Four of them carried out their MA-1 rifles"."""
        text = sent.text.lstrip("\"“‘' ")
        if not (_BROUGHT_BY_THEM.match(text) or _HANDED_OVER_BY_THEM.search(text) or _THESE_INCLUDED.match(text)
                or _ALONG_WITH_THEM.match(text) or _RECOVERED_FROM_THEM.search(text)):
            return None
        # ("deposited an AK-56 rifle, a MQ-81 rifle and a HK-33 rifle": firearms named one by one count too)
        arms = [q for q in find_quantities(text, self.nouns, singles=True)
                if q.category == "weapons" and not (q.casualty or q.qualifier == "range")]
        if not arms:
            each = _SOME_BROUGHT_THEIR_OWN.match(text)  # "Two of them brought their rifles": one each
            return parse_number(each.group(1)) if each else None
        if any(not q.subset for q in arms):
            arms = [q for q in arms if not q.subset]
        else:  # "Arms and ammunition, including two pistols and some documents, were recovered from ...": the only
            # firearms counted are the ones the uncounted haul includes
            arms = [q._replace(subset=False) for q in arms]
        # "The first group carried five rifles and the second 12 rifles": 17
        cuts = [0] + [m.start() for m in _GAPPED_SECOND.finditer(text)] + [len(text)]
        return _weapons_per_part(cuts, arms, text, self.nouns) or list_total(arms, text, "weapons", self.nouns)

    def _counts_from_next(self, draft: dict, nxt: Span) -> None:
        """"They were one major, two corporals and ...", "They brought 21 weapons": the count follows the event."""
        lows = [t.lower_ for t in nxt[:13] if t.lower_ not in _QUOTES][:12]  # '"Seven of them came with ...'
        if len(lows) > 2 and lows[0].isdigit() and lows[1] in (".", ")"):
            lows = lows[2:]  # "4. They handed over the following weapons: ..." in a numbered statement
        if draft["people_count"] is None and _A_TOTAL_OF.match(nxt.text):
            # "... returned to the legal fold. A total of 31 persons, comprising 23 members of the PDF and eight family
            # members, arrived at the office": the members
            people = [q for q in _force_breakdown(find_quantities(nxt.text, self.nouns)) if q.category == "people"
                      and not (q.subset or q.casualty or q.size or q.single)]
            if people:
                draft["people_count"], draft["count_qualifier"] = people[0].value, people[0].qualifier
        if draft["people_count"] is None and (_OF_THOSE_THERE_WERE.match(nxt.text) or _GROUP_MADE_UP.match(nxt.text)):
            # "... and their family members surrendered. Of those who surrendered there were 410 soldiers, 67 officers,
            # 59 police officers and 81 family members": the force's members (536)
            people = [q for q in find_quantities(nxt.text, self.nouns) if q.category == "people" and q.noun in
                      self.force_people and not (q.casualty or q.single)]  # ("of those", "there were": a part, a size)
            if people:
                best = max(people, key=lambda q: q.value)
                draft["people_count"], draft["count_qualifier"] = best.value, best.qualifier
        came = _CAME_WITH_ME.match(nxt.text) if draft["people_count"] == 1 or draft["people_count"] is None \
            and draft["lone"] else None
        if came and parse_number(came.group(1)):  # "I left the army in March. Two friends from my platoon came with me"
            draft["people_count"], draft["count_qualifier"] = parse_number(came.group(1)) + 1, "exact"
        were = _THERE_WERE_OF_THEM.match(nxt.text) if draft["people_count"] is None else None
        if were and parse_number(were.group(1)):  # "The recruits slipped out at night. There were eleven of them."
            draft["people_count"], draft["count_qualifier"] = parse_number(were.group(1)), "exact"
        if draft["people_count"] is None and _THE_COUNT_NEAR.search(nxt.text, 0, 100):
            # "They surrendered as well." then "He said that the 12 officers and their 11 family members were being
            # held": the same people, now counted (the definite article points back to them)
            event = nxt.doc.text[draft["start_char"]:draft["end_char"]].lstrip("\"“‘' ")
            the = [q for q in find_quantities(nxt.text[:160], self.nouns) if q.category == "people" and q.start <= 60
                   and not (q.subset or q.casualty or q.size or q.single) and q.noun in self.force_people
                   and _THE_BEFORE.search(nxt.text, max(0, q.start - 30), q.start)
                   and (q.noun in event.lower() or event.startswith("They "))]
            if the:
                draft["people_count"], draft["count_qualifier"] = the[0].value, the[0].qualifier
        split = _OF_THEM_SOLDIERS.search(nxt.text)
        if draft["people_count"] is not None and split and _RELATIVES_AFTER.search(nxt.text, split.end()):
            # "76 people surrendered ... 52 of them were soldiers ... and the remaining 24 were family members"
            soldiers = parse_number(split.group(1))
            if soldiers is not None and soldiers < draft["people_count"]:
                draft["people_count"] = soldiers
        if draft["people_count"] is None and "them" in lows[:6] and not _WHAT_BEFELL.intersection(lows):
            # "Many police left their posts to join the CDM. More than 200 of them fled to Mizoram."
            them = [q for q in find_quantities(nxt.text[:40], self.nouns) if q.noun == "them" and q.start <= 12
                    and not (q.subset or q.casualty or q.size)]
            if them:
                draft["people_count"], draft["count_qualifier"] = them[0].value, them[0].qualifier
                lows[0] = "they"  # and what they brought is told after: "... came with five rifles"
        if draft["people_count"] is None and "led" in lows + [t.lower_ for t in nxt[12:40]]:
            # "The battalion surrendered on Sunday. Its commander led 187 soldiers and 236 family members out"
            led = [q for q in find_quantities(nxt.text, self.nouns) if q.category == "people" and not (
                q.subset or q.casualty or q.size) and _LED.search(nxt.text, max(0, q.start - 12), q.start)]
            if led:
                draft["people_count"], draft["count_qualifier"] = led[0].value, led[0].qualifier
        if draft["people_count"] is None and lows[:2] == ["led", "by"]:
            # "The battalion surrendered. Led by Major X, 126 soldiers and 134 family members decided not to fight":
            # the subject after the leader is who went over
            comma = nxt.text.find(",")
            subject = [q for q in find_quantities(nxt.text, self.nouns) if q.category == "people" and not (
                q.subset or q.casualty or q.size or q.single) and q.start <= comma + 3 < q.end and q.noun in self.force_people]
            if comma > 0 and subject:  # the leader, read as one more in a list with them, is not counted ("led by")
                draft["people_count"] = subject[0].value - ("," in nxt.text[subject[0].start:subject[0].end])
                draft["count_qualifier"] = subject[0].qualifier
        if draft["people_count"] is None and lows[:1] == ["they"] and lows[1:2] in (["include"], ["included"], ["are"],
                                                                                     ["were"]):
            # "several officers have defected. They include Colonel X, ...; his brother Lieutenant Y; Colonel Z": named
            named = find_quantities(nxt.text, self.nouns, singles=True)
            names = {_name_key(nxt.text[q.start:q.end], self.nouns) or frozenset(nxt.text[q.start:q.end].split()[1:])
                     for q in named if q.single and q.category == "people" and q.noun in _TITLES} - {frozenset()}
            # "They are Corporal X, Private Y and Private Z": the ranked names read as one summed list
            listed = [q for q in named if q.category == "people" and q.noun in _TITLES and q.start <= len(" ".join(
                lows[:2])) + 4 and not (q.single or q.subset or q.casualty or q.size) and "," in nxt.text[q.start:q.end]]
            if len(names) >= 2:
                draft["people_count"], draft["count_qualifier"] = _distinct_names(names), "exact"
            elif listed and lows[1] in ("are", "were"):
                draft["people_count"], draft["count_qualifier"] = listed[0].value, "exact"
        if not lows or lows[0] not in _CONTINUATION_STARTS:
            return
        quantities = [q for q in find_quantities(nxt.text, self.nouns)
                      if not (q.subset or q.casualty or q.size or q.single or q.qualifier == "range")]
        words = set(lows)
        if draft["people_count"] is None and _LISTING_VERBS.intersection(words) and not _PART_OF_MORE.search(nxt.text):
            # "They were one major, two corporals ...": the count follows the verb ("All 24 persons are in good
            # health" restates a total, perhaps with relatives)
            verb = next(t.idx - nxt.start_char for t in nxt if t.lower_ in _LISTING_VERBS)
            people = [q for q in quantities if q.category == "people" and q.start > verb]
            with_families = [q for q in people if q.noun in ("people", "persons", "individuals")
                             and _WITH_FAMILIES.search(nxt.text, 0, q.start)]
            if with_families:  # "The group included 33 soldiers and their families - a total of 224 people": 33
                people = [q for q in find_quantities(nxt.text[:with_families[0].start], self.nouns)
                          if q.category == "people" and q.noun in self.force_people and q.start > verb
                          and not (q.casualty or q.size or q.single)] or people
            if people:
                best = max(people, key=lambda q: q.value)
                draft["people_count"], draft["count_qualifier"] = best.value, best.qualifier
        if draft["weapons_count"] is None and _BRINGING_VERBS.intersection(words):
            # "47 rifles, ..., 2 pistols": one list ("three MA-1 rifles, a BA-63 rifle, 16 magazines": a single in it)
            arms = [q for q in find_quantities(nxt.text, self.nouns, singles=True) if q.category == "weapons"
                    and not (q.subset or q.casualty or q.qualifier == "range")]
            if all(q.single for q in arms):
                arms = []  # ("He left his rifle behind": a single alone is read by the later-sentence rules)
            weapons = list_total(arms, nxt.text, "weapons", self.nouns)
            if weapons:
                draft["weapons_count"] = weapons

    def _weapons_from_rewards(self, drafts: Sequence[dict], text: str) -> None:
        """"The PDF paid the three 1.5 million kyat for two rifles": the reward counts the arms handed in."""
        for paid in _REWARD_PAID.finditer(text):
            if _MODAL_BEFORE.search(text, max(0, paid.start() - 25), paid.start()) or _RANGE_FROM.search(paid.group()):
                continue  # "will be paid ... for each rifle": an offer; "rewards ... range from 5 million kyat for a
                # pistol": the schedule
            before = [d for d in drafts if d["kind"] == "defection" and d["modality"] == "report"
                      and d["start_char"] <= paid.start()]
            if not before or before[-1]["weapons_count"] is not None:
                continue
            counted = [q.value for q in find_quantities(paid.group("what"), self.nouns, singles=True)
                       if q.category == "weapons"]
            if counted:
                before[-1]["weapons_count"] = max(counted)

    def _force_ok(self, hit: _Hit, lows: Sequence[str], has_force: bool, armed: bool, near_force: bool,
                  force_ahead: bool = False) -> bool:
        """Whether the armed-force context the trigger needs is there."""
        if hit.force == "subject":
            # "two soldiers from LIB 556 joined the KNLA": the joiner must be a member of a force
            cs, _ = _clause(lows, hit.start)
            if lows[cs:cs + 1] in (["on"], ["at"], ["in"], ["around"]) and "," in lows[cs:min(hit.start, cs + 15)]:
                cs = lows.index(",", cs) + 1  # "On 16 June 2024 at around 21:00 hours, the following members of ...":
                # the subject opens after the time
            if hit.trigger == "join_its_ranks" and _RESISTANCE_NAMES.isdisjoint(lows[max(cs, hit.start - 8):hit.start]):
                return False  # "contacted the Yinmabin PDF and joined its forces"; not "the army ... joined its ranks"
            before = lows[max(cs, hit.start - 22):hit.start]
            if not has_force and self.non_military.intersection(before):
                return False  # "Captain X of the volleyball team ... asked for asylum": a team's captain
            if any(w in self.force_people for w in before) or _members_of_force(before, self.force_words) \
                    or _members_of_force(lows[cs:cs + 12], self.force_words) or any(  # "a seven-member platoon"
                        w in ("member", "strong") and nxt in self.force_words and nxt not in ("armed", "group")
                        for w, nxt in zip(before, before[1:])) or (
                        # "The following personnel of LIB 228, which was stationed in Ayadaw Township, have come to
                        # join the people's revolution": the subject opens the sentence, an aside sits between
                        hit.start - cs > 22 and "," in lows[cs:hit.start]
                        and any(w in self.force_people for w in lows[cs:cs + 4])) or any(
                    w in self.force_words and nxt in _GENERIC_MEMBERS for w, nxt in zip(before, before[1:])) \
                    or _PRESSED_INTO_SERVICE.search(" ".join(before)) or any(
                        # "A group of 130 armed Taliban ... joined the peace process": a group counted by its name
                        (w[:1].isdigit() or w in _COUNT_WORDS) and (not self.force_words.isdisjoint(before[k + 1:k + 3])
                                                                     # "a Taliban group of 8 people"
                                                                     or before[k - 2:k] in (["group", "of"], ["unit", "of"])
                                                                     and not self.force_words.isdisjoint(before[k - 4:k - 2]))
                        for k, w in enumerate(before)):
                return True  # also "7 navy men", "junta personnel", "the men who were sent to the training school"
            if hit.trigger == "join_protest":
                return False  # "after he joined the protests against the coup": a pronoun may be anyone
            if near_force and {"they", "he", "she", "them", "defectors", "deserters"}.intersection(before) \
                    and "asylum" not in lows[hit.start:hit.end]:  # "he is seeking asylum" may be a diplomat's
                return True
            # "I fled with two grenades and reached the KNLA"; a student's "I joined the PDF" is no defection
            return near_force and bool({"i", "we"}.intersection(before)) and (
                hit.trigger != "join_cdm" or bool(_LEAVING.intersection(before)))
        if hit.force == "sentence":
            # "they walked out" right after a sentence about soldiers: the pronoun carries the context
            subject = lows[max(0, hit.start - 2):hit.start + (lows[hit.start] == "another") * 2]  # "Another four arrived"
            # "a total of 15,000 have joined the CDM", "another six slipped out"
            counted = any(w[:1].isdigit() or w in _COUNT_WORDS for w in subject)
            return has_force or armed or ((near_force or (counted and force_ahead))
                                          and (bool(_PRONOUN_SUBJECTS.intersection(subject)) or counted)) or (
                near_force and _UNIT_POST.search(" ".join(lows[hit.end:hit.end + 8])) is not None) or (
                # "Dozens of his colleagues ... have since followed him": his comrades, after a story of his desertion
                near_force and _COMRADES.search(" ".join(lows[max(0, hit.start - 12):hit.start])) is not None)
            # ("Captain X walked out of the company's hilltop camp with 23 of his men", the army named just before)
        if hit.form.startswith("handover"):
            # ("the returnees handed over six firearms": those who came in, whatever the lines before say)
            return near_force or not _GONE_OVER.isdisjoint(lows[max(0, hit.start - 4):hit.start])
        if hit.trigger == "leave_post" and "your" in lows[hit.start:hit.end]:
            return True  # "leave your unit", "abandon your posts": an appeal to the members of a force
        after = lows[hit.end:hit.end + 1]
        if hit.trigger == "leave_post" and lows[hit.start] in _QUIT_FORCE and lows[hit.end - 1] in _ARMED_FORCE \
                and after not in (["'s"], ["’s"]) and not _NOT_LEFT_AFTER.intersection(after):
            return True  # "he managed to escape the military in January": the force he left is named
        return near_force or armed

    def _vague_group(self, text: str) -> bool:
        """"dozens of soldiers", "some fellow soldiers", "a growing number of police": members of a force, not counted."""
        return any(self.force_people.intersection(m.group(1).lower().split()) or _COMRADES.search(m.group(1))
                   for m in _VAGUE_GROUP.finditer(text))

    def _plural_movers(self, lows: Sequence[str], events: Sequence[_Hit]) -> bool:
        """"Soldiers from LIB 33 have been deserting": members of a force, in the plural and uncounted, did it."""
        return any(w in self.force_people and not _singular(w) for h in events for w in lows[max(0, h.start - 8):h.start])

    def _has_force(self, lows: Sequence[str]) -> bool:
        """A member of an armed force named: "soldiers", "police", "the air force" (not "the task force")."""
        if not self.force_words.isdisjoint(lows):
            named = self.force_words.intersection(lows)
            if not (named <= {"fighter", "fighters"} and all(
                    k > 0 and lows[k - 1] in _COMBAT_SPORTS for k, w in enumerate(lows) if w in named)):
                return True  # ("a lethwei fighter", "an MMA fighter": a sportsman)
        return any(w in ("force", "forces") and k > 0 and lows[k - 1] in ("air", "police", "security", "armed")
                   or w in ("officials", "agents") and k > 0 and lows[k - 1] == "intelligence"  # a security service
                   for k, w in enumerate(lows))

    def _force_at(self, sents: Sequence[Span], j: int, cache: dict[int, bool]) -> bool:
        if j not in cache:  # a neighbour: stop at the first force word instead of lower-casing the whole sentence
            prev = ""
            cache[j] = False
            for tok in sents[j]:
                low = tok.lower_
                if low in self.force_words or low in ("force", "forces") and prev in ("air", "police", "security", "armed"):
                    cache[j] = True
                    break
                prev = low
        return cache[j]

    def _valid(self, hit: _Hit, sent: Span, lows: Sequence[str], quantities: Sequence[Quantity], force_ok: bool,
               press_gang: bool = False) -> bool:
        """Context checks that keep 'a manufacturing defect' or 'the NBA draft' out."""
        prev = lows[hit.start - 1] if hit.start > 0 else ""
        nxt = lows[hit.end] if hit.end < len(lows) else ""
        if hit.force and not force_ok:
            return False
        if lows[hit.start] in ("crossing", "crossings") and prev in ("border", "a", "the", "main", "river"):
            return False  # "gathered at a border crossing into Thailand": a place, not a crossing over
        if hit.kind == "defection" and (_DRAFT_DODGE.search(" ".join(lows[hit.end:hit.end + 14]))
                                        or _FLED_THE_DRAFT.search(" ".join(lows[max(0, hit.start - 16):hit.start]))
                                        # "300 young people ... have arrived in areas controlled by the KNU since the
                                        # junta widened its call-up notices"
                                        or not _YOUNG_CIVILIANS.isdisjoint(lows[max(0, hit.start - 10):hit.start])
                                        and _SINCE_THE_DRAFT.search(" ".join(lows[hit.end:hit.end + 24]))
                                        # (not "escaped after being forcibly recruited into military service": held)
                                        and _HELD_BY_DRAFT.isdisjoint(lows[hit.end:hit.end + 24])) \
                and self.force_people.isdisjoint(lows[max(0, hit.start - 10):hit.start]):
            return False  # "as more young people ... crossed into territory held by the KNU to avoid being called up"
        if hit.trigger == "seek_refuge" and lows[hit.start] in ("sought", "seek", "seeks", "seeking", "took", "taken") \
                and not _DISPLACED.isdisjoint(lows[max(0, hit.start - 14):hit.start]) \
                and self.force_people.isdisjoint(lows[max(0, hit.start - 20):hit.start]):
            return False  # "Locals and IDPs who have sought refuge in Meezar village": people displaced, not defectors
        if hit.kind == "defection" and not _SPORTSPEOPLE.isdisjoint(lows[max(0, hit.start - 18):hit.start]) \
                and self.force_people.isdisjoint(lows[max(0, hit.start - 18):hit.start]):
            return False  # "A national team swimmer ... has defected", wherever the military is named in the sentence
        if hit.trigger in ("defect", "desert") and hit.form == "base" and not (
                prev in _VERB_CONTEXT or self.nouns.get(prev) in ("people", "force") or sent[hit.start].i == sent.start
                or prev == "," and lows[hit.start] in ("defects", "deserts") and nxt == "to"):  # "crosses MDL, defects to"
            return False  # "a manufacturing defect", "the desert"
        if hit.trigger == "walk_out" and nxt == "of" and lows[hit.start] in ("ran", "run", "runs", "running"):
            return False  # "running out of soldiers"
        if hit.trigger == "desert" and hit.form == "event" and nxt in ("village", "villages", "town", "streets",
                                                                        "street", "road", "roads", "area", "areas",
                                                                        "island", "house", "houses", "building",
                                                                        "highway", "highways", "field", "fields",
                                                                        "beach", "place", "places", "land"):
            return False
        if hit.kind == "defection" and hit.trigger != "legal_fold" and any(
                w in _REPATRIATED and not _DDR_WORDS.intersection(lows[max(0, k - 4):k])  # not "Disarmament, Demobilization,
                or (w in ("sent", "handed", "escorted", "pushed") and lows[k + 1:k + 2] == ["back"])  # Reintegration and Repatriation"
                for k, w in enumerate(lows) if k > hit.start):
            # soldiers who fled over a border and "were repatriated": a retreat, not a defection
            # ("repatriated by Thailand and conscripted, they escaped" is still a desertion); returnees to the
            # legal fold "handed back to their parents" were never repatriated
            return False
        if hit.trigger == "training_escape" and not _LEAVING.intersection(lows[max(0, hit.start - 10):hit.start]):
            return False  # "escaped on 4 May with two other men from a military training centre"; not "graduated from"
        if hit.kind == "defection" and _NATIONALS.intersection(lows[max(0, hit.start - 3):hit.start]) \
                and not self.force_people.intersection(lows[max(0, hit.start - 8):hit.start]):
            return False  # "About 30,000 North Koreans have defected to the South": citizens, not members of a force
        if hit.trigger == "flee_abroad" and lows[hit.start].startswith("enter") \
                and not _ENTRY_AS_FLIGHT.search(" ".join(lows)):
            return False  # "80 armed soldiers entered Thailand": maybe an incursion; "entered India to escape orders" fled
        if hit.trigger == "cross_over" and lows[hit.start] in _CAME_ARRIVED \
                and _HELD_GROUND.intersection(lows[hit.end:hit.end + 4]):
            return False  # "troops came to the Arakan Army positions and attacked": ground held, not a side joined
        if hit.trigger == "cross_over" and _WENT_BACK.intersection(lows[hit.end:hit.end + 15]):
            return False  # "20 soldiers crossed the line and withdrew after warning shots": a border violation
        if hit.trigger == "seek_refuge" and _WILDERNESS.intersection(lows[hit.end:hit.end + 5]) \
                and not _goes_to_resistance(lows[hit.end:]):
            return False  # "troops and their families sought refuge in the nearby forest": hiding, not changing sides
        if hit.trigger == "report_in" and (prev in ("was", "were", "been", "be", "is", "are", "being")
                                           or nxt in ("that", "about", "on", "what", "how")):
            return False  # "the desertion was reported to the police", "told the army that ...": no one gave himself up
        if hit.kind == "defection" and hit.force and _evading_draft(lows) \
                and not self.force_people.intersection(lows[:hit.start]):  # (not "..., according to a KIO officer")
            return False  # "youth avoiding the military draft have fled to liberated areas": civilians, not deserters
        if hit.kind == "defection" and _PRISONERS.intersection(lows[max(0, hit.start - 8):hit.start]) \
                and not self.force_people.intersection(lows[max(0, hit.start - 8):hit.start]) \
                and not _ENLISTED_PRISONERS.search(" ".join(lows[max(0, hit.start - 12):hit.start])):
            return False  # "the inmates ignored orders to surrender": a jailbreak, and prisoners are no force
            # ("former prison inmates who joined the Russian army have escaped from a training ground" are recruits)
        if hit.kind == "defection" and _TO_OWN_SIDE.search(" ".join(lows[max(0, hit.start - 6):hit.end + 9])):
            return False  # "turned themselves in at the junta's Eastern Command", "surrendered to their commanders"
        if hit.trigger == "leave_post" and lows[hit.end - 1] in _ARMED_FORCE and nxt in ("'s", "’s"):
            return False  # "fled to escape the military's air strikes": what the army does, not the army itself
        if hit.trigger == "leave_post" and _INSTITUTION_SUBJECT.intersection(lows[max(0, hit.start - 3):hit.start]) \
                and not self.force_people.intersection(lows[max(0, hit.start - 3):hit.start]):
            return False  # "Myanmar's military has abandoned two outposts": the army pulling out, nobody leaving it
        if hit.trigger == "leave_post" and lows[hit.start] in _VACATED and lows[hit.end - 1] in _POSITIONS \
                and (_UNIT_POSITION_DETS.intersection(lows[hit.start + 1:hit.end - 1])
                     or hit.end - hit.start <= 3 and lows[hit.end - 1].endswith("s")
                     and all(w[:1].isalpha() and w not in _OWN for w in lows[hit.start + 1:hit.end - 1])) \
                and not _OWN.intersection(lows[hit.start + 1:hit.end - 1]) \
                and not _goes_to_resistance(lows[hit.end:]) \
                and not _WITH_ONE_FIREARM.search(" ".join(lows[hit.end:hit.end + 12])) \
                and not _TRAINEES.intersection(lows[max(0, hit.start - 10):hit.start]):
            # ("Thant Zin and three other trainees from his company left the camp": conscripts slipping away, not a unit
            # pulling out)
            # "junta troops abandoned a police station", "they all left the camp", "150 troops left Mongla positions": a
            # unit pulling out of a position ("abandoned their posts" is desertion; "left the camp ... to reach the
            # KNLA" crossed over)
            return False
        reach = 0 if hit.trigger == "join_cdm" else max(0, hit.start - 8)  # the CDM's subject may be far back
        if hit.kind == "defection" and _CIVILIANS.intersection(lows[reach:hit.start]) \
                and not self.force_people.intersection(lows[reach:hit.start]) and lows[hit.start] not in _GIVING:
            # ("villagers have given shelter to 34 police personnel": the villagers are the hosts)
            return False  # "Like many professionals, she joined the CDM": a civil servant's strike, not a defection
        if hit.kind == "defection" and _retreat(lows, hit):
            return False  # "deserted their posts and withdrew to an army base": no side switched, nobody left the force
        if hit.trigger == "leave_post" and lows[hit.start] in ("left", "abandoned") and (
                # ("no child soldiers left in the army": remaining)
                nxt == "behind" or lows[hit.start + 1:hit.start + 2] in (["behind"], ["in"])
                # "cannot be sent on long patrols or left to hold isolated posts": left there, not leaving
                or lows[hit.start + 1:hit.start + 2] == ["to"] and lows[hit.start + 2:hit.start + 3] in (
                    ["hold"], ["guard"], ["defend"], ["man"], ["protect"], ["secure"], ["fend"], ["die"])
                or self.nouns.get(prev) in ("weapons", "other_arms", "ammunition", "vehicles")):
            return False  # "ammunition left behind at the camp": what was left, not who left
        if hit.trigger == "leave_post" and lows[hit.end - 1] in _INSTITUTIONS and (
                nxt in _NOT_LEFT_AFTER and not (nxt in ("council", "junta", "regime", "government")
                                                and lows[hit.end + 1:hit.end + 2] in (["and"], [","], ["."], ["to"], ["since"]))
                or _TIME_LINKS.intersection(lows[hit.start + 1:hit.end - 1])):
            # ("abandoned the military council and arrived at our battalion" left the junta's army)
            return False  # "fled after the military junta seized power", "flee from military registration"
        if hit.trigger == "defy_orders" and not _FLED_OR_QUIT.intersection(lows[:hit.start]):
            return False  # "fled to Thailand rather than obey orders to shoot": the flight, not the refusal alone
        if hit.form == "program" and _ENQUIRY.search(" ".join(lows[max(0, hit.start - 4):hit.start])):
            return False  # "26,000 people have contacted the People's Embrace": enquiries, not defections
        if hit.form.startswith("handover"):
            verb_end = sent[hit.end - 1].idx + len(sent[hit.end - 1]) - sent.start_char
            return any(q.category == "weapons" and not q.subset and 0 <= q.start - verb_end <= 25 for q in quantities)
        if hit.trigger == "join_cdm" and lows[hit.end - 1] in _SIDES and (
                nxt in ("'s", "’s", "'", "’") or (nxt.isalpha() and nxt not in _AFTER_SIDE and nxt not in _SIDE_HOLDING)
                or _POLITICAL_JOINERS.intersection(lows[max(0, hit.start - 6):hit.start])):
            return False  # "joined the opposition rally", "the rebels' commanders", "the police minister joined the opposition"
        if hit.kind == "conscription":
            return self._conscription_ok(hit, lows, prev, nxt, press_gang)
        return True

    @staticmethod
    def _conscription_ok(hit: _Hit, lows: Sequence[str], prev: str, nxt: str, press_gang: bool = False) -> bool:
        words = set(lows)
        if hit.trigger == "draft":
            # "a draft (supplemental spending) bill": the document sense, up to two modifiers away
            if hit.form == "noun" and (_DOC_NOUNS.intersection(lows[hit.end:hit.end + 3])
                                       or prev in ("first", "final", "rough", "revised", "initial",
                                                   "earlier", "latest", "nba", "nfl", "nhl")):
                return False
            # "bills ... have been drafted": a document written, nobody called up
            if hit.form == "event" and _WRITTEN_DOCS.intersection(lows[max(0, hit.start - 3):hit.start]) \
                    and prev in ("was", "were", "been", "is", "are", "being"):
                return False  # "the 2008 constitution was drafted and approved", whatever the sentence says of the army
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
        if hit.trigger == "household_quota":  # "each household must send one man": for the army or a militia, not a meeting
            return bool((_MILITIA | _INSTITUTIONS | _SERVICE_WORDS).intersection(words))
        if hit.trigger in ("recruits", "recruitment_quota") and _quota(lows):
            return True  # "to recruit 30 youths per village tract": a quota is compulsion, for the army or a militia
        if hit.trigger in _VOLUNTARY_IN_MILITIA and _MILITIA.intersection(words) and not _COMPULSION.intersection(words):
            return False  # "Pyu Saw Htee members recruiting volunteers": militia recruitment is not compulsory service
        if hit.trigger in ("abduction", "lottery") and press_gang:
            return True  # a story told as press-ganging ("boys kidnapped to fight"): its abductions are for the army
        if hit.trigger in ("abduction", "lottery", "recruitment_quota", "mobilisation", "enlisted"):
            return bool(_RECRUITMENT_CONTEXT.intersection(words))  # not kidnappings or a state lottery
        if hit.trigger == "recruits":  # "recruits are taught ..." is ordinary enlistment
            if lows[hit.end:hit.end + 2] in (["who", "enlisted"], ["who", "volunteered"], ["who", "signed"]):
                return False  # "the 32 recruits who enlisted with him in 2016": volunteers
            return bool(_RECRUITMENT_CONTEXT.intersection(words) - {"recruit", "recruits", "recruitment",
                                                                    "recruited", "training", "front", "frontline"})
        return True

    def _draft(self, kind, sent, sent_text, lows, hits, cues, units, quantities, places, orgs, ranks, countries,
               doc_country, attributed_near=False) -> dict:
        if kind == "defection" and ("call" in sent_text or "draft" in sent_text or "mobili" in sent_text):
            # "Putin is calling up another 134,500 conscripts as ... desertions deplete his force": those called up
            quantities = [q for q in quantities if not _CALLED_UP.search(sent_text, max(0, q.start - 40), q.start)]
        modality, anchor, events = _modality(kind, sent, lows, hits, cues, quantities, self.nouns, attributed_near)
        if kind == "defection" and (modality == "analysis" or modality == "appeal" and _RUNNING_TOTAL.search(sent_text)) \
                and any(q.total and q.category == "people" and not (q.subset or q.casualty) for q in quantities) and (
                _RUNNING_TOTAL.search(sent_text) or not _MODALS.intersection(lows)):
            # ("Their return brought to 1,843 the number who have returned ... since the invitation was issued")
            # a stated tally: "the total number of surrenders is estimated to be close to 100"
            modality, events = "report", [anchor]  # "brought to more than 900 the number of troops who have surrendered"
        # each reported event owns the count nearest to it; the mention keeps the largest
        picked = [None if h.form.startswith("handover") and h.start and lows[h.start - 1] in ("i", "he", "she")
                  else _pick_count(quantities, sent[h.end - 1 if lows[h.start] == "another" else h.start].idx - sent.start_char,
                                   ("people", "bare"),  # ("and another 14 soldiers ... followed": the 14)
                                   single_ok=h.form == "event" or h.form == "base" and (
                                       lows[h.start].endswith("s") or lows[max(0, h.start - 2):h.start] in (
                                           ["managed", "to"], ["succeeded", "to"])),  # "he managed to escape"
                                   sent_text=sent_text)
                  for h in events or [anchor]]  # "Army officer defects to Thailand"; "Two friends helped me, and I
        # handed them my rifle": the one who handed it over, counted where he left
        if events:  # a running total stated in a reporting sentence belongs to no single verb
            picked += [q for q in quantities if q.total and not (q.subset or q.casualty)]
        people = max((q for q in picked if q is not None), key=lambda q: q.value, default=None)
        if people is not None and people.noun in _ANYONE \
                and all(h.trigger in _BORDER_TRIGGERS for h in events or [anchor]) \
                and self.force_people.isdisjoint(re.findall(r"[a-z]+", sent_text[people.end:people.end + 80].lower())):
            people = None  # "136 people from Myanmar had crossed over": refugees, police among them, not a count of police
        if people is not None and people.noun in _ANYONE and (_WITH_FAMILIES.search(sent_text, 0, people.start) or (
                # "A total of 46 people, among them soldiers and police officers ... and their families, arrived"
                _AMONG_THEM.match(sent_text, people.end) and _WITH_FAMILIES.search(sent_text, people.end, people.end + 140))):
            # "crossed along with their families and other foot soldiers, making it a total of 71 people": a total
            # with relatives, so the other reports' counts stand
            people = None
        if people is not None and not people.single and _COMPRISING_FAMILIES.match(sent_text, people.end):
            # "about 100,000 insurgents, comprising combatants and non-combatants and their families, had surrendered"
            people = None
        if people is not None and people.single and kind == "defection" and self._vague_group(sent_text[:people.start]):
            people = None  # "hundreds of police have joined the CDM, said Captain X, who left in March": not one
        led = _DEFECTION_OF_ONE_WITH.search(sent_text) if people is not None and not people.single else None
        if led and people.start <= led.end(1) <= people.end and parse_number(led.group(1)) == people.value:
            # "documented the defection of a First Lieutenant ... together with 6 soldiers": he and the six
            people = people._replace(value=people.value + 1)
        more = [q for h, q in zip(events, picked) if h.trigger == "did_same" and q is not None]
        if people is not None and more and people in more:
            # "Nine soldiers crossed over on Monday, and another 14 soldiers followed on Wednesday": the larger is the
            # second group, so the first is the base
            people = max((q for h, q in zip(events, picked) if h.trigger != "did_same" and q is not None),
                         key=lambda q: q.value, default=people)
        if people is not None and more and people not in more and not people.total:
            # "two soldiers defected on 3 May, and one more followed on 11 May": three (a stated running total,
            # "another four have joined them, bringing to six the number ...", already holds them)
            people = people._replace(value=people.value + sum(q.value for q in more))
        if people is not None and people.value == 1 and people.category in ("people", "bare") and "second" in sent_text:
            # "One police constable deserted ... with one hand of 9mm pistol on Monday night, and a second, a lance
            # corporal from a Sittwe station, with an MA-3 rifle": the verb left out, one more man
            others = len(_GAPPED_PERSON.findall(sent_text, people.end))
            if others:
                people = people._replace(value=1 + others, single=False)
        own = _each_own_count(events, picked, sent, sent_text)
        if people is not None and own and people.value < own:
            # "60 soldiers defected in Homs and 50 special forces troops abandoned their posts in Qaboun": 110
            people = people._replace(value=own)
        of_whom = _OF_WHOM_SOLDIERS.match(sent_text, people.end) if people is not None and people.noun in (
            "people", "persons", "individuals") else None
        if people is None and kind == "defection" and (them := _PEOPLE_N_OF_THEM.search(sent_text)) is not None \
                and _RELATIVES_AFTER.search(sent_text, them.end()) and parse_number(them.group(1)):
            # "Fifty-three people, 31 of them navy personnel and the rest their wives and children, have left": 31
            people = next((q for q in quantities if q.noun == "them" and q.start >= them.start(1) - 1), None)
            people = people._replace(value=parse_number(them.group(1)), subset=False) if people is not None else None
        part = parse_number(of_whom.group(1)) if of_whom else None
        if part and _RELATIVES_AFTER.search(sent_text, of_whom.end()):
            # "43 people arrived, of whom 17 were soldiers and the rest their wives and children": 17
            people = people._replace(value=part)
        if people is not None and not (people.single or people.subset) and people.category == "people":
            people = people._replace(value=people.value + _elided_parts(sent_text, people.end))
        added = [q for q in quantities if q.category in ("people", "bare") and not (q.subset or q.casualty or q.size or q.single)
                 and _ADDING_TO.search(sent_text, max(0, q.start - 20), q.start)]
        tally = [q for q in quantities if q.category in ("people", "bare") and not (
            q.subset or q.casualty or q.size or q.single) and _TALLY_VERB.match(sent_text, q.end)]
        if len(tally) >= 2 and (people is None or people in tally):
            # "880 soldiers who defected, 135 who surrendered and 916 who were captured": 1,015 went over
            people = tally[0]._replace(value=sum(q.value for q in tally))
        rest = [q for q in picked if q is not None and q not in added]
        if added and rest:
            # "over 4,000 have defected since October, adding to the 14,000 who defected after the coup": 18,000
            people = max(rest, key=lambda q: q.value)
            people = people._replace(value=people.value + added[0].value)
        weapons_total = list_total([q for q in quantities if (modality == "report" or not q.single) and not (
            # "but did not bring a weapon": none
            q.single and q.category == "weapons" and _NOT_BROUGHT.search(sent_text, max(0, q.start - 30), q.start))],
            sent_text, "weapons", self.nouns) if kind == "defection" else None
        if kind == "defection" and (len(events) >= 2 or _GAPPED_SECOND.search(sent_text)):
            weapons_total = _per_event_weapons(events, sent, sent_text, quantities, self.nouns) or weapons_total
        if weapons_total is not None and _ARMS_SEIZED.search(sent_text):
            weapons_total = None  # "128 small arms and ammunition ... were seized during the battles": spoils, not brought
        if weapons_total == 1 and people is not None and 1 < people.value <= 50 and _EACH_WITH_ONE.search(sent_text):
            weapons_total = people.value  # "two soldiers walked out, each carrying an MA-1 rifle": two rifles
        elif weapons_total == 1 and people is None and _EACH_OF_THEM.match(sent_text):
            weapons_total = None  # "Each of the guerrillas turned over a combat weapon": as many as they were, unsaid
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
            # one person who defected is the subject ("a sergeant from LIB 33 who defected", "he deserted"): the
            # article's count when no report states a number (``lone`` is dropped before the mention is stored)
            # "dozens of his former colleagues followed him": a group without a number, so no count at all
            "vague": kind == "defection" and modality == "report" and people is None and (
                self._vague_group(sent_text) or self._plural_movers(lows, events)) and not any(
                # ("more than 6,000 soldiers have defected, surrendered or been captured": counted, if mixed)
                q.category in ("people", "bare") and q.value > 1 and not (q.subset or q.size)
                for q in quantities),
            "lone": kind == "defection" and modality in ("report", "analysis") and people is None and (
                modality == "report" and any(named_act(h, sent, lows) or h.form == "noun"
                                             and lows[h.start - 1:h.start] in (["his"], ["her"]) for h in events)
                and not any(q.category == "people" and not (q.single or q.subset) for q in quantities)
                or _lone_defector(quantities, [sent[h.start].idx - sent.start_char for h in events or [anchor]
                                               if _lone_anchor(h, lows)], sent_text)
                or modality == "report" and not any(q.category in ("people", "bare") for q in quantities)
                and _name_subject(events, sent, lows, _in_sentence(places, sent) + _in_sentence(orgs, sent), self.nouns)),
            "named": _name_key(sent_text[people.start:people.end], self.nouns) if kind == "defection" \
            and modality == "report" and people is not None and people.single and people.value == 1
            and not re.match(r"(?:an?|another|the)\s", sent_text[people.start:people.end], re.I) else _apposed_name(
                sent_text, people, self.nouns) if kind == "defection" and modality == "report" and people is not None
            and people.single and people.value == 1 else None,
            # ("A North Korean soldier" is no name: only a titled or aged name is)
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




# what a household must send someone to for it to be a draft (not "the ward office's meeting")
_SERVICE_WORDS = frozenset("militiamen soldiers troops fight fighting guard sentry sentries training conscription security "
                           "conscript conscripts draft drafted recruit recruits recruited recruitment enlist".split())
_LEAVING = frozenset("fled escaped left deserted defected quit ran slipped walked abandoned".split())


# a reward paid for the arms handed in: "were given K1 million for two automatic rifles"
_REWARD_PAID = re.compile(r"\b(?:paid|given|awarded|received|rewarded|handed)\b(?:[^.;]|\.(?=\d)){0,80}?\bfor\s+(?P<what>(?:the|their|his)?\s*"
                          r"(?:[\w-]+\s+){1,3}?(?:rifles?|guns?|pistols?|weapons|firearms?|carbines?))\b", re.I)
_RANGE_FROM = re.compile(r"\brang(?:e|es|ed|ing)\s+from\b", re.I)
_MODAL_BEFORE = re.compile(r"\b(?:will|would|can|could|shall|may|to\s+be)\s+(?:be\s+)?(?:\w+\s+)?$", re.I)
# a deserter who gives himself up to his own side: "reported to their superiors", "at the junta's Eastern Command"
_TO_OWN_SIDE = re.compile(r"\b(?:to|at|before)\s+(?:their|his)\s+(?:own\s+)?(?:commanders?|superiors?|unit|battalion|command|"
                          r"headquarters)\b|\b(?:to|at)\s+the\s+(?:junta|military|army)\s*(?:'s|’s)?\s+(?:\w+\s+){0,2}"
                          r"(?:command|headquarters|base)\b|\b(?:to|at)\s+the\s+(?:headquarters|hq|base)\s+of\s+the\s+"
                          r"(?:junta|military|army)\b")




# "surrendered to the Arakan Army (AA)", "to the Karen National Liberation Army": a group named in full
_RESISTANCE_FIRST_WORDS = frozenset("arakan karen kachin karenni chinland ta'ang ta’ang".split())
_RESISTANCE_SECOND_WORDS = (["army"], ["national"], ["nationalities"], ["independence"], ["liberation"], ["defence"],
                            ["defense"])


def _goes_to_resistance(after: Sequence[str]) -> bool:
    """"... and walked for two days to reach the KNLA", "to join the PDF"; not "following a siege by resistance groups"."""
    return any((w in _RESISTANCE_SIDE or w in _RESISTANCE_FIRST_WORDS and after[k + 1:k + 2] in _RESISTANCE_SECOND_WORDS)
               and any(after[j] in _TOWARDS and not (j and after[j - 1] == "according")
                                             # ("to flee the Arakan Army fighting the junta": away from it)
                                             and after[j + 1:j + 2] not in (["flee"], ["escape"], ["avoid"], ["evade"])
                                             for j in range(max(0, k - 3), k))
               for k, w in enumerate(after))


# "personnel who fled the detention camp", "Personnel Who Fled Arakan Militia Camp": held by the other side
_FLED_CAPTIVITY = re.compile(r"\b(?:fled|escaped|fleeing|escaping|broke\s+out\s+of)\s+(?:from\s+)?[\"“‘']?"
                             r"(?:the\s+|a\s+|an\s+|their\s+)?(?:(?!to\b|into\b|toward)[\w-]+\s+){0,3}?"
                             r"(?:detention|prison|jail|captivity|internment|(?:militia|rebel|aa|kia|knla|pdf|tnla|mndaa)\s+camp)\b",
                             re.I)
_NATIONALS = frozenset("koreans cubans eritreans russians ukrainians venezuelans syrians iranians chinese burmese "
                       "nationals citizens".split())
# the narrower part of numbers.ARMED_GROUP_WORDS that marks "members of the ..." as a force on its own (the whole set,
# with "armed", would make a township's appeal to "former members of armed groups" a defection story)
_ARMED_GROUP = frozenset("outfit outfits militant insurgent rebel guerrilla liberation separatist terrorist".split())
_QUIT_FORCE = frozenset("escaped escape escaping deserted desert deserting quit quitting left leave leaving".split())
_ARMED_FORCE = frozenset("army military tatmadaw".split())
_WENT_BACK = frozenset("withdrew retreated pulled".split())
_GIVING = frozenset("given gave giving provided providing offered offering granted granting".split())
_WILDERNESS = frozenset("forest forests forested jungle jungles woods mountains hills caves monastery monasteries".split())
_TOWARDS = frozenset("to join joined joining reach reached reaching into".split())


_RANK_LINE = re.compile(r"[A-Za-z][A-Za-z .'-]{0,40}\s[-–—:]\s*\(?\d{1,5}\)?\s*\w{0,8}\.?\s*$")


def _counts_from_lists(drafts: Sequence[dict], text: str) -> None:
    """A statement's itemised list of ranks, names or arms gives the counts of the report just before it."""
    from_lists: set[tuple[str, int]] = set()  # (count, draft) that came from a list: a later list (police after army) adds
    for found in itemised_counts(text):
        # (a sentence's span may run over the blank line into the list); a table's Total row states a figure, so
        # "a network for soldiers who leave the junta's forces published its figures" above it is a report
        before = [d for d in drafts if d["kind"] == "defection" and d["start_char"] < found.start and (
            d["modality"] == "report" or found.table and d["modality"] == "analysis")] or [
            # "1. During March, a total of 63 personnel ... arrived": the report opens the numbered list itself
            d for d in drafts if d["kind"] == "defection" and found.start <= d["start_char"] < found.start + 6
            and d["modality"] == "report"]
        if not before:
            continue
        draft = before[-1]
        if any(d["kind"] == "conscription" and draft["end_char"] <= d["start_char"] < found.start
               # ("Conscript soldier - 14" is a line of a rank list, no quota)
               and not _RANK_LINE.match(text, d["start_char"], d["end_char"]) for d in drafts):
            continue  # "... ordered recruitment by the following method: 1. each battalion recruits two ...": a quota
        if found.table and found.people:
            draft["modality"] = "report"
        # ("5. With the above, the total ... has risen to 14,266": a numbered paragraph that is a report of its own)
        # (only a paragraph of the list or after it: a headline's "10 junta personnel joined" is the same ten)
        own = any(d is not draft and d["kind"] == "defection" and d["people_count"] == found.people
                  and d["start_char"] >= found.start for d in drafts)
        if found.people and not own and (draft["people_count"] is None or ("people", id(draft)) in from_lists):
            # (only a count that itself came from a list grows: "a total of 37 personnel" above two rank lists stays 37)
            listed = ("people", id(draft)) in from_lists
            draft["people_count"] = found.people + (draft["people_count"] if listed else 0)
            draft["count_qualifier"] = "exact"
            from_lists.add(("people", id(draft)))
        if found.weapons and (draft["weapons_count"] is None or ("weapons", id(draft)) in from_lists):
            listed = ("weapons", id(draft)) in from_lists
            draft["weapons_count"] = found.weapons + ((draft["weapons_count"] or 0) if listed else 0)
            from_lists.add(("weapons", id(draft)))


def _members_of_force(words: Sequence[str], force_words: frozenset[str]) -> bool:
    """"60 members of the military council", "staff from the army": people of a force; not "youths from junta-held towns"."""
    for k, w in enumerate(words[:-2]):
        if w in ("members", "member", "staff") and words[k + 1] in ("of", "from"):
            j = k + 2 + (words[k + 2] == "the")
            j += j < len(words) and words[j] in ("terrorist", "so-called", "fascist")  # "of the terrorist military council"
            if j < len(words) and words[j] in force_words and words[j + 1:j + 2] != ["-"]:
                return True
            if j + 1 < len(words) and words[j + 1] in ("armed", "army", "military", "navy") and words[j] not in force_words:
                return True  # "a member of the Polish armed forces"
            if any(w == "army" for w in words[j:j + 6]) and "-" not in words[j:j + 6]:
                return True  # "30 more members of the communist terrorist New People's Army (NPA)"
            if _ARMED_GROUP.intersection(words[k + 2:j + 4]):
                return True  # "three members of the banned militant outfit", "of the National Liberation Front"
    return False


def _each_own_count(events, picked, sent: Span, sent_text: str) -> Optional[int]:
    """Two events joined by "and", each with its own counted subject right before its verb: their sum, else None."""
    pairs = sorted({(q.start, q.end, q.value, sent[h.start].idx - sent.start_char) for h, q in zip(events, picked)
                    if q is not None and not (q.single or q.total or q.subset)})
    if len(pairs) < 2 or len({p[0] for p in pairs}) != len(pairs) or _TOTAL_WORD.search(sent_text, 0, pairs[0][0]):
        return None  # ("A total 4431 MTA troops ... surrendered ... and 1894 ... on January 12": a total stated)
    for (s1, e1, v1, a1), (s2, e2, v2, a2) in zip(pairs, pairs[1:]):
        if not (_subject_gap(sent_text, e1, a1) and _subject_gap(sent_text, e2, a2) and a1 < s2) \
                or not _AND_THEN_COUNT.fullmatch(sent_text, a1, s2):
            return None
    return sum(p[2] for p in pairs)


_SOME_BROUGHT_THEIR_OWN = re.compile(r"\W*(\w+)\s+of\s+them\s+(?:also\s+)?(?:brought|carried|took)\s+(?:along\s+|with\s+them\s+)?"
                                     # also "Two of them carried MA-1 rifles"
                                     r"(?:their\s+(?:own\s+|service\s+)?|[A-Z]{1,3}-?\d{1,3}\s+)"
                                     r"(?:rifles|guns|weapons|firearms|pistols)\b", re.I)
_CALLED_UP = re.compile(r"\b(?:call(?:s|ed|ing)?\s+up|draft(?:s|ed|ing)|mobili[sz](?:es|ed|ing)|conscript(?:s|ed|ing))\s+"
                        r"(?:another\s+|some\s+|about\s+|around\s+|nearly\s+|up\s+to\s+|over\s+|more\s+than\s+)?$", re.I)
_WITH_THEIR_ARMS = re.compile(r"\bwith\s+(?:their|his|her)\s+(?:arms|weapons|firearms|guns|rifles)\b", re.I)
_GAPPED_PERSON = re.compile(r"(?:,|\band\b)\s+(?:a|the)\s+(?:second|third)\s*,\s+(?:an?\s+)?[\w -]{3,60}?,\s+(?:with|walked|deserted|"
                            r"fled|left|escaped|defected|slipped|ran|crossed|surrendered)\b", re.I)
_FIRST_GROUP = re.compile(r"\W*the\s+first\s+(?:group|batch|team|party|unit)\b", re.I)
_SECOND_GROUP = re.compile(r"\W*the\s+second\s+(?:group|batch|team|party|unit)\b", re.I)


def _subject_gap(text: str, end: int, act: int) -> bool:
    """The counted noun phrase ending at ``end`` is the subject of the act at ``act``: near it, or separated only by
    a place or unit phrase ("Nine soldiers from a battalion under the Western Command in Ann Township crossed over")."""
    return end <= act <= end + 40 or end <= act <= end + 120 and bool(_OF_PLACE_OR_UNIT.fullmatch(text, end, act))


_OF_PLACE_OR_UNIT = re.compile(r"\s+(?:from|of|in|under|based\s+in|stationed\s+in)\s[^,;:()\d\"“”]*?\s", re.I)
# "defected in Homs and 50 ...": the first act's words, then "and", then the next count; no total, no part
_AND_THEN_COUNT = re.compile(r"(?:(?!\b(?:total|them|whom|bringing|brought|including|among)\b)[^.;:])*?"
                             r"(?:,\s*|\s+)and\s+(?:another\s+|a\s+further\s+)?", re.I)  # not "while": a contrast
_TOTAL_WORD = re.compile(r"\btotal\b", re.I)


def _per_event_weapons(events, sent: Span, sent_text: str, quantities: Sequence[Quantity], nouns) -> Optional[int]:
    """"X deserted with one pistol ... and on June 18, Y deserted with one rifle": two events, two weapons.

    None unless at least two of the reported events carry their own weapons list."""
    cuts = sorted({sent[h.start].idx - sent.start_char for h in events}
                  | {m.start() for m in _GAPPED_SECOND.finditer(sent_text)}) + [len(sent_text)]
    return _weapons_per_part(cuts, quantities, sent_text, nouns)


def _weapons_per_part(cuts: Sequence[int], quantities: Sequence[Quantity], text: str, nouns) -> Optional[int]:
    """The firearms of each part of ``text`` between consecutive ``cuts``, summed; None unless two parts have some."""
    totals = [list_total([q for q in quantities if a <= q.start < b], text, "weapons", nouns) for a, b in zip(cuts, cuts[1:])]
    found = [t for t in totals if t]
    return sum(found) if len(found) >= 2 else None


_FROM_A_SPORTS_BODY = re.compile(r"from\s+(?:the\s+|its\s+|his\s+|her\s+|their\s+)?(?:[\w-]+\s+(?:'s\s+|’s\s+)?){0,4}?"
                                 r"(?:sports?|football|boxing|lethwei|athletics|olympic)\s+(?:federation|association|"
                                 r"team|club|body|committee)\b")
_TO_POLITICS = re.compile(r"\bto\s+(?:contest|run\s+for|stand\s+(?:for|in)|enter\s+politics|go\s+into\s+politics)\b")
_UNIT_POST = re.compile(r"\b(?:company|battalion|platoon|regiment|unit|column)\s*(?:'s|’s)?\s+(?:[\w-]+\s+){0,2}?"
                        r"(?:camp|base|post|outpost|barracks|positions?)\b")
_COMBAT_SPORTS = frozenset("lethwei boxing kickboxing kick-boxing mma ufc muay cage martial".split())
_CAME_ARRIVED = frozenset("came come coming arrived arrive arriving".split())
_HELD_GROUND = frozenset("positions position -held held -controlled controlled territory territories area areas "
                         "outposts frontline front".split())
# "One deserted with a 9mm pistol on 3 June, and a second, a private, with a G-3 rifle": the verb left out
_GAPPED_SECOND = re.compile(r"(?:\b(?:and|while)|,)\s+(?:on\s+[^,]{1,20}\s+)?(?:a\s+second|the\s+second|the\s+other)\b", re.I)
_LED = re.compile(r"\bled\s+(?:about\s+|some\s+|around\s+)?$", re.I)
# "... 800 soldiers who entered India. Unlike the four, the others were not deserters"
_NOT_DESERTERS = re.compile(r"\b(?:were|was|are)\s+not\s+(?:deserters|defectors)\b", re.I)
# "... stated that 40 police officers had joined the CDM. The correct figure is 14."
_CORRECT_FIGURE = re.compile(r"\W*the\s+correct\s+(?:figure|number|count|total)\s+(?:is|was)\s+([\w,]+)\b", re.I)
# "Correction: An earlier version of this article reported that 22 soldiers had surrendered"
_CORRECTED = re.compile(r"\b(?:an?\s+)?earlier\s+version\s+of\s+this\s+(?:article|story|report)\b", re.I)
_UNIT_LIKE = frozenset({"company", "team"})  # a business or a side in sport, or a military unit
_QUOTES = frozenset({'"', "“", "”", "'", "‘"})
_TALLY_VERB = re.compile(r"\s+(?:who\s+(?:had\s+|have\s+)?|had\s+)?(?:defected|surrendered|deserted)\b", re.I)
_DEFECTION_OF_ONE_WITH = re.compile(r"\b(?:defection|desertion|surrender)\s+of\s+(?:a|an|one)\s+[^,.;]{0,80}?\b"
                                    r"(?:together\s+with|along\s+with|with|alongside)\s+(\d+|[a-z]+)\s+(?:of\s+his\s+)?"
                                    r"(?:soldiers|men|troops|policemen|officers|fighters|personnel)\b", re.I)
_ARMS_SEIZED = re.compile(r"\b(?:were|was|had\s+been|have\s+been)\s+(?:seized|captured|confiscated|recovered)\b", re.I)
_EACH_OF_THEM = re.compile(r"\W*each\s+of\s+(?:the|them|these|those)\b", re.I)
_EACH_BROUGHT = re.compile(r"\s*[\"“]?each\s+(?:of\s+them\s+|man\s+|one\s+)?(?:also\s+)?(?:brought|carried|had|came\s+with|"
                           r"handed\s+over|was\s+carrying|took|arrived\s+with)\s+(?:a|an|one|his|her|their)\b", re.I)
_EACH_WITH_ONE = re.compile(r"\beach\s+(?:carr(?:y|ies|ying|ied)|with|bringing|brought|holding|armed\s+with|took|taking)\s+"
                            r"(?:a|an|one|his|their)\b|\b(?:a|an|one)\s+(?:[\w.-]+\s+){0,2}(?:rifle|pistol|gun|carbine|"
                            r"weapon|firearm)\s+each\b", re.I)  # "Two of them brought along one MA-3 rifle each"
_BORDER_TRIGGERS = frozenset("flee_abroad cross_over seek_refuge".split())
_ADDING_TO = re.compile(r"\b(?:adding\s+to|in\s+addition\s+to)\s+(?:the\s+)?$", re.I)  # "in addition to some 10,000 who"
_ATTRIBUTION_NEAR = frozenset("said says told according announced stated confirmed reported reporting".split())
_WHAT_BEFELL = frozenset("killed arrested detained captured died wounded injured sentenced jailed executed "
                         "recaptured".split())  # "Three of them were later arrested": not the defectors' count


def _sentences(doc: Doc) -> list[Span]:
    """The doc's sentences, read from the SENT_START column in one call (``doc.sents`` builds a Token per word).

    Matching and annotating both need them, and the sentence starts are fixed by then: read once per doc."""
    cached = doc.user_data.get("nw_sentence_spans")
    if cached is not None and cached[0] == len(doc):
        return cached[1]
    if not len(doc):
        return []
    starts = numpy.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(doc)]
    sents = [doc[s:e] for s, e in zip(bounds, bounds[1:])]
    doc.user_data["nw_sentence_spans"] = (len(doc), sents)
    return sents


_RUNNING_TOTAL = re.compile(RUNNING_TOTAL_TO, re.I)
# ("He brought with him nine other fighters": the one who went, and the others he brought)
_JOINED_BY_OTHERS = re.compile(r"\b(?:(?:was|were|has\s+been|had\s+been)\s+joined\s+by|(?:he|she)\s+(?:also\s+)?(?:brought|took)\s+"
                               r"(?:along\s+)?with\s+(?:him|her))\s+(?:more\s+than\s+|over\s+|some\s+|about\s+|"
                               r"at\s+least\s+|nearly\s+)?((?:a\s+)?[\w,-]+)\s+other\s+(?:[\w-]+\s+){0,3}?(?:officers|soldiers|"
                               r"commanders|leaders|troops|generals|policemen|members|officials|fighters|rebels|militants|guerrillas)\b", re.I)
_THEY_WERE_LIST = re.compile(r"[\"“‘']?(?:they|these)\s+(?:were|are|included|include)\s+(?:an?|one|two|three|four|five|six|"
                             r"seven|eight|nine|ten|\d)", re.I)
_A_TOTAL_OF = re.compile(r"[\"“‘']?(?:a\s+total\s+of|altogether|in\s+all,)\s+(?:about\s+|some\s+|over\s+)?\d", re.I)
_CAME_WITH_ME = re.compile(r"[\"“‘']?(\w+)\s+(?:[\w'’-]+\s+){0,5}?(?:came|left|went|fled|escaped|deserted|ran)\s+"
                           r"(?:away\s+|out\s+)?with\s+(?:me|him|her)\b", re.I)
# "According to CDF-Matupi, the group was made up of 29 soldiers, three police officers and 14 family members": 32
_GROUP_MADE_UP = re.compile(r"\W*(?:according\s+to\s+[^,]{1,40},\s*)?the\s+(?:group|people|arrivals|defectors)\s+(?:was|were)\s+"
                            r"(?:made\s+up|composed|comprised)\s+of\s+\d", re.I)
# "The conscripts were part of the regime's third batch of about 5,000 people": a larger group, not the movers
_PART_OF_MORE = re.compile(r"\b(?:were|was|are|is)\s+(?:all\s+)?(?:part|among|members)\s+of\b", re.I)
_OF_THOSE_THERE_WERE = re.compile(r"\W*(?:of|among)\s+(?:those|them|these)\b(?:\s+who\s+\w+(?:\s+\w+)?)?,?\s+"
                                  r"(?:there\s+were|were|are|included|include)\s+\d", re.I)
_EMPTY_PLACE = frozenset("is are was were remain remains remained looked looks seemed seems lay lies appeared largely "
                         "mostly completely virtually almost eerily now".split())
_CIVILIAN_FLIGHT = frozenset("others people civilians villagers residents refugees families".split())
_SOCIAL_WORDS = re.compile(r"(?i:telegram|facebook|tiktok|twitter|social|pro-)")  # the cheap test first
_SOCIAL_CLAIM = re.compile(r"\b(?:posts?|messages?|channels?|accounts?|users?|videos?)\s+(?:on|from|circulating\s+on)\s+"
                           r"(?:[\w-]+\s+){0,2}?(?:telegram|facebook|tiktok|twitter|social\s+media)\b"
                           r"(?:\s+channels?|\s+accounts?|\s+pages?)?\s+"
                           r"(?:claimed|claim|claims|alleged|allege|suggested|said)\b"
                           r"|\b(?:telegram|facebook|tiktok|pro-\w+)\s+(?:channels?|accounts?|pages?|users?|bloggers?)\s+"
                           r"(?:claimed|claim|claims|alleged|allege|suggested)\b", re.I)
# "Posts on social media had claimed that ...", "The posts, shared on several Telegram channels, said ...", "Claims that
# about 200 soldiers had defected spread widely on Facebook"; not "the KNLA said on its Facebook page"
_POSTS_ON_PLATFORM = re.compile(r"\b(?:posts?|pages?|channels?|accounts?|claims?|messages?|rumou?rs?)\b[^.;]{0,80}?"
                                r"\b(?:telegram|facebook|tiktok|twitter|social\s+media)\b"
                                r"|\b(?:telegram|facebook|tiktok|twitter|social\s+media)\b[^.;]{0,25}?"
                                r"\b(?:posts?|pages?|channels?|accounts?|users?)\b", re.I)
_SAID_OR_SPREAD = re.compile(r"\b(?:claim\w*|said|says|say|alleg\w*|spread|circulat\w*)\b", re.I)
_OWN_PAGE = re.compile(r"\b(?:its|their|his|her|official)\s+(?:official\s+)?(?:facebook|telegram|tiktok|twitter)\b", re.I)


def _social_claim(sentence: str) -> bool:
    """The sentence tells what unverified accounts say, not what a named source reports."""
    return bool(_SOCIAL_CLAIM.search(sentence)) or bool(
        _POSTS_ON_PLATFORM.search(sentence) and _SAID_OR_SPREAD.search(sentence) and not _OWN_PAGE.search(sentence))


_MINOR = re.compile(r"\b(?:(?:[5-9]|1[0-7])[- ]years?[- ]old|aged\s+(?:[5-9]|1[0-7])\b|underage|under-age|minors?|boys?|"
                    r"child(?:ren)?|schoolboys?|teenagers?)\b", re.I)
_MY_FIREARM = r"my\s+(?:[\w-]+\s+){0,2}?(?:rifle|pistol|gun|carbine|weapon)\b"
_I_BROUGHT_MY = re.compile(rf"\bI\s+(?:took|brought|carried|grabbed|kept)\s+{_MY_FIREARM}"
                           rf"|\bI\s+(?:left|walked|ran|slipped|crept|fled|escaped|went)\b[^.;]{{0,60}}?"
                           rf"\bwith\s+{_MY_FIREARM}")
_THE_COUNT_NEAR = re.compile(r"\bthe\s+(?:\d|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|"
                             r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen)", re.I)
_THE_BEFORE = re.compile(r"(?:^[\"“‘']?|\b(?:said|says|added|that)\s+)(?:all\s+)?the\s+$")
_THERE_WERE_OF_THEM = re.compile(r"\W*there\s+were\s+([\w,-]+)\s+of\s+(?:them|us)\b", re.I)
_FORCE_MEMBERS = r"(?:soldiers|troops|police(?:men)?|officers|personnel)\b"  # the part of a group that counts
_OF_THEM_SOLDIERS = re.compile(r"\b([\w,]+)\s+of\s+them\s+(?:were|are)\s+" + _FORCE_MEMBERS, re.I)
# "Fifty-three people, 31 of them navy personnel and the rest their wives and children"
_PEOPLE_N_OF_THEM = re.compile(r"\b(?:people|persons|individuals)\s*,\s*([\w,]+)\s+of\s+them\s+(?:(?:were|are)\s+)?(?:\w+\s+)?"
                               + _FORCE_MEMBERS, re.I)
_OF_WHOM_SOLDIERS = re.compile(r"[^.;]{0,160}?\bof\s+whom\s+([\w,]+)\s+(?:were|are)\s+(?:\w+\s+)?" + _FORCE_MEMBERS, re.I)
_WITH_FAMILIES = re.compile(r"\b(?:with|and|plus)\s+(?:their|his|her)\s+(?:famil(?:y|ies)|relatives|wives|dependants)\b", re.I)
_TOTAL_WITH_FAMILIES = re.compile(r"^\W*(?:note,?\s+)?(?:this|that|the)\s+(?:number|figure|total|tally)\s+(?:also\s+)?includes?\b"
                                  r"[^.;]{0,80}?\b(?:famil(?:y|ies)|relatives|wives|children|civilians)\b", re.I)
_COMPRISING_FAMILIES = re.compile(r"\s*,?\s*(?:comprising|including|consisting\s+of)\s+(?![\d,]+\s)[^.;\d]{0,60}?\b"
                                  r"(?:their\s+)?(?:families|family\s+members|relatives|non-combatants|dependants|"
                                  r"women\s+and\s+children)\b", re.I)
_AMONG_THEM = re.compile(r"\s*,\s*(?:among\s+them|including)\s", re.I)
_RELATIVES_AFTER = re.compile(r"\b(?:famil(?:y|ies)|relatives|wives|children|dependants|civilians)\b", re.I)
_COUNT_WORDS = _NUMBER_WORDS - {"a", "an", "half"}
# "Residents said 12 police had defected. That report was false."
_REFUTED_START = re.compile(rf"\s*(?:but\s+|however,?\s+)?(?:the|that|this|these|those)\s+{CLAIMS}"
                            rf"\s+(?:was|were|is|are|proved|turned\s+out\s+to\s+be)\s+{FALSE}\b", re.I)
# where troops routed from a border camp go, and the foreign forces they give themselves up to
_UNIT_POSITION_DETS = frozenset("a an the its several many some numerous multiple all two three four five".split())
_GONE_OVER = frozenset("returnees surrenderees surrenderers surrendered defectors deserters".split())
_NOT_BROUGHT = re.compile(r"\b(?:not|never|without|n[’']t)\s+(?:\w+\s+){0,2}$", re.I)
# "Private X left the battalion's camp near the border with an MA-3 rifle": one man deserting with his firearm
_WITH_ONE_FIREARM = re.compile(r"\bwith\s+(?:an?|his|her|one)\s+(?:\S+\s+){0,2}?(?:rifle|pistol|gun|carbine|weapon|firearm)\b")
_VACATED = frozenset("left abandoned leave leaves abandon abandons leaving abandoning vacated vacate".split())
_POSITIONS = frozenset("post posts position positions outpost outposts base bases camp camps station stations garrison "
                       "checkpoint checkpoints compound".split())
_SIDES = frozenset("rebels insurgents guerrillas opposition taliban mutineers".split())
_AFTER_SIDE = frozenset("in on at after with and to since near under who that which when as from last this during today "
                         "yesterday earlier recently".split())
# "entered India to escape orders": entering a neighbour is a flight when the sentence says why
_ENTRY_AS_FLIGHT = re.compile(r"\b(?:to\s+(?:escape|avoid|flee|seek)|refus\w*|defy\w*|defied|asylum|refuge|shelter|"
                              r"fled|fleeing|deserted|deserters?|defected|defectors?)\b")
_SAYS_DESERTED = frozenset("deserted defected deserter deserters defector defectors".split())
# "joined the rebels holding the city", "joined the Taliban fighters in the countryside": what the side does or its
# armed men, not a rally or a wing
_SIDE_HOLDING = frozenset("holding controlling defending besieging fighting occupying battling fighters forces ranks "
                          "side lines".split())
_POLITICAL_JOINERS = frozenset("minister ministers mp mps lawmaker lawmakers politician politicians leader party".split())
_CIVILIANS = frozenset("teacher teachers doctor doctors nurse nurses professionals professional students student "
                       "engineers civilians villagers lecturers journalists workers diplomats diplomat ambassador "
                       "ambassadors secretaries embassy administrators clerks servants refugees residents "
                       "migrants".split())
_RECRUIT_WORDS = frozenset("recruit recruits".split())
_DDR_WORDS = frozenset("reintegration demobilization demobilisation disarmament".split())
_TRAINEES = _RECRUIT_WORDS | frozenset("trainee trainees conscript conscripts draftee draftees".split())
_INSTITUTION_SUBJECT = frozenset("military army junta regime tatmadaw military's army's junta's regime's".split())
_GENERIC_MEMBERS = frozenset("men man personnel members member staff officers officer".split())
_ABROAD = frozenset("india thailand bangladesh china mizoram manipur laos nagaland assam indian thai bangladeshi bgb indo "
                    "border".split())
_FOREIGN = _ABROAD - {"border", "indo"}  # a foreign country or force, named later in the clause
# "Three of the men who were sent to the training school escaped and reached the PDF": recruits, members of the army
# ("Two of the men taken to the training school escaped": who is taken there is held for the army too)
_PRESSED_INTO_SERVICE = re.compile(r"\b(?:men|youths?|young\s+men|villagers|people)\s+(?:(?:who|that)\s+(?:were|had\s+been|have\s+been)\s+)?"
                                   r"(?:sent|taken)\s+to\s+(?:a\s+|the\s+)?(?:military\s+)?training"
                                   r"|\b(?:men|youths?|young\s+men|villagers|people)\s+who\s+(?:were|had\s+been|have\s+been)\s+"
                                   r"(?:conscripted|drafted|forcibly\s+recruited|taken\s+for\s+military\s+service)", re.I)
_AFTER_OVERRUN = re.compile(r"\b(?:after|when|as)\s+(?:their|its|the)\s+(?:[\w-]+\s+){0,2}?(?:camps?|bases?|posts?|outposts?|"
                            r"positions?|garrison)\s+(?:(?:at|in|near|of)\s+[^.;,]{1,40}?\s)?(?:was|were|had\s+been)\s+"
                            r"(?:overrun|captured|seized|taken)\b"  # "after their camp at Tuibual in Chin state was captured"
                            r"|\b(?:during|amid|amidst)\s+(?:the\s+)?(?:heavy\s+|intense\s+|fierce\s+|ongoing\s+)?"
                            r"(?:fighting|clashes|battles?|gunfights?)\b", re.I)  # "taken shelter in Bangladesh during fighting"
_PLACES_OVERRUN = frozenset("post posts position positions outpost outposts base bases camp camps garrison station "
                            "stations battalion".split())  # "fleeing Border Guard Force Battalion" that fell
_GROUP_AS_PLACE = frozenset("- – controlled held territory territories area areas zone zones".split())
# armed groups named as parties: the Shan State Progress Party, the Karenni National Progressive Party
_ARMED_PARTIES = frozenset("progress progressive sspp knpp".split())
_PARTIES = frozenset("party parties usdp nld nup".split())
_ENLISTED_PRISONERS = re.compile(r"\b(?:inmates|prisoners|convicts)\s+who\s+(?:had\s+|have\s+)?(?:joined|enlisted\s+in|"
                                 r"signed\s+up\s+(?:for|with)|were\s+recruited\s+(?:into|by))\s+the\s+(?:\w+\s+)?(?:army|military)\b")
_PRISONERS = frozenset({"prisoners", "prisoner", "inmates", "inmate", "convicts", "detainees", "detainee", "escapees",
                        "suspects"})
_FLED_OR_QUIT = frozenset("fled escaped crossed deserted defected resigned quit abandoned ran sought left seek seeking refuge "
                          "traveling travelling travelled traveled".split())  # "rather than obey orders"


def _lower_words(sent: Span) -> list[str]:
    """Lower-case words, with the month "May" told apart from the modal ("in May 2024" is no hedge)."""
    lows = [t.lower_ for t in sent]
    if "may" not in lows:
        return lows
    for k in (k for k, w in enumerate(lows) if w == "may"):
        if sent[k].text == "May" and k > 0 and (
                lows[k - 1] in _MONTH_CONTEXT or lows[k - 1].isdigit()
                or (k + 1 < len(lows) and (lows[k + 1][:1].isdigit() or lows[k + 1] in (",", ".")))):
            lows[k] = "may_month"
    return lows


def _narrative_escapes(hits: list[_Hit], lows: Sequence[str], held_for_service: bool) -> list[_Hit]:
    """"Four of us ran", "We went under the wire": a drafted teller getting away deserts, which is also a conscription
    mention; without the story of the teller's draft, or when the sentence evades the draft, it is nobody's desertion."""
    escapes = [h for h in hits if h.trigger == "narrative_escape"]
    if not escapes:
        return hits
    rest = [h for h in hits if h.trigger != "narrative_escape"]
    if not held_for_service or _evading_draft(lows) or _BEFORE_TAKEN.search(" ".join(lows)):
        return rest
    kept = [h for h in escapes if lows[h.end:h.end + 1] == [] or lows[h.end] not in _NOT_AN_ESCAPE_AFTER]
    return rest + kept + [h._replace(kind="conscription") for h in kept]


_NOT_AN_ESCAPE_AFTER = frozenset("a an my our his her their this that out errands for short low".split())  # "we ran a shop"
_BEFORE_TAKEN = re.compile(r"\bbefore\s+(?:they|the\s+\w+)\s+(?:could|can|were\s+able\s+to|came\s+to)\b")


_ONE_OF_THE_TWO = re.compile(r"[\"“‘'\s]*one\s+of\s+(?:them|the\s+(?:[\w-]+\s+){0,2}?[\w-]+)\b", re.I)
_THE_OTHER = re.compile(r"[\"“‘'\s]*(?:the\s+other|the\s+second)\b", re.I)


def _weapons_of_parts(reports: dict[int, dict], text: str) -> None:
    """"Some 308 rebels led by four commanders surrendered. Gadia led 78 followers in surrendering 55 firearms. Batabor
    ... 38 followers ... 27 firearms. ...": when the next sentences' head counts add up to the total exactly, so do
    their firearms."""
    for k in sorted(reports):
        draft = reports[k]
        total = draft["people_count"]
        if draft["modality"] != "report" or not total or draft["weapons_count"] is not None:
            continue
        people = weapons = parts = 0
        for j in range(k + 1, k + 13):
            part = reports.get(j)
            if part is None or not part["people_count"] and part["weapons_count"] is None:
                continue  # "The surrender was witnessed by the governor.": no count of its own
            if part["kind"] != "defection" or not part["people_count"] or part["weapons_count"] is None:
                break
            people, weapons, parts = people + part["people_count"], weapons + part["weapons_count"], parts + 1
            if people >= total:
                break
        if parts >= 2 and people == total:
            draft["weapons_count"] = weapons
    for k in sorted(reports):
        draft = reports[k]
        if draft["modality"] != "report" or draft["people_count"] != 2 or draft["weapons_count"] is not None:
            continue
        # "... two former rebels who recently surrendered. ... One of the recipients turned over an M-16 rifle ...
        # The other former rebel gave up two M-16 rifles": each one's arms, told apart
        later = [j for j in sorted(reports) if k < j <= k + 8 and reports[j]["weapons_count"] is not None]
        if len(later) == 2 and _ONE_OF_THE_TWO.match(text, reports[later[0]]["start_char"]) \
                and _THE_OTHER.match(text, reports[later[1]]["start_char"]) \
                and all(reports[j]["people_count"] in (None, 1) for j in later):
            draft["weapons_count"] = sum(reports[j]["weapons_count"] for j in later)


def _add_among_parts(reports: dict[int, dict], sents: Sequence[Span], text: str) -> None:
    """"Among army personnel, 142 soldiers defected ... Among police, 11 officers defected ...": the parts of one
    tally, told in consecutive sentences, add up on the first of them. When the parts tell prisoners apart, a total
    just before them that is larger than their sum counts the prisoners too, so it gives no count."""
    run: list[int] = []
    for k in sorted(reports) + [-1]:
        draft = reports.get(k)
        among = draft is not None and draft["modality"] == "report" and bool(draft["people_count"]) \
            and bool(_AMONG.match(text, draft["start_char"]))
        if among and (not run or k == run[-1] + 1):
            run.append(k)
            continue
        if len(run) >= 2:
            total = sum(reports[j]["people_count"] for j in run)
            reports[run[0]]["people_count"] = total
            if any(_CAPTIVES.search(sents[j].text) for j in run):
                for j in range(max(0, run[0] - 3), run[0]):
                    if j in reports and (reports[j]["people_count"] or 0) > total:
                        reports[j]["people_count"] = None
        run = [k] if among else []


_AMONG = re.compile(r"[\"“‘'\s]*among\s+(?!them\b|those\b|the\s+dead\b)", re.I)
_CAPTIVES = re.compile(r"\b(?:captured|taken\s+prisoner|prisoners?\s+of\s+war|pows?|arrested|detained)\b", re.I)


def _reach(pattern: Sequence[dict]) -> Optional[int]:
    """The most tokens a token pattern can match; None when an operator has no upper bound."""
    total = 0
    for token in pattern:
        op = token.get("OP")
        if op in ("*", "+"):
            return None
        if op is not None and op.startswith("{"):
            low, comma, high = op[1:-1].partition(",")
            if comma and not high:
                return None  # "{2,}": no upper bound
            total += int(high or low)
        else:
            total += 1
    return total


def _first_words(pattern: Sequence[dict]) -> set[str]:
    """Literal words the first token of a pattern can be: the anchors of a candidate sentence."""
    if "OP" in pattern[0]:  # matching starts at the anchor word, so it must be there
        raise ValueError(f"token pattern must start with a required literal word: {pattern!r}")
    lower = pattern[0].get("LOWER")
    if isinstance(lower, str):
        return {lower}
    if isinstance(lower, dict) and "IN" in lower:
        return set(lower["IN"])
    raise ValueError(f"token pattern must start with a literal word: {pattern!r}")


def _required_words(pattern: Sequence[dict]) -> Optional[set[str]]:
    """The words one of which must appear after a pattern's first token for it to match: its first required literal
    token after the first; None when the pattern has none (only wildcards or optional tokens follow)."""
    for token in pattern[1:]:
        op = token.get("OP")
        if op in ("?", "*", "!") or op is not None and op.startswith("{") and op[1:-1].partition(",")[0] in ("", "0"):
            continue  # optional, or negated ("!": the word must not be there)
        lower = token.get("LOWER")
        if isinstance(lower, str):
            return {lower}
        if isinstance(lower, dict) and set(lower) == {"IN"}:
            return set(lower["IN"])
    return None


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


@Language.factory("newswatch_mentions")
def make_mention_rules(nlp: Language, name: str) -> MentionRules:
    return MentionRules(nlp, name)
