"""Article labels from mentions: the rules behind the ``article_labels`` view.

Input: the :class:`~newswatch.records.Mention` rows of one article, its text and
optionally :class:`DocFacts` (what the spaCy pass saw in the whole body); output:
one :class:`~newswatch.records.ArticleLabels`.

How "substantive" is decided, per kind (defection, conscription):

- the headline line (the first line of the text when it repeats the title, plus a
  one- to three-word kicker such as "Myanmar" above it) is not body;
- the kind is substantive when the body has mentions of it in at least two
  different sentences, or one body mention and one in the headline, or a single
  mention in the lead (the first body paragraph) that is not mere analysis, or (for
  defection) one counted body report under a headline about leaving ("I walked away"). A
  single passing clause elsewhere ("the junta's decision to enforce conscription"
  as one indicator among others) is not enough.

A defection told only as background is not enough alone in the lead, and a body made only
of such sentences is not enough either: a relative clause set off by commas ("Ko Zaw Min,
a former police officer who left his post during the coup, now runs a tea shop") or a
clause that dates it to the coup as the reason for something else ("few traffic police are
left since many officers abandoned their posts during the coup"), without a figure.

``defection_report`` needs a substantive defection and at least one defection
mention with modality ``report``. ``defectors`` and ``weapons`` are the largest
``people_count`` / ``weapons_count`` over the body's report mentions; the headline's
figures are used only when the body's reports state none. ``orgs`` is the
union of the organisations of all mentions of substantive kinds, widened by the
organisations named in the body when the article is on topic; empty otherwise.
``locations`` are the Myanmar places named in the body, each once in the form of
its first mention. ``country`` is the most common country of the on-topic
mentions (a mention takes the country whose force it names, "North Korean
soldier", else the article's), else the country the body is about.

Example::

    labels = article_labels(mentions, text, facts)
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from typing import NamedTuple, Optional, Sequence

from newswatch.records import ArticleLabels, Mention
from newswatch.transforms.mentions.numbers import RUNNING_TOTAL_TO


class DocFacts(NamedTuple):
    """What the spaCy pass found in the article body as a whole."""

    places: tuple[str, ...]  # Myanmar places in the body, first written form, in order
    orgs: tuple[str, ...]  # canonical organisations named in the body
    country: Optional[str]  # the country the body is about
    body_start: int  # char offset where the body begins (after a repeated headline)
    lead_end: int  # char offset where the lead ends
    lone_defector: bool = False  # one defector is the subject of an event, and no uncounted group went with him
    named_defectors: int = 0  # how many different named single defectors the body's reports tell of
    untold_group: bool = False  # an uncounted group went too, near a report that counts one defector


def _norm(line: str) -> str:
    line = unicodedata.normalize("NFKC", line).replace("’", "'").replace("‘", "'")
    return re.sub(r"\W+", " ", line).strip().lower()


def headline_end(text: str, title: Optional[str]) -> int:
    """Offset just after a leading headline line that repeats ``title`` (and its kicker)."""
    if not title:
        return 0
    wanted = _norm(title)
    offset = 0
    for n, line in enumerate(text.split("\n")[:3]):
        end = offset + len(line)
        if line.strip() and _norm(line) == wanted:
            return min(len(text), end + 1)
        if n == 0 and (len(line.split()) > 3 or line.rstrip().endswith((".", "!", "?", "\"", "”"))) \
                and not _DATELINE.fullmatch(line.strip()):
            return 0  # the first line is already body text (a date line above a repeated headline is not)
        offset = end + 1
    return 0


def lead_end(text: str, body_start: int) -> int:
    """Offset where the lead (the first body paragraph that is not a dateline, byline or subheading) ends."""
    offset = body_start
    for line in text[body_start:].split("\n"):
        offset += len(line) + 1
        line = line.strip()
        if line and not _DATELINE.fullmatch(line) and not _EDITORS_NOTE.match(line) and not _CAPTION.search(line) \
                and not (line[0] in "•·▪" and len(line.split()) <= 15) and (
                line.endswith((".", "!", "?", "\"", "”", "'", "’", ")", ":")) or len(line.split()) > 15):
            break  # a short line without a full stop is a deck or subheading, not the lead
    return min(offset, len(text))


# "Mawlamyine, 4 September", "June 13, 2024", "Source: Radio Free Asia", "By Aye Aye": not the lead
_DATELINE = re.compile(r"(?:(?:by|source|photo|published(?: on)?|updated)\b[^.!?]{0,80}"
                       r"|[^.!?\d]{0,40}\d{1,2}(?:st|nd|rd|th)?,?\s+[A-Za-z]+(?:,?\s+\d{4})?"
                       r"|(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4}(?:[,\s][^.!?]{0,30})?|[^.!?]{0,40}\(\w+\)\s*[-–—]?)", re.I)


# "Disclaimer: The interviewee's name has been changed.", "Editor's note: ...": said about the story, before its lead
# (and a short bulleted line, "• Latest Posts", is a menu left on the page)
_EDITORS_NOTE = re.compile(r"(?:disclaimer|editor['’]?s['’]?\s+note|note\s+to\s+readers)\s*:", re.I)
# "A refugee works at a camp in Ukhia. | Photo credit: AFP", "(Photo: Myanmar Now)": a photo's caption, before the lead
_CAPTION = re.compile(r"(?:[|(\[]|\s[–—-])\s*(?:file\s+)?(?:photo|image|picture)(?:\s+credit)?\s*[:/]"
                      r"|\b(?:photo|image)\s+credit\s*:", re.I)
_TIME_LINE_BEFORE = re.compile(r"(?:^|\n)[ \t]*\d{1,2}[:.]\d{2}[ \t]*(?:[ap]\.?m\.?|GMT|UTC|MMT|ICT)?[ \t]*\n\s*$", re.I)
_ITEM_HEADING_BEFORE = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,2}[.)][ \t]*)?[A-Z][A-Z0-9 ,:;'’&/()-]{5,80}\n\s*$")
_LIVE_ENTRY = re.compile(r"\s*(?:\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?|GMT|UTC|MMT|ICT)?\s*[-–—:|]|UPDATE\b|BREAKING\b)",
                         re.I)


def _substantive(mentions: Sequence[Mention], facts: DocFacts, text: str = "") -> bool:
    body = {(m.start_char, m.end_char) for m in mentions if m.start_char >= facts.body_start}
    headline = any(m.start_char < facts.body_start for m in mentions)
    if len(body) >= 2:
        # several background clauses ("officers who fled during the coup") and nothing else: still not the story
        return headline or not all(_passing(m.sentence) for m in mentions if m.start_char >= facts.body_start)
    if len(body) == 1:
        only = next(m for m in mentions if m.start_char >= facts.body_start)
        if only.modality != "analysis" and (_LIVE_ENTRY.match(only.sentence) or _TIME_LINE_BEFORE.search(
                text, max(0, only.start_char - 24), only.start_char) or _ITEM_HEADING_BEFORE.search(
                text, max(0, only.start_char - 90), only.start_char)):
            # a live blog's timed entry is a lead of its own (the time may sit on its own line), and so is the first
            # sentence under a digest's item heading ("1. KACHIN: DEFECTIONS NEAR BHAMO")
            return True
        # an explicit call on soldiers to defect ("called on ... soldiers and police to defect") is on topic
        appeal = only.modality == "appeal" and only.kind == "defection"
        if only.kind == "defection" and only.modality == "report" and (only.people_count or 0) >= 2 \
                and not _passing(only.sentence):
            return True  # "At least 32 soldiers surrendered to the KNDF": a counted event is news, wherever it sits
        lead = only.start_char < facts.lead_end and only.modality != "analysis" and not _passing(only.sentence)
        # "When did you leave? I left the army in March.": an interview with the one who went is about it
        interview = only.kind == "defection" and only.modality == "report" and bool(_FIRST_PERSON.match(only.sentence)) \
            and len(_QUESTION_LINE.findall(text)) >= 2
        return headline or appeal or lead or interview
    return False


_APPEAL_TO_DRAFTED = re.compile(r"\b(?:calls?\s+(?:up)?on|called\s+(?:up)?on|urges?|urged|appeals?\s+to|appealed\s+to|invites?|"
                                r"invited)\s+(?:[\w'’-]+\s+){0,6}?(?:who|that)\s+(?:have|had|has)\s+been\s+(?:forcibly\s+)?"
                                r"(?:drafted|conscripted|called\s+up|recruited)\b", re.I)
_FIRST_PERSON = re.compile(r"\W*(?:I|We)\s")
_QUESTION_LINE = re.compile(r"\?[\"”’']?[ \t]*\n")


# "Ko Zaw Min, a former police officer who left his post during the coup, now runs a tea shop": the defection is
# background in a relative clause about someone the sentence is about for another reason
_APPOSITIVE_RELATIVE = re.compile(r"^(?P<pre>[^,]{1,80}),\s*(?P<rel>[^,]{0,60}?\bwho\b[^,;]{3,160}),\s*(?P<main>\S.*)$",
                                  re.S)
_DEFECTION_WORD = re.compile(r"\b(?:defect\w*|desert\w*|surrender\w*|fled|flee\w*|escap\w*|left|leav\w*|quit\w*|"
                             r"join\w*|abandon\w*|crossed|switch\w*|refuge|cdm|embrace)\b", re.I)


# "The town has had few traffic police since many officers fled their stations during the coup": the coup-era
# walkouts as the reason for something else
_COUP_BACKGROUND = re.compile(r"^(?P<main>.*?)\b(?:since|because|when|after)\b(?P<sub>[^;]*?\bcoup\b.*)$",
                              re.S | re.I)
_REPORTING = re.compile(r"\b(?:said|says|say|announced|reported|reports|told|confirmed|according|claimed|stated)\b", re.I)


def _passing(sentence: str) -> bool:
    """Whether the sentence's only defection words sit in background: a relative clause set off by commas,
    or a clause that dates them to the coup while the main clause is about something else."""
    sentence = _DATELINE_FIRST.sub("", sentence, count=1)  # "YANGON, Dec 29 – A soldier who ...": no apposition
    found = _APPOSITIVE_RELATIVE.match(sentence)
    if found is not None and _DEFECTION_WORD.search(found["rel"]) and not (
            _DEFECTION_WORD.search(found["pre"]) or _DEFECTION_WORD.search(found["main"])):
        return True
    found = _CAUSE_BEFORE.match(sentence)  # "In response to record losses and defections of soldiers, the junta ..."
    if found is not None and _DEFECTION_WORD.search(found["cause"]) and not _DEFECTION_WORD.search(found["main"]) \
            and not _COUNTED.search(found["cause"]):
        return True
    found = _COUP_BACKGROUND.match(sentence)
    return found is not None and len(found["main"].split()) >= 3 and not _DEFECTION_WORD.search(found["main"]) \
        and not _REPORTING.search(found["main"]) and bool(_DEFECTION_WORD.search(found["sub"])) \
        and not _COUNTED.search(found["sub"])


# a dateline opening the sentence: "YANGON, Dec 29 –", "Dec 29, 2008 (DVB)–", "Mawlamyine, 4 May (IMNA) -"
_DATELINE_FIRST = re.compile(r"^\s*(?:[A-Z][\w .'’-]{1,30}?,\s*)?(?:(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8})"
                             r"(?:,?\s+\d{4})?|(?<=,\s)[A-Z][a-z]{2,12}(?:\s+[A-Z][a-z]{2,12})?)?\s*(?:\([^()]{2,25}\))?\s*[–—-]{1,2}\s*(?=[A-Z])")
_CAUSE_BEFORE = re.compile(r"\s*(?:in\s+response\s+to|amid(?:st)?|faced\s+with|because\s+of|due\s+to)\b"
                           r"(?P<cause>[^;]{0,300}?),\s+(?P<main>(?:the|its|a|an|[A-Z])[^;]{10,})$", re.I)
_COUNTED = re.compile(r"\d")  # "since 3,000 police joined the CDM after the coup" states a figure: a report


# a deserter who "was forcibly recruited" makes the story a conscription story too
_FORCED_INTO_ARMY = re.compile(r"\b(?:was|were|been|being)\s+(?:(?:abducted|kidnapped|seized|taken)\s+and\s+)?"
                               r"(?:forcibl[ey]\s+(?:recruited|conscripted|drafted|enlisted)"
                               r"|forced\s+(?:in)?to\s+(?:join|enlist|serve))\b", re.I)
_GENERAL = re.compile(r"\b(?:many|most|some|several|often|usually|thousands|hundreds)\b", re.I)


_SOME_OF_THESE = re.compile(r"\b(?:most|many|some)\s+of\s+(?:the|them|these)\b", re.I)


def _forced_deserter(sentence: str) -> bool:
    """"He was forcibly recruited" is this deserter's story; "many of those who defect were ..." is a generality."""
    found = _FORCED_INTO_ARMY.search(sentence)
    if found is None:
        return False
    before = sentence[:found.start()]  # "most of the defectors were forcibly recruited": these deserters, counted
    return not _GENERAL.search(before) or bool(_SOME_OF_THESE.search(before))


