"""Itemised lists in statements: who came over and what they brought, one line per item.

Resistance and NUG statements often give the defectors and their arms as lists rather than in a
sentence::

    2. The names of the comrades who arrived are as follows:
       (1) Sergeant Aung Myo Htet, Army No. (xxx4417)
       (2) Corporal Thet Naing Soe, Army No. (xxx9052)
    3. The arms brought are as follows:
       (a) MA-1 rifle - (2) nos.
       (b) Hand grenade - (4) nos.

A line that starts with a rank and a name is one person; "Corporal: 5" and "Corporal - 5" are five; "MA-3 rifle: 11" and
"Pistol: 2 hands" and "2 x AK-47" are firearms. Ammunition, magazines, grenades and equipment are listed too but
never counted. :func:`itemised_counts` returns each list's totals with its offset, and the rules give
them to the defection report just before the list when that report has no count of its own.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple, Optional

from newswatch.transforms.mentions.components import force_nouns, load_noun_lexicon
from newswatch.transforms.mentions.number_lists import find_quantities, list_total
from newswatch.transforms.mentions.numbers import _TITLES, parse_number

_MARKER = r"(?:[-•*·▪–✅✔☑➡▶►◆●○■□★☆🔹🔸]|\(?\d{1,2}[.)]|\(\d{1,2}\)|\(?[a-zA-Z][.)]|\([ivx]{1,4}\))"
# a marked line, "2 x AK-47" (a count, then what) or "MA-1 rifles: 3" (what, then a count)
_ITEM_LINE = re.compile(rf"^[ \t]*(?:{_MARKER}[ \t]+(?P<body>\S[^\n]*)|(?P<n>\d{{1,4}})[ \t]*[x×][ \t]*(?P<what>\S[^\n]*)"
                        r"|(?P<kv>(?:\d{1,2}(?:\.\d{1,2})?[ \t]*mm[ \t]+)?[A-Za-z][^:\n]{0,40}:[ \t]*\(?\d[\d,]*\)?[ \t]*[A-Za-z.]{0,8}[ \t]*"
                        r"(?:\([^()\n]{1,200}\)[ \t]*)?)"
                        # ("9 mm pistol - 1": a calibre before the name; "Corporal - 2 (Corporal X, Corporal Y)": names after)
                        r"|(?P<dash>(?:\d{1,2}(?:\.\d{1,2})?[ \t]*mm[ \t]+)?[A-Za-z][^:\n]{0,40}?[ \t][-–—][ \t]*\(?\d[\d,]*\)?"
                        r"[ \t]*[A-Za-z.]{0,8}[ \t]*(?:\([^()\n]{1,200}\)[ \t]*)?))$", re.M)
_INLINE_LIST = re.compile(r"^[ \t]*(?:weapons|arms|firearms|arms\s+and\s+ammunition|weapons\s+and\s+ammunition)"
                          r"[^:\n]{0,30}:[ \t]*(?P<body>[^\n]+)$", re.M | re.I)
# "Corporal: 5", "MA-1 rifle - (2) nos.", "Pistol: 2 hands", "Private - 9 persons"
_NAME_COUNT = re.compile(r"^(?P<name>[^:\n]+?)\s*(?::|\s[-–—]|=)\s*\(?(?P<n>[\w,]+)\)?\s*"
                         r"(?P<unit>nos?\.?|numbers?|hands?|pieces?|pcs\.?|units?|persons?|people|men|each)?\s*[.;,]?\s*$",
                         re.I)
_COUNT_FIRST = re.compile(r"^\(?(?P<n>\d{1,4})\)?\s+(?:hands?\s+of\s+|pieces?\s+of\s+|nos?\.?\s+)?"
                          r"(?P<name>[^\n]{1,40})$", re.I)
_RANK_WORDS = _TITLES | frozenset("lance warrant staff able leading seaman rate petty deputy second first class pfc police "
                                  "ii iii i 2nd 1st lt. col. capt. sgt. cpl. pte. maj. other ranks soldiers soldier "
                                  "privates policemen policeman personnel officers constable constables airman airmen army navy air "
                                  "force militia conscript conscripts".split())  # "(a) Army - 31": by service
_FIREARM = re.compile(r"\b(?:rifles?|pistols?|guns?|shotguns?|carbines?|firearms?|revolvers?|sub-?machine|"
                      r"machine-?guns?|ma-?\d+|ba-?\d+|ak-?\d+|m-?16|m-?4|g-?3|g-?4)\b", re.I)
_NOT_FIREARM = re.compile(r"\b(?:ammunition|rounds?|bullets?|magazines?|grenades?|bombs?|mines?|shells?|radios?|"
                          r"sets?|uniforms?|vehicles?|trucks?|cartridges?|explosives?|equipment|bayonets?|launchers?|mortars?|"
                          r"rpgs?|howitzers?)\b", re.I)


class ItemisedList(NamedTuple):
    start: int  # offset of the first counted item line
    people: Optional[int]
    weapons: Optional[int]
    table: bool = False  # a table's Total row: a stated figure, so it makes the sentence that introduces it a report


def itemised_counts(text: str) -> list[ItemisedList]:
    """Lists of at least two item lines (or one "Weapons: ..., ..." line) with what they count."""
    if "\n" not in text:
        return []
    out: list[ItemisedList] = []
    block: list[re.Match] = []
    for m in _ITEM_LINE.finditer(text):
        if block and text[block[-1].end():m.start()].strip():
            out += _block_counts(block)
            block = []
        block.append(m)
    out += _block_counts(block)
    out += _table_totals(text)
    for m in _INLINE_LIST.finditer(text):
        weapons = [_weapon_item(part) for part in re.split(r"[,;]", m.group("body"))]
        total = sum(w for w in weapons if w)
        if total:
            out.append(ItemisedList(m.start(), None, total))
    return sorted(out)


def _block_counts(block: list[re.Match]) -> list[ItemisedList]:
    if len(block) < 2:
        return []
    weapons = named = 0
    sections = [0]  # people per section; a line that counts nothing ("3. Summary by rank") starts a new one
    stated: dict[int, int] = {}  # section -> the total a numbered paragraph states before its breakdown
    first: Optional[int] = None  # the first item that counts: a numbered paragraph before it is running text
    for m in block:
        body = (m.group("body") or m.group("kv") or m.group("dash") or f"{m.group('what')}: {m.group('n')}").strip()
        body = _NAMES_AFTER_COUNT.sub(r"\1", body)  # "Private - 4 (Private Nyein Chan, ...)": the count, then who
        person = _person_item(body)
        weapon = 0 if person else _weapon_item(body) or 0
        if not (person or weapon) and m.group("body"):
            person, weapon = _phrase_item(body)
            if person and _STATES_TOTAL.search(body):
                stated[len(sections) - 1] = person  # "2. ... a total of 87 personnel joined, as follows -"
        if (person or weapon) and first is None:
            first = m.start()
        if not (person or weapon) and sections[-1]:
            sections.append(0)
        sections[-1] += person
        weapons += weapon
        named += person == 1 and not _NAME_COUNT.match(body)  # "(1) Sergeant Kyaw Zin Oo": one person by name
    for k, total in stated.items():
        # the rank lines under a stated total are its breakdown, in the same section or the next
        # (lines this parser cannot read make the breakdown fall short of the total, never exceed it)
        if sections[k] > total and sections[k] - total <= total:
            sections[k] = total
        elif k + 1 < len(sections) and sections[k] == total and 0 < sections[k + 1] <= total:
            sections[k + 1] = 0
    if first is None:
        return []
    people = sum(sections)
    counted = [n for n in sections if n]
    if len(counted) > 1 and len(set(counted)) == 1:
        people = counted[0]  # a breakdown by service, then one by rank, of the same people
    elif named and people == 2 * named:
        people = named  # a name list, then a "summary by rank" of the same people ("Corporal - 2", ...)
    return [ItemisedList(first, people or None, weapons or None)]


def _person_item(body: str) -> int:
    """1 for "Sergeant Aung Myo Htet, Army No. ...", N for "Corporal: 5"; 0 when the line names no rank."""
    words = body.split()
    k = 0
    while k < len(words) and words[k].lower().strip(",.:") in _RANK_WORDS:
        k += 1
    if k == 0:
        return 0
    found = _NAME_COUNT.match(body)
    # ("Police personnel (all ranks) - 12": a bracketed note on the rank)
    if found and all(w.lower().strip(",.:") in _RANK_WORDS for w in _BRACKET_NOTE.sub(" ", found.group("name")).split()):
        n = parse_number(found.group("n"))
        return n if n is not None and 0 < n < 10_000 else 0
    while k < len(words) and _RANK_CLASS.match(words[k]):
        k += 1  # "Warrant Officer (2) Aung Myo Lwin", "Warrant Officer Class II ...": the rank's class
    # a rank, then a capitalised name ("Lance Corporal Zin Ko Ko"); not "Private property ..." in running text
    return 1 if k < len(words) and words[k][:1].isupper() and words[k].isalpha() and len(body) < 160 else 0


_NAMES_AFTER_COUNT = re.compile(r"(\d\)?(?:\s*(?:nos?\.?|persons?|hands?))?)\s*\([^()\n]{1,200}\)\s*$", re.I)
_STATES_TOTAL = re.compile(r"\b(?:a\s+total\s+of|in\s+total|as\s+follows|the\s+following)\b", re.I)
_BRACKET_NOTE = re.compile(r"\([^()\n]{1,30}\)")
_RANK_CLASS = re.compile(r"^(?:\(\d\)|\(?(?:I|II|III)\)?|[Cc]lass|\d)$")


def _weapon_item(body: str) -> Optional[int]:
    """N for "MA-1 rifle - (2) nos." or "Pistol: 2 hands"; None for ammunition, equipment or no count."""
    found = _NAME_COUNT.match(body.strip())
    if not found:
        first = _COUNT_FIRST.match(body.strip())  # "1 hand of MA-3", "2 pistols"
        if first and _FIREARM.search(first.group("name")) and not _NOT_FIREARM.search(first.group("name")):
            return int(first.group("n")) if 0 < int(first.group("n")) < 10_000 else None
        return None
    if not _FIREARM.search(found.group("name")) or _NOT_FIREARM.search(found.group("name")):
        return None
    n = parse_number(found.group("n"))
    return n if n is not None and 0 < n < 10_000 else None


# a row with at least two cell borders, with or without outer pipes ("| Total | 22 | 7 |", "Total | 34 | 9 | 43")
_TABLE_ROW = re.compile(r"^[ \t]*\|?(?P<cells>[^\n|]*\|[^\n|]*\|[^\n]*?)\|?[ \t]*$", re.M)
_TOTAL_CELL = re.compile(r"^\W*(?:grand\s+)?(?:total|all|in\s+all|altogether)\W*$", re.I)
_PEOPLE_HEAD = re.compile(r"\b(?:persons|people|personnel|total|defectors|all)\b", re.I)
_FORCE_HEAD = re.compile(r"\b(?:army|soldiers?|police|militia|navy|air\s+force|troops|officers|other\s+ranks)\b", re.I)
_ARMS_TOTAL_HEAD = re.compile(r"\b(?:firearms?|weapons?|arms|total)\b", re.I)
_ARMS_HEAD = re.compile(r"\b(?:firearms?|weapons?|arms|guns?|rifles?)\b", re.I)


def _table_totals(text: str) -> list[ItemisedList]:
    """A table's Total row: "| Total | 22 | 7 | 31 | 12 |" under "| Region | Army | Police | Persons | Firearms |".

    People come from a persons/total column, else the sum of the force columns; firearms from an arms column
    (never ammunition)."""
    out: list[ItemisedList] = []
    rows = list(_TABLE_ROW.finditer(text))
    if len(rows) < 3:
        return out
    header: Optional[list[str]] = None
    start = 0
    for k, row in enumerate(rows):
        cells = [c.strip() for c in row.group("cells").split("|")]
        if not any(ch.isalnum() for ch in row.group("cells")):
            continue  # a rule line: "---|---|---"
        if header is None or text[rows[k - 1].end():row.start()].strip():
            header, start = cells, row.start()  # a new table begins
            continue
        if not _TOTAL_CELL.match(cells[0]) or len(cells) != len(header):
            continue
        values = [parse_number(c) for c in cells]
        people = next((v for h, v in zip(header, values) if v and _PEOPLE_HEAD.search(h)
                       and not _ARMS_HEAD.search(h) and not _NOT_FIREARM.search(h)), None)
        if people is None:
            forces = [v for h, v in zip(header, values) if v and _FORCE_HEAD.search(h) and not _ARMS_HEAD.search(h)]
            people = sum(forces) or None
        arms = [(h, v) for h, v in zip(header, values) if v and _ARMS_HEAD.search(h) and not _NOT_FIREARM.search(h)]
        # a total column ("Firearms", "Weapons") over one kind ("Rifles", "Pistols")
        weapons = next((v for h, v in arms if _ARMS_TOTAL_HEAD.search(h)), arms[0][1] if arms else None)
        if people or weapons:
            out.append(ItemisedList(start, people, weapons, True))
    return out


_FAMILY = re.compile(r"\b(?:famil(?:y|ies)|relatives?|wives|children|dependants?)\b", re.I)


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, str], frozenset[str]]:
    """The noun lexicon, and the words that name a member of a force (force nouns and ranks)."""
    return load_noun_lexicon(), force_nouns() | frozenset(w.lower() for w in _TITLES)


_CONTACTED = re.compile(r"\b(?:contact(?:ed|ing)?|enquir\w*|inquir\w*|reached\s+out|asked\s+(?:about|how))\b", re.I)
_OF_A_FORCE = re.compile(r"\s+of\s+(?:the\s+)?")


def _phrase_item(body: str) -> tuple[int, int]:
    """"Kani Township — 3 soldiers from LIB 87, bringing 2 MA-1 rifles and 1 MA-3 rifle": (3, 3).

    A bulleted line that counts members of a force (not "3 civilians killed") and the firearms they brought."""
    nouns, force = _lexicon()
    if _FAMILY.search(body) or _CONTACTED.search(body):
        # "Five family members, the wives and children of two of the above personnel"; "5. During March, 1,130 serving
        # soldiers and police officers contacted the ministry": enquiries, not arrivals
        return 0, 0
    found = find_quantities(body, nouns)
    people = next((q.value for q in found if q.category == "people" and not (q.subset or q.casualty or q.size)
                   and (q.noun in force or any(w in force for w in body[q.start:q.end].lower().split())
                        # "2 members of the regime-backed People's Militia"
                        or q.noun in ("members", "member") and _OF_A_FORCE.match(body, q.end) is not None
                        and any(w.strip(",.;") in force for w in body[q.end:q.end + 50].lower().split()))), 0)
    if not people:
        return 0, 0
    # "1 police sergeant, bringing a 9 mm pistol": a firearm named alone is one
    return people, list_total(find_quantities(body, nouns, singles=True), body, "weapons", nouns) or 0

