"""Evaluate stored article labels against a gold file.

Input: rows of the ``article_labels`` view (dicts with url, title, published_at,
defection, conscription, defection_report, defectors, weapons, orgs, locations,
duplicate_of_url, country) and gold objects (``gold.jsonl``: id, url, title,
published, defection, ..., duplicate_of). Output: a dict of metrics, printable
with :func:`format_table` and, for reading errors by article, :func:`format_verbose`.

Rows and gold are matched by URL. Boolean labels get precision/recall/F1
(``duplicate`` counts as correct only when it points at the right original);
``defectors``/``weapons`` get the exact-match rate on gold articles that state a
number and the count of spurious numbers on those that state none; ``orgs`` and
``locations`` get micro precision/recall with case-insensitive exact matching.
When gold objects carry ``incident`` (a group name; see
``tests/fixtures/incidents/``), the articles' ``incident_id`` get pairwise
precision/recall/F1 and B-cubed precision/recall/F1 over those articles; an
article without an incident id counts as its own singleton.

Example::

    newswatch eval --db newswatch.duckdb --gold ../shared/corpus/gold.jsonl --verbose
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

BOOLEAN_LABELS = ("defection", "conscription", "defection_report", "duplicate")
NUMBER_LABELS = ("defectors", "weapons")
SET_LABELS = ("orgs", "locations")


def load_gold(path: str | Path) -> list[dict]:
    """Gold objects from a JSONL file, one per line."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value]


def _ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = None
    if precision is not None and recall is not None and precision + recall > 0:
        f1 = 2 * precision * recall / (precision + recall)
    elif tp + fp + fn > 0:
        f1 = 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluate(rows: list[dict], gold: list[dict]) -> dict:
    """Metrics for stored label rows against gold, matched by URL (see module docstring)."""
    by_url = {row["url"]: row for row in rows}
    id_to_url = {g["id"]: g["url"] for g in gold}
    gold_urls = {g["url"] for g in gold}
    matched = [(g, by_url[g["url"]]) for g in gold if g["url"] in by_url]
    result: dict[str, Any] = {
        "coverage": {
            "gold": len(gold),
            "stored": len(rows),
            "matched": len(matched),
            "rate": _ratio(len(matched), len(gold)),
            "missing": sorted(g["id"] for g in gold if g["url"] not in by_url),
            "extra": sorted(url for url in by_url if url not in gold_urls),
        },
        "labels": {},
        "numbers": {},
        "sets": {},
        "errors": {},
    }
    for label in BOOLEAN_LABELS:
        tp = fp = fn = 0
        false_pos, false_neg = [], []
        for g, row in matched:
            if label == "duplicate":
                want = id_to_url.get(g["duplicate_of"]) if g.get("duplicate_of") else None
                got = row.get("duplicate_of_url")
                hit = want is not None and got == want
                tp += hit
                if got is not None and not hit:
                    fp += 1
                    false_pos.append(g["id"])
                if want is not None and not hit:
                    fn += 1
                    false_neg.append(g["id"])
                continue
            want, got = bool(g.get(label)), bool(row.get(label))
            tp += want and got
            if got and not want:
                fp += 1
                false_pos.append(g["id"])
            if want and not got:
                fn += 1
                false_neg.append(g["id"])
        result["labels"][label] = _prf(tp, fp, fn)
        result["errors"][label] = {"false_positives": false_pos, "false_negatives": false_neg}
    for label in NUMBER_LABELS:
        stated = [(g, row) for g, row in matched if g.get(label) is not None]
        unstated = [(g, row) for g, row in matched if g.get(label) is None]
        exact = [g["id"] for g, row in stated if row.get(label) == g[label]]
        wrong = [g["id"] for g, row in stated if row.get(label) != g[label]]
        spurious = [g["id"] for g, row in unstated if row.get(label) is not None]
        result["numbers"][label] = {
            "stated": len(stated),
            "exact": len(exact),
            "exact_rate": _ratio(len(exact), len(stated)),
            "spurious": len(spurious),
        }
        result["errors"][label] = {"wrong": wrong, "spurious": spurious}
    for label in SET_LABELS:
        tp = fp = fn = 0
        missed: dict[str, list[str]] = {}
        extra: dict[str, list[str]] = {}
        for g, row in matched:
            want = {v.lower(): v for v in _as_list(g.get(label))}
            got = {v.lower(): v for v in _as_list(row.get(label))}
            tp += len(want.keys() & got.keys())
            fp += len(got.keys() - want.keys())
            fn += len(want.keys() - got.keys())
            if want.keys() - got.keys():
                missed[g["id"]] = sorted(want[k] for k in want.keys() - got.keys())
            if got.keys() - want.keys():
                extra[g["id"]] = sorted(got[k] for k in got.keys() - want.keys())
        result["sets"][label] = _prf(tp, fp, fn)
        result["errors"][label] = {"missed": missed, "extra": extra}
    agree = [g["id"] for g, row in matched if (row.get("country") or None) == (g.get("country") or None)]
    result["country"] = {"accuracy": _ratio(len(agree), len(matched))}
    result["errors"]["country"] = {"wrong": [g["id"] for g, _ in matched if g["id"] not in set(agree)]}
    dated = [(g, row) for g, row in matched]
    same_date = [g["id"] for g, row in dated if (str(row.get("published_at") or "")[:10] or None) == g.get("published")]
    result["published"] = {"accuracy": _ratio(len(same_date), len(dated))}
    result["errors"]["published"] = {"wrong": [g["id"] for g, _ in dated if g["id"] not in set(same_date)]}
    grouped = [(g, row) for g, row in matched if g.get("incident")]
    if grouped:
        result["incidents"] = incident_scores({g["id"]: row.get("incident_id") for g, row in grouped},
                                              {g["id"]: g["incident"] for g, _ in grouped})
    result["rows"] = {g["id"]: _row_summary(row) for g, row in matched}
    result["gold"] = {g["id"]: g for g, _ in matched}
    return result


