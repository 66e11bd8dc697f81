"""DuckDB side of the incident layer: idempotent writes of `incidents` / `incident_mentions`, and the window loader.

Writes are keyed: an incident row is replaced by id, a mention's membership by
mention id, and a retired id (an incident re-keyed to an earlier report) is
deleted with the memberships still pointing at it. Writing the same incidents
twice leaves the same rows. The tables are declared in ``sinks/schema.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

from newswatch.sinks.schema import TABLES

if TYPE_CHECKING:  # the records module imports Beam; `newswatch report` reaches this module without it
    from newswatch.records import Incident, IncidentCandidate

INCIDENT_COLUMNS = tuple(c.name for c in TABLES["incidents"])


def incident_row(i: Incident) -> list:
    """The `incidents` row of an incident, in INCIDENT_COLUMNS order."""
    return [list(v) if isinstance(v, tuple) else v for v in i[: len(INCIDENT_COLUMNS)]]


def latest_versions(incidents: Sequence[Incident]) -> list[Incident]:
    """One record per id, the last; a mention stays only in the last version that lists it.

    A batch may hold several versions of one incident: a stream re-resolves on every arrival.
    """
    final = {i.incident_id: i for i in incidents}
    owner = {m.mention_id: i.incident_id for i in final.values() for m in i.members}
    return [i._replace(members=tuple(m for m in i.members if owner[m.mention_id] == i.incident_id))
            for i in final.values()]


def write_incidents(con, incidents: Sequence[Incident]) -> int:
    """Apply incident records (retirements are records without members) on an open transaction."""
    if not incidents:
        return 0
    final = latest_versions(incidents)
    gone = [[i.incident_id] for i in final if not i.members]
    live = [i for i in final if i.members]
    if gone:
        con.executemany("DELETE FROM incidents WHERE incident_id = ?", gone)
        con.executemany("DELETE FROM incident_mentions WHERE incident_id = ?", gone)
    if live:
        con.executemany("DELETE FROM incidents WHERE incident_id = ?", [[i.incident_id] for i in live])
        marks = ", ".join("?" * len(INCIDENT_COLUMNS))
        con.executemany(f"INSERT INTO incidents VALUES ({marks})", [incident_row(i) for i in live])
        members = [[m.mention_id, i.incident_id, m.article_id, m.main] for i in live for m in i.members]
        con.executemany("DELETE FROM incident_mentions WHERE mention_id = ?", [[m[0]] for m in members])
        con.executemany("INSERT INTO incident_mentions VALUES (?, ?, ?, ?)", members)
    return len(incidents)


# The candidates of articles in the window, plus every member of an incident that has one there, so
# an incident is always re-resolved whole.
_WINDOW_SQL = """
WITH recent AS (
    SELECT article_id FROM articles
    WHERE ? IS NULL OR greatest(coalesce(published_at, seen_at), seen_at) >= CAST(? AS TIMESTAMPTZ)
), touched AS (
    SELECT DISTINCT incident_id FROM incident_mentions WHERE article_id IN (SELECT article_id FROM recent)
)
SELECT m.mention_id, a.article_id, a.url, a.source, a.title,
       strftime(a.published_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00'),
       strftime(a.seen_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00'), a.duplicate_of,
       m.kind, m.people_count, m.count_qualifier, m.weapons_count, m.ranks, m.units, m.orgs, m.locations,
       m.source_party, m.sentence, m.start_char, im.incident_id
FROM mentions m JOIN articles a USING (article_id)
LEFT JOIN incident_mentions im ON im.mention_id = m.mention_id
WHERE m.modality = 'report'
  AND ((m.kind = 'defection' AND a.defection_report)
       OR (m.kind = 'conscription' AND a.conscription AND m.people_count IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM mentions d WHERE d.article_id = m.article_id
                           AND d.kind = 'defection' AND d.start_char = m.start_char)))
  AND (a.article_id IN (SELECT article_id FROM recent) OR im.incident_id IN (SELECT incident_id FROM touched))
"""


def incident_window(con, since: Optional[str]) -> tuple[list[IncidentCandidate], dict[str, frozenset]]:
    """(candidates, member mention ids per stored incident) for the articles seen or published since ``since``."""
    from newswatch.records import IncidentCandidate

    rows = con.execute(_WINDOW_SQL, [since, since]).fetchall()
    candidates, known = [], {}
    for row in rows:
        *fields, incident_id = row
        for n in (12, 13, 14, 15):
            fields[n] = tuple(fields[n] or ())
        candidates.append(IncidentCandidate(*fields))
        if incident_id is not None:
            known.setdefault(incident_id, set()).add(row[0])
    return candidates, {k: frozenset(v) for k, v in known.items()}
