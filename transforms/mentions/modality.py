"""When a mention sentence reports an event: clauses, negation, modality, counts and sources.

Pure functions over one sentence's lower-cased words (``lows``), the spaCy sentence span
and its :class:`~newswatch.transforms.mentions.numbers.Quantity` list, used by the
``newswatch_mentions`` component (:mod:`~newswatch.transforms.mentions.rules`). Word lists
come from ``patterns/words.jsonl``.

- :func:`_modality`: the sentence's modality (report, denial, rumour, appeal, offer,
  policy, analysis) and the triggers that report events;
- :func:`_pick_count`: which count belongs to a trigger ("64 military and police personnel
  sought refuge" is 64; "there were 90,000 police before the defections began" is none);
- :func:`_source_party`: who the claim is attributed to.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional, Sequence

from spacy.tokens import Span

from newswatch.transforms.mentions.components import word_sets
from newswatch.transforms.mentions.numbers import Quantity, parse_number

_W = word_sets()
_MODALS = _W["modals"]
_NEGATIONS = _W["negations"]
_WH = _W["wh"]
_CLAUSE_BREAKS = _W["clause_breaks"]
_DETERMINERS = _W["determiners"]
_GENERIC_HEADS = _W["generic_heads"]
_PAST_EVENT_VERBS = _W["past_event_verbs"]
_CONSCRIPTION_EVENT_VERBS = _W["conscription_event_verbs"]
_WISH_OR_PLAN = _W["wish_or_plan"]
_SPECULATIVE = _W["speculative"]
_REPORT_VERBS = _W["report_verbs"]
_AUXILIARIES = _W["auxiliaries"]
_ATTRIBUTION_WORDS = _W["attribution_words"]
_NOT_IN_SOURCE = _W["not_in_source"]


class _Hit(NamedTuple):
    kind: str  # defection | conscription
    trigger: str
    form: str  # event | base | ing | noun | program | handover | handover_ing
    force: str  # '' (any subject), 'near' (armed-force word close by), 'sentence' (in this sentence)
    start: int  # token offsets inside the sentence
    end: int


def _clause(lows: Sequence[str], i: int) -> tuple[int, int]:
    """Token range of the clause around position i."""
    s = i
    while s > 0 and lows[s - 1] not in _CLAUSE_BREAKS:
        s -= 1
    e = i
    while e < len(lows) and lows[e] not in _CLAUSE_BREAKS:
        e += 1
    return s, e


def _past_in_what(lows: Sequence[str], cs: int, i: int) -> int:
    """Where the clause of position i starts past an opening "In what may be the largest defection yet," aside."""
    if lows[cs:cs + 2] == ["in", "what"] and "," in lows[cs:i]:
        return cs + lows[cs:i].index(",") + 1
    return cs


def _is_event(hit: _Hit, sent: Span, lows: Sequence[str], quantities: Sequence[Quantity],
              nouns: dict[str, str]) -> Optional[bool]:
    """True when the trigger asserts that it happened; None when it is negated."""
    i = hit.start
    cs = _past_in_what(lows, _clause(lows, i)[0], i)
    before = lows[max(cs, i - 3):i]
    prev = lows[i - 1] if i > 0 else ""
    if lows and lows[-1] == "?" or _WH.intersection(lows[cs:i]) and not _TOLD_HOW.match(" ".join(lows[max(cs, i - 5):i])):
        return False  # ("told of how he deserted": the teller's own past act, told)
    trigger_char = sent[i].idx - sent.start_char
    if hit.form in ("noun", "program", "base") and lows[i].endswith("s") \
            and _SUFFERED.intersection(lows[max(cs, i - 8):i]) \
            and not any(q.category == "people" and q.start <= trigger_char <= q.end and not (q.casualty or q.size)
                        for q in quantities):
        return False  # "the military, which has suffered battlefield defeats and large-scale surrenders": what befell it
        # (not "suffered 13,000 battlefield deaths and 8,000 defections": a stated figure)
    if hit.form in ("noun", "program"):
        if prev in ("no", "none"):
            return None
        if _MODALS.intersection(lows[max(cs, i - 4):i]) or _MODALS.intersection(lows[hit.end:hit.end + 2]):
            return False  # "would welcome defectors", "defectors could weaken the junta"
        window = lows[cs:min(len(lows), hit.end + 6)]
        if hit.kind == "conscription":
            return bool(_CONSCRIPTION_EVENT_VERBS.intersection(window)) and not _MODALS.intersection(window)
        if _AS_CAUSE.intersection(lows[max(cs, i - 6):i]) and not any(
                q.category == "people" and not q.single and q.start > trigger_char for q in quantities):
            return False  # "ranks diminished by heavy casualties and widespread defections": a cause, not an event
        if named_act(hit, sent, lows):
            return True  # "The defection of Abuagla Keikal, a senior RSF commander, to the army marks ...": it happened
        if lows[i] in ("defector", "deserter"):  # one known person who went, named before or after
            article = next((m for m in range(i - 1, max(cs - 1, i - 4), -1) if lows[m] in ("a", "an")), None)
            if article is not None and article >= 3 and lows[article - 1] == "," \
                    and all(t.is_alpha and t.text[:1].isupper() for t in sent[article - 3:article - 1]) \
                    and not _CALENDAR.intersection(lows[article - 3:article - 1]):
                return True  # "Mikita Sviryd, a Belarusian deserter who fled to Lithuania"
            if prev == "a":
                comma = next((j for j in range(hit.end, min(len(lows), hit.end + 8)) if lows[j] == ","), None)
                if _named_after(sent, lows, hit.end) or (comma is not None and _named_after(sent, lows, comma)):
                    return True  # "A defector of the Myanmar Air Force, Myint Wai, ..."
        trigger_end = sent[hit.end - 1].idx + len(sent[hit.end - 1]) - sent.start_char
        if any(q.category == "people" and not (q.subset or q.casualty or q.size or q.single)
               and (q.start <= trigger_char <= q.end or 0 <= trigger_char - q.end <= 80 or 0 <= q.start - trigger_end <= 80)
               and not _CLAUSE_CHANGE.search(sent.text[min(q.end, trigger_end):max(q.start, trigger_char)])
               and not _enquiry_only(sent.text[min(q.end, trigger_end):max(q.start, trigger_char)])
               for q in quantities):  # "64 soldiers sought the People's Embrace", not a count in another clause
            return True
        # "64 soldiers were welcomed by the People's Embrace"; not "those who defect will be welcomed by ..."
        # (nor "People's Embrace says it has received more than 26,000 enquiries": contacts, not defections)
        return any(w in _PAST_EVENT_VERBS and not _MODALS.intersection(window[max(0, k - 3):k])
                   for k, w in enumerate(window)) and not _NEGATIONS.intersection(lows[cs:i]) \
            and not (hit.form == "program" and _ENQUIRY.search(" ".join(lows[cs:])))
    if hit.form == "base" and lows[i] in _PARTICIPLE_AS_BASE and prev in ("had", "has", "have", "having"):
        hit = hit._replace(form="event")  # "had come into the legal fold": a perfect, not a base form
    if hit.form == "base" and prev in _DETERMINERS:
        # "the surrender": a noun, decided by the sentence's other triggers, unless it has its own
        # count ("the surrender of 127 soldiers ... appears to be the largest" reports it)
        trigger_end = sent[hit.end - 1].idx + len(sent[hit.end - 1]) - sent.start_char
        return hit.end < len(lows) and lows[hit.end] == "of" and any(
            q.category == "people" and not (q.subset or q.casualty or q.size or q.single)
            and 0 <= q.start - trigger_end <= 25 for q in quantities)
    if any(w == "few" and (k == 0 or lows[k - 1] != "a") for k, w in enumerate(lows[:i]) if k >= max(cs, i - 8)):
        return False  # "very few senior officers are known to have left": an assessment, not an event
    if not _URGING.isdisjoint(lows[max(0, i - 14):i]) and any(
            w in _URGING and lows[k + 1:k + 2] in (["them"], ["him"], ["soldiers"], ["members"], ["troops"], ["you"])
            for k, w in enumerate(lows[max(0, i - 14):i], start=max(0, i - 14))):
        return False  # "to encourage them to inform officials that they are surrendering": what is urged, not done
    negated = _negated(lows, i, cs)
    implicative = prev == "to" and i > 1 and (lows[i - 2] in ("managed", "succeeded")  # "managed to flee": it happened
                                              or bool(_ORDINALS.intersection(lows[max(cs, i - 9):i - 1]))
                                              and not _MODALS.intersection(lows[cs:i])  # "the first group ... to cross"
                                              or lows[i - 2] in ("decided", "chose", "opted")
                                              and not _MODALS.intersection(lows[cs:i])
                                              # "arrived at our base ..., having decided to stand on the side of the
                                              # people": the decision is told as carried out
                                              and (i > 2 and lows[i - 3] == "having"
                                                   or bool(_WHEN_DONE.search(" ".join(lows[hit.end:hit.end + 8])))
                                                   # "he chose to defect rather than open fire on protesters": the
                                                   # road not taken is named, so the choice was made
                                                   or bool(_RATHER_THAN.search(" ".join(lows[hit.end:hit.end + 10])))
                                                   or lows[i - 3:i - 2] != [] and lows[i - 3] in _DECIDED_AT_LAST
                                                   # "34 rebels decided to surrender to the Army's 19th Infantry
                                                   # Battalion": a counted group's decision, told as news, was carried out
                                                   or not _FOILED.intersection(lows) and any(
                                                       q.category == "people" and not (q.single or q.subset or q.size)
                                                       # ("Three members of the outlawed Bangsamoro Islamic Freedom
                                                       # Fighters (BIFF) have decided to surrender")
                                                       and q.end <= sent[i - 2].idx - sent.start_char
                                                       and _GROUP_GAP.fullmatch(sent.text, q.end,
                                                                                sent[i - 2].idx - sent.start_char) is not None
                                                       for q in quantities)))
    # "125 members of the terrorist group were convinced by authorities to surrender in 2022": they did
    implicative = implicative or prev == "to" and not _MODALS.intersection(lows[cs:i]) and any(
        lows[m] in ("convinced", "persuaded") and lows[m - 1] in ("were", "was", "been")
        for m in range(max(cs + 1, i - 7), i - 1))
    # "Go by the Forest says it has helped more than 400 men to desert": the helpers count what happened
    implicative = implicative or prev == "to" and bool(_HELPED.intersection(lows[max(cs, i - 8):i - 1])) \
        and not _MODALS.intersection(lows[cs:i]) and any(
            q.category == "people" and not (q.single or q.subset or q.size)
            and 0 <= sent[i - 1].idx - sent.start_char - q.end <= 2 for q in quantities)
    # "walked across the border in a bid to defect": the crossing happened, and it was the defection
    crossed_to_defect = prev == "to" and (
        lows[max(0, i - 4):i - 1] in (["in", "a", "bid"], ["in", "an", "attempt"]) and bool(_CROSSED_OVER.intersection(lows[cs:i - 4]))
        # "a North Korean soldier has crossed the border between rivals to defect to the South": he is across
        # ("fled across a heavily fortified border to defect to South Korea": across too)
        or lows[i].startswith("defect") and ("crossed" in lows[max(cs, i - 10):i - 1] or bool(
            _CROSSED_OVER.intersection(lows[max(cs, i - 10):i - 1]) and _ACROSS.intersection(lows[max(cs, i - 9):i - 1])))
        and not _MODALS.intersection(lows[hit.end:hit.end + 8]) and "who" not in lows[max(cs, i - 10):i - 1]) \
        and not _FOILED.intersection(lows) and not _MODALS.intersection(lows[cs:i])
    # "crossed the MDL and expressed his intention to defect": the soldier is across, so the defection happened
    stated_wish = prev == "to" and i > 3 and lows[i - 2] in ("intention", "wish", "desire") \
        and lows[i - 4] in ("expressed", "stated", "voiced", "conveyed", "indicated") \
        and not _MODALS.intersection(lows[cs:i]) and not _FOILED.intersection(lows) and (
            bool(_CROSSED_OVER.intersection(lows[:i - 4])) or bool(_CROSSED_BEFORE.search(
                sent.doc.text, max(0, sent.start_char - 300), sent.start_char)))
    led = next((k for k in range(max(cs, i - 30), i - 1) if lows[k] == "led"), None) if prev == "to" else None
    caused = prev == "to" and bool(_CAUSATIVE.intersection(lows[max(cs, i - 14):i - 1]) or led is not None and any(
        # "Unfulfilled promises and hunger led 12 CPP-NPA rebels, including a ranking official, to surrender": the
        # people led come right after it
        q.category == "people" and not (q.single or q.subset or q.size)
        and 0 <= q.start - (sent[led].idx - sent.start_char + 3) <= 12 for q in quantities)
        and not _MODALS.intersection(lows[cs:i]))  # "fatigue pushed six NPA
    # members to lay down their arms": they did
    # "have come to join the people's revolution together with their weapons": they came, and joined
    came_to_join = prev == "to" and i > 2 and hit.kind == "defection" and lows[i] == "join" and (
        lows[i - 2] == "came" or lows[i - 2] == "come" and lows[i - 3] in ("have", "has", "had")) \
        and not _MODALS.intersection(lows[cs:i])
    # "Al-Dhari is among six commanders to defect from the council since Tuesday": one of a counted group that did
    one_of_counted = prev == "to" and hit.kind == "defection" and not _MODALS.intersection(lows[cs:i]) and any(
        q.category == "people" and not (q.single or q.subset or q.size) and q.end <= trigger_char
        and _AMONG_COUNTED.search(sent.text, max(0, q.start - 12), q.start)
        and _GROUP_TO.fullmatch(sent.text, q.end, trigger_char) is not None for q in quantities)
    # "All 19 officers had left, taking their guns with them to join the Taliban": they left, and that was the joining
    # ("they abandoned their bases in Beni to surrender to the army": the same for a surrender)
    left_to_join = prev == "to" and hit.kind == "defection" and lows[i] in ("join", "surrender") \
        and bool((_LEFT_TO_JOIN if lows[i] == "join" else _LEFT_TO_SURRENDER).intersection(lows[max(cs, i - 16):i - 1])) \
        and not _MODALS.intersection(lows[cs:i]) \
        and not _FOILED.intersection(lows) and "who" not in lows[max(cs, i - 16):i - 1]
    implicative = implicative or crossed_to_defect or stated_wish or came_to_join or one_of_counted or left_to_join \
        or caused and not _MODALS.intersection(lows[cs:i])
    # ("decided to leave the army last week": a decision dated like an act, so the act happened)
    if (prev == "to" and not implicative) or _MODALS.intersection(before) or negated == "modal":
        return False
    if negated:
        return None
    if implicative and hit.form == "base" and (
            lows[i - 2] in ("decided", "chose", "opted", "managed", "succeeded") or crossed_to_defect or stated_wish or came_to_join
            or caused or left_to_join):
        return True  # "decided to leave the army last week"
    nxt = lows[hit.end] if hit.end < len(lows) else ""
    if hit.form == "event" and hit.end - hit.start == 1 and prev == "a" and nouns.get(nxt) == "people" \
            and _named_after(sent, lows, hit.end + 1):
        return True  # "A defected soldier named Maung Maung Win revealed ...": one known person who did it
    if hit.form == "event" and hit.end - hit.start == 1 and (nouns.get(nxt) == "people" or prev in ("the", "these", "those")):
        return False  # "surrendered soldiers", "the surrendered junta [troops]": an adjective
    if hit.form == "base" and lows[hit.start].endswith("s") and nouns.get(prev) == "people" \
            and not prev.endswith("s") and prev not in ("police", "personnel"):
        return True  # headline present: "Army officer defects to Thailand"
    if hit.form == "base" and lows[hit.start].endswith("s") and prev in (",", "and") and sent.start == 0 \
            and not sent.text.rstrip().endswith((".", "?", "!")) and any(
                nouns.get(w) == "people" and not w.endswith("s") and lows[k + 1].endswith("s")
                for k, w in enumerate(lows[:i - 1])):
        return True  # headline present, a second verb: "N. Korean soldier crosses MDL, defects to South"
    if hit.form.endswith("ing") and prev in ("those", "anyone", "whoever", "soldiers", "personnel") \
            and _MODALS.intersection(lows[hit.end:hit.end + 10]):
        return False  # "those bringing a machine gun will receive more": a class in an offer
    if hit.form == "ing" and prev.endswith("ly") and i > 1:
        prev = lows[i - 2]  # "after voluntarily surrendering": the adverb does not change the tense
    if hit.form in ("base", "ing"):
        if "future" in lows[hit.end:hit.end + 6] or (prev in ("who", "that") and _MODALS.intersection(lows[hit.end:hit.end + 12])):
            return False  # "those who join the CDM in the future", "police who defect may be monitored": a class
        if hit.form == "ing" and prev in ("after", "since", "upon") and (
                _MODALS.intersection(lows[:i]) or _GENERIC_HEADS.intersection(
                    w for k, w in enumerate(lows[:i]) if lows[k + 1] not in ("'s", "’s"))  # not "People's Defence Force"
                or _WISH_OR_PLAN.intersection(lows[:i])):
            return False  # "a plan for those who ... after defecting": hypothetical
        if hit.form == "ing" and prev in ("are", "were", "is", "was", "been", "be", "after", "since", "upon"):
            return True  # "are defecting", "after defecting"
        if hit.form == "ing" and prev == "for" and _REWARDED.intersection(lows[max(cs, i - 22):i]) \
                and not _MODALS.intersection(lows[:i]) and "would" not in lows[max(cs, i - 22):i]:
            return True  # "received a 5-million-kyat reward from the CNO for deserting with his weapon": he did
        if hit.form == "ing" and prev == "before" and not _MODALS.intersection(lows[:i]) \
                and any(w.endswith("ed") for w in lows[cs:i - 1]):
            return True  # "fended off the assaults for four days before surrendering": they did surrender
        if hit.form == "ing" and _with_movers(lows, cs, i):
            return True  # "..., with hundreds of soldiers reportedly surrendering to the AA": it happened
        if hit.form == "base" and sent.start == 0 and not sent.text.rstrip().endswith((".", "?", "!", ":")) \
                and prev in _FORCE_PEOPLE and not _MODALS.intersection(lows[:i]):
            return True  # a headline's present tense: "In Ukraine, forced conscripts desert on their way to the front"
        # "40 soldiers defect ...", "with 64 personnel, including a major, seeking refuge": a counted subject
        return any(q.category == "people" and not (q.size or q.single or q.subset) and q.end <= trigger_char
                   and (hit.form == "base" or q.start >= sent[cs].idx - sent.start_char) for q in quantities)
    rel = next((j for j in range(i - 1, max(cs, i - 4) - 1, -1) if lows[j] in ("who", "that")), None)
    if rel is not None and rel > 0 and _DATED_ACT.match(" ".join(lows[hit.end:hit.end + 14])) \
            and not _MODALS.intersection(lows[hit.end:hit.end + 15]) and any(
                q.category == "people" and not q.single and 0 <= sent[rel].idx - sent.start_char - q.end <= 3
                for q in quantities):
        return True  # "three people who surrendered on Nov. 28": counted people whose dated act happened
    if rel is not None and rel > 0:
        head = lows[rel - 1]
        if head in _GENERIC_HEADS and not _past_group(lows, head, hit):
            return False
        if nouns.get(head) == "people" and not _specific_np(lows, cs, rel):
            return False  # "soldiers who defected would receive": a class of people, not an event
        if nouns.get(head) in ("people", "force") and _MODALS.intersection(lows[hit.end:hit.end + 15]) and not any(
                q.category == "people" and not q.single and q.end <= trigger_char for q in quantities):
            return False  # "a policy so that the police who defected can continue": a class again
    return True


# "recently decided to defect", "finally chose to desert": a decision told as done
_DECIDED_AT_LAST = frozenset("recently eventually finally later subsequently ultimately then".split())
_DATED_ACT = re.compile(r"(?:(?:to|with|from|in|at|near)\s+(?:\S+\s+){1,8}?)?(?:earlier\s+)?(?:on|in|last|this)\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|"
                        r"january|february|march|april|june|july|august|september|october|november|december|monday|"
                        r"tuesday|wednesday|thursday|friday|saturday|sunday|week|month|year|(?:19|20)\d\d)\b")
# "the military, which has suffered battlefield defeats and large-scale surrenders": what befell the army, not an event
_REWARDED = frozenset("received receives got awarded rewarded honoured honored".split())
_SUFFERED = frozenset("suffered suffering suffers".split())
_AS_CAUSE = frozenset("by amid amidst despite".split())
_CAUSATIVE = frozenset("pushed prompted drove compelled compelling forced forcing".split())  # "forcing 500 personnel to surrender"
_CROSSED_OVER = frozenset("walked crossed swam fled drove flew sailed ran escaped".split())
_ACROSS = frozenset("across border frontier".split())
_CROSSED_BEFORE = re.compile(r"\b(?:crossed|swam\s+across|walked\s+across)\b", re.I)
_FOILED = frozenset("tried trying caught arrested shot killed failed foiled stopped captured detained".split())


def named_act(hit: _Hit, sent: Span, lows: Sequence[str]) -> bool:
    """"the defection of Abuagla Keikal": the act of one named person, so it happened."""
    return hit.start > 0 and lows[hit.start - 1] == "the" and lows[hit.start] in ("defection", "desertion") \
        and lows[hit.end:hit.end + 1] == ["of"] and hit.end + 2 < len(lows) \
        and all(t.text[:1].isupper() and t.is_alpha for t in sent[hit.end + 1:hit.end + 3])


def _named_after(sent: Span, lows: Sequence[str], j: int) -> bool:
    """"... named Aung Ko", "..., Aung Ko,": a name follows at token j."""
    if j < len(lows) and lows[j] in ("named", "called"):
        j += 1
    elif j < len(lows) and lows[j] == ",":
        j += 1
    else:
        return False
    return j + 1 < len(lows) and sent[j].text[:1].isupper() and sent[j + 1].text[:1].isupper()


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WHEN_DONE = re.compile(r"\b(?:last\s+(?:week|month|year|night)|(?:a\s+few|\w+)\s+(?:days|weeks|months|years)\s+ago|"
                        rf"in\s+(?:19|20)\d\d|on\s+(?:{'|'.join(_WEEKDAYS)})|in\s+(?:early\s+|late\s+|mid-)?(?:january|february|"
                        r"march|april|may|june|july|august|september|october|november|december))\b")  # "chose to defect in April"
_RATHER_THAN = re.compile(r"\b(?:rather\s+than|instead\s+of)\b")
_URGING = frozenset("encourage encouraged encouraging urge urged urging persuade persuaded persuading invite invited "
                     "inviting".split())
_PARTICIPLE_AS_BASE = frozenset("come run become".split())
_ING_ADVERBS = frozenset("reportedly allegedly also now still and already increasingly".split())


def _with_movers(lows: Sequence[str], cs: int, i: int) -> bool:
    """"with hundreds of soldiers (reportedly) surrendering": an absolute clause whose subject is a force's members."""
    j = i - 1
    while j > cs and (lows[j] in _ING_ADVERBS or lows[j].endswith("ing")):
        j -= 1
    if j <= cs or lows[j] not in _FORCE_PEOPLE:
        return False  # "with thousands of civilians fleeing the army's advance" is no defection
    # ("The AA's latest offensive saw hundreds of junta troops surrendering": what the offensive saw happened)
    return "with" in lows[max(cs, j - 5):j] or bool(_SAW.intersection(lows[max(cs, j - 5):j]))


