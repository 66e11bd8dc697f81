"""Group defection (and conscription) report mentions into incidents: pure functions, no Beam.

An *incident* is one real-world event ("a captain and 11 soldiers crossed over
in Kani Township") or one claimant's stated *figure* ("more than 14,000 since
the coup, the NUG says"), however many outlets report it. Input: the
:class:`~newswatch.records.IncidentCandidate` rows of a window (see
:func:`candidates_of`); output: :class:`~newswatch.records.Incident` rows with
their members. :func:`resolve` is a function of the *set* of candidates, so
late or out-of-order arrivals, batch and stream give the same incidents.

How it decides:

1. Per article, report mentions split into *figure* mentions (a cumulative or
   period cue: "since the coup", "this year", "so far", "in March") and *event*
   mentions; a mention that names a specific place or unit is an event ("the
   largest surrender since the coup" is not a total). An article gives one
   event unit (its event mentions pooled) and one figure unit per (claimant,
   count); mentions with no place, unit or rank of their own, and uncounted
   period remarks, join the article's figure when it has one. A background
   event goes into the article's event unit: events within one article are
   not split. An article's main incident is its event when that has a count,
   a town or a unit, else its largest figure.
2. Units are taken in a fixed order (publication time, then article id). A copy
   that dedup linked (``duplicate_of``) joins its original's incident. Any
   other unit joins the best-scoring incident of the same kind and sort whose
   nearest member is at most ``max_gap_days`` (7) away, if the score reaches
   ``threshold`` (3.5), else starts one.
3. Events score: a shared specific place +2 (a shared state or region +0.5;
   only disjoint places -2), compatible people counts +2 (incompatible -2;
   "about 30" and "31" are compatible, ranges in :func:`count_range`; a unit's
   counts are its lead count and its largest, so a background count later in
   the text does not match another event), shared units +2, shared ranks +0.5,
   a shared claimant +1, published within two days +1, and 3 x the word-set
   cosine of the headline and the first three evidence sentences. Counts that
   differ do not count against a report that revises a figure ("has risen to
   19", "up from"), and an undated report is not held to the gap.
4. Figures merge only with the same claimant, the same stated number and the
   same period cue, within ``figure_gap_days``: a different total is a different
   incident, and figures never join events. A claimant's figures over time form
   its series (``sort = 'figure'`` and the same ``claimants``).

The incident id is ``inc-`` plus a hash of its earliest unit's first mention
id: reruns keep ids, and when an earlier report arrives later the incident is
re-keyed to it (the old id is retired, see :func:`diff`).

Example::

    incidents = resolve(candidates)
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import defaultdict
from datetime import datetime
from typing import Iterable, NamedTuple, Optional, Sequence

from newswatch.records import EnrichedArticle, Incident, IncidentCandidate, IncidentMember
from newswatch.transforms.mentions.components import load_patterns

EVENT, FIGURE = "event", "figure"
DEFAULT_THRESHOLD = 3.5
DEFAULT_MAX_GAP_DAYS = 7.0
DEFAULT_FIGURE_GAP_DAYS = 14.0
DAY = 86400.0

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_PERIOD_CUES = (
    ("coup", re.compile(r"\bsince (?:the (?:military |\d{4} )?coup|(?:february )?2021|the military (?:seized|took) power)", re.I)),
    ("year", re.compile(r"\b(?:this|last|past) year\b|\bsince (?:january|the start of the year)\b|\bin 20\d\d\b", re.I)),
    ("month", re.compile(rf"\b(?:in|during) (?:the month of )?(?:{_MONTHS})\b|\blast month\b|\bmonthly\b", re.I)),
    ("total", re.compile(r"\bsince\b|\bso far\b|\bto date\b|\bin total\b|\ba total of\b|\baltogether\b|"
                         r"\bcumulative\b|\bin all\b", re.I)),
)
_CLAIMANT_ALIASES = {
    "nug": "NUG", "mod": "NUG", "people's embrace": "NUG", "national unity government": "NUG",
    "ministry of defence": "NUG", "ministry": "NUG", "knu": "KNU", "knla": "KNU",
}
_KNOWN_CLAIMANTS = {"NUG", "KNU", "KNDF", "KIA", "MNDAA", "TNLA", "AA", "CNF", "PDF", "ABSDF"}
_BROAD = {"sagaing", "magway", "mandalay region", "bago", "ayeyarwady", "tanintharyi", "yangon region",
          "kachin", "kayah", "karenni", "kayin", "karen", "chin", "mon", "rakhine", "shan", "naypyitaw"}
_REVISION = re.compile(r"\b(?:has|have) (?:now )?(?:risen|grown|climbed|increased)\b|\brose to\b|\brevised\b|"
                       r"\bup from\b|\bfirst reported\b|\bearlier reports?\b|\bbrings? the (?:number|total)\b",
                       re.I)
_PLACE_SUFFIX = re.compile(r"\s+(?:township|town|city|district)$")
_STOP = set("""a an the of to in on at by for from with and or but as is are was were be been has have had
it its this that these those their they them he she his her said says say according told who which
after before over under about into out up off than more most least some several junta myanmar military
soldiers soldier troops regime army""".split())


class Unit(NamedTuple):
    """What one article says about one incident: the pooled features of its mentions."""

    key: tuple  # (time, article_id, sort, claimant, count): the fixed processing order
    sort: str
    kind: str
    article_id: str
    duplicate_of: Optional[str]
    time: float  # publication time; the first sight when undated (then ``dated`` is False)
    dated: bool
    revision: bool  # the text revises a figure ("has risen to 19")
    counts: tuple[tuple[int, int, int], ...]  # (value, low, high) of the lead and the largest count
    weapons: tuple[int, ...]
    places: frozenset[str]
    broad: frozenset[str]
    units: frozenset[str]
    ranks: frozenset[str]
    claimants: frozenset[str]
    period: str
    words: frozenset[str]
    members: tuple[IncidentCandidate, ...]


def epoch(iso: Optional[str]) -> Optional[float]:
    """Seconds since 1970 of an ISO time, or None."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def count_range(count: int, qualifier: Optional[str]) -> tuple[int, int]:
    """The people counts a stated count is compatible with: ``count_range(30, 'about') == (27, 33)``."""
    if qualifier in ("about", "range"):
        return math.floor(count * 0.9), math.ceil(count * 1.1)
    if qualifier == "nearly":
        return math.floor(count * 0.85), count
    if qualifier in ("at_least", "more_than"):
        return count, max(count + 2, math.ceil(count * 1.25))
    return count, count


