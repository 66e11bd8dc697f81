"""Alerts on new defection reports: rules, a DuckDB outbox, and delivery channels.

Input of ``RaiseAlerts``: PCollection[EnrichedArticle] of newly stored
articles (what ``ProcessItems`` returns). Output: PCollection[str] of the
alert ids it enqueued. Each article is checked against the rules of the
``[alerts]`` table of the config file; the shipped default is one rule,
``defection-reports``: a defection mention with modality ``report`` about
Myanmar, in an article whose labels say it reports a defection. Optional rule
filters: ``min_people``, ``places``, ``orgs``, ``keywords``.

Once per story: ``alert_id`` is derived from the rule and the original
article id, and the ``alerts`` table (the outbox, one row per alert and
channel) is keyed on it, so Beam retries and restarts cannot double an alert.
An article with ``duplicate_of`` set never alerts, nor does an original whose
near-duplicate cluster already alerted under the rule (an earlier copy that
was relinked to it, or whose MinHash matches it while the relink is still
being written).

Delivery: due rows are claimed with a short lease, sent outside any database
transaction, and the outcome written back (``status`` pending | delivered |
failed | disabled, ``attempts``, ``last_error``, ``next_attempt_at``,
``delivered_at``). Failures that may pass (5xx, 429, timeouts, connection
and file errors) are retried with exponential backoff and jitter, or after
``Retry-After`` when the receiver sends one, until the horizon (default
24 h) has passed; then the row is ``failed``. Other errors fail at once. A
``410 Gone`` disables the endpoint: its later alerts are marked ``disabled``.

Channels: ``webhook`` (generic JSON), ``slack`` (incoming-webhook payload),
``file`` (JSON lines, one line per alert id) and ``console``. Webhook URLs go
through ``SafeHttpClient``, so private and loopback addresses are refused
unless named with ``--allow-host``.

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

Config example (``--config newswatch.toml``)::

    [alerts]
    horizon_hours = 24
    [[alerts.rules]]
    name = "large-defections"
    min_people = 10
    places = ["Sagaing"]
    channels = [{ type = "webhook", url = "https://example.org/hook" },
                { type = "file", path = "alerts.jsonl" }]

    NEWSWATCH_WEBHOOK_SECRET=... newswatch run --feeds feeds.txt --db news.duckdb \\
        --alert-webhook https://example.org/hook
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import hashlib
import hmac
import json
import logging
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, NamedTuple, Optional, Sequence
from urllib.parse import urlsplit

import apache_beam as beam

from newswatch.net import FetchError, FetchLimits, SafeHttpClient
from newswatch.records import EnrichedArticle, Mention
from newswatch.sinks.duckdb import DatabaseLocked, DuckDBStore, write_lock
from newswatch.transforms.dedup_core import DEFAULT_THRESHOLD, estimate_jaccard

log = logging.getLogger(__name__)

SECRET_ENV = "NEWSWATCH_WEBHOOK_SECRET"
CHANNEL_TYPES = ("webhook", "slack", "file", "console")
# Codes that may succeed later; every other failure is final at once.
_RETRYABLE = frozenset({"http_5xx", "http_429", "timeout", "connection_error", "dns_error", "tls_error", "file_error"})
# An endpoint failing this way costs up to a whole deadline per attempt, so
# one failure postpones the endpoint's other due alerts instead of trying each.
_UNREACHABLE = frozenset({"timeout", "connection_error", "dns_error", "tls_error"})
_MIN_DELAY_S = 0.5  # even "Retry-After: 0" must not turn into a busy loop
_CLAIM_LIMIT = 100
_RULE_KEYS = frozenset(
    {"name", "kind", "modality", "country", "min_people", "places", "orgs", "keywords", "require_label", "channels"}
)
_ALERT_KEYS = frozenset({"rules", "horizon_hours", "backoff_initial_s", "backoff_max_s", "drain_s", "timeout_s"})


# ---------------------------------------------------------------- settings


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


@dataclass(frozen=True)
class AlertRule:
    """Which articles alert, and where to."""

    name: str = "defection-reports"
    kind: str = "defection"  # mention kind
    modalities: tuple[str, ...] = ("report",)
    country: Optional[str] = "Myanmar"  # None: any country
    min_people: Optional[int] = None  # the largest matching people_count must reach it
    places: tuple[str, ...] = ()  # any of them among the article's or mention's places
    orgs: tuple[str, ...] = ()  # any of them among the article's or mention's organisations
    keywords: tuple[str, ...] = ()  # any of them as a word in the title or text
    require_label: bool = True  # the article label must agree, so a passing clause does not alert
    channels: tuple[Channel, ...] = ()


@dataclass(frozen=True)
class AlertSettings:
    """Everything alerting needs; immutable and picklable."""

    rules: tuple[AlertRule, ...] = (AlertRule(),)
    secret: Optional[str] = field(default=None, repr=False)  # HMAC key, from the environment
    horizon_s: float = 24 * 3600.0  # give up on an alert this long after it was raised
    backoff_initial_s: float = 30.0  # first retry delay; doubles per attempt, with jitter
    backoff_max_s: float = 3600.0
    drain_s: float = 60.0  # longest wait for pending deliveries at the end of a batch run
    timeout_s: float = 10.0  # deadline of one webhook request
    connect_timeout_s: float = 5.0
    dedup_window_days: float = 14.0  # how far back an alerted copy can block an original
    allow_hosts: tuple[str, ...] = ()  # exact host:port exempt from private-address refusal
    ca_certs: Optional[str] = None

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every channel of every rule, once."""
        return tuple(dict.fromkeys(c for rule in self.rules for c in rule.channels))

    def client(self) -> SafeHttpClient:
        """A new HTTP client for webhooks (no politeness throttle: one POST per alert)."""
        limits = FetchLimits(
            total_deadline_s=self.timeout_s,
            connect_timeout_s=min(self.connect_timeout_s, self.timeout_s),
            max_bytes=64 * 1024,
            max_redirects=0,
            retries=0,
            accept="*/*",
        )
        return SafeHttpClient(limits, allow_hosts=self.allow_hosts, ca_certs=self.ca_certs)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"setting {where} must be a string or a list of strings")
    return tuple(v.strip() for v in value)