def incident_scores(predicted: dict[str, Optional[str]], gold: dict[str, str]) -> dict:
    """Pairwise and B-cubed scores of predicted incident ids against gold groups, both keyed by article."""
    pred = {a: (p if p is not None else f"\x00{a}") for a, p in predicted.items()}
    ids = sorted(gold)
    tp = fp = fn = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            same_pred, same_gold = pred[a] == pred[b], gold[a] == gold[b]
            tp += same_pred and same_gold
            fp += same_pred and not same_gold
            fn += same_gold and not same_pred
    pairwise = _prf(tp, fp, fn)
    if tp + fp + fn == 0:
        pairwise.update(precision=1.0, recall=1.0, f1=1.0)
    bp = br = 0.0
    for a in ids:
        same_p = {b for b in ids if pred[b] == pred[a]}
        same_g = {b for b in ids if gold[b] == gold[a]}
        bp += len(same_p & same_g) / len(same_p)
        br += len(same_p & same_g) / len(same_g)
    bp, br = bp / len(ids), br / len(ids)
    wrong = sorted({a for a in ids for b in ids if a != b and (pred[a] == pred[b]) != (gold[a] == gold[b])})
    return {"articles": len(ids), "gold_incidents": len(set(gold.values())),
            "predicted_incidents": len({pred[a] for a in ids}), "pairwise": pairwise,
            "bcubed": {"precision": bp, "recall": br, "f1": 2 * bp * br / (bp + br) if bp + br else 0.0},
            "unassigned": sorted(a for a in ids if predicted[a] is None), "wrongly_grouped": wrong}


def _row_summary(row: dict) -> dict:
    keys = ("defection", "conscription", "defection_report", "defectors", "weapons", "orgs", "locations",
            "country", "duplicate_of_url", "published_at", "incident_id")
    return {k: (_as_list(row.get(k)) if k in SET_LABELS else row.get(k)) for k in keys}


def with_incidents(gold: list[dict], path: Optional[str | Path]) -> list[dict]:
    """Gold objects with the ``incident`` groups of a JSONL file ({"id" or "url", "incident"}) laid over."""
    if not path:
        return gold
    groups = {}
    for line in load_gold(path):
        groups[line.get("id") or line["url"]] = line["incident"]
    return [{**g, "incident": groups.get(g["id"], groups.get(g["url"], g.get("incident")))} for g in gold]


def evaluate_db(db_path: str | Path, gold_path: str | Path, incidents_path: Optional[str | Path] = None) -> dict:
    """Evaluate the ``article_labels`` view of a DuckDB file (opened read-only)."""
    from newswatch.sinks.duckdb import DuckDBStore

    with DuckDBStore(str(db_path)).session() as s:
        rows = s.article_labels()
    return evaluate(rows, with_incidents(load_gold(gold_path), incidents_path))


