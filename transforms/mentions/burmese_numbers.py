"""Burmese numbers and counted things: digits, spelled-out numbers and classifiers (issue 16).

A Burmese count is a number followed by a classifier that says what is counted:
``ဦး`` / ``ယောက်`` for people, ``လက်`` for firearms ("သေနတ် ၈ လက်", eight guns). The
number is written in Burmese digits (the letter ဝ is often typed for the digit ၀),
Arabic digits, in parentheses ("(၇) ဦး") or spelled out ("ခုနစ်ဦး", "နှစ်ဆယ့်ငါးဦး").
People are also counted as "အယောက် (၂၀)" (classifier first). A number in
parentheses followed by "လက်အောက်ခံ" ("under the command of") is a unit number, not
guns, and so are "လက်ရှိ" (current) and the like: only "လက်" standing as its own word counts.

Qualifiers after the classifier: "ကျော်" (more than), "ခန့်" / "ဝန်းကျင်" / "လောက်" (about),
"နီးပါး" (nearly); "အနည်းဆုံး" before it (at least); "၁၀ ဦးမှ ၁၅ ဦး" is a range.

Input: sentence text; output: :class:`Count` records with character offsets.

Example::

    find_counts("ဗိုလ်ကြီး တစ်ဦးနှင့် တပ်သား (၇) ဦး သေနတ် ၈ လက်")
    # [Count('people', 1, ...), Count('people', 7, ...), Count('weapons', 8, ...)]
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

_DIGITS = {chr(0x1040 + n): n for n in range(10)} | {str(n): n for n in range(10)} | {"\u101d": 0}
_UNITS = {"တစ်": 1, "နှစ်": 2, "သုံး": 3, "လေး": 4, "ငါး": 5, "ခြောက်": 6, "ခုနစ်": 7, "ခုနှစ်": 7, "ရှစ်": 8, "ကိုး": 9}
_POWERS = {"ဆယ်": 10, "ဆယ့်": 10, "ရာ": 100, "ရာ့": 100, "ထောင်": 1000, "ထောင့်": 1000, "သောင်း": 10000, "သိန်း": 100000}
_UNITS["တ"] = 1  # spoken "တယောက်", "တဦး"
_UNIT_RE = "|".join(u if u != "တ" else "တ(?![\u102b-\u103e])" for u in sorted(_UNITS, key=len, reverse=True))
_POWER_RE = "|".join(sorted(_POWERS, key=len, reverse=True))
# Digits: a Burmese or Arabic digit first; then digits or the letter ဝ standing for zero
# (not when a sign follows it, which makes it the start of a word such as "ဝန်း").
_ZERO_LETTER = r"\u101d(?![\u102b-\u103e]|[\u1000-\u1021][\u103a\u1039])"
_DIGIT_NUMBER = rf"(?:[\u1040-\u1049]|[0-9])(?:[\u1040-\u1049]|{_ZERO_LETTER}|[0-9]|,(?=[0-9\u1040-\u1049]{{3}}))*"
_SPELLED = rf"(?:(?:{_UNIT_RE})?(?:{_POWER_RE}))+(?:{_UNIT_RE})?|(?:{_UNIT_RE})"
_NUMBER = rf"(?:\(\s*(?P<pd>{_DIGIT_NUMBER})\s*\)|(?P<d>{_DIGIT_NUMBER})|(?P<s>{_SPELLED}))"
_PEOPLE_CLASSIFIERS = "ဦး(?!စီး|ဆောင်|တည်|ရေ|ဆုံး)|ယောက်"
# "လက်" counts firearms only as a word of its own: not "လက်အောက်" (under), "လက်ရှိ" (current), ...
_NOT_WEAPON_AFTER = "အောက်|ရှိ|ထဲ|ခံ|ကိုင်|နက်|မှတ်|ဆောင်|ခုပ်|ထောက်|ရုံး|တွဲ|ဖြင့်ရေး|စွဲ|ကျ|လွတ်|မ|ငင်"
COUNT = re.compile(
    rf"(?P<atleast>အနည်းဆုံး\s?)?{_NUMBER}\s?(?P<cls>{_PEOPLE_CLASSIFIERS}|လက်(?!\s?(?:{_NOT_WEAPON_AFTER})))"
    rf"(?P<qual>\s?(?:ကျော်|ခန့်|ဝန်းကျင်|လောက်|နီးပါး))?")
# Classifier first: "အယောက် (၂၀)", "အယောက် ၂၀ ကျော်".
COUNT_AFTER = re.compile(rf"အယောက်\s?{_NUMBER}(?P<qual>\s?(?:ကျော်|ခန့်|ဝန်းကျင်|လောက်|နီးပါး))?")
# A number right after a people noun, classifier left out: "စစ်သား ၂၀ ကျော်" (more than 20 soldiers).
_PEOPLE_NOUNS = "စစ်သား|တပ်သား|စစ်သည်|ရဲတပ်ဖွဲ့ဝင်|ရဲတပ်သား|တပ်ဖွဲ့ဝင်|အရာရှိ|ရဲအရာရှိ|လူငယ်|ဦးရေ|အင်အား"
COUNT_NOUN = re.compile(
    rf"(?:{_PEOPLE_NOUNS})(?:များ|တွေ)?\s?(?:အင်အား\s?)?(?:\(\s*(?P<pd>{_DIGIT_NUMBER})\s*\)|(?P<d>{_DIGIT_NUMBER}))"
    rf"(?![\u1040-\u1049\u101d0-9,]|\s?(?:{_PEOPLE_CLASSIFIERS}|လက်|ရက်|နှစ်|လ|ခု|ကြိမ်|ချက်|%|ရာခိုင်နှုန်း))"
    rf"(?P<qual>\s?(?:ကျော်|ခန့်|ဝန်းကျင်|လောက်|နီးပါး))?")
_QUALIFIERS = {"ကျော်": "more_than", "ခန့်": "about", "ဝန်းကျင်": "about", "လောက်": "about", "နီးပါး": "nearly"}


class Count(NamedTuple):
    """A counted thing in a sentence."""

    what: str  # people | weapons
    value: int
    qualifier: str  # exact | at_least | more_than | about | nearly
    start: int
    end: int


def parse_digits(text: str) -> Optional[int]:
    """Value of a run of Burmese/Arabic digits (ဝ read as zero, thousands commas ignored)."""
    digits = [str(_DIGITS[c]) for c in text if c in _DIGITS]
    return int("".join(digits)) if digits else None


def parse_spelled(text: str) -> Optional[int]:
    """Value of a spelled-out Burmese number ("နှစ်ဆယ့်ငါး" -> 25), None if it is not one."""
    pattern = re.compile(rf"({_UNIT_RE})?({_POWER_RE})|({_UNIT_RE})")
    total, pos = 0, 0
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None:
            return None
        if match.group(2):
            total += _UNITS.get(match.group(1) or "", 1) * _POWERS[match.group(2)]
        else:
            total += _UNITS[match.group(3)]
        pos = match.end()
    return total or None


def parse_number(text: str) -> Optional[int]:
    """Digits, a parenthesised number or a spelled-out number."""
    text = text.strip().strip("()").strip()
    if not text:
        return None
    if text[0] in _DIGITS and text[0] != "\u101d":
        return parse_digits(text)
    return parse_spelled(text)


def _value(match: re.Match) -> Optional[int]:
    groups = match.groupdict()
    return parse_number(groups.get("pd") or groups.get("d") or groups.get("s") or "")


def find_counts(text: str, start: int = 0, end: Optional[int] = None) -> list[Count]:
    """People and weapon counts in ``text[start:end]``, in text order."""
    end = len(text) if end is None else end
    counts = []
    for match in COUNT.finditer(text, start, end):
        value = _value(match)
        if value is None:
            continue
        qualifier = _QUALIFIERS.get((match.group("qual") or "").strip(), "exact")
        if match.group("atleast"):
            qualifier = "at_least"
        what = "weapons" if match.group("cls") == "လက်" else "people"
        counts.append(Count(what, value, qualifier, match.start(), match.end()))
    for match in list(COUNT_AFTER.finditer(text, start, end)) + list(COUNT_NOUN.finditer(text, start, end)):
        value = _value(match)
        if value is not None:
            qualifier = _QUALIFIERS.get((match.group("qual") or "").strip(), "exact")
            counts.append(Count("people", value, qualifier, match.start(), match.end()))
    return sorted(counts, key=lambda c: c.start)
