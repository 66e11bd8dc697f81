"""Counting people and weapons in news sentences: pure number parsing.

Input is one sentence (a ``str``); output is a list of :class:`Quantity`, one
per counted noun phrase ("at least 130 junta soldiers" -> 130, ``at_least``),
with offsets into that sentence. A number only counts when it quantifies a
noun the caller classifies (``people``, ``weapons``, ...), so unit numbers
("Light Infantry Battalion 123"), years, ages, law numbers ("Law No.
27/2010"), money, distances and times never become counts.

Sums of listed parts, counts of one and list totals (:func:`find_quantities`,
:func:`list_total`) are in :mod:`~newswatch.transforms.mentions.number_lists`, which builds on this module.

Example::

    >>> from newswatch.transforms.mentions.number_lists import find_quantities
    >>> find_quantities("A captain and 11 soldiers fled.", {"soldiers": "people", "captain": "people"})[0].value
    12
"""

from __future__ import annotations

import re
from typing import Mapping, NamedTuple, Optional, Sequence

NounLexicon = Mapping[str, str]  # lower-case noun -> category ('people', 'weapons', 'other', ...)
# Besides the lexicon's categories a Quantity can be 'bare': a number with no noun that is the
# subject of a verb ("40 had crossed over"); callers decide whether the context makes it people.

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}

# Qualifier phrases, longest first so "more than" wins over "more".
_QUALIFIERS: tuple[tuple[tuple[str, ...], str], ...] = tuple(sorted(
    [
        (("more", "than"), "more_than"), (("over",), "more_than"), (("upwards", "of"), "more_than"),
        (("in", "excess", "of"), "more_than"), (("just", "over"), "more_than"), (("well", "over"), "more_than"),
        (("at", "least"), "at_least"), (("no", "fewer", "than"), "at_least"), (("no", "less", "than"), "at_least"),
        (("about",), "about"), (("around",), "about"), (("some",), "about"), (("roughly",), "about"),
        (("approximately",), "about"), (("an", "estimated"), "about"), (("estimated",), "about"),
        (("up", "to"), "about"), (("as", "many", "as"), "about"), (("approx",), "about"),
        (("greater", "than"), "more_than"), (("upward", "of"), "more_than"), (("a", "total", "of"), "exact"),
        (("nearly",), "nearly"), (("almost",), "nearly"), (("close", "to"), "nearly"),
        (("just", "under"), "nearly"), (("just", "short", "of"), "nearly"),
    ],
    key=lambda item: -len(item[0]),
))

# Words before a number that make it a label, not a count ("Battalion 123", "No. 5", "aged 18").
_LABEL_BEFORE = frozenset({
    "battalion", "battalions", "regiment", "division", "brigade", "column", "command", "unit", "company",
    "lib", "ib", "lid", "moc", "roc", "loc", "no", "nos", "number", "law", "article", "section", "chapter",
    "act", "decree", "order", "page", "route", "highway", "road", "aged", "age", "ages", "of-age", "platoon",
    "squadron", "base", "camp", "post", "gate", "ward", "block", "km", "mile", "flight", "tank", "year",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "$", "us$", "£", "€", "¥", "฿", "₹", "k", "mmk", "usd", "rs", "inr", "php", "₱", "front", "squad", "detachment", "operation",
})
# Words that end a noun phrase: a count never reaches across them.
_STOP = frozenset({
    "of", "the", "a", "an", "and", "or", "to", "in", "on", "at", "from", "with", "by", "for", "as", "that",
    "which", "who", "whom", "whose", "were", "was", "had", "have", "has", "is", "are", "be", "been", "being",
    "said", "says", "would", "will", "could", "can", "may", "might", "should", "must", "than", "but", "if",
    "while", "after", "before", "since", "during", "into", "onto", "over", "under", "between", "among",
    "per", "each", "did", "do", "does", "not", "no", "this", "these", "those", "their", "his", "her", "its",
    "our", "your", "they", "them", "he", "she", "it", "we", "you", "i", "when", "where", "then", "also",
    "including", "about", "around", "nearly", "some", "more", "most", "all", "both", "against", "without",
})
_CASUALTY = re.compile(
    r"^\s*(?:who\s+)?(?:(?:were|was|had|have|has|been|are|is|reportedly|also|later|all|later|were\s+all)\s+){0,3}"
    r"(?:killed|wounded|injured|dead|died|executed|captured|arrested|detained|missing|displaced|"
    r"hurt|slain|imprisoned|jailed)\b",
    re.I,
)
# "Sixteen young people who were arrested in Ranong and deported ... managed to escape": held once, escaped since
_LATER_ESCAPED = re.compile(r"\s+who\s+(?:were|had\s+been)\s+(?:arrested|detained|captured)\b[^.;]{0,120}?\s(?:managed\s+to\s+"
                            r"escape|escaped|fled)\b", re.I)
# "400 fighters who attempted to flee their last stronghold were captured": a foiled attempt, its people held
_FOILED_ATTEMPT = re.compile(r"\s+who\s+(?:had\s+)?(?:attempted|tried)\s+to\s+[^.;,]{0,100}?\s(?:were|was)\s+"
                             r"(?:later\s+|then\s+)?(?:captured|caught|arrested|detained|killed|shot)\b", re.I)
# "162 rifles were abandoned by soldiers who left their posts": firearms left behind, not brought over
_ARMS_LEFT_BEHIND = re.compile(r"\s*(?:(?:were|was|had\s+been|have\s+been|being)\s+(?:also\s+)?)"
                               r"(?:abandoned|left\s+behind|dumped|discarded|thrown\s+away)\b", re.I)
# a tally that counts prisoners of war with the defectors: "2,000 soldiers defected, surrendered or were captured",
# "2,578 personnel either became prisoners of war, defected or surrendered"
_WITH_CAPTURED = re.compile(
    r"[^.;]{0,80}?\b(?:became\s+|were\s+)?(?:captured|prisoners\s+of\s+war|taken\s+prisoner)\b[^.;]{0,40}\b(?:defected|"
    r"surrendered)\b|[^.;]{0,80}?\b(?:defected|surrendered),?\s+(?:\w+\s+)?(?:or|and)\s+(?:were\s+|became\s+|been\s+)?(?:captured|"
    r"prisoners\s+of\s+war|taken\s+prisoner)\b|[^.;]{0,60}?\b(?:defected|surrendered)\s+or\s+(?:abandoned|fled|left|withdrew\s+from)"
    r"\s+(?:their\s+)?(?:bases|posts|positions|camps)\b", re.I)  # "500 troops have surrendered or abandoned their bases"
_MIXED_HINT = re.compile(r"captur|prisoner|abandon|fled|left|withdrew", re.I)  # cheap test before _WITH_CAPTURED
# a bare number that is the subject of a verb: "40 had crossed over", "at least 19 were received"
_BARE_SUBJECT = frozenset("had have has were are was is defected surrendered deserted fled escaped walked slipped".split())
_TOKEN = re.compile(
    r"(?P<model>(?![a-z]{4,}\d)[A-Za-z]+-?\d+[A-Za-z0-9]*(?:-\d+)?|(?-i:BA|MA|AK|MG|HK|M) \d{1,3}s?\b|(?-i:[A-Z])\.\d{2,3}\b)"  # model names ("G3", "AK-47",
    # "MA-1", "BA 63", "M.79") are words
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d,.])|\d+(?:\.\d+)?(?:/\d+)?)"
    r"|(?P<word>[^\W\d_]+(?:[-'’][^\W\d_]+)*)"
    r"|(?P<punct>\S)"
)


class Quantity(NamedTuple):
    """A counted noun phrase inside one sentence."""

    value: int
    qualifier: str  # exact | at_least | more_than | about | nearly | range
    category: str  # the noun's category in the lexicon ('people', 'weapons', ...)
    noun: str  # head noun, lower-case
    start: int  # offsets into the scanned text
    end: int
    subset: bool  # introduced by "including"/"among them": part of an earlier total
    casualty: bool  # followed by "were killed"/"wounded"/...: a casualty figure
    size: bool = False  # the strength of a force or a camp ("there were 90,000 police"), not movers
    single: bool = False  # "a soldier", "Captain Aung Ko": one person or one weapon, no numeral
    total: bool = False  # "brought the number of defectors to 650": a stated running total


