"""The bundled demo runs offline from the package, and its labels match its own gold.

The demo articles were written separately from the extraction rules, so this
is also a small check that the rules generalise beyond the dev corpus.
"""

import re
from pathlib import Path

from newswatch.cli import main
from newswatch.evaluate import evaluate_db

DEMO_GOLD = Path(__file__).resolve().parent.parent / "newswatch" / "demo" / "gold.jsonl"


def test_demo_ingests_its_corpus_and_matches_its_gold(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "articles stored: 16 (1 marked as duplicates)" in out and "errors: 0" in out
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    base = re.match(r"https?://[^/]+", con.execute("SELECT url FROM articles LIMIT 1").fetchone()[0]).group(0)
    con.close()
    gold = tmp_path / "gold.jsonl"
    gold.write_text(DEMO_GOLD.read_text().replace("__BASE__", base))
    result = evaluate_db(db, gold)
    assert result["coverage"]["matched"] == 16
    for label in ("defection", "conscription", "defection_report", "duplicate"):
        assert result["labels"][label]["f1"] == 1.0, (label, result["errors"][label])
    assert result["numbers"]["defectors"]["exact_rate"] == 1.0
    assert result["numbers"]["weapons"]["exact_rate"] == 1.0
    assert result["sets"]["locations"]["recall"] >= 0.9 and result["sets"]["orgs"]["recall"] >= 0.9