def parse_channel(value: Any, where: str) -> Channel:
    """A channel from its TOML table, e.g. ``{ type = "webhook", url = "https://..." }``."""
    if not isinstance(value, dict) or value.get("type") not in CHANNEL_TYPES:
        raise ValueError(f"{where} must be a table with type = one of {', '.join(CHANNEL_TYPES)}")
    kind = value["type"]
    wanted = {"webhook": "url", "slack": "url", "file": "path", "console": None}[kind]
    extra = set(value) - {"type", wanted}
    if extra:
        raise ValueError(f"unknown setting {where}.{sorted(extra)[0]}")
    if wanted is None:
        return Channel("console")
    target = value.get(wanted)
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"{where} ({kind}) needs {wanted} = \"...\"")
    return _channel(kind, target.strip())


def _channel(kind: str, target: str) -> Channel:
    if kind in ("webhook", "slack") and urlsplit(target).scheme.lower() not in ("http", "https"):
        raise ValueError(f"{kind} URL must be http(s): {target!r}")
    return Channel(kind, os.path.abspath(target) if kind == "file" else target)


def parse_rule(value: Any, where: str) -> AlertRule:
    """One rule from its TOML table; unspecified fields keep the default rule's values."""
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table")
    unknown = set(value) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown setting {where}.{sorted(unknown)[0]}")
    kw: dict[str, Any] = {}
    for key in ("name", "kind", "country"):
        if key in value:
            if not isinstance(value[key], str):
                raise ValueError(f"setting {where}.{key} must be a string")
            kw[key] = value[key].strip()
    if "country" in kw:
        kw["country"] = kw["country"] or None  # TOML has no null: "" means any country
    if "modality" in value:
        kw["modalities"] = _strings(value["modality"], f"{where}.modality")
    for key in ("places", "orgs", "keywords"):
        if key in value:
            kw[key] = _strings(value[key], f"{where}.{key}")
    if "min_people" in value:
        if type(value["min_people"]) is not int or value["min_people"] < 1:
            raise ValueError(f"setting {where}.min_people must be a positive integer")
        kw["min_people"] = value["min_people"]
    if "require_label" in value:
        if not isinstance(value["require_label"], bool):
            raise ValueError(f"setting {where}.require_label must be true or false")
        kw["require_label"] = value["require_label"]
    channels = value.get("channels", [])
    if not isinstance(channels, list):
        raise ValueError(f"setting {where}.channels must be a list of tables")
    kw["channels"] = tuple(parse_channel(c, f"{where}.channels[{i}]") for i, c in enumerate(channels))
    if "name" in kw and not kw["name"]:
        raise ValueError(f"setting {where}.name must not be empty")
    return AlertRule(**kw)