class _Tok(NamedTuple):
    text: str
    lower: str
    kind: str  # num | word | punct
    start: int
    end: int


_NOT_FIREARM_KINDS = frozenset("local sharp bladed traditional cold melee".split())
_EXPLOSIVES = frozenset("explosives explosive bombs grenades ieds mines".split())
_RIFLE_REGIMENTS = frozenset("assam garhwal gorkha gurkha rajputana kumaon sikh dogra naga mizo kashmir jak rajput maratha "
                              "jat burma kachin chin".split())
# "two Self Loading Rifles", "a rapid-firing gun", "six high ranking officers"
_ING_MODIFIERS = frozenset("loading firing repeating ranking".split())
_CARTRIDGE = re.compile(r"[xX×]\d{2,3}(?:mm)?")  # the second half of "9x19", "7.62x39mm"
_CALIBRES = frozenset({22, 30, 32, 38, 45, 303, 315, 357})
_CALIBRED_SINGULAR = frozenset("rifle pistol revolver gun carbine".split())
_NO_FIREARM_GUNS = frozenset("stun toy air nail glue paintball water spray tranquilizer tranquiliser lathod lathode lethod "
                              "lethode".split())  # a "lathod gun" fires grenades
_DECIMAL_CALIBRE = re.compile(r"\d?\.\d{2,3}")  # "5.56", "7.62", ".45"
_CALIBRED_ARMS = frozenset("revolver revolvers pistol pistols magnum magnums rifle rifles".split())
_GROUP_HEADS = frozenset("outfit outfits group groups organisation organisations organization organizations faction factions "
                         "fronts movements".split())
_SPACED_THOUSANDS = re.compile(r"\d[ \u00a0\u202f]\d{3}")
_MONTH_WORDS = frozenset("january february march april may june july august september october november december jan feb "
                         "mar apr jun jul aug sep sept oct nov dec".split())
_KIND = {"model": "word", "num": "num", "word": "word", "punct": "punct", None: "punct"}


def _tokens(text: str) -> list[_Tok]:
    make = tuple.__new__  # a NamedTuple's own constructor checks its arguments: this runs once per word
    toks = [make(_Tok, (g, g.lower(), _KIND[m.lastgroup], m.start(), m.end()))
            for m in _TOKEN.finditer(text) for g in (m.group(),)]
    for k in range(len(toks) - 1, 0, -1) if _SPACED_THOUSANDS.search(text) else ():
        tok = toks[k]
        if tok.kind == "num" and " " in tok.text and toks[k - 1].lower in _MONTH_WORDS:
            # "on July 16 149 soldiers deserted": a day, then a count, not "16 149" with a space between thousands
            day, _, rest = tok.text.partition(" ")
            toks[k:k + 1] = [make(_Tok, (day, day, "num", tok.start, tok.start + len(day))),
                             make(_Tok, (rest, rest, "num", tok.end - len(rest), tok.end))]
    return toks


def _word_value(word: str) -> Optional[int]:
    """Value of one number word, hyphenated compounds included ("sixty-four")."""
    word = word.lower().replace("’", "'")
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    parts = word.split("-")
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS and 0 < _UNITS[parts[1]] < 10:
        return _TENS[parts[0]] + _UNITS[parts[1]]
    return None


# No count of people or weapons in the news is larger; longer digit strings
# are phone numbers, IDs or garbage, and would overflow float arithmetic.
_MAX_COUNT = 10**9


_POINT_THOUSANDS = re.compile(r"[1-9]\d{0,2}\.\d{3}")


def _digits_value(text: str) -> Optional[int]:
    if "/" in text:
        return None  # "27/2010": a law or case number, never a count
    if "," in text and not re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        return None
    digits = re.sub(r"[,\s\u00a0\u202f]", "", text)  # "2,053", "2 053" (a space between thousands)
    if _POINT_THOUSANDS.fullmatch(digits):
        digits = digits.replace(".", "")  # "1.026 Ukrainian soldiers": a point between thousands (European style)
    if "." in digits:
        whole, _, fraction = digits.partition(".")
        if fraction.strip("0") or not whole.isdigit():
            return None
        digits = whole
    if not digits.isdigit() or len(digits) > len(str(_MAX_COUNT)):
        return None
    value = int(digits)
    return value if value <= _MAX_COUNT else None


def _parse_at(toks: Sequence[_Tok], i: int) -> Optional[tuple[int, int]]:
    """Parse a cardinal starting at toks[i]; return (value, index after it)."""
    if i >= len(toks):
        return None
    tok = toks[i]
    if tok.kind == "num":
        decimal = "." in tok.text and "," not in tok.text and not (
            _POINT_THOUSANDS.fullmatch(tok.text) and not (i + 1 < len(toks) and toks[i + 1].lower in _SCALES))
        if decimal:
            try:
                value_f = float(tok.text)
            except ValueError:
                return None
            if not value_f < _MAX_COUNT:  # also rejects inf and nan
                return None
        else:
            digits = _digits_value(tok.text)
            if digits is None:
                return None
            value_f = float(digits)
        j = i + 1
        if j < len(toks) and toks[j].lower in ("million", "thousand", "hundred"):
            value_f *= _SCALES[toks[j].lower]
            j += 1
        elif decimal:
            return None
        if j < len(toks) and toks[j].lower == "dozen":
            value_f *= 12
            j += 1
        if value_f > _MAX_COUNT:
            return None
        return int(value_f), j
    if tok.kind != "word":
        return None
    if tok.lower in ("a", "an") and i + 1 < len(toks):
        nxt = toks[i + 1].lower
        if nxt == "dozen":
            return 12, i + 2
        if nxt in ("hundred", "thousand"):
            return _SCALES[nxt], i + 2
        return None
    if tok.lower == "half" and i + 2 < len(toks) and toks[i + 1].lower == "a" and toks[i + 2].lower == "dozen":
        return 6, i + 3
    total, current, j, seen = 0, 0, i, False
    while j < len(toks) and toks[j].kind == "word":
        low = toks[j].lower
        value = _word_value(low)
        if value is not None:
            current += value
        elif low in _SCALES and seen:
            current = max(current, 1) * _SCALES[low]
            if _SCALES[low] >= 1000:
                total, current = total + current, 0
        elif low == "dozen" and seen:
            current = max(current, 1) * 12
        elif low == "and" and seen and j + 1 < len(toks) and _word_value(toks[j + 1].lower) is not None \
                and j > i and toks[j - 1].lower in _SCALES:
            pass  # "one hundred and twenty"
        else:
            break
        seen = True
        j += 1
    if not seen:
        return None
    return total + current, j


def parse_number(text: str) -> Optional[int]:
    """Parse a whole string as a cardinal: "sixty-four" -> 64, "two dozen" -> 24, "1,200" -> 1200."""
    toks = _tokens(text.strip())
    parsed = _parse_at(toks, 0) if toks else None
    if parsed is None or parsed[1] != len(toks):
        return None
    return parsed[0]


_QUALIFIERS_BY_LAST: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {}
for _words, _qualifier in _QUALIFIERS:
    _QUALIFIERS_BY_LAST[_words[-1]] = _QUALIFIERS_BY_LAST.get(_words[-1], ()) + ((_words, _qualifier),)
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TENS) | {"a", "an", "half"}
_HAS_NUMBER = re.compile(
    r"\d|\b(?:" + "|".join(sorted((set(_UNITS) | set(_TENS) | {"dozen", "hundred", "thousand"}) - {"zero"})) + r")\b", re.I)


_OVER_IS_PARTICLE = frozenset("handed hand hands handing turned turn turning took taken take came come crossed "
                              "went gave give given".split())