_SAW = frozenset("saw witnessed".split())


# "Those who had returned to the legal fold handed over the weapons they brought": a past group named by its act
_GROUP_MAIN_VERBS = frozenset("handed brought comprised consisted included numbered totalled totaled received signed "
                              "surrendered".split())


def _past_group(lows: Sequence[str], head: str, hit: _Hit) -> bool:
    """"Those who returned ... comprised 22 men": past acts of a group that the main verb then describes."""
    return head == "those" and hit.form == "event" and not _MODALS.intersection(lows) \
        and bool(_GROUP_MAIN_VERBS.intersection(lows[hit.end:]))


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
        if word.endswith(("'s", "’s")) or word in ("'s", "’s") or word.replace(",", "").isdigit() \
                or word.isalpha() and parse_number(word) is not None:  # "fourteen ex-Seleka rebels who deserted"
            return True
        if word in ('"', "“", "”", "‘", "'"):  # 'eight "Myanmar police personnel who were runaway ...": a quotation opens
            j -= 1
            continue
        if not (word.isalpha() or word in ("-", "–") or "-" in word and word.replace("-", "").isalpha()) \
                or word in _REPORT_VERBS or word in ("to", "on", "that", "this", "said", "for", "at"):
            return False  # ("ex-Seleka rebels": a hyphened modifier)
        j -= 1
        if end - j > 8:
            return False
    return False


