"""Issue 3's quality gate: the dev corpus, run end to end, must not drop below the pinned floors."""

import json
from pathlib import Path

from newswatch.cli import main
from newswatch.evaluate import check_baseline, evaluate_db
from tests.conftest import SHARED_CORPUS, requires_corpus

pytestmark = requires_corpus

BASELINE = Path(__file__).with_name("eval_baseline.json")
INCIDENTS = Path(__file__).parent / "fixtures" / "incidents" / "corpus_incidents.jsonl"


def test_corpus_metrics_hold_the_baseline(corpus_db):
    result = evaluate_db(corpus_db, SHARED_CORPUS / "gold.jsonl", INCIDENTS)
    broken = check_baseline(result, json.loads(BASELINE.read_text()))
    assert not broken, "quality below the pinned floors:\n" + "\n".join(broken)


def test_eval_command_prints_table_json_and_verbose(corpus_db, tmp_path, capsys):
    out_json = tmp_path / "eval.json"
    assert main(["eval", "--db", str(corpus_db), "--gold", str(SHARED_CORPUS / "gold.jsonl"),
                 "--verbose", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "defection_report" in printed and "f1" in printed
    assert json.loads(out_json.read_text())["labels"]["defection"]["f1"] is not None
    assert json.loads(printed.strip().splitlines()[-1])["coverage"]["matched"] == 59
