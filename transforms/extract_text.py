"""Main-text extraction: FetchedPage -> Article (or an `errors` row).

Bytes are decoded by `decode_html` (BOM, then the declared charsets, each
checked by a strict decode, then UTF-8, then windows-1252; a page that is
mostly UTF-8 with a few stray bytes keeps its UTF-8 and reads only the stray
bytes as windows-1252). Before trafilatura sees the markup, script, style
and svg elements are cut out (JSON-LD is kept for its dates) and what is
left is cut at `MAX_MARKUP_CHARS`, because lxml and trafilatura need up to
about 85 bytes of memory per character of dense markup (link lists). The
text is normalised (mojibake such as "donâ€™t" repaired with ftfy, NFC, no
control characters, no leftover markup, single spaces, one paragraph per
line). A page is `no_content` when it is not an article, by what it is
(:func:`content_problem`): a consent wall, a paywall stub, an error or
bot-check page, or text with no headline or no sentence. A wire brief of 40
words with a headline is kept; `min_words` is only the length under which a
page must show that it is a brief.

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
import ftfy

from newswatch.clock import now_iso
from newswatch.records import Article, ErrorRecord, FetchedPage
from newswatch.transforms.shared.burmese_text import min_words_for, unicode_page, word_count
from newswatch.transforms.shared.canonical import content_hash

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?""", re.IGNORECASE)
# Python codecs a hostile Content-Type could name that no web page is written in.
_NOT_WEB_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7"})
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# C0 and C1 control characters except tab and newline; also stray
# surrogates, non-characters and the replacement character's neighbours.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
# Elements whose content is never article text; the attribute part is bounded
# and stops at "<" so a hostile run of "<script" cannot make the scan quadratic.
_HEAVY_OPEN = re.compile(r"<(script|style|svg)\b([^<>]{0,1000})>", re.IGNORECASE)
_HEAVY_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "svg")}
_JSON_LD_MAX = 256 * 1024
# Attribute values this long are data blobs (inline images, state dumps), never text.
_HUGE_ATTRIBUTE = re.compile(r"""=\s*(?:"[^"]{4096,}"|'[^']{4096,}')""")
MAX_MARKUP_CHARS = 1_500_000  # ~130 MB peak for the densest markup measured
# Only the mojibake repairs of ftfy: quotes, widths and line breaks stay as written.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=True,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def _codec(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip().strip("\"'"))
    except (LookupError, ValueError):  # ValueError: a NUL inside the label
        return None
    return None if info.name in _NOT_WEB_CODECS else info.name


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
    candidates.append("utf-8")
    for name in candidates:
        if name is None:
            continue
        if name in ("latin-1", "iso8859-1", "ascii"):
            name = "cp1252"  # what browsers do for these labels
        try:
            return body.decode(name), name
        except (UnicodeError, LookupError):  # LookupError: a bytes-to-bytes codec such as "hex"
            continue
    if _mostly_utf8(body):
        return body.decode("utf-8", errors=_STRAY_BYTES), "utf-8"
    return body.decode("cp1252", errors="replace"), "cp1252"  # only 5 byte values are undefined


def _stray_bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: read bytes that are not UTF-8 as windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


_STRAY_BYTES = "newswatch.stray_bytes_as_cp1252"
codecs.register_error(_STRAY_BYTES, _stray_bytes_as_cp1252)


def _mostly_utf8(body: bytes) -> bool:
    """True when valid multi-byte UTF-8 characters outnumber the invalid bytes."""
    lenient = body.decode("utf-8", errors="replace")
    invalid = lenient.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    non_ascii = len(lenient) - len(lenient.encode("ascii", errors="ignore"))
    return non_ascii - invalid > invalid


