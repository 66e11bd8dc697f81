"""The bad cases of the fault site, one `case_<name>` method each, served under /case/<name>/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Optional
from xml.sax.saxutils import escape

from faults.pages import (
    BIG_PAGE,
    HUGE_PAGE,
    MANY_ITEMS,
    OVER_ARTICLE_CAP,
    OVER_FEED_CAP,
    endless,
    http_date,
    repeat_to,
    rfc822,
    rss,
    story_html,
    story_text,
)

if TYPE_CHECKING:
    from faults.server import FaultHandler


class CaseRoutes:
    """Mixed into `FaultSite`, which provides the addresses, counters and logs used here."""

    def _one_item_feed(self, h: FaultHandler, case: str, link: Optional[str] = None, **item: str) -> None:
        entry = {"title": f"Item of {case}", "link": link or self.article_url(case), "guid": f"{case}-1"}
        entry.update(item)
        h.send(200, rss(f"Case {case}", [entry]), "application/rss+xml; charset=utf-8")

    def _article_case(self, h: FaultHandler, case: str, rest: str, page: Callable[[FaultHandler], None]) -> None:
        if rest == "feed.xml":
            self._one_item_feed(h, case)
        elif rest == "article.html":
            page(h)
        else:
            h.send(404, b"not here", "text/plain")

    def _story(self, case: str, **kwargs) -> bytes:
        return story_html(case, **kwargs).encode("utf-8")

    # -------------------------------------------------------------- feed cases

    def case_malformed_recoverable(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("malformed_recoverable"), "text/html; charset=utf-8")
        body = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Bits & Pieces</title>"
                f"<item><title>Board & council agree</title><link>{self.article_url('malformed_recoverable')}</link>"
                f"<guid>mr-1</guid></item></channel></rss>").encode()
        h.send(200, body, "application/rss+xml")

    def case_malformed_unrecoverable(self, h: FaultHandler, rest: str) -> None:
        h.send(200, b"\x00\x01<rss<<channel>>\xff\xfe not xml at all </", "application/rss+xml")

    def case_billion_laughs(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("billion_laughs"), "text/html; charset=utf-8")
        levels = ['<!ENTITY l0 "laugh">'] + [
            f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)
        ]
        body = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
                "<rss version='2.0'><channel><title>Laughs &l9;</title>"
                f"<item><title>Item &l9;</title><link>{self.article_url('billion_laughs')}</link>"
                "<description>&l9;&l9;&l9;</description></item></channel></rss>").encode()
        h.send(200, body, "application/rss+xml")

    def case_xxe(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("xxe"), "text/html; charset=utf-8")
        body = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
                f'<!ENTITY secret SYSTEM "file://{self.secret_file}">\n'
                '<!ENTITY host SYSTEM "file:///etc/hostname">\n'
                f'<!ENTITY remote SYSTEM "http://127.0.0.1:{self.internal.port}/xxe">\n'
                f'<!ENTITY % param SYSTEM "http://127.0.0.1:{self.internal.port}/dtd"> %param;\n'
                "]>\n<rss version='2.0'><channel><title>XXE &secret;</title>"
                f"<item><title>Item &secret; &host;</title><link>{self.article_url('xxe')}</link>"
                "<description>&remote; &host; &secret;</description></item></channel></rss>").encode()
        h.send(200, body, "application/rss+xml")

    def case_gzip_bomb_feed(self, h: FaultHandler, rest: str) -> None:
        h.send(200, self.bomb(), "application/rss+xml", {"Content-Encoding": "gzip"})

    def case_endless_feed(self, h: FaultHandler, rest: str) -> None:
        h.stream(200, endless(b"<item><title>again</title></item>" * 1000), "application/rss+xml", chunked=True)

    def case_over_cap_with_length(self, h: FaultHandler, rest: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(OVER_FEED_CAP))
        h.end_headers()
        for piece in repeat_to(b" " * 65536, OVER_FEED_CAP):
            h.wfile.write(piece)

    def case_over_cap_without_length(self, h: FaultHandler, rest: str) -> None:
        h.stream(200, repeat_to(b"<!-- padding -->" * 4096, OVER_FEED_CAP), "application/rss+xml")

    def case_drip_feed(self, h: FaultHandler, rest: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        self.cutoffs[h.path] = h.wait_for_hangup(1.0, drip=True)

    def case_silent_feed(self, h: FaultHandler, rest: str) -> None:
        self.cutoffs[h.path] = h.wait_for_hangup(0.2)

    def case_redirect_loop(self, h: FaultHandler, rest: str) -> None:
        n = int(rest.split("-")[1].split(".")[0]) if rest.startswith("hop-") else 0
        h.send(302, b"", headers={"Location": f"/case/redirect_loop/hop-{(n + 1) % 3}.xml"})

    def case_redirect_internal(self, h: FaultHandler, rest: str) -> None:
        h.send(302, b"", headers={"Location": f"http://127.0.0.1:{self.internal.port}/admin/feed.xml"})

    def case_redirect_metadata(self, h: FaultHandler, rest: str) -> None:
        h.send(301, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/iam/"})

    def case_redirect_dns_internal(self, h: FaultHandler, rest: str) -> None:
        h.send(307, b"", headers={"Location": f"http://localhost:{self.internal.port}/feed.xml"})

    def case_dns_loopback(self, h: FaultHandler, rest: str) -> None:
        self._one_item_feed(h, "dns_loopback")  # never reached: localhost is not on the allow-list

    def case_tls_self_signed(self, h: FaultHandler, rest: str) -> None:
        self._one_item_feed(h, "tls_self_signed")  # never reached: the handshake fails

    def case_feed_404(self, h: FaultHandler, rest: str) -> None:
        h.send(404, b"gone missing", "text/html")

    def case_feed_410(self, h: FaultHandler, rest: str) -> None:
        h.send(410, b"gone for good", "text/html")

    def case_r429_seconds(self, h: FaultHandler, rest: str) -> None:
        h.send(429, b"slow down", "text/plain", {"Retry-After": "3600"})

    def case_r429_date(self, h: FaultHandler, rest: str) -> None:
        h.send(429, b"slow down", "text/plain", {"Retry-After": http_date(7200)})

    def case_r503_seconds(self, h: FaultHandler, rest: str) -> None:
        h.send(503, b"maintenance", "text/plain", {"Retry-After": "1800"})

    def case_r503_date(self, h: FaultHandler, rest: str) -> None:
        h.send(503, b"maintenance", "text/plain", {"Retry-After": http_date(5400)})

    def case_r503_short(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("r503_short"), "text/html; charset=utf-8")
        if self._hit(h.path) == 1:
            return h.send(503, b"one moment", "text/plain", {"Retry-After": "1"})
        self._one_item_feed(h, "r503_short")

    def case_flapping_500(self, h: FaultHandler, rest: str) -> None:
        def page(h: FaultHandler) -> None:
            if self._hit(h.path) == 1:
                return h.send(500, b"oops", "text/plain")
            h.send(200, self._story("flapping_500"), "text/html; charset=utf-8")
        self._article_case(h, "flapping_500", rest, page)

    def case_html_as_feed(self, h: FaultHandler, rest: str) -> None:
        h.send(200, self._story("html_as_feed"), "text/html; charset=utf-8")

    def case_empty_feed(self, h: FaultHandler, rest: str) -> None:
        h.send(200, rss("Nothing yet", []), "application/rss+xml")

    def case_empty_body(self, h: FaultHandler, rest: str) -> None:
        h.send(200, b"", "application/rss+xml")

    def case_duplicate_guids(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("duplicate_guids"), "text/html; charset=utf-8")
        link = self.article_url("duplicate_guids")
        items = [{"title": "First telling", "link": link, "guid": "same-guid"},
                 {"title": "UPDATE: second telling", "link": link, "guid": "same-guid"},
                 {"title": "Third, with tracking", "link": link + "?utm_source=rss", "guid": "same-guid"}]
        h.send(200, rss("Dupes", items), "application/rss+xml")

    def case_no_link_no_guid(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("no_link_no_guid"), "text/html; charset=utf-8")
        items = [{"title": "Only a title", "description": "No link and no guid here."},
                 {"title": "Normal", "link": self.article_url("no_link_no_guid"), "guid": "nl-2"}]
        h.send(200, rss("Half linked", items), "application/rss+xml")

    def _bad_link_feed(self, h: FaultHandler, case: str, bad: str) -> None:
        if rest_is_article(h.path):
            return h.send(200, self._story(case), "text/html; charset=utf-8")
        items = [{"title": "Bad link", "link": bad, "guid": f"{case}-bad"},
                 {"title": "Good link", "link": self.article_url(case), "guid": f"{case}-good"}]
        h.send(200, rss(f"Case {case}", items), "application/rss+xml")

    def case_file_link(self, h: FaultHandler, rest: str) -> None:
        self._bad_link_feed(h, "file_link", "file:///etc/passwd")

    def case_ftp_link(self, h: FaultHandler, rest: str) -> None:
        self._bad_link_feed(h, "ftp_link", f"ftp://127.0.0.1:{self.internal.port}/pub/story.txt")

    def case_javascript_link(self, h: FaultHandler, rest: str) -> None:
        self._bad_link_feed(h, "javascript_link", "javascript:alert(document.cookie)")

    def case_missing_dates(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("missing_dates"), "text/html; charset=utf-8")
        self._one_item_feed(h, "missing_dates")  # no pubDate, and the page has none either

    def case_missing_feed_date_page_dated(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("missing_feed_date_page_dated", published="2024-03-04"),
                          "text/html; charset=utf-8")
        self._one_item_feed(h, "missing_feed_date_page_dated")

    def case_future_date(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("future_date"), "text/html; charset=utf-8")
        self._one_item_feed(h, "future_date", pubDate=rfc822(30))

    def case_future_date_page_dated(self, h: FaultHandler, rest: str) -> None:
        if rest == "article.html":
            return h.send(200, self._story("future_date_page_dated", published="2024-02-03"),
                          "text/html; charset=utf-8")
        self._one_item_feed(h, "future_date_page_dated", pubDate=rfc822(2))

    def case_many_items(self, h: FaultHandler, rest: str) -> None:
        if rest.startswith("item-"):
            n = rest[len("item-"):].split(".")[0]
            return h.send(200, self._story(f"many_items_{n}"), "text/html; charset=utf-8")
        items = ({"title": f"Item {n}", "link": self.article_url("many_items", f"item-{n}.html"),
                  "guid": f"many-{n}"} for n in range(MANY_ITEMS))
        h.send(200, rss("Ten thousand", items), "application/rss+xml")

    # -------------------------------------------------------------- article cases

    def case_article_pdf(self, h: FaultHandler, rest: str) -> None:
        self._article_case(h, "article_pdf", rest, lambda h: h.send(
            200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"))

    def case_article_image(self, h: FaultHandler, rest: str) -> None:
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        self._article_case(h, "article_image", rest, lambda h: h.send(200, png, "image/png"))

    def case_article_404(self, h: FaultHandler, rest: str) -> None:
        self._article_case(h, "article_404", rest, lambda h: h.send(404, b"no such story", "text/html"))

    def case_cp1252_as_utf8(self, h: FaultHandler, rest: str) -> None:
        paras = story_text("cp1252_as_utf8")
        paras[0] = "\u201cWe will fix the pumps,\u201d the chair said \u2013 again. " + paras[0]
        page = story_html("cp1252_as_utf8", charset=None, paragraphs=paras).encode("cp1252")
        self._article_case(h, "cp1252_as_utf8", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_no_charset(self, h: FaultHandler, rest: str) -> None:
        paras = story_text("no_charset")
        paras[0] = "The caf\u00e9 owner, Ma Nw\u00e9, said the na\u00efve plan \u201cwould not last\u201d. " + paras[0]
        page = story_html("no_charset", charset=None, paragraphs=paras).encode("utf-8")
        self._article_case(h, "no_charset", rest, lambda h: h.send(200, page, "text/html"))

    def case_mojibake(self, h: FaultHandler, rest: str) -> None:
        paras = story_text("mojibake")
        # Text that was UTF-8, read as windows-1252 and saved again as UTF-8 upstream.
        paras[0] = "The chair\u2019s na\u00efve caf\u00e9 offer".encode("utf-8").decode("cp1252") + ". " + paras[0]
        page = story_html("mojibake", paragraphs=paras).encode("utf-8")
        self._article_case(h, "mojibake", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_invalid_utf8_controls(self, h: FaultHandler, rest: str) -> None:
        paras = story_text("invalid_utf8_controls")
        paras[0] = "Caf\u00e9 \u201cquotes\u201d and \u00fcml\u00e4uts stay. " + paras[0]
        page = story_html("invalid_utf8_controls", paragraphs=paras).encode("utf-8")
        # Stray bytes that are not UTF-8, and C0 controls (NUL, BEL, ESC) inside the text.
        page = page.replace(b"Report invalid_utf8_controls part 2.",
                            b"Report \xff\xfe invalid\x00_utf8\x07_controls part 2.\x1b[31m")
        self._article_case(h, "invalid_utf8_controls", rest,
                           lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_consent_wall(self, h: FaultHandler, rest: str) -> None:
        page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Before you continue</title></head>"
                "<body><div class='consent'><h1>We value your privacy</h1><p>We and our partners use cookies to "
                "store and access information on your device. Choose Accept all to continue.</p>"
                "<button>Accept all</button><button>Manage options</button></div></body></html>").encode()
        self._article_case(h, "consent_wall", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_gzip_bomb_article(self, h: FaultHandler, rest: str) -> None:
        self._article_case(h, "gzip_bomb_article", rest, lambda h: h.send(
            200, self.bomb(), "text/html; charset=utf-8", {"Content-Encoding": "gzip"}))

    def case_huge_page(self, h: FaultHandler, rest: str) -> None:
        start = story_html("huge_page").encode().replace(b"</body></html>", b"")
        filler = b"<div class='more'><a href='/x'>More headlines from the region</a></div>\n" * 1000
        def chunks() -> Iterator[bytes]:
            yield start
            yield from repeat_to(filler, HUGE_PAGE - len(start))
        self._article_case(h, "huge_page", rest, lambda h: h.stream(200, chunks(), "text/html; charset=utf-8",
                                                                    chunked=True))

    def case_big_page(self, h: FaultHandler, rest: str) -> None:
        start = story_html("big_page").encode().replace(b"</body></html>", b"")
        links = b"".join(b"<li><a href='/r/%d'>Related headline %d</a></li>" % (i, i) for i in range(100))
        filler = b"<div class='related'><ul>" + links + b"</ul></div>\n"
        def chunks() -> Iterator[bytes]:
            yield start
            yield from repeat_to(filler, BIG_PAGE - len(start) - 14)
            yield b"</body></html>"
        self._article_case(h, "big_page", rest, lambda h: h.stream(200, chunks(), "text/html; charset=utf-8",
                                                                   chunked=True))

    def case_article_over_cap_with_length(self, h: FaultHandler, rest: str) -> None:
        def page(h: FaultHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(OVER_ARTICLE_CAP))
            h.end_headers()
            for piece in repeat_to(b"<p>padding</p>" * 4096, OVER_ARTICLE_CAP):
                h.wfile.write(piece)
        self._article_case(h, "article_over_cap_with_length", rest, page)

    def case_hostile_scripts(self, h: FaultHandler, rest: str) -> None:
        script = "<script>var s = 'SCRIPTPAYLOAD defected 900 soldiers';" + "x=1;" * 200_000 + "</script>"
        page = story_html("hostile_scripts", head_extra=script + "<style>p{color:red}</style>",
                          body_before="<script>document.write('SCRIPTPAYLOAD')</script><noscript>enable js</noscript>",
                          body_after="<script src='x.js'></script><script>unterminated SCRIPTPAYLOAD").encode()
        self._article_case(h, "hostile_scripts", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_huge_attribute(self, h: FaultHandler, rest: str) -> None:
        attr = "A" * (5 * 1024 * 1024)
        page = story_html("huge_attribute", body_before=f"<div data-blob='{attr}' class='{attr[:100_000]}'>x</div>"
                          f"<img alt=\"{attr[:1_000_000]}\">").encode()
        self._article_case(h, "huge_attribute", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_deep_nesting(self, h: FaultHandler, rest: str) -> None:
        depth = 100_000
        paras = "".join(f"<p>{escape(p)}</p>" for p in story_text("deep_nesting"))
        page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Deep</title></head><body>"
                + "<div>" * depth + paras + "</div>" * depth + "</body></html>").encode()
        self._article_case(h, "deep_nesting", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_absurd_number(self, h: FaultHandler, rest: str) -> None:
        paras = story_text("absurd_number")
        paras[1] = f"Officials said {'9' * 400} soldiers defected to the resistance last week. " + paras[1]
        page = story_html("absurd_number", paragraphs=paras).encode()
        self._article_case(h, "absurd_number", rest, lambda h: h.send(200, page, "text/html; charset=utf-8"))

    def case_redirect_to_file(self, h: FaultHandler, rest: str) -> None:
        self._article_case(h, "redirect_to_file", rest,
                           lambda h: h.send(302, b"", headers={"Location": "file:///etc/passwd"}))

    def case_article_internal(self, h: FaultHandler, rest: str) -> None:
        self._one_item_feed(h, "article_internal", link=f"http://127.0.0.1:{self.internal.port}/story.html")

    def case_article_metadata(self, h: FaultHandler, rest: str) -> None:
        self._one_item_feed(h, "article_metadata", link="http://169.254.169.254/latest/user-data")

    def case_article_silent(self, h: FaultHandler, rest: str) -> None:
        def page(h: FaultHandler) -> None:
            self.cutoffs[h.path] = h.wait_for_hangup(0.2)
        self._article_case(h, "article_silent", rest, page)

    def case_robots_disallowed(self, h: FaultHandler, rest: str) -> None:
        self._one_item_feed(h, "robots_disallowed", link=f"{self.base}/private/robots_disallowed.html")

    def case_robots_exempt(self, h: FaultHandler, rest: str) -> None:
        if rest == "feed.xml":
            return self._one_item_feed(h, "robots_exempt")
        h.send(200, self._story("robots_exempt"), "text/html; charset=utf-8")

    def case_robots_unavailable(self, h: FaultHandler, rest: str) -> None:
        if rest == "feed.xml":
            return self._one_item_feed(
                h, "robots_unavailable", link=f"http://{self.host_port('aux')}/case/robots_unavailable/article.html")
        h.send(200, self._story("robots_unavailable"), "text/html; charset=utf-8")


def rest_is_article(path: str) -> bool:
    return path.split("?", 1)[0].endswith("/article.html")
