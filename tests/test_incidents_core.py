"""The incident rules as plain functions: merges, splits, figures, order independence, stable ids."""

import itertools
import random

from newswatch.records import IncidentCandidate
from newswatch.transforms.incidents.core import (
    count_range,
    diff,
    incident_id,
    period_of,
    resolve,
)


def cand(mid, aid, published, sentence, *, count=None, qualifier="exact", places=(), units=(), ranks=(), orgs=(),
         party=None, source=None, title=None, weapons=None, kind="defection", dup=None, start=0):
    return IncidentCandidate(
        mid, aid, f"http://x/{aid}", source or f"outlet-{aid}", title or sentence[:60], published, published, dup,
        kind, count, qualifier if count is not None else None, weapons, tuple(ranks), tuple(units), tuple(orgs),
        tuple(places), party, sentence, start)


def groups(incidents):
    return sorted(sorted({m.article_id for m in i.members}) for i in incidents)


DEMOSO_A = cand("m1", "a", "2024-12-03T08:00:00+00:00",
                "Thirty-one soldiers from Light Infantry Battalion 428 have defected to the KNDF in Demoso Township.",
                count=31, places=["Demoso Township", "Karenni State"], units=["Light Infantry Battalion 428"],
                orgs=["KNDF"])
DEMOSO_B = cand("m2", "b", "2024-12-04T09:00:00+00:00",
                "About 30 soldiers walked away from a junta camp near Demoso in Kayah State early on Sunday.",
                count=30, qualifier="about", places=["Demoso", "Kayah State"])
DEMOSO_LATER = cand("m3", "c", "2024-12-10T09:00:00+00:00",
                    "Nine soldiers deserted a post in Demoso Township and joined the KNDF, the group said.",
                    count=9, places=["Demoso Township"], orgs=["KNDF"], party="KNDF")
NUG_14000 = cand("m4", "d", "2024-05-28T06:00:00+00:00",
                 "More than 14,000 soldiers and police have defected since the military seized power in 2021.",
                 count=14000, qualifier="more_than", orgs=["NUG"], party="NUG")
NUG_14000_RELAY = NUG_14000._replace(mention_id="m5", article_id="e", published_at="2024-05-29T06:00:00+00:00",
                                     source="other")
NUG_15000 = NUG_14000._replace(mention_id="m6", article_id="f", people_count=15500,
                               published_at="2024-06-02T06:00:00+00:00",
                               sentence="Over 15,500 soldiers and police have defected since the coup, the NUG said.")


def test_count_ranges_make_about_30_and_31_compatible():
    assert count_range(30, "about") == (27, 33)
    assert count_range(31, "exact") == (31, 31)
    assert count_range(30, "more_than")[0] == 30
    assert count_range(40, "nearly") == (34, 40)


def test_period_cues_mark_figures():
    assert period_of("More than 14,000 have defected since the coup, the NUG said.") == "coup"
    assert period_of("212 soldiers and police defected in October, the ministry said.") == "month"
    assert period_of("Thirty-one soldiers defected to the KNDF on Sunday.") is None


def test_independent_reports_of_one_event_merge():
    assert groups(resolve([DEMOSO_A, DEMOSO_B])) == [["a", "b"]]
    (incident,) = resolve([DEMOSO_A, DEMOSO_B])
    assert (incident.sort, incident.count_min, incident.count_max, incident.n_outlets) == ("event", 30, 31, 2)


def test_two_events_in_one_township_a_week_apart_stay_apart():
    assert groups(resolve([DEMOSO_A, DEMOSO_B, DEMOSO_LATER])) == [["a", "b"], ["c"]]


def test_figures_merge_only_with_the_same_total_and_never_with_events():
    incidents = resolve([NUG_14000, NUG_14000_RELAY, NUG_15000, DEMOSO_A])
    assert groups(incidents) == [["a"], ["d", "e"], ["f"]]
    assert {i.sort for i in incidents if i.count_min and i.count_min >= 14000} == {"figure"}


