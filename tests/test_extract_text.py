from newswatch.transforms.extract_text import clean_text, decode_html


def test_declared_charset_used_when_it_decodes():
    body = '<html><head><meta charset="windows-1252"></head><p>“quoted” café</p>'.encode("cp1252")
    text, codec = decode_html(body, None)
    assert "“quoted” café" in text and codec == "cp1252"


def test_windows_1252_served_as_utf8_falls_back():
    body = "<p>“smart” quotes</p>".encode("cp1252")
    text, codec = decode_html(body, "utf-8")
    assert "“smart” quotes" in text and codec == "cp1252"


def test_header_charset_beats_meta_when_both_decode():
    body = '<meta charset="utf-8"><p>caf\xe9</p>'.encode("latin-1")
    text, codec = decode_html(body, "iso-8859-1")
    assert "café" in text


def test_no_declaration_utf8_then_bom():
    assert decode_html("<p>Ñ</p>".encode("utf-8"))[0] == "<p>Ñ</p>"
    assert decode_html(b"\xef\xbb\xbf<p>x</p>")[0] == "<p>x</p>"
    assert decode_html("<p>ŋ</p>".encode("utf-16-le").join([b"\xff\xfe", b""]))[0] == "<p>ŋ</p>"


def test_unknown_charset_label_is_ignored():
    assert decode_html(b"<p>plain</p>", "x-no-such-charset")[0] == "<p>plain</p>"


def test_clean_text_normalises():
    raw = "Cafe\u0301  news\x00\x1b here\u00a0now\r\n\n  <b>bold</b> &amp; more\n\n"
    assert clean_text(raw) == "Café news here now\nbold & more"


def test_a_number_in_the_url_slug_is_not_the_date():
    from newswatch.transforms.extract_text import extract, prepare_markup

    para = "<p>" + "Officials said the river ferry would resume on Monday after repairs to its engine. " * 12 + "</p>"
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<link rel="canonical" href="https://news.example/2025/05/17-soldiers-defect.html">
<meta property="og:url" content="https://news.example/2025/05/17-soldiers-defect.html">
<meta property="article:published_time" content="2025-05-03T08:00:00+06:30"><title>Ferry</title></head>
<body><article><h1>Ferry resumes</h1>{para}{para}</article></body></html>"""
    assert extract(prepare_markup(html)).date == "2025-05-03"


# --------------------------------------------------------------------------- short briefs and non-articles

import pytest  # noqa: E402

from newswatch.records import FeedItem, FetchedPage  # noqa: E402
from newswatch.transforms.extract_text import content_problem, page_to_article  # noqa: E402

_BRIEF = ("YANGON (NW Wire) - Nine police officers from a station in Myingyan walked off the job on Sunday and "
          "joined the Civil Disobedience Movement, a local resistance group said. They brought four pistols. "
          "The junta did not comment.")


def _page(html: str, title: str | None = "Feed title") -> FetchedPage:
    url = "http://news.example/a.html"
    item = FeedItem("id1", url, "http://news.example/rss", title, None, "2025-03-06T00:00:00+00:00")
    return FetchedPage(item, url, 200, "text/html", "utf-8", html.encode("utf-8"), "2025-03-06T00:00:00+00:00")


def _html(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def test_a_wire_brief_under_80_words_is_kept():
    assert len(_BRIEF.split()) < 40
    article = page_to_article(_page(_html("Nine Myingyan police join CDM", _BRIEF)))
    assert "Myingyan" in article.text and article.title == "Nine Myingyan police join CDM"


@pytest.mark.parametrize("lines, title, why", [
    (["We value your privacy", "We and our partners use cookies to store information on your device.",
      "Accept all", "Manage options"], "Before you continue", "consent wall"),
    (["Troops defect in Sagaing", "Subscribe now to continue reading this story.",
      "Already a subscriber? Sign in."], "Troops defect", "paywall stub"),
    (["Page not found", "The page you requested could not be found on this server."], "404", "error page"),
    (["Checking your browser before accessing the site.", "Please enable JavaScript and cookies."], None, "error page"),
    (["Home | News | Sport | Contact"], "Home", "no sentence"),
    (["Soldiers defected to the resistance near the border on Monday."], None, "no headline"),
])
def test_non_articles_are_named_for_what_they_are(lines, title, why):
    assert content_problem(title, "\n".join(lines)).startswith(why)


def test_a_long_article_with_a_subscribe_line_is_kept():
    text = "\n".join(["Officials said the ferry across the river resumed on Monday after weeks of repairs."] * 12
                     + ["Subscribe now to continue reading our newsletter."])
    assert content_problem("Ferry resumes", text) is None


def test_a_consent_page_is_no_content_at_extraction():
    html = _html("Before you continue", "We value your privacy.",
                 "We and our partners use cookies to store and access information on your device.",
                 "Choose Accept all to continue.")
    with pytest.raises(ValueError, match="^no_content: consent wall"):
        page_to_article(_page(html))


def test_a_short_burmese_brief_is_a_sentence_too():
    text = "စစ်သား ကိုးဦးသည် တနင်္ဂနွေနေ့က တော်လှန်ရေးအင်အားစုထံ လက်နက်များနှင့်အတူ ခိုလှုံခဲ့ကြသည်။"
    assert content_problem("စစ်သားကိုးဦး ခိုလှုံ", text) is None
