"""Property tests for the pure parsers.

Each parser must never raise anything but its documented error on any input,
and its stated invariants must hold on every input it accepts. How many inputs
each property gets is the Hypothesis profile's choice (tests/conftest.py): a
fixed 300 in the default run, 10,000 random ones with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newswatch.transforms.shared.canonical import _is_tracking, canonical_url
from newswatch.transforms.extract_text import decode_html
from newswatch.transforms.feeds import parse_feed_list_text
from newswatch.transforms.mentions.numbers import parse_number

# ------------------------------------------------------------------ canonical URLs

_label = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
_hosts = st.one_of(
    st.lists(_label, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["127.0.0.1", "[::1]", "[2001:db8::7]", "xn--bcher-kva.example", "bücher.example",
                     "EXAMPLE.ORG.", "a_b.example"]),
)
_param_names = st.one_of(
    st.sampled_from(["utm_source", "UTM_Medium", "utm_campaign", "fbclid", "gclid", "mc_eid", "pk_kwd",
                     "id", "page", "q", "lang", "p"]),
    st.text(min_size=1, max_size=8),
)
_params = st.lists(st.tuples(_param_names, st.text(max_size=6)), max_size=3)
_path = st.lists(st.one_of(st.text(max_size=6), st.sampled_from([".", "..", "%7e", "%7E", "~", "%2F", "a b"])),
                 max_size=4).map(lambda parts: "/" + "/".join(parts))


@st.composite
def _urls(draw) -> str:
    start = draw(st.sampled_from(["http://", "https://user@", "HTTP://user:pw@", "Https://"]))
    port, fragment = draw(st.sampled_from([("", ""), (":80", "#top"), (":443", "#"), (":8080", "#a?b=c"),
                                           (":0", ""), (":65535", "#x")]))
    path = draw(_path)
    path = quote(path, safe="/%~.") if len(path) % 2 else path  # raw and pre-quoted paths alike
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in draw(_params))
    return f"{start}{draw(_hosts)}{port}{path}{'?' + query if query else ''}{fragment}"


@given(st.one_of(_urls(), st.text(max_size=60), st.text(max_size=20).map(lambda t: "http://" + t)))
@example("HTTP://Example.COM:80/a/./b/../c?utm_source=rss&id=7#top")
@example("HTTP://\u2024")  # NFKC made the host '.', so the result 'http://./' was itself refused
@example("http://a\u2024")  # ... and 'a.' kept a root dot that a second pass stripped
@example("http://127.0.0.1/?%2B=")  # '+' in a query once made the result change on a second pass
@example("http://0/?%2521=")  # a decoded '%' was left bare, so a second pass decoded '%21' to '!'
@example("http://a/%2525")  # ... the same in the path
def test_canonical_url(url: str) -> None:
    try:
        canon = canonical_url(url)
    except ValueError:
        return  # the one documented failure
    assert canonical_url(canon) == canon  # idempotent
    parts = urlsplit(canon)
    assert parts.scheme in ("http", "https")
    assert parts.fragment == "" and "#" not in canon
    assert not any(_is_tracking(name) for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    host = parts.netloc.rsplit("@", 1)[-1]
    assert host == host.lower() and "@" not in parts.netloc


@pytest.mark.parametrize("url", ["http://127.0.0.1/?%2B=", "http://a.example/s?q=1%2B1"])
def test_canonical_url_plus_in_query_is_idempotent(url: str) -> None:
    canon = canonical_url(url)
    assert canonical_url(canon) == canon


# ------------------------------------------------------------------ numbers


@given(st.one_of(st.text(max_size=80), st.text(alphabet="0123456789,. -/adhilmnorstuvwxyz", max_size=400)))
def test_parse_number_never_raises(text: str) -> None:
    value = parse_number(text)
    assert value is None or (isinstance(value, int) and value >= 0)


@pytest.mark.parametrize("text", ["9" * 400, "9" * 400 + ".5 million", "1" * 320 + " soldiers"])
def test_parse_number_survives_absurdly_long_numbers(text: str) -> None:
    assert parse_number(text) is None or parse_number(text) >= 0


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_number_round_trips_formatted_integers(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"  {n:,} ") == n


@given(st.integers(min_value=10**9 + 1, max_value=10**400))
def test_parse_number_refuses_implausible_counts(n: int) -> None:
    # No reported count of people or weapons exceeds a billion: longer digit
    # runs are IDs, phone numbers or garbage (transforms/mentions/numbers.py _MAX_COUNT).
    assert parse_number(str(n)) is None
    assert parse_number(f"{n:,}") is None


# ------------------------------------------------------------------ feed lists


_list_entries = st.one_of(
    st.sampled_from(["https://a.example/rss.xml", "HTTP://B.example/atom", "file:///etc/passwd", "javascript:x",
                     " ", "# comment", "https://a.example/feed.xml # note", "http://b.example/#frag",
                     "HTTPS://C.example/x\t# tab note", "ftp://nope.example/", "not a url", ""]),
    st.text(max_size=20),
)


def _opml(urls: list[str]) -> str:
    outlines = "".join(f"<outline text='x' xmlUrl={quoteattr(u)}/>" for u in urls)
    return f"<?xml version='1.0'?><opml version='2.0'><body>{outlines}</body></opml>"


@given(st.one_of(
    st.text(max_size=200),
    st.lists(_list_entries, max_size=5).map("\n".join),
    st.lists(_list_entries, max_size=4).map(_opml),
    st.text(max_size=40).map(lambda t: "\ufeff<" + t),
))
def test_feed_list_parsing(text: str) -> None:
    try:
        urls = parse_feed_list_text(text)
    except ValueError:
        return
    assert all(url.lower().startswith(("http://", "https://")) for url in urls)
    assert all(url == url.strip() and url for url in urls)


# ------------------------------------------------------------------ charset decoding

_labels = st.one_of(
    st.none(),
    st.sampled_from(["utf-8", "UTF-8", "utf8", "windows-1252", "iso-8859-1", "latin-1", "ascii", "shift_jis",
                     "euc-kr", "gb2312", "koi8-r", "utf-16", "utf-16le", "utf-32", "idna", "punycode",
                     "unicode_escape", "utf-7", "undefined", "hex", "base64", "rot13", "zlib", "bogus",
                     '"utf-8"', " utf-8 ", "x-user-defined", "a\x00b"]),
    st.text(max_size=12),
)
_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(lambda t: t.encode("utf-8")),
    st.tuples(st.sampled_from([b"<meta charset='", b"<?xml version='1.0' encoding='", b'<meta http-equiv="x" content="text/html; charset=']),
              st.sampled_from([b"utf-8", b"idna", b"hex", b"undefined", b"shift_jis", b"\x00", b"cp1252"]),
              st.binary(max_size=100)).map(lambda t: t[0] + t[1] + b"'>" + t[2]),
    st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]).flatmap(lambda bom: st.binary(max_size=50).map(bom.__add__)),
)


@given(_bodies, _labels)
def test_decode_html_never_raises(body: bytes, declared) -> None:
    text, codec = decode_html(body, declared)
    assert isinstance(text, str) and isinstance(codec, str)


@given(st.text(max_size=200), st.sampled_from([None, "utf-8", "UTF-8", "utf8"]))
def test_decode_html_utf8_round_trips(text: str, declared) -> None:
    head = text.encode("utf-8")[:4096].lower()
    if text.startswith("\ufeff") or b"charset" in head or b"encoding" in head:
        return  # a BOM or an in-document declaration rightly takes over
    assert decode_html(text.encode("utf-8"), declared) == (text, "utf-8")
