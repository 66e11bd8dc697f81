"""What the fault site serves: article pages, feeds and bodies, all written for these tests."""

from __future__ import annotations

import email.utils
import random
import time
import zlib
from typing import Dict, Iterable, Iterator, List, Optional
from xml.sax.saxutils import escape

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\nDisallow: /case/robots_exempt/\n"
MANY_ITEMS = 10_000
BOMB_DECODED = 1 << 30  # the gzip bombs inflate to 1 GiB
HUGE_PAGE = 50 * 1000 * 1000  # "50 MB" page, streamed without Content-Length
BIG_PAGE = 15 * 1000 * 1000  # under the 20 MiB cap
OVER_FEED_CAP = 16 * 1024 * 1024  # just over the 15 MiB feed cap
OVER_ARTICLE_CAP = 21 * 1024 * 1024

_TEMPLATES = (
    "The {body} met on {day} to agree how to repair the {thing} near the {place}.",
    "{person} told members that {n} of the {thing}s had failed and that spare parts were {late}.",
    "Families in the {place} said they had carried water from a {thing} for {n} days in a row.",
    "The {body} promised weekly notes at the {place} and a telephone line for {people}.",
    "A contractor from {town} is expected to start once the {body} signs the budget.",
    "{people} said the work on the {thing} had been {late} and asked for a public timetable.",
    "{person} asked the {body} to publish how much the {thing} costs before the rains come.",
    "The next meeting with {people} is planned for {day} in the {place}.",
)
_SLOTS = {
    "body": ("water board", "ward committee", "school council", "market association", "road authority",
             "health office", "farmers' union", "ferry cooperative"),
    "thing": ("pump", "bridge", "well", "generator", "culvert", "clinic roof", "ferry ramp", "grain store"),
    "place": ("lower ward", "river bank", "bus depot", "market hall", "temple road", "north quarter",
              "old mill", "station square"),
    "person": ("The treasurer", "An engineer", "The head teacher", "A nurse", "The ferry captain",
               "A rice trader", "The librarian", "A retired judge"),
    "people": ("shopkeepers", "parents", "boat owners", "students", "night workers", "farmers",
               "tea sellers", "bus drivers"),
    "town": ("the provincial capital", "the coast", "the hill district", "across the border", "the delta",
             "the old capital"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "late": ("late", "delayed", "lost in transit", "held at customs", "never ordered", "sent to the wrong town"),
}


def story_text(slug: str, paragraphs: int = 3) -> List[str]:
    """Paragraphs of plain article text, different for every slug (well over 80 words)."""
    rng = random.Random(slug)
    out = []
    for p in range(paragraphs):
        sentences = []
        for template in rng.sample(_TEMPLATES, 4):
            fill = {key: rng.choice(values) for key, values in _SLOTS.items()}
            sentences.append(template.format(n=rng.randint(2, 99), **fill))
        out.append(f"Report {slug} part {p + 1}. " + " ".join(sentences))
    return out


def story_html(
    slug: str,
    *,
    title: Optional[str] = None,
    charset: Optional[str] = "utf-8",
    published: Optional[str] = None,
    paragraphs: Optional[List[str]] = None,
    head_extra: str = "",
    body_before: str = "",
    body_after: str = "",
) -> str:
    """An ordinary article page; `published` (YYYY-MM-DD) goes into meta and <time>."""
    title = title or f"Water board story {slug}"
    meta = f'<meta charset="{charset}">' if charset else ""
    date_meta = f'<meta property="article:published_time" content="{published}T08:00:00Z">' if published else ""
    time_tag = f'<p class="byline"><time datetime="{published}">{published}</time></p>' if published else ""
    paras = "".join(f"<p>{escape(p)}</p>\n" for p in (paragraphs or story_text(slug)))
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head>{meta}<title>{escape(title)}</title>{date_meta}{head_extra}</head>"
        f"<body>{body_before}<article><h1>{escape(title)}</h1>{time_tag}\n{paras}</article>{body_after}</body></html>"
    )


def rss(title: str, items: Iterable[Dict[str, str]]) -> bytes:
    """An RSS 2.0 document; each item dict may hold title, link, guid, pubDate, description."""
    parts = [f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{escape(title)}</title>"
             "<link>http://example.invalid/</link><description>fault suite</description>"]
    for item in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "pubDate", "description"):
            if key in item:
                parts.append(f"<{key}>{escape(item[key])}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def http_date(offset_s: float) -> str:
    """An HTTP-date `offset_s` from now."""
    return email.utils.formatdate(time.time() + offset_s, usegmt=True)


def rfc822(days_from_now: float) -> str:
    return email.utils.formatdate(time.time() + days_from_now * 86400, usegmt=True)


def gzip_bomb(decoded_size: int = BOMB_DECODED) -> bytes:
    """A gzip stream of `decoded_size` zero bytes (about a thousandth of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    out = [compressor.compress(block) for _ in range(decoded_size >> 20)]
    out.append(compressor.flush())
    return b"".join(out)


def repeat_to(block: bytes, total: int) -> Iterator[bytes]:
    """`block` repeated until `total` bytes were produced."""
    sent = 0
    while sent < total:
        piece = block[: total - sent]
        sent += len(piece)
        yield piece


def endless(block: bytes) -> Iterator[bytes]:
    while True:
        yield block