def _number(table: dict, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"setting alerts.{key} must be a non-negative number")
    return float(value)


def add_alert_flags(parser: argparse.ArgumentParser) -> None:
    """Add the alert channel flags of `run` and `stream`."""
    group = parser.add_argument_group("alerts (channels added to every alert rule)")
    group.add_argument("--alert-webhook", action="append", default=[], metavar="URL",
                       help="POST each alert as JSON to URL (repeatable); signed when "
                       f"{SECRET_ENV} is set")
    group.add_argument("--alert-slack", action="append", default=[], metavar="URL",
                       help="post each alert to a Slack-compatible incoming webhook (repeatable)")
    group.add_argument("--alert-file", metavar="PATH", help="append each alert as one JSON line to PATH")
    group.add_argument("--alert-console", action="store_true", help="print one line per alert")


def alert_settings(cfg, args: Optional[argparse.Namespace], http) -> AlertSettings:
    """Rules from `cfg.alerts` (or the shipped default), CLI channels, secret from the environment.

    Args:
        cfg: `newswatch.config.Config`; `cfg.alerts` is the raw `[alerts]` table.
        args: parsed CLI flags (those of `add_alert_flags`; missing ones count as unset).
        http: `HttpSettings`, for `--allow-host`, the CA bundle and the connect timeout.
    """
    table = dict(cfg.alerts or {})
    if "secret" in table:
        raise ValueError(f"alerts.secret is not read from files: set the environment variable {SECRET_ENV}")
    unknown = set(table) - _ALERT_KEYS
    if unknown:
        raise ValueError(f"unknown setting alerts.{sorted(unknown)[0]}")
    if "rules" in table:
        if not isinstance(table["rules"], list):
            raise ValueError("setting alerts.rules must be an array of tables ([[alerts.rules]])")
        rules = tuple(parse_rule(r, f"alerts.rules[{i}]") for i, r in enumerate(table["rules"]))
    else:
        rules = (AlertRule(),)
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValueError("alert rule names must be unique")
    cli = [_channel("webhook", u) for u in getattr(args, "alert_webhook", None) or []]
    cli += [_channel("slack", u) for u in getattr(args, "alert_slack", None) or []]
    if getattr(args, "alert_file", None):
        cli.append(_channel("file", args.alert_file))
    if getattr(args, "alert_console", False):
        cli.append(Channel("console"))
    rules = tuple(dataclasses.replace(r, channels=tuple(dict.fromkeys(r.channels + tuple(cli)))) for r in rules)
    return AlertSettings(
        rules=rules,
        secret=os.environ.get(SECRET_ENV) or None,
        horizon_s=_number(table, "horizon_hours", 24.0) * 3600.0,
        backoff_initial_s=_number(table, "backoff_initial_s", 30.0),
        backoff_max_s=_number(table, "backoff_max_s", 3600.0),
        drain_s=_number(table, "drain_s", 60.0),
        timeout_s=_number(table, "timeout_s", 10.0) or 10.0,
        connect_timeout_s=http.connect_timeout_s,
        dedup_window_days=cfg.dedup.window_days,
        allow_hosts=tuple(http.allow_hosts),
        ca_certs=http.ca_certs,
    )


# ---------------------------------------------------------------- matching and payloads


def _label_agrees(rule: AlertRule, labels) -> bool:
    if rule.kind == "defection":
        return bool(labels.defection_report if rule.modalities == ("report",) else labels.defection)
    if rule.kind == "conscription":
        return bool(labels.conscription)
    return True


def _fold(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values if v}


