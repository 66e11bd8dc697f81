"""Context checks behind the ``newswatch_mentions`` rules: when a trigger is not what it seems.

Pure functions over one sentence's lower-cased words (``lows``), used by
:mod:`~newswatch.transforms.mentions.rules`:

- :func:`_retreat`: "abandoned their positions and retreated to the battalion headquarters"
  is a withdrawal to another junta post, not a defection;
- :func:`_deserting_conscripts`: conscripts and trainees who escape are deserters
  (extra defection and conscription hits), unless they are civilians evading the draft
  (:func:`_escaping_draft`);
- word sets for militia recruitment (:data:`_MILITIA`, :data:`_COMPULSION`) and for
  leaving a post (:data:`_NOT_LEFT_AFTER`, ...);
- :func:`story_context`: what the whole story says once, for every sentence (a base overrun, a
  rout abroad, a withdrawal, draft refusers); :func:`refutes_claim`: the story calls a claim false.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional, Sequence

from newswatch.transforms.mentions.components import word_sets
from newswatch.transforms.mentions.modality import _Hit

_W = word_sets()
_ESCAPED_FROM = _W["escaped_from"]
_CONSCRIPTED = _W["conscripted"]
_EVADING = _W["evading"]
_NOT_RUN_FROM = frozenset("injury injuries death harm unhurt unharmed unscathed".split())  # "escaped injury"
_PRESSED = frozenset("recruited conscripted drafted abducted".split())  # taken into the army, not "held in custody"


_ESCAPE_FORMS = {"escaped": "event", "fled": "event", "deserted": "event", "absconded": "event", "escape": "noun",
                 "escapes": "noun", "escaping": "ing", "fleeing": "ing", "ran": "event", "run": "event",
                 "reached": "event", "joined": "event"}
_RESISTANCE = frozenset("pdf pdfs kndf knla knu kia aa tnla mndaa cdf resistance revolutionary guerrilla".split())

_REPATRIATED = frozenset("repatriated repatriation repatriate".split())
_INSTITUTIONS = frozenset("army military tatmadaw police force forces".split())
_NOT_LEFT_AFTER = frozenset("junta council regime government service services registration lottery draft conscription "
                            "coup takeover rule offensive attack attacks raid raids airstrike airstrikes operation "
                            "operations crackdown".split())
_TIME_LINKS = frozenset("after since amid because due when following".split())
_LAW_WORDS = frozenset("conscription draft lottery call-up".split())  # the draft itself, not the army it fills
_DRAFT_WORDS = frozenset("military service draft conscription lottery call-up recruitment registration".split())


_RETREAT_VERBS = frozenset("withdrew withdrawn withdrawing retreated retreating relocated redeployed regrouped".split())
_MILITARY_PLACES = frozenset("base bases camp camps post posts outpost outposts headquarters hq garrison station stations "
                             "battalion barracks command cantonment regiment airport positions position".split())
_RETREAT_TO = _MILITARY_PLACES | {"town", "city"}
_RAN = frozenset("fled escaped ran moved went headed walked".split())
_RESISTANCE_SIDE = frozenset("pdf pdfs kndf knla kia aa tnla mndaa cdf resistance revolutionary cdm nug".split())


def _retreat(lows: Sequence[str], hit: _Hit) -> bool:
    """"abandoned their positions and retreated to the battalion headquarters": a withdrawal to another junta post.

    Only for leaving a post or deserting it; "fell back" after defecting to a resistance group is still a defection.
    """
    if hit.trigger not in ("leave_post", "desert", "walk_out"):
        return False
    for k in range(hit.start, min(len(lows), hit.end + 25)):  # the hit itself may be "fled to the army's command"
        withdrew = lows[k] in _RETREAT_VERBS or (lows[k] in ("fell", "pulled", "moved", "pull", "pulls", "fall", "falls")
                                                 and lows[k + 1:k + 2] == ["back"])
        # "deserted their posts and fled to the regional command": running to another junta post
        ran_to = lows[k] in _RAN and bool({"to", "into", "towards", "toward"}.intersection(lows[k + 1:k + 3])) \
            or lows[k] == "joined" and k > hit.start  # "left their outpost and joined the township police station"
        if withdrew or ran_to:
            for j in range(k + 1, min(len(lows), k + 12)):
                if lows[j] in _RESISTANCE_SIDE or lows[j] == "our":
                    break  # "withdrew to a KNLA camp", a PDF's "joined our battalion": crossing over
                if lows[j] in _MILITARY_PLACES or (withdrew and lows[j] in _RETREAT_TO):
                    # "fled to a base of the PDF", "a camp run by the KNLA": still crossing over
                    return not _RESISTANCE_SIDE.intersection(lows[j + 1:j + 5])
    return False


_MILITIA = frozenset("militia militias militiamen htee volunteer volunteers".split())
_VOLUNTARY_IN_MILITIA = frozenset("recruitment_quota recruits mobilisation enlisted".split())
_COMPULSION = frozenset("forced forcibly forcefully compulsory mandatory ordered required must obliged compelled coerced "
                        "threatened threat fine fined fines penalty abducted abduction conscripted conscription conscript "
                        "conscripts draft drafted lottery quota quotas".split())


_RAN_OFF = frozenset("fled flee fleeing escaped ran hid hiding left".split())


def _escaping_draft(lows: Sequence[str]) -> bool:
    """"fled into the forests to escape the military service lottery": civilians evading the draft."""
    return any(w == "to" and lows[k + 1:k + 2] in (["avoid"], ["evade"]) and lows[k + 2:k + 3] == ["being"]
               and lows[k + 3:k + 4] in (["conscripted"], ["drafted"], ["recruited"])  # "I fled to avoid being conscripted"
               and bool(_RAN_OFF.intersection(lows[max(0, k - 8):k])) for k, w in enumerate(lows)) or any(
        w == "to" and lows[k + 1:k + 2] in (["escape"], ["flee"])
               and _names_draft(lows[k + 2:k + 7])
               and lows[k + 2:k + 4] != ["after", "being"]  # "managed to escape after being forcibly recruited": deserters
               for k, w in enumerate(lows)) or bool(_LAW_WORDS.intersection(lows)) and any(
        # "400 young people sought refuge with the KNU, fleeing the junta's conscription law"
        w in ("fleeing", "escaping") and lows[k + 1:k + 2] == ["the"] and _LAW_WORDS.intersection(lows[k + 2:k + 7])
        for k, w in enumerate(lows)) or any(
        # "young people have sought refuge with the AA due to the junta's enforcement of compulsory military service"
        w in ("due", "owing") and lows[k + 1:k + 2] == ["to"] and _names_draft(lows[k + 2:k + 10])
        # "they fled the camp because the military council pressured 150 people to join military service"
        or w == "because" and _names_draft(lows[k + 1:k + 15])
        for k, w in enumerate(lows))


def _names_draft(words: Sequence[str]) -> bool:
    """"the lottery", "military service", "the draft"; not "the military" itself ("to escape the military")."""
    return any(w in _DRAFT_WORDS and (w != "military" or words[k + 1:k + 2] == ["service"])
               for k, w in enumerate(words))


def _evading_draft(lows: Sequence[str]) -> bool:
    """"youth avoiding the military draft", "fled to escape conscription": the movers are civilians evading it."""
    return bool(_EVADING.intersection(lows) and _DRAFT_WORDS.intersection(lows)) or _escaping_draft(lows)


def _deserting_conscripts(lows: Sequence[str]) -> list[_Hit]:
    """In a sentence about conscription, "escaped from the training school", "fled to join the PDF":
    conscripts and trainees who get away are deserters, so these are defection triggers too."""
    words = set(lows)
    runaways = _runaway_conscripts(lows)
    escaped, conscripted = _ESCAPED_FROM & words, _CONSCRIPTED & words
    already = _already_conscripted(lows)  # "two men who had been forcibly recruited escaped with grenades"
    after = [k for k, w in enumerate(lows) if w in ("escape", "escaped", "fled", "flee") and (
        lows[k + 1:k + 3] == ["after", "being"] and _CONSCRIPTED.intersection(lows[k + 3:k + 6])
        # "Syed fled Myanmar for a second time last month after being forced to fight alongside the military"
        or _after_forced_to_serve(lows, k)
        # "three youths have escaped after they were tricked with job offers and forcibly recruited into the army"
        or lows[k + 1:k + 2] == ["after"] and lows[k + 2:k + 4] in (["they", "were"], ["he", "was"], ["she", "was"])
        and _PRESSED.intersection(lows[k + 4:k + 14]))]
    if after:  # "16 young people have managed to escape after being forcibly recruited into military service"
        return runaways + [_Hit(kind, "desert", "base" if lows[k - 1] == "to" else "event", "", k, k + 1)
                           for k in after for kind in ("defection", "conscription")]
    if not (escaped and conscripted - escaped) and already is None:
        return runaways  # "fled ... returned to military custody": one shared word ("custody") is not both facts
    if _EVADING & words or (_escaping_draft(lows) and already is None):
        return runaways  # "young people fled abroad to avoid being called up" is draft evasion, not desertion
    return runaways + [_Hit(kind, "desert", "base" if w == "escape" and lows[k - 1] == "to" else _ESCAPE_FORMS[w], "", k, k + 1)
            for k, w in enumerate(lows)
            for kind in ("defection", "conscription")  # deserting conscripts are a conscription story too
            if w in _ESCAPE_FORMS and (_ESCAPE_FORMS[w] != "noun" or (k > 0 and lows[k - 1] in ("a", "the", "mass"))
                                       or (already is not None and already < k <= already + 15 and lows[k - 1] == "to"))
            and (w not in ("ran", "run") or lows[k + 1:k + 2] in (["off"], ["away"]))
            and not _NOT_RUN_FROM.intersection(lows[k + 1:k + 2])  # "the recruits escaped injury"
            and (w not in ("reached", "joined") or _RESISTANCE.intersection(lows[k + 1:k + 5]))
            and (escaped or (already is not None and already < k <= already + 15))]


def _after_forced_to_serve(lows: Sequence[str], k: int) -> bool:
    """"fled ... after being forced to fight": within the clause after the verb at ``k``."""
    for j in range(k + 1, min(k + 10, len(lows) - 4)):
        if lows[j] in (",", ";", ".", "but", "and"):
            return False
        if lows[j:j + 4] == ["after", "being", "forced", "to"] and lows[j + 4] in ("fight", "serve", "join"):
            return True
    return False


_RUNAWAY = frozenset("fleeing escaped escaping runaway deserting absconding".split())
_CONSCRIPT_NOUNS = frozenset("conscript conscripts conscripted draftee draftees".split())


_DRAFTED_MEN = frozenset("conscript conscripts recruit recruits draftee draftees trainee trainees".split())
_RAN_OFF = frozenset("escaped fled deserted absconded".split())


def _runaway_conscripts(lows: Sequence[str]) -> list[_Hit]:
    """"three fleeing conscripts", "the escaped conscripted soldiers": deserters named by what they did;
    "one young recruit escaped with injuries": a recruit who got away."""
    return [_Hit(kind, "desert", "noun", "", k, k + 1) for k, w in enumerate(lows)
            if w in _RUNAWAY and _CONSCRIPT_NOUNS.intersection(lows[k + 1:k + 3]) and (k == 0 or lows[k - 1] != "to")
            for kind in ("defection", "conscription")] + [
        _Hit(kind, "desert", "event", "", k, k + 1) for k, w in enumerate(lows)
        if w in _RAN_OFF and k > 0 and lows[k - 1] in _DRAFTED_MEN and lows[k - 2:k - 1] != ["to"]
        and lows[k + 1:k + 2] != [] and lows[k + 1] not in _NOT_RUN_FROM
        for kind in ("defection", "conscription")]


_PASSIVE = frozenset("been were was forcibly forcefully".split())
_TAKEN_IN = frozenset("recruited conscripted drafted abducted enlisted".split())


def _already_conscripted(lows: Sequence[str]) -> Optional[int]:
    """Position of "had been forcibly recruited" / "who were conscripted": the subjects are in the army already."""
    return next((k for k, w in enumerate(lows) if w in _TAKEN_IN and k > 0 and lows[k - 1] in _PASSIVE
                 and "being" not in lows[max(0, k - 3):k]), None)


_QUOTA_UNITS = frozenset("village villages ward wards household households tract tracts township townships family "
                         "families house houses street streets quarter quarters".split())


def _quota(lows: Sequence[str]) -> bool:
    """"30 youths per village tract", "one man from each household": recruits demanded by quota."""
    return any(w in ("per", "each", "every") and _QUOTA_UNITS.intersection(lows[k + 1:k + 3]) for k, w in enumerate(lows))


class StoryContext(NamedTuple):
    """Facts of the whole story that decide how single sentences read; :func:`story_context` finds them once."""

    overrun: bool  # a post or base was overrun: "troops fled the outposts" is a rout
    refusers: bool  # young people refuse the draft: civilians beside the soldiers are no deserters
    retreat_triggers: frozenset  # triggers that read as a rout or a withdrawal here, unless they go to the resistance
    held_for_service: bool  # the teller was drafted and held for the army: "we ran" is a desertion
    forced_porters: bool  # people were made to carry for the army: "porters" in it are forced porters
    defection_story: bool = True  # the story speaks of defecting, deserting or asylum anywhere (headline included)
    press_gang: bool = False  # people taken to fight or demanded for the army: its abductions and lotteries are a draft
    civilian: bool = False  # the one who crossed is "presumed to be a civilian": a civilian defector, no force member
    rout_paragraphs: tuple[int, ...] = ()  # the paragraphs that tell of an overrun or a flight from fighting
    withdrawal: bool = False  # troops fell back to another post somewhere in the story
    political: bool = False  # the headline and lead tell of lawmakers changing parties, with no force in them

    def around(self, text: str, start: int) -> "StoryContext":
        """The context for a sentence at ``start``: a rout told only in a paragraph far from it, and neither in the
        headline nor in the lead, is background ("In January last year, 276 soldiers crossed after the AA overran
        their camps"), so it does not make this sentence's deserters a rout."""
        if not (self.overrun or self.retreat_triggers) or not self.rout_paragraphs:
            return self
        here = _paragraph(text, start)
        if any(p <= _LEAD_PARAGRAPHS or abs(p - here) <= 1 for p in self.rout_paragraphs):
            return self
        return self._replace(overrun=False, retreat_triggers=_WITHDRAWAL_TRIGGERS if self.withdrawal else frozenset())


_LEAD_PARAGRAPHS = 2  # the headline (0), then the dateline or the lead and the paragraph after it


def _paragraph(text: str, at: int) -> int:
    """The index of the non-empty line that holds offset ``at``."""
    return sum(1 for line in text[:at].split("\n")[:-1] if line.strip())


def story_context(text: str) -> StoryContext:
    """The story-level context of ``text`` (the analysed article, headline first)."""
    low = text.lower()
    # (each whole-text regex runs only where one of the words it needs occurs: the cheap test first)
    overruns = [m.start() for m in _OVERRUN.finditer(text)] if any(w in low for w in _OVERRUN_WORDS) else []
    overrun = bool(overruns)
    withdrawal = any(w in low for w in _WITHDRAWAL_WORDS) and bool(
        _WITHDRAWAL.search(text) or _WITHDRAWAL_TO_TOWN.search(text))
    # fled into Mizoram or Thailand when their camp was overrun or attacked: a rout
    deserters = "desert" in low
    causes = overruns + [m.start() for m in _ROUT_CAUSE.finditer(text)]
    # in a story of deserters, "thousands of Myawaddy residents crossed into Thailand to escape clashes" is
    # civilians fleeing, no rout of the troops the story is about
    refuges = [m.start() for m in _FOREIGN_REFUGE.finditer(text)
               if not (deserters and _CIVILIAN_MOVERS.search(text, max(0, m.start() - 60), m.start()))] if causes else []
    routed_abroad = bool(causes) and bool(refuges)
    retreat = (_ROUT_TRIGGERS if routed_abroad else frozenset()) | (_WITHDRAWAL_TRIGGERS if withdrawal else frozenset())
    held = bool(_DRAFT_VOCABULARY.search(text)) and bool(_HELD_FOR_SERVICE.search(text))  # the cheap test first
    porters = "porter" in low and bool(_FORCED_PORTERS.search(text))
    return StoryContext(overrun, ("refus" in low or "defiance" in low) and bool(_DRAFT_REFUSERS.search(text)),
                        retreat, held, porters,
                        any(w in low for w in ("defect", "desert", "asylum", "switched")) and bool(
                            _DEFECTION_VOCABULARY.search(text)),
                        bool(_PRESS_GANG_HEADLINE.search(text.split("\n", 1)[0]) or _MEN_DEMANDED.search(text)),
                        "civilian" in low and bool(_PRESUMED_CIVILIAN.search(text)),
                        tuple(sorted({_paragraph(text, at) for at in causes})), withdrawal, _political(text))


# "8 LP lawmakers join Lakas-Kampi ... Eight congressmen from the Liberal Party transferred to the ruling party": the
# story's "defectors" are politicians, even where a sentence names no one ("the LP defectors took their oath")
_POLITICIANS = re.compile(r"\b(?:lawmakers?|legislators?|congress(?:m[ae]n|wom[ae]n)|mps?|senators?|politicians?|"
                          r"councill?ors?|parliamentarians?|deputies|assemblym[ae]n)\b", re.I)
_PARTY = re.compile(r"\bpart(?:y|ies)\b", re.I)
_FORCE_IN_LEAD = re.compile(r"\b(?:soldiers?|troops?|army|military|police\w*|officers?|militants?|rebels?|fighters?|"
                            r"guerrillas?|insurgents?|militia\w*|sergeants?|captains?|colonels?|(?<!secretary )generals?|"
                            r"commanders?)\b", re.I)


def _political(text: str) -> bool:
    """The headline and the lead paragraph speak of politicians and a party, and of no armed force."""
    lead = "\n".join([line for line in text[:3000].split("\n") if line.strip()][:2])
    return bool(_POLITICIANS.search(lead)) and bool(_PARTY.search(lead)) and not _FORCE_IN_LEAD.search(lead)


_PRESUMED_CIVILIAN = re.compile(r"\b(?:presumed|believed|thought|understood|said|confirmed)\s+to\s+be\s+(?:an?\s+)?civilians?\b",
                                re.I)


# "soldiers told the village headman they wanted 30 men to join the army": a quota, so its lottery is a draft
_MEN_DEMANDED = re.compile(r"\b(?:wanted|demanded|ordered|required|asked\s+for)\s+(?:\d+|[a-z]+)\s+(?:men|youths|young\s+men|"
                           r"recruits)\s+(?:from\s+\w+\s+)?(?:to\s+(?:join|serve\s+in)\s+the\s+(?:army|military|militia))", re.I)
# "Rohingya families torn apart by conscription", "boys kidnapped to fight in Myanmar", "forced to join the army"
_PRESS_GANG_HEADLINE = re.compile(r"\b(?:conscript\w*|forcibly\s+recruit\w*|forced\s+recruitment|military\s+service|"
                                  r"(?:abducted|kidnapped|taken|snatched|trafficked)\s+(?:\w+\s+){0,2}?to\s+fight|"
                                  r"forced\s+(?:in)?to\s+(?:join|fight|serve))\b", re.I)


# soldiers who cross into a country far from Myanmar ("33 soldiers crossed into Turkey") defect only in a story that
# says so somewhere; otherwise a crossing may be an incursion ("five Venezuelan soldiers crossed into Colombia")
FAR_COUNTRIES = frozenset("turkey jordan lebanon iraq colombia brazil malta kazakhstan georgia finland mongolia tajikistan "
                          "uzbekistan cameroon chad niger pakistan iran lithuania latvia poland estonia armenia norway kyrgyzstan".split())
_DEFECTION_VOCABULARY = re.compile(r"\b(?:defect\w*|desert(?:ed|ers?|ion|ions|ing)|asylum|switched\s+sides)\b", re.I)


_FORCED_PORTERS = re.compile(r"\b(?:forced|forcibly|forcing|taken|took|taking|seized|abducted|arrested|demand\w*|ordered|used|"
                             r"dragged|press-ganged|conscripted|recruited)\b[^.!?]{0,80}?\bporter|\bporter\w*\b[^.!?]{0,60}?\b"
                             r"(?:arrests?|abduct\w*|forced|unpaid)\b", re.I)


# the teller (or the one person the story follows) was drafted and held for the army: "he was conscripted into the
# army", "they put me on a truck to a training school", "a conscript's escape"; not "thousands were forced into the army"
_HELD_FOR_SERVICE = re.compile(
    r"\b(?:i|we|he|she)\s+(?:was|were|had\s+been|has\s+been|have\s+been)\s+(?:conscripted|drafted|forcibly\s+recruited|"
    r"called\s+up)\b"
    r"|\b(?:me|us|we|i)\b[^.!?]{0,80}?\b(?:to|into|at)\s+(?:a|the)\s+(?:military\s+|army\s+)?training\s+"
    r"(?:school|depot|camp|centre|center)\b(?!\s+for\s+(?!the\s+(?:army|military)))"
    r"|\b(?:conscript|recruit|draftee)['’]s\s+(?:escape|flight|story)\b", re.I)
_DRAFT_VOCABULARY = re.compile(r"\b(?:conscript\w*|draft(?:ed|ee|ees)?|lottery|military\s+service|forcibly\s+recruited|recruits?)\b",
                               re.I)


def debunks_claim(text: str) -> bool:
    """The story is a fact check whose verdict is false ("Fact check: No, 500 soldiers did not surrender")."""
    headline = text.split("\n", 1)[0]
    return bool(_FACT_CHECK.match(headline)) and bool(_FALSE_VERDICT.search(headline) or _FALSE_VERDICT.search(text)) \
        or bool(_DOES_NOT_SHOW.match(headline))  # "Photo does not show 500 soldiers defecting to rebels in Lashio"


_DOES_NOT_SHOW = re.compile(r"\W*(?:(?:viral|old|this|the|a)\s+)?(?:photos?|videos?|images?|clips?|footage|posts?|pictures?)\s+"
                            r"(?:does|do|did)\s*(?:not|n['’]t)\s+show\b", re.I)


_FACT_CHECK = re.compile(r"\W*fact[\s-]*check(?:ed|ing)?\b", re.I)
_FALSE_VERDICT = re.compile(r"\b(?:verdict|rating)\s*[:|-]\s*(?:false|fake|misleading|fabricated|altered|missing\s+context)\b|"
                            r"^\W*fact[\s-]*check\w*\s*[:|-]\s*(?:no\b|[^\n]*\b(?:does\s+not|doesn['’]t|did\s+not|didn['’]t|"
                            r"is\s+not|isn['’]t|false|fake)\b)", re.I)


def refutes_claim(text: str) -> bool:
    """The story calls a claim false propaganda, fake news or misinformation (asked only when it has reports)."""
    return bool(_DOC_REFUTATION.search(text))


# (not "misled by the false propaganda of the NUG": the junta's own story of why people returned to the legal fold)
_DOC_REFUTATION = re.compile(r"\b(?:fake\s+news|misinformation|disinformation|(?<!by\s)(?<!by\sthe\s)false\s+propaganda|"
                             r"unfounded\s+propaganda|"
                             r"propaganda\s+(?:plot|stunt|campaign|ploy|drive)|amount(?:s|ed)?\s+to\s+propaganda|"
                             r"rejected\s+(?:these|the|this|those)\s+claims?|verdict:\s*false|"
                             r"rate[sd]?\s+(?:the|this)\s+claim\s+(?:as\s+)?false|no\s+such\s+(?:incident|surrender|event)\s+"
                             r"(?:occurred|happened|took\s+place))\b", re.I)
_JUNTA_SOURCE = re.compile(r"\b(?:junta|military\s+council|regime|state[\s-]+(?:media|run|owned|television|tv|"
                           r"newspapers?|broadcaster)|tatmadaw|sac)\b", re.I)
_FOREIGN_REFUGE = re.compile(r"\b(?:fled|flee|fleeing|entered|crossed|crossing|escaped|ran|refuge|shelter|asylum|surrendered|handed)\b"
                             r"[^.;]{0,50}?\b(?:into|to|in|entered)\s+(?:neighbou?ring\s+|the\s+)?(?:mizoram|manipur|india|"
                             r"indian\s+territory|thailand|bangladesh|assam\s+rifles|china|laos|yunnan|tajikistan|uzbekistan|iran|"
                             # "handed over their weapons to Chinese officials following days of clashes"
                             r"pakistan|cameroon|chad|niger|(?:chinese|indian|thai|bangladeshi)\s+(?:officials|authorities|"
                             r"troops|police|border\s+guards|soldiers))\b", re.I)
_CIVILIAN_MOVERS = re.compile(r"\b(?:residents|villagers|civilians|refugees|families|locals|children|women)\b[^.;]{0,40}$",
                              re.I)
_ROUT_TRIGGERS = frozenset("surrender cross_over flee_abroad leave_post desert walk_out seek_refuge lay_down_arms "
                           "arms_handover".split())
_WITHDRAWAL_TRIGGERS = frozenset("leave_post desert walk_out flee_abroad".split())
_ROUT_CAUSE = re.compile(r"\b(?:to\s+escape\s+(?:the\s+)?(?:fighting|clashes|attacks?)|"
                         # "crossing over to Mizoram to flee the Arakan Army fighting the junta", "Unable to Fight Militia"
                         r"to\s+(?:flee|escape)\s+(?:the\s+)?(?:[\w'’-]+\s+){1,3}?(?:fighting|offensive|onslaught|advance)\b|"
                         r"unable\s+to\s+(?:fight|hold|withstand|resist)\b|after\s+(?:the\s+)?(?:fighting|clashes|clashing)|"
                         r"fled\s+(?:the\s+)?(?:fighting|clashes)|to\s+avoid\s+(?:(?:a|the|further)\s+)?(?:loss\s+of\s+(?:life|lives)|casualties|bloodshed|being\s+killed)|"
                         r"(?:amid(?:st)?|during)\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?(?:conflict|clashes|fighting|attacks?|offensive|gunfights?|battles?|"
                         r"firings?|gunfire|shelling|confrontations?)|"
                         r"(?:due\s+to|because\s+of)\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?(?:clashes|fighting|attacks?|offensive|battles?)|"
                         r"from\s+(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){0,2}?(?:offensive|onslaught|assault)|"
                         r"in\s+the\s+midst\s+of\s+(?:[\w-]+\s+){0,3}?(?:clashes|fighting|battles?|offensive)|fleeing\s+capture|"
                         r"in\s+(?:the\s+)?face\s+of\s+(?:[\w-]+\s+){0,2}?(?:attacks?|offensive)|to\s+save\s+their\s+lives|"
                         r"following\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?(?:clashes|attacks?|fighting|clash|gunfire)|after\s+being\s+(?:chased|driven|pushed)\s+(?:away|out)|amid\s+(?:fierce\s+|heavy\s+)?fighting|"
                         r"(?:camps?|bases?|posts?|outposts?)\s+(?:was|were)\s+attacked|"
                         # "fled to Bangladesh ... after being attacked by rebels", "fleeing heavy gunfights"
                         r"after\s+being\s+attacked\b|fleeing\s+(?:the\s+)?(?:heavy\s+|fierce\s+|intense\s+)?(?:gunfights?|fighting|"
                         r"clashes|battles?)\b|"
                         # "Meanwhile, since the day of Eid, there has been intense fighting in Rakhine state"
                         r"there\s+(?:has|have)\s+been\s+(?:intense\s+|heavy\s+|fierce\s+)?(?:fighting|clashes)|"
                         r"attack(?:s|ed)?\s+(?:by\s+[^.]{0,40}\s+)?on\s+(?:their\s+)?(?:military\s+)?(?:camps?|bases?|posts?|outposts?))",
                         re.I)
# young people who refuse the draft (not soldiers who "refused to serve the regime" and left it)
_DRAFT_REFUSERS = re.compile(r"(?i)\b(?:refused|refusing|refuse)\s+to\s+(?:be\s+conscripted|be\s+drafted|"
                             r"(?:serve|join\s+the\s+(?:army|military))[^.]{0,80}?\b(?:conscription|draft|military\s+service\s+law))"
                             r"|\bin\s+defiance\s+of\b[^.]{0,60}\b(?:conscription|draft|military\s+service)")
_OVERRUN = re.compile(r"\b(?:took\s+(?:control\s+of|over)|taken\s+(?:control\s+of|over)|captured?|captures|seized?|seizes|"
                      r"overran|overrun|overruns)"
                      r"\s+(?:\w+\s+){0,3}(?:post|posts|outposts?|bases?|camps?|positions?|garrison|headquarters|stations?"
                      # "the AA captured Border Guard Force Battalion No. 5", not "captured a battalion commander"
                      r"|battalion(?:\s+(?:no\.?\s*)?\(?\d+\)?|\s+(?:hq|headquarters|base))(?!\s*(?:commander|'s|’s)))\b"
                      r"|\b(?:post|posts|outposts?|bases?|camps?|positions?|garrison)\s+(?:[\w-]+\s+){0,6}?(?:was|were|had\s+been|has\s+been|have\s+been)"
                      r"\s+(?:captured|overrun|seized|taken)\b"
                      # "flee into Tak after border base falls", "after their camp fell to the KNLA"
                      r"|\b(?:post|outpost|base|camp|garrison|headquarters)\s+(?:[\w-]+\s+){0,2}?(?:falls|fell|had\s+fallen|has\s+fallen)\b",
                      re.I)
_OVERRUN_WORDS = ("took", "taken", "captur", "seize", "overr", "fell", "falls", "fallen")  # one is in every branch
# troops falling back to another junta post: their "deserted their posts" elsewhere in the story is the same retreat
_WITHDRAWAL = re.compile(r"\b(?:withdrew|retreated|fell\s+back|falls?\s+back|pulled\s+back|redeployed|tactical\s+redeployment|"
                         r"(?:have|has|had)\s+moved|moved\s+back)"
                         r"\b[^.!?]{0,60}?\b(?:to|into|towards)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,4}?"
                         r"(?:headquarters|hq|base|command|garrison|battalion|station)\b"  # also "the junta's battalion HQ"
                         r"|\b(?:withdrew|withdrawn|withdraw|retreated)\s+from\s+(?:their|its|the)\s+(?:\w+\s+){0,2}?"
                         r"(?:bases?|positions?|posts?|camps?|outposts?)\b"
                         # "three camps had been abandoned and fled by the military council": the junta pulled out
                         r"|\b(?:camps?|bases?|posts?|outposts?|positions?)\s+(?:that\s+)?(?:had\s+been|have\s+been|has\s+been|were|was)\s+"
                         r"abandoned\b[^.!?]{0,30}?\bby\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?(?:council|junta|regime|military|army|troops)\b",
                         re.I)
_WITHDRAWAL_WORDS = ("withdr", "retreat", "fell", "fall", "pulled", "redeploy", "moved", "abandoned")  # likewise
_WITHDRAWAL_TO_TOWN = re.compile(r"\b(?:withdrew|withdrawn|retreated|fell\s+back|pulled\s+back)\s+to\s+[A-Z][a-z]+")  # "withdrew to Monywa"