# a sentence with several triggers takes the strongest: one reported event makes it a report
_ACT_NOUNS = frozenset("deserter deserters defector defectors surrenderer surrenderers runaways".split())


def _alleged_who(lows: Sequence[str], k: int, trigger: int, nouns: dict[str, str]) -> bool:
    """"five alleged NPA rebels surrendered", "..., including the alleged leader": "alleged" names who they are, not
    whether they went; "the alleged deserters" alleges the act itself."""
    end = min(k + 5, trigger) if k < trigger else min(k + 5, len(lows))  # also "..., including the alleged leader"
    head = next((j for j in range(k + 1, end) if nouns.get(lows[j]) == "people"), None)
    return head is not None and lows[head] not in _ACT_NOUNS


# between a counted group and its verb: the group's name, its acronym, an auxiliary
# (also "31 fighters from Diffa, who were enrolled a few years ago in Boko Haram, decided to surrender")
_GROUP_GAP = re.compile(r"\s*(?:of\s+(?:the\s+)?(?:outlawed\s+|banned\s+)?(?:[A-Z][\w'’-]*\s+){0,6}(?:\([^()]{1,12}\)\s*)?)?"
                        r"(?:from\s+(?:[A-Z][\w'’-]*\s*){1,3})?(?:,\s*who\s+[^,;.:]{1,80},\s*)?"
                        r"(?:(?:have|has|had)\s+)?")