def _qualifier_before(toks: Sequence[_Tok], i: int) -> tuple[str, int]:
    """Qualifier phrase ending just before toks[i]; returns (qualifier, its first index)."""
    if i == 0:
        return "exact", i
    if toks[i - 1].lower == "over" and i > 1 and toks[i - 2].lower in _OVER_IS_PARTICLE:
        return "exact", i  # "handed over 20 rifles"
    for words, qualifier in _QUALIFIERS_BY_LAST.get(toks[i - 1].lower, ()):
        n = len(words)
        if i - n >= 0 and all(toks[i - n + m].lower == words[m] for m in range(n)):
            return qualifier, i - n
    return "exact", i


_PLURAL_TITLES = frozenset("captains majors lieutenants colonels corporals sergeants privates generals commanders "
                           "officers".split())  # "Privates Myo Min Tun and Phyo Wai Oo": two
_TITLES = _PLURAL_TITLES | frozenset("captain major lieutenant colonel corporal sergeant private general commander brigadier officer "
                    "lt col capt maj sgt cpl pte brig gen lance warrant second first police commander-in-chief".split())


_NUMERIC_DATE = re.compile(r"(?<![\d-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})(?![\d-])")


def _is_label_number(toks: Sequence[_Tok], i: int, j: int, text: str) -> bool:
    """True when the number at toks[i:j] names something rather than counting it."""
    tok = toks[i]
    date = _NUMERIC_DATE.search(text, max(0, tok.start - 11), tok.end + 11) if tok.kind == "num" else None
    if date is not None and date.start() <= tok.start < date.end():
        return True  # "2024-08-21", "21/08/2024": a date, not a range of 8 to 21
    prev = toks[i - 1].lower if i > 0 else ""
    if prev.rstrip(".") in _LABEL_BEFORE or (prev == "." and i > 1 and toks[i - 2].lower in _LABEL_BEFORE):
        return True
    if prev in ("and", "&") and i > 1 and toks[i - 2].kind == "num" and tok.kind == "num" \
            and _is_label_number(toks, i - 2, i - 1, text):
        return True  # "Light Infantry Battalion (LIB) 20 and 34": the second unit's number ("538 and one corporal" counts)
    if prev == ")" and i > 3 and toks[i - 3].text == "(" and toks[i - 2].text.isupper() \
            and toks[i - 4].lower.rstrip(".") in _LABEL_BEFORE:
        return True  # "Light Infantry Division (LID) 88": the unit's number after its acronym
    if prev in ("-", "#") and i > 1 and toks[i - 2].kind == "word" and toks[i - 2].end == toks[i - 1].start:
        return True  # model designations: "MA-1", "G-3"
    if tok.kind == "num" and tok.end < len(text) and text[tok.end].isalpha():
        return True  # "81mm", "5am", "1990s"
    if j < len(toks) and toks[j].lower in _CALIBRE_UNITS:
        return True  # "a 9 mm pistol": a calibre
    if tok.kind == "num" and j + 1 < len(toks) and toks[j].text[:1].isupper() and toks[j].lower in _TITLES \
            and toks[j + 1].text[:1].isupper() and toks[j + 1].lower not in _TITLES:  # "6 Brigadier Generals" counts
        return True  # "– 918 Corporal Zeya Aung": a unit number before a named soldier
    if j < len(toks) and toks[j].text == "%":
        return True
    if tok.kind == "num" and re.fullmatch(r"(19|20)\d\d", tok.text):
        qualifier, _ = _qualifier_before(toks, i)
        return qualifier == "exact"  # a bare four-digit 19xx/20xx is a year
    return False


_ACTS_COUNTED = frozenset("surrenders defections desertions returnees".split())
_CALIBRE_UNITS = frozenset("mm mm. millimetre millimeter cal cal. calibre caliber".split())
_WHO_HAVE_DONE = re.compile(r"\s+(?:who\s+(?:have|had)\s+(?:\w+\s+)?\w+ed|(?:\w+\s+){0,2}(?:joined|defected|deserted|"
                            r"surrendered|fled))\b", re.I)  # "there are more than 200 soldiers and police joined"
_UNIT_NAMES = frozenset("battalion brigade division regiment lib ib lid bn bde company column".split())
_GAUGES = _CALIBRE_UNITS | frozenset("bore gauge guage".split())
_PARTY_ACRONYMS = frozenset("nld usdp nup snld anp ndf".split())
_CLASSIFIERS = frozenset("hand hands piece pieces unit units set sets types type kinds kind sorts".split())
_LIST_ADJECTIVES = frozenset("various assorted different several mixed".split())
_MODEL = re.compile(r"[A-Z][A-Za-z]*[- .]?\d+[A-Za-z0-9]*(?:-\d+)?")


def _is_model(tok: _Tok) -> bool:
    """A weapon model designation such as "MA-1", "G3", "AK-47", "M16"."""
    return tok.kind == "word" and bool(_MODEL.fullmatch(tok.text))


# what comes right before a count that gives a force's or a camp's strength, not people moving
_SIZE_BEFORE = re.compile(
    r"(?:\bthere\s+(?:is|are|was|were|had\s+been|have\s+been|has\s+been|remain|remained)"
    r"(?:\s+(?:previously|originally|initially|once|then|still|usually|normally|only))?"
    r"|\b(?:strength|force|garrison|complement|headcount|size|column)\s+of"
    # "while serving as a platoon commander with a battalion of about 300 men": the unit he served in
    r"|\b(?:serv(?:ed|ing|es)|stationed|posted|deployed|commanding|commanded|leading)\b[^.;]{0,40}?\b(?:battalion|company|"
    r"platoon|regiment|brigade|unit|division)\s+of"
    r"|\b(?:holds?|held|holding|houses?|housed|hosts?|employs?|employed|numbered|numbering|has|have|had|having)"
    r"(?:\s+a\s+(?:total|strength)\s+of(?:\s+(?:about|around|some|roughly|nearly|over|more\s+than))?)?"  # "had a total of about 90 staff"
    r"|\b(?:manned|staffed|garrisoned|guarded|defended)\s+by"  # "The station was manned by around 40 police"
    r"|\bwith\s+perhaps"  # "the smallest of the services, with perhaps 16,000 sailors": a hedged strength
    r"|\b(?:commanders?|in\s+command)\s+of(?:\s+(?:about|around|some|roughly|nearly|over|more\s+than))?"  # "six
    # Brigadier Generals, commanders of over 2,000 military personnel, who surrendered": the men they led
    # "The military, which analysts estimate at between 130,000 and 150,000 personnel, ...": its strength
    r"|\b(?:military|army|armed\s+forces|tatmadaw|junta|which)\b(?:(?!defect|desert|surrend|left|fled)[^.;]){0,40}?"
    r"\b(?:estimate[sd]?|put|puts)\s+(?:it\s+)?at(?:\s+(?:between|about|around|some|roughly|nearly|over|more\s+than|up\s+to))?"
    # "the defections had left the camp with fewer than 60 soldiers": who is left
    r"|\bleft\s+(?:the\s+[\w-]+|its\s+[\w-]+|it|them)\s+with(?:\s+only|\s+just)?(?:\s+(?:fewer|less)\s+than)?"
    # "the programme received enquiries from 1,240 individuals": people asking, not people who left
    r"|\b(?:inquiries|enquiries|requests|applications|calls|messages|contacts)\s+(?:for\s+help\s+)?from"
    r"|\b(?:stands?|stood)\s+at|\bout\s+of(?:\s+the|\s+a\s+total\s+of)?)\s*$", re.I)  # "120 out of the 300 troops present"
_STATIONED_WITH = re.compile(r"\b(?:stationed|based|deployed|garrisoned)\b(?:(?!\b(?:left|defected|deserted|fled|joined|"
                             r"crossed|surrendered|escaped|arrived|came|went|gave|handed|turned|reached)\b)[^.;]){0,180}?"
                             r"(?<!together )(?<!along )\bwith\s*$", re.I)
# "two policemen from Tonzang police station and one from Tamu District": the noun left out of the second part
_ELIDED_MORE = re.compile(r"\s+(?:from|of|in)\s+(?:[^,.;:\d]|\d+(?:st|nd|rd|th)\b){1,50}?\s+and\s+(one|two|three|four|five|six|seven|eight|nine|ten|"
                          r"\d{1,3})\s+(?:more\s+)?(?:from|of|in)\s+(?!them\b|us\b|whom\b|the\s+past\b|"
                          r"(?:their|his|her|its|our)\b)", re.I)  # ("and 16 of their fighters" names its own noun)
