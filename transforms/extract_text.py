"""Main-text extraction: FetchedPage -> Article (or an `errors` row).

Bytes are decoded by `decode_html` (BOM, then the declared charsets, each
checked by a strict decode, then UTF-8, then windows-1252), handed to
trafilatura with comments excluded, and the text is normalised (NFC, no
control characters, no leftover markup, single spaces, one paragraph per
line). A page with less than `min_words` of main text is `no_content`.

Dates: structured page metadata first (meta tags, JSON-LD, <time>, a visible
byline), then the feed's date; a date guessed from a URL slug or a
copyright footer is never used (htmldate's extensive search is off).

Input: PCollection[FetchedPage]. Outputs: Article, ErrorRecord.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
import unicodedata
from typing import Iterator, NamedTuple, Optional

import apache_beam as beam

from newswatch.clock import now_iso
from newswatch.records import Article, ErrorRecord, FetchedPage
from newswatch.transforms.canonical import content_hash

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# C0 and C1 control characters except tab and newline; also stray
# surrogates, non-characters and the replacement character's neighbours.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def _codec(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_html(body: bytes, declared: Optional[str] = None) -> tuple[str, str]:
    """Decode page bytes; return (text, codec used).

    A declared charset is only believed when the bytes decode cleanly with
    it, because "windows-1252 served as UTF-8" is common in the wild.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace"), name
    head = body[:4096]
    candidates = [_codec(declared)]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            candidates.append(_codec(match.group(1).decode("ascii", "ignore")))
    candidates += ["utf-8", "cp1252"]
    for name in candidates:
        if name is None:
            continue
        if name in ("latin-1", "iso8859-1", "ascii"):
            name = "cp1252"  # what browsers do for these labels
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("cp1252", errors="replace"), "cp1252"


def clean_text(text: str) -> str:
    """Normalise extracted text: NFC, no controls or markup, tidy whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = html_lib.unescape(text) if "&" in text else text
    text = _CONTROL.sub("", text)
    text = _TAG.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


class Extracted(NamedTuple):
    """What trafilatura found on a page, cleaned."""

    title: Optional[str]
    author: Optional[str]
    date: Optional[str]  # YYYY-MM-DD
    sitename: Optional[str]
    language: Optional[str]
    text: str


def extract(html: str) -> Extracted:
    """Run trafilatura on decoded HTML and clean its output."""
    from trafilatura import bare_extraction

    # No url: htmldate would otherwise read dates out of URL slugs
    # ("/2024/12/31-soldiers-..." is not 31 December).
    doc = bare_extraction(
        html,
        include_comments=False,
        fast=True,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return Extracted(None, None, None, None, _html_lang(html), "")
    language = getattr(doc, "language", None) or _html_lang(html)
    return Extracted(
        title=clean_text(doc.title) or None if doc.title else None,
        author=clean_text(doc.author) or None if doc.author else None,
        date=(doc.date or None),
        sitename=doc.sitename or None,
        language=language.lower() if language else None,
        text=clean_text(doc.text or ""),
    )


def _html_lang(html: str) -> Optional[str]:
    match = _HTML_LANG.search(html[:4096])
    return match.group(1).lower() if match else None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def page_to_article(page: FetchedPage, min_words: int = 80) -> Article:
    """Extract an Article from a fetched page; raise ValueError('no_content: ...')."""
    html, _ = decode_html(page.body, page.charset)
    found = extract(html)
    words = len(found.text.split())
    if words < min_words:
        raise ValueError(f"no_content: {words} words of main text (minimum {min_words})")
    item = page.item
    if found.date:
        published, origin = f"{found.date[:10]}T00:00:00+00:00", "page"
        if item.published_at and item.published_at[:10] == found.date[:10]:
            published = item.published_at  # the feed knows the time of day too
    elif item.published_at:
        published, origin = item.published_at, "feed"
    else:
        published, origin = None, None
    sitename = found.sitename
    if sitename and sitename == _host(page.final_url):
        sitename = None  # trafilatura's fallback is the host:port, not a name
    return Article(
        article_id=item.article_id,
        url=item.url,
        feed_url=item.feed_url,
        source=sitename or _host(item.url),
        title=found.title or item.title,
        author=found.author,
        published_at=published,
        date_origin=origin,
        fetched_at=page.fetched_at,
        seen_at=item.seen_at,
        language=found.language,
        text=found.text,
        content_hash=content_hash(found.text),
        duplicate_of=None,
        duplicate_kind=None,
        minhash=None,
    )


class _ExtractFn(beam.DoFn):
    def __init__(self, min_words: int):
        self._min_words = min_words

    def process(self, page: FetchedPage) -> Iterator:
        try:
            yield page_to_article(page, self._min_words)
            beam.metrics.Metrics.counter("extract", "articles").inc()
        except ValueError as exc:
            code, _, message = str(exc).partition(": ")
            code = code if code == "no_content" else "extract_failed"
            beam.metrics.Metrics.counter("extract", f"error_{code}").inc()
            yield beam.pvalue.TaggedOutput(
                "errors", ErrorRecord("extract", page.item.url, page.item.feed_url, code, message or str(exc), now_iso())
            )
        except Exception as exc:  # trafilatura/lxml on hostile markup: store, don't crash
            beam.metrics.Metrics.counter("extract", "error_extract_failed").inc()
            yield beam.pvalue.TaggedOutput(
                "errors",
                ErrorRecord("extract", page.item.url, page.item.feed_url, "extract_failed",
                            f"{type(exc).__name__}: {exc}", now_iso()),
            )


class ExtractText(beam.PTransform):
    """FetchedPage -> (Article, ErrorRecord)."""

    def __init__(self, min_words: int = 80):
        super().__init__()
        self._min_words = min_words

    def expand(self, pages):
        outputs = pages | "Trafilatura" >> beam.ParDo(_ExtractFn(self._min_words)).with_output_types(
            Article, errors=ErrorRecord
        ).with_outputs("errors", main="articles")
        return outputs.articles, outputs.errors