_CALENDAR = frozenset(_WEEKDAYS) | frozenset("january february march april may june july august september october november "
                                             "december".split())
_HELPED = frozenset("helped assisted enabled".split())
_MISLED = frozenset("misled deceived incited lured duped".split())
_MODALITY_RANK = {"report": 0, "denial": 1, "rumour": 2, "appeal": 3, "offer": 4, "policy": 5, "analysis": 6}


_SUBORDINATORS = frozenset("after because when since following before".split())
_TOLD_HOW = re.compile(r".*\b(?:told|tells|described|describes|recounted|recounts|recalled|recalls|explained|explains)"
                       r"(?: of| about)?(?: \w+)? how (?:he|she|they|i|we)(?: had)?$")
_CONCESSIVE = frozenset("while although though whereas".split())


def _negated(lows: Sequence[str], i: int, cs: int) -> Optional[str]:
    """'did not defect' -> 'plain'; 'would not be drafted' -> 'modal'; else None."""
    if cs and lows[cs - 1] in _CONCESSIVE and "," in lows[cs:i]:
        cs += lows[cs:i].index(",") + 1  # "while most show no sign of emotion, a handful of officers have joined"
    if "neither" in lows[cs:i] and "nor" in lows[cs:i]:
        return "plain"  # "Neither the TNLA nor the PDF has said that any police officers joined them"
    if "none" in lows[cs:i] or any(lows[k] == "no" and k + 1 < i and lows[k + 1].isalpha()
                                   and lows[k + 1] not in ("longer", "sooner", "doubt", "less", "fewer") for k in range(cs, i)):
        return "plain"  # "none of the soldiers have defected", "no troops surrendered"
    j = i - 1
    while j >= cs and (lows[j] in _AUXILIARIES or lows[j] in ("'", '"', "‘", "“")):
        j -= 1  # also "did not 'enter the legal fold'"
    if j < cs or lows[j] not in _NEGATIONS:
        return None
    if j - 1 >= cs and lows[j - 1] in _MODALS:
        return "modal"
    return "plain"