# "'I was drafted in May. In August, I walked away'", "Five abducted youths escape junta custody, reach PDF": a
# headline about leaving that the trigger rules cannot place without the body's context
_LEAVING_HEADLINE = re.compile(r"\b(?:escape[sd]?|escaping|fle[de]s?|fleeing|desert(?:s|ed)?|defect(?:s|ed)?|"
                               r"(?:walk(?:s|ed)?|slip(?:s|ped)?|r[au]n(?:s)?)\s+away|quit)\b", re.I)


def _leaving_headline(mentions: Sequence[Mention], text: str, facts: DocFacts) -> bool:
    """One body report of a counted defection under a headline about leaving: the headline's mention."""
    return 0 < facts.body_start and bool(_LEAVING_HEADLINE.search(text, 0, facts.body_start)) and any(
        m.modality == "report" and m.people_count is not None and m.start_char >= facts.body_start for m in mentions)


# "Another soldier ... joined", "People's Embrace said another soldier ... also defected", "On Sunday, another soldier"
_ANOTHER = re.compile(r"\s*(?:also|in\s+addition|additionally),\s|"  # "Also, on 26 July, one police constable ... arrived"
                      # "Two of the members surrendered to the army. The five others surrendered to the police"
                      r"\s*(?:the\s+)?(?:\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+others\s|"
                      r"\s*(?:\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b[^.;]{0,80}?\b"
                      r"(?:(?:came|went|arrived|fled|left|crossed|escaped)\s+(?:over\s+)?with|joined)\s+them\b|"  # "Four police
                      # officers came with them": four more
                      r"[^.;]{0,40}?\b(?:a|another)\s+similar\s+(?:incident|case|surrender)\b|"  # "A similar incident ... where two"
                      r"\s*[\"“‘']?\s*(?:in\s+)?another\s+(?:\d|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|group|"
                      r"batch|of|defectors?|deserters?|soldiers?|officers?|police\w*|privates?|corporals?|sergeants?|captains?|"
                      r"majors?|lieutenants?|members?|recruits?|conscripts?|m[ae]n|personnel|troops?|servicem[ae]n|constables?|inspectors?|"
                      r"sailors?|airm[ae]n)\b)|\s*(?:similarly|likewise)\b|\s*(?:the|a)\s+(?:second|third|fourth|fifth)\s+(?:soldier|policeman|officer|defector|deserter|conscript|man)\b|\s*(?:\d[\d,]*|(?!(?:many|much|far|even|some|any|no|once|few|several)\b)[a-z]+)\s+more\b|[^.;]{0,120}?\banother\s+(?:[\w,-]+\s+){0,2}?(?:soldiers?|troops?|police\w*|"
                      r"officers?|personnel|members?|corporals?|sergeants?|privates?|captains?|majors?|lieutenants?|"
                      r"constables?|inspectors?|defectors?|deserters?|conscripts?|sailors?|airm[ae]n|recruits?|servicem[ae]n|combatants?|fighters?|"
                      r"cadres?|guerrillas?|militants?|rebels?(?!\s+(?:group|faction|outfit|leader))|insurgents?)\b"
                      # "Since the figures were compiled, another 41 have arrived": more of the same people
                      r"|\s*[\"“‘'][^.;]{0,80}?\banother\s+\d[\d,]*\s+(?:have|has|had)\s+(?:since\s+)?(?:arrived|joined|come|defected|"
                      r"crossed|surrendered|deserted)\b", re.I)