_SIZE_AFTER = re.compile(r"\s*(?:still\s+)?(?:remain|remained|remaining|are\s+left|were\s+left|still\s+serve|"
                         r"still\s+serving|are\s+still\s+serving|(?:were|are|was|is)\s+still\s+(?:holding|manning|guarding|"
                         r"defending|stationed|posted|deployed)|(?:were|are)\s+(?:actually\s+)?(?:deployed|stationed|posted)\s+(?:in|at)"
                         r")\b", re.I)  # "fewer than 90 were actually deployed in Kani"  # "350,000 soldiers remain", "25 were still holding"
_TOTAL_OF = re.compile(
    r"\b(?:number|total|tally|count|figure)\s+of\s+((?:[\w'’-]+[\s,]+){0,3}[\w-]+)\b(?:[^.;:]|(?<=[A-Z][a-z]{2})\.(?=\s\d))"
    r"{0,130}?\b"  # (a date's "Nov. 11" inside)
    r"(?:is|was|are|were|stands\s+at|stood\s+at|reached|reaches|rose\s+to|risen\s+to|climbed\s+to|to\s+be|at|to|"
    r"totals|totalled|totaled|hit|exceeds|exceeded|now)\s*$", re.I)
# "The militants who surrendered to the Peshmerga last week numbered around 1,000 men": the count of those who acted
_ACTORS_NUMBERED = re.compile(r"\b(?:surrendered|defected|deserted|crossed\s+over|handed\s+themselves\s+(?:in|over))\b"
                              r"[^.;:]{0,80}?\bnumber(?:ed|ing)\s+(?:about|around|some|roughly|nearly|over|more\s+than|"
                              r"at\s+least)?\s*$", re.I)
# "a huge force of more than 300 SPLA soldiers ... defected": the group that moved, not a garrison's strength
_A_BIG_FORCE_OF = re.compile(r"\ban?\s+(?:huge|large|big|sizeable|sizable|whole|entire|strong)\s+force\s+of\s*$", re.I)
_NUMBER_WHO = re.compile(r"\bthe\s+(?:total\s+)?number\s+(?:of\s+\w+\s+)?who\s+(?:have\s+|had\s+|has\s+)?(?:left|defected|deserted|"
                         r"surrendered|joined|fled|crossed|walked\s+out)\b[^.;:]{0,80}?\bto\s+(?:about|over|more\s+than|nearly|"
                         r"some|around)?\s*$", re.I)
_NOUN_TOTALLING = re.compile(r"\b(defectors|deserters|surrenderees|returnees|soldiers|troops|fighters|rebels|militants|"
                             r"personnel|men)\s*,?\s*(?:totall?ing|numbering)\s+(?:about|over|more\s+than|nearly|some|around)?\s*$"
                             # "the identified deserters were as many as ten"
                             r"|\b(defectors|deserters|surrenderees|returnees)\s+(?:were|numbered|number|totall?ed)\s+"
                             r"(?:as\s+many\s+as|about|over|more\s+than|nearly|some|around|at\s+least|just|only)?\s*$", re.I)
# "answered the call, bolstering the defectors' ranks to around 3,000"
_THIS_NUMBER_ROSE = re.compile(r"\b(?:this|that|the)\s+(?:number|figure)\s+(?:had\s+|has\s+|have\s+)?"
                               r"(?:surged|risen|rose|grown|grew|climbed|jumped|increased|soared)\s+to\s+"
                               r"(?:about\s+|around\s+|over\s+|more\s+than\s+|nearly\s+|some\s+)?$", re.I)
_SWELLING_TO = re.compile(r"\b(?:bolster\w*|boost\w*|swell\w*|rais\w*|push\w*|increas\w*|bring\w*|brought)\s+the\s+"
                          r"((?:[\w'’-]+\s+){0,2}?(?:ranks|numbers?))\s+to\s+(?:about|around|over|more\s+than|nearly|some)?\s*$",
                          re.I)
_FIGURE_THEN_WHAT = re.compile(r"\s*[–—:-]\s*(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:number|total|count|tally)\s+of\s+"
                               r"((?:[\w'’-]+\s+){0,2}[\w-]+)", re.I)
# "bringing the total number to 33", "brought the tally to 650", "raising it to": a running total follows; one
# phrase for the counts here, the rules' modality and the labels' choice of figure
RUNNING_TOTAL_TO = (r"\b(?:bringing|brought|brings|bring|raising|raised|taking|took|pushing|pushed)\s+"
                    r"(?:the\s+(?:(?:total|overall)\s+)?(?:total|tally|number|count)\s+)?to\s+")
_BRINGING_TO = re.compile(RUNNING_TOTAL_TO + r"(?:about|over|more\s+than|nearly|some|around)?\s*$", re.I)
_NUMBER_OF_AFTER = re.compile(r"\s+the\s+(?:total\s+)?(?:number|total|tally)\s+of\s+((?:[\w'’-]+\s+){0,2}[\w-]+)", re.I)
_CASUALTY_BEFORE = frozenset("killed killing kill shot shooting wounded wounding injured injuring executed "
                             "executing captured capturing detained arrested".split())


def _counted_by_total(text: str, toks: Sequence[_Tok], q_start: int, j: int, nouns: NounLexicon) -> Optional[str]:
    """What a stated tally before the number counts ("the number of defectors has reached 600"), if people."""
    if _DID_BRINGING_TOTAL.search(text[max(0, toks[q_start].start - 100):toks[q_start].start]):
        return "people"  # "Two more militants surrendered, bringing the total number to 33": the act's running total
    total = _TOTAL_OF.search(text[max(0, toks[q_start].start - 220):toks[q_start].start]) \
        or _FIGURE_THEN_WHAT.match(text, toks[j - 1].end)  # "320 – the minimum number of conscripts who have deserted"
    if total is None and _BRINGING_TO.search(text[max(0, toks[q_start].start - 40):toks[q_start].start]):
        total = _NUMBER_OF_AFTER.match(text, toks[j - 1].end)  # "bringing to 1,318 the number of people who ..."
    if total is None:  # "The defectors, totaling 4,410, include police ...": the noun, then its figure
        total = _NOUN_TOTALLING.search(text[max(0, toks[q_start].start - 40):toks[q_start].start]) \
            or _SWELLING_TO.search(text[max(0, toks[q_start].start - 80):toks[q_start].start])
    if total is None and _NUMBER_WHO.search(text[max(0, toks[q_start].start - 140):toks[q_start].start]):
        return "people"  # "bringing the number who left the station today to seven"
    window = text[max(0, toks[q_start].start - 60):toks[q_start].start]
    rose = _THIS_NUMBER_ROSE.search(window) if total is None and ("number" in window or "figure" in window) else None
    at = max(0, toks[q_start].start - 60) + rose.start() if rose else 0
    if rose and any(nouns.get(w) == "people" for w in re.findall(r"[\w-]+", text[max(0, at - 160):at].lower())):
        return "people"  # "In 2022, 1,619 individuals left their units, while by 2024 this number had surged to 7,621"
    counted = [w for w in re.findall(r"[\w-]+", (total.group(1) or total.group(2)).lower())
               if nouns.get(w) == "people" or w in _ACTS_COUNTED] if total else []  # "the number of surrenders"
    if not counted and total is not None and total.re is _SWELLING_TO \
            and _ACT_BROUGHT_TOTAL.search(text, max(0, toks[q_start].start - 80), toks[q_start].start):
        return "people"  # "Today's desertion bring the total number to over 1000": the act's running total
    return counted[0] if counted else None


_DID_BRINGING_TOTAL = re.compile(r"\b(?:surrendered|defected|deserted|joined|crossed|fled|escaped)\b[^.;:]{0,40}?"
                                 + _BRINGING_TO.pattern, re.I)
_ACT_BROUGHT_TOTAL = re.compile(r"\b(?:desertions?|defections?|surrenders?)\b[^.;:]{0,30}?\b(?:bring\w*|brought|rais\w*|push\w*|"
                                r"swell\w*)\s+the\s+", re.I)


