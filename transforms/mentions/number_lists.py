"""Sums of listed parts, counts of one and list totals, on top of :mod:`~newswatch.transforms.mentions.numbers`.

- :func:`find_quantities`: every counted noun phrase of a sentence, with listed parts added
  up ("a colonel, two majors and 15 soldiers" is 18), subsets flagged ("including two
  mortars") and, on request, counts of one without a numeral ("a rifle", "Captain Aung Ko",
  "He defected");
- :func:`list_total`: one category's total across a mixed list ("one hand of MA-5, one box of
  ammunition, two hands of MA-3" is 3 weapons).

Import both from :mod:`~newswatch.transforms.mentions.numbers`, which re-exports them.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional, Sequence

from newswatch.transforms.mentions.numbers import (
    NounLexicon, Quantity, _CALIBRE_UNITS as _CALIBRE, _CALIBRED_ARMS, _HAS_NUMBER, _NO_FIREARM_GUNS, _NUMBER_WORDS,
    _WHO_HAVE_DONE, _MODEL, _PLURAL_TITLES, _TITLES, _Tok, _count_at, _is_model, _noun_phrase, _tokens, _word_value,
    parse_number)


_MAKES = frozenset("homemade home-made improvised locally-made country-made".split())


def _article_count(toks: Sequence[_Tok], i: int, nouns: NounLexicon, categories: frozenset[str]) -> Optional[tuple[Quantity, int]]:
    """"a captain", "an officer": a count of one, used only inside sums."""
    if toks[i].lower not in ("a", "an", "one", "another", "the"):
        return None
    if toks[i].lower == "the" and not (i + 1 < len(toks) and toks[i + 1].lower in _TITLES):
        return None  # "The captain and 11 soldiers under his command crossed over": a titled one, in a sum only
    j = i + 1
    if j + 2 < len(toks) and toks[j].lower in _MAKES and toks[j + 1].kind == "num" and "weapons" in categories:
        j += 1  # "a homemade 12-gauge pistol"
    while j + 1 < len(toks) and (toks[j].lower in _CALIBRE or toks[j].text == ".") and "weapons" in categories:
        j += 1  # "a .45 pistol", "a cal. 38 revolver": the calibre and its number
    if j > i + 1 and toks[j].kind == "num":
        j += 1
        if j + 1 < len(toks) and toks[j].text == "-" and (toks[j + 1].lower in _CALIBRE or toks[j + 1].lower == "gauge"):
            j += 2  # "a .357-caliber revolver", "a 12-gauge shotgun"
    if j + 2 < len(toks) and toks[j].kind == "num" and toks[j + 1].text == "-" and toks[j + 2].lower == "year-old":
        j += 3  # "a 15-year-old private": an age, then the person
    head = _noun_phrase(toks, j, nouns)
    if head is None and j > i + 2 and toks[i + 1].lower in _CALIBRE and toks[j - 1].kind == "num" \
            and "weapons" in categories:
        head = (j - 1, "weapons")  # "and one caliber .38 with ammunition": the gun named by its calibre alone
    if head is None or head[1] not in categories:
        return None
    k, category = head
    if toks[i].lower != "one" and category == "weapons" and not _singular(toks[k].lower) and not _is_model(toks[k]):
        return None  # "a military weapons factory", "an arms depot": a modifier, not one weapon
    # ("another police personnel", Burmese English for one more policeman, is one)
    if toks[i].lower != "one" and category == "people" and not _singular(toks[k].lower) \
            and not (toks[i].lower == "another" and toks[k].lower in ("personnel", "police", "staff")):
        return None  # "a few hundred soldiers", "a number of policemen": a vague group, not one person
    return Quantity(1, "exact", category, toks[k].lower, toks[i].start, toks[k].end, False, False), k + 1


def _titled_name(toks: Sequence[_Tok], i: int, end: int, nouns: NounLexicon, category: str) -> Optional[tuple[Quantity, int]]:
    """"Lt. Col. Zaw Htet" or "Captain Aung Ko": a named officer, one person in a sum."""
    j = i
    if toks[j].kind != "word" or nouns.get(toks[j].lower) != category or not toks[j].text[0].isupper():
        if toks[j].lower not in ("lt", "col", "capt", "maj", "gen", "sgt", "cpl", "brig", "pte"):
            return None
    while j < end and (toks[j].text == "." or toks[j].lower in ("lt", "col", "capt", "maj", "gen", "sgt", "cpl", "brig", "pte")
                       or nouns.get(toks[j].lower) == category and toks[j].text[0].isupper()):
        j += 1
    names = 0
    while j < end and toks[j].kind == "word" and toks[j].text[0].isupper():
        j += 1
        names += 1
    if names == 0 or names > 4 or j != end:
        return None
    return Quantity(1, "exact", category, toks[i].lower, toks[i].start, toks[j - 1].end, False, False), j


_SUBSET_TAIL = re.compile(r"(?:including|among them|among whom|of whom|such as|mostly|mainly|"
                         r"(?<!\bare )(?<!\bis )(?<!\bwere )(?<!\bwas )among)[\s,:]*$", re.I)  # "are among 16": the whole
_COUNT_WORD = r"(?:\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
_ELIDED_FIREARMS = re.compile(rf"(?<![\w.-])({_COUNT_WORD})\s+((?:[a-z]+-)?[a-z]+)\s+and\s+{_COUNT_WORD}\s+(?:[a-z]+-)?[a-z]+\s+"
                              r"(weapons|firearms|guns|rifles|arms)\b", re.I)
_AND_NEXT_PART = re.compile(r"[^.;:\d]{0,100}?(?:,\s*and|\s+and)\s+", re.I)
_WHICH_INCLUDED = re.compile(r"\b(?:which|that|who)\s+(?:included|includes|include)[\s,:]*$", re.I)
# "Among the defectors are one lieutenant colonel, ...": the whole list is part of a total
_SUBSET_CLAUSE = re.compile(r"\bamong\b[^,.;]{0,40}\b(?:are|were|is|was|included?|includes)[\s,:]*$", re.I)


def _subset_before(text: str, start: int, prev_end: int) -> bool:
    """A count right after "including"/"among them" is part of a total named before it."""
    return bool(_SUBSET_TAIL.search(text[max(0, start - 30):start])
                or _SUBSET_CLAUSE.search(text[max(prev_end, start - 60):start]))


_MODEL_THEN_COUNT = re.compile(r"\b((?:MA|BA|AK|MG|M|G|HK)-?\d{1,3}[A-Z]?|\d{1,2}\s?mm(?=\s+(?:rifles?|pistols?|guns?)\b))"
                               r"(?:\s+(?:rifles?|pistols?|guns?))?\s+"  # ("9mm pistol one hand": a calibre names it)
                               r"(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:hands?|nos?\b\.?)(?!\s+of\b)")
_NUMBERING = re.compile(r"\b([A-Za-z]+),\s*numbering\s+(about\s+|around\s+|some\s+|over\s+|nearly\s+)?(\d[\d,]*|[a-z]+)\s*,",
                        re.I)
# "1 Corporal and his 4 comrades": the one and his companions (five)
_AND_HIS = re.compile(r"\s*,?\s*and\s+(?:his|her|their)\s+", re.I)
_COMRADE_NOUNS = frozenset("comrades colleagues men soldiers troops subordinates shipmates crewmates".split())
# "deposited many sophisticated arms, including four AK rifles": the whole has no number, so the part is the count
_UNCOUNTED_WHOLE = re.compile(r"\b(?:many|several|numerous|various|assorted|dozens\s+of|hundreds\s+of|scores\s+of|"
                              r"a\s+(?:large\s+|huge\s+|big\s+)?(?:cache|haul|number|quantity|stockpile)\s+of)\s+"
                              r"(?:[^\W\d_][\w-]*\s+){0,3}?[^\W\d_][\w-]*\s*,?\s*including[\s,:]*$"
                              # "handed over the weapons, including one AK-47", "turned over weapons including a ..."
                              # "bringing with them their firearms, including a Garand rifle and a sniper rifle"
                              r"|\b(?:over|in|up|down|surrendered|deposited|with\s+them|with\s+him)\s+(?:the\s+|their\s+|his\s+|its\s+)?"
                              r"(?:weapons|arms|firearms|guns)\s*,?\s*including[\s,:]*$", re.I)
_BRACKETED_NOUN = re.compile(r"(\d[\d,]*\s*)\(([a-z]+)\)")
_AND_CHILDREN = re.compile(r"\s*(?:,\s*)?and\s+(?:\d[\d,]*\s+|[a-z]+\s+)?(?:their\s+)?(?:children|kids|minors)\b", re.I)
_AMONG_THE = re.compile(r"\bamong\s+(?:the|these|those)\s+$", re.I)
_BRACKETED = re.compile(r"\[\s*([^\[\]]*?\w)\s*\]")


def _calibre_number(toks: Sequence[_Tok], i: int, text: str) -> bool:
    """"a .45 pistol", "cal. 38": the number is a calibre, not a count."""
    tok = toks[i]
    return text[tok.start - 1:tok.start] == "." and not text[tok.start - 2:tok.start - 1].isdigit() or i > 0 and (
        toks[i - 1].lower in _CALIBRE or i > 1 and toks[i - 1].text == "." and toks[i - 2].lower in _CALIBRE
        # "three 357 revolvers": a count, then the calibre
        or toks[i - 1].lower in _NUMBER_WORDS and toks[i - 1].lower not in ("a", "an") and i + 1 < len(toks)
        and toks[i + 1].lower in _CALIBRED_ARMS)


def find_quantities(text: str, nouns: NounLexicon, sum_categories: Sequence[str] = ("people", "weapons"),
                    singles: bool = False) -> list[Quantity]:
    """Counted noun phrases in ``text`` with offsets, sums of listed parts already added up.

    "nine rifles and two pistols" -> one weapons Quantity of 11; "a captain and 11 soldiers"
    -> one people Quantity of 12; "58 weapons, including two mortars" -> 58 plus a subset 2.
    With ``singles``, "a rifle" and "Captain Aung Ko" also come back as counts of one
    (``single=True``).
    """
    if not singles and not _HAS_NUMBER.search(text):
        return []
    if "[" in text:  # "the 41 [troops] surrendered" reads the noun; "2 of their [LIB No. 32] soldiers" skips the unit
        text = _BRACKETED.sub(lambda m: " " * len(m.group()) if not nouns.get(m.group(1).split()[-1].lower())
                              else f" {m.group(1)} ", text).replace("[", " ").replace("]", " ")  # offsets unchanged
    if "“" in text:
        text = text.replace("“", " ").replace("”", " ")  # 'two “senior colonels” have defected'; offsets unchanged
    if '"' in text:
        text = text.replace('"', " ")  # 'Four "presumed members of the FARC," surrendered'; offsets unchanged
    if "/" in text:  # "seven GPRN/NSCN cadres", "10 Boko Haram/ISWAP terrorists": one name in two parts; offsets unchanged
        text = _NAME_SLASH.sub(" ", text)
    if "(" in text:  # translated statements bracket numbers: "(12) soldiers ... with (8) firearms"; offsets unchanged
        text = _BRACKETED_NUMBER.sub(lambda m: f" {m.group(1)} ", text)
        # "Exactly 32 (soldiers) joined the rebels": an editor's noun after the count
        text = _BRACKETED_NOUN.sub(lambda m: f"{m.group(1)} {m.group(2)} ", text)
    toks = _tokens(text)
    raw: list[tuple[Quantity, int, int]] = []  # quantity, first token index, next index
    if "numbering" in text:  # "The rebels, numbering about 78, handed over 38 weapons": the count set off by commas
        for m in _NUMBERING.finditer(text):
            value = parse_number(m.group(3))
            if value and nouns.get(m.group(1).lower()) == "people":
                qualifier = "about" if m.group(2) else "exact"
                first = next((k for k, t in enumerate(toks) if t.start >= m.start(1)), 0)
                nxt = next((k for k, t in enumerate(toks) if t.start >= m.end(3)), len(toks))
                raw.append((Quantity(value, qualifier, "people", m.group(1).lower(), m.start(1), m.end(3), False, False),
                            first, nxt))
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind != "num" and tok.lower.split("-")[0] not in _NUMBER_WORDS or tok.kind == "num" and _calibre_number(
                toks, i, text):
            i += 1
            continue
        found = _count_at(toks, i, text, nouns)
        if found is None:
            i += 1
            continue
        quantity, nxt = found
        raw.append((quantity, i, nxt))
        i = nxt
        if quantity.category == "weapons" and _is_model(toks[nxt - 1]):
            for start, end in _bare_models(toks, nxt, nouns):  # "two AK-56, Insas Rifle, 9mm pistol, ...": one each
                raw.append((Quantity(1, "exact", "weapons", toks[end - 1].lower, toks[start].start, toks[end - 1].end,
                                     False, False, single=True), start, end))
    counted_after = "hand" in text or " nos" in text
    if counted_after:  # "They brought along MA-1 3 hands and MA-3 1 hand": the model, then its count
        for m in _MODEL_THEN_COUNT.finditer(text):
            value = parse_number(m.group(2))
            first = next((k for k, t in enumerate(toks) if t.start >= m.start(1)), 0)
            if value and not any(f <= first < n for _q, f, n in raw):
                nxt = next((k for k, t in enumerate(toks) if t.start >= m.end()), len(toks))
                raw.append((Quantity(value, "exact", "weapons", m.group(1).lower(), m.start(1), m.end(), False, False),
                            first, nxt))
    elided = [m for m in _ELIDED_FIREARMS.finditer(text)] if " and " in text else []
    for m in elided:  # "16 high-powered and four low-powered weapons": the first count shares the second's noun
        value = parse_number(m.group(1))
        first = next((k for k, t in enumerate(toks) if t.start >= m.start(1)), 0)
        if value and not any(f <= first < n for _q, f, n in raw):
            nxt = next((k for k, t in enumerate(toks) if t.start >= m.end(2)), len(toks))
            raw.append((Quantity(value, "exact", "weapons", m.group(3).lower(), m.start(1), m.end(2), False, False),
                        first, nxt))
    if "numbering" in text or counted_after or elided:
        raw.sort(key=lambda r: r[0].start)
    raw = _add_article_parts(toks, raw, nouns, frozenset(sum_categories))
    out: list[Quantity] = []
    parts: list[list[int]] = []  # the summed parts of each entry of out
    heads: list[str] = []  # the text of each entry's first part
    prev_end = 0
    for quantity, _first, _nxt in raw:
        if quantity.noun in ("women", "woman") and _AND_CHILDREN.match(text, quantity.end):
            quantity = quantity._replace(category="relatives")  # "19 fighters, 19 women and 49 children": families
        if quantity.noun in ("them", "whom") and out and out[-1].category == "people" \
                and re.fullmatch(r"\s*,\s*", text[prev_end:quantity.start]):
            quantity = quantity._replace(subset=True)  # "Thirty Maoists, nine of them carrying bounties": part of the 30
        elif _subset_before(text, quantity.start, prev_end) and not _UNCOUNTED_WHOLE.search(
                text, max(prev_end, quantity.start - 70), quantity.start) or _NOT_THIS_COUNT.search(text, max(0, quantity.start - 20),
                                                                                       quantity.start):
            quantity = quantity._replace(subset=True)  # "11 soldiers (not 17, as first reported)": a corrected figure
        elif out and out[-1].category == quantity.category and not out[-1].single \
                and _WHICH_INCLUDED.search(text, max(prev_end, quantity.start - 30), quantity.start):
            # "A 30-member unit of the group, which included three pregnant women, surrendered": part of the 30 (but
            # "their weapons, which included two M16 rifles": no count before, so the two are the count)
            quantity = quantity._replace(subset=True)
        elif len(out) > 1 and out[-1].subset and out[-1].category == quantity.category == "people" \
                and _subset_before(text, out[-1].start, 0) and not out[-2].subset \
                and out[-2].category == "people" and out[-2].value > out[-1].value + quantity.value - 1 \
                and _AND_NEXT_PART.fullmatch(text, out[-1].end, quantity.start):
            # "At least 13 cadres of two outfits, including 8 cadres of the FGN/NNC and 5 cadres of the DHD-J,
            # surrendered": the second part of the total too
            quantity = quantity._replace(subset=True)
        elif out and out[-1].category == quantity.category == "people" and len(parts[-1]) == 1 \
                and re.fullmatch(r"\s*,\s*", text[prev_end:quantity.start]) \
                and _AMONG_THE.search(text, max(0, out[-1].start - 20), out[-1].start):
            # "Among the five young men, one recruit escaped": the group, then the one who went
            out[-1] = out[-1]._replace(size=True)
        elif out and quantity.category in sum_categories and out[-1].category == quantity.category \
                and quantity.qualifier != "range" and out[-1].qualifier != "range" \
                and quantity.noun not in ("them", "whom") \
                and not (out[-1].noun in ("people", "persons") and len(parts[-1]) == 1
                         and quantity.noun not in ("people", "persons") and "," in text[prev_end:quantity.start]
                         and _RELATIVES_WORD.search(text, quantity.end, min(len(text), quantity.end + 60))) \
                and (re.fullmatch(r"\s*(,\s*(and\s+)?|and\s+|as well as\s+)", text[prev_end:quantity.start], re.I)
                     # "38 rifles – mostly MA-1s, with a few AK-47s – and three pistols": an aside between dashes
                     # ("31 rifles, mostly MA-1 and MA-3 models, and three pistols": or commas)
                     or quantity.category == "weapons" and _DASHED_ASIDE.fullmatch(text[prev_end:quantity.start])
                     or quantity.noun in _COMRADE_NOUNS and _AND_HIS.fullmatch(text[prev_end:quantity.start])
                     # "Two more generals of the Syrian Army, 13 colonels, ... and 68 soldiers": 89
                     or quantity.category == "people" and _OF_THE_FORCE.fullmatch(text[prev_end:quantity.start])
                     # "3 captains (Nyi Thuta, Tun Myat Aung, Lin Htet Aung) and 1 navy lieutenant": their names aside
                     or quantity.category == "people" and _NAMES_ASIDE_THEN_AND.fullmatch(text[prev_end:quantity.start])
                     or quantity.category == "people" and _DESCRIBED_PAIR.fullmatch(text[prev_end:quantity.start])
                     and not _PAIR_VERB.search(text[prev_end:quantity.start])):
            # "two new recruits from the 591st Battalion and one soldier from the 556th": three
            if len(parts[-1]) == 1:
                parts[-1].append(-1 if "and" in text[prev_end:quantity.start].lower() else 0)  # separator kind
            parts[-1].append(quantity.value)
            head, comma_after_head, rest = parts[-1][0], parts[-1][1] == 0, parts[-1][2:]
            items = len(rest) + len(_LIST_JOINS.findall(text, quantity.start, quantity.end))
            # "12,327 members, 3,236 soldiers and 9,091 policemen", "four soldiers, a sergeant and three
            # privates": a total, then its breakdown
            # ("two hands of MA-1, one hand of MA-3 and one pistol" is a list: a model is never a total)
            # ("two single-barrel homemade guns, one MA-1 rifle, one pistol" is a list: only a generic noun heads a
            # breakdown of arms, "21 weapons: ...", or a bare "17 guns, 12 rifles and five pistols")
            value = head if comma_after_head and items >= 2 and head == sum(rest) \
                and not _MODEL_NAME.search(heads[-1]) and (
                    out[-1].category != "weapons" or out[-1].noun in ("weapons", "firearms", "arms")
                    or out[-1].noun == "guns" and len(heads[-1].split()) == 2) \
                else out[-1].value + quantity.value
            if comma_after_head and len(rest) == 1 and head == quantity.value and _IN_ALL.match(text, quantity.end) \
                    and len(_LIST_JOINS.findall(text, out[-1].start, out[-1].end)) >= 1:
                value = head  # "a sergeant and three privates, four soldiers in all": the list, then its total
            out[-1] = out[-1]._replace(value=value, end=quantity.end)
            if out[-1].size and _WHO_HAVE_DONE.match(text, quantity.end):
                out[-1] = out[-1]._replace(size=False)  # "there were 945 soldiers, 30 police and 64 militia who defected"
            prev_end = quantity.end
            continue
        out.append(quantity)
        parts.append([quantity.value])
        heads.append(text[quantity.start:quantity.end])
        prev_end = quantity.end
    out = _drop_mixed_totals(text, out)
    if "includ" in text or "compris" in text or "among them" in text:
        out = _named_group_totals(text, out, nouns)
    if "weapons" in sum_categories and ("–" in text or " - " in text):
        out = _inline_items(text, out, nouns)
    for k, q in enumerate(out):
        if k and q.category == "bare" and out[k - 1].category not in ("people", "bare") \
                and _PART_OF_THE.search(text[max(0, out[k - 1].start - 12):out[k - 1].start]) is not None \
                and re.fullmatch(r"[^,.;:]{0,50},\s*", text[out[k - 1].end:q.start]) is not None:
            # "Among the 307 firearms, 246 were handed over by the group": 246 of the firearms, not people
            out[k] = q._replace(category=out[k - 1].category, noun=out[k - 1].noun, subset=True)
    for k, q in enumerate(out):
        if k and q.category == "people" and _LED_BY.search(text, max(0, q.start - 12), q.start) \
                and out[k - 1].category == "people" and not (out[k - 1].subset or out[k - 1].single) \
                and q.start - out[k - 1].end <= 14:
            out[k] = q._replace(subset=True)  # "Some 308 MILF rebels led by four MILF commanders": the 308 (as "Led by X")
    for k, q in enumerate(out):
        along = _ALONG_WITH.search(text, max(0, q.start - 20), q.start) if q.category == "people" else None
        before = [j for j in range(k) if out[j].category == "people" and not (out[j].subset or out[j].single)]
        if along and before and not q.subset and (
                not _CLAUSE_VERB.search(text, out[before[-1]].end, along.start())
                # "the three Generals defected along with three officers": the act itself between them
                or _ONE_ACT.fullmatch(text, out[before[-1]].end, along.start())):
            # "Around 70 members of two militia groups, along with two soldiers, defected": 72
            j = before[-1]
            out[j] = out[j]._replace(value=out[j].value + q.value, end=q.end)
            out[k] = q._replace(subset=True)
    # "50 people comprising police and civilians", "16 Myanmar nationals, including some policemen": a mixed group
    out = [q._replace(subset=True) if q.category in ("people", "bare") and (
        _WITH_FAMILIES.match(text, q.end) or _FAMILIES_THEN_TOTAL.search(text, max(0, q.start - 40), q.start))
           else q for q in out]  # "surrenders exceeded 600, including troops and their family members", "42 soldiers and
    # their family members, 118 people in all": mixed totals
    out = [q._replace(subset=True) if q.category == "people" and q.noun in _ANYONE
           and (_WITH_CIVILIANS.match(text, q.end) or _WITH_SOME.match(text, q.end) or _MOSTLY_FAMILY.match(text, q.end)
                or _PARTLY_FORCE.match(text, q.end))
           else q for q in out]  # "196 people walked out, most of them the wives and children of soldiers"
    for k, q in enumerate(out):
        share = _SHARE_OF.search(text, max(0, q.start - 30), q.start) if q.category == "people" else None
        if share and not (q.subset or q.single):
            # "a quarter of 200 mobilized men ... fled": 50 of them (a share that leaves no whole number is no count)
            part = q.value * _SHARES[" ".join(share.group(1).lower().replace("-", " ").split())]
            out[k] = q._replace(value=int(part)) if part == int(part) and part > 0 else q._replace(subset=True)
    for k, q in enumerate(out):
        if k and q.category in ("people", "bare") and not q.subset and _PERIOD_ALONE.match(text, q.end) and any(
                o.category in ("people", "bare") and not (o.subset or o.single) and o.value > q.value for o in out[:k]):
            # "So far nine militants surrendered, he said, adding that five surrendered in October alone": part of the nine
            out[k] = q._replace(subset=True)
    for k, q in enumerate(out):
        if k and q.category == "people" and not q.subset and out[k - 1].category == "people" \
                and not out[k - 1].subset and q.value < out[k - 1].value \
                and _DASH_OPENS.fullmatch(text, out[k - 1].end, q.start):
            # "Three cadres of the outlawed Maoist group – two men and a woman – surrendered": the total's parts
            out[k] = q._replace(subset=True)
    for k, q in enumerate(out):
        if q.category == "people" and not q.subset and _BREAKDOWN_OPENS.match(text, q.end):
            # "No fewer than 51 of the insurgents, comprising two of their commanders, X and Y, and 49 fighters": the
            # parts that add up to the total are its breakdown, wherever the names between them put commas
            total, parts = 0, []
            for j in range(k + 1, len(out)):
                if out[j].category != "people" or out[j].single:
                    break
                total, parts = total + out[j].value, parts + [j]
                if total >= q.value:
                    break
            if len(parts) >= 2 and total == q.value:
                for j in parts:
                    out[j] = out[j]._replace(subset=True)
    for k, q in enumerate(out):
        later = _FOLLOWED_BY_MORE.match(text, q.end) if q.category == "people" and not (
            q.subset or q.single or q.casualty or q.size) and "followed by" in text else None
        if later and not any(o.start < later.end() and o.end > q.end and o.category == "people" for o in out):
            # "fourteen rebels deserted on the first day, followed by twenty-four others, then another sixteen": 54
            extra = [parse_number(n) for n in (later.group(1), later.group(2)) if n]
            if all(extra):
                out[k] = q._replace(value=q.value + sum(extra))
                continue
    for k, q in enumerate(out):
        if q.category == "people" and q.value == 1 and not (q.subset or q.single or q.casualty or q.size):
            more = _A_SECOND.search(text, q.end, min(len(text), q.end + 200))
            if more:  # "one soldier deserted with a 9mm pistol ...; a second walked out in June with an MA-1 rifle": 2
                out[k] = q._replace(value=1 + len(re.findall(r"\b(?:second|third|fourth)\b", more.group(0))))
                continue
        if q.category == "people" and not (q.subset or q.single) and (
                " other " in text[q.start:q.end] or " fellow " in text[q.start:q.end]) \
                and (_NAME_AND.search(text, max(0, q.start - 60), q.start) or _PRONOUN_AND.search(text, max(0, q.start - 12), q.start)):
            out[k] = q._replace(value=q.value + 1)  # "Aung Pyae and eight other former soldiers": nine (also "fellow", "he and")
        elif q.category == "people" and not (q.subset or q.single) and (
                _AND_HIS_UNIT.search(text, max(0, q.start - 80), q.start)
                or _AND_HIS_COUNT.search(text, max(0, q.start - 160), q.start)):
            out[k] = q._replace(value=q.value + 1)  # "a lieutenant and his platoon of 24 soldiers": 25; "and his 3 comrades"
        elif q.category == "people" and not (q.subset or q.single) and " other " in text[q.start:q.end] \
                and re.search(r"\bwith\s+$", text[max(0, q.start - 6):q.start]) \
                and not re.search(r"\b(?:they|we|them|us)\b", text[:q.start], re.I) \
                and not any(o.category == "people" and o.end <= q.start for o in out):
            out[k] = q._replace(value=q.value + 1)  # "Mohammad Joha escaped with two other men": three
    if singles:
        named = _named_pairs(text, _singles(text, toks, out, nouns, frozenset(sum_categories)))
        for k, q in enumerate(named):
            company = _WITH_HIS_MEN.match(text, q.end) or _TAKING_MEN_WITH_HIM.match(text, q.end) \
                if q.value == 1 and q.category == "people" else None
            extra = parse_number(company.group(1) or company.group(2)) if company else None
            if extra:  # "I left my battalion in March with two of my men": three
                named[k] = q._replace(value=1 + extra, single=False)
        for k, q in enumerate(named):
            if not (q.single and q.category == "people" and q.value == 1
                    and _ALONG_WITH.search(text, max(0, q.start - 20), q.start)):
                continue
            before = [j for j, o in enumerate(out) if o.category == "people" and not (o.subset or o.single or o.casualty
                                                                                       or o.size) and o.end <= q.start]
            if before:  # "some 50 soldiers had abandoned their posts along with Colonel Afif Suleiman": 51
                out[before[-1]] = out[before[-1]]._replace(value=out[before[-1]].value + 1)
                named[k] = q._replace(subset=True)
        out = sorted(out + named, key=lambda q: q.start)
        for k in range(1, len(out)):
            q, prev = out[k], out[k - 1]
            if prev.subset and not q.subset and q.category == prev.category == "people" \
                    and text[prev.end:q.start].strip() == ",":
                # "85 officers, including a general, a colonel, a lieutenant colonel, four majors ...": all parts
                out[k] = q._replace(subset=True)
    return out


def _named_pairs(text: str, singles: list[Quantity]) -> list[Quantity]:
    """"Captain Aung Ko and Captain Min Thu, who deserted": titled names in one list are a count of two,
    and so are "a lieutenant colonel and a soldier"."""
    out: list[Quantity] = []
    described = False  # the previous single is a named person whose description follows ("Captain Aung Ko, a defector")
    for q in singles:
        prev = out[-1] if out else None
        if prev is not None and q.category == prev.category == "people" and _A_OR_AN.match(text, q.start) \
                and (q.noun not in _TITLES or _CLOSED_APPOSITION.match(text, q.end)) and (
                    described and re.fullmatch(r"\s*(?:,\s*)?and\s+", text[prev.end:q.start])
                    or not described and prev.noun in _TITLES and re.fullmatch(r"\s*,\s*", text[prev.end:q.start])):
            # "Captain Lin Aung, a defector and a founding member of ...": one person, described
            out[-1] = prev._replace(end=q.end)
            described = True
            continue
        described = False
        if prev is not None and q.category == prev.category == "people" and prev.single \
                and text[prev.end:q.start].strip() == "," and (_A_OR_AN.match(text, q.start) or (
                    # "Another soldier, Private Aung Moe from the same battalion, joined": one man, named
                    q.single and q.noun in _TITLES and text[q.start:q.start + 1].isupper()
                    and _ANOTHER_ONE.match(text, prev.start))) \
                and not re.match(r"[^.;,]{0,60}?\band\b", text[q.end:]):
            # "A third soldier, a corporal from the same battalion, joined them": one man, described (a series goes
            # on with "and" before the next comma: "a captain, a sergeant and a private"); "Another defector, a
            # sergeant, reaches the PDF" is one more man, counted like "another soldier"
            out[-1] = prev._replace(end=q.end, single=prev.single and not _ANOTHER_ONE.match(text, prev.start))
            continue
        if prev is not None and q.category == prev.category == "people" \
                and not {q.noun, prev.noun} & _PRONOUNS and (q.noun in _TITLES or _A_OR_AN.match(text, q.start)
                                                             or _ANOTHER_ONE.match(text, q.start)) \
                and _PAIR_GAP.fullmatch(text, prev.end, q.start) and not (
                    # "Captain Htet Aung Lin, 34, a company commander in LIB 604, left": the named man, described
                    # (also "Private Min Khant Kyaw, 21, another conscript from the same battalion, slipped away")
                    (_A_OR_AN.match(text, q.start) or _ANOTHER_ONE.match(text, q.start) and q.noun not in _TITLES)
                    and not _A_OR_AN.match(text, prev.start)
                    and not re.search(r"\band\b", text[prev.end:q.start])
                    # "The pilot, Lieutenant Igor Petrov, 29, landed ...": the one named, told by his post first
                    or text[prev.start:prev.start + 4].lower() == "the " and q.noun in _TITLES
                    and text[prev.end:q.start].strip() == ","):
            # "Captain Aung Ko and Captain Min Thu", "a lieutenant colonel and a soldier", "Lance Corporal X, 31, and
            # Private Y, 23", "a riot policeman Min Thi Ha and another policeman": two
            out[-1] = prev._replace(value=prev.value + 1, end=q.end, single=False)
            continue
        if prev is not None and q.category == prev.category == "people" and prev.single and not prev.subset \
                and _A_OR_AN.match(text, prev.start) and _A_OR_AN.match(text, q.start) and _DESCRIBED_PAIR.fullmatch(text[prev.end:q.start]) \
                and not _PAIR_VERB.search(text[prev.end:q.start]):
            # "a recruit from a depot in Hpa-an, and a sergeant from a battalion in Tedim, have defected": two
            out[-1] = prev._replace(value=prev.value + 1, end=q.end, single=False)
            continue
        out.append(q)
    return out


# a firearm's model ("two MA-1 rifles, one AK-47 rifle and one M16" is a list, never a total and its breakdown)
_MODEL_NAME = re.compile(r"\b[A-Za-z]{1,3}-?\d")
_AND_HIS_UNIT = re.compile(r"\b(?:an?|the)\s+(?:[\w-]+\s+){0,3}?(?:lieutenant|captain|major|sergeant|corporal|commander|"
                           r"officer)\s+and\s+(?:his|her)\s+(?:platoon|company|unit|squad|section|column|crew|team|patrol|men|troops)\s+of\s+$", re.I)
# "A Sergeant from LIB 229 and his 3 comrades", "Sergeant Min Min, who served 16 years, and his 3 comrades": he and they
_AND_HIS_COUNT = re.compile(r"(?:\b[Aa]n?\s+(?:[\w-]+\s+){0,3}?(?i:sergeant|corporal|captain|lieutenant|major|private|officer|"
                            r"commander|soldier|policeman|colonel)|\b(?:Sergeant|Corporal|Captain|Lieutenant|Major|Private|"
                            r"Colonel|Lt|Capt|Sgt|Cpl|Pte|Maj)\.?\s+[A-Z][\w'’-]*)\b[^.;]{0,120}?\s+and\s+(?:his|her)\s+$")
_ONE_ACT = re.compile(r"(?:\s+of\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?[\w-]+)?"  # "Two leaders of the banned militant groups"
                      r"\s+(?:have\s+|has\s+|had\s+)?(?:defected|surrendered|deserted|fled|crossed\s+over|joined\s+(?:the\s+)?"
                      r"[\w-]+|arrived|escaped)\s*")
_A_SECOND = re.compile(r"(?:[;,]\s+(?:and\s+)?|\s+and\s+)(?:a|the)\s+second\s+(?:one\s+|man\s+|soldier\s+)?"
                       r"(?:[\w-]+\s+){0,2}?(?:walked|deserted|fled|left|escaped|defected|slipped|ran|crossed|surrendered)\b"
                       r"(?:[^.]*?[;,]\s+(?:and\s+)?(?:a|the)\s+third\s+(?:[\w-]+\s+){0,3}?(?:walked|deserted|fled|left|escaped|"
                       r"defected|slipped|ran|crossed|surrendered)\b)?", re.I)
_LED_BY = re.compile(r"\b(?:led|headed|commanded)\s+by\s+$", re.I)
_PRONOUN_AND = re.compile(r"(?:^|[^\w'’-])(?:he|she|I)\s+and\s+$")
_SHARES = {"a quarter": 0.25, "one quarter": 0.25, "a third": 1 / 3, "one third": 1 / 3, "half": 0.5, "one half": 0.5,
           "two thirds": 2 / 3, "three quarters": 0.75}
_SHARE_OF = re.compile(r"\b(a\s+quarter|one\s+quarter|a\s+third|one\s+third|half|one\s+half|two[\s-]thirds|three[\s-]quarters)"
                       r"\s+of\s+(?:the\s+|some\s+|about\s+)?$", re.I)
_NAME_SLASH = re.compile(r"(?<=[A-Za-z)])/(?=[A-Z])")
_PERIOD_ALONE = re.compile(r"[^.;,]{0,60}?\b(?:in|during|on|since|over|last)\s+(?:[\w-]+\s+){0,3}?[\w-]+\s+alone\b", re.I)
_FOLLOWED_BY_MORE = re.compile(r"[^.;:\d]{0,80}?,\s*followed\s+by\s+(\d[\d,]*|[a-z]+(?:-[a-z]+)?)\s+(?:others|more)\b"
                               r"(?:[^.;:\d]{0,40}?,?\s*(?:then|and)\s+(?:another|a\s+further)\s+(\d[\d,]*|[a-z]+(?:-[a-z]+)?)\b)?",
                               re.I)
_PAIR_GAP = re.compile(r"(?:\s+[A-Z][\w'’-]*){0,4}\s*(?:,\s*\d{1,2}\s*)?(?:\([^()]{1,15}\)\s*)?(?:,\s*(?:and\s+)?|and\s+)")
_ANOTHER_ONE = re.compile(r"(?:another|a\s+(?:second|third|fourth|fifth))\s", re.I)
_ALONG_WITH = re.compile(r",?\s*(?:along|together)\s+with\s+(?:their\s+|his\s+|her\s+)?$", re.I)
_CLAUSE_VERB = re.compile(r"\b(?:said|says|told|have|has|had|were|was|are|is|defected|surrendered|joined|fled|deserted|"
                          r"arrived|reached|crossed)\b", re.I)
_FAMILIES_THEN_TOTAL = re.compile(r"\band\s+(?:their|his)\s+famil(?:y|ies)(?:\s+members)?\s*,\s*(?:about\s+|some\s+)?$", re.I)
_WITH_FAMILIES = re.compile(r"\s*,?\s*including\s+[^\d.;]{0,40}?\band\s+(?:their|his)\s+famil", re.I)
_ANYONE = frozenset("people persons individuals nationals residents citizens".split())
_MOSTLY_FAMILY = re.compile(r"[^.;]{0,60}?\b(?:most|many|half|some)\s+of\s+(?:them|whom)\s+(?:\w+\s+){0,2}?(?:wives|famil|"
                            r"relatives|children|civilians|women)|[^.;,]{0,30},?\s*(?:mostly|mainly|largely|primarily|chiefly)\s+[^.;]{0,40}?\b(?:and|with)\s+"
                            r"their\s+famil", re.I)  # "100 people, mostly policemen and their families"
# "400 people from Myanmar, many of them policemen, crossed": how many were police is not told
_PARTLY_FORCE = re.compile(r"[^.;]{0,40}?,\s*(?:with\s+)?(?:many|most|some|several|a\s+number|half|three-quarters|two-thirds|"
                           r"a\s+third|a\s+quarter|the\s+majority)\s+of\s+(?:them|whom)\s+(?:\w+\s+){0,2}?"
                           r"(?:police\w*|soldiers|officers|troops|personnel|servicemen)\b", re.I)
_WITH_SOME = re.compile(r"\s*,?\s*including\s+(?:some|several|a\s+few|many|a\s+number\s+of)\b", re.I)
# a total, then what it is made of: "51 ..., comprising two commanders ... and 49 fighters"
_DASH_OPENS = re.compile(r"[^.;,()–—]{0,60}?\s[–—]\s*")
_BREAKDOWN_OPENS = re.compile(r"\s*,?\s*(?:comprising|including|consisting\s+of|made\s+up\s+of)\b", re.I)
_WITH_CIVILIANS = re.compile(_BREAKDOWN_OPENS.pattern + r"[^.;]{0,60}?\bcivilians\b", re.I)
_BRACKETED_NUMBER = re.compile(r"\((\d[\d,]*)\)")
# "Lieutenant Khun Zaw, a platoon commander at the base, defected": the description closes before the verb
_CLOSED_APPOSITION = re.compile(r"[^,;.()]{0,50},\s*(?:who\s+)?(?:[a-z]+ed|has|had|was|is|have)\b")
_NOT_THIS_COUNT = re.compile(r"\b(?:not|instead\s+of|rather\s+than)\s+(?:the\s+)?$", re.I)
_NAME_AND = re.compile(r"(?:^|[^\w'’-])[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,3}\s*(?:\([^()]{1,20}\)\s*|,\s*\d{1,2}\s*)?,?\s+and\s+$")
_MEN_NOUNS = (r"(?:men|comrades|colleagues|soldiers|subordinates|friends|constables|policemen|officers|"
              r"troops|bodyguards|followers|conscripts|recruits|trainees|fellow\s+\w+)\b")
_WITH_HIS_MEN = re.compile(r"(?:(?!\bsaid\b|\btold\b|\bsays\b)[^.;:]){0,140}?\bwith\s+(?:([\w-]+)\s+"
                           r"(?:(?:of\s+)?(?:my|his|her|their|our)\s+(?:own\s+)?|other\s+)"
                           # "with two of his men", "with his 14 men"
                           r"|(?:my|his|her|their|our)\s+(\d+|two|three|four|five|six|seven|eight|nine|ten)\s+)" + _MEN_NOUNS,
                           re.I)
# "the lieutenant colonel defected during an operation ..., taking 150 armed troops with him": he and they
# (also "has deserted to join a Tuareg rebellion, taking with him nearly 60 fighters")
_TAKING_MEN_WITH_HIM = re.compile(r"(?:(?!\bsaid\b|\btold\b|\bsays\b)[^.;:]){0,140}?\b(?:taking|bringing|took|brought)\s+"
                                  r"(?:([\w-]+)\s+(?:armed\s+|other\s+|of\s+his\s+)?(?:police\s+)?(?:men|soldiers|troops|officers|"
                                  r"policemen|fighters)(?:\s+and\s+[^.;:]{1,80}?)?\s+(?:along\s+)?with\s+(?:him|her)\b"
                                  r"|(?:along\s+)?with\s+(?:him|her)\s+(?:about\s+|nearly\s+|some\s+|around\s+|over\s+|more\s+than\s+)?"
                                  r"([\w-]+)\s+(?:armed\s+|other\s+|of\s+his\s+)?(?:police\s+)?(?:men|soldiers|troops|officers|"
                                  r"policemen|fighters)\b)", re.I)
# "12 other police officers", "... officers and a large quantity of weaponry with him"
_LIST_JOINS = re.compile(r",|\band\b", re.I)  # the joins inside one summed phrase ("a sergeant and three privates")
_IN_ALL = re.compile(r"\s*(?:in\s+all|in\s+total|altogether|all\s+told)\b", re.I)
_A_OR_AN = re.compile(r"an?\s", re.I)
_PRONOUNS = frozenset({"he", "she", "i"})
# an aside between dashes, or between commas with no figure in it
_DASHED_ASIDE = re.compile(r"\s*[–—]\s[^–—.;:]{1,60}?\s[–—]\s*,?\s*(?:and\s+)?"
                           r"|\s*,\s*(?:mostly|mainly|largely|chiefly)\s(?:[^,.;:\d]|(?<=[A-Za-z-])\d+){1,50}?,"
                           r"\s*(?:and\s+)?")
_DESCRIBED_PAIR = re.compile(r"\s+(?:from|of|in|at|with)\s(?:[^.;:()]|\(\d+\)|\((?-i:[A-Z])[\w-]{1,9}\)){0,90}?,?\s+and\s+",
                             re.I)  # also "battalion (540)", "the New People's Army (NPA)"
_PAIR_VERB = re.compile(r"\b(?:was|were|is|are|has|have|had|said|says|who|which|that|(?!based\b|stationed\b|deployed\b)[a-z]+ed)\b")


_GROUP_NAMED_THEN_PART = re.compile(r"\b(\d[\d,]*|[A-Za-z]+)\s+([A-Z][\w'’-]+)\s*,\s*(?:including|comprising|among\s+them)\s+")


def _named_group_totals(text: str, out: list[Quantity], nouns: NounLexicon) -> list[Quantity]:
    """"313 Ferraris, including 17 commanders of banned outfits": a group's own name for its members, told by the
    people it includes, is the count (the commanders are part of it)."""
    for m in _GROUP_NAMED_THEN_PART.finditer(text):
        value = parse_number(m.group(1))
        part = next((k for k, q in enumerate(out) if q.start == m.end() and q.category == "people"), None)
        if not value or value < 2 or part is None or out[part].value >= value or nouns.get(m.group(2).lower()) \
                or any(q.start <= m.start(1) < q.end for q in out):
            continue
        out[part] = out[part]._replace(subset=True)
        out.insert(part, Quantity(value, "exact", "people", m.group(2).lower(), m.start(1), m.end(2), False, False))
    return out


# "The arms they brought are MA-1 – 3, MA-2 – 1 and Sniper rifle – 1": a firearm, a spaced dash, then how many
_INLINE_ITEM = re.compile(r"(?<![\w-])((?:[A-Z]{1,3}-?\d{1,3}[A-Z]?)|(?:[A-Za-z]+\s+)?(?:rifles?|pistols?|guns?|carbines?))"
                          r"\s+[–—-]\s+\(?(\d{1,3})\)?(?=\s*(?:,|and\b|\.|;|$))")


def _inline_items(text: str, out: list[Quantity], nouns: NounLexicon) -> list[Quantity]:
    """Firearms listed inline as "MODEL – N" (one per item; the rank and weapon lines of statements, run together)."""
    found = []
    for m in _INLINE_ITEM.finditer(text):
        name = m.group(1)
        if not (_MODEL.fullmatch(name) or nouns.get(name.split()[-1].lower()) == "weapons") \
                or any(q.start < m.end() and m.start() < q.end for q in out):
            continue
        found.append(Quantity(int(m.group(2)), "exact", "weapons", name.lower(), m.start(), m.end(), False, False))
    return sorted(out + found, key=lambda q: q.start) if found else out


_NAMES_ASIDE_THEN_AND = re.compile(r"\s*\((?:[A-Z][\w'’.-]*\s*,?\s*(?:and\s+)?){1,16}\)\s*(?:,\s*(?:and\s+)?|and\s+)")
_PART_OF_THE = re.compile(r"\b(?:among|of)\s+(?:the|these|those)\s+$", re.I)
_WITH_RELATIVES = re.compile(r"\s*(?:and|plus|as well as)\s+(?:(?:their|his|its)\s+)?(?:famil(?:y|ies)|relatives|dependants|"
                             r"dependents|wives|spouses|civilians)\b", re.I)
_RELATIVES_WORD = re.compile(r"\b(?:famil(?:y|ies)|relatives|dependants|dependents|wives|spouses|children|civilians)\b", re.I)
_BREAKDOWN = re.compile(r"\s*(?:[-–—:(]|,\s*(?:of whom|including)?)\s*$")


def _drop_mixed_totals(text: str, out: list[Quantity]) -> list[Quantity]:
    """People counts that mix in relatives are not counts of defectors.

    "nearly 300 soldiers and their family members" gives no count; "261 people - 127 soldiers
    and 134 family members" gives 127, because the total is set aside as a subset.
    """
    for k, q in enumerate(out):
        if q.category != "people" or q.subset:
            continue
        if _WITH_RELATIVES.match(text, q.end):
            out[k] = q._replace(subset=True)
            continue
        nxt = out[k + 1:k + 3]
        if nxt and nxt[0].category == "people" and _BREAKDOWN.match(text[q.end:nxt[0].start]) \
                and any(n.category == "relatives" for n in nxt):
            out[k] = q._replace(subset=True)
        elif q.noun in ("people", "persons") and any(
                n.category == "people" and n.noun not in ("people", "persons") for n in nxt[:1]) \
                and _RELATIVES_WORD.search(text, q.end, min(len(text), nxt[0].end + 60)):
            out[k] = q._replace(subset=True)  # "69 people left, about 60 of them soldiers and the rest family members"
        elif k and out[k - 1].category == "relatives" and re.fullmatch(r"\s*[,–—-]\s*", text[out[k - 1].end:q.start]) \
                and (q.noun in ("people", "persons") or _IN_ALL.match(text, q.end)):
            out[k] = q._replace(subset=True)  # "11 soldiers and 17 family members, 28 people in all": the soldiers
    return out


_SINGULAR_DETERMINERS = {"the": "people", "his": "weapons", "her": "weapons", "my": "weapons"}
_NOT_SINGULAR = frozenset("police personnel staff crew people men women militia arms".split())


def _singular(noun: str) -> bool:
    # "policemen", "servicemen", "militiamen" are plural without an s
    return not noun.endswith(("s", "men")) and noun not in _NOT_SINGULAR




_HONORIFICS = frozenset("Ko Maung Daw Saw Sai Naw Nang Mahn Khun".split())
_NAME_MODIFIERS = frozenset("former ex retired defected deserted defector deserter army navy police force military junta "
                             "tatmadaw".split())  # "Former Major Hein Thaw", "Myanmar Army Major Hein Thaw Oo"


def _singles(text: str, toks: Sequence[_Tok], found: Sequence[Quantity], nouns: NounLexicon,
             categories: frozenset[str]) -> list[Quantity]:
    """"a soldier", "a rifle", "Captain Aung Ko": counts of one without a numeral, flagged ``single``."""
    taken = [(q.start, q.end) for q in found]
    # "Thawng Lian, 30, ...": the cheap test first
    aged = "people" in categories and _AGE_BETWEEN_COMMAS.search(text) is not None
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if any(s <= tok.start < e for s, e in taken):
            i += 1
            continue
        part = _article_count(toks, i, nouns, categories) if (tok.lower in ("a", "an", "another") or tok.lower == "one"
                                                              and i + 1 < len(toks) and toks[i + 1].lower in _CALIBRE) \
            and not (i and toks[i - 1].lower == "without") else None  # "defected without a weapon"
        if part is None and (tok.lower in ("he", "she") or tok.text == "I") and "people" in categories:
            part = (Quantity(1, "exact", "people", tok.lower, tok.start, tok.end, False, False), i + 1)
        if part is None and tok.lower in _SINGULAR_DETERMINERS and i + 1 < len(toks) \
                and not (i and toks[i - 1].lower == "without"):  # "defected without his service pistol"
            # "the corporal defected", "with his rifle": one person or one weapon named in the singular
            want = _SINGULAR_DETERMINERS[tok.lower]
            j = i + 1
            if want == "weapons" and j + 1 < len(toks) and toks[j].kind == "num" and toks[j + 1].lower in _CALIBRE:
                j += 2  # "his 9mm pistol": a calibre, not a count
            if want == "people" and j + 2 < len(toks) and toks[j].kind == "num" and toks[j + 1].text == "-" \
                    and toks[j + 2].lower == "year-old":
                j += 3  # "The 31-year-old officer deserted": an age, then the one person
            head = _noun_phrase(toks, j, nouns) if want in categories else None
            if head is not None and head[1] == want and head[0] <= j + 1 and _singular(toks[head[0]].lower):
                part = (Quantity(1, "exact", want, toks[head[0]].lower, tok.start, toks[head[0]].end, False, False),
                        head[0] + 1)
        if part is None and "people" in categories:
            part = _titled_single(toks, i, nouns)
            if part is not None and _names_whose_men(text, part[0]):
                part = None
        if part is None and aged:
            part = _named_with_age(toks, i, nouns)
        if part is None and i == 0 and "people" in categories and tok.text[:1].isupper():
            part = _headline_subject(toks, nouns) or _named_subject(toks, nouns)
        if part is None:
            i += 1
            continue
        quantity, nxt = part
        out.append(quantity._replace(single=quantity.value == 1, subset=_subset_before(text, quantity.start, 0) and not
                                     _UNCOUNTED_WHOLE.search(text, max(0, quantity.start - 70), quantity.start)))
        if quantity.category == "weapons" and (_is_model(toks[nxt - 1]) or quantity.value == 1 and nxt - 2 >= i
                                               and _is_model(toks[nxt - 2]) and toks[nxt - 1].lower in _CALIBRED_ARMS):
            for start, nxt in _bare_models(toks, nxt, nouns):  # "an M14, M16, M1 Garand, caliber .45 and ...": one each
                out.append(Quantity(1, "exact", "weapons", toks[start].lower, toks[start].start, toks[nxt - 1].end,
                                    False, False, single=True))
        i = nxt
    return out


_NO_FIREARM = frozenset("grenade launcher launchers mortar mortars rocket rockets".split())


def _bare_models(toks: Sequence[_Tok], j: int, nouns: NounLexicon) -> Iterator[tuple[int, int]]:
    """The (start, end) token spans of firearms listed bare after a first one, one each: ", M16", ", M1 Garand",
    ", caliber .45", ", Insas Rifle, 9mm pistol, Glock-19 with 7 rounds, SMG with 65 live round, ... and .22 pistol"."""
    while j + 1 < len(toks) and toks[j].text in (",", "and"):
        k = j + 1 + (toks[j].text == "," and toks[j + 1].lower == "and" and j + 2 < len(toks))  # ", and .22 pistol"
        if _is_model(toks[k]):
            if any(nouns.get(t.lower) == "weapons" and not _singular(t.lower) for t in toks[k + 1:k + 3]):
                return  # "14 MA-1 and MA-3 assault rifles": the count's own noun, shared by both models
            end = k + 1 + (k + 1 < len(toks) and toks[k + 1].kind == "word" and toks[k + 1].text.istitle()
                           and toks[k + 1].lower not in ("and", "with"))  # "M1 Garand"
        elif toks[k].lower in _CALIBRE and k + 2 < len(toks) and toks[k + 1].text == "." and toks[k + 2].kind == "num":
            end = k + 3  # "caliber .45"
        else:
            end = _bare_firearm(toks, k, nouns)
            if end is None:
                return
        if end < len(toks) and toks[end].lower in _CALIBRED_ARMS:
            end += 1  # "an M16 rifle, M1 Garand Rifle, Cal .30 and Cal .45 pistols": one firearm each
        elif end < len(toks) and toks[end].lower in _NO_FIREARM:
            return  # "an M16 rifle, M203 grenade launcher": a launcher is no firearm
        if end > k:
            yield k, end
        j = end if end > k else k + 2  # ("303 Rifle" is counted on its own)
        if j < len(toks) and toks[j].lower == "with":  # "Glock-19 with 7 rounds": its ammunition, then the list goes on
            j = next((m for m in range(j + 1, min(j + 6, len(toks))) if toks[m].text in (",", ";", ".")), j)


def _bare_firearm(toks: Sequence[_Tok], k: int, nouns: NounLexicon) -> Optional[int]:
    """The end of a firearm named without a count at toks[k] ("Insas Rifle", "9mm pistol", ".22 pistol", "SMG"); k itself
    for a two-word item that is no count here ("303 Rifle", counted on its own; "Air gun"); None when the list ends."""
    m = k
    if toks[m].kind == "num" and m + 1 < len(toks) and nouns.get(toks[m + 1].lower) == "weapons":
        return k if m + 2 >= len(toks) or toks[m + 2].text in (",", ".", ";") or toks[m + 2].lower in ("and", "with") \
            else None  # "303 Rifle": a count of its own
    if toks[m].kind == "num" and m + 1 < len(toks) and toks[m + 1].lower in _CALIBRE:
        m += 2  # "9mm pistol"
    elif toks[m].text == "." and m + 1 < len(toks) and toks[m + 1].kind == "num":
        m += 2  # ".22 pistol"
    elif toks[m].kind == "word" and toks[m].text[:1].isupper() and nouns.get(toks[m].lower) in (None, "weapons") \
            and m + 1 < len(toks) and nouns.get(toks[m + 1].lower) == "weapons":
        if toks[m].lower in _NO_FIREARM_GUNS:
            return k  # "Air gun": no firearm, but the list goes on
        m += 1  # "Insas Rifle"
    if m < len(toks) and nouns.get(toks[m].lower) == "weapons" and _singular(toks[m].lower) \
            and toks[m].lower not in ("arms", "weapons", "firearms"):
        return m + 1
    return None


def _names_whose_men(text: str, officer: Quantity) -> bool:
    """"617 soldiers under Colonel X's command", "500 fighters loyal to Gen X": the officer says whose men they were."""
    possessive = text[officer.end - 2:officer.end] in ("'s", "’s")  # the name's token keeps its "'s"
    return bool(_HIS_COMMAND.match(text, officer.end - 2 if possessive else officer.end)
                or _LOYAL_TO.search(text, max(0, officer.start - 12), officer.start))


_HIS_COMMAND = re.compile(r"['’]s?\s+(?:command|troops|men|soldiers|forces|battalion|unit|units|orders)\b")
_LOYAL_TO = re.compile(r"\b(?:loyal|allied)\s+to\s+$", re.I)
_AGE_BETWEEN_COMMAS = re.compile(r",\s*\d\d\s*,")


def _named_with_age(toks: Sequence[_Tok], i: int, nouns: NounLexicon) -> Optional[tuple[Quantity, int]]:
    """"Thawng Lian, 30, decided to leave the army": a name with an age between commas is one person."""
    if not toks[i].text[:1].isupper() or toks[i].kind != "word" or (
            i and toks[i - 1].kind == "word" and toks[i - 1].text[:1].isupper()):
        return None
    end = _name_end(toks, i, nouns)
    if not 0 < end - i <= 4 or end + 2 >= len(toks) or [t.text for t in (toks[end], toks[end + 2])] != [",", ","]:
        return None
    age = toks[end + 1]
    if age.kind != "num" or not age.text.isdigit() or not 15 <= int(age.text) <= 80:
        return None
    return Quantity(1, "exact", "people", "name", toks[i].start, toks[end + 1].end, False, False), end + 3


def _headline_subject(toks: Sequence[_Tok], nouns: NounLexicon) -> Optional[tuple[Quantity, int]]:
    """"Myanmar military officer defects to Thailand": a bare singular subject, headline style, is one."""
    head = _noun_phrase(toks, 0, nouns)
    if head is None or head[1] != "people" or head[0] > 3 or not _singular(toks[head[0]].lower):
        return None
    k = head[0]
    verb = toks[k + 1].lower if k + 1 < len(toks) else ""
    if not (verb.endswith("s") and verb not in _NOT_ACTS and toks[k + 1].kind == "word"):
        return None
    return Quantity(1, "exact", "people", toks[k].lower, toks[0].start, toks[k].end, False, False), k + 1


def _named_subject(toks: Sequence[_Tok], nouns: NounLexicon) -> Optional[tuple[Quantity, int]]:
    """"Thiha Kyaw defected in December 2022": a bare name of two or three words opening the sentence, then the act;
    also after a group and a singular noun ("Abu Sayyaf militant Fahad Ajid, along with his firearm, surrendered")."""
    first = start = _after_dateline(toks)
    while first < min(start + 3, len(toks) - 1) and toks[first].kind == "word" and toks[first].text[0].isupper():
        first += 1  # "Abu Sayyaf", "NPA": the group before the noun
    word = toks[first].lower
    first = first + 1 if first > start and toks[first].text.islower() and _singular(word) and "people" in (
        nouns.get(word), nouns.get(word + "s")) else 0
    k = first
    while k < len(toks) and k < first + 4 and toks[k].kind == "word" and toks[k].text.istitle() \
            and toks[k].lower not in nouns and toks[k].lower not in _TITLES and toks[k].lower not in _NOT_NAME_WORDS:
        k += 1
    act = k
    if first > start and act + 2 < len(toks) and toks[act].text == "," and toks[act + 1].lower in ("along", "together"):
        while act < len(toks) and act < k + 10 and (act == k or toks[act].text != ","):
            act += 1  # ", along with his firearm," between the name and the act
        act += 1
    if not 2 <= k - first <= 3 or act >= len(toks) or toks[act].lower not in _LONE_ACTS:
        return None
    return Quantity(1, "exact", "people", "name", toks[first].start, toks[k - 1].end, False, False), k


def _after_dateline(toks: Sequence[_Tok]) -> int:
    """Index of the first token after a dateline such as "JOLO, Sulu --" (0 when the sentence has none)."""
    for k, tok in enumerate(toks[:8]):
        if tok.text in ("-", "–", "—") and k:
            while k < len(toks) and toks[k].text in ("-", "–", "—"):
                k += 1
            return k
        if not (tok.kind == "word" and tok.text[0].isupper() or tok.text == ","):
            return 0
    return 0


_LONE_ACTS = frozenset("defected deserted surrendered absconded".split())
_NOT_NAME_WORDS = frozenset("the a an this that his her their its army union front force forces council party group "
                            "government police organisation organization movement brigade battalion division regiment "
                            "militia command unit units region state township".split())
_NOT_ACTS = frozenset("is was has says tells warns urges calls asks claims denies admits vows plans wants".split())


def _name_end(toks: Sequence[_Tok], j: int, nouns: NounLexicon) -> int:
    """End of the capitalised name starting at toks[j] (j itself when there is none)."""
    while j < len(toks) and toks[j].kind == "word" and toks[j].text[0].isupper() \
            and toks[j].lower not in _TITLES and not nouns.get(toks[j].lower):
        j += 1
    return j


def _titled_single(toks: Sequence[_Tok], i: int, nouns: NounLexicon) -> Optional[tuple[Quantity, int]]:
    """"Captain Aung Ko", "Ko Thet Paing": one named person; "Privates Myo Min Tun and Phyo Wai Oo": two."""
    tok = toks[i]
    honorific = tok.text in _HONORIFICS  # "Ko Aung Ko", "Saw Ler Moo": Burmese and Karen forms of address
    if not (tok.lower in _TITLES or honorific) or not (
            i == 0 or not toks[i - 1].text[0].isupper() or toks[i - 1].lower in _NAME_MODIFIERS):
        return None
    j = i
    while j < len(toks) and (toks[j].lower in _TITLES or toks[j].text in (".", "-")) and toks[j].text[0] != "(":
        j += 1
    names = _name_end(toks, j, nouns)
    if not 0 < names - j <= 4 or (honorific and names - j < 2):
        return None
    value = 1
    if tok.lower in _PLURAL_TITLES:
        while names + 1 < len(toks) and toks[names].lower in ("and", ","):
            more = _name_end(toks, names + 1 + (toks[names + 1].lower == "and"), nouns)
            if not 0 < more - names - 1 <= 5:
                break
            value, names = value + 1, more
    return Quantity(value, "exact", "people", tok.lower, tok.start, toks[names - 1].end, False, False), names


def list_total(quantities: Sequence[Quantity], text: str, category: str, nouns: NounLexicon) -> Optional[int]:
    """Sum of the ``category`` counts of one list, skipping the other items between them.

    "one hand of MA-5, one box of ammunition, 10 bullets, two hands of MA-3" -> 3 weapons.
    Without such a list, the largest count.
    """
    best: Optional[int] = None
    run = 0
    last_end: Optional[int] = None
    last_generic = last_kind = False
    # ("seven rifles, four of them MA-1s, and one pistol": the part named inside the list is no item of it)
    others = sorted((q.start, q.end) for q in quantities if q.category != category or q.noun in ("them", "whom"))
    for q in sorted(quantities, key=lambda q: q.start):
        if q.category != category or q.subset or q.casualty or q.noun in ("them", "whom"):
            continue
        if last_end is not None and last_generic and q.single and text[last_end:q.start].strip() == ",":
            pass  # "a weapon, an MA-1 rifle": the same firearm named again
        elif last_end is not None and last_kind and q.single and text[last_end:q.start].strip() == "," \
                and _is_model_only(text[q.start:q.end]) and text[q.end:q.end + 1] in (",", ")"):
            pass  # "I took my rifle, an MA-1, and two magazines": the model, set off by commas, names that rifle
        elif last_end is not None and _only_list_items(text, last_end, q.start, others, nouns):
            run += q.value
        else:
            run = q.value
        best = run if best is None else max(best, run)
        last_end = q.end
        last_generic = q.single and q.noun in _GENERIC_ARMS
        last_kind = q.single and q.noun in _ARM_KINDS
    return best


_GENERIC_ARMS = frozenset("weapon firearm gun arm".split())
_ARM_KINDS = frozenset("rifle pistol carbine revolver".split())  # a kind of firearm that a model may name


def _is_model_only(phrase: str) -> bool:
    """"an MA-1", "a G3": an article and a model designation, nothing else."""
    words = phrase.split()
    return len(words) == 2 and words[0].lower() in ("a", "an") and bool(_MODEL.fullmatch(words[1]))


# a few words describing the item before, then the next item: "mounted on the boat and"
_DESCRIBED_ITEM = re.compile(r"\s+(?!(?:said|says|told|according|while|but|which|who)\b)[a-z]+(?:\s+[a-z]+){0,4}\s+and\s+")
_OF_THE_FORCE = re.compile(r"\s+of\s+(?:the\s+)?(?:[A-Z][\w'’-]*\s+){0,3}[A-Z][\w'’-]*\s*,\s*(?:and\s+)?")
_LIST_FILLER = frozenset("a an and of plus with as well along mm the them their types type kinds kind various assorted "
                         "other sets set pieces piece units assault automatic semi-automatic sniper machine "
                         "sub-machine submachine light heavy rocket rocket-propelled hand".split())  # "one MA-1 assault rifles and a pistol"


_ACRONYM_AFTER = re.compile(r"^\s*\([A-Z][A-Za-z0-9.-]{1,9}\)")


def _only_list_items(text: str, start: int, end: int, others: Sequence[tuple[int, int]], nouns: NounLexicon) -> bool:
    """Whether the text between two counts holds only other list items ("one box of ammunition, 10 bullets,")."""
    gap = _ACRONYM_AFTER.sub("", text[start:end])  # "one Self Loading Rifle (SLR), an Insas rifle"
    gap = _MAKE_ASIDE.sub("", gap)  # "two 9 mm Pistols (one country made), one Lathode (country made),"
    gap = _PART_ASIDE.sub(",", gap)  # "seven rifles, among them two M16s, and a pistol": the part is inside the seven
    if len(gap) > 160 or re.search(r"[.!?:]\s|\(", gap):
        return False
    if _DESCRIBED_ITEM.fullmatch(gap) or _OF_THE_FORCE.fullmatch(gap):
        return True  # "a 12.7mm machine gun mounted on the boat and one MA-1 rifle", "two generals of the Syrian Army,"
    if not re.search(r"[,;]|\band\b", gap):
        return False
    counted = False
    for found in re.finditer(r"[^\W\d_][\w'’-]*", gap):
        word = found.group()
        low = word.lower()
        if not (low in _LIST_FILLER or low in nouns or low in _NO_FIREARM_GUNS or _word_value(low) is not None
                or any(c.isdigit() for c in low)
                or counted and word[:1].isupper()  # "one Lathod": an item of its own, named by its make
                or _DIGIT_BEFORE.search(gap, 0, found.start())):  # "4 pistols, 1 lethode bomb, 1 G-3 rifle"
            return False
        counted = _word_value(low) is not None or low in ("a", "an")  # "a Colt M203 grenade launcher" between
    return True


_MAKE_ASIDE = re.compile(r"\s*\((?:one|two|all|both)?\s*(?:country|locally|home|factory|foreign|china|us|russian)[\s-]*made\)",
                         re.I)
_PART_ASIDE = re.compile(r"^\s*,\s*(?:among\s+them|including|of\s+which|mostly|mainly)\s+[^,;.:()]{1,40},", re.I)
_DIGIT_BEFORE = re.compile(r"(?:^|[\s,])\d{1,3}\s+$")


def _named_before(toks: Sequence[_Tok], j: int) -> bool:
    """Whether a capitalised name (or "He") ends at toks[j], past an age in commas ("Chit Lin, 22,")."""
    if j >= 2 and toks[j].text == "," and toks[j - 1].kind == "num" and toks[j - 2].text == ",":
        j -= 3
    return j >= 0 and toks[j].kind == "word" and toks[j].text[:1].isupper()


_OF_HIS = re.compile(r"\S+(?: \S+)? of (?:his|her) ")


def _add_article_parts(toks: Sequence[_Tok], raw: list, nouns: NounLexicon, categories: frozenset[str]) -> list:
    """Attach "a captain and" / "and a second lieutenant" to a neighbouring numbered phrase."""
    out = list(raw)
    counted = {t for _q, f, n in raw for t in range(f, n)}
    for idx, (quantity, first, nxt) in enumerate(raw):
        if quantity.category not in categories:
            continue
        while first > 0 and toks[first - 1].start >= quantity.start:
            first -= 1  # start from the qualifier: "a commander and about 200 of his troops"
        # "a captain [from his unit] and 11 soldiers", "a colonel, two majors and ...", "Lt. Col. Zaw Htet and 20 soldiers"
        # ("A Taliban local leader together with five comrades have surrendered": he and the five)
        sep = first - 1 if first >= 2 and toks[first - 1].lower in ("and", ",") else first - 2 if (
            first >= 3 and quantity.category == "people" and toks[first - 1].lower == "with"
            and toks[first - 2].lower in ("together", "along")) else first - 2 if (
            # "Sergeant Kyaw Zin Oo and the six soldiers left their position": he and the six with him
            first >= 3 and quantity.category == "people" and toks[first - 1].lower == "the"
            and toks[first - 2].lower == "and") else None
        if sep is not None:
            for start in range(max(0, sep - 11), sep):
                if start in counted:
                    continue  # "two MA-2 and one MA-4 rifles": already a count of its own
                part = _article_count(toks, start, nouns, frozenset({quantity.category}))
                if part is None and not (start > 0 and toks[start - 1].lower in ("including", "by")):
                    # ("67 officers including Colonel Tun Tun Latt, 401 soldiers": the colonel is one of the 67)
                    part = _titled_name(toks, start, sep, nouns, quantity.category)
                if part is None:
                    continue
                between = [t.lower for t in toks[part[1]:sep]]
                if part[1] <= sep and (not between or between[0] in ("from", "of", "in", "at", "with", "who")) \
                        and not any(t in (",", ";", ".") for t in between):
                    value, begin = quantity.value + 1, start
                    while begin >= 3 and toks[begin - 1].lower == ",":  # "a lieutenant, a sergeant and five privates"
                        more = next((m for m in range(max(0, begin - 6), begin - 1) if m not in counted
                                     and (p := _article_count(toks, m, nouns, frozenset({quantity.category}))) is not None
                                     and p[1] == begin - 1), None)
                        if more is None:
                            break
                        value, begin = value + 1, more
                    out[idx] = (quantity._replace(value=value, start=toks[begin].start), begin, nxt)
                    break
            else:
                if quantity.category == "people" and toks[first - 1].lower == "and" and _OF_HIS.match(
                        " ".join(t.lower for t in toks[first:nxt])) and _named_before(toks, first - 2):
                    # "Chit Lin and two of his comrades": the one named and the two with him
                    out[idx] = (quantity._replace(value=quantity.value + 1), first, nxt)
        # "two sergeants and a second lieutenant"; "Two soldiers from LIB 226 and a police sergeant from ..."
        join = nxt if nxt < len(toks) and toks[nxt].lower == "and" else next(
            (k for k in range(nxt + 2, min(nxt + 10, len(toks))) if toks[k].lower == "and"), None) \
            if quantity.category == "people" and nxt < len(toks) and toks[nxt].lower in ("from", "of", "in", "at") else None
        if join is not None and join > nxt and (
                any(t.kind == "punct" for t in toks[nxt:join]) or _PAIR_VERB.search(" ".join(t.lower for t in toks[nxt:join]))):
            join = None  # ("two soldiers from the camp, and ...", "from LIB 33 who fled and a ...": no pair)
        if join is not None and join + 1 < len(toks) and join + 1 not in counted:
            part = _article_count(toks, join + 1, nouns, frozenset({quantity.category}))
            if part is not None:
                current = out[idx][0]
                out[idx] = (current._replace(value=current.value + 1, end=part[0].end), out[idx][1], part[1])
    return out
