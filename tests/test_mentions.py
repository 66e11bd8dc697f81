"""Mention extraction: rule components, fixtures in several news styles, robustness, Beam stage."""

import json
import pickle
import re
import unicodedata
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newswatch.records import Article, ErrorRecord
from newswatch.transforms.mentions import step as mentions_module
from newswatch.transforms.mentions.step import (
    EXTRACTOR_VERSION, ExtractMentions, build_nlp, extract_article, extract_mentions)

FIXTURES = Path(__file__).parent / "fixtures" / "mentions"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


def _load(name):
    with open(FIXTURES / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


SENTENCES = _load("sentences.jsonl")
ARTICLES = _load("articles.jsonl") + _load("real_styles.jsonl")  # real_styles: issue 13 failure families


@pytest.mark.parametrize("case", SENTENCES, ids=[c["text"][:50] for c in SENTENCES])
def test_sentence_fixtures(nlp, case):
    found = extract_mentions(nlp, "s", case["text"])
    by_kind = {m.kind: m for m in found}
    if case["kind"] is None:
        assert found == [], [(m.kind, m.modality) for m in found]
        return
    mention = by_kind[case["kind"]]
    for key in ("modality", "people_count", "count_qualifier", "weapons_count", "source_party", "country"):
        if key in case:
            assert getattr(mention, key) == case[key], key
    for key in ("orgs", "locations", "ranks", "units"):
        if key in case:
            assert set(case[key]) <= set(getattr(mention, key)), key


@pytest.mark.parametrize("case", ARTICLES, ids=[c["id"] for c in ARTICLES])
def test_article_fixtures(nlp, case):
    found, labels = extract_article(nlp, case["id"], case["text"], case["title"])
    for key, want in case["expect"].items():
        got = getattr(labels, key)
        if key in ("orgs", "locations"):
            assert set(want) <= set(got) if want else list(got) == [], key
        else:
            assert got == want, key
    for m in found:
        assert case["text"][m.start_char:m.end_char] == m.sentence
        assert m.article_id == case["id"] and m.extractor_version == EXTRACTOR_VERSION


HEADED = [c for c in ARTICLES if c["title"] and c["text"].split("\n", 1)[0].strip() == c["title"].strip()]


@pytest.mark.parametrize("case", HEADED, ids=[c["id"] for c in HEADED])
def test_article_fixtures_with_the_headline_apart(nlp, case):
    """As the pipeline sees a page: trafilatura's text leaves the headline out and the title comes apart.
    The labels are the same, and the mentions' offsets index the text as given."""
    body = case["text"].split("\n", 1)[1]
    found, labels = extract_article(nlp, case["id"], body, case["title"])
    for key, want in case["expect"].items():
        if key not in ("orgs", "locations"):
            assert getattr(labels, key) == want, key
    for m in found:
        assert body[m.start_char:m.end_char] == m.sentence


def test_mention_fields(nlp):
    text = ("Forty soldiers from Light Infantry Battalion 345 defected to the KNDF in Demoso Township on Sunday, "
            "bringing 30 rifles, according to the Karenni Nationalities Defence Force.")
    (m,) = extract_mentions(nlp, "a1", "Headline\n" + text)
    assert (m.kind, m.modality, m.people_count, m.count_qualifier, m.weapons_count) == (
        "defection", "report", 40, "exact", 30)
    assert m.units == ("Light Infantry Battalion 345",) and m.orgs == ("KNDF",)
    assert m.locations == ("Demoso Township",) and m.country == "Myanmar" and m.source_party == "KNDF"
    assert (m.start_char, m.end_char) == (9, 9 + len(text)) and m.mention_id == f"a1:d:9-{9 + len(text)}"


def test_sentences_respect_abbreviations_and_paragraphs(nlp):
    text = ("Lt. Col. Aung Min of the U.S.-trained unit and Maj. Zaw Win of No. 5 company spoke. "
            "They said 3 soldiers left.\nA new paragraph without a full stop\n“Quoted,” he said. Next one!")
    doc = nlp(text)
    assert [s.text.strip() for s in doc.sents] == [
        "Lt. Col. Aung Min of the U.S.-trained unit and Maj. Zaw Win of No. 5 company spoke.",
        "They said 3 soldiers left.",
        "A new paragraph without a full stop",
        "“Quoted,” he said.",
        "Next one!",
    ]


def test_boilerplate_lines_produce_no_mentions(nlp):
    text = ("Rice prices rose in Mandalay this week.\n"
            "READ MORE: Forty soldiers defect to the PDF in Sagaing\n"
            "Related: Junta steps up conscription drive\n"
            "Advertisement\n"
            "Traders expect prices to stay high.\n"
            "Reporting by A. Writer; Editing by B. Editor")
    found, labels = extract_article(nlp, "b", text)
    assert found == [] and not labels.defection and labels.locations == ("Mandalay",)


def test_headline_places_are_not_body_locations(nlp):
    text = "Soldiers defect near Loikaw\nTen soldiers defected in Demoso on Monday, the KNDF said."
    _, labels = extract_article(nlp, "h", text, "Soldiers defect near Loikaw")
    assert labels.locations == ("Demoso",) and labels.defectors == 10


def test_outlet_names_are_not_places(nlp):
    _, labels = extract_article(nlp, "o", "Police officers in Pauk told Mandalay Wire they had joined the CDM.")
    assert labels.locations == ("Pauk",)


def test_country_scoped_aliases(nlp):
    thai = "The army said 85,000 conscripts would be drafted in the Thai lottery in Bangkok, Thailand."
    (m,) = extract_mentions(nlp, "t", thai)
    assert m.orgs == ("Royal Thai Army",) and m.country == "Thailand"
    myanmar = "The army has drafted 5,000 young men in Yangon under the conscription law."
    (m,) = extract_mentions(nlp, "m", myanmar)
    assert m.orgs == ("military council",) and m.country == "Myanmar"


def test_model_entities_add_but_never_replace(nlp):
    extended = build_nlp()
    ruler = extended.add_pipe("entity_ruler", before="newswatch_gazetteer")
    ruler.add_patterns([{"label": "ORG", "pattern": "Golden Valley Brigade"},
                        {"label": "ORG", "pattern": "KNDF"}])
    text = "Twenty soldiers defected to the Golden Valley Brigade and the KNDF on Monday."
    (plain,) = extract_mentions(nlp, "e", text)
    (added,) = extract_mentions(extended, "e", text)
    assert plain.orgs == ("KNDF",)
    assert set(added.orgs) == {"KNDF", "Golden Valley Brigade"}


def test_missing_model_is_a_clear_error():
    with pytest.raises(ValueError, match="not installed"):
        build_nlp("xx_newswatch_model_that_does_not_exist")


def test_pipeline_pickles(nlp):
    text = "Twelve soldiers defected to the PDF in Kani Township, the NUG said."
    clone = pickle.loads(pickle.dumps(nlp))
    assert extract_mentions(clone, "p", text) == extract_mentions(nlp, "p", text)


ODD_TEXTS = {
    "empty": "",
    "whitespace": " \n\t\n ",
    "burmese": "မြန်မာ့တပ်မတော်မှ စစ်သား ၁၂ ဦး ခိုလှုံလာသည်။\n" * 20,
    "thai": "ทหาร 12 นายแปรพักตร์ไปเข้ากับฝ่ายต่อต้าน\n" * 20,
    "numbers": " ".join(str(n * 7919 % 100003) for n in range(3000)),
    "number_words": "one two three four five six seven eight nine ten dozen hundred thousand " * 100,
    "surrogates": "Twelve soldiers \ud800defected to the KNDF\udfff on Monday. \ud83d",
    "controls": "Ten soldiers\x00 defected\x07 to the PDF.\r\n\x0b",
    "punctuation": ".!?…“”‘’()[]—–-" * 500,
    "one_long_sentence": "soldiers defected and " * 3000,
    "combining": unicodedata.normalize("NFD", "Tëñ sóldiers défected to the PDF."),
}


@pytest.mark.parametrize("name", sorted(ODD_TEXTS))
def test_odd_texts_never_raise(nlp, name):
    text = ODD_TEXTS[name]
    found, labels = extract_article(nlp, name, text, "A title")
    for m in found:
        assert text[m.start_char:m.end_char] == m.sentence
    if name in ("empty", "whitespace", "thai", "punctuation", "number_words"):
        assert found == [] and not labels.defection


def test_surrogates_keep_offsets(nlp):
    text = ODD_TEXTS["surrogates"]
    (m,) = extract_mentions(nlp, "s", text)
    assert m.people_count == 12 and m.sentence == text[m.start_char:m.end_char]


@pytest.mark.slow
def test_two_megabyte_text(nlp):
    paragraph = ("Officials in Yangon said on Monday that 12 soldiers had defected to the PDF in Sagaing, "
                 "while traders reported that prices had risen again.\n")
    text = (paragraph * (2_000_000 // len(paragraph) + 1))[:2_000_000]
    found, labels = extract_article(nlp, "big", text)
    assert len(found) > 10_000 and labels.defectors == 12


# ----------------------------------------------------------------------------- Beam


def _article(article_id, text, duplicate_of=None):
    return Article(
        article_id=article_id, url=f"http://127.0.0.1/{article_id}.html", feed_url="http://127.0.0.1/feed.xml",
        source="test", title=None, author=None, published_at=None, date_origin=None,
        fetched_at="2024-05-01T00:00:00+00:00", seen_at="2024-05-01T00:00:00+00:00", language="en", text=text,
        content_hash=article_id, duplicate_of=duplicate_of, duplicate_kind="near" if duplicate_of else None,
        minhash=None)


ARTICLE_TEXTS = {
    "a": "Twelve soldiers defected to the KNDF near Loikaw on Monday, the group said. They handed over 10 rifles.",
    "b": "Twelve soldiers defected to the KNDF near Loikaw on Monday. They handed over 10 rifles.",
    "c": "Traders in Mandalay said rice prices rose again.",
}


def _summary(enriched):
    labels = enriched.labels
    return (enriched.article.article_id, len(enriched.mentions), labels.defection, labels.defectors,
            labels.weapons, tuple(labels.locations))


def test_extract_mentions_transform():
    articles = [_article("a", ARTICLE_TEXTS["a"]), _article("b", ARTICLE_TEXTS["b"], duplicate_of="a"),
                _article("c", ARTICLE_TEXTS["c"])]
    expected = []
    local = build_nlp()
    for article in articles:
        found, labels = extract_article(local, article.article_id, article.text, article.title)
        expected.append((article.article_id, len(found), labels.defection, labels.defectors, labels.weapons,
                         tuple(labels.locations)))
    assert expected[0][1:5] == (2, True, 12, 10) and expected[1][1:5] == (2, True, 12, 10)
    with BeamTestPipeline(runner="BundleBasedDirectRunner") as p:
        enriched, errors = p | beam.Create(articles) | ExtractMentions()
        assert_that(enriched | "Summarise" >> beam.Map(_summary), equal_to(expected), label="CheckArticles")
        assert_that(errors, equal_to([]), label="CheckNoErrors")


def _fail_on_c(nlp, article_id, text, title=None):
    if article_id == "c":
        raise RuntimeError("rule bug")
    return _real_extract(nlp, article_id, text, title)


_real_extract = mentions_module.extract_article


def test_failures_become_dead_letters(monkeypatch):
    monkeypatch.setattr(mentions_module, "extract_article", _fail_on_c)
    articles = [_article("a", ARTICLE_TEXTS["a"]), _article("c", ARTICLE_TEXTS["c"])]
    with BeamTestPipeline(runner="BundleBasedDirectRunner") as p:
        enriched, errors = p | beam.Create(articles) | ExtractMentions()
        assert_that(enriched | "Summarise" >> beam.Map(lambda e: (e.article.article_id, len(e.mentions))),
                    equal_to([("a", 2), ("c", 0)]), label="CheckArticles")
        assert_that(errors | "Codes" >> beam.Map(lambda e: (e.stage, e.url, e.code, e.message)),
                    equal_to([("mentions", "http://127.0.0.1/c.html", "RuntimeError", "rule bug")]),
                    label="CheckErrors")
    assert isinstance(ErrorRecord._fields, tuple)


# ----------------------------------------------------------------------------- dev corpus

FLOORS = {"min": {"labels.defection.f1": 0.95, "labels.conscription.f1": 0.95, "labels.defection_report.f1": 0.95,
                  "numbers.defectors.exact_rate": 0.9, "numbers.weapons.exact_rate": 0.9,
                  "sets.orgs.recall": 0.9, "sets.locations.recall": 0.9},
          "max": {"numbers.defectors.spurious": 2, "numbers.weapons.spurious": 2}}


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "gold.jsonl").exists(), reason="needs ../shared/corpus")
def test_dev_corpus_meets_targets(nlp):
    trafilatura = pytest.importorskip("trafilatura")
    from newswatch.evaluate import check_baseline, evaluate, load_gold

    gold = load_gold(CORPUS / "gold.jsonl")
    rows = []
    for g in gold:
        raw = (CORPUS / "site" / g["url"].split("127.0.0.1:8765/", 1)[1]).read_bytes()
        declared = re.search(rb'charset=["\']?([A-Za-z0-9_-]+)', raw[:4096])
        html = raw.decode(declared.group(1).decode() if declared else "utf-8", errors="replace")
        text = unicodedata.normalize("NFC", trafilatura.extract(
            html, include_comments=False, fast=True, favor_precision=False, output_format="txt",
            with_metadata=False) or "")
        _, labels = extract_article(nlp, g["id"], text, g["title"])
        rows.append({"url": g["url"], "duplicate_of_url": None, **labels._asdict()})
    assert check_baseline(evaluate(rows, gold), FLOORS) == []