def _long_name_end(toks: Sequence[_Tok], j: int) -> int:
    """Where a long capitalised name with "of" in it ends ("Communist Party of the Philippines-New People's Army"):
    the count's noun comes after it ("10 ... (CPP-NPA) rebels"). ``j`` when there is no such name."""
    m, has_of = j, False
    while m < len(toks) and m - j < 12 and (
            toks[m].kind == "word" and toks[m].text[:1].isupper() and toks[m].lower not in ("of", "the")
            or m > j and toks[m].lower in ("of", "the") and m + 1 < len(toks)
            and (toks[m + 1].text[:1].isupper() or toks[m + 1].lower == "the")):
        has_of = has_of or toks[m].lower == "of"
        m += 1
    return m if has_of and m - j >= 4 and toks[m - 1].lower not in ("of", "the") else j


def _participle_before_noun(toks: Sequence[_Tok], j: int, nouns: NounLexicon) -> bool:
    """"469 surrendered Myanmar military soldiers": the verb form is an adjective of the people noun after it."""
    if not toks[j].lower.endswith("ed"):
        return False
    for k in range(j + 1, min(len(toks), j + 5)):
        if toks[k].kind != "word" or toks[k].lower in _STOP:
            return False
        if nouns.get(toks[k].lower) == "people":
            return True
    return False


