"""Render `ReportData` as one self-contained HTML page: inline CSS, inline SVG, no script.

Charts are hand-written SVG (bench/bench_charting.py measured it against
uPlot, Chart.js and Vega-Lite: smallest, fastest, nothing to vendor). Each
chart has a text alternative: an aria label, a caption and the data table
beside it. Bars carry their numbers as text, so nothing depends on colour,
and the layout collapses to one column on a narrow screen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from importlib import resources
from typing import Iterable, Optional, Sequence

from newswatch import __version__
from newswatch.report_model import NEWEST_LIMIT, ReportData, Section

# Nothing may load: no script, font, image or frame from anywhere; inline styles only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page_css() -> str:
    """The page's stylesheet (packaged as newswatch/report_data/report.css)."""
    return resources.files("newswatch").joinpath("report_data/report.css").read_text(encoding="utf-8")


def _e(value) -> str:
    return "" if value is None else escape(str(value))


def _num(value) -> str:
    return "–" if value is None else f"{value:,}"


def _range(low, high) -> str:
    """'31', '30–31' where sources disagree, '–' when nobody gave a number."""
    if low is None and high is None:
        return "–"
    if low == high or high is None or low is None:
        return _num(low if low is not None else high)
    return f"{_num(low)}–{_num(high)}"


def _when(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M" + (" UTC" if value.utcoffset() is not None else ""))
    return str(value)


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, (date, datetime)) else _e(value)


def _duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _sql(section: Section, what: str) -> str:
    return (f"<details><summary>SQL behind {escape(what)} (runs in <code>newswatch query</code>)</summary>"
            f"<pre>{escape(section.sql)}</pre></details>")


def _rows(section: Section) -> list[dict]:
    return [dict(zip(section.columns, row)) for row in section.rows]


# ---------------------------------------------------------------- charts