def claimant_of(c: IncidentCandidate) -> set[str]:
    """Canonical claimants of a mention: its attributed source and the known groups it names."""
    out = set()
    for name in [c.source_party or "", *c.orgs]:
        alias = _CLAIMANT_ALIASES.get(name.lower())
        if alias:
            out.add(alias)
        elif name in _KNOWN_CLAIMANTS:
            out.add(name)
    return out


def period_of(sentence: str) -> Optional[str]:
    """The figure cue of a sentence ('coup', 'year', 'month', 'total'), or None for an event."""
    for name, pattern in _PERIOD_CUES:
        if pattern.search(sentence):
            return name
    return None


@functools.cache
def _gazetteer() -> dict[str, tuple[str, str]]:
    """Place pattern (lower case) -> (gazetteer id, type) from the packaged places.jsonl (read-only data)."""
    return {row["pattern"].lower(): (row.get("id") or row["pattern"].lower(), row.get("type", ""))
            for row in load_patterns("places.jsonl") if isinstance(row.get("pattern"), str)}


def _place(name: str) -> tuple[str, bool]:
    """(canonical id, broad) of a place as written: 'Kale Township' -> ('kalay', False)."""
    low = name.lower().replace("’", "'").strip()
    gid, type_ = _gazetteer().get(low, (None, ""))
    if gid is None:
        gid = _PLACE_SUFFIX.sub("", low)
    broad = type_ in ("state", "region", "division", "country") or low.endswith((" state", " region", " division")) \
        or low in _BROAD
    gid = re.sub(r"\s+(?:state|region|division)$", "", gid)
    return {"kayah": "karenni", "kayin": "karen"}.get(gid, gid), broad