def _noun_phrase(toks: Sequence[_Tok], j: int, nouns: NounLexicon) -> Optional[tuple[int, str]]:
    """Find the head noun after a number: up to four modifiers, then a known noun.

    Returns (index of head, category) or None when no lexicon noun heads the phrase.
    """
    of_the = False
    if j < len(toks) and toks[j].lower in ("of",) and j + 1 < len(toks):
        nxt = toks[j + 1].lower
        if nxt in ("them", "those", "whom", "us"):
            return j + 1, "people"
        if nxt in ("the", "his", "their", "its", "our", "these"):  # "three of these forcibly recruited young men"
            of_the = True
            j += 2  # "40 of the soldiers", "200 of his troops"
            if j + 1 < len(toks) and (toks[j].kind == "num" or toks[j].lower in _UNITS or toks[j].lower in _TENS):
                j += 1  # "nine of the 14 former conscripts": nine
    if j < len(toks) and toks[j].text in ("-",) and j + 1 < len(toks) and toks[j + 1].lower in ("odd", "plus"):
        j += 2  # "30-odd soldiers"
    if j < len(toks) and toks[j].lower in _BARE_SUBJECT and not _participle_before_noun(toks, j, nouns):
        return j - 1, "bare"
    named = j + (j < len(toks) and toks[j].lower in ("suspected", "alleged", "former"))
    name_end = named
    while name_end < len(toks) and name_end - named < 3 and toks[name_end].kind == "word" \
            and toks[name_end].text[:1].isupper():
        name_end += 1
    verb = name_end + 1 + (name_end + 1 < len(toks) and toks[name_end + 1].lower.endswith("ly"))  # "have willingly"
    if name_end > named and name_end < len(toks) and toks[name_end].lower in ("have", "had", "has") \
            and verb < len(toks) and toks[verb].lower in _BARE_SUBJECT:
        return j - 1, "bare"  # "146 suspected Boko Haram have surrendered": a group's name for its members
    if j + 1 < len(toks) and toks[j].lower == "who" and (toks[j + 1].lower in _BARE_SUBJECT or toks[j + 1].lower in (
            "left", "joined", "crossed")):
        return j - 1, "bare"  # "adding to the 14,000 who defected", "adding to about 15,000 who left"
    if j + 1 < len(toks) and toks[j].lower == "others" and toks[j + 1].lower in _BARE_SUBJECT:
        return j, "bare"  # "The five others surrendered to the battalion": more of the people just told of
    if j + 1 < len(toks) and toks[j].lower == "in" and (toks[j + 1].lower in ("total", "all") or (
            j + 2 < len(toks) and toks[j + 1].lower in ("their", "our", "the") and toks[j + 2].lower == "group")):
        return j - 1, "bare"  # "there are now more than 50 in their group", "17 in total"
    if j + 3 < len(toks) and toks[j].text == "." and toks[j + 1].kind == "num" and toks[j].end == toks[j + 1].start \
            and toks[j + 2].text == "-" and toks[j + 3].lower in _GAUGES:
        j += 1  # "two .22-calibre rifles": the calibre's leading point
    if j + 1 < len(toks) and toks[j].kind == "num" and toks[j + 1].lower in _CALIBRE_UNITS:
        j += 2  # a calibre: "one 9mm pistol", "two 60 mm mortars"
    elif j + 2 < len(toks) and toks[j].kind == "num" and toks[j + 1].text == "-" and toks[j + 2].lower in _GAUGES:
        j += 3  # "a 12-bore shotgun", "a .22-calibre rifle"
    while j + 3 < len(toks) and toks[j].lower in _LIST_ADJECTIVES and toks[j + 1].lower in _CLASSIFIERS:
        j += 1  # "24 various types of weapons"
    if j + 2 < len(toks) and (toks[j].lower in _CLASSIFIERS or toks[j].lower in ("numbers", "number", "nos")
                              and j > 0 and (toks[j - 1].kind == "num" or toks[j - 1].lower in _UNITS or toks[j - 1].lower in _TENS)) \
            and toks[j + 1].lower == "of":
        # ("3 numbers of MA-1 rifles": Burmese English counts firearms by "number" too, after a numeral)
        # "one hand of MA-3", "24 pieces of arms": a classifier, then what is counted
        k = j + 2 + (toks[j + 2].lower in ("the", "their", "his", "its") and j + 3 < len(toks))
        if k + 2 < len(toks) and toks[k].kind == "num" and toks[k + 1].lower == "mm":
            k += 2  # "one hand of 9mm pistol"
        elif k + 3 < len(toks) and toks[k].text == "." and toks[k + 1].kind == "num" and toks[k + 2].lower in _GAUGES:
            k += 3  # "two hands of .22 calibre rifles"
        elif k + 4 < len(toks) and toks[k].text == "." and toks[k + 1].kind == "num" and toks[k + 2].text == "-" \
                and toks[k + 3].lower in _GAUGES:
            k += 4  # "two hands of .22-calibre rifles"
        if k + 2 < len(toks) and toks[k].lower in ("locally", "home", "country", "self", "hand") and (
                toks[k + 1].lower == "made" or toks[k + 1].text == "-" and toks[k + 2].lower == "made"):
            k += 2 + (toks[k + 1].text == "-")  # "six hands of locally made rifles"
        if k + 1 < len(toks) and toks[k].kind == "word" and nouns.get(toks[k].lower) is None \
                and nouns.get(toks[k + 1].lower) == "weapons":
            k += 1  # "150 various types of fire arms", "24 pieces of assorted firearms"
        if _is_model(toks[k]) or nouns.get(toks[k].lower) == "weapons":
            return k, "weapons"
        if toks[j].lower in ("hand", "hands") and toks[k].kind == "word" and toks[k].text.istitle() \
                and nouns.get(toks[k].lower) is None:
            return k, "weapons"  # "one hand of Sten": the classifier "hand" counts firearms, named by make
    head: Optional[tuple[int, str]] = None
    k, budget = _long_name_end(toks, j) - 1, 6
    while budget > 0 and k + 1 < len(toks):
        k += 1
        tok = toks[k]
        if tok.text == "(" and k > j:
            close = next((m for m in range(k + 1, min(k + 7, len(toks))) if toks[m].text == ")"), None)
            if close is not None and close > k + 1 and all(t.kind == "word" and t.text[0].isupper() for t in toks[k + 1:close]):
                # "five Chinland Defence Force (CDF) members", "forty KIA (Kachin Independence Army) troops":
                # a name or acronym in brackets is part of the phrase
                k = close
                continue
        budget -= 1
        if tok.kind == "num" and k == j and k + 1 < len(toks) and toks[k + 1].lower in _CALIBRED_ARMS:
            continue  # "three 357 revolvers": the calibre between the count and its firearm
        if tok.kind == "num" and k + 1 < len(toks) and toks[k + 1].start == tok.end \
                and _CARTRIDGE.fullmatch(toks[k + 1].text):
            k += 1  # "one Austria-made 9X19 pistol": a cartridge's size among the modifiers
            continue
        if tok.kind == "num" and k > j and k + 1 < len(toks) and toks[k + 1].lower in _CALIBRE_UNITS:
            k += 1  # "one KG9 semi-auto 9mm pistol": a calibre among the modifiers
            continue
        if tok.lower == "point" and k == j and k + 2 < len(toks) and toks[k + 1].kind == "num" \
                and nouns.get(toks[k + 2].lower) == "weapons":
            k += 1  # "one point 22 Rifle": a .22 rifle, its calibre spelt out
            continue
        if tok.kind == "num" and _DECIMAL_CALIBRE.fullmatch(tok.text) and any(
                nouns.get(t.lower) == "weapons" or _is_model(t) for t in toks[k + 1:k + 3]):
            continue  # "4 Galil 5.56 rifles", "a 5.56 M4 rifle": a calibre written bare
        if tok.kind == "num" and k > j and k + 2 < len(toks) and toks[k + 1].text == "-" \
                and toks[k + 2].lower in _CALIBRE_UNITS:
            k += 2  # "a bolt action 7.62-millimeter sniper rifle"
            continue
        if tok.text == "." and k + 2 < len(toks) and toks[k + 1].kind == "num" \
                and toks[k + 2].lower in _CALIBRE_UNITS:
            k += 2  # "two bolt-action .50 caliber sniper rifles", "a Springfield .30 caliber rifle": a calibre inside
            continue
        if tok.text == "." and k + 2 < len(toks) and toks[k + 1].kind == "num" and tok.end == toks[k + 1].start \
                and "." not in toks[k + 1].text and nouns.get(toks[k + 2].lower) == "weapons":
            k += 1  # "seven .32 pistols": the calibre, then the firearm
            continue
        if tok.lower in ("and", "&") and head is not None and head[1] == "force" and any(
                nouns.get(t.lower) == "people" for t in toks[k + 1:k + 6]):
            continue  # "64 military and police personnel", "100 regime and pro-junta militia troops": one phrase
        if tok.lower == "and" and k > j and toks[k - 1].text[:1].isupper() and k + 1 < len(toks) \
                and toks[k + 1].text[:1].isupper() and toks[k + 1].kind == "word" and any(
                    nouns.get(t.lower) == "people" for t in toks[k + 2:k + 4]):
            continue  # "over 100 Boko Haram and ISWAP members": two named groups, one count
        if tok.lower == "and" and k > j and toks[k - 1].text[:1].isupper() and k + 1 < len(toks) \
                and toks[k + 1].text[:1].isupper():
            m = k + 1  # "Seventy two Boko Haram and Islamic State West Africa Province (ISWAP) terrorists": a long name
            while m < len(toks) and m - k <= 9 and (toks[m].text[:1].isupper() or toks[m].text in ("(", ")")):
                m += 1
            if m < len(toks) and nouns.get(toks[m].lower) == "people":
                k, budget = m - 1, budget + 1
                continue
        if tok.kind == "num" and k > j and toks[k - 1].lower in _UNIT_NAMES and k + 1 < len(toks) \
                and nouns.get(toks[k + 1].lower) == "people":
            continue  # "41 Light Infantry Brigade 143 troops": the unit's number inside the phrase
        if tok.kind != "word" or tok.lower in _STOP or (k > j and (tok.lower in _UNITS or tok.lower in _TENS)):
            break  # a second number starts a count of its own: "the four brought two pistols"
        if head is None and k > j and tok.lower.endswith("ing") and nouns.get(tok.lower) is None \
                and tok.lower not in _ING_MODIFIERS:
            break  # "three networks representing former soldiers": a verb after an unknown noun ("40 serving soldiers" is fine)
        if nouns.get(tok.lower) is None and _is_model(tok):
            head = (k, "weapons")  # "two MA-2", "three MA-1 rifles" (keep going to the noun)
            continue
        if tok.lower.endswith(("-year-old", "-year-olds")) or tok.lower in ("year-old", "year-olds"):
            return None
        if tok.lower == "general" and k + 1 < len(toks) and toks[k + 1].lower == "purpose":
            continue  # "one General Purpose Machine Gun (GPMG)": no general
        category = nouns.get(tok.lower) or nouns.get(tok.lower.split("-")[-1])
        if category is None and head is None and tok.lower in _GROUP_HEADS:
            return None  # "644 militants of 8 outfits lay down arms": organisations, not what they laid down
        if category is None and tok.lower == "barrel" and k > j and toks[k - 1].lower in ("single", "double") \
                and not any(nouns.get(t.lower) == "weapons" for t in toks[k + 1:k + 3]):
            category = "weapons"  # "one single barrel": a shotgun, named by its barrel
        if category == "weapons" and tok.text == "Rifles" and k > j and toks[k - 1].lower in _RIFLE_REGIMENTS:
            return None  # "43 Assam Rifles", "18 Garhwal Rifles": a regiment, numbered
        if category == "weapons" and tok.lower in ("gun", "guns") and k > 0 and toks[k - 1].lower in _NO_FIREARM_GUNS:
            category = "other"  # "a stun gun", "two toy guns": no firearms
        if category and tok.lower in ("fighter", "fighters") and k > 0 and toks[k - 1].lower == "fire":
            category = "other"  # "1 fire fighter": a firefighter, no fighter
        if category is None and tok.lower == "forces" and head is not None and head[1] == "force" \
                and toks[k - 1].lower in ("junta", "regime", "tatmadaw"):
            category = "people"  # "another 32 junta forces also surrendered": troops, counted
        if category == "people" and k + 1 < len(toks) and toks[k + 1].lower in _GROUP_HEADS:
            return None  # "five banned insurgent outfits", "two militant groups": organisations, not people
        if category == "people" and k + 2 < len(toks) and toks[k + 1].lower == "and" \
                and toks[k + 2].lower in ("men", "soldiers", "troops"):
            k += 2  # "over 4,000 officers and men": one body of people
        if category is not None:
            head = (k, category)
            # "police officers": keep going while the next word is also a lexicon noun
            if k + 1 < len(toks) and toks[k + 1].kind == "word" and (
                    nouns.get(toks[k + 1].lower) or toks[k + 1].lower in _TITLES and not toks[k + 1].text[0].isupper()
                    or toks[k + 1].lower == "lance"):
                continue  # also "police lance corporal", "army captain"
            if tok.lower in ("police", "militia") and k + 2 < len(toks) and toks[k + 1].kind == "word" \
                    and toks[k + 1].text.islower() and nouns.get(toks[k + 2].lower) == "people":
                k += 1  # "a police intelligence officer", "two police traffic officers": the officer is the noun
                continue
            if category not in ("force", "other"):
                break
        elif tok.lower == "lance" and head is not None:
            continue
        elif head is not None and head[1] == "weapons" and _is_model(toks[head[0]]) and any(
                nouns.get(t.lower) == "weapons" for t in toks[k:k + 4] if t.kind == "word"):
            continue  # "one KG9 semi-auto 9mm pistol": the model, its make-up, then the firearm
        elif head is not None and head[1] == "weapons" and k == head[0] + 1 and _is_model(toks[head[0]]) and any(
                nouns.get(t.lower) == "people" for t in toks[k:k + 3] if t.kind == "word") and not any(
                nouns.get(t.lower.removesuffix("’s").removesuffix("'s")) == "vehicles" for t in toks[k:k + 3]):
            continue  # "87 M23 rebel fighters": a group named like a model, then its people (not "the Mi-8 helicopter's crew")
        elif head is not None and (head[1] != "force" or tok.lower.endswith("ing")):
            # a verb after "soldiers" ends the phrase; "military council soldiers" does not, but
            # "five groups representing military defectors" counts groups, and "army deserting soldiers" is odd
            break
    if head is None and of_the:
        force = next((m for m in range(j + 1, min(j + 4, len(toks))) if toks[m].lower in ("force", "forces")
                      and toks[m - 1].text[:1].isupper()), None)
        if force is not None:
            return force, "people"  # "around 10,000 of the SPLA force who have defected": members of it
    if head is None:
        return None
    k, category = head
    if of_the and category == "force" and toks[k].lower in ("force", "forces", "army", "military", "police"):
        return k, "people"  # "around 10,000 of the SPLA force who have defected": members of it
    if category == "weapons" and _is_model(toks[k]) and any(
            nouns.get(t.lower) == "ammunition" for t in toks[k + 1:k + 3] if t.kind == "word"):
        return k, "ammunition"  # "16 AK 47 loaded magazines": what is counted is the magazines
    if category == "weapons" and _is_model(toks[k]) and any(
            nouns.get(t.lower) == "vehicles" for t in toks[k + 1:k + 3] if t.kind == "word"):
        return None  # "his MiG-21 jet", "his Mi8 combat helicopter": a model of aircraft, not a firearm
    if category == "weapons" and toks[k].lower in ("weapons", "weapon", "arms", "firearms") and (
            k > j and toks[k - 1].lower in _NOT_FIREARM_KINDS and toks[k].lower != "firearms"
            or k + 2 < len(toks) and toks[k + 1].lower == "and" and toks[k + 2].lower in _EXPLOSIVES):
        return k, "other_arms"  # "575 local weapons" (blades), "32 assorted firearms and explosives": no firearm count
    if k + 1 < len(toks) and toks[k + 1].text in ("'", "’") and k + 2 < len(toks) and toks[k + 2].lower == "worth":
        return None  # "two machine guns' worth of ammunition"
    if toks[k].lower == "members" and k > 0 and toks[k - 1].lower in ("family", "families", "household"):
        return k, "relatives"
    if toks[k].lower == "members" and not any(nouns.get(t.lower) == "force" for t in toks[j:k]):
        # "506 members of PDF groups", "40 PDF members": members of an armed group count too
        window = re.findall(r"[a-z]+", " ".join(t.lower for t in toks[j:k] + toks[k + 1:k + 10]))
        # ("About 70 members handed over their weapons": armed men, whatever their group)
        if ARMED_GROUP_WORDS.isdisjoint(window) and not _HANDED_ARMS.search(" ".join(window)) and not any(
                    t.text.isupper() and 2 <= len(t.text) <= 6 and t.lower not in _PARTY_ACRONYMS
                    for t in toks[j:k] + toks[k + 1:k + 8]):  # "23 members of the KKO", "100 ISWAP members": an acronym
            return None
    return head