def match_rule(rule: AlertRule, enriched: EnrichedArticle) -> Optional[Mention]:
    """The evidence mention when `enriched` satisfies `rule`, else None."""
    article, labels = enriched.article, enriched.labels
    if article.duplicate_of is not None or (rule.require_label and not _label_agrees(rule, labels)):
        return None
    country = rule.country.casefold() if rule.country else None
    hits = sorted(
        (
            m for m in enriched.mentions
            if m.kind == rule.kind and m.modality in rule.modalities
            and (country is None or (m.country or labels.country or "").casefold() == country)
        ),
        key=lambda m: m.start_char,
    )
    if not hits:
        return None
    if rule.min_people is not None:
        hits = [m for m in hits if (m.people_count or 0) >= rule.min_people]
        if not hits:
            return None
    if rule.places and not _fold(rule.places) & _fold([*labels.locations, *(p for m in hits for p in m.locations)]):
        return None
    if rule.orgs and not _fold(rule.orgs) & _fold([*labels.orgs, *(o for m in hits for o in m.orgs)]):
        return None
    if rule.keywords:
        haystack = f"{article.title or ''}\n{article.text}"
        if not any(re.search(rf"\b{re.escape(k)}\b", haystack, re.IGNORECASE) for k in rule.keywords):
            return None
    counted = [m for m in hits if m.people_count is not None]
    return max(counted, key=lambda m: m.people_count) if counted else hits[0]


def alert_id_for(rule_name: str, original_article_id: str) -> str:
    """Stable alert id: the same rule and story always give the same id."""
    return hashlib.sha256(f"{rule_name}\x1f{original_article_id}".encode("utf-8")).hexdigest()[:32]


def _union(*lists: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for values in lists for v in values))


def build_payload(rule_name: str, enriched: EnrichedArticle, mention: Mention) -> dict:
    """The alert as JSON-ready dict: the webhook body and the file line."""
    article, labels = enriched.article, enriched.labels
    original = article.duplicate_of or article.article_id
    return {
        "alert_id": alert_id_for(rule_name, original),
        "rule": rule_name,
        "article_id": original,
        "url": article.url,
        "title": article.title,
        "source": article.source,
        "published_at": article.published_at,
        "kind": mention.kind,
        "modality": mention.modality,
        "people_count": mention.people_count,
        "count_qualifier": mention.count_qualifier,
        "weapons_count": mention.weapons_count,
        "defectors": labels.defectors,
        "weapons": labels.weapons,
        "locations": _union(mention.locations, labels.locations),
        "orgs": _union(mention.orgs, labels.orgs),
        "country": mention.country or labels.country,
        "evidence": mention.sentence,
        "mention_id": mention.mention_id,
    }


def canonical_json(payload: dict) -> str:
    """Deterministic JSON, so every delivery of an alert has the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


def next_delay(attempts: int, retry_after: Optional[float], settings: AlertSettings, rng: random.Random) -> float:
    """Seconds before the next attempt: the receiver's Retry-After, else jittered exponential backoff."""
    if retry_after is not None:
        return max(retry_after, _MIN_DELAY_S)
    base = min(settings.backoff_max_s, settings.backoff_initial_s * 2 ** min(max(attempts - 1, 0), 30))
    return max(base * rng.uniform(0.5, 1.0), _MIN_DELAY_S)


# ---------------------------------------------------------------- outbox


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _cluster_alerted(con, rule: str, enriched: EnrichedArticle, since: float) -> bool:
    """True when the article's story already has an alert under `rule`."""
    article = enriched.article
    roots = [article.article_id, article.duplicate_of or article.article_id]
    linked = con.execute(
        "SELECT count(*) FROM alerts al LEFT JOIN articles a ON a.article_id = al.article_id"
        " WHERE al.rule = ? AND (al.article_id IN (?, ?) OR a.duplicate_of IN (?, ?))",
        [rule, *roots, *roots],
    ).fetchone()[0]
    if linked or not article.minhash:
        return bool(linked)
    # A copy alerted earlier may be relinked to this article by a write that
    # has not landed yet: compare signatures instead of waiting for it.
    signatures = con.execute(
        "SELECT DISTINCT a.minhash FROM alerts al JOIN articles a ON a.article_id = al.article_id"
        " WHERE al.rule = ? AND a.minhash IS NOT NULL AND al.created_at >= CAST(? AS TIMESTAMPTZ)",
        [rule, _iso(since)],
    ).fetchall()
    return any(estimate_jaccard(article.minhash, bytes(sig)) >= DEFAULT_THRESHOLD for (sig,) in signatures)