def _words(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(w for t in texts for w in re.findall(r"[a-z][a-z'-]+", t.lower().replace("’", "'"))
                     if w not in _STOP and len(w) > 2)


def candidates_of(enriched: EnrichedArticle) -> list[IncidentCandidate]:
    """The mentions of a stored article the incident layer groups (report modality, labelled articles)."""
    a, labels = enriched.article, enriched.labels
    out = []
    # A conscription mention that is also a defection mention ("23 conscripts surrendered") is the defection.
    defection_at = {m.start_char for m in enriched.mentions if m.kind == "defection"}
    for m in enriched.mentions:
        if m.modality != "report":
            continue
        if m.kind == "defection" and labels.defection_report or (
                m.kind == "conscription" and labels.conscription and m.people_count is not None
                and m.start_char not in defection_at):
            out.append(IncidentCandidate(
                m.mention_id, a.article_id, a.url, a.source, a.title, a.published_at, a.seen_at, a.duplicate_of,
                m.kind, m.people_count, m.count_qualifier, m.weapons_count, tuple(m.ranks), tuple(m.units),
                tuple(m.orgs), tuple(m.locations), m.source_party, m.sentence, m.start_char))
    return out


def _unit(sort: str, members: list[IncidentCandidate], period: Optional[str] = None) -> Unit:
    first = members[0]
    places, broad = set(), set()
    for c in members:
        for name in c.locations:
            norm, is_broad = _place(name)
            (broad if is_broad else places).add(norm)
    ordered = sorted(members, key=lambda c: (c.start_char, c.mention_id))
    counted = [c for c in ordered if c.people_count is not None]
    # The lead count and the largest: a background count later in the text ("after eight police left
    # last week") must not make the article look like that other event.
    headline = {counted[0], max(counted, key=lambda c: c.people_count)} if counted else set()
    counts = tuple(sorted({(c.people_count, *count_range(c.people_count, c.count_qualifier)) for c in headline}))
    claimants = frozenset(x for c in members for x in claimant_of(c))
    published = epoch(first.published_at)
    time = published or epoch(first.seen_at) or 0.0
    head = max(counts)[0] if counts else -1
    return Unit(
        key=(time, first.article_id, sort, ",".join(sorted(claimants)) if sort == FIGURE else "", head),
        sort=sort, kind=first.kind, article_id=first.article_id, duplicate_of=first.duplicate_of, time=time,
        dated=published is not None, revision=any(_REVISION.search(c.sentence) for c in members),
        counts=counts, weapons=tuple(sorted({c.weapons_count for c in members if c.weapons_count is not None})),
        places=frozenset(places), broad=frozenset(broad),
        units=frozenset(u.lower() for c in members for u in c.units),
        ranks=frozenset(r.lower() for c in members for r in c.ranks),
        claimants=claimants, period=period or "",
        words=_words([first.title or "", *(c.sentence for c in ordered[:3])]),
        members=tuple(sorted(members, key=lambda c: (c.start_char, c.mention_id))),
    )


def article_units(candidates: Sequence[IncidentCandidate]) -> list[Unit]:
    """One article's units: one event unit per kind, one figure unit per (claimant, count)."""
    by_kind: dict[str, list[IncidentCandidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: (c.start_char, c.mention_id)):
        by_kind[c.kind].append(c)
    units = []
    for kind, mentions in sorted(by_kind.items()):
        figures: dict[tuple, list[IncidentCandidate]] = {}
        periods: dict[tuple, str] = {}
        events, bare = [], []
        for c in mentions:
            specific = c.units or any(not _place(p)[1] for p in c.locations)
            period = period_of(c.sentence) if c.people_count is not None and not specific else None
            if period:
                key = (",".join(sorted(claimant_of(c))), c.people_count)
                figures.setdefault(key, []).append(c)
                periods.setdefault(key, period)
            elif not (c.locations or c.units or c.ranks) or (c.people_count is None and period_of(c.sentence)):
                bare.append(c)  # nothing of its own, or a period remark ("most defectors this year came from")
            else:
                events.append(c)
        main_figure = max(figures, key=lambda k: (k[1], k[0]), default=None)
        if main_figure is not None:
            # Without a place of its own, a mention elaborates the article's figure ("3,900 of them were soldiers").
            figures[main_figure].extend(bare)
        else:
            events.extend(bare)
        if events:
            units.append(_unit(EVENT, events))
        units.extend(_unit(FIGURE, ms, periods[k]) for k, ms in sorted(figures.items()))
    return units


def _counts_agree(a: Unit, b: Unit) -> Optional[bool]:
    if not a.counts or not b.counts:
        return None
    return any(lo1 <= hi2 and lo2 <= hi1 for _, lo1, hi1 in a.counts for _, lo2, hi2 in b.counts)


def _cosine(a: frozenset, b: frozenset) -> float:
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def pair_score(a: Unit, b: Unit) -> float:
    """How strongly two event units describe the same event (merge at ``DEFAULT_THRESHOLD``)."""
    score = 0.0
    if a.places & b.places:
        score += 2.0
    elif (a.broad & b.broad) and not (a.places and b.places):
        score += 0.5
    elif (a.places or a.broad) and (b.places or b.broad) and not ((a.places | a.broad) & (b.places | b.broad)):
        score -= 2.0
    agree = _counts_agree(a, b)
    if agree is False and (a.revision or b.revision):
        agree = None  # a revised figure is not a different event
    score += {True: 2.0, False: -2.0, None: 0.0}[agree]
    if a.units & b.units:
        score += 2.0
    if a.ranks & b.ranks:
        score += 0.5
    if a.claimants & b.claimants:
        score += 1.0
    if a.dated and b.dated and abs(a.time - b.time) <= 2 * DAY:
        score += 1.0
    return score + 3.0 * _cosine(a.words, b.words)


def _figures_match(a: Unit, b: Unit) -> bool:
    # A relayed figure repeats its number; any other number is another total ("over 15,500" is not "14,000").
    same_number = {v for v, _, _ in a.counts} & {v for v, _, _ in b.counts}
    return bool((a.claimants & b.claimants or not (a.claimants or b.claimants)) and a.period == b.period
                and same_number)


def incident_id(first: Unit) -> str:
    """The id of an incident: a hash of its earliest unit's first mention id."""
    return "inc-" + hashlib.sha1(first.members[0].mention_id.encode()).hexdigest()[:16]


def group_units(units: Sequence[Unit], threshold: float = DEFAULT_THRESHOLD, max_gap_days: float = DEFAULT_MAX_GAP_DAYS,
                figure_gap_days: float = DEFAULT_FIGURE_GAP_DAYS) -> list[list[Unit]]:
    """Assign units to incidents in their fixed order; return each incident's units, earliest first."""
    ordered = sorted(units, key=lambda u: (u.duplicate_of is not None, u.key))
    groups: list[list[Unit]] = []
    home: dict[tuple[str, str, str], int] = {}  # (article_id, kind, sort) -> group of its first unit
    for unit in ordered:
        target = home.get((unit.duplicate_of or "", unit.kind, unit.sort)) if unit.duplicate_of else None
        if target is None:
            best = None
            for n, group in enumerate(groups):
                if group[0].kind != unit.kind or group[0].sort != unit.sort:
                    continue
                gap = figure_gap_days if unit.sort == FIGURE else max_gap_days
                # An undated report (its time is when we first saw it) is not held to the gap.
                dated = [g for g in group if g.dated]
                if unit.dated and dated and min(abs(unit.time - g.time) for g in dated) > gap * DAY:
                    continue
                if unit.sort == FIGURE:
                    score = threshold if all(_figures_match(unit, g) for g in group) else -1.0
                else:
                    score = max(pair_score(unit, g) for g in group)
                if score >= threshold and (best is None or score > best[0]):
                    best = (score, n)
            target = best[1] if best else None
        if target is None:
            groups.append([unit])
            target = len(groups) - 1
        else:
            groups[target].append(unit)
        home.setdefault((unit.article_id, unit.kind, unit.sort), target)
    return groups


def _main_units(units: Sequence[Unit]) -> set[int]:
    """Per article, its main defection-report incident: its event, when that has a count, a town or a
    unit of its own; else its largest figure (a figure article); else its event."""
    best: dict[str, Unit] = {}

    def rank(u: Unit) -> tuple:
        if u.sort == EVENT:
            return (2 if u.counts or u.places or u.units else 0, 0)
        return (1, u.counts[-1][0] if u.counts else -1)

    for u in units:
        if u.kind == "defection" and (u.article_id not in best or rank(u) > rank(best[u.article_id])):
            best[u.article_id] = u
    return {id(u) for u in best.values()}


def _incident(group: list[Unit], main: set[int]) -> Incident:
    first = group[0]
    members = [c for u in group for c in u.members]
    heads = [u.counts[-1] for u in group if u.counts]  # each article's largest count
    weapons = [max(u.weapons) for u in group if u.weapons]
    claimants = sorted({x for u in group for x in u.claimants})
    places = sorted({c for c in {p for m in members for p in m.locations}})
    published = [m.published_at for m in members if m.published_at]
    seen = sorted(m.seen_at for m in members if m.seen_at)
    rep = first.members[0]
    return Incident(
        incident_id=incident_id(first), sort=first.sort, kind=first.kind, title=rep.title,
        count_min=min(h[0] for h in heads) if heads else None, count_max=max(h[0] for h in heads) if heads else None,
        weapons_min=min(weapons) if weapons else None, weapons_max=max(weapons) if weapons else None,
        claimants=tuple(claimants), places=tuple(places),
        units=tuple(sorted({x for m in members for x in m.units})),
        ranks=tuple(sorted({x for m in members for x in m.ranks})),
        first_published=min(published, key=lambda p: epoch(p) or 0.0) if published else None,
        first_seen=seen[0] if seen else None, last_seen=seen[-1] if seen else None,
        n_articles=len({m.article_id for m in members}), n_outlets=len({m.source or m.url for m in members}),
        representative_url=rep.url,
        members=tuple(sorted((IncidentMember(c.mention_id, c.article_id, id(u) in main) for u in group
                              for c in u.members), key=lambda m: m.mention_id)),
    )


def resolve(candidates: Iterable[IncidentCandidate], threshold: float = DEFAULT_THRESHOLD,
            max_gap_days: float = DEFAULT_MAX_GAP_DAYS, figure_gap_days: float = DEFAULT_FIGURE_GAP_DAYS) -> list[Incident]:
    """All incidents of a set of candidates, ordered by id; the same set always gives the same incidents."""
    by_article: dict[str, dict[str, IncidentCandidate]] = defaultdict(dict)
    for c in candidates:
        by_article[c.article_id][c.mention_id] = c
    units = [u for aid in sorted(by_article) for u in article_units(list(by_article[aid].values()))]
    main = _main_units(units)
    groups = group_units(units, threshold, max_gap_days, figure_gap_days)
    return sorted((_incident(g, main) for g in groups), key=lambda i: i.incident_id)


def retired(incident_id_: str) -> Incident:
    """The record that removes an id that no longer names an incident (it was re-keyed or split)."""
    return Incident(incident_id_, "", "", None, None, None, None, None, (), (), (), (), None, None, None, 0, 0, None, ())


def diff(known: dict[str, frozenset], current: Sequence[Incident], new_mentions: Iterable[str] = ()) -> list[Incident]:
    """What to write so that a store whose incidents have the member mention ids ``known`` holds ``current``.

    Retirements first, then every incident whose members changed or include a new mention.
    """
    fresh = set(new_mentions)
    now = {i.incident_id for i in current}
    changed = [i for i in current
               if known.get(i.incident_id) != frozenset(m.mention_id for m in i.members)
               or any(m.mention_id in fresh for m in i.members)]
    return [retired(k) for k in sorted(known) if k not in now] + changed