# words that make "members" members of an armed force or group ("40 PDF members", "members of the banned militant
# outfit"); also read by the rules' test for members of a force
ARMED_GROUP_WORDS = frozenset(
    "force forces army military police navy battalion battalions unit units tatmadaw pdf pdfs ldf ldfs militia militias "
    "armed guerrilla guerrillas insurgent insurgents resistance rebel rebels guard guards gendarmerie fighters boko "
    "taliban qaeda shabaab shabab sayyaf isis farc militant militants outfit outfits liberation front separatist "
    "separatists insurgency islamiya islamiyah dawlah dawla maute bangsamoro daesh isil hizbul lashkar jaish mujahideen "
    "legion terrorist terrorists division brigade brigades regiment regiments corps maoist maoists naxal naxalite".split())
_HANDED_ARMS = re.compile(r"\b(?:handed|turned|laid|gave|surrendered)\s+(?:over\s+|in\s+|down\s+|up\s+)?(?:their|his|its)\s+"
                          r"(?:weapons|arms|firearms|rifles|guns)\b")
_GROUP_NOUNS = frozenset("group groups team teams unit units squad squads platoon platoons column columns band "
                         "bands cell cells gang gangs force".split())


_SIZED_WORDS = ("member", "strong", "man")  # "an 18-member group", "a 300-strong force", "a 10-man group"
_SIZED = tuple("-" + w for w in _SIZED_WORDS)
_SERVING = frozenset("serving fighting enlisted recruited".split())


def _serving_nationals(toks: Sequence[_Tok], j: int, nouns: NounLexicon) -> bool:
    """A capitalised plural (a nationality) whose next words tell of service in a force."""
    if j >= len(toks) or toks[j].kind != "word" or not toks[j].text[:1].isupper() or not toks[j].lower.endswith("s") \
            or toks[j].lower in nouns:
        return False
    words = [t.lower for t in toks[j + 1:j + 12]]
    serving = next((n for n, w in enumerate(words[:6]) if w in _SERVING), None)
    return serving is not None and any(nouns.get(w) == "force" or w in ("army", "military", "forces")
                                       for w in words[serving + 1:serving + 6])


def _sized_group(toks: Sequence[_Tok], i: int, j: int) -> Optional[int]:
    """"an 18-member armed group", "a nine-member team", "a 10-man Taliban group": the group's size counts its people
    (index of its noun)."""
    if toks[i].kind == "word" and toks[i].lower.endswith(_SIZED):
        after = i + 1  # "nine-member" is one token
    elif j + 1 < len(toks) and toks[j].text == "-" and toks[j + 1].lower in _SIZED_WORDS:
        after = j + 2  # "18-member" is three
    else:
        return None
    for k in range(after, min(after + 5, len(toks))):  # "a 21-member Pyu Saw Htee militia unit"
        if toks[k].lower in _GROUP_NOUNS:
            return k
        if toks[k].kind != "word" or toks[k].lower in _STOP or k >= after + 3 and not toks[k].text[0].isupper() \
                and toks[k].lower not in ARMED_GROUP_WORDS:
            return None
    return None