def _set_off_relative(lows: Sequence[str], cs: int, j: int, trigger: int) -> bool:
    """"The following personnel, who could no longer accept the oppression, left their units": the hedge is the
    relative clause's, closed by a comma before the trigger."""
    return any(w in ("who", "which") for w in lows[cs:j]) and ("," in lows[j:trigger] or (
        # "members ... who could no longer bear the crimes arrived on the side of the people": a past inability
        lows[j] in ("could", "would") and (lows[j + 1:j + 3] == ["no", "longer"] or lows[j + 1:j + 2] == ["not"])))


def _suggests_figure(sent: Span, lows: Sequence[str], j: int, quantities) -> bool:
    """"Reports compiled by the outlet suggest at least 447 personnel have surrendered": a stated figure."""
    if not lows[j].startswith("suggest"):
        return False
    end = sent[j].idx + len(sent[j]) - sent.start_char
    return any(q.category == "people" and not q.single and 0 <= q.start - end <= 12 for q in quantities)


def _modality(kind: str, sent: Span, lows: Sequence[str], hits: Sequence[_Hit], cues, quantities,
              nouns, attributed_near: bool = False) -> tuple[str, _Hit, list[_Hit]]:
    """Modality of the mention, the trigger that decided it, and the triggers that report events."""
    best: Optional[tuple[int, str, _Hit]] = None
    events: list[_Hit] = []
    attributed = attributed_near or bool(_ATTRIBUTION_WORDS.intersection(lows))
    refuted = bool(REFUTED.search(sent.text))  # "..., but the PDF said the rumour was false"
    previous: Optional[tuple[_Hit, Optional[bool]]] = None
    for hit in sorted(hits, key=lambda h: h.start):
        cs, ce = _clause(lows, hit.start)
        # a cue inside a relative clause after the trigger is about that clause: "14,000 have defected from the
        # council, which is allegedly sending clerks to the front"
        in_clause = [c for c in cues if cs <= c[1] < ce and not (
            c[1] > hit.end and _RELATIVE_WORDS.intersection(lows[hit.end:c[1]])) and not (
            # "25 boys have escaped from the training centre after allegedly being abducted": the hedge is the abduction's
            c[0] == "rumour" and c[1] > hit.end and _SUBORDINATORS.intersection(lows[hit.end:c[1]])) and not (
            c[0] == "denial" and _REGIME.intersection(lows[c[2]:c[2] + 3])) and not (
            # "who had been misled by the fabricated news of the NUG": the state media's stock phrase, no denial
            c[0] in ("denial", "rumour") and _MISLED.intersection(lows[max(0, c[1] - 4):c[1]]))]
        labels = {c[0] for c in in_clause}
        event = _is_event(hit, sent, lows, quantities, nouns)
        if event and previous is not None and previous[1] is False and previous[0].start >= cs \
                and "and" in lows[max(previous[0].end, hit.start - 2):hit.start] \
                and not (previous[0].start and lows[previous[0].start - 1] == "to"):  # "decided to X and arrived"
            event = False  # "those who defected and sought refuge": the second verb shares the first's subject
        previous = (hit, event)
        speculative = any(lows[j] in _SPECULATIVE and not _suggests_figure(sent, lows, j, quantities)
                          and not _set_off_relative(lows, cs, j, hit.start)
                          for j in range(_past_in_what(lows, cs, hit.start), hit.start))
        if "rumour" in labels and attributed and all(lows[c[1]] == "reportedly" for c in in_clause if c[0] == "rumour"):
            labels.discard("rumour")  # "... reportedly surrendered, the KNDF said": an attributed report
        if "rumour" in labels and all(lows[c[1]] == "alleged" and _alleged_who(lows, c[1], hit.start, nouns)
                                         for c in in_clause if c[0] == "rumour"):
            labels.discard("rumour")  # "five alleged NPA rebels surrendered": who they are is alleged, not the act
        if "rumour" in labels and all(lows[c[1]] in ("allegedly", "alleged") and c[1] > cs and lows[c[1] - 1] == ","
                                      and "," in lows[c[1] + 1:hit.start] for c in in_clause if c[0] == "rumour"):
            labels.discard("rumour")  # "Nine Maoists, allegedly involved in attacks on ..., surrendered": an aside
        offered = event and any(c[0] == "offer" and c[2] <= hit.start for c in in_clause) \
            and "by" in lows[max(cs, hit.start - 3):hit.end + 3]
        if offered:  # "offered cash rewards for weapons brought in by PDF defectors": what the offer pays for
            event = False
        if "denial" in labels or refuted:
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
                    {"law", "service", "will", "would", "plan", "plans", "planned", "planning", "shall",
                     "must", "quota", "quotas", "ordered", "orders", "demanded", "instructed", "required"}.intersection(lows[cs:ce])):
                modality = "policy"  # announced rules and plans for the draft
        if best is None or _MODALITY_RANK[modality] < best[0]:
            best = (_MODALITY_RANK[modality], modality, hit)
    assert best is not None
    return best[1], best[2], events


