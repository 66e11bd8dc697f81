"""Reading a response: Content-Encoding decoding in bounded pieces, and header values.

``BodyDecoder`` turns gzip/deflate (or identity) bytes into decoded pieces of
at most ``READ_CHUNK`` bytes, so the client can enforce its byte cap on what
the body decodes to, not on what travelled; a corrupt stream raises
``CorruptBody``.
"""

from __future__ import annotations

import email.utils
import time
import zlib
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Optional, Tuple

READ_CHUNK = 64 * 1024


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_dt = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    return max(0.0, (when - now_dt).total_seconds())


def parse_content_type(value: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(mime type, charset) from a Content-Type header, both lower-case or None."""
    if not value:
        return None, None
    mime, *params = value.split(";")
    mime = mime.strip().lower()
    charset = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return (mime if "/" in mime else None), charset


class BodyDecoder:
    """Streaming gzip/deflate decoder whose output comes in bounded pieces."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._d: Any = None
        self._pending = b""  # deflate: bytes held until the zlib header can be sniffed
        self._ended = False
        if coding == "gzip":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.coding == "identity":
            if data:
                yield data
            return
        if self._ended:
            return  # trailing bytes after the stream end are ignored, as browsers do
        if self._d is None:
            data = self._pending + data
            if len(data) < 2:
                self._pending = data
                return
            self._pending = b""
            # Some servers send raw deflate under "deflate"; sniff the zlib header.
            wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        while True:
            try:
                out = self._d.decompress(data, READ_CHUNK)
            except zlib.error as exc:
                raise CorruptBody(str(exc)) from None
            if out:
                yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                rest = self._d.unused_data
                if self.coding == "gzip" and rest[:2] == b"\x1f\x8b":
                    self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
                    data = rest
                    continue
                self._ended = True
                return
            if not data and len(out) < READ_CHUNK:
                return  # input used up and no output left inside zlib


class CorruptBody(Exception):
    """A compressed body that zlib cannot decode."""


def content_coding(headers: Mapping[str, str]) -> str:
    """The decoder to use for a response; unknown codings pass through raw."""
    value = headers.get("content-encoding", "").strip().lower()
    if value in ("gzip", "x-gzip"):
        return "gzip"
    if value == "deflate":
        return "deflate"
    return "identity"
