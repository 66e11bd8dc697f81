"""Burmese text basics: Zawgyi to Unicode, syllables, word counts and language (issue 16).

Myanmar script on the web comes in two encodings that share code points: Unicode
and the legacy Zawgyi font encoding. :func:`to_unicode` decides per line with
Google's ``myanmartools`` detector (a Markov model; a page can have an English
headline and a Zawgyi body, or Zawgyi lines quoted in a Unicode page) and converts
Zawgyi lines with ``python-myanmar``, then puts the vowel signs that converters and
typists order differently into the one order Unicode prescribes. Why these two:
on our own sentences round-tripped through Zawgyi, python-myanmar gave back 6/7
exactly (7/7 after the vowel-order step) and paraencoder 4/7 (it turns "င့်" into
"င့ျ"); both agreed on real Zawgyi lines. Speed (shared 2-core machine, load 1.4):
python-myanmar 0.47 M chars/s, the detector 0.65 M chars/s.

Burmese has no spaces between words: :func:`syllable_starts` is the usual regex
syllable breaker (a consonant starts a syllable unless a virama or asat binds it to
the previous one), which :func:`word_count` uses so that a short Burmese page is
not counted as a handful of "words".

Example::

    text, encoding = to_unicode("ျမန္မာ")   # ("မြန်မာ", "zawgyi")
    detect_language(text)                  # "my"
"""

from __future__ import annotations

import functools
import re
from typing import Optional

MYANMAR = re.compile(r"[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]")
_MYANMAR_RUN = re.compile(r"[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# A syllable starts at a consonant, independent vowel, digit or sign that is not bound to
# the previous syllable (preceded by the virama ္) and does not itself carry an asat or
# virama (then it closes the previous syllable: "န်" in "မြန်").
_SYLLABLE_START = re.compile(
    r"(?<!\u1039)[\u1000-\u102a\u103f\u104c-\u104f\u1040-\u1049\u104a\u104b]"
    r"(?![\u103b-\u103e]*[\u1037]?[\u103a\u1039])")
ZAWGYI_THRESHOLD = 0.95
# Spelling puts the tall aa (ါ) after ခ ဂ င ဒ ပ ဝ with no medial ("ပေါ်", "ဂေါ"); the converter writes ာ.
_TALL_AA = re.compile("(?<!\u1039)([\u1001\u1002\u1004\u1012\u1015\u101d])(\u1031?)\u102c")
# Vowel and tone signs in the order Unicode (UTN #11) stores them; typed and converted text
# often has them swapped. Each fix keeps the length, so offsets do not move.
_ORDER_FIXES = (("\u102f\u102d", "\u102d\u102f"), ("\u103a\u1037", "\u1037\u103a"), ("\u1037\u1032", "\u1032\u1037"),
                ("\u1036\u102f", "\u102f\u1036"))


@functools.lru_cache(maxsize=1)
def _detector():
    """One read-only ZawgyiDetector per process (its model file is read once)."""
    from myanmartools import ZawgyiDetector

    return ZawgyiDetector()


def has_myanmar(text: str) -> bool:
    """True when ``text`` has any Myanmar-script character."""
    return MYANMAR.search(text) is not None


def fix_order(text: str) -> str:
    """Put swapped vowel and tone signs into Unicode's storage order (same length)."""
    for wrong, right in _ORDER_FIXES:
        if wrong in text:
            text = text.replace(wrong, right)
    return text


def zawgyi_probability(text: str) -> float:
    """The detector's probability that the Myanmar text in ``text`` is Zawgyi (0.0 without any)."""
    if not has_myanmar(text):
        return 0.0
    return float(_detector().get_zawgyi_probability(text))


def to_unicode(text: str) -> tuple[str, Optional[str]]:
    """``text`` with Zawgyi lines converted; and the encoding found: 'zawgyi', 'unicode' or None (no Myanmar)."""
    if not text or not has_myanmar(text):
        return text, None
    from myanmar.converter import convert

    lines = text.split("\n")
    found = "unicode"
    # A short line says little on its own: on a page that is Zawgyi as a whole, a line only has to lean Zawgyi.
    threshold = 0.5 if zawgyi_probability(text) >= ZAWGYI_THRESHOLD else ZAWGYI_THRESHOLD
    for n, line in enumerate(lines):
        if has_myanmar(line) and zawgyi_probability(line) >= threshold:
            lines[n] = _TALL_AA.sub("\\1\\2\u102b", convert(line, "zawgyi", "unicode"))
            found = "zawgyi"
    return fix_order("\n".join(lines)), found


def syllable_starts(text: str, start: int = 0, end: Optional[int] = None) -> list[int]:
    """Offsets where a Myanmar syllable starts in ``text[start:end]``."""
    return [m.start() for m in _SYLLABLE_START.finditer(text, start, len(text) if end is None else end)]


def syllable_count(text: str) -> int:
    """Number of Myanmar syllables in ``text``."""
    return sum(1 for _ in _SYLLABLE_START.finditer(text))


def min_words_for(language: Optional[str], min_words: int) -> int:
    """The no_content bar: half for Burmese, whose short news briefs run to 40-80 syllables."""
    return min_words // 2 if language == "my" else min_words


def word_count(text: str) -> int:
    """Space-separated words outside Myanmar script plus one per Myanmar syllable."""
    latin = _MYANMAR_RUN.sub(" ", text)
    return len(latin.split()) + syllable_count(text)


def myanmar_share(text: str) -> float:
    """Myanmar characters over Myanmar plus Latin letters (0.0 for neither)."""
    mm = len(MYANMAR.findall(text))
    latin = len(_LATIN.findall(text))
    return mm / (mm + latin) if mm + latin else 0.0


def detect_language(text: str, fallback: Optional[str] = None) -> Optional[str]:
    """'my' when Burmese script dominates the letters of ``text``, else ``fallback``.

    A page with an English headline and a Burmese body is Burmese; an English page
    quoting a Burmese name keeps the language its markup or trafilatura gave.
    """
    if myanmar_share(text) >= 0.5:
        return "my"
    if fallback == "my" and not has_myanmar(text):
        return None  # <html lang="my"> around an English text
    return fallback


def unicode_page(title: Optional[str], text: str, language: Optional[str]) -> tuple[Optional[str], str, Optional[str], Optional[str]]:
    """Title and text in Unicode, the language, and the Myanmar encoding found (None without Myanmar script)."""
    text, encoding = to_unicode(text)
    if title:
        title, title_encoding = to_unicode(title)
        encoding = encoding or title_encoding
    return title, text, detect_language(text or title or "", language), encoding