# what a defector rejects, which is no denial of a report: "having rejected the military dictatorship"
_REGIME = frozenset("dictatorship dictatorships dictator dictators junta regime coup tyranny oppression".split())

# the article or a source calls the claim false
CLAIMS = r"(?:rumou?rs?|reports?|claims?|allegations?|news|story|stories)"
FALSE = r"(?:false|untrue|baseless|fabricated|fake|groundless|unfounded|not\s+true|wrong|incorrect)"
# ("the claim that 100 soldiers deserted the battlefield was unfounded": the claim, its content, then the verdict)
REFUTED = re.compile(rf"\b{CLAIMS}\s+(?:that\s+[^.;]{{1,120}}?\s+)?(?:was|were|is|are|had\s+been|has\s+been)\s+{FALSE}\b"
                     r"|\b(?:misstated|misreported|(?:incorrectly|wrongly|erroneously)\s+(?:stated|reported|said))\b"
                     # "in its rebuttal that more than 100 soldiers deserted"; "the report that soldiers deserted was meant
                     # to dampen morale"
                     rf"|\brebuttal\s+(?:of\s+(?:the\s+)?{CLAIMS}\s+)?that\b"
                     rf"|\b(?:the|this|that)\s+{CLAIMS}\s+that\s+[^.;]{{1,80}}?\s+(?:was|were|is|are)\s+(?:meant|designed|"
                     r"intended|aimed|calculated)\s+to\b", re.I)
# "A conscripted soldier who recently defected to the AA has accused ...": the one the relative clause is about defected
_WHO_DID_IT = re.compile(r"\s*,?\s*(?:who|that)\s+(?:(?:had|has|have|recently|later|also|reportedly|finally|eventually)\s+)*")
_RELATIVE_WORDS = frozenset({"which", "who", "whom", "whose"})
_ORDINALS = frozenset("first latest last second third only".split())
_LEFT_TO_JOIN = frozenset("left gone went fled deserted escaped quit defected".split())
_LEFT_TO_SURRENDER = frozenset("left abandoned fled deserted escaped quit emerged".split())
_AMONG_COUNTED = re.compile(r"\b(?:among|one\s+of)\s+(?:the\s+)?$", re.I)
_GROUP_TO = re.compile(r"(?:\s+(?!to\b)[\w'’-]+){0,6}?\s+to\s+", re.I)  # "... six commanders [of the council] to defect"
_RELATIVE = re.compile(r"\b(?:who|whom|that|which)\b", re.I)
_PREDICATE = re.compile(r"\b(?:is|was)\s+(?:a|an|the)\b", re.I)
# "sentenced a former captain who fled the army": the one the relative clause is about is the object, not a witness
_OBJECT_BEFORE = re.compile(r"\b(?:[a-z]+ed|of|to|against|for|with)\s+$")


def _enquiry_only(between: str) -> bool:
    """Contacting is not defecting; but "had reached out and sought refuge" did both."""
    return bool(_ENQUIRY.search(between)) and not _AND_THEN.search(between)


_AND_THEN = re.compile(r"\band\s+(?:then\s+|later\s+|eventually\s+)?$")


def _one_subject(between: str) -> bool:
    """"Captain X defected", "Capt. X is a pilot who defected": the single is the one who defected;
    "a sergeant who defected told us" names one of them, not how many."""
    return not _RELATIVE.search(between) or bool(_PREDICATE.search(between))
# "Since joining the resistance he has trained more than 300 fighters": a count after a new subject and verb
_NEW_SUBJECT = re.compile(r"\b(?:he|she|they|we|it)\s+(?:has|have|had|was|were|is|are|will|would|\w+ed)\b"
                          # "Two officials surrendered on Wednesday, and refugees joined a stream of 80,000 people"
                          r"|,\s+and\s+(?:the\s+)?[a-z]+\s+(?:\w+ed|have|has|had|were|was)\b", re.I)
_SPEAKER_THEN = re.compile(r"\b(?:said|says|told|tells|added|announced|stated)\b")
_CLAUSE_CHANGE = re.compile(r"\b(?:said|says|told|added|according)\b|;")
# "26,000 people have contacted the People's Embrace": enquiries, not defections
_ENQUIRED_AFTER = re.compile(r"\s+(?:have|has|had)\s+(?:(?:also|already|so\s+far)\s+)?(?:made\s+contact|contacted|phoned|"
                             r"enquired|inquired)\b(?![^.;]{0,40}\band\s+(?:sought|joined|arrived|crossed|defected))", re.I)
