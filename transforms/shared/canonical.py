"""Canonical article URLs, stable article ids and content hashes.

Pure functions, no Beam: the feed stage calls them on every item link so that
the same article reached through ``?utm_source=rss`` and through a clean
link, or listed by two feeds, becomes one `article_id`.

    >>> canonical_url("HTTP://Example.COM:80/a/b?utm_source=rss&id=7#top")
    'http://example.com/a/b?id=7'
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which page.
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
        "oly_enc_id", "vero_id", "wickedid", "rb_clickid", "s_cid", "ref_src", "cmpid",
        "ncid", "ocid", "sr_share", "at_medium", "at_campaign", "spm", "_ga", "_gl",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "itm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# No '%' in either set: the parts are percent-decoded before quoting, so a '%'
# left is a literal one ('%2521' decodes to '%21') and must become '%25', or the
# next pass would decode it again ('%21' -> '!').
_SAFE_PATH = "/:@!$&'()*+,;=-._~"
# '+' is escaped in queries: parse_qsl reads a bare '+' as a space, so keeping
# it would make canonicalisation non-idempotent ('%2B' -> '+' -> '%20').
_SAFE_QUERY = "/:@!$'()*,;-._~?"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)


def _normalise_percent(part: str, safe: str) -> str:
    # Decoding then re-quoting makes "%7e", "~" and "%7E" one spelling.
    return quote(unquote(part), safe=safe)


def canonical_url(url: str) -> str:
    """Return the canonical form of an http(s) URL.

    Lowercases scheme and host, drops default ports, userinfo, fragments and
    tracking parameters, removes dot segments, normalises percent-encoding
    and keeps the remaining query parameters in their original order.
    Idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.
    Raises ValueError for URLs that are not absolute http(s) URLs.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = _canonical_host(parts.hostname or "", url)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}") from exc
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"

    path = _remove_dot_segments(_normalise_percent(parts.path, _SAFE_PATH)) or "/"
    pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    query = urlencode(pairs, quote_via=quote, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def _canonical_host(host: str, url: str) -> str:
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise ValueError(f"bad host in {url!r}: {exc}") from None
    # Strip the root dot again after IDNA: NFKC turns characters such as U+2024
    # (one dot leader) into '.', and a host that is only dots is no host.
    host = host.rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    return host


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if path.endswith(("/.", "/..")):
        out.append("")
    return "/".join(out)


def article_id(canonical: str) -> str:
    """Stable 16-hex-digit id of an article: a hash of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_WS = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """Hash of cleaned text, insensitive to whitespace and case differences."""
    folded = _WS.sub(" ", text).strip().casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]
