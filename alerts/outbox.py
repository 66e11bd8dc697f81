"""The alert outbox in DuckDB: enqueue alerts once per story, deliver due ones, retry with backoff.

Input of ``enqueue_alerts``: one newly stored EnrichedArticle and the
``AlertSettings``; output: the alert ids new to the outbox. Input of
``deliver_pending``: the DuckDB file; output: counts of attempts and of
rows delivered, failed, disabled and still pending.

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

This module decides what to write and when; the statements it runs on the
DuckDB file are ``newswatch.sinks.outbox_store``'s.

Example (what ``newswatch alerts retry`` does)::

    count = reset_failed("news.duckdb", settings)
    stats = deliver_pending("news.duckdb", settings, wait=True)
    # {"attempts": 3, "delivered": 3, "failed": 0, "disabled": 0, "pending": 0}
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from datetime import datetime
from typing import Optional, Sequence

from newswatch.alerts.channels import Channel, DeliveryOutcome, display_channel, send_alert
from newswatch.alerts.rules import AlertSettings, alert_id_for, build_payload, canonical_json, match_rule
from newswatch.http.client import SafeHttpClient
from newswatch.records import EnrichedArticle
from newswatch.sinks import outbox_store
from newswatch.sinks.duckdb import DuckDBStore, write_lock
from newswatch.sinks.incidents_store import incident_window
from newswatch.sinks.outbox_store import DueAlert, OutboxRow, iso
from newswatch.transforms.dedup.core import DEFAULT_THRESHOLD, estimate_jaccard
from newswatch.transforms.incidents.core import epoch, resolve

log = logging.getLogger(__name__)

# Codes that may succeed later; every other failure is final at once.
_RETRYABLE = frozenset({"http_5xx", "http_429", "timeout", "connection_error", "dns_error", "tls_error", "file_error"})
# An endpoint failing this way costs up to a whole deadline per attempt, so
# one failure postpones the endpoint's other due alerts instead of trying each.
_UNREACHABLE = frozenset({"timeout", "connection_error", "dns_error", "tls_error"})
_MIN_DELAY_S = 0.5  # even "Retry-After: 0" must not turn into a busy loop
_CLAIM_LIMIT = 100


def _cluster_alerted(con, rule: str, enriched: EnrichedArticle, since: float) -> bool:
    """True when the article's story already has an alert under `rule`."""
    article = enriched.article
    linked = outbox_store.count_story_alerts(con, rule, article.article_id, article.duplicate_of or article.article_id)
    if linked or not article.minhash:
        return bool(linked)
    # A copy alerted earlier may be relinked to this article by a write that
    # has not landed yet: compare signatures instead of waiting for it.
    signatures = outbox_store.alerted_signatures(con, rule, since)
    return any(estimate_jaccard(article.minhash, sig) >= DEFAULT_THRESHOLD for sig in signatures)


def _main_incident(candidates, article_id: str):
    """The incident that is `article_id`'s main one when `candidates` are resolved, or None."""
    for incident in resolve(candidates):
        if any(m.article_id == article_id and m.main for m in incident.members):
            return incident
    return None