_SIMILARLY_YEARS_AGO = re.compile(r"\s*(?:similarly|likewise),?\s+in\s+(?:19|20)\d\d\b", re.I)
# "Another three soldiers crossed over, ... bringing to 15 the number of troops": the sentence states the total.
# (numbers._BRINGING_TO marks such a figure when it is parsed; a mention keeps only its value, so this reads the sentence.)
_TOTAL_REACHED = re.compile(r"(?:" + RUNNING_TOTAL_TO + r"|\b(?:bringing|brought|raising|taking|pushing)\s+the\s+(?:total\s+)?"
                            r"(?:number|count|tally)\s+(?:of|who|that)\s[^.;]{0,80}?\bto\s+)"  # "the number who have left ... to 15"
                            r"(?:about\s+|around\s+|some\s+|over\s+)?(?:\d[\d,]*|(?:two|three|four|five|six|seven|"
                            r"eight|nine|ten|eleven|twelve|[a-z]+teen|twenty|thirty|forty|fifty)\b)", re.I)  # "bringing to five"
# ("He also surrendered his M16 rifle": what he brought, not one more person)
_ALSO_DID = re.compile(r"[^;]{0,80}?\balso\s+(?:surrendered(?!\s+(?:his|her|their|a|an|one|two|three|\d+)\s)|defected|"
                       r"deserted|escaped|fled|crossed|joined)\b", re.I)
