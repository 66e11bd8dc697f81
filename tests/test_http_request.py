"""Tests for newswatch.http.request.Request, the object one call carries through its hops."""

from __future__ import annotations

import dataclasses

import pytest

from newswatch.http.deadline import Deadline
from newswatch.http.guard import check_url
from newswatch.http.request import Request


def _request(url: str = "https://a.example/go") -> Request:
    headers = {"Authorization": "Bearer t0ken", "Cookie": "s=1", "X-Keep": "1"}
    return Request("GET", check_url(url), headers, None, 1024, Deadline(5.0), True)


def test_request_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _request().max_bytes = 0  # type: ignore[misc]


def test_same_origin_redirect_keeps_headers_deadline_and_cap() -> None:
    first = _request()
    second = first.redirected_to(check_url("https://a.example/land"))
    assert second.url == "https://a.example/land"
    assert second.headers == first.headers
    assert second.deadline is first.deadline and second.max_bytes == 1024
    assert first.url == "https://a.example/go"  # the original is untouched, for a retry


@pytest.mark.parametrize("url", ["https://b.example/land", "http://a.example/land", "https://a.example:8443/land"])
def test_cross_origin_redirect_drops_credentials(url: str) -> None:
    second = _request().redirected_to(check_url(url))
    assert dict(second.headers) == {"X-Keep": "1"}