_ENQUIRY = re.compile(r"\b(?:contact(?:ed|ing|s)?|phoned|rang|messaged|enquir\w*|inquir\w*|reached\s+out|approached|"
                      r"(?:used|called|dialled|dialed)\s+(?:the|a)\s+hotline)\b", re.I)  # "used the hotline to offer their surrender"
# "Private Aung Ko, who was conscripted in March after an arrest in Bago, has defected": a relative clause set off by
# commas, then the main verb; the one named is the one who defected
# "Captain Aung Ko, who was drafted ..., has defected"; "a new soldier, Aung Aung, who was ..., has defected"
_APPOSITIVE_SUBJECT = re.compile(r"\s*,\s*(?:(?:[A-Z][\w'’-]+\s+){0,3}[A-Z][\w'’-]+\s*,\s*)?(?:\d{1,2}\s*,\s*)?who\b[^;.!?\"“”]{0,260},\s*(?:(?:has|have|had|later|then|also|finally|eventually"
                                 r"|now|since)\s+)*")
_UNNAMED = re.compile(r"(?:an?|the|another|his|her|their|one)\s", re.I)
_NAME_BEFORE = re.compile(r"(?:^|[\s\"“‘'(])(?:[A-Z][\w'’-]+\s+){1,3}[A-Z][\w'’-]+,\s*$")  # "Myo Min, a former sergeant"
# "Aung Ko, a former army captain who, after 12 years in the military, defected": an aside between commas too
_RELATIVE_OF_NAME = re.compile(r"\s*,?\s*who\s*(?:,[^,;.!?\"“”]{1,80},\s*)?(?:had\s+|has\s+|later\s+|also\s+)?", re.I)


def _named_relative(sent_text: str, q: Quantity, anchor_char: int) -> bool:
    """"Captain Htet Naing, who defected in 2022, now ...": a named person's own defection counts as one;
    "a sergeant who defected told us" still names one of an uncounted group."""
    named = not _UNNAMED.match(sent_text, q.start) or bool(_NAME_BEFORE.search(sent_text[:q.start]))
    return named and bool(_RELATIVE_OF_NAME.fullmatch(sent_text[q.end:anchor_char]))


# "he returned to Yangon on 8 July and reported to the authorities": one subject for both verbs
_SHARED_SUBJECT = re.compile(r"\s+(?:later\s+|then\s+|also\s+)?[a-z]+ed\b[^,;.\"“”]{0,80}?\s(?:and|then|but)\s+(?:then\s+|later\s+|eventually\s+)?")
_GENERIC_PEOPLE = frozenset("people persons individuals nationals citizens".split())
_FORCE_PEOPLE = frozenset("soldiers troops police policemen personnel officers servicemen conscripts recruits "
                          "militiamen marines sailors airmen privates corporals sergeants constables lieutenants "
                          "captains majors".split())  # a summed list of ranks is named by its last rank


# "2,654 people, including 1,187 armed members of the PDF, as well as CDM staff and their families": the fighters
_ARMED_MEMBERS = frozenset("members fighters militants cadres rebels insurgents guerrillas combatants".split())


def _total_with_relatives(quantities: Sequence[Quantity], text: str) -> list[Quantity]:
    """"Nine PDF members, together with three of their family members, totalling 12 persons": the members (9)."""
    out = list(quantities)
    for k, q in enumerate(out):
        if q.category == "people" and q.noun in _GENERIC_PEOPLE and _TOTALLING.search(text, max(0, q.start - 24), q.start) \
                and any(r.category == "relatives" and r.end <= q.start for r in out) \
                and any(p.category == "people" and p.noun not in _GENERIC_PEOPLE and p.end <= q.start and not p.subset
                        for p in out):
            out[k] = q._replace(subset=True)
    return out


_TOTALLING = re.compile(r"\b(?:totall?ing|in\s+total|a\s+total\s+of|making\s+(?:it\s+)?a\s+total\s+of)\s*$", re.I)


def _force_breakdown(quantities: Sequence[Quantity]) -> list[Quantity]:
    """"120 people, including 100 soldiers and 20 family members": the soldiers are the defectors, not the 120."""
    out = list(quantities)
    for k, q in enumerate(out[:-1]):
        part = out[k + 1]
        if q.category == "people" and q.noun in _GENERIC_PEOPLE and not q.casualty and part.subset \
                and (part.noun in _FORCE_PEOPLE or part.noun in _ARMED_MEMBERS) and not part.casualty \
                and 0 <= part.start - q.end <= 45:  # ("89 people came over from the camp, including 61 soldiers")
            # "617 individuals, including 67 officers, 401 soldiers, 59 female personnel and 81 family members": the
            # force's parts add up (527), the relatives do not
            total, end = part.value, part.end
            for j in range(k + 2, len(out)):
                if out[j].single:
                    continue  # "67 officers including Colonel Tun Tun Latt": one of the 67
                if not (out[j].category == "people" and out[j].noun in _FORCE_PEOPLE and not out[j].casualty
                        and out[j].start - end <= 60):
                    break
                total, end = total + out[j].value, out[j].end
                out[j] = out[j]._replace(subset=True)
            out[k], out[k + 1] = q._replace(subset=True), part._replace(subset=False, value=total)
    return out


