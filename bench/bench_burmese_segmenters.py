"""Our regex syllable breaker against Burmese segmenters from PyPI (issue 16: "measure before choosing").

Texts: the 22 Burmese test pages (tests/fixtures/burmese/articles.py, title + paragraphs)
and the demo's Burmese pages (newswatch/demo/site/ayeyar-times, <h1> and <p>, Zawgyi
converted). Phrases: every pattern of transforms/mentions/patterns/my_*.jsonl.

For each occurrence of a phrase in the texts as characters (an optional space between its
syllables, as the extractor allows), a segmenter "keeps" it when the occurrence starts and
ends on its token boundaries, so the phrase can be matched as whole tokens. The reference
is our breaker: the occurrences that start and end on a syllable boundary are the ones the
extractor accepts today. Also measured: footprint of the install, import time, throughput
(syllables/s of CPU time, one process) and whether it works with the network cut off.

Segmenters are not project dependencies. Install each into its own directory first, e.g.

    .venv/bin/python -m pip install --target /tmp/segbench/myword myword
    .venv/bin/python bench/bench_burmese_segmenters.py --sites /tmp/segbench \
        --out bench/results/burmese_segmenters.json

Each segmenter runs in a child process with that directory first on sys.path, sockets
disabled and HOME pointed at an empty temporary directory (so a runtime download fails
and a cache write shows up).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS_SYLLABLES = 60_000  # keep runs short: the machine is shared
MAX_CPU_S = 5.0

# name -> (install dir under --sites, import statement, factory expression giving text -> list[str])
SEGMENTERS = {
    "ours (regex syllables)": (None, "from newswatch.transforms.shared.burmese_text import _SYLLABLE_START",
                               "lambda t: _ours(t)"),
    "myword syllable": ("myword", "from myword import SyllableTokenizer", "SyllableTokenizer().tokenize"),
    "myword word": ("myword", "from myword import WordTokenizer", "WordTokenizer().tokenize"),
    "mmdt-tokenizer syllable": ("mmdt-tokenizer", "from mmdt_tokenizer import MyanmarTokenizer",
                                "MyanmarTokenizer().syllable_tokenize"),
    "mmdt-tokenizer word": ("mmdt-tokenizer", "from mmdt_tokenizer import MyanmarTokenizer",
                            "MyanmarTokenizer().word_tokenize"),
    "burmesenlp syllable": ("burmesenlp", "import burmesenlp", "burmesenlp.syllable_tokenize"),
    "burmesenlp word": ("burmesenlp", "import burmesenlp", "burmesenlp.word_tokenize"),
    "burmese-tokenizer (sentencepiece)": ("burmese-tokenizer", "from burmese_tokenizer import BurmeseTokenizer",
                                          "lambda t, _b=BurmeseTokenizer(): _b.encode(t)['pieces']"),
    "pyidaungsu word": ("pyidaungsu", "import pyidaungsu", "lambda t: pyidaungsu.tokenize(t, form='word')"),
    "pyidaungsu syllable": ("pyidaungsu", "import pyidaungsu", "lambda t: pyidaungsu.tokenize(t)"),
}

NOTES = {
    "myword": "0.1.1 imports pylab (matplotlib) without declaring it, so nothing imports; its WordTokenizer "
              "and PhraseTokenizer fetch dictionaries from Hugging Face with cached_path at runtime (not offline); "
              "its SyllableTokenizer is a regex like ours. Pulls boto3, google-cloud-storage, huggingface-hub.",
    "burmese-tokenizer": "0.1.3 wheel lacks the sentencepiece model it loads by default; it needs a model file "
                         "from elsewhere. Pulls twine and keyring at install.",
    "burmesenlp word": "dictionary longest-match word segmenter, offline, but about 0.3 s per sentence.",
    "pyidaungsu": "word form is a CRF model bundled in the wheel (offline); install compiles fasttext.",
    "mmdt-tokenizer": "rule and lexicon word segmenter, offline; pulls numpy and pandas 3.",
}


def _ours(text: str) -> list[str]:
    from newswatch.transforms.shared.burmese_text import syllable_starts

    cuts = sorted(set(syllable_starts(text)) | {m.start() for m in re.finditer(r"\s+", text)} |
                  {m.end() for m in re.finditer(r"\s+", text)} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(cuts) if text[a:b].strip()]


def _flat(tokens) -> list[str]:
    """Tokens as one flat list (some segmenters return one list per sentence)."""
    out = []
    for token in tokens:
        out.extend(_flat(token) if isinstance(token, (list, tuple)) else [str(token)])
    return out


def texts() -> list[str]:
    """Every Burmese paragraph we have: test pages and the demo's pages (Unicode)."""
    from newswatch.transforms.shared.burmese_text import has_myanmar, to_unicode

    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "burmese"))
    from articles import ARTICLES

    out = [p for a in ARTICLES for p in [a["title"], *a["paragraphs"]]]
    for page in sorted((ROOT / "newswatch" / "demo" / "site" / "ayeyar-times").rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        body = html.split("<article", 1)[1].split("</article>", 1)[0]
        for chunk in re.findall(r"<(?:h1|p)>(.*?)</(?:h1|p)>", body, re.DOTALL):
            if has_myanmar(chunk):
                out.append(to_unicode(re.sub(r"<[^>]+>", "", chunk))[0])
    return out


def phrases() -> list[str]:
    from newswatch.transforms.mentions.burmese import _key

    keys = set()
    for path in sorted((ROOT / "transforms" / "mentions" / "patterns").glob("my_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                keys.add(_key(json.loads(line)["pattern"]))
    return sorted(keys)


def occurrences(paragraphs: list[str], keys: list[str]) -> list[tuple[int, int, int, str, bool]]:
    """(paragraph, start, end, phrase, accepted by our breaker) for every character match of a phrase."""
    from newswatch.transforms.mentions.burmese import _boundary, _phrase_regex, match_form

    found = []
    for key in keys:
        regex = _phrase_regex([key])
        for n, text in enumerate(paragraphs):
            form = match_form(text)
            for m in regex.finditer(form):
                found.append((n, m.start(), m.end(), key, _boundary(form, m.start()) and _boundary(form, m.end())))
    return found


def boundaries(text: str, tokens: list[str]) -> set[int] | None:
    """Token start/end offsets in ``text`` (tokens found in order); None if tokens do not align."""
    cuts, pos = {0, len(text)}, 0
    for token in tokens:
        token = token.strip().replace("\u200b", "")
        if not token:
            continue
        at = text.find(token, pos)
        if at < 0 or text[pos:at].strip():
            return None
        cuts.update((at, at + len(token)))
        pos = at + len(token)
    return cuts


def worker(name: str, sites: str) -> dict:
    """Runs in a child process: import, build, segment, time. Prints one JSON object."""
    site, import_stmt, factory = SEGMENTERS[name]
    if site:
        sys.path.insert(0, str(Path(sites) / site))

    def no_network(*_a, **_k):
        raise OSError("network disabled by the bench")

    socket.socket.connect = no_network
    socket.create_connection = no_network
    report: dict = {"name": name}
    start = time.perf_counter()
    try:
        namespace = {"_ours": _ours}
        exec(import_stmt, namespace)  # noqa: S102 - the fixed import lines of SEGMENTERS above
        report["import_s"] = round(time.perf_counter() - start, 3)
        paragraphs = texts()
        start = time.perf_counter()
        segment = eval(factory, namespace)
        report["build_s"] = round(time.perf_counter() - start, 3)
        start = time.process_time()
        tokens = [_flat(segment(p)) for p in paragraphs]
        report["first_pass_cpu_s"] = round(time.process_time() - start, 3)
    except BaseException as exc:  # noqa: BLE001 - a broken third-party package is a result
        report["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        return report
    from newswatch.transforms.shared.burmese_text import syllable_count

    cuts = [boundaries(p, t) for p, t in zip(paragraphs, tokens)]
    report["paragraphs_not_aligned"] = sum(c is None for c in cuts)
    report["tokens"] = sum(len(t) for t in tokens)
    per_round = sum(syllable_count(p) for p in paragraphs)
    rounds, start = 0, time.process_time()
    while rounds * per_round < ROUNDS_SYLLABLES and time.process_time() - start < MAX_CPU_S:
        for p in paragraphs:
            segment(p)
        rounds += 1
    seconds = time.process_time() - start
    report["throughput"] = {"syllables": per_round * rounds, "cpu_s": round(seconds, 3),
                            "syllables_per_s": round(per_round * rounds / seconds)}
    kept = []
    for n, s, e, key, ours in occurrences(paragraphs, phrases()):
        c = cuts[n]
        kept.append([n, s, e, key, ours, c is not None and s in c and e in c, c is not None])
    report["occurrences"] = kept
    report["tokens_sample"] = tokens[1][:25]
    return report


def summarise(report: dict) -> dict:
    occ = report.pop("occurrences", None)
    if occ is None:
        return report
    accepted = [o for o in occ if o[4]]
    phrases_ours = {o[3] for o in accepted}
    phrases_kept_all = {k for k in phrases_ours if all(o[5] for o in accepted if o[3] == k)}
    phrases_kept_any = {k for k in phrases_ours if any(o[5] for o in accepted if o[3] == k)}
    report["phrase_occurrences_accepted_by_ours"] = len(accepted)
    report["of_those_kept"] = sum(o[5] for o in accepted)
    report["of_those_missed"] = len(accepted) - report["of_those_kept"]
    report["phrases_in_texts"] = len(phrases_ours)
    report["phrases_matched_everywhere"] = len(phrases_kept_all)
    report["phrases_matched_somewhere"] = len(phrases_kept_any)
    report["phrases_missed_everywhere"] = len(phrases_ours) - len(phrases_kept_any)
    report["missed_examples"] = sorted(phrases_ours - phrases_kept_all)[:15]
    aligned = [o for o in accepted if o[6]]
    report["in_aligned_paragraphs_accepted_by_ours"] = len(aligned)
    report["in_aligned_paragraphs_kept"] = sum(o[5] for o in aligned)
    inside = [o for o in occ if not o[4]]
    report["char_matches_inside_a_syllable"] = len(inside)
    report["of_those_on_token_boundaries"] = sum(o[5] for o in inside)
    return report


def footprint(site: Path) -> dict:
    if not site.is_dir():
        return {"installed": False}
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    dists = sorted(d.name.split("-")[0] for d in site.glob("*.dist-info"))
    return {"installed": True, "mb_with_deps": round(size / 1e6, 1), "distributions": dists}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="/tmp/segbench")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "burmese_segmenters.json"))
    parser.add_argument("--worker")
    parser.add_argument("--timeout", type=int, default=150, help="seconds per segmenter")
    parser.add_argument("--only", help="run only segmenters whose name contains this")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.sites), ensure_ascii=False))
        return
    results = []
    for name, (site, _imp, _fac) in SEGMENTERS.items():
        if args.only and args.only not in name:
            continue
        entry = {"name": name, "package": site or "newswatch"}
        if site:
            entry["footprint"] = footprint(Path(args.sites) / site)
            if not entry["footprint"]["installed"]:
                entry["error"] = "not installed (see notes)"
                results.append(entry)
                print(f"{name:36s} not installed")
                continue
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, HOME=home, XDG_CACHE_HOME=home, HF_HUB_OFFLINE="1")
            try:
                proc = subprocess.run([sys.executable, __file__, "--worker", name, "--sites", args.sites],
                                      capture_output=True, text=True, env=env, timeout=args.timeout, check=False)
            except subprocess.TimeoutExpired:
                proc = subprocess.CompletedProcess([], 1, "", f"timed out after {args.timeout} s")
            written = [str(p.relative_to(home)) for p in Path(home).rglob("*") if p.is_file()]
        try:
            entry.update(summarise(json.loads(proc.stdout.strip().splitlines()[-1])))
        except (ValueError, IndexError):
            entry["error"] = f"worker failed: {proc.stderr.strip()[-300:]}"
        entry["files_written_to_home"] = written[:10]
        results.append(entry)
        print(f"{name:36s} " + ("ERROR " + entry["error"] if "error" in entry else
              f"kept {entry['of_those_kept']}/{entry['phrase_occurrences_accepted_by_ours']} occurrences "
              f"({entry['in_aligned_paragraphs_kept']}/{entry['in_aligned_paragraphs_accepted_by_ours']} aligned), "
              f"{entry['phrases_matched_everywhere']}/{entry['phrases_in_texts']} phrases everywhere, "
              f"{entry['throughput']['syllables_per_s']:,} syl/s, import {entry['import_s']} s"))
    load = os.getloadavg()
    out = {"machine": f"shared 2-core machine, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
           "python": sys.version.split()[0],
           "texts": "tests/fixtures/burmese/articles.py (22 pages) + newswatch/demo/site/ayeyar-times (3 pages)",
           "notes": NOTES, "segmenters": results}
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(out["machine"])


if __name__ == "__main__":
    main()
