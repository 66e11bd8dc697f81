"""Article-level label rules (transforms/mentions/labels.py) on hand-built mentions."""

from newswatch.records import Mention
from newswatch.transforms.mentions.labels import DocFacts, article_labels, headline_end, lead_end

TEXT = (
    "Soldiers defect in Kale\n"
    "Twelve soldiers defected on Monday, the PDF said.\n"
    "The group said they brought rifles. Officials in Kale declined to comment.\n"
    "Separately, the junta began enforcing its conscription law, and analysts expect more departures.\n"
    "A second group of 20 soldiers crossed over on Tuesday.\n"
)


def mention(kind, start, modality="report", people=None, weapons=None, orgs=(), locations=(), country="Myanmar"):
    end = TEXT.index("\n", start)
    return Mention(
        mention_id=f"a:{kind[0]}:{start}", article_id="a", kind=kind, modality=modality, people_count=people,
        count_qualifier="exact" if people else None, weapons_count=weapons, ranks=(), units=(), orgs=tuple(orgs),
        locations=tuple(locations), country=country, source_party=None, sentence=TEXT[start:end],
        start_char=start, end_char=end, extractor_version="test")


def facts(**kw):
    body = headline_end(TEXT, "Soldiers defect in Kale")
    base = dict(places=("Kale",), orgs=("PDF",), country="Myanmar", body_start=body, lead_end=lead_end(TEXT, body))
    base.update(kw)
    return DocFacts(**base)


LEAD = TEXT.index("Twelve")
SECOND = TEXT.index("The group")
PASSING = TEXT.index("Separately")
LATER = TEXT.index("A second")


def test_headline_and_lead_offsets():
    assert headline_end(TEXT, "Soldiers defect in Kale") == LEAD
    assert headline_end(TEXT, "Another title") == 0
    assert headline_end("Myanmar\nSoldiers defect\nBody text.", "Soldiers defect") == len("Myanmar\nSoldiers defect\n")
    assert headline_end("First line is body text, long enough.\nMore.", "First line") == 0
    assert headline_end(TEXT, None) == 0
    assert lead_end(TEXT, LEAD) == SECOND


def test_two_body_mentions_are_substantive_and_report_carries_max_counts():
    mentions = [mention("defection", LEAD, people=12, weapons=None, orgs=("PDF",)),
                mention("defection", LATER, people=20, weapons=5, orgs=("military council",))]
    labels = article_labels(mentions, TEXT, facts())
    assert labels.defection and labels.defection_report
    assert (labels.defectors, labels.weapons) == (20, 5)
    assert labels.orgs == ("PDF", "military council")
    assert labels.locations == ("Kale",) and labels.country == "Myanmar"
    assert not labels.conscription


def test_single_lead_mention_is_substantive_but_single_passing_clause_is_not():
    lead_only = article_labels([mention("defection", LEAD, people=12)], TEXT, facts())
    assert lead_only.defection and lead_only.defectors == 12
    passing = article_labels([mention("conscription", PASSING, modality="policy")], TEXT, facts())
    assert not passing.conscription and passing.orgs == ()


def test_lead_mention_that_is_only_analysis_is_not_enough():
    labels = article_labels([mention("defection", LEAD, modality="analysis")], TEXT, facts())
    assert not labels.defection


def test_headline_plus_one_body_mention_is_substantive():
    labels = article_labels([mention("defection", 0, modality="report"),
                             mention("defection", LATER, people=20)], TEXT, facts())
    assert labels.defection and labels.defectors == 20


def test_counts_only_from_report_mentions():
    mentions = [mention("defection", LEAD, modality="appeal", people=500),
                mention("defection", LATER, modality="rumour", people=40)]
    labels = article_labels(mentions, TEXT, facts())
    assert labels.defection and not labels.defection_report
    assert labels.defectors is None and labels.weapons is None


def test_conscription_mentions_never_set_defectors():
    mentions = [mention("conscription", LEAD, people=5000), mention("conscription", LATER, people=60000)]
    labels = article_labels(mentions, TEXT, facts())
    assert labels.conscription and not labels.defection and labels.defectors is None


def test_no_mentions_means_no_orgs_but_places_and_country_remain():
    labels = article_labels([], TEXT, facts(country="Thailand"))
    assert (labels.defection, labels.conscription, labels.orgs) == (False, False, ())
    assert labels.locations == ("Kale",) and labels.country == "Thailand"


def test_without_doc_facts_everything_comes_from_mentions():
    mentions = [mention("defection", LEAD, people=12, locations=("Kale",), country="Myanmar"),
                mention("defection", LATER, people=20, locations=("Kale", "Gangaw"), country="Myanmar")]
    labels = article_labels(mentions, TEXT)
    assert labels.locations == ("Kale", "Gangaw") and labels.country == "Myanmar" and labels.defectors == 20