def _weeks(rows: list[dict], since: Optional[datetime], now: datetime) -> list[date]:
    """Every week of the period (from the first week with data when it is open), so gaps show as gaps."""
    monday = lambda moment: (moment.date() - timedelta(days=moment.weekday()))  # noqa: E731
    ends = [r["week"] for r in rows[:1] + rows[-1:]]
    if since is not None:
        ends += [monday(since), monday(now)]
    if not ends:
        return []
    first, last = min(ends), max(ends)
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def bar_chart(chart_id: str, title: str, weeks: Sequence[date], values: dict, css: str, unit: str) -> str:
    """A weekly bar chart as inline SVG with an accessible name and per-bar <title>s."""
    width, height, left, bottom, top = 900, 190, 34, 22, 14
    top_value = max(values.values(), default=0) or 1
    step = (width - left - 6) / max(len(weeks), 1)
    bar = min(max(step * 0.8, 1.0), 24.0)
    total = sum(values.values())
    peak = max(values, key=values.get) if values and total else None
    label = (f"{title}: {total} {unit} over {len(weeks)} weeks" +
             (f", most in the week of {peak:%Y-%m-%d} ({values[peak]})" if peak else ""))
    parts = [f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-t"><title id="{chart_id}-t">{escape(label)}</title>']
    base = height - bottom
    for tick in sorted({0, top_value // 2, top_value}):
        y = base - (base - top) * tick / top_value
        parts.append(f'<line class="axis" x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke-dasharray="2 3"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, week in enumerate(weeks):
        n = values.get(week, 0)
        x = left + i * step
        if n:
            h = (base - top) * n / top_value
            parts.append(f'<rect class="{css}" x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                         f'<title>week of {week:%Y-%m-%d}: {n} {unit}</title></rect>')
    for i, week in enumerate(weeks):
        if i == 0 or week.month != weeks[i - 1].month and (i * step > 60 or len(weeks) < 30):
            if week.month in (1, 4, 7, 10) or len(weeks) <= 30 or i == 0:
                parts.append(f'<text x="{left + i * step:.1f}" y="{height - 6}">{week:%b %Y}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{width}" y1="{base}" y2="{base}"/></svg>')
    return "".join(parts)


# ---------------------------------------------------------------- sections


def _scroll(svg: str) -> str:
    """Narrow screens scroll a chart sideways instead of shrinking its labels."""
    return f'<div class="scroll">{svg}</div>'


def _summary(data: ReportData) -> str:
    rows = _rows(data.sections["timeline"])
    reports = sum(r["defection_reports"] or 0 for r in rows)
    low = sum(r["people_low"] or 0 for r in rows)
    high = sum(r["people_high"] or 0 for r in rows)
    cons = sum(r["conscription_reports"] or 0 for r in rows)
    fresh = _rows(data.sections["freshness"])[0]
    cards = [
        ("defection-reports", "Defection reports", _num(reports), "original articles"),
        ("defectors", "People reported defecting", _range(low, high),
         "once per incident, events only" if data.incidents else "once per original article; claimed totals included"),
        ("conscription-reports", "Conscription reports", _num(cons), "original articles, any country"),
        ("feeds-failing", "Feeds failing / suspended",
         f"{_num(fresh['feeds_failing'])} / {_num(fresh['feeds_suspended'])}",
         f"of {_num(fresh['feeds_known'])} feeds"),
    ]
    if data.incidents:
        cards.insert(1, ("incidents", "Defection incidents",
                         _num(sum(r.get("incidents") or 0 for r in rows)), "events, copies and retellings merged"))
    return '<section class="cards" aria-label="summary">' + "".join(
        f'<div class="card" id="card-{cid}"><span>{escape(name)}</span>'
        f'<b data-value="{escape(value)}">{escape(value)}</b>'
        f'<small>{escape(note)}</small></div>' for cid, name, value, note in cards) + "</section>"


def _timeline(data: ReportData) -> str:
    section = data.sections["timeline"]
    rows = _rows(section)
    weeks = _weeks(rows, data.since, data.generated_at)
    defection = {r["week"]: r["defection_reports"] or 0 for r in rows}
    conscription = {r["week"]: r["conscription_reports"] or 0 for r in rows}
    how = ("People are counted once per incident (table <code>incidents</code>, events only: a group's running "
           "total is never added to events)." if data.incidents else
           "No <code>incidents</code> table in this database, so people are counted once per original article "
           "(<code>duplicate_of_url IS NULL</code>); where the original and its copies give different numbers the "
           "range shows both. Independent articles about one event are each counted, and a claimed running total "
           "counts as reported.")
    out = ["<h2 id=\"timeline\">Weekly timeline</h2><p class=\"note\">Original articles per week (weeks start on "
           "Monday), by publication date or, if undated, first sight in a feed.</p>"]
    if data.topic in ("all", "defection"):
        out += ['<figure><figcaption id="cap-def">Defection reports per week.</figcaption>',
                _scroll(bar_chart("chart-defection", "Defection reports per week", weeks, defection, "bar-def",
                                  "reports")), "</figure>"]
    if data.topic in ("all", "conscription"):
        out += ['<figure><figcaption id="cap-con">Conscription reports per week.</figcaption>',
                _scroll(bar_chart("chart-conscription", "Conscription reports per week", weeks, conscription,
                                  "bar-con", "reports")), "</figure>"]
    out.append(f"<p class=\"note\">{how}</p>")
    if not rows:
        out.append("<p>No defection or conscription report in this period.</p>")
    head = "<th>week of</th><th class=n>defection reports</th>"
    if data.incidents:
        head += "<th class=n>incidents</th>"
    head += "<th class=n>people defecting</th><th class=n>conscription reports</th>"
    body = []
    for r in reversed(rows):
        cells = f"<td>{_day(r['week'])}</td><td class=n>{r['defection_reports']}</td>"
        if data.incidents:
            cells += f"<td class=n>{r.get('incidents') or 0}</td>"
        cells += (f"<td class=n>{_range(r['people_low'], r['people_high'])}</td>"
                  f"<td class=n>{r['conscription_reports']}</td>")
        body.append(f'<tr data-week="{_day(r["week"])}">{cells}</tr>')
    out.append(f'<details><summary>Data table of the timeline ({len(rows)} weeks with reports, newest first)</summary>'
               f'<div class="scroll"><table id="timeline-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
               "</tbody></table></div></details>")
    out.append(_sql(section, "the timeline"))
    return "".join(out)


def _regions(data: ReportData) -> str:
    top = max([max(d, c) for _, d, c in data.regions] + [1])
    body = []
    for region, defection, conscription in sorted(data.regions, key=lambda r: (-r[1], -r[2], r[0])):
        bars = []
        for n, css in ((defection, "def"), (conscription, "con")):
            bars.append(f'<td data-label="{"defection" if css == "def" else "conscription"}">'
                        f'<div class="meter"><span class="b {css}" style="width:{8 * n / top:.2f}em" '
                        'aria-hidden="true">'
                        f"</span>{n}</div></td>")
        body.append(f'<tr data-region="{escape(region)}"><th scope="row">{escape(region)}</th>{"".join(bars)}</tr>')
    unplaced = (f"<p class=\"note\">Reports naming no place in Myanmar's states and regions: "
                f"{data.unplaced[0]} defection, "
                f"{data.unplaced[1]} conscription. An article naming places in two states/regions counts in both.</p>")
    return ("<h2 id=\"regions\">By state and region</h2><p class=\"note\">Original reports that name a place in each "
            "state/region (towns and townships are mapped with <code>newswatch/report_data/regions.json</code>). "
            "Conscription counts only stories about Myanmar. Solid bars: defection; striped bars: conscription.</p>"
            '<div class="scroll"><table id="regions-table"><thead><tr><th>state / region</th>'
            "<th>defection reports</th><th>conscription reports</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>" + unplaced
            + _sql(data.sections["places"], "the regions (places per article)"))


def _td(label: str, html: str, css: str = "") -> str:
    """A cell that names its column, for the stacked layout on narrow screens."""
    return f'<td data-label="{label}"' + (f' class="{css}"' if css else "") + f">{html}</td>"


NEWEST_COLUMNS = ("date", "headline", "outlet", "topic", "people", "weapons", "places", "modality",
                  "evidence sentence")


def _newest(data: ReportData) -> str:
    section = data.sections["newest"]
    body = []
    for r in _rows(section):
        link = f'<a href="{_e(r["url"])}" rel="noopener noreferrer">{_e(r["title"] or r["url"])}</a>'
        cells = [_td("date", _day(r["dated"])), _td("headline", link, "hl"), _td("outlet", _e(r["outlet"])),
                 _td("topic", f'<span class="tag">{_e(r["topic"])}</span>'
                     + (f' <small>{_e(r["country"])}</small>' if r["country"] not in (None, "Myanmar") else "")),
                 _td("people", _num(r["defectors"]), "n"), _td("weapons", _num(r["weapons"]), "n"),
                 _td("places", _e(", ".join(r["locations"] or [])) or "–", "pl"),
                 _td("modality", _e(r["modality"]) or "–"), _td("evidence", _e(r["evidence"]) or "–", "ev")]
        body.append(f'<tr data-url="{_e(r["url"])}">{"".join(cells)}</tr>')
    head = "".join(f"<th{' class=n' if c in ('people', 'weapons') else ''}>{c}</th>" for c in NEWEST_COLUMNS)
    scope = {"all": "defection and conscription", "defection": "defection", "conscription": "conscription"}[data.topic]
    empty = "" if body else "<p>No report in this period.</p>"
    return (f"<h2 id=\"newest\">Newest {scope} reports</h2><p class=\"note\">{len(body)} original articles "
            f"(at most {NEWEST_LIMIT}), newest first. People and weapons are the article's counts; the "
            "evidence is its strongest mention (a report with the largest count first).</p>"
            f'<div class="scroll"><table id="newest-table" class="stack"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>{empty}" + _sql(section, "the newest reports"))


def _feeds(data: ReportData) -> str:
    fresh = _rows(data.sections["freshness"])[0]
    rows = _rows(data.sections["feeds"])
    body = []
    for r in rows:
        state = "suspended" if r["suspended"] else (r["last_status"] or "never polled")
        why = r["suspended_reason"] or r["last_error_code"] or ("feed_malformed (still read)" if r["bozo"] else "–")
        body.append(
            f'<tr data-feed="{_e(r["feed_url"])}"><td data-label="feed">{_e(r["title"] or r["feed_url"])}<br>'
            f'<small>{_e(r["feed_url"])}</small></td><td data-label="state" class="{"bad" if state != "ok" else ""}">'
            f'{_e(state)}</td><td data-label="error code">{_e(why)}</td>'
            f'<td class="n" data-label="errors in a row">{r["consecutive_errors"]}</td>'
            f'<td data-label="item errors">{_e(r["item_errors"]) or "–"}</td>'
            f'<td data-label="last ok">{_when(r["last_ok_at"])}</td></tr>')
    table = ('<div class="scroll"><table id="feeds-table" class="stack"><thead><tr><th>feed</th><th>state</th>'
             "<th>error code</th><th class=n>errors in a row</th><th>item errors (code × count)</th><th>last ok</th>"
             f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>") if body else "<p>Every feed is healthy.</p>"
    return ("<h2 id=\"feeds\">Feed health</h2>"
            f'<dl id="freshness"><dt>feeds known</dt><dd>{_num(fresh["feeds_known"])}</dd>'
            f'<dt>failing now</dt><dd>{_num(fresh["feeds_failing"])}</dd>'
            f'<dt>suspended</dt><dd>{_num(fresh["feeds_suspended"])}</dd>'
            '<dt>freshness (median first sight → stored)</dt>'
            f'<dd data-seconds="{_e(fresh["median_seen_to_stored_s"])}">'
            f'{_duration(fresh["median_seen_to_stored_s"])} (worst {_duration(fresh["worst_seen_to_stored_s"])}, '
            f'over {_num(fresh["polls"])} polls that found new articles)</dd></dl>'
            "<p class=\"note\">Feeds with a failing poll, a suspension, a malformed document or item errors.</p>"
            + table + _sql(data.sections["feeds"], "feed health") + _sql(data.sections["freshness"], "freshness"))


def _provenance(data: ReportData) -> str:
    p = _rows(data.sections["provenance"])[0]
    window = f"since {_when(data.since)}" if data.since else "all stored reports"
    items = [("database", data.source), ("period shown", window),
             ("articles stored",
              f"{_num(p['articles'])} ({_num(p['originals'])} originals), {_num(p['mentions'])} mentions"),
             ("published between", f"{_day(p['first_published'])} and {_day(p['last_published'])}"),
             ("last article stored", _when(p["last_stored"])), ("last run finished", _when(p["last_run_finished"])),
             ("extractor version", p["extractor_versions"] or "–"),
             ("counting", "per incident" if data.incidents else "per original article (no incidents table)"),
             ("generated", f"{_when(data.generated_at)} by newswatch {__version__}")]
    return ('<h2 id="provenance">Provenance</h2><dl id="provenance-list">'
            + "".join(f"<dt>{escape(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"
            + _sql(data.sections["provenance"], "provenance"))


def render_page(data: ReportData) -> str:
    """The whole page as one string."""
    window = f"since {_when(data.since)}" if data.since else "all stored reports"
    sections: Iterable[str] = (_summary(data), _timeline(data), _regions(data), _newest(data), _feeds(data),
                               _provenance(data))
    nav = " · ".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("timeline", "timeline"), ("regions", "states/regions"), ("newest", "newest"), ("feeds", "feed health"),
        ("provenance", "provenance")))
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="generator" content="newswatch {__version__}">'
            f"<title>newswatch report — {escape(window)}</title><style>{page_css()}</style></head><body><main>"
            "<h1>newswatch report: defection and conscription reports</h1>"
            f'<p class="sub">{escape(window)} · generated {_when(data.generated_at)}</p>'
            f'<nav aria-label="sections" class="sub">{nav}</nav>' + "".join(sections) + "</main></body></html>\n")