def _fmt(value: Optional[float]) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_table(result: dict) -> str:
    """A fixed-width text table of the metrics."""
    cov = result["coverage"]
    lines = [
        f"coverage: {cov['matched']}/{cov['gold']} gold articles stored ({_fmt(cov['rate']).strip()}), "
        f"{cov['stored']} rows, {len(cov['extra'])} not in gold",
        "",
        f"{'label':<18}{'prec':>8}{'recall':>8}{'f1':>8}{'tp':>5}{'fp':>5}{'fn':>5}",
    ]
    for label, m in result["labels"].items():
        lines.append(f"{label:<18}{_fmt(m['precision']):>8}{_fmt(m['recall']):>8}{_fmt(m['f1']):>8}"
                     f"{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}")
    for label, m in result["sets"].items():
        lines.append(f"{label + ' (micro)':<18}{_fmt(m['precision']):>8}{_fmt(m['recall']):>8}{_fmt(m['f1']):>8}"
                     f"{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}")
    lines += ["", f"{'number':<18}{'exact':>8}{'stated':>8}{'rate':>8}{'spurious':>10}"]
    for label, m in result["numbers"].items():
        lines.append(f"{label:<18}{m['exact']:>8}{m['stated']:>8}{_fmt(m['exact_rate']):>8}{m['spurious']:>10}")
    lines += ["", f"country accuracy {_fmt(result['country']['accuracy']).strip()}, "
                  f"published date accuracy {_fmt(result['published']['accuracy']).strip()}"]
    if "incidents" in result:
        inc = result["incidents"]
        pw, b3 = inc["pairwise"], inc["bcubed"]
        lines += ["", f"incidents: {inc['predicted_incidents']} predicted / {inc['gold_incidents']} gold over "
                      f"{inc['articles']} articles; pairwise P {_fmt(pw['precision']).strip()} "
                      f"R {_fmt(pw['recall']).strip()} F1 {_fmt(pw['f1']).strip()}; "
                      f"B-cubed P {_fmt(b3['precision']).strip()} R {_fmt(b3['recall']).strip()} "
                      f"F1 {_fmt(b3['f1']).strip()}"]
    return "\n".join(lines)


def format_verbose(result: dict) -> str:
    """False positives and negatives by article id, with the model's values, for reading why."""
    rows, gold, errors = result["rows"], result["gold"], result["errors"]
    lines = []

    def describe(article_id: str) -> str:
        row, g = rows[article_id], gold[article_id]
        return (f"  {article_id} {g.get('title', '')!r}\n"
                f"      model: D={row['defection']} C={row['conscription']} R={row['defection_report']} "
                f"defectors={row['defectors']} weapons={row['weapons']} country={row['country']}\n"
                f"      gold:  D={g.get('defection')} C={g.get('conscription')} R={g.get('defection_report')} "
                f"defectors={g.get('defectors')} weapons={g.get('weapons')} country={g.get('country')}")

    for label in BOOLEAN_LABELS:
        for side in ("false_positives", "false_negatives"):
            ids = errors[label][side]
            if ids:
                lines.append(f"{label} {side.replace('_', ' ')}:")
                lines += [describe(i) for i in ids]
    for label in NUMBER_LABELS:
        for side in ("wrong", "spurious"):
            ids = errors[label][side]
            if ids:
                lines.append(f"{label} {side}: " + ", ".join(
                    f"{i} (model {rows[i][label]}, gold {gold[i].get(label)})" for i in ids))
    for label in SET_LABELS:
        for side in ("missed", "extra"):
            per_article = errors[label][side]
            if per_article:
                lines.append(f"{label} {side}:")
                lines += [f"  {i}: {', '.join(values)}" for i, values in sorted(per_article.items())]
    if errors["country"]["wrong"]:
        lines.append("country wrong: " + ", ".join(
            f"{i} (model {rows[i]['country']}, gold {gold[i].get('country')})" for i in errors["country"]["wrong"]))
    if result.get("incidents", {}).get("wrongly_grouped"):
        lines.append("incident grouping wrong: " + ", ".join(
            f"{i} ({rows[i].get('incident_id')}, gold {gold[i].get('incident')})"
            for i in result["incidents"]["wrongly_grouped"]))
    if result["coverage"]["missing"]:
        lines.append("not stored: " + ", ".join(result["coverage"]["missing"]))
    return "\n".join(lines) if lines else "no errors"


def to_json(result: dict) -> str:
    """The metrics as JSON (per-article rows and gold left out)."""
    slim = {k: v for k, v in result.items() if k not in ("rows", "gold")}
    return json.dumps(slim, indent=2, sort_keys=True, default=str)


def _lookup(result: dict, path: str) -> Any:
    value: Any = result
    for part in path.split("."):
        value = value[part]
    return value


def check_baseline(result: dict, baseline: dict) -> list[str]:
    """Metrics that break a baseline ``{"min": {path: floor}, "max": {path: ceiling}}``.

    Paths are dotted keys into the result, e.g. ``labels.defection.f1`` or
    ``numbers.defectors.spurious``; a missing (None) metric counts as broken.
    """
    broken = []
    for path, floor in baseline.get("min", {}).items():
        value = _lookup(result, path)
        if value is None or value < floor:
            broken.append(f"{path} = {value} < {floor}")
    for path, ceiling in baseline.get("max", {}).items():
        value = _lookup(result, path)
        if value is None or value > ceiling:
            broken.append(f"{path} = {value} > {ceiling}")
    return broken
