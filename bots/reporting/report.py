"""``hogfleet report``: one self-contained HTML file of plots people actually look at.

Two sources: the simulation's daily metrics (what the pool did: states, patterns, signups, churn,
FlixBuddy intentions) and the run ledgers (what the browsers did: outcomes, durations, events).
Charts are plotly; plotly.js is inlined once (about 4.5 MB) so the file opens offline, from a CI
artifact or an e-mail attachment, with no CDN.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go  # type: ignore[import-untyped]

from bots.records.artifacts import Failure, failures, finals
from bots.records.ledger import LedgerRecord, day_records
from personas.enums import Pattern, State
from personas.errors import HogfleetError
from personas.models import DailyMetrics
from personas.store import StateStore, atomic_write_bytes

OUTCOMES = ("ok", "abandoned", "failed", "skipped")
OUTCOME_COLORS = {"ok": "#2e9e5b", "abandoned": "#e0a526", "failed": "#d64545", "skipped": "#9aa3ad"}
STATE_COLORS = {
    State.NEW: "#7fb3e6",
    State.ACTIVE: "#2e9e5b",
    State.CASUAL: "#e0a526",
    State.DORMANT: "#9aa3ad",
    State.CHURNED: "#d64545",
}
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


@dataclass
class DayRuns:
    """What the ledgers say about one day."""

    date: dt.date
    outcomes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    durations: list[tuple[str, float]] = field(default_factory=list)  # (outcome, seconds) of finals
    flixbuddy_questions: int = 0
    attempts: int = 0


@dataclass
class ReportData:
    date: dt.date
    days: list[dt.date]
    metrics: list[DailyMetrics]
    runs: list[DayRuns]
    failures: list[Failure]

    @property
    def today_metrics(self) -> DailyMetrics | None:
        return next((m for m in self.metrics if m.date == self.date), None)

    @property
    def today_runs(self) -> DayRuns:
        return self.runs[-1]


def _day_runs(date: dt.date, records: list[LedgerRecord]) -> DayRuns:
    out = DayRuns(date=date, attempts=len(records))
    for record in records:
        # Every attempt's events reached the site, failed ones included.
        out.events.update(record.events)
    for record in finals(r for r in records if r.kind == "session").values():
        out.outcomes[record.outcome] += 1
        if record.outcome != "skipped":
            out.durations.append((record.outcome, record.duration_s))
        questions = record.counts.flixbuddy_questions
        out.flixbuddy_questions += questions if isinstance(questions, int) else 0
    return out


def collect(state_dir: Path, date: dt.date, days: int) -> ReportData:
    if days < 1:
        raise HogfleetError(f"--days must be at least 1 (got {days})")
    window = [date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    first = window[0]
    metrics = [m for m in StateStore(state_dir).load_metrics() if first <= m.date <= date]
    metrics.sort(key=lambda m: m.date)
    runs = [_day_runs(day, day_records(state_dir, day)) for day in window]
    return ReportData(date=date, days=window, metrics=metrics, runs=runs, failures=failures(state_dir, date))


# -- figures ------------------------------------------------------------------------------------------


def _layout(fig: go.Figure, title: str, *, barmode: str = "group", **extra: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 12},
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        height=340,
        legend={"orientation": "h", "y": -0.18},
        barmode=barmode,
        **extra,
    )
    return fig


def _empty(fig: go.Figure, message: str) -> None:
    fig.add_annotation(
        text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"color": "#778"}
    )


def fig_active(data: ReportData) -> go.Figure:
    fig = go.Figure()
    for outcome in ("ok", "abandoned", "failed"):
        fig.add_bar(
            x=data.days,
            y=[r.outcomes.get(outcome, 0) for r in data.runs],
            name=f"sessions {outcome} (ledger)",
            marker_color=OUTCOME_COLORS[outcome],
        )
    fig.add_scatter(
        x=[m.date for m in data.metrics],
        y=[m.active_today for m in data.metrics],
        name="active personas (simulation)",
        mode="lines+markers",
        line={"color": "#3b5bdb", "width": 2},
    )
    if not data.metrics and not any(r.outcomes for r in data.runs):
        _empty(fig, "no metrics and no runs in this window")
    return _layout(fig, "Active sessions per day", barmode="stack")


def _stacked_area(dates: list[dt.date], series: dict[str, list[int]], colors: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for name, values in series.items():
        fig.add_scatter(
            x=dates,
            y=values,
            name=name,
            mode="lines",
            stackgroup="one",
            line={"width": 0.5, "color": colors.get(name)},
        )
    if not dates:
        _empty(fig, "no daily metrics in this window")
    return fig


def fig_states(data: ReportData) -> go.Figure:
    dates = [m.date for m in data.metrics]
    series = {s.value: [m.state_distribution.get(s, 0) for m in data.metrics] for s in State}
    colors = {s.value: c for s, c in STATE_COLORS.items()}
    return _layout(_stacked_area(dates, series, colors), "Lifecycle state mix")


def fig_patterns(data: ReportData) -> go.Figure:
    dates = [m.date for m in data.metrics]
    series = {p.value: [m.pattern_distribution.get(p, 0) for m in data.metrics] for p in Pattern}
    return _layout(_stacked_area(dates, series, {}), "Activity pattern mix")


def fig_signups(data: ReportData) -> go.Figure:
    fig = go.Figure()
    dates = [m.date for m in data.metrics]
    fig.add_bar(x=dates, y=[m.new_signups for m in data.metrics], name="signups", marker_color="#2e9e5b")
    fig.add_bar(
        x=dates,
        y=[-m.churned_cleaned for m in data.metrics],
        name="churned (cleaned up)",
        marker_color="#d64545",
    )
    fig.add_scatter(
        x=dates,
        y=[m.new_signups - m.churned_cleaned for m in data.metrics],
        name="net",
        mode="lines+markers",
        line={"color": "#333", "width": 1.5},
    )
    if not dates:
        _empty(fig, "no daily metrics in this window")
    return _layout(fig, "Signups vs churn", barmode="relative")


def fig_events(data: ReportData) -> go.Figure:
    totals: Counter[str] = Counter()
    for r in data.runs:
        totals.update(r.events)
    fig = go.Figure()
    for name, _ in totals.most_common():
        fig.add_bar(x=data.days, y=[r.events.get(name, 0) for r in data.runs], name=name)
    if not totals:
        _empty(fig, "no events recorded by any run in this window")
    return _layout(fig, "Events per type (observed by the fleet)", barmode="stack")


def fig_outcomes(data: ReportData) -> go.Figure:
    totals: Counter[str] = Counter()
    for r in data.runs:
        totals.update(r.outcomes)
    fig = go.Figure(
        go.Bar(
            x=list(OUTCOMES),
            y=[totals.get(o, 0) for o in OUTCOMES],
            marker_color=[OUTCOME_COLORS[o] for o in OUTCOMES],
            text=[totals.get(o, 0) for o in OUTCOMES],
            textposition="auto",
        )
    )
    if not totals:
        _empty(fig, "no sessions in this window")
    return _layout(fig, f"Session outcomes ({sum(totals.values())} sessions)", showlegend=False)


def fig_durations(data: ReportData) -> go.Figure:
    fig = go.Figure()
    by_outcome: dict[str, list[float]] = {}
    for r in data.runs:
        for outcome, seconds in r.durations:
            by_outcome.setdefault(outcome, []).append(seconds)
    for outcome in OUTCOMES:
        if outcome in by_outcome:
            fig.add_histogram(
                x=by_outcome[outcome], name=outcome, marker_color=OUTCOME_COLORS[outcome], nbinsx=30
            )
    if not by_outcome:
        _empty(fig, "no sessions in this window")
    return _layout(fig, "Session duration", barmode="stack", xaxis_title="seconds", yaxis_title="sessions")


def fig_flixbuddy(data: ReportData) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        x=[m.date for m in data.metrics],
        y=[m.flixbuddy_calls for m in data.metrics],
        name="planned calls (simulation)",
        marker_color="#b197fc",
    )
    fig.add_bar(
        x=data.days,
        y=[r.flixbuddy_questions for r in data.runs],
        name="questions asked (fleet)",
        marker_color="#6741d9",
    )
    fig.add_scatter(
        x=data.days,
        y=[r.events.get("flixbuddy_interaction", 0) for r in data.runs],
        name="flixbuddy_interaction events",
        mode="lines+markers",
        line={"color": "#333"},
    )
    if not data.metrics and not any(r.flixbuddy_questions for r in data.runs):
        _empty(fig, "no FlixBuddy usage in this window")
    return _layout(fig, "FlixBuddy usage per day")


PLOTS: list[tuple[str, Any]] = [
    ("active-sessions", fig_active),
    ("state-mix", fig_states),
    ("pattern-mix", fig_patterns),
    ("signups-churn", fig_signups),
    ("events-per-type", fig_events),
    ("session-outcomes", fig_outcomes),
    ("session-durations", fig_durations),
    ("flixbuddy-usage", fig_flixbuddy),
]

# -- HTML ---------------------------------------------------------------------------------------------

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hogfleet report {{ date }}</title>
<style>
  :root { --fg: #1f2430; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: {{ font }}; color: var(--fg); background: var(--bg); }
  header { padding: 20px 28px 8px; }
  h1 { margin: 0 0 4px; font-size: 22px; }
  h2 { font-size: 17px; margin: 0 0 10px; }
  .muted { color: var(--muted); }
  .kpis { display: flex; flex-wrap: wrap; gap: 12px; padding: 8px 28px; }
  .kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
         min-width: 130px; }
  .kpi b { display: block; font-size: 22px; }
  .kpi span { color: var(--muted); font-size: 12px; }
  .kpi.bad b { color: #d64545; }
  /* Fixed tracks: plotly sizes each chart as its script runs, before later cells exist. */
  .grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; padding: 14px 28px; }
  @media (max-width: 1000px) { .grid { grid-template-columns: minmax(0, 1fr); } }
  .plot, .failures { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
                     padding: 6px; min-height: 352px; min-width: 0; overflow: hidden; }
  .failures { margin: 0 28px 28px; padding: 14px 16px; min-height: 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  code { font-size: 12px; background: #f1f3f5; padding: 1px 4px; border-radius: 4px; }
  img.thumb { max-width: 160px; max-height: 100px; border: 1px solid var(--line); }
  footer { padding: 0 28px 24px; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>hogfleet report: {{ date }}</h1>
  <div class="muted">{{ first }} to {{ date }} ({{ ndays }} days) · state dir <code>{{ state_dir }}</code>
  · generated {{ generated }}</div>
</header>
<section class="kpis">
  {% for label, value, bad in kpis %}
  <div class="kpi{% if bad %} bad{% endif %}"><b>{{ value }}</b><span>{{ label }}</span></div>
  {% endfor %}
</section>
<main class="grid">
  {% for plot_id, html in plots %}
  <section class="plot" id="plot-{{ plot_id }}" data-plot="{{ plot_id }}">{{ html | safe }}</section>
  {% endfor %}
</main>
<section class="failures" id="failures">
  <h2>Failed sessions on {{ date }} ({{ failures | length }})</h2>
  {% if failures %}
  <table>
    <thead><tr><th>persona</th><th>session</th><th>error</th><th>step</th><th>message</th>
    <th>trace</th><th>screenshot</th></tr></thead>
    <tbody>
    {% for f in failures %}
    <tr class="failure">
      <td>{{ f.persona }}</td><td><code>{{ f.session_id }}</code></td>
      <td>{{ f.error_class or "" }}</td><td>{{ f.error_step or "" }}</td>
      <td>{{ (f.error_message or "")[:300] }}</td>
      <td>{% if f.trace_href %}<a class="trace" href="{{ f.trace_href }}">trace.zip</a><br>
          <code>{{ f.show_trace }}</code>{% else %}<span class="muted">none</span>{% endif %}</td>
      <td>{% if f.screenshot_href %}<a href="{{ f.screenshot_href }}">
          <img class="thumb" src="{{ f.screenshot_href }}" alt="screenshot of {{ f.session_id }}"></a>
          {% else %}<span class="muted">none</span>{% endif %}</td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}
  <p class="muted">No failed sessions. </p>
  {% endif %}
</section>
<footer class="muted">Traces open with Playwright's viewer: <code>hogfleet trace &lt;session-id&gt;</code>.
</footer>
</body>
</html>
"""


