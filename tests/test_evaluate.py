"""Evaluation against gold on synthetic rows (newswatch/evaluate.py)."""

import json

import duckdb
import pytest

from newswatch.evaluate import (
    check_baseline, evaluate, evaluate_db, format_table, format_verbose, load_gold, to_json)

GOLD = [
    {"id": "g1", "url": "http://t/1", "title": "One", "published": "2024-03-05", "defection": True,
     "conscription": False, "defection_report": True, "defectors": 12, "weapons": 14,
     "orgs": ["PDF", "military council"], "locations": ["Kani Township", "Monywa"], "country": "Myanmar",
     "duplicate_of": None},
    {"id": "g2", "url": "http://t/2", "title": "Two", "published": None, "defection": False,
     "conscription": True, "defection_report": False, "defectors": None, "weapons": None,
     "orgs": ["military council"], "locations": ["Yangon"], "country": "Myanmar", "duplicate_of": None},
    {"id": "g3", "url": "http://t/3", "title": "Three", "published": "2024-03-07", "defection": True,
     "conscription": False, "defection_report": True, "defectors": 12, "weapons": None,
     "orgs": ["PDF"], "locations": ["Kani Township"], "country": "Myanmar", "duplicate_of": "g1"},
    {"id": "g4", "url": "http://t/4", "title": "Four", "published": "2024-03-08", "defection": False,
     "conscription": False, "defection_report": False, "defectors": None, "weapons": None,
     "orgs": [], "locations": [], "country": "Malaysia", "duplicate_of": None},
]


def row(url, **kw):
    base = {"url": url, "title": None, "published_at": None, "defection": False, "conscription": False,
            "defection_report": False, "defectors": None, "weapons": None, "orgs": [], "locations": [],
            "duplicate_of_url": None, "country": None}
    base.update(kw)
    return base


ROWS = [
    row("http://t/1", published_at="2024-03-05T09:00:00+00:00", defection=True, defection_report=True,
        defectors=12, weapons=11, orgs=["pdf", "military council", "NUG"], locations=["Kani Township"],
        country="Myanmar"),
    row("http://t/2", defection=True, conscription=True, defectors=5, orgs=["military council"],
        locations=["yangon"], country="Myanmar"),
    row("http://t/3", published_at="2024-03-07T00:00:00+00:00", defection=True, defection_report=True,
        defectors=12, orgs=["PDF"], locations=["Kani Township"], country="Myanmar", duplicate_of_url="http://t/1"),
    row("http://t/extra", defection=True),
]


@pytest.fixture(scope="module")
def result():
    return evaluate(ROWS, GOLD)


def test_coverage(result):
    cov = result["coverage"]
    assert (cov["gold"], cov["stored"], cov["matched"]) == (4, 4, 3)
    assert cov["missing"] == ["g4"] and cov["extra"] == ["http://t/extra"]


def test_boolean_labels(result):
    d = result["labels"]["defection"]
    assert (d["tp"], d["fp"], d["fn"]) == (2, 1, 0)
    assert d["precision"] == pytest.approx(2 / 3) and d["recall"] == 1.0 and d["f1"] == pytest.approx(0.8)
    assert result["errors"]["defection"]["false_positives"] == ["g2"]
    c = result["labels"]["conscription"]
    assert (c["tp"], c["fp"], c["fn"], c["f1"]) == (1, 0, 0, 1.0)
    dup = result["labels"]["duplicate"]
    assert (dup["tp"], dup["fp"], dup["fn"]) == (1, 0, 0)


def test_duplicate_pointing_at_the_wrong_original_is_both_fp_and_fn():
    rows = [row("http://t/1"), row("http://t/3", duplicate_of_url="http://t/2"), row("http://t/2")]
    dup = evaluate(rows, GOLD)["labels"]["duplicate"]
    assert (dup["tp"], dup["fp"], dup["fn"]) == (0, 1, 1)


def test_numbers(result):
    defectors, weapons = result["numbers"]["defectors"], result["numbers"]["weapons"]
    assert (defectors["stated"], defectors["exact"], defectors["spurious"]) == (2, 2, 1)
    assert (weapons["stated"], weapons["exact"], weapons["exact_rate"]) == (1, 0, 0.0)
    assert result["errors"]["weapons"]["wrong"] == ["g1"]
    assert result["errors"]["defectors"]["spurious"] == ["g2"]


def test_sets_are_case_insensitive_micro_averages(result):
    orgs, locations = result["sets"]["orgs"], result["sets"]["locations"]
    assert (orgs["tp"], orgs["fp"], orgs["fn"]) == (4, 1, 0)
    assert (locations["tp"], locations["fp"], locations["fn"]) == (3, 0, 1)
    assert result["errors"]["locations"]["missed"] == {"g1": ["Monywa"]}
    assert result["errors"]["orgs"]["extra"] == {"g1": ["NUG"]}


def test_country_and_published(result):
    assert result["country"]["accuracy"] == 1.0
    assert result["published"]["accuracy"] == 1.0


def test_format_table_and_verbose(result):
    table = format_table(result)
    assert "defection" in table and "locations (micro)" in table and "3/4 gold articles" in table
    verbose = format_verbose(result)
    assert "defection false positives" in verbose and "g2" in verbose and "weapons wrong: g1 (model 11, gold 14)" in verbose
    assert "not stored: g4" in verbose
    assert json.loads(to_json(result))["labels"]["defection"]["tp"] == 2


def test_empty_inputs_do_not_divide_by_zero():
    result = evaluate([], GOLD)
    assert result["coverage"]["matched"] == 0 and result["labels"]["defection"]["f1"] is None
    assert format_table(result)


def test_check_baseline(result):
    baseline = {"min": {"labels.defection.recall": 0.9, "labels.defection.precision": 0.9},
                "max": {"numbers.defectors.spurious": 2}}
    assert check_baseline(result, baseline) == ["labels.defection.precision = 0.6666666666666666 < 0.9"]


def test_load_gold_and_evaluate_db(tmp_path):
    gold_path = tmp_path / "gold.jsonl"
    gold_path.write_text("".join(json.dumps(g) + "\n" for g in GOLD), encoding="utf-8")
    assert load_gold(gold_path) == GOLD
    db_path = tmp_path / "nw.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute("""CREATE TABLE labels (url VARCHAR, title VARCHAR, published_at TIMESTAMPTZ,
            defection BOOLEAN, conscription BOOLEAN, defection_report BOOLEAN, defectors INTEGER,
            weapons INTEGER, orgs VARCHAR[], locations VARCHAR[], duplicate_of_url VARCHAR, country VARCHAR)""")
        for r in ROWS:
            con.execute("INSERT INTO labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [r["url"], r["title"], r["published_at"], r["defection"], r["conscription"],
                         r["defection_report"], r["defectors"], r["weapons"], r["orgs"], r["locations"],
                         r["duplicate_of_url"], r["country"]])
        con.execute("CREATE VIEW article_labels AS SELECT * FROM labels")
    result = evaluate_db(db_path, gold_path)
    assert result["labels"]["defection"]["tp"] == 2 and result["sets"]["orgs"]["tp"] == 4
    assert result["coverage"]["matched"] == 3
