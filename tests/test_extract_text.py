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