_ENTRY_TIME = re.compile(r"^[ \t]*(\d{1,2})[:.](\d{2})\b", re.M)


def _newest_first(text: str) -> bool:
    """A live blog whose timed entries run from the latest down ("17:40 - ...", then "16:05 - ...")."""
    times = [int(h) * 60 + int(m) for h, m in _ENTRY_TIME.findall(text)]
    falls = sum(a > b for a, b in zip(times, times[1:]))
    return len(times) >= 3 and falls > 2 * (len(times) - 1 - falls)


# "rumours have spread that the four had defected", "he rejected posts claiming that 200 soldiers deserted": no figure
_RUMOUR_OR_DENIAL = re.compile(r"\b(?:rumou?rs?|reject\w*|den(?:y|ied|ies)|dismiss\w*)\b", re.I)


def _running_counts(reports: Sequence[Mention], field: str) -> list[int]:
    """Each report's count; "Another soldier ... joined" after "two soldiers joined" adds to it (3)."""
    out: list[int] = []
    last: Optional[int] = None
    for m in reports:
        value = getattr(m, field)
        if value is None:
            continue
        if last is not None and (_ANOTHER.match(m.sentence) or value == 1 and _ALSO_DID.match(m.sentence)) \
                and not _SIMILARLY_YEARS_AGO.match(m.sentence) \
                and not _TOTAL_REACHED.search(m.sentence):  # "Similarly, in 2006, over 300 troops defected": history
            value += last  # ("On Feb. 11, Jose Alcibor, 70, also surrendered": one more)
        out.append(value)
        last = value
    return out