def _pick_count(quantities: Sequence[Quantity], anchor_char: int, categories: Sequence[str],
                single_ok: bool = False, sent_text: str = "") -> Optional[Quantity]:
    """The count that belongs to the trigger: nearest before it (subject), else just after (object).

    A count of one without a numeral ("a soldier", "Captain Aung Ko") only counts as the
    subject right before an event verb ("Captain Aung Ko defected" is 1).
    """
    quantities = _force_breakdown(quantities)
    if "total" in sent_text:
        quantities = _total_with_relatives(quantities, sent_text)
    usable = [q for q in quantities if q.category in categories and not (q.subset or q.casualty or q.size)
              and (not q.single or (single_ok and q.end <= anchor_char <= q.end + (
                  (100 if _SHARED_SUBJECT.fullmatch(sent_text[q.end:anchor_char]) else 15)
                  if q.noun in ("he", "she", "i") else 300 if _APPOSITIVE_SUBJECT.fullmatch(sent_text[q.end:anchor_char])
                  else 100)
                  and (_one_subject(sent_text[q.end:anchor_char]) or _OBJECT_BEFORE.search(sent_text[:q.start])
                   or _WHO_DID_IT.fullmatch(sent_text[q.end:anchor_char])
                       or _named_relative(sent_text, q, anchor_char)
                       or _APPOSITIVE_SUBJECT.fullmatch(sent_text[q.end:anchor_char]))))]
    usable = [q for q in usable if not (q.single and q.end <= anchor_char and q.noun not in ("he", "she", "i")
                                        and _SPEAKER_THEN.search(sent_text, q.end, anchor_char))]  # "Lt. Gen. X says the group
    # surrendered": the one who speaks, not the one who went
    usable = [q for q in usable if not (q.end <= anchor_char and _enquiry_only(sent_text[q.end:anchor_char]))
              # ("... began, more than 26,000 people have made contact with the programme, and ... 3,850 have arrived")
              and not _ENQUIRED_AFTER.match(sent_text, q.end)
              and not (q.single and _LED_BY.search(sent_text, max(0, q.start - 16), q.start))]  # "dozens led by Captain X"
    before = [q for q in usable if q.start <= anchor_char]
    if not any(not q.single for q in before):
        # "Light Infantry Battalion 129, including 127 soldiers and 134 relatives, surrendered": the unit has no
        # count, so the soldiers it includes are the count
        of_unit = [q for q in quantities if q.subset and q.category in categories and q.end <= anchor_char
                   and not q.single and _UNIT_THEN_INCLUDING.search(sent_text, max(0, q.start - 70), q.start)]
        if of_unit:
            return of_unit[-1]
    who = [q for q in before if q.single and _WHO_DID_IT.fullmatch(sent_text[q.end:anchor_char])]
    if who:  # "The academy, which recruits at least 500 cadets a year, ..., an officer who joined the CDM said": 1
        return who[-1]
    if any(not q.single for q in before):  # "about a dozen soldiers led by a lieutenant colonel walked away": 12
        group = max((q for q in before if not q.single), key=lambda q: q.end)
        if any(q.single and q.end <= group.start for q in before) and _companions(group, sent_text):
            # "the corporal slipped away from his unit with two friends and reached a PDF camp": he and the two
            return group if " fellow " in sent_text[group.start:group.end] else group._replace(value=group.value + 1)
        before = [q for q in before if not q.single]
    elif before:  # "Captain Aung Ko defected with four soldiers": he and the four (five)
        companions = [q for q in usable if anchor_char < q.start <= anchor_char + 100 and not q.single
                      and _companions(q, sent_text)]
        if companions:
            c = companions[0]  # "with four fellow soldiers" already counts the one they are fellows of
            return c if " fellow " in sent_text[c.start:c.end] else c._replace(value=c.value + 1)
        if _WITH_ANOTHER.match(sent_text, anchor_char):  # "Aden Obe surrendered with another al-Shabab official": two
            one = min(before, key=lambda q: anchor_char - q.end)
            return one._replace(value=one.value + 1, single=False)
    if before:
        return min(before, key=lambda q: anchor_char - q.end)
    after = [q for q in usable if q.start > anchor_char and q.start - anchor_char <= 120
             and not _CLAUSE_CHANGE.search(sent_text[anchor_char:q.start])
             and not _NEW_SUBJECT.search(sent_text[anchor_char:q.start])]
    return min(after, key=lambda q: q.start - anchor_char) if after else None


_OF_A_FORCE = re.compile(r"\s+of\s+(?:the\s+|his\s+|their\s+)?(?:[\w-]+\s+){0,3}?(?:division|brigade|battalion|regiment|"
                         r"army|unit|company|platoon|police|force|forces|military|navy|garrison)\b", re.I)


def _companions(q: Quantity, sent_text: str) -> bool:
    """A counted group that went with the one named before it: "with four soldiers", "with ten of his men"."""
    return (q.noun in _FORCE_PEOPLE or q.noun in _COMPANION_NOUNS or " fellow " in sent_text[q.start:q.end]
            or q.noun == "men" and _HIS_MEN.search(sent_text, q.start, q.end) is not None
            # "he defected along with more than twenty members of the 12th Division"
            or q.noun == "members" and _OF_A_FORCE.match(sent_text, q.end) is not None) \
        and (_WITH_COMPANIONS.search(sent_text, max(0, q.start - 25), q.start) is not None  # not "with two women"
             # "a general defected in recent days, followed by an overnight escape to Turkey by 33 soldiers"
             or _FOLLOWED_BY_GROUP.search(sent_text, max(0, q.start - 80), q.start) is not None)


_WITH_ANOTHER = re.compile(r"\w+(?:\s+[\w-]+){0,9}?\s+(?:along\s+|together\s+)?with\s+another\s+(?:[\w-]+\s+){0,2}?"
                           r"(?:official|member|commander|fighter|soldier|officer|policeman|leader|comrade|militant|"
                           r"deserter|defector|man)\b", re.I)
# "together with 45 of his fighters", "with ten of his men": the commander's own people went with him
_COMPANION_NOUNS = frozenset("comrades colleagues friends fighters militants rebels guerrillas insurgents cadres".split())
_HIS_MEN = re.compile(r"\b(?:his|her|their)\s+(?:own\s+)?men\b", re.I)
_FOLLOWED_BY_GROUP = re.compile(r",\s*followed\s+by\s+(?:(?:an?\s+)?(?:[\w-]+\s+){0,3}?(?:escape|defection|flight|desertion|"
                                r"crossing)\b[^.;,]{0,50}?\bby\s+)?$", re.I)
_WITH_COMPANIONS = re.compile(r"\b(?:with|alongside)\s+(?:(?:the\s+)?other\s+)?$", re.I)  # "with other 6 officers"
_LED_BY = re.compile(r"\b(?:led|headed|commanded)\s+by\s+$", re.I)
_UNIT_THEN_INCLUDING = re.compile(r"\b(?:battalion|brigade|regiment|unit|company|column|outpost|camp|base|garrison|"
                                  r"division)\b(?:\s+(?:no\.?\s*)?\(?\d+\)?)?\s*,?\s*(?:including|among\s+them)\s+$", re.I)
_ATTRIBUTION_VERBS = ("said", "says", "told", "according", "announced", "claimed", "stated", "confirmed", "added")


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