def _href(target: Path | None, base: Path) -> str | None:
    if target is None:
        return None
    # Relative, so the report and artifacts/ can be uploaded or copied together.
    return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()


def _kpis(data: ReportData) -> list[tuple[str, str, bool]]:
    m = data.today_metrics
    runs = data.today_runs
    attempted = sum(runs.outcomes.values())
    failed = runs.outcomes.get("failed", 0)
    share = failed / attempted if attempted else 0.0
    return [
        ("personas in pool", str(m.total_personas) if m else "–", False),
        ("active today (simulation)", str(m.active_today) if m else "–", False),
        ("sessions run", str(attempted), False),
        ("failed sessions", f"{failed} ({share:.1%})", failed > 0),
        ("events observed", str(sum(runs.events.values())), False),
        ("FlixBuddy questions", str(runs.flixbuddy_questions), False),
    ]


def render(data: ReportData, state_dir: Path, out: Path) -> str:
    plots: list[tuple[str, str]] = []
    for n, (plot_id, build) in enumerate(PLOTS):
        fig = build(data)
        plots.append(
            (
                plot_id,
                fig.to_html(
                    full_html=False,
                    include_plotlyjs="inline" if n == 0 else False,
                    div_id=f"chart-{plot_id}",
                    config={"displaylogo": False, "responsive": True},
                ),
            )
        )
    rows = [
        {
            "persona": f.persona,
            "session_id": f.session_id,
            "error_class": f.error_class,
            "error_step": f.error_step,
            "error_message": f.error_message,
            "show_trace": f.show_trace,
            "trace_href": _href(f.trace, out.parent),
            "screenshot_href": _href(f.screenshot, out.parent),
        }
        for f in data.failures
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        font=FONT,
        date=data.date.isoformat(),
        first=data.days[0].isoformat(),
        ndays=len(data.days),
        state_dir=str(state_dir),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        kpis=_kpis(data),
        plots=plots,
        failures=rows,
    )


def write_report(state_dir: Path, date: dt.date, days: int, out: Path) -> ReportData:
    """Collect, render and atomically write the report; returns what it plotted."""
    data = collect(state_dir, date, days)
    html = render(data, state_dir, out)
    atomic_write_bytes(out, html.encode("utf-8"), mode=0o644)
    return data
