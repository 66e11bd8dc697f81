import pytest

from newswatch.transforms.shared.canonical import article_id, canonical_url, content_hash


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("HTTP://Example.COM:80/a/b", "http://example.com/a/b"),
        ("https://example.com:443/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
        ("https://example.com/a?id=7&utm_campaign=x&fbclid=abc&gclid=1", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
        ("https://example.com/a?q=a%20b", "https://example.com/a?q=a%20b"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://EXAMPLE.com./a", "https://example.com/a"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://a\u2024/x", "http://a/x"),  # U+2024 folds to a root dot under IDNA
        ("http://a/100%25?q=%2521", "http://a/100%25?q=%2521"),  # a literal '%' stays escaped
        ("http://a/100%?q=5%", "http://a/100%25?q=5%25"),  # ... and a stray one gets escaped
    ],
)
def test_canonical_url_golden(raw, expected):
    assert canonical_url(raw) == expected


@pytest.mark.parametrize("bad", ["ftp://example.com/a", "file:///etc/passwd", "/relative", "", "http://", "https://x:99999/",
                                 "HTTP://\u2024", "http://\u2025/a"])  # hosts that fold to dots only
def test_canonical_url_rejects_non_http(bad):
    with pytest.raises(ValueError):
        canonical_url(bad)


def test_tracking_and_clean_links_share_an_article_id():
    clean = canonical_url("http://127.0.0.1:8765/asia-monitor/2024/05/story.html")
    tracked = canonical_url(
        "http://127.0.0.1:8765/asia-monitor/2024/05/story.html?utm_source=rss&utm_medium=feed&utm_campaign=wire"
    )
    assert clean == tracked
    assert article_id(clean) == article_id(tracked)
    assert len(article_id(clean)) == 16


def test_content_hash_ignores_whitespace_and_case_only():
    assert content_hash("Soldiers  defected.\nMore text") == content_hash("soldiers defected. more text")
    assert content_hash("Soldiers defected.") != content_hash("Soldiers deserted.")
