"""Alert delivery channels: one attempt to send one alert to a webhook, Slack, a file or the console.

Input: a ``Channel`` (type plus URL or path), the alert id, and the alert's
canonical JSON payload as the outbox stores it. Output: a
``DeliveryOutcome``, whose ``code`` is None when the alert was delivered and
otherwise an error code (``http_5xx``, ``http_429``, ``http_410``,
``http_3xx``, ``timeout``, ``connection_error``, ``file_error``, ...) with the
receiver's ``Retry-After`` in seconds when it sent one. Whether and when to
try again is decided by the outbox (``newswatch.alerts.outbox``).

Channels: ``webhook`` (the payload as generic JSON), ``slack`` (an
incoming-webhook message), ``file`` (JSON lines, at most one line per alert
id, safe for concurrent writers) and ``console`` (one printed line). Webhook
URLs go through ``SafeHttpClient``, so private and loopback addresses are
refused unless named with ``--allow-host``; redirects are not followed.

Webhook request, for receivers::

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <alert_id>
    X-Newswatch-Timestamp: <unix time in whole seconds, decimal>
    X-Newswatch-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=timestamp + "." + body)>

The two X-Newswatch headers are sent only when ``NEWSWATCH_WEBHOOK_SECRET``
is set (never in the config file). ``secret`` and ``timestamp`` are UTF-8
encoded, ``body`` is the raw request body bytes as received. Verify with a
constant-time comparison, reject timestamps far from your clock (say 5 min)
against replays, and de-duplicate by ``Idempotency-Key``: a redelivery has
the same key and body and a fresh timestamp and signature.

Example::

    outcome = send_alert(Channel("file", "/var/lib/newswatch/alerts.jsonl"),
                         alert_id, payload_json, client, secret=None)
    assert outcome.code is None  # appended, or the alert id was in the file already
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import NamedTuple, Optional
from urllib.parse import urlsplit

from newswatch.http.client import SafeHttpClient
from newswatch.http.errors import FetchError

CHANNEL_TYPES = ("webhook", "slack", "file", "console")


@dataclass(frozen=True)
class Channel:
    """Where alerts go: a type and its URL or path (empty for the console)."""

    type: str
    target: str = ""

    @property
    def key(self) -> str:
        """The outbox's `channel` value, which is all delivery needs."""
        return self.type if self.type == "console" else f"{self.type}:{self.target}"

    @classmethod
    def from_key(cls, key: str) -> "Channel":
        """Inverse of `key`."""
        kind, _, target = key.partition(":")
        return cls(kind, target)


def display_channel(key: str) -> str:
    """A channel for display: webhook URLs cut to their origin, since paths often carry tokens."""
    channel = Channel.from_key(key)
    if channel.type in ("webhook", "slack"):
        parts = urlsplit(channel.target)
        return f"{channel.type}:{parts.scheme}://{parts.netloc}/…"
    return key


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body`` under `secret`."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + b"." + body, hashlib.sha256).hexdigest()


def _facts(payload: dict) -> str:
    parts = []
    if payload.get("people_count") is not None:
        parts.append(f"{payload['people_count']} people")
    if payload.get("weapons_count") is not None:
        parts.append(f"{payload['weapons_count']} weapons")
    if payload.get("locations"):
        parts.append(", ".join(payload["locations"][:4]))
    if payload.get("orgs"):
        parts.append(", ".join(payload["orgs"][:4]))
    return " · ".join(parts)


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: dict) -> dict:
    """A Slack-compatible incoming-webhook message for an alert."""
    title = payload.get("title") or payload["url"]
    label = f"New {payload['kind']} {payload['modality']}"
    facts = _facts(payload)
    link = f"<{payload['url']}|{_mrkdwn(title).replace('|', '¦')}>"
    context = " · ".join(
        _mrkdwn(str(v)) for v in (payload.get("source"), payload.get("published_at"), f"rule {payload['rule']}") if v
    )
    headline = f"*{label}:* {link}" + (f"\n{_mrkdwn(facts)}" if facts else "")
    return {
        "text": f"{label}: {title}" + (f" ({facts})" if facts else "") + f" {payload['url']}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "> " + _mrkdwn(payload.get("evidence") or "")}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def console_line(payload: dict) -> str:
    """One line per alert for the console channel."""
    facts = f" — {_facts(payload)}" if _facts(payload) else ""
    return f"ALERT [{payload['rule']}] {payload.get('title') or ''}{facts} — {payload['url']}"


class DeliveryOutcome(NamedTuple):
    """Result of one delivery attempt."""

    code: Optional[str]  # None: delivered
    message: str = ""
    retry_after: Optional[float] = None


def append_jsonl(path: str, alert_id: str, line: str) -> bool:
    """Append `line` to the JSON-lines file unless `alert_id` is in it already; True if appended."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # other threads and processes append to the same file
        fh.seek(0)
        content = fh.read()
        for existing in content.splitlines():
            try:
                if json.loads(existing).get("alert_id") == alert_id:
                    return False
            except (ValueError, AttributeError):
                continue  # a torn or foreign line is not ours to judge
        fh.write(("\n" if content and not content.endswith("\n") else "") + line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _http_post(client: SafeHttpClient, url: str, alert_id: str, body: bytes, secret: Optional[str]) -> DeliveryOutcome:
    headers = {"Content-Type": "application/json", "Idempotency-Key": alert_id}
    if secret:
        stamp = str(int(time.time()))
        headers["X-Newswatch-Timestamp"] = stamp
        headers["X-Newswatch-Signature"] = "sha256=" + sign(secret, stamp, body)
    try:
        response = client.post(url, body, headers)
    except FetchError as err:
        return DeliveryOutcome(err.code, err.message, err.retry_after)
    if response.status >= 300:
        return DeliveryOutcome("http_3xx", f"HTTP {response.status}: redirects are not followed for webhooks")
    return DeliveryOutcome(None)


def send_alert(channel: Channel, alert_id: str, payload_json: str, client: SafeHttpClient,
               secret: Optional[str]) -> DeliveryOutcome:
    """One delivery attempt of one alert to one channel."""
    if channel.type == "webhook":
        return _http_post(client, channel.target, alert_id, payload_json.encode("utf-8"), secret)
    payload = json.loads(payload_json)
    if channel.type == "slack":
        body = json.dumps(slack_message(payload), ensure_ascii=False).encode("utf-8")
        return _http_post(client, channel.target, alert_id, body, secret)
    if channel.type == "file":
        try:
            append_jsonl(channel.target, alert_id, payload_json)
        except OSError as exc:
            return DeliveryOutcome("file_error", f"{type(exc).__name__}: {exc}")
        return DeliveryOutcome(None)
    if channel.type == "console":
        print(console_line(payload), flush=True)
        return DeliveryOutcome(None)
    return DeliveryOutcome("bad_channel", f"unknown channel type {channel.type!r}")