def enqueue_alerts(store: DuckDBStore, enriched: EnrichedArticle, settings: AlertSettings,
                   now: Optional[datetime] = None) -> list[str]:
    """Write outbox rows for every rule `enriched` satisfies; return the alert ids new to the outbox."""
    matched = [(rule, m) for rule in settings.rules if rule.channels for m in [match_rule(rule, enriched)] if m]
    if not matched:
        return []
    now = time.time() if now is None else now.timestamp()
    since = now - settings.dedup_window_days * 86400.0
    new_ids = []
    with store.transaction() as con:
        for rule, mention in matched:
            if _cluster_alerted(con, rule.name, enriched, since):
                continue
            payload = build_payload(rule.name, enriched, mention)
            body = canonical_json(payload)
            con.executemany(
                "INSERT INTO alerts (alert_id, channel, rule, article_id, payload, status, attempts,"
                " created_at, next_attempt_at, expires_at) VALUES (?, ?, ?, ?, ?, 'pending', 0,"
                " CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ)) ON CONFLICT DO NOTHING",
                [
                    [payload["alert_id"], ch.key, rule.name, payload["article_id"], body,
                     _iso(now), _iso(now), _iso(now + settings.horizon_s)]
                    for ch in rule.channels
                ],
            )
            new_ids.append(payload["alert_id"])
    return new_ids


class _Due(NamedTuple):
    alert_id: str
    channel: str
    payload: str
    attempts: int
    expires_at: float


def _claim_due(store: DuckDBStore, now: float, lease_s: float) -> tuple[list[_Due], Optional[float], int]:
    """Lease the due rows to this caller; return them, when the next other row is due, and how many are pending."""
    with store.transaction() as con:
        con.execute(
            "UPDATE alerts SET status = 'disabled', next_attempt_at = NULL,"
            " last_error = coalesce(last_error, 'endpoint disabled after 410 Gone')"
            " WHERE status = 'pending' AND channel IN (SELECT channel FROM alert_endpoints)"
        )
        con.execute(
            "UPDATE alerts SET status = 'failed', next_attempt_at = NULL,"
            " last_error = 'gave up at the horizon; last error: ' || coalesce(last_error, 'none')"
            " WHERE status = 'pending' AND expires_at <= CAST(? AS TIMESTAMPTZ)",
            [_iso(now)],
        )
        rows = [
            _Due(*row)
            for row in con.execute(
                "SELECT alert_id, channel, payload, attempts, epoch(expires_at) FROM alerts"
                " WHERE status = 'pending' AND next_attempt_at <= CAST(? AS TIMESTAMPTZ)"
                " ORDER BY created_at, alert_id, channel LIMIT ?",
                [_iso(now), _CLAIM_LIMIT],
            ).fetchall()
        ]
        # The lease keeps a concurrent deliverer off these rows; after a
        # crash they become due again when it ends.
        if rows:
            con.executemany(
                "UPDATE alerts SET next_attempt_at = CAST(? AS TIMESTAMPTZ) WHERE alert_id = ? AND channel = ?",
                [[_iso(now + lease_s), r.alert_id, r.channel] for r in rows],
            )
        next_due, pending = con.execute(
            "SELECT epoch(min(next_attempt_at)), count(*) FROM alerts WHERE status = 'pending'"
        ).fetchone()
    return rows, next_due, pending


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