def _background_draft(mentions: Sequence[Mention], facts: DocFacts) -> bool:
    """In a defection story, two sentences of analysis about a call-up ("Moscow mobilised about 300,000 reservists")
    are background, not a conscription story."""
    return len(mentions) <= 2 and all(m.modality == "analysis" and m.start_char >= facts.body_start for m in mentions)


def _one_or_group(count: int, facts: DocFacts) -> Optional[int]:
    """The largest count, unless it is one defector whom an uncounted group followed ("dozens of his colleagues have
    since followed him"): then the story states no number."""
    return None if count == 1 and facts.untold_group else count


def _with_named(count: Optional[int], facts: DocFacts) -> Optional[int]:
    """A single defector is 1; two different named ones told in different reports ("Private Aung Ko Lat, 21, deserted
    ... In August, Private Maung Ye Htet deserted too") are 2, unless a report states a larger number."""
    if facts.named_defectors >= 2 and (count is None or count < facts.named_defectors):
        return facts.named_defectors
    return count


def article_labels(mentions: Sequence[Mention], text: str, facts: Optional[DocFacts] = None) -> ArticleLabels:
    """Labels for one article from its mentions (see the module docstring for the rules).

    Args:
      mentions: all mentions of the article, in text order.
      text: the article text the mention offsets index into.
      facts: whole-body evidence from the spaCy pass; without it, places and country
        come from the mentions alone and the whole text counts as body.
    """
    if facts is None:
        facts = DocFacts(
            places=tuple(dict.fromkeys(loc for m in mentions for loc in m.locations)),
            orgs=(),
            country=None,
            body_start=0,
            lead_end=lead_end(text, 0),
        )
    by_kind = {kind: [m for m in mentions if m.kind == kind] for kind in ("defection", "conscription")}
    defection = _substantive(by_kind["defection"], facts, text) or _leaving_headline(by_kind["defection"], text, facts)
    # "rewards for soldiers who come over, in an effort to encourage defections as the military steps up conscription":
    # a lone draft clause inside a defection sentence is its background
    call_ups = by_kind["conscription"]
    defection_sentences = {m.start_char for m in by_kind["defection"]}
    appeals = {m.start_char for m in by_kind["defection"] if m.modality in ("appeal", "offer")}
    # ("those who laid down their arms included fighters who had been forcibly recruited": the draft is told as these
    # deserters' background, yet it is their story)
    reported = {m.start_char for m in by_kind["defection"] if m.modality == "report"}
    if len(call_ups) == 1 and call_ups[0].start_char in defection_sentences and (
            call_ups[0].modality != "report" or call_ups[0].start_char in appeals):
        # ("invites all members of the army, particularly those who were forcibly conscripted under the law, to join":
        # the draft describes whom the appeal addresses)
        call_ups = []
    if len(call_ups) == 1 and _APPEAL_TO_DRAFTED.search(call_ups[0].sentence):
        call_ups = []  # "The Ministry also calls upon young people who have been forcibly drafted ... not to take up arms"
    conscription = _substantive(call_ups, facts, text) and not (defection and _background_draft(
        by_kind["conscription"], facts)) or (defection and any(
        (m.modality == "report" or m.start_char in reported) and _forced_deserter(m.sentence)
        and m.start_char not in appeals
        and not _APPEAL_TO_DRAFTED.search(m.sentence) for m in by_kind["conscription"]))
    reports = [m for m in by_kind["defection"] if m.modality == "report"] if defection else []
    denied = {m.people_count for m in by_kind["defection"] if m.modality == "denial"} - {None}
    # "Army Reacts To Reports 100 Soldiers Deserted" over a body that calls the 100 false: the headline names the claim
    reports = [m for m in reports if not (m.start_char < facts.body_start and m.people_count in denied)]
    # the body's figures win: a headline rounds, and may count people who did not defect ("120 flee" over "100 soldiers")
    body = [m for m in reports if m.start_char >= facts.body_start]
    if _newest_first(text):  # a live blog read top down tells the last event first; each entry reads top down
        starts = [m.start() for m in _ENTRY_TIME.finditer(text)]
        entries: dict[int, list[Mention]] = {}
        for m in body:
            entries.setdefault(bisect.bisect_right(starts, m.start_char), []).append(m)
        body = [m for key in sorted(entries, reverse=True) for m in entries[key]]
    people = _running_counts(body, "people_count") or _running_counts(reports, "people_count")
    if people:  # "more than 200 soldiers have reportedly surrendered" beside the story's own reports: a figure too
        people += [m.people_count for m in by_kind["defection"] if m.modality == "rumour" and m.people_count
                   and m.start_char >= facts.body_start and m.people_count not in denied
                   and not _RUMOUR_OR_DENIAL.search(m.sentence)]
        # "Correction: an earlier version said that 40 soldiers had surrendered": the corrected figure goes
        people = [v for v in people if v not in denied] or people
    weapons = _running_counts(body, "weapons_count") or _running_counts(reports, "weapons_count")
    orgs: tuple[str, ...] = ()
    if defection or conscription:
        relevant = [m for m in mentions if (m.kind == "defection" and defection) or (m.kind == "conscription" and conscription)]
        orgs = tuple(dict.fromkeys([o for m in relevant for o in m.orgs] + list(facts.orgs)))
    on_topic = [m for m in mentions if (m.kind == "defection" and defection) or (m.kind == "conscription" and conscription)]
    counts = Counter(m.country for m in on_topic if m.country)
    country = counts.most_common(1)[0][0] if counts else facts.country
    if country is None:
        counts = Counter(m.country for m in mentions if m.country)
        country = counts.most_common(1)[0][0] if counts else None
    return ArticleLabels(
        defection=defection,
        conscription=conscription,
        defection_report=bool(reports),
        defectors=_with_named(_one_or_group(max(people), facts) if people else 1 if reports and facts.lone_defector
                              else None, facts),
        weapons=max(weapons) if weapons else None,
        orgs=orgs,
        locations=tuple(facts.places),
        country=country,
    )
