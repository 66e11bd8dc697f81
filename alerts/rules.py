"""Alert rules and settings: which stored articles alert, where to, and what the alert says.

Input: the raw ``[alerts]`` table of the config file, the alert CLI flags
and ``NEWSWATCH_WEBHOOK_SECRET`` from the environment (``alert_settings``);
then one EnrichedArticle at a time (``match_rule``). Output: an immutable,
picklable ``AlertSettings``; for a matching article its evidence Mention and
the alert payload dict (``build_payload``) with a stable ``alert_id``
derived from the rule and the original article id.

The shipped default is one rule, ``defection-reports``: a defection mention
with modality ``report`` about Myanmar, in an article whose labels say it
reports a defection. Optional rule filters: ``min_people``, ``places``,
``orgs``, ``keywords``. An article with ``duplicate_of`` set never matches.
The secret is never read from files.

Config example (``--config newswatch.toml``)::

    [alerts]
    horizon_hours = 24
    [[alerts.rules]]
    name = "large-defections"
    min_people = 10
    places = ["Sagaing"]
    channels = [{ type = "webhook", url = "https://example.org/hook" },
                { type = "file", path = "alerts.jsonl" }]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence
from urllib.parse import urlsplit

from newswatch.http.client import SafeHttpClient
from newswatch.http.request import FetchLimits
from newswatch.records import EnrichedArticle, Mention
from newswatch.alerts.channels import CHANNEL_TYPES, Channel

SECRET_ENV = "NEWSWATCH_WEBHOOK_SECRET"
_RULE_KEYS = frozenset(
    {"name", "kind", "modality", "country", "min_people", "places", "orgs", "keywords", "require_label", "channels",
     "per", "update_change"}
)
_ALERT_KEYS = frozenset({"rules", "horizon_hours", "backoff_initial_s", "backoff_max_s", "drain_s", "timeout_s"})


# ---------------------------------------------------------------- settings


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
    per: str = "incident"  # 'incident': once per real-world incident; 'article': once per story (copies excluded)
    update_change: float = 0.0  # > 0: also alert when an incident's count range moves by this fraction


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
    if "per" in value:
        if value["per"] not in ("incident", "article"):
            raise ValueError(f"setting {where}.per must be 'incident' or 'article'")
        kw["per"] = value["per"]
    if "update_change" in value:
        if isinstance(value["update_change"], bool) or not isinstance(value["update_change"], (int, float)) \
                or value["update_change"] < 0:
            raise ValueError(f"setting {where}.update_change must be a non-negative number")
        kw["update_change"] = float(value["update_change"])
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
