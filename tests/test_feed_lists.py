import pytest

from newswatch.transforms.feeds import parse_feed_list_text, parse_opml, read_feed_list


def test_plain_list_with_comments_and_blanks():
    text = """# my feeds
https://a.example/rss.xml

  https://b.example/atom.xml   # the B outlet
# https://disabled.example/rss
"""
    assert parse_feed_list_text(text) == ["https://a.example/rss.xml", "https://b.example/atom.xml"]


def test_plain_list_rejects_non_urls():
    with pytest.raises(ValueError, match="not a feed URL"):
        parse_feed_list_text("https://a.example/rss\nnot a url\n")


def test_opml_nested_outlines():
    opml = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subs</title></head><body>
  <outline text="Myanmar">
    <outline type="rss" text="A" xmlUrl="https://a.example/rss.xml" htmlUrl="https://a.example/"/>
    <outline type="rss" text="B" xmlUrl="https://b.example/atom.xml"/>
  </outline>
  <outline text="no feed here"/>
</body></opml>"""
    assert parse_feed_list_text(opml) == ["https://a.example/rss.xml", "https://b.example/atom.xml"]


def test_opml_refuses_entities():
    with pytest.raises(ValueError):
        parse_opml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><opml><body/></opml>')


def test_read_feed_list_mixes_urls_and_files_and_dedups(tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text("https://a.example/rss.xml\nhttps://c.example/rss.xml\n")
    opml = tmp_path / "subs.opml"
    opml.write_text('<opml version="1.0"><body><outline xmlUrl="https://b.example/x"/></body></opml>')
    got = read_feed_list(["https://a.example/rss.xml", str(listing), str(opml)])
    assert got == ["https://a.example/rss.xml", "https://c.example/rss.xml", "https://b.example/x"]


def test_read_feed_list_missing_file():
    with pytest.raises(ValueError, match="neither"):
        read_feed_list(["/no/such/file.txt"])
