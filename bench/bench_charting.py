"""Measure charting options for the offline report: file size and render time in headless Chromium.

The same weekly chart (two series over 52 weeks, as the report's timeline) is
written four ways, each as one self-contained HTML file:

- hand-written inline SVG (no script);
- uPlot (npm `uplot`, canvas), its minified IIFE build inlined;
- Chart.js (npm `chart.js`, canvas), its UMD build inlined, animation off;
- Vega-Lite (npm `vega`, `vega-lite`, `vega-embed`), the three builds inlined, SVG renderer.

Each page records `performance.now()` once its chart is drawn; Chromium's
`--dump-dom` reads it back. Wall time of the whole browser process is also kept.
The JS libraries come from an `npm install` in a scratch folder (never committed):

    mkdir /tmp/chartbench && cd /tmp/chartbench && npm install uplot@1.6.32 chart.js@4 vega@6 vega-lite@6 vega-embed@7
    python bench/bench_charting.py --node-modules /tmp/chartbench/node_modules --out bench/results/charting.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
from pathlib import Path

from newswatch.report_browser import find_browser, render

WEEKS = [f"2024-W{w:02d}" for w in range(1, 53)]
LOW = [(w * 7) % 23 for w in range(52)]
HIGH = [v + (w % 3) for w, v in enumerate(LOW)]
STAMP = "<script>document.body.setAttribute('data-drawn', String(performance.now()))</script>"


def _page(body: str, head: str = "") -> str:
    return f"<!doctype html><html lang=en><head><meta charset=utf-8><title>bench</title>{head}</head><body>{body}</body></html>"


def svg_page() -> str:
    top = max(HIGH) or 1
    bars = []
    for i, (lo, hi) in enumerate(zip(LOW, HIGH)):
        x = 40 + i * 14
        bars.append(f'<rect x="{x}" y="{200 - 180 * lo / top:.1f}" width="10" height="{180 * lo / top:.1f}" fill="#335"><title>{WEEKS[i]}: {lo}</title></rect>')
        if hi > lo:
            bars.append(f'<rect x="{x}" y="{200 - 180 * hi / top:.1f}" width="10" height="{180 * (hi - lo) / top:.1f}" fill="none" stroke="#335" stroke-dasharray="2 2"/>')
    svg = f'<svg viewBox="0 0 780 220" role="img" aria-label="weekly counts">{"".join(bars)}</svg>'
    return _page(svg + STAMP)


def uplot_page(mods: Path) -> str:
    js = (mods / "uplot/dist/uPlot.iife.min.js").read_text()
    css = (mods / "uplot/dist/uPlot.min.css").read_text()
    xs = list(range(1704067200, 1704067200 + 52 * 604800, 604800))
    code = (f"new uPlot({{width:780,height:240,series:[{{}},{{label:'low',stroke:'#335'}},{{label:'high',stroke:'#a33'}}]}},"
            f"{json.dumps([xs, LOW, HIGH])},document.getElementById('c'));")
    return _page(f"<div id=c></div><script>{js}</script><script>{code}</script>{STAMP}", f"<style>{css}</style>")


def chartjs_page(mods: Path) -> str:
    js = (mods / "chart.js/dist/chart.umd.min.js")
    js = (js if js.exists() else mods / "chart.js/dist/chart.umd.js").read_text()
    cfg = {"type": "bar", "data": {"labels": WEEKS, "datasets": [{"label": "low", "data": LOW}, {"label": "high", "data": HIGH}]},
           "options": {"animation": False, "responsive": False}}
    code = f"new Chart(document.getElementById('c'),{json.dumps(cfg)});"
    return _page(f"<canvas id=c width=780 height=240></canvas><script>{js}</script><script>{code}</script>{STAMP}")


def vega_page(mods: Path) -> str:
    libs = "".join(f"<script>{(mods / p).read_text()}</script>" for p in (
        "vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"))
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "width": 700, "height": 200,
            "data": {"values": [{"week": w, "n": n} for w, n in zip(WEEKS, LOW)]},
            "mark": "bar", "encoding": {"x": {"field": "week", "type": "ordinal"}, "y": {"field": "n", "type": "quantitative"}}}
    code = (f"vegaEmbed('#c',{json.dumps(spec)},{{renderer:'svg',actions:false}}).then(function(){{"
            "document.body.setAttribute('data-drawn', String(performance.now()))}).catch(function(e){console.error(e)});")
    return _page(f"<div id=c></div>{libs}<script>{code}</script>")


def measure(name: str, html: str, folder: Path, runs: int) -> dict:
    path = folder / f"{name}.html"
    path.write_text(html)
    drawn, wall, console = [], [], []
    for _ in range(runs):
        result = render(path, dump_dom=True, width=900, height=400)
        match = re.search(r'data-drawn="([\d.]+)"', result.dom)
        drawn.append(float(match.group(1)) if match else None)
        wall.append(result.seconds)
        console += result.console
    ok = [d for d in drawn if d is not None]
    return {"bytes": len(html.encode()), "drawn_ms_median": round(statistics.median(ok), 1) if ok else None,
            "browser_wall_s_median": round(statistics.median(wall), 3), "runs": runs,
            "drawn_every_run": len(ok) == runs, "console": sorted(set(console))[:5]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--node-modules", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not find_browser():
        parser.error("no chromium found")
    pages = {"inline-svg": svg_page(), "uplot": uplot_page(args.node_modules),
             "chartjs": chartjs_page(args.node_modules), "vega-lite": vega_page(args.node_modules)}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: measure(name, html, Path(tmp), args.runs) for name, html in pages.items()}
    report = {"machine": f"{os.cpu_count()} CPUs shared with other engineers; load average "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start, {os.getloadavg()[0]:.2f} at end",
              "chart": "52 weekly bars, two series", "results": results}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