def test_a_copy_joins_its_originals_incident():
    copy = DEMOSO_A._replace(mention_id="m9", article_id="z", duplicate_of="a", source="aggregator",
                             published_at="2024-12-20T00:00:00+00:00")
    assert groups(resolve([DEMOSO_A, copy])) == [["a", "z"]]


def test_assignment_is_independent_of_arrival_order():
    everything = [DEMOSO_A, DEMOSO_B, DEMOSO_LATER, NUG_14000, NUG_14000_RELAY, NUG_15000]
    expected = resolve(everything)
    for order in itertools.islice(itertools.permutations(everything), 0, 720, 37):
        assert resolve(order) == expected
    shuffled = everything[:]
    random.Random(7).shuffle(shuffled)
    assert resolve(shuffled) == expected


def test_ids_are_stable_and_rekey_to_an_earlier_report():
    (first,) = resolve([DEMOSO_B])
    assert resolve([DEMOSO_B])[0].incident_id == first.incident_id
    (merged,) = resolve([DEMOSO_A, DEMOSO_B])  # A was published earlier but arrived later
    assert merged.incident_id != first.incident_id
    assert merged.incident_id == resolve([DEMOSO_A])[0].incident_id
    writes = diff({first.incident_id: frozenset({"m2"})}, [merged], ["m1"])
    assert [w.incident_id for w in writes] == [first.incident_id, merged.incident_id]
    assert writes[0].members == () and writes[1].members


def test_a_rerun_writes_nothing():
    current = resolve([DEMOSO_A, DEMOSO_B])
    known = {i.incident_id: frozenset(m.mention_id for m in i.members) for i in current}
    assert diff(known, current, []) == []


def test_main_incident_of_an_article_is_its_event_or_its_largest_figure():
    background = cand("m7", "d", "2024-05-28T06:00:00+00:00",
                      "About 3,900 of those who had left were soldiers, an official said.", count=3900,
                      qualifier="about", party="NUG", start=200)
    incidents = resolve([NUG_14000, background])
    assert groups(incidents) == [["d"]]
    assert all(m.main for m in incidents[0].members)


def test_conscription_events_are_their_own_kind():
    callup = cand("m8", "g", "2024-12-03T08:00:00+00:00", "The junta called up 5,000 people in its 12th batch.",
                  count=5000, kind="conscription")
    incidents = resolve([DEMOSO_A, callup])
    assert sorted(i.kind for i in incidents) == ["conscription", "defection"]
    assert not any(m.main for i in incidents if i.kind == "conscription" for m in i.members)


def test_incident_id_is_derived_from_the_first_mention():
    assert resolve([DEMOSO_A])[0].incident_id.startswith("inc-")
    assert incident_id.__doc__


def test_an_event_story_quoting_a_running_total_keeps_its_event_as_main():
    total = NUG_14000._replace(mention_id="a-total", article_id="a", start_char=500)
    other_total = NUG_14000._replace(mention_id="c-total", article_id="c", start_char=500)
    incidents = resolve([DEMOSO_A, total, DEMOSO_LATER, other_total])
    main = {m.article_id: i.incident_id for i in incidents for m in i.members if m.main}
    assert main["a"] != main["c"]  # different events never share the main incident
    figure = next(i for i in incidents if i.sort == "figure")
    assert sorted({m.article_id for m in figure.members}) == ["a", "c"]
    assert not any(m.main for m in figure.members)


def test_a_revised_figure_joins_and_an_undated_report_is_not_held_to_the_gap():
    revised = cand("m10", "r", "2024-12-06T08:00:00+00:00",
                   "The number of soldiers who defected in Demoso Township has risen to 40, the KNDF said.",
                   count=40, places=["Demoso Township"], orgs=["KNDF"], party="KNDF")
    undated = cand("m11", "u", None, "Thirty-one soldiers from Light Infantry Battalion 428 defected in Demoso.",
                   count=31, places=["Demoso"], units=["Light Infantry Battalion 428"])
    undated = undated._replace(seen_at="2026-01-01T00:00:00+00:00")
    assert groups(resolve([DEMOSO_A, DEMOSO_B, revised, undated])) == [["a", "b", "r", "u"]]
