"""The one exception of newswatch's HTTP client.

Every failure of a request, from a bad URL to a body over the byte cap,
raises ``FetchError`` with a stable ``code`` (listed in
``newswatch.http.client``) meant for dead-letter records.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple


class FetchError(Exception):
    """A request that failed; ``code`` is stable and meant for dead-letter records."""

    def __init__(
        self,
        code: str,
        message: str,
        url: Optional[str] = None,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.url = url
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.url, self.status, self.retry_after))
