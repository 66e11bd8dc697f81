"""Context checks behind the ``newswatch_mentions`` rules: when a trigger is not what it seems.

Pure functions over one sentence's lower-cased words (``lows``), used by
:mod:`~newswatch.transforms.mentions.rules`:

- :func:`_retreat`: "abandoned their positions and retreated to the battalion headquarters"
  is a withdrawal to another junta post, not a defection;
- :func:`_deserting_conscripts`: conscripts and trainees who escape are deserters
  (extra defection and conscription hits), unless they are civilians evading the draft
  (:func:`_escaping_draft`);
- word sets for militia recruitment (:data:`_MILITIA`, :data:`_COMPULSION`) and for
  leaving a post (:data:`_NOT_LEFT_AFTER`, ...).
"""

from __future__ import annotations

from typing import Optional, Sequence

from newswatch.transforms.mentions.components import word_sets
from newswatch.transforms.mentions.modality import _Hit

_W = word_sets()
_ESCAPED_FROM = _W["escaped_from"]
_CONSCRIPTED = _W["conscripted"]
_EVADING = _W["evading"]


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
                if lows[j] in _RESISTANCE_SIDE:
                    break  # "withdrew to a KNLA camp" is crossing over
                if lows[j] in _MILITARY_PLACES or (withdrew and lows[j] in _RETREAT_TO):
                    # "fled to a base of the PDF", "a camp run by the KNLA": still crossing over
                    return not _RESISTANCE_SIDE.intersection(lows[j + 1:j + 5])
    return False


_MILITIA = frozenset("militia militias militiamen htee volunteer volunteers".split())
_VOLUNTARY_IN_MILITIA = frozenset("recruitment_quota recruits mobilisation enlisted".split())
_COMPULSION = frozenset("forced forcibly forcefully compulsory mandatory ordered required must obliged compelled coerced "
                        "threatened threat fine fined fines penalty abducted abduction conscripted conscription conscript "
                        "conscripts draft drafted lottery quota quotas".split())


def _escaping_draft(lows: Sequence[str]) -> bool:
    """"fled into the forests to escape the military service lottery": civilians evading the draft."""
    return any(w == "to" and lows[k + 1:k + 2] in (["escape"], ["flee"])
               and _DRAFT_WORDS.intersection(lows[k + 2:k + 7])
               and lows[k + 2:k + 4] != ["after", "being"]  # "managed to escape after being forcibly recruited": deserters
               for k, w in enumerate(lows)) or bool(_LAW_WORDS.intersection(lows)) and any(
        # "400 young people sought refuge with the KNU, fleeing the junta's conscription law"
        w in ("fleeing", "escaping") and lows[k + 1:k + 2] == ["the"] and _LAW_WORDS.intersection(lows[k + 2:k + 7])
        for k, w in enumerate(lows))


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
    after = [k for k, w in enumerate(lows) if w in ("escape", "escaped", "fled", "flee") and lows[k + 1:k + 3] == ["after", "being"]
             and _CONSCRIPTED.intersection(lows[k + 3:k + 6])]
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
            and (w not in ("reached", "joined") or _RESISTANCE.intersection(lows[k + 1:k + 5]))
            and (escaped or (already is not None and already < k <= already + 15))]


_RUNAWAY = frozenset("fleeing escaped escaping runaway deserting absconding".split())
_CONSCRIPT_NOUNS = frozenset("conscript conscripts conscripted draftee draftees".split())


def _runaway_conscripts(lows: Sequence[str]) -> list[_Hit]:
    """"three fleeing conscripts", "the escaped conscripted soldiers": deserters named by what they did."""
    return [_Hit(kind, "desert", "noun", "", k, k + 1) for k, w in enumerate(lows)
            if w in _RUNAWAY and _CONSCRIPT_NOUNS.intersection(lows[k + 1:k + 3]) and (k == 0 or lows[k - 1] != "to")
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