def _incident_gate(con, rule, enriched: EnrichedArticle, since: float) -> tuple[bool, Optional[dict]]:
    """(already alerted, update) for the article's incident: the stored window resolved as the incident stage does.

    ``update`` is set when ``rule.update_change`` is on and this article moves the
    alerted incident's count range by at least that fraction.
    """
    a = enriched.article
    aid = a.article_id
    # The window reaches back from the article too, so a backfill of old reports still groups.
    since = min(since, (epoch(a.published_at) or epoch(a.seen_at) or since) - (time.time() - since))
    candidates, _ = incident_window(con, iso(since))
    incident = _main_incident(candidates, aid)
    if incident is None:
        return False, None
    others = sorted({m.article_id for m in incident.members} - {aid})
    alerted = outbox_store.first_alerted(con, rule.name, others)
    if alerted is None or rule.update_change <= 0 or incident.count_max is None:
        return alerted is not None, None
    before = _main_incident([c for c in candidates if c.article_id != aid], alerted)
    old = (before.count_min, before.count_max) if before is not None else (None, None)
    new = (incident.count_min, incident.count_max)
    moved = old[1] is None or any(abs(n - o) >= rule.update_change * max(o, 1) for n, o in zip(new, old))
    if not moved:
        return True, None
    return True, {"incident_id": incident.incident_id, "count_min": new[0], "count_max": new[1],
                  "previous_count_min": old[0], "previous_count_max": old[1], "n_articles": incident.n_articles}


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
            if rule.per == "incident":
                alerted, update = _incident_gate(con, rule, enriched, since)
                if alerted and update is None:
                    continue
                if update is not None:  # one update alert per incident and count range
                    key = f"{update['incident_id']}:{update['count_min']}-{update['count_max']}"
                    payload.update(update, update=True, alert_id=alert_id_for(rule.name, key))
            body = canonical_json(payload)
            outbox_store.insert_alerts(con, [
                OutboxRow(payload["alert_id"], ch.key, rule.name, payload["article_id"], body, now,
                          now + settings.horizon_s)
                for ch in rule.channels
            ])
            new_ids.append(payload["alert_id"])
    return new_ids


def _claim_due(store: DuckDBStore, now: float, lease_s: float) -> tuple[list[DueAlert], Optional[float], int]:
    """Lease the due rows to this caller; return them, when the next other row is due, and how many are pending."""
    with store.transaction() as con:
        outbox_store.disable_pending_of_gone_endpoints(con)
        outbox_store.fail_expired(con, now)
        rows = outbox_store.due_alerts(con, now, _CLAIM_LIMIT)
        # The lease keeps a concurrent deliverer off these rows; after a
        # crash they become due again when it ends.
        outbox_store.reschedule(con, [(row, now + lease_s) for row in rows])
        next_due, pending = outbox_store.pending_state(con)
    return rows, next_due, pending


def next_delay(attempts: int, retry_after: Optional[float], settings: AlertSettings, rng: random.Random) -> float:
    """Seconds before the next attempt: the receiver's Retry-After, else jittered exponential backoff."""
    if retry_after is not None:
        return max(retry_after, _MIN_DELAY_S)
    base = min(settings.backoff_max_s, settings.backoff_initial_s * 2 ** min(max(attempts - 1, 0), 30))
    return max(base * rng.uniform(0.5, 1.0), _MIN_DELAY_S)


def _record(store: DuckDBStore, due: DueAlert, outcome: DeliveryOutcome, now: float, settings: AlertSettings,
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
        outbox_store.record_attempt(con, due, status, attempts, error, next_at, now)
        if status == "disabled":
            outbox_store.disable_endpoint(con, due.channel, now, error)
    if status != "pending":
        log.log(logging.INFO if status == "delivered" else logging.WARNING,
                "alert %s to %s: %s%s", due.alert_id, display_channel(due.channel), status,
                f" ({error})" if error else "")
    return status, next_at


def _postpone(store: DuckDBStore, rows: Sequence[tuple[DueAlert, float]]) -> None:
    """Move leased rows that were not attempted to a later time, attempts unchanged."""
    with store.transaction() as con:
        outbox_store.reschedule(con, rows)


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
            _, pending = outbox_store.pending_state(con)
    counts["pending"] = pending
    return {key: counts[key] for key in ("attempts", "delivered", "failed", "disabled", "pending")}


# ---------------------------------------------------------------- inspection and manual retry


def list_alerts(db_path: str, since: Optional[datetime] = None) -> tuple[list[str], list[list]]:
    """(columns, rows) of the outbox for display, oldest first."""
    store = DuckDBStore(db_path)
    with store.reader() as con:
        names, raw = outbox_store.outbox_rows(con, 0.0 if since is None else since.timestamp())
    if not names:
        return [], []
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
            outbox_store.enable_all_endpoints(con)
        return outbox_store.reopen(con, statuses, now, now + settings.horizon_s)
