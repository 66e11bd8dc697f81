"""Itemised lists in statements: who came over and what they brought, one line per item.

Resistance and NUG statements often give the defectors and their arms as lists rather than in a
sentence::

    2. The names of the comrades who arrived are as follows:
       (1) Sergeant Aung Myo Htet, Army No. (xxx4417)
       (2) Corporal Thet Naing Soe, Army No. (xxx9052)
    3. The arms brought are as follows:
       (a) MA-1 rifle - (2) nos.
       (b) Hand grenade - (4) nos.

A line that starts with a rank and a name is one person; "Corporal: 5" is five; "MA-3 rifle: 11" and
"Pistol: 2 hands" and "2 x AK-47" are firearms. Ammunition, magazines, grenades and equipment are listed too but
never counted. :func:`itemised_counts` returns each list's totals with its offset, and the rules give
them to the defection report just before the list when that report has no count of its own.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

from newswatch.transforms.mentions.numbers import _TITLES, parse_number

_MARKER = r"(?:[-•*·▪–]|\(?\d{1,2}[.)]|\(\d{1,2}\)|\(?[a-hA-H][.)])"
# a marked line, "2 x AK-47" (a count, then what) or "MA-1 rifles: 3" (what, then a count)
_ITEM_LINE = re.compile(rf"^[ \t]*(?:{_MARKER}[ \t]+(?P<body>\S[^\n]*)|(?P<n>\d{{1,4}})[ \t]*[x×][ \t]*(?P<what>\S[^\n]*)"
                        r"|(?P<kv>[A-Za-z][^:\n]{0,40}:[ \t]*\(?\d[\d,]*\)?[ \t]*[A-Za-z.]{0,8}[ \t]*))$", re.M)
_INLINE_LIST = re.compile(r"^[ \t]*(?:weapons|arms|firearms|arms\s+and\s+ammunition|weapons\s+and\s+ammunition)"
                          r"[^:\n]{0,30}:[ \t]*(?P<body>[^\n]+)$", re.M | re.I)
# "Corporal: 5", "MA-1 rifle - (2) nos.", "Pistol: 2 hands", "Private - 9 persons"
_NAME_COUNT = re.compile(r"^(?P<name>[^:\n]+?)\s*(?::|\s[-–—]|=)\s*\(?(?P<n>[\w,]+)\)?\s*"
                         r"(?P<unit>nos?\.?|numbers?|hands?|pieces?|pcs\.?|units?|persons?|people|men|each)?\s*[.;,]?\s*$",
                         re.I)
_RANK_WORDS = _TITLES | frozenset("lance warrant staff able leading seaman rate petty deputy second first police "
                                  "ii iii i 2nd 1st lt. col. capt. sgt. cpl. pte. maj. other ranks soldiers soldier "
                                  "privates policemen policeman officers constable constables airman airmen".split())
_FIREARM = re.compile(r"\b(?:rifles?|pistols?|guns?|carbines?|firearms?|revolvers?|launchers?|sub-?machine|"
                      r"machine-?guns?|mortars?|ma-?\d+|ba-?\d+|ak-?\d+|m-?16|m-?4|g-?3|g-?4|rpg)\b", re.I)
_NOT_FIREARM = re.compile(r"\b(?:ammunition|rounds?|bullets?|magazines?|grenades?|bombs?|mines?|shells?|radios?|"
                          r"sets?|uniforms?|vehicles?|trucks?|cartridges?|explosives?|equipment|bayonets?)\b", re.I)


class ItemisedList(NamedTuple):
    start: int  # offset of the first counted item line
    people: Optional[int]
    weapons: Optional[int]


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
    for m in _INLINE_LIST.finditer(text):
        weapons = [_weapon_item(part) for part in re.split(r"[,;]", m.group("body"))]
        total = sum(w for w in weapons if w)
        if total:
            out.append(ItemisedList(m.start(), None, total))
    return sorted(out)


def _block_counts(block: list[re.Match]) -> list[ItemisedList]:
    if len(block) < 2:
        return []
    people = weapons = 0
    first: Optional[int] = None  # the first item that counts: a numbered paragraph before it is running text
    for m in block:
        body = (m.group("body") or m.group("kv") or f"{m.group('what')}: {m.group('n')}").strip()
        person = _person_item(body)
        weapon = 0 if person else _weapon_item(body) or 0
        if (person or weapon) and first is None:
            first = m.start()
        people += person
        weapons += weapon
    if first is None:
        return []
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
    if found and all(w.lower().strip(",.:") in _RANK_WORDS for w in found.group("name").split()):
        n = parse_number(found.group("n"))
        return n if n is not None and 0 < n < 10_000 else 0
    # a rank, then a capitalised name ("Lance Corporal Zin Ko Ko"); not "Private property ..." in running text
    return 1 if k < len(words) and words[k][:1].isupper() and words[k].isalpha() and len(body) < 160 else 0


def _weapon_item(body: str) -> Optional[int]:
    """N for "MA-1 rifle - (2) nos." or "Pistol: 2 hands"; None for ammunition, equipment or no count."""
    found = _NAME_COUNT.match(body.strip())
    if not found or not _FIREARM.search(found.group("name")) or _NOT_FIREARM.search(found.group("name")):
        return None
    n = parse_number(found.group("n"))
    return n if n is not None and 0 < n < 10_000 else None