_SELF_URL = re.compile(
    r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>|<meta\b[^>]*\b(?:property|name)\s*=\s*["']?(?:og:url|twitter:url)\b[^>]*>""",
    re.IGNORECASE,
)


def prepare_markup(html: str, max_chars: int = MAX_MARKUP_CHARS) -> str:
    """Cut script, style and svg elements (keeping small JSON-LD) and huge attribute values, then cap the length.

    An element left open swallows the rest of the page, as it would in a
    browser. The cap cuts at a tag boundary; the article body comes early in
    real pages, so what is lost is mostly footer and link lists.
    """
    pieces: list[str] = []
    pos = 0
    while pos < len(html):
        opening = _HEAVY_OPEN.search(html, pos)
        if opening is None:
            break
        name = opening.group(1).lower()
        closing = _HEAVY_CLOSE[name].search(html, opening.end())
        end = len(html) if closing is None else closing.end()
        keep = (
            closing is not None
            and name == "script"
            and "ld+json" in opening.group(2).lower()
            and closing.start() - opening.end() <= _JSON_LD_MAX
        )
        pieces.append(html[pos:end] if keep else html[pos:opening.start()])
        pos = end
    if pieces:
        pieces.append(html[pos:])
        html = "".join(pieces)
    html = _HUGE_ATTRIBUTE.sub('=""', html)
    # htmldate reads a date out of the page's own URL (canonical link, og:url)
    # before its metadata: "/2025/05/17-soldiers-..." is not 17 May.
    html = _SELF_URL.sub("", html)
    if len(html) > max_chars:
        cut = html.rfind("<", 0, max_chars)
        html = html[: cut if cut > 0 else max_chars]
    return html


def clean_text(text: str) -> str:
    """Normalise extracted text: NFC, no controls or markup, tidy whitespace."""
    text = ftfy.fix_text(text, _FTFY)
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


# What a page that is not an article says. Each pattern names one kind of non-article.
_NOT_ARTICLE = (
    ("consent wall", re.compile(
        r"\b(?:we use cookies|uses? cookies|cookie (?:policy|settings|preferences)|accept (?:all|cookies)|"
        r"manage (?:options|preferences|cookies)|we value your privacy|your privacy choices|"
        r"consent to (?:the use|our use)|before you continue|reject all)\b", re.I)),
    ("paywall stub", re.compile(
        r"\b(?:subscribe (?:now |today )?to (?:continue|read|unlock|access)|subscribers? only|"
        r"for subscribers|already a subscriber|to continue reading|continue reading with|"
        r"this (?:article|content|story) is (?:for|available to|reserved for) (?:paid )?(?:subscribers|members)|"
        r"sign in to (?:continue|read)|log ?in to (?:continue|read)|become a member to|unlock this article|"
        r"start your (?:free )?trial)\b", re.I)),
    ("error page", re.compile(
        r"\b(?:page not found|404 not found|error 404|not found on this server|the page you (?:are looking for|"
        r"requested|were looking for)|page (?:does not|doesn't|no longer) exists?|access denied|403 forbidden|"
        r"internal server error|service (?:temporarily )?unavailable|something went wrong|bad gateway|"
        r"enable javascript|javascript is (?:disabled|required)|checking your browser|are you a robot|"
        r"verify you are (?:a )?human|complete the captcha|request (?:was )?blocked)\b", re.I)),
)
# a sentence: letters, then an end mark (Burmese "။" too); six words, or 40 characters for unspaced scripts
_SENTENCE = re.compile(r"[^.!?။\n]*[^\W\d_][^.!?။\n]*[.!?။]['\"’”)]*(?:\s|$)")


def content_problem(title: Optional[str], text: str, min_words: int = 80) -> Optional[str]:
    """Why the extracted text is not an article (None when it is one).

    A page whose lines are mostly consent, paywall or error notices is rejected at any
    length. A page under ``min_words`` words must also show it is a brief: a headline
    and at least one sentence of six or more words, and no such notice at all.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return "no main text"
    words = word_count(text)  # Burmese: one per syllable
    for kind, pattern in _NOT_ARTICLE:
        marked = sum(1 for line in lines if pattern.search(line))
        if marked and (words < min_words or 2 * marked >= len(lines)):
            return f"{kind} ({words} words)"
    if words < min_words:
        if not (title and title.strip()):
            return f"no headline ({words} words)"
        if not any(len(m.group().split()) >= 6 or len(m.group().strip()) >= 40 for m in _SENTENCE.finditer(text)):
            return f"no sentence ({words} words)"
    return None


def page_to_article(page: FetchedPage, min_words: int = 80) -> Article:
    """Extract an Article from a fetched page; raise ValueError('no_content: ...')."""
    html, _ = decode_html(page.body, page.charset)
    found = extract(prepare_markup(html))
    # Issue 16: Zawgyi becomes Unicode before anything reads the text; Burmese words are counted by syllable.
    title, text, language, source_encoding = unicode_page(found.title, found.text, found.language)
    found = found._replace(title=title, text=text, language=language)
    problem = content_problem(found.title or page.item.title, found.text, min_words_for(found.language, min_words))
    if problem is not None:
        raise ValueError(f"no_content: {problem}")
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
        title=found.title or unicode_page(item.title, "", None)[0],
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
        source_encoding=source_encoding,
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
