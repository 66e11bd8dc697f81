"""Golden values for number parsing and people/weapon counts (transforms/mentions/numbers.py)."""

import pytest

from newswatch.transforms.mentions.components import load_noun_lexicon
from newswatch.transforms.mentions.number_lists import find_quantities
from newswatch.transforms.mentions.numbers import parse_number

NOUNS = load_noun_lexicon()


@pytest.mark.parametrize(
    "text, value",
    [
        ("sixty-four", 64),
        ("Sixty four", 64),
        ("two dozen", 24),
        ("a dozen", 12),
        ("half a dozen", 6),
        ("1,200", 1200),
        ("14,000", 14000),
        ("seventeen", 17),
        ("one hundred and twenty", 120),
        ("a hundred", 100),
        ("two thousand", 2000),
        ("3 million", 3_000_000),
        ("1.5 million", 1_500_000),
        ("dozens", None),
        ("several", None),
        ("27/2010", None),
        ("12,34", None),
        ("", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def people(text):
    """(value, qualifier) of each people count that is neither a subset nor a casualty figure."""
    return [(q.value, q.qualifier) for q in find_quantities(text, NOUNS)
            if q.category == "people" and not q.subset and not q.casualty]


def weapons(text):
    return [q.value for q in find_quantities(text, NOUNS) if q.category == "weapons" and not q.subset]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Sixty-four soldiers laid down their arms.", [(64, "exact")]),
        ("Two dozen troops surrendered.", [(24, "exact")]),
        ("A dozen police officers walked out.", [(12, "exact")]),
        ("More than 1,200 junta soldiers have surrendered this year.", [(1200, "more_than")]),
        ("Between 30 and 40 soldiers deserted.", [(30, "range")]),
        ("Some 30 to 40 marines fled.", [(30, "range")]),
        ("A captain and 11 soldiers crossed over.", [(12, "exact")]),
        ("A warrant officer and two corporals defected.", [(3, "exact")]),
        ("A colonel, two majors and 15 soldiers surrendered.", [(18, "exact")]),
        ("Capt. Kyaw Zin and 9 soldiers fled.", [(10, "exact")]),
        ("At least 19 junta soldiers fled their posts.", [(19, "at_least")]),
        ("Nearly 40 sailors and marines defected.", [(40, "nearly")]),
        ("About 30 soldiers walked away.", [(30, "about")]),
        ("Over 50 soldiers switched sides.", [(50, "more_than")]),
        ("Twenty-three newly conscripted Myanmar soldiers surrendered.", [(23, "exact")]),
        ("The 30-odd soldiers arrived at dawn.", [(30, "about")]),
        ("Forty of the soldiers came from Magway.", [(40, "exact")]),
    ],
)
def test_people_counts(text, expected):
    assert people(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The men belonged to Light Infantry Battalion 123.",
        "Soldiers of LIB 345 and IB 87 were seen.",
        "Under Law No. 27/2010, deserters face prison.",
        "The 2021 coup changed everything for soldiers.",
        "In 2024 soldiers were paid late.",
        "A 23-year-old soldier said he was afraid.",
        "Men aged 18 to 35 can be drafted.",
        "Conscripts aged between 19 and 24 soldiers' ages vary.",
        "Each defector receives 500,000 kyat for a rifle.",
        "The reward is $1,000 per soldier.",
        "Some 250 relatives came with the troops.",
        "He brought his wife and 3 children.",
        "A 60mm mortar and MA-1 rifles were seen.",
        "The camp is 20 kilometres from Dawei, where soldiers wait.",
        "Officers from two police stations left.",
        "A sergeant with 14 years of service spoke.",
        "Dozens of soldiers deserted.",
        "Police stopped 40 per cent of soldiers at checkpoints.",
        "Seventeen of the 20 percent figure.",
    ],
)
def test_numbers_that_never_count_people(text):
    assert people(text) == []


def test_casualties_and_subsets_are_flagged():
    found = find_quantities("Nine soldiers were killed and 30 were wounded; 12 soldiers fled.", NOUNS)
    assert [(q.value, q.category, q.casualty) for q in found] == [
        (9, "people", True), (30, "bare", True), (12, "people", False)]
    found = find_quantities("22 soldiers defected and 9 were captured.", NOUNS)
    assert [(q.value, q.casualty) for q in found] == [(22, False), (9, True)]
    found = find_quantities("64 soldiers, including three officers, surrendered.", NOUNS)
    assert [(q.value, q.subset) for q in found] == [(64, False), (3, True)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("They carried nine rifles and two pistols.", [11]),
        ("They handed over 58 weapons, including two 81mm mortars.", [58]),
        ("They brought 40 weapons and two vehicles.", [40]),
        ("Seven rifles and several hundred rounds of ammunition.", [7]),
        ("23 rifles, two light machine guns' worth of ammunition and a radio.", [23]),
        ("Around two dozen rifles were collected.", [24]),
        ("More than 60 weapons, including mortars, and several boxes of ammunition.", [60]),
        ("They took 21 firearms with them.", [21]),
        ("Roughly 3,000 rounds of ammunition.", []),
    ],
)
def test_weapon_counts(text, expected):
    assert weapons(text) == expected


def test_bare_subject_numbers():
    found = find_quantities("The KIA said 40 had crossed over, and at least 19 were received.", NOUNS)
    assert [(q.value, q.qualifier, q.category) for q in found] == [(40, "exact", "bare"), (19, "at_least", "bare")]
    assert find_quantities("In 2021 had the army", NOUNS) == []


def test_offsets_point_into_the_text():
    text = "Officials said more than 400 soldiers and police officers defected."
    (quantity,) = find_quantities(text, NOUNS)
    assert text[quantity.start:quantity.end] == "more than 400 soldiers"
    assert (quantity.value, quantity.qualifier, quantity.noun) == (400, "more_than", "soldiers")


@pytest.mark.parametrize("text", ["", "12345", "1 2 3 4 5", "soldiers soldiers", "٣ soldiers", "၁၂ soldiers", "- , .", "a an a"])
def test_odd_inputs_do_not_raise(text):
    find_quantities(text, NOUNS)