def _record(store: DuckDBStore, due: _Due, outcome: DeliveryOutcome, now: float, settings: AlertSettings,
            rng: random.Random) -> tuple[str, Optional[float]]:
    """Write the outcome of one attempt; return the row's new status and next attempt time."""
    attempts = due.attempts + 1
    error = None if outcome.code is None else f"{outcome.code}: {outcome.message}"[:2000]
    next_at = None
    if outcome.code is None:
        status = "delivered"
    elif outcome.code == "http_410":
        status = "disabled"
    elif outcome.code in _RETRYABLE:
        next_at = now + next_delay(attempts, outcome.retry_after, settings, rng)
        status = "pending" if next_at < due.expires_at else "failed"
        if status == "failed":
            next_at, error = None, f"{error} (next attempt would pass the horizon)"
    else:
        status = "failed"
    with store.transaction() as con:
        con.execute(
            "UPDATE alerts SET status = ?, attempts = ?, last_error = coalesce(?, last_error),"
            " next_attempt_at = CAST(? AS TIMESTAMPTZ),"
            " delivered_at = CASE WHEN ? THEN CAST(? AS TIMESTAMPTZ) ELSE delivered_at END"
            " WHERE alert_id = ? AND channel = ?",
            [status, attempts, error, None if next_at is None else _iso(next_at),
             status == "delivered", _iso(now), due.alert_id, due.channel],
        )
        if status == "disabled":
            con.execute(
                "INSERT INTO alert_endpoints VALUES (?, CAST(? AS TIMESTAMPTZ), ?) ON CONFLICT DO NOTHING",
                [due.channel, _iso(now), error],
            )
            con.execute(
                "UPDATE alerts SET status = 'disabled', next_attempt_at = NULL,"
                " last_error = 'endpoint disabled after 410 Gone' WHERE channel = ? AND status = 'pending'",
                [due.channel],
            )
    if status != "pending":
        log.log(logging.INFO if status == "delivered" else logging.WARNING,
                "alert %s to %s: %s%s", due.alert_id, display_channel(due.channel), status,
                f" ({error})" if error else "")
    return status, next_at


def _postpone(store: DuckDBStore, rows: Sequence[tuple[_Due, float]]) -> None:
    """Move leased rows that were not attempted to a later time, attempts unchanged."""
    with store.transaction() as con:
        con.executemany(
            "UPDATE alerts SET next_attempt_at = CAST(? AS TIMESTAMPTZ) WHERE alert_id = ? AND channel = ?"
            " AND status = 'pending'",
            [[_iso(at), row.alert_id, row.channel] for row, at in rows],
        )


def deliver_pending(db_path: str, settings: AlertSettings, now: Optional[datetime] = None, wait: bool = False,
                    *, client: Optional[SafeHttpClient] = None, lock_timeout_s: float = 5.0) -> dict:
    """Deliver the outbox's due alerts; return counts by outcome plus `pending` left.

    Args:
        db_path: the newswatch DuckDB file.
        settings: secret, backoff, horizon, HTTP allow-list.
        now: act as if it were this time (tests); default the clock.
        wait: keep delivering until nothing is pending or `settings.drain_s`
            has passed, sleeping until the next attempt is due.
        client: an HTTP client to reuse (a DoFn's); default a new one.
    """
    store = DuckDBStore(db_path, lock_timeout_s)
    offset = 0.0 if now is None else now.timestamp() - time.time()
    http = client or settings.client()
    rng = random.Random()
    counts: Counter = Counter()
    gone: set[str] = set()  # endpoints that answered 410 during this call
    unreachable: dict[str, float] = {}  # endpoint -> when it is tried again
    started = time.monotonic()
    try:
        while True:
            due, next_due, pending = _claim_due(store, time.time() + offset, settings.timeout_s + 30.0)
            postponed = []
            for row in due:
                if row.channel in gone:
                    counts["disabled"] += 1  # _record already marked the row
                    continue
                if row.channel in unreachable:
                    postponed.append((row, unreachable[row.channel]))
                    continue
                outcome = send_alert(Channel.from_key(row.channel), row.alert_id, row.payload, http, settings.secret)
                counts["attempts"] += 1
                status, next_at = _record(store, row, outcome, time.time() + offset, settings, rng)
                counts[status] += 1
                if status == "disabled":
                    gone.add(row.channel)
                elif status == "pending" and outcome.code in _UNREACHABLE:
                    unreachable[row.channel] = next_at
            if postponed:
                _postpone(store, postponed)
            left = settings.drain_s - (time.monotonic() - started)
            if not wait or left <= 0 or (not due and next_due is None):
                break
            if not due:
                time.sleep(min(max(next_due - (time.time() + offset), 0.05), left))
    finally:
        if client is None:
            http.close()
    if due:  # outcomes were written after the last count
        with write_lock(), store.writer() as con:
            pending = con.execute("SELECT count(*) FROM alerts WHERE status = 'pending'").fetchone()[0]
    counts["pending"] = pending
    return {key: counts[key] for key in ("attempts", "delivered", "failed", "disabled", "pending")}


