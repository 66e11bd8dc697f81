"""What the HTTP client sends and gets back: limits, one request in flight, the response.

``FetchLimits`` configures a client; ``Response`` is what a request returns.
``Request`` is one request as it travels through the client's hops: method,
checked URL, headers, body, byte cap and the deadline shared by every hop and
retry of one call. It is immutable; a redirect makes the next one with
``redirected_to``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Mapping, NamedTuple, Optional

from newswatch import __version__
from newswatch.http.deadline import Deadline
from newswatch.http.guard import Target

DEFAULT_USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
DEFAULT_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,*/*;q=0.8"
)
# Headers that must not travel to a different origin on a redirect.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


@dataclass(frozen=True)
class FetchLimits:
    """Limits and identity for one client; immutable and picklable."""

    total_deadline_s: float = 30.0
    """Wall clock for a whole request: every hop, retry wait and body read."""
    connect_timeout_s: float = 10.0
    """Cap on one TCP connect (never beyond what is left of the deadline)."""
    max_bytes: int = 20 * 1024 * 1024
    """Largest body accepted, counted after Content-Encoding is decoded."""
    max_redirects: int = 5
    """Redirects followed before failing with ``too_many_redirects``."""
    retries: int = 3
    """Extra GET attempts after 5xx, timeouts and connection errors."""
    backoff_s: float = 0.5
    """First retry back-off; doubles per retry, with jitter."""
    user_agent: str = DEFAULT_USER_AGENT
    """User-Agent header sent with every request."""
    accept: str = DEFAULT_ACCEPT
    """Accept header sent unless the caller passes its own."""

    def __post_init__(self) -> None:
        if self.total_deadline_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("deadline and connect timeout must be positive")
        if self.max_bytes < 0 or self.max_redirects < 0 or self.retries < 0 or self.backoff_s < 0:
            raise ValueError("max_bytes, max_redirects, retries and backoff_s must be >= 0")


class Response(NamedTuple):
    """A completed exchange (2xx, 304, or a 3xx that was not followed)."""

    url: str  # final URL, after redirects
    status: int
    headers: Dict[str, str]  # lower-case names; repeated headers joined by ", "
    body: bytes  # decoded from gzip/deflate
    content_type: Optional[str]  # lower-case mime type without parameters
    charset: Optional[str]  # from the Content-Type parameters
    elapsed_s: float


@dataclass(frozen=True)
class Request:
    """One request through its hops: what to send, where, and within which limits."""

    method: str
    target: Target
    headers: Mapping[str, str]  # final request headers (identity, caller's, Accept-Encoding)
    body: Optional[bytes]
    max_bytes: int  # body cap after decoding
    deadline: Deadline  # one budget for every hop and retry of the call
    follow_redirects: bool  # GET follows 3xx; POST hands it back

    @property
    def url(self) -> str:
        return self.target.url

    def redirected_to(self, target: Target) -> "Request":
        """The next hop's request; credentials stay behind when the origin changes."""
        headers: Mapping[str, str] = self.headers
        if target.origin != self.target.origin:
            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        return replace(self, target=target, headers=headers)


class Hop(NamedTuple):
    """What one HTTP exchange returned."""

    status: int
    headers: Dict[str, str]  # lower-case names
    body: Optional[bytes]  # None when not needed (an error status, a redirect to follow)