def _count_at(toks: Sequence[_Tok], i: int, text: str, nouns: NounLexicon) -> Optional[tuple[Quantity, int]]:
    parsed = _parse_at(toks, i)
    if parsed is None and toks[i].kind == "word" and toks[i].lower.endswith(_SIZED):
        size = _word_value(toks[i].lower.rsplit("-", 1)[0])  # "a nine-member team"
        parsed = (size, i + 1) if size else None
    if parsed is None:
        return None
    value, j = parsed
    if value == 0:
        return None  # "0 soldiers" counts nobody ("2 000" is one number, not "2" and "000")
    if j + 1 < len(toks) and toks[j].lower in _CALIBRE_UNITS:
        k = j + 1
        while k < len(toks) and toks[k].text == ".":
            k += 1
        if k < len(toks) and toks[k].kind == "num":
            j = k + 1  # "one caliber .45 pistol": the calibre sits between the count and its firearm
    if _is_label_number(toks, i, j, text):
        return None
    qualifier, q_start = _qualifier_before(toks, i)
    if i > 1 and toks[i - 2].lower == "aged":
        return None  # "aged between 19 and 24"
    if i > 2 and toks[i - 1].lower in ("and", "to", "-", "or", "–") and toks[i - 2].kind == "num" \
            and "aged" in (t.lower for t in toks[max(0, i - 5):i - 2]):
        return None  # the upper end of an age range
    # ranges: "between 30 and 40", "30 to 40", "30-40", "30 or 40"
    if j + 1 < len(toks) and toks[j].lower in ("and", "to", "-", "or", "–"):
        upper = _parse_at(toks, j + 1)
        between = q_start > 0 and toks[q_start - 1].lower == "between" or (i > 0 and toks[i - 1].lower == "between")
        if upper is not None and (between or toks[j].lower != "and") and upper[0] > value:
            if i > 1 and toks[i - 2].lower == "aged":
                return None
            head = _noun_phrase(toks, upper[1], nouns)
            if head is None:
                return None
            start = toks[i - 1].start if between else toks[q_start].start
            k, category = head
            # ("The military, which analysts estimate at between 130,000 and 150,000 personnel": its strength)
            size = category in ("people", "bare") and bool(_SIZE_BEFORE.search(text[max(0, start - 100):start]))
            casualty = bool(_CASUALTY.match(text[toks[k].end:toks[k].end + 60]))  # "four to five were arrested"
            return Quantity(value, "range", category, toks[k].lower, start, toks[k].end, False, casualty, size), k + 1
    if value > 1 and j + 1 < len(toks) and toks[j].lower == "of" and toks[j + 1].lower == "us":
        # "Four of us ran", "the three of us are with a PDF battalion": the teller's group, counted
        return Quantity(value, qualifier, "people", "us", toks[q_start].start, toks[j + 1].end, False, False), j + 2
    if value > 1 and j + 2 < len(toks) and toks[j].lower == "of" and toks[j + 1].lower in ("their", "his", "its", "our"):
        k = j + 2
        if toks[k].text in ("[", "(") :  # "2 of their [LIB No. 32] soldiers": an editor's note inside the phrase
            k = next((m + 1 for m in range(k + 1, min(k + 8, len(toks))) if toks[m].text in ("]", ")")), k)
        head = _noun_phrase(toks, k, nouns) if k < len(toks) else None
        if head is not None and head[1] == "people" and head[0] <= k + 2 and toks[k].lower not in ("family", "families"):
            # "two of their soldiers defected": the ones counted, out of a unit whose size is not given
            casualty = q_start > 0 and toks[q_start - 1].lower in _CASUALTY_BEFORE \
                or bool(_CASUALTY.match(text[toks[head[0]].end:toks[head[0]].end + 60]))  # "killing two of his officers"
            return Quantity(value, qualifier, "people", toks[head[0]].lower, toks[q_start].start, toks[head[0]].end,
                            False, casualty), head[0] + 1
    if value == 1 and j < len(toks) and toks[j].lower == "of":
        return None  # "one of the soldiers" picks a person out, it does not count them
    if j < len(toks) and toks[j].lower == "other" and i > 1 and toks[i - 1].lower == "and" \
            and nouns.get(toks[i - 2].lower) == "people" and not toks[i - 2].lower.endswith("s") \
            and i > 2 and toks[i - 3].lower in ("its", "his", "their", "the", "a"):
        head = _noun_phrase(toks, j + 1, nouns)
        if head is not None and head[1] == "people":  # "its leader and five other NPA guerrillas": six
            return Quantity(value + 1, qualifier, "people", toks[head[0]].lower, toks[i - 3].start, toks[head[0]].end,
                            False, False), head[0] + 1
    group = _sized_group(toks, i, j)
    if group is not None:
        return Quantity(value, qualifier, "people", toks[group].lower, toks[q_start].start, toks[group].end, False,
                        False), group + 1
    head = _noun_phrase(toks, j, nouns)
    if head is None and j + 1 < len(toks) and toks[j].lower == "more":
        head = _noun_phrase(toks, j + 1, nouns)  # "20 more soldiers deserted"
    if head is not None and head[0] == j and toks[j].lower in ("people", "persons", "individuals"):
        counted = _counted_by_total(text, toks, q_start, j, nouns)
        if counted:  # "the number of policemen who resigned ... has reached more than 600 people"
            return Quantity(value, qualifier, "people", counted, toks[q_start].start, toks[j].end, False, False,
                            total=True), j + 1
    if head is None:
        counted = _counted_by_total(text, toks, q_start, j, nouns)
        if counted:
            # "the number of defectors is estimated to be close to 100"
            return Quantity(value, qualifier, "people", counted, toks[q_start].start, toks[j - 1].end, False, False,
                            total=True), j
        more = j < len(toks) and toks[j].lower == "more"  # "Two more arrived the next day"
        if (more or q_start > 0 and toks[q_start - 1].lower in ("another", "further", "additional")) \
                and j + more < len(toks) and (toks[j + more].lower in ("have", "has", "had", "were", "also")
                                              or toks[j + more].lower.endswith("ed")):
            # "Another nine slipped out": more of the people the story is about
            return Quantity(value, qualifier, "people", "others", toks[q_start].start, toks[j - 1 + more].end,
                            False, False), j + more
        if _serving_nationals(toks, j, nouns):  # "Seven Nepalis serving in the Russian Army", "11 Kenyans who have
            # been serving in the Somali National Army": a nationality, then their service in a force
            return Quantity(value, qualifier, "people", toks[j].lower, toks[q_start].start, toks[j].end, False,
                            False), j + 1
        return None
    k, category = head
    if category != "people" and k + 2 < len(toks) and toks[k + 1].text in ("’", "'") \
            and nouns.get(toks[k + 2].lower) == "people":
        k, category = k + 2, "people"  # "fifty-one (51) armed groups’ combatants": the combatants
    if category == "force" and q_start > 1 and toks[q_start - 1].lower == "of" \
            and toks[q_start - 2].lower in ("group", "band", "contingent", "batch"):
        category = "people"  # "A group of 130 armed Taliban ... joined the peace process": its members
    if k + 1 < len(toks) and toks[k + 1].text in ("-",) and k + 2 < len(toks) and toks[k + 2].lower.startswith("old"):
        return None
    after = text[toks[k].end:toks[k].end + 60]
    casualty = bool(_CASUALTY.match(after) and not _LATER_ESCAPED.match(text, toks[k].end, toks[k].end + 200)
                    or category == "weapons" and _ARMS_LEFT_BEHIND.match(after)
                    or _FOILED_ATTEMPT.match(text, toks[k].end, toks[k].end + 200)
                    or _MIXED_HINT.search(text) and _WITH_CAPTURED.match(
        text, toks[k].end, toks[k].end + 200)) or (
        q_start > 0 and toks[q_start - 1].lower in _CASUALTY_BEFORE) or (
        q_start > 1 and toks[q_start - 1].lower in ("their", "his", "its", "the") and toks[q_start - 2].lower in _CASUALTY_BEFORE)
    # ("shot their two lance corporals": the ones shot)
    size = category in ("people", "bare") and toks[k].lower not in ("defectors", "deserters") \
        and not _A_BIG_FORCE_OF.search(text, max(0, toks[q_start].start - 40), toks[q_start].start) \
        and not _ACTORS_NUMBERED.search(text, max(0, toks[q_start].start - 160), toks[q_start].start) \
        and bool(_SIZE_BEFORE.search(text[max(0, toks[q_start].start - 100):toks[q_start].start])
                 # "which has been stationed at the camp near Thazi village, ... since March 2022 with about 60 troops"
                 or _STATIONED_WITH.search(text[max(0, toks[q_start].start - 200):toks[q_start].start])
                 or _SIZE_AFTER.match(after)
                 # "the navy, with an estimated 16,000 personnel": its strength
                 or q_start > 0 and toks[q_start - 1].lower == "with" and toks[q_start].lower in ("an", "estimated")) \
        and not _WHO_HAVE_DONE.match(after)  # "there are 41 personnel who have abandoned their uniforms"
    if j < len(toks) and toks[j].text == "-" and j + 1 < len(toks) and toks[j + 1].lower == "odd":
        qualifier = "about"
    if category == "weapons" and value in _CALIBRES and k == j and toks[k].lower in _CALIBRED_SINGULAR \
            and toks[q_start].kind == "num":
        value = 1  # "303 Rifle with 50 rounds": a .303 rifle (a count of 303 would be "303 rifles")
    if category == "people" and j < k and toks[j].lower == "fellow" and q_start > 0 \
            and toks[q_start - 1].lower in ("alongside", "with"):
        value += 1  # "Ko Aye, alongside 10 fellow defectors": the one named is one of them ("X and four fellow ..." is a list)
    elif category == "people" and q_start > 3 and toks[q_start - 1].lower == "with" \
            and toks[q_start - 2].lower in ("along", "together") and toks[q_start - 3].text == "," \
            and q_start - 3 <= 4 and all(t.kind == "word" and t.text[:1].isupper() for t in toks[:q_start - 3]):
        value += 1  # "Thang, along with 18 police personnel, escaped": the one named and the 18
    if category == "people" and not casualty and not size:
        more = _ELIDED_MORE.match(text, toks[k].end)
        if more is not None and parse_number(more.group(1)) is not None:
            value += parse_number(more.group(1))  # "Two policemen from Tonzang and one from Tamu joined": three
    return Quantity(value, qualifier, category, toks[k].lower, toks[q_start].start, toks[k].end, False, casualty,
                    size), k + 1