# ---------------------------------------------------------------- Beam


class _EnqueueFn(beam.DoFn):
    """Writes outbox rows for one new article; yields the new alert ids."""

    def __init__(self, db_path: str, settings: AlertSettings):
        self._db_path = db_path
        self._settings = settings

    def setup(self):
        self._store = DuckDBStore(self._db_path)

    def process(self, enriched: EnrichedArticle):
        ids = enqueue_alerts(self._store, enriched, self._settings)
        beam.metrics.Metrics.counter("alerts", "enqueued").inc(len(ids))
        yield from ids


class _DeliverFn(beam.DoFn):
    """Passes alert ids through; after a bundle that had any, delivers what is due."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 0.0, passthrough: bool = True):
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s
        self._passthrough = passthrough

    def setup(self):
        self._client = self._settings.client()
        self._last = float("-inf")

    def start_bundle(self):
        self._seen = False

    def process(self, element):
        self._seen = True
        if self._passthrough:
            yield element

    def finish_bundle(self):
        if not self._seen or time.monotonic() - self._last < self._every_s:
            return
        self._last = time.monotonic()
        try:
            stats = deliver_pending(self._db_path, self._settings, client=self._client)
        except DatabaseLocked as exc:
            # The rows stay pending in the outbox: the next pass delivers them.
            beam.metrics.Metrics.counter("alerts", "delivery_deferred").inc()
            log.warning("alert delivery deferred: %s", exc)
            return
        for key in ("delivered", "failed", "disabled"):
            beam.metrics.Metrics.counter("alerts", key).inc(stats[key])

    def teardown(self):
        self._client.close()


class RaiseAlerts(beam.PTransform):
    """EnrichedArticle (newly stored) -> alert ids enqueued in the outbox, then delivered when due."""

    def __init__(self, db_path: str, settings: AlertSettings):
        super().__init__()
        self._db_path = db_path
        self._settings = settings

    def expand(self, new_articles):
        return (
            new_articles
            | "Enqueue" >> beam.ParDo(_EnqueueFn(self._db_path, self._settings)).with_output_types(str)
            | "Deliver" >> beam.ParDo(_DeliverFn(self._db_path, self._settings)).with_output_types(str)
        )


class DeliverDueAlerts(beam.PTransform):
    """Any PCollection (e.g. a stream job's ticks) -> retries of due alerts at most every `every_s`; no output."""

    def __init__(self, db_path: str, settings: AlertSettings, every_s: float = 5.0):
        super().__init__()
        self._db_path = db_path
        self._settings = settings
        self._every_s = every_s

    def expand(self, ticks):
        return ticks | "DeliverDue" >> beam.ParDo(
            _DeliverFn(self._db_path, self._settings, self._every_s, passthrough=False)
        ).with_output_types(str)


# ---------------------------------------------------------------- CLI


def display_channel(key: str) -> str:
    """A channel for display: webhook URLs cut to their origin, since paths often carry tokens."""
    channel = Channel.from_key(key)
    if channel.type in ("webhook", "slack"):
        parts = urlsplit(channel.target)
        return f"{channel.type}:{parts.scheme}://{parts.netloc}/…"
    return key


def parse_since(value: str, now: Optional[datetime] = None) -> datetime:
    """An ISO time, or an age like ``24h``, ``30m``, ``7d``, as an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return now - timedelta(seconds=float(match.group(1)) * unit)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since must be an ISO time or an age like 24h, 7d: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


_LIST_SQL = (
    "SELECT alert_id, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS created_at, rule, channel,"
    " status, attempts, strftime(delivered_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS delivered_at,"
    " strftime(next_attempt_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS next_attempt_at, last_error, payload"
    " FROM alerts WHERE created_at >= CAST(? AS TIMESTAMPTZ) ORDER BY created_at, alert_id, channel"
)


def list_alerts(db_path: str, since: Optional[datetime] = None) -> tuple[list[str], list[list]]:
    """(columns, rows) of the outbox for display, oldest first."""
    store = DuckDBStore(db_path)
    with store.reader() as con:
        has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'alerts'").fetchone()[0]
        if not has:
            return [], []
        cur = con.execute(_LIST_SQL, [(since or datetime(1970, 1, 1, tzinfo=timezone.utc)).isoformat()])
        names = [d[0] for d in cur.description]
        raw = cur.fetchall()
    columns = names[:-1] + ["title"]
    rows = []
    for row in raw:
        record = dict(zip(names, row))
        record["channel"] = display_channel(record["channel"])
        record["title"] = json.loads(record.pop("payload")).get("title")
        rows.append([record[c] for c in columns])
    return columns, rows


def reset_failed(db_path: str, settings: AlertSettings, include_disabled: bool = False) -> int:
    """Make failed (and optionally disabled) alerts pending again with a fresh horizon; return how many."""
    store = DuckDBStore(db_path)
    now = time.time()
    statuses = ["failed", "disabled"] if include_disabled else ["failed"]
    with store.transaction() as con:
        if include_disabled:
            con.execute("DELETE FROM alert_endpoints")
        count = con.execute(
            f"SELECT count(*) FROM alerts WHERE status IN ({', '.join('?' * len(statuses))})", statuses
        ).fetchone()[0]
        con.execute(
            "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = CAST(? AS TIMESTAMPTZ),"
            f" expires_at = CAST(? AS TIMESTAMPTZ) WHERE status IN ({', '.join('?' * len(statuses))})",
            [_iso(now), _iso(now + settings.horizon_s), *statuses],
        )
    return count


def cmd_alerts(args, beam_args: Sequence[str]) -> int:
    """`newswatch alerts [list|retry]`."""
    from newswatch.cli import format_rows
    from newswatch.config import load_config
    from newswatch.transforms.fetch import HttpSettings

    if beam_args:
        print(f"newswatch alerts: unknown arguments {' '.join(beam_args)}", file=sys.stderr)
        return 2
    if not os.path.exists(args.db):
        print(f"newswatch alerts: no database at {args.db}", file=sys.stderr)
        return 2
    try:
        if args.action == "list":
            since = parse_since(args.since) if args.since else None
            columns, rows = list_alerts(args.db, since)
            if rows or args.format == "table":
                print(format_rows(columns or ["alert_id"], rows, args.format))
            return 0
        cfg = load_config(args.config)
        settings = alert_settings(cfg, None, HttpSettings.from_config(cfg, args.allow_host))
        count = reset_failed(args.db, settings, args.include_disabled)
        stats = deliver_pending(args.db, settings, wait=True)
    except (ValueError, DatabaseLocked) as exc:
        print(f"newswatch alerts: {exc}", file=sys.stderr)
        return 2
    print(f"retried {count} alerts: {stats['delivered']} delivered, {stats['failed']} failed, "
          f"{stats['disabled']} disabled, {stats['pending']} still pending")
    return 0 if stats["failed"] == 0 and stats["pending"] == 0 else 1


def register_alerts_command(subparsers) -> None:
    """Add `newswatch alerts` (list) and `newswatch alerts retry` to the CLI."""
    parser = subparsers.add_parser(
        "alerts",
        help="list alerts and their delivery state; `alerts retry` re-sends failed ones",
        description="List the alert outbox (one row per alert and channel) with delivery status, attempts "
        "and last error; `retry` makes failed alerts pending again and delivers them (waiting up to the "
        f"drain time). Webhook signatures use {SECRET_ENV} from the environment.",
        epilog="example:\n  newswatch alerts --db news.duckdb --since 24h\n"
        "  newswatch alerts retry --db news.duckdb --allow-host 127.0.0.1:9000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("list", "retry"), default="list",
                        help="list (default) or retry")
    parser.add_argument("--db", required=True, metavar="PATH", help="newswatch DuckDB file")
    parser.add_argument("--since", metavar="ISO|24h", help="list: only alerts raised since then")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table", help="list: output format")
    parser.add_argument("--config", metavar="TOML", help="retry: settings file (horizon, backoff, timeouts)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST:PORT",
                        help="retry: allow this exact private/loopback webhook host:port (repeatable)")
    parser.add_argument("--include-disabled", action="store_true",
                        help="retry: also re-enable endpoints disabled by 410 Gone and resend their alerts")
    parser.set_defaults(func=cmd_alerts)
