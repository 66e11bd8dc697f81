"""Burmese defection and conscription mentions: rules over syllables (issue 16).

Input: an article's (Unicode) text; output: mention drafts, the same dicts that the
English ``newswatch_mentions`` component leaves in ``doc.user_data["nw_mentions"]``
(kind, modality, counts, ranks, units, orgs, locations, country, source_party plus
``start_char`` / ``end_char``), and the body's places and organisations, so that
:func:`~newswatch.transforms.mentions.step.extract_article` builds the same
:class:`~newswatch.records.Mention` rows and labels for Burmese as for English.

Burmese is written without spaces between words, so every phrase of the pattern files
(``transforms/mentions/patterns/my_*.jsonl``) is matched as characters and accepted only where it
starts and ends on a syllable boundary (:mod:`~newswatch.transforms.shared.burmese_text`); an
optional space or zero-width space is allowed between its syllables. Sentences end at
"။" and at line ends. A trigger that ``needs`` context (a soldier or police word,
conscription wording, the junta) fires only when its sentence has it, and a "took
refuge" whose nearest subject is villagers does not; a defection trigger right after the
negation prefix "မ" or in a sentence about prisoners of war ("သုံ့ပန်း", "ဖမ်းမိ") does
not fire. Organisations and places resolve to the canonical English names of
``orgs.jsonl`` / ``places.jsonl``; ranks to the ids of ``ranks.jsonl``.

Example::

    drafts, places, orgs = burmese_mentions("စစ်သား ၅ ဦး သေနတ် ၅ လက်နှင့်အတူ အလင်းဝင်လာသည်။")
    drafts[0]["kind"], drafts[0]["people_count"], drafts[0]["weapons_count"]   # ('defection', 5, 5)
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Iterator, NamedTuple, Optional

from newswatch.transforms.mentions.burmese_numbers import _DIGIT_NUMBER, find_counts, parse_number
from newswatch.transforms.shared.burmese_text import _SYLLABLE_START, MYANMAR, has_myanmar, myanmar_share

_PATTERNS = Path(__file__).with_name("patterns")
_GAP = "[ \u200b]?"  # between the syllables of a pattern
_SENTENCE = re.compile(r"[^။\n]+။?")
_MODALITY_ORDER = ("denial", "rumour", "offer", "appeal", "policy", "analysis")
# Counts in a sentence that tallies since a date ("since the coup", "up to now") are totals, not this event.
_CUMULATIVE = re.compile(r"ကတည်းက|ယခုအချိန်အထိ|ယနေ့အထိ|အထိ\s?စုစုပေါင်း|မှစ၍|ယခုနှစ်အတွင်း|စုစုပေါင်း[^။]{0,12}ရှိပြီ")
_TOTAL = re.compile(r"စုစုပေါင်း")
_SUBSET = re.compile(r"အနက်|ထဲမှ|ထဲတွင်|ထဲက")  # "among them": a part, not the total
# Family members and civilians who come along are not defectors: "မိသားစုဝင် ၄ ဦးနှင့်အတူ စစ်သား ၁ ဦး".
_NOT_DEFECTORS = re.compile(r"မိသားစု|ဇနီး|သားသမီး|ကလေး|မိဘ|အရပ်သား|ဒေသခံ")
# Civilians as a subject ("ရွာသားများ", "ဒေသခံ ၃၀၀"), not as an adjective ("ဒေသခံ PDF").
_CIVILIAN_SUBJECT = re.compile(r"များ|တွေ|\s?[\u1040-\u1049]|သည်|\s?အချို့|\s?အများစု")
_INCLUDED = re.compile(r"\s?(?:အပါအဝင်|ပါဝင်သည့်|ပါဝင်သော)")
_NEW_RECRUIT = re.compile(r"\s?သစ်")
# Joining a resistance group named just before: "PDF နှင့် ပူးပေါင်း", "KNLA ထံ လက်နက်အပ်နှံ" (not "ပူးပေါင်းတပ်ဖွဲ့", joint forces).
_RESISTANCE = frozenset({"PDF", "KNLA", "KNU", "KIA", "AA", "TNLA", "MNDAA", "KNDF", "CDF", "CNF", "CNA", "BPLA",
                         "Karenni Army", "People's Embrace", "NUG", "MOD", "ABSDF", "KNDO"})
_JOIN = re.compile(r"\)?\s?(?:နှင့်|နဲ့|ထံ|သို့|ဘက်|ကို|တွင်|မှာ)?\s?(?:အတူ\s?)?(?:ပူးပေါင်း(?!တပ်|တိုက်|စစ်|ဆောင်)|လက်နက်အပ်နှံ|ဝင်ရောက်ပူးပေါင်း|လာရောက်ပူးပေါင်း)|\)?\s?(?:ထံ|သို့)\s?(?:လက်နက်\s?)?အပ်နှံ")
_ANAPHOR = re.compile(r"(?:၎င်း|ယင်း|သူ(?:သည်|က|တို့)|ထို|အဲဒီ|အဆိုပါ|(?:ခိုလှုံ|အလင်းဝင်|ကူးပြောင်း|တပ်ပြေး|ထွက်ပြေး)လာ(?:သူ|သည့်))")


def _rows(name: str) -> list[dict]:
    with (_PATTERNS / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def match_form(text: str) -> str:
    """Same-length spelling fixes for matching: "စဥ်" typed for "စဉ်", the digit ၀ typed for the letter ဝ."""
    text = re.sub("\u1025(?=\u103a)", "\u1009", text)
    return re.sub("\u1040(?=[\u102b-\u103e])", "\u101d", text)


def _key(phrase: str) -> str:
    return match_form(re.sub(r"[ \u200b]", "", phrase))


def _phrase_regex(phrases) -> re.Pattern:
    """One alternation, longest first, allowing a space between syllables."""
    alternatives = []
    for phrase in sorted({_key(p) for p in phrases}, key=len, reverse=True):
        starts = [m.start() for m in _SYLLABLE_START.finditer(phrase)] or [0]
        cuts = [0] + [s for s in starts if s > 0] + [len(phrase)]
        pieces = [re.escape(phrase[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a]
        alternatives.append(_GAP.join(pieces))
    return re.compile("|".join(alternatives))


def _boundary(text: str, pos: int) -> bool:
    """True when ``pos`` is not inside a Myanmar syllable (nor inside a Latin word)."""
    if pos <= 0 or pos >= len(text):
        return True
    here, before = text[pos], text[pos - 1]
    if here.isascii() and before.isascii():
        return not (here.isalnum() and before.isalnum())
    if not MYANMAR.match(here):
        return True
    return _SYLLABLE_START.match(text, pos) is not None


class _Hit(NamedTuple):
    start: int
    end: int
    key: str


def _find(regex: re.Pattern, form: str, start: int, end: int) -> Iterator[_Hit]:
    pos = start
    while pos < end:
        match = regex.search(form, pos, end)
        if match is None:
            return
        if _boundary(form, match.start()) and _boundary(form, match.end()):
            yield _Hit(match.start(), match.end(), _key(match.group()))
            pos = match.end()
        else:
            pos = match.start() + 1


class BurmeseRules:
    """The compiled Burmese pattern sets; built once per process by :func:`rules`."""

    def __init__(self):
        self.triggers = {_key(r["pattern"]): r for r in _rows("my_triggers.jsonl")}
        self.trigger_re = _phrase_regex(self.triggers)
        self.context = {}
        for row in _rows("my_context.jsonl"):
            self.context.setdefault(_key(row["pattern"]), set()).add(row["group"])
        self.context_re = _phrase_regex(self.context)
        self.modality = {_key(r["pattern"]): r for r in _rows("my_modality.jsonl")}
        self.modality_re = _phrase_regex(self.modality)
        self.ranks = {_key(r["pattern"]): r["id"] for r in _rows("my_ranks.jsonl")}
        self.rank_re = _phrase_regex(self.ranks)
        self.orgs = {_key(r["pattern"]): r["id"] for r in _rows("my_orgs.jsonl")}
        # Latin acronyms of orgs.jsonl ("PDF", "KNU") inside Burmese text, where spaCy's tokens miss them.
        for row in _rows("orgs.jsonl"):
            if row.get("case") == "exact" and re.fullmatch(r"[A-Z]{2,6}", row["pattern"]):
                self.orgs.setdefault(row["pattern"], row["id"])
        self.org_re = _phrase_regex(self.orgs)
        self.places = {_key(r["pattern"]): r for r in _rows("my_places.jsonl")}
        self.place_re = _phrase_regex(self.places)
        units = {_key(r["pattern"]): r["name"] for r in _rows("my_units.jsonl")}
        self.units = units
        self.unit_re = re.compile(
            rf"(?:အမှတ်\s?\(?\s?(?P<pre>{_DIGIT_NUMBER})\s?\)?\s?)?(?P<unit>{_phrase_regex(units).pattern})"
            rf"(?:\s?(?:အမှတ်\s?)?\(?\s?(?P<post>{_DIGIT_NUMBER})\s?\)?)?")

    # ------------------------------------------------------------------ per sentence

    def _place_names(self, text: str, form: str, start: int, end: int) -> list[str]:
        names = []
        inside_orgs = [(h.start, h.end) for h in _find(self.org_re, form, start, end)]
        for hit in _find(self.place_re, form, start, end):
            if any(s <= hit.start and hit.end <= e for s, e in inside_orgs):
                continue  # "ကရင်နီ" in "ကရင်နီအမျိုးသားကာကွယ်ရေးတပ်ဖွဲ့" names the group, not the state
            row = self.places[hit.key]
            if row.get("strict") and not form.startswith("မြို့", hit.end):
                continue  # a common word too ("ပြည်": country): only as "<name>မြို့(နယ်)"
            name = row["name"]
            if row["type"] == "town" and form.startswith("မြို့နယ်", hit.end):
                name += " Township"
            names.append(name)
        return list(dict.fromkeys(names))

    def _orgs(self, form: str, start: int, end: int) -> list[str]:
        return list(dict.fromkeys(self.orgs[h.key] for h in _find(self.org_re, form, start, end)))

    def _units(self, form: str, start: int, end: int) -> list[str]:
        out = []
        for match in self.unit_re.finditer(form, start, end):
            number = match.group("post") or match.group("pre")
            if number and _boundary(form, match.start("unit")):
                out.append(f"{self.units[_key(match.group('unit'))]} {parse_number(number)}")
        return list(dict.fromkeys(out))

    def _ranks(self, form: str, start: int, end: int) -> list[str]:
        ranks = []
        for hit in _find(self.rank_re, form, start, end):
            if self.ranks[hit.key] == "private" and _NEW_RECRUIT.match(form, hit.end):
                continue  # "တပ်သားသစ်" is a new recruit, not a rank
            ranks.append(self.ranks[hit.key])
        return list(dict.fromkeys(ranks))

    def _modality(self, kind: str, form: str, start: int, end: int) -> str:
        found = set()
        for hit in _find(self.modality_re, form, start, end):
            row = self.modality[hit.key]
            if row.get("kind", kind) == kind:
                found.add(row["modality"])
        return next((m for m in _MODALITY_ORDER if m in found), "report")

    def _counts(self, form: str, start: int, end: int, trigger_at: int) -> tuple[Optional[int], Optional[str], Optional[int]]:
        if _CUMULATIVE.search(form, start, end):
            return None, None, None
        counts = find_counts(form, start, end)
        weapons = [c for c in counts if c.what == "weapons"]
        # "ဗိုလ်မှူးတစ်ဦး အပါအဝင် စစ်သား ၁၂ ဦး": the major is one of the twelve.
        people = [c for c in counts if c.what == "people" and not _INCLUDED.match(form, c.end)
                  and not _NOT_DEFECTORS.search(form, max(start, c.start - 14), c.start + 1)]
        total = _TOTAL.search(form, start, end)
        if total:
            after = [c for c in people if c.start >= total.end()]
            people = after[:1] or people
        else:
            before = [c for c in people if c.start < trigger_at]
            people = before or people[:1]
        people_count = sum(c.value for c in people) if people else None
        qualifier = None
        if people:
            qualifier = next((c.qualifier for c in people if c.qualifier != "exact"), "exact")
        weapons_count = sum(c.value for c in weapons) if weapons else None
        return people_count, qualifier, weapons_count

    def sentence_drafts(self, text: str, form: str, start: int, end: int) -> list[dict]:
        """One draft per kind for the sentence ``text[start:end]`` (``form`` is its match form)."""
        hits = list(_find(self.trigger_re, form, start, end))
        if not hits and not _JOIN.search(form, start, end):
            return []
        groups: set[str] = set()
        last_seen: dict[str, list[int]] = {}
        for hit in _find(self.context_re, form, start, end):
            groups |= self.context[hit.key]
            for group in self.context[hit.key]:
                if group != "civilian" or _CIVILIAN_SUBJECT.match(form, hit.end):
                    last_seen.setdefault(group, []).append(hit.start)
        ranks = self._ranks(form, start, end)
        if ranks:
            groups.add("force")
        by_kind: dict[str, int] = {}
        for hit in hits:
            row = self.triggers[hit.key]
            kind, needs = row["kind"], row.get("needs") or ""
            if needs and needs not in groups:
                continue
            if needs == "force" and _civilians_nearer(last_seen, hit.start):
                continue  # "စစ်သားများ ပစ်ခတ်၍ ရွာသားများ ခိုလှုံ": the villagers took refuge
            if kind == "defection" and ("pow" in groups or _negated(form, hit.start)):
                continue
            if kind == "conscription" and form.startswith("ဟောင်း", hit.end):
                continue  # "စစ်မှုထမ်းဟောင်း": veterans
            by_kind.setdefault(kind, hit.start)
        if "defection" not in by_kind and "force" in groups and "pow" not in groups:
            for hit in _find(self.org_re, form, start, end):
                if self.orgs[hit.key] in _RESISTANCE and _JOIN.match(form, hit.end):
                    by_kind["defection"] = hit.start
                    break
        drafts = []
        for kind, trigger_at in sorted(by_kind.items(), key=lambda kv: kv[1]):
            people, qualifier, weapons = self._counts(form, start, end, trigger_at)
            if kind == "conscription":
                people, qualifier, weapons = None, None, None
            drafts.append({
                "kind": kind, "modality": self._modality(kind, form, start, end),
                "people_count": people, "count_qualifier": qualifier, "weapons_count": weapons,
                "ranks": tuple(ranks), "units": tuple(self._units(form, start, end)),
                "orgs": tuple(self._orgs(form, start, end)),
                "locations": tuple(self._place_names(text, form, start, end)),
                "country": "Myanmar", "source_party": None, "start_char": start, "end_char": end,
            })
        return drafts


def _continue_counts(draft: dict, form: str, start: int, end: int) -> None:
    """Counts in the next sentence about the same men ("၎င်းတို့သည် သေနတ် ၅ လက် ယူလာသည်") fill the report's gaps.

    The evidence then spans both sentences, so the number stays inside the quoted text.
    """
    if draft["kind"] != "defection" or draft["modality"] != "report" or \
            _CUMULATIVE.search(form, draft["start_char"], draft["end_char"]):
        return
    counts = find_counts(form, start, end)
    weapons = sum(c.value for c in counts if c.what == "weapons")
    people = [c for c in counts if c.what == "people"]
    changed = False
    if weapons and draft["weapons_count"] is None:
        draft["weapons_count"], changed = weapons, True
    if people and draft["people_count"] is None and not _CUMULATIVE.search(form, start, end) \
            and not _SUBSET.search(form, start, end):
        draft["people_count"], draft["count_qualifier"], changed = people[0].value, people[0].qualifier, True
    if changed:
        draft["end_char"] = end


def _civilians_nearer(last_seen: dict[str, list[int]], trigger_at: int) -> bool:
    """The subject closest before the trigger is civilians, not soldiers or police."""
    force = [p for p in last_seen.get("force", []) if p < trigger_at]
    civilians = [p for p in last_seen.get("civilian", []) if p < trigger_at]
    return bool(civilians) and (not force or max(civilians) > max(force))


def _negated(form: str, pos: int) -> bool:
    """A verb trigger right after the negation prefix "မ" ("မကူးပြောင်း")."""
    return pos > 0 and form[pos - 1] == "မ" and _SYLLABLE_START.match(form, pos - 1) is not None


@functools.lru_cache(maxsize=1)
def rules() -> BurmeseRules:
    """The process's one (read-only) rule set."""
    return BurmeseRules()


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence: up to "။" or a line end (English lines are the English rules' job)."""
    for match in _SENTENCE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end


def burmese_mentions(text: str, body_start: int = 0) -> tuple[list[dict], tuple[str, ...], tuple[str, ...]]:
    """Drafts for the Burmese sentences of ``text``; the places and orgs named from ``body_start`` on."""
    r = rules()
    form = match_form(text)
    drafts: list[dict] = []
    previous_end = -1
    for start, end in sentences(text):
        if not MYANMAR.search(text, start, end):
            continue
        found = r.sentence_drafts(text, form, start, end)
        if not found and drafts and drafts[-1]["end_char"] == previous_end and _ANAPHOR.match(form, start):
            _continue_counts(drafts[-1], form, start, end)
        drafts.extend(found)
        previous_end = end
    places = tuple(r._place_names(text, form, body_start, len(text)))
    orgs = tuple(r._orgs(form, body_start, len(text)))
    return drafts, places, orgs


def add_burmese(text: str, drafts: list[dict], facts):
    """English drafts and :class:`~newswatch.transforms.mentions.labels.DocFacts` widened by the Burmese rules.

    Text without Myanmar script comes back unchanged; otherwise the Burmese drafts join the
    English ones in text order, the body's Burmese places and organisations join the facts,
    and a mostly Burmese text with no country of its own is about Myanmar.
    """
    if not has_myanmar(text):
        return drafts, facts
    mine, places, orgs = burmese_mentions(text, facts.body_start)
    taken = [(d["kind"], d["start_char"], d["end_char"]) for d in drafts]
    mine = [d for d in mine if not any(k == d["kind"] and s < d["end_char"] and d["start_char"] < e for k, s, e in taken)]
    country = facts.country or ("Myanmar" if myanmar_share(text) >= 0.5 else None)
    facts = facts._replace(places=tuple(dict.fromkeys(facts.places + places)),
                           orgs=tuple(dict.fromkeys(facts.orgs + orgs)), country=country)
    return sorted(list(drafts) + mine, key=lambda d: d["start_char"]), facts
