"""The HTML pages for people: self-contained files (inline SVG charts, no scripts).

`write_report`, the sales director's page: what each tier takes to enter and keep, with its
counts; tier sizes and value (bar chart) and how much of the future value the strategic tier
covers (gain chart), both with labelled axes and ticks; the movement matrix; the manager
capacity, a per-region and a per-manager view (accounts, expected value, value at risk,
at-risk accounts, with links to their books); why incumbents kept their strategic slots while
better-ranked candidates moved to the next tier (the hysteresis); the manager's effect (the
value of one more and one fewer manager per region, the strategic accounts with the largest
estimated gain from their manager); the strategic accounts most at risk. Every account list
shows the estimated manager gain with its interval, or why there is none.

`write_book_page`, a manager's or region lead's page, from the same template parts: their
book's numbers, the tier definitions with the book's counts, their accounts (a manager: all
of them; a region lead: the managers of the region, the incumbents kept, the accounts most at
risk and the best accounts without a manager).

Every value is escaped (Jinja autoescape); only the SVG charts built here are `Markup`, and
the labels in them are escaped too.
"""

import functools
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from features.contract import AS_OF, CAPACITY, CUSTOMER_ID, HORIZON_DAYS, MANAGER_ID, REGION
from models.columns import (
    ACCOUNTS,
    CHANGE,
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_UPPER,
    MANAGER_GAIN,
    POOL,
    RANK,
    REASONS,
    RETENTION,
    STRATEGIC,
    TIER,
    TIER_REASON,
    VALUE_AT_RISK,
)
from models.tier_policy import TierPolicy
from pipeline.publishing import summary as tables
from pipeline.storage import atomic_path

__all__ = ["gain_curve", "kept_context", "nice_ticks", "write_book_page", "write_report"]

_ACCOUNT_COLUMNS = (RANK, CUSTOMER_ID, REGION, TIER, CHANGE, MANAGER_ID, EXPECTED_VALUE,
                    CHURN_PROBABILITY, VALUE_AT_RISK, MANAGER_GAIN, GAIN_LOWER, GAIN_UPPER,
                    GAIN_NOTE, RETENTION, REASONS, TIER_REASON)
_REGION_COLUMNS = (REGION, ACCOUNTS, STRATEGIC, "managers", CAPACITY,
                   "moved_to_next_tier", EXPECTED_VALUE, VALUE_AT_RISK,
                   "at_risk_accounts", "retention")

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{color:#1F4E78} h2{border-bottom:2px solid #1F4E78;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0} th{background:#1F4E78;color:#fff}
th,td{padding:.25em .6em;border:1px solid #ccc;text-align:right;vertical-align:top}
td.t,th.t{text-align:left} td.why{text-align:left;min-width:16em;max-width:30em}
table.accounts{width:100%}
.note{background:#fff6d5;padding:.4em .8em;border-left:4px solid #e0a800}
.muted{color:#666} .flag{background:#f4b183;font-weight:bold}
"""

_PARTS = """
{% macro stamps(s, n_customers, basis) -%}
<p>As of <b>{{ s.as_of }}</b>, horizon {{ s.horizon_days }} days &middot; value model
{{ s.value_version }} (run {{ s.value_run }}) &middot; churn model {{ s.churn_version }}
(run {{ s.churn_run }}) &middot; {{ n_customers | int_ }} customers &middot; movement compared
with {{ basis }}.</p>
{%- endmacro %}

{% macro definitions(defs, total, retention_text) -%}
<table><tr><th class="t">tier</th><th class="t">what it takes to enter</th>
<th class="t">what it takes to keep it</th><th>accounts</th><th>share of accounts</th>
<th>expected value</th><th>flagged for retention</th></tr>
{% for d in defs %}<tr><td class="t"><b>{{ d.name }}</b></td><td class="t">{{ d.enter }}</td>
<td class="t">{{ d.keep or "&ndash;" | safe }}</td><td>{{ d.accounts | int_ }}</td>
<td>{{ (d.accounts / total if total else 0) | pct1 }}</td><td>{{ d.expected_value | num }}</td>
<td>{{ d.retention | int_ }}</td></tr>{% endfor %}</table>
<p>{{ retention_text }}</p>
{%- endmacro %}

{% macro managers(rows, links) -%}
<table><tr><th class="t">manager</th><th class="t">region</th><th>capacity</th><th>accounts</th>
<th>expected value</th><th>value at risk</th><th>at-risk accounts</th><th>flagged for retention</th>
{% if links %}<th class="t">book</th>{% endif %}</tr>
{% for r in rows %}<tr><td class="t">{{ r.manager_id }}</td><td class="t">{{ r.region or "" }}</td>
<td>{{ r.capacity | int_ }}</td><td>{{ r.accounts | int_ }}</td><td>{{ r.expected_value | num }}</td>
<td>{{ r.value_at_risk | num }}</td><td>{{ r.at_risk_accounts | int_ }}</td><td>{{ r.retention | int_ }}</td>
{% if links %}<td class="t">{% if r.link %}<a href="{{ r.link }}">page</a>{% endif %}</td>{% endif %}</tr>
{% endfor %}</table>
{%- endmacro %}

{% macro regions(rows, links) -%}
<table><tr><th class="t">region</th><th>accounts</th><th>strategic</th><th>managers</th>
<th>manager capacity</th><th>candidates moved to the next tier</th><th>expected value</th>
<th>value at risk</th><th>at-risk accounts</th><th>flagged for retention</th>
{% if links %}<th class="t">book</th>{% endif %}</tr>
{% for r in rows %}<tr><td class="t">{{ r.region }}</td><td>{{ r.accounts | int_ }}</td>
<td>{{ r.strategic | int_ }}</td><td>{{ r.managers | int_ }}</td><td>{{ r.capacity | int_ }}</td>
<td>{{ r.moved_to_next_tier | int_ }}</td><td>{{ r.expected_value | num }}</td>
<td>{{ r.value_at_risk | num }}</td><td>{{ r.at_risk_accounts | int_ }}</td><td>{{ r.retention | int_ }}</td>
{% if links %}<td class="t">{% if r.link %}<a href="{{ r.link }}">page</a>{% endif %}</td>{% endif %}</tr>
{% endfor %}</table>
{%- endmacro %}

{% macro kept(k) -%}
<p>{{ k.explanation }}</p>
{% if k.pools %}
<table><tr><th class="t">region</th><th>strategic slots taken</th><th>incumbents kept</th>
<th>candidates moved to {{ k.next_tier }}</th><th>best rank moved</th>
<th>incumbents kept ranked below it</th><th>lowest rank kept</th></tr>
{% for r in k.pools %}<tr><td class="t">{{ r.pool }}</td><td>{{ r.strategic | int_ }}</td>
<td>{{ r.incumbents_kept | int_ }}</td><td>{{ r.candidates_moved | int_ }}</td>
<td>{{ r.best_rank_moved | int_ }}</td><td>{{ r.kept_below_it | int_ }}</td>
<td>{{ r.lowest_rank_kept | int_ }}</td></tr>{% endfor %}</table>
{% if k.rows %}<p>Incumbents kept although ranked below the best candidate moved to
{{ k.next_tier }}, lowest-ranked first{% if k.shown < k.total %} ({{ k.shown | int_ }} of
{{ k.total | int_ }}){% endif %}:</p>
<table><tr><th class="t">region</th><th>rank</th><th class="t">customer</th><th class="t">manager</th>
<th>best rank moved in the region</th><th>ranking share</th></tr>
{% for r in k.rows %}<tr><td class="t">{{ r.pool }}</td><td>{{ r.rank | int_ }}</td>
<td class="t">{{ r.customer_id }}</td><td class="t">{{ r.manager_id or "" }}</td>
<td>{{ r.best | int_ }}</td><td>{{ r.ranked_in_top | top }}</td></tr>{% endfor %}</table>{% endif %}
{% else %}<p class="muted">No strategic candidate was moved to the next tier here.</p>{% endif %}
{%- endmacro %}

{% macro accounts(rows, show_manager=true, show_region=true) -%}
{% if rows %}<table class="accounts"><tr><th>rank</th><th class="t">customer</th>{% if show_region %}<th class="t">region</th>{% endif %}
<th class="t">tier</th><th class="t">change since last run</th>{% if show_manager %}<th class="t">manager</th>{% endif %}
<th>expected value</th><th>churn probability</th><th>value at risk</th>
<th>manager gain (interval)</th><th class="t">retention</th>
<th class="t">why</th><th class="t">why this tier</th></tr>
{% for r in rows %}<tr><td>{{ r.rank | int_ }}</td><td class="t">{{ r.customer_id }}</td>
{% if show_region %}<td class="t">{{ r.region or "" }}</td>{% endif %}<td class="t">{{ r.tier }}</td>
<td class="t">{{ r.change or "" }}</td>{% if show_manager %}<td class="t">{{ r.manager_id or "" }}</td>{% endif %}
<td>{{ r.expected_value | num }}</td><td>{{ r.churn_probability | pct }}</td><td>{{ r.value_at_risk | num }}</td>
<td>{% if r.manager_gain is not none %}{{ r.manager_gain | num }} ({{ r.manager_gain_lower | num }} to {{ r.manager_gain_upper | num }}){% else %}<span class="muted">{{ r.manager_gain_note or "" }}</span>{% endif %}</td>
<td class="t{% if r.retention_flag %} flag{% endif %}">{{ "yes" if r.retention_flag else "no" }}</td>
<td class="why">{{ r.reasons or "" }}</td><td class="why">{{ r.tier_reason or "" }}</td></tr>
{% endfor %}</table>{% else %}<p class="muted">No accounts.</p>{% endif %}
{%- endmacro %}

{% macro effect(e) -%}
<p>{{ e.note }}</p>
{% if e.regions %}<p>If each region's managers took the accounts with the largest estimated
gains ({{ e.per_manager_text }}), over the next {{ e.horizon }} days:</p>
<table><tr><th class="t">region</th><th>managers</th><th>accounts per manager</th>
<th>gain of the managers now</th><th>one more manager adds</th><th>one fewer manager loses</th></tr>
{% for r in e.regions %}<tr><td class="t">{{ r.region }}</td><td>{{ r.managers | int_ }}</td>
<td>{{ r.capacity_per_manager | int_ }}</td><td>{{ r.gain_now | num }}</td>
<td>{{ r.one_more_manager | num }}</td><td>{{ r.one_fewer_manager | num }}</td></tr>{% endfor %}</table>
<p>The value of the k-th manager per region (it never increases with k):</p>
<table><tr><th class="t">region</th><th>k-th manager</th><th>accounts</th><th>it adds</th>
<th>that many managers add</th></tr>
{% for r in e.curve %}<tr><td class="t">{{ r.region }}</td><td>{{ r.managers | int_ }}</td>
<td>{{ r.accounts | int_ }}</td><td>{{ r.marginal_value | num }}</td><td>{{ r.total_value | num }}</td></tr>{% endfor %}</table>{% endif %}
{% if e.top %}<p>Strategic accounts with the largest estimated gain from their manager:</p>
{{ accounts(e.top) }}{% endif %}
{%- endmacro %}

{% macro shortfall(rows) -%}
<table><tr><th class="t">region</th><th>candidates</th><th>capacity</th><th>strategic</th>
<th>moved to the next tier</th></tr>
{% for r in rows %}<tr><td class="t">{{ r.pool }}</td><td>{{ r.candidates | int_ }}</td>
<td>{{ r.capacity | int_ }}</td><td>{{ r.strategic | int_ }}</td><td>{{ r.overflow | int_ }}</td></tr>
{% endfor %}</table>
{%- endmacro %}
"""

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ style }}</style></head><body>
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
</body></html>
"""

_REPORT = """{% extends "base" %}{% import "parts" as parts %}
{% block body %}
{{ parts.stamps(stamps, n_customers, basis) }}
{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}
{% if defs %}<h2>What each tier means</h2>
{{ parts.definitions(defs, n_customers, retention_text) }}{% endif %}
<h2>Tiers</h2>
<table><tr><th class="t">tier</th><th>accounts</th><th>expected value</th><th>share of value</th>
<th>flagged for retention</th></tr>
{% for r in tiers %}<tr><td class="t">{{ r.tier }}</td><td>{{ r.accounts | int_ }}</td>
<td>{{ r.expected_value | num }}</td><td>{{ r.share | pct1 }}</td>
<td>{{ r.retention | int_ }}</td></tr>{% endfor %}</table>
{{ tier_chart }}
<h2>How much future value the strategic tier covers</h2>
<p>The {{ strategic_n | int_ }} strategic accounts ({{ strategic_share_accounts | pct1 }}
of customers) carry {{ strategic_share_value | pct1 }} of the expected value over the
next {{ stamps.horizon_days }} days.</p>
{{ gain_chart }}
<h2>Movement since the last run</h2>
<table><tr><th class="t">previous tier &darr; / now &rarr;</th>{% for c in matrix_columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for name, row in matrix_rows %}<tr><td class="t">{{ name }}</td>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
<p>{% for k, v in moved.items() %}{{ k }}: {{ v | int_ }}{% if not loop.last %} &middot; {% endif %}{% endfor %}</p>
<h2>Manager capacity per region</h2>
{{ parts.shortfall(shortfall) }}
{% if regions %}<h2>Per region</h2>{{ parts.regions(regions, links) }}{% endif %}
{% if managers %}<h2>Per manager</h2>{{ parts.managers(managers, links) }}{% endif %}
{% if kept %}<h2>Why an incumbent kept its slot</h2>{{ parts.kept(kept) }}{% endif %}
<h2>The manager's effect</h2>
{{ parts.effect(effect) }}
<h2>Strategic accounts most at risk</h2>
{{ parts.accounts(at_risk) }}
{% endblock %}
"""

_BOOK = """{% extends "base" %}{% import "parts" as parts %}
{% block body %}
{{ parts.stamps(stamps, n_customers, basis) }}
<p>{{ scope }}</p>
{% if kind == "manager" %}<h2>Your book</h2>{{ parts.managers(managers, false) }}
{% else %}<h2>The region</h2>{{ parts.regions(regions, false) }}{% endif %}
<h2>What each tier means</h2>
{{ parts.definitions(defs, n_customers, retention_text) }}
{{ tier_chart }}
{% if kind == "manager" %}
{% if kept and kept.rows %}<h2>Why an incumbent kept its slot</h2>{{ parts.kept(kept) }}{% endif %}
<h2>Your accounts</h2>
{{ parts.accounts(accounts, false, false) }}
{% else %}
<h2>Managers of the region</h2>{{ parts.managers(managers, true) }}
{% if kept %}<h2>Why an incumbent kept its slot</h2>{{ parts.kept(kept) }}{% endif %}
<h2>Strategic accounts most at risk</h2>{{ parts.accounts(at_risk, true, false) }}
<h2>Best accounts without a manager</h2>{{ parts.accounts(unassigned, false, false) }}
{% endif %}
{% endblock %}
"""


def _int(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return f"{int(value):,}"


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates, compiled once per process (on first use)."""
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"base": _BASE, "parts": _PARTS, "report": _REPORT,
                                  "book": _BOOK}),
        autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(
        int_=_int,
        num=lambda v: "" if v is None or pd.isna(v) else f"{float(v):,.0f}",
        pct=lambda v: "" if v is None or pd.isna(v) else f"{float(v):.0%}",
        pct1=lambda v: "" if v is None or pd.isna(v) else f"{float(v):.1%}",
        top=lambda v: "" if v is None or pd.isna(v) else f"top {100 * float(v):.3g}%")
    return env


def gain_curve(values: pd.Series, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Share of accounts (x) against share of total value (y), best accounts first."""
    ordered = np.sort(np.clip(values.to_numpy(dtype=float), 0, None))[::-1]
    total = ordered.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(ordered) / total if total > 0
                                 else np.linspace(0, 1, len(ordered))])
    index = np.unique(np.linspace(0, len(ordered), min(points, len(ordered)) + 1).astype(int))
    return index / max(len(ordered), 1), cumulative[index]


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`: steps of 1, 2, 2.5 or 5 times a power of
    ten, about `count` of them."""
    if not np.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [float(step * i) for i in range(int(np.ceil(top / step - 1e-9)) + 1)]


def _short(value: float) -> str:
    """An axis label: 1,200 -> 1.2k, 3,000,000 -> 3M."""
    for size, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


def _gain_svg(x: np.ndarray, y: np.ndarray, mark: float, mark_y: float) -> str:
    w, h, left, right, top, bottom = 560, 340, 64, 24, 20, 52
    px = lambda v: left + v * (w - left - right)  # noqa: E731
    py = lambda v: h - bottom - v * (h - top - bottom)  # noqa: E731
    line = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="gain chart: share of expected value against share of accounts">',
             f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" '
             f'fill="none" stroke="#999"/>']
    for tick in np.linspace(0, 1, 6):
        parts.append(
            f'<line x1="{px(tick):.1f}" y1="{py(0)}" x2="{px(tick):.1f}" y2="{py(0) + 5}" '
            f'stroke="#333"/><text x="{px(tick):.1f}" y="{py(0) + 18}" font-size="11" '
            f'text-anchor="middle">{tick:.0%}</text>'
            f'<line x1="{left - 5}" y1="{py(tick):.1f}" x2="{left}" y2="{py(tick):.1f}" '
            f'stroke="#333"/><text x="{left - 8}" y="{py(tick) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick:.0%}</text>'
            f'<line x1="{left}" y1="{py(tick):.1f}" x2="{px(1)}" y2="{py(tick):.1f}" '
            f'stroke="#eee"/>')
    parts.append(
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#bbb" '
        f'stroke-dasharray="4"/>'
        f'<polyline points="{line}" fill="none" stroke="#1F4E78" stroke-width="2"/>'
        f'<line x1="{px(mark):.1f}" y1="{py(0)}" x2="{px(mark):.1f}" y2="{py(1)}" stroke="#c00"/>'
        f'<circle cx="{px(mark):.1f}" cy="{py(mark_y):.1f}" r="4" fill="#c00"/>'
        f'<text x="{px(mark) + 6:.1f}" y="{py(mark_y) + 16:.1f}" font-size="12" fill="#c00">'
        f'strategic: {mark:.1%} of accounts, {mark_y:.0%} of value</text>'
        f'<text x="{(left + w - right) / 2}" y="{h - 10}" font-size="12" text-anchor="middle">'
        f'share of accounts, best first</text>'
        f'<text x="16" y="{(top + h - bottom) / 2}" font-size="12" '
        f'transform="rotate(-90 16 {(top + h - bottom) / 2})" text-anchor="middle">'
        f'share of expected value</text></svg>')
    return "".join(parts)


def _bars_svg(labels: list[str], values: list[float], axis: str) -> str:
    """Horizontal bars, one per label, with an x axis of round ticks titled `axis`."""
    w, bar, gap, left, right, bottom = 560, 22, 8, 110, 70, 44
    ticks = nice_ticks(max(max(values, default=0), 0))
    top = ticks[-1] or 1.0
    plot = len(labels) * (bar + gap) + gap
    h = plot + bottom
    span = w - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="{escape(axis)} per tier">']
    for tick in ticks:
        x = left + span * tick / top
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{plot}" stroke="#eee"/>'
                     f'<line x1="{x:.1f}" y1="{plot}" x2="{x:.1f}" y2="{plot + 5}" stroke="#333"/>'
                     f'<text x="{x:.1f}" y="{plot + 17}" font-size="11" text-anchor="middle">'
                     f'{escape(_short(tick))}</text>')
    parts.append(f'<line x1="{left}" y1="0" x2="{left}" y2="{plot}" stroke="#333"/>'
                 f'<line x1="{left}" y1="{plot}" x2="{left + span}" y2="{plot}" stroke="#333"/>')
    for i, (label, value) in enumerate(zip(labels, values)):
        y = gap + i * (bar + gap)
        width = span * max(value, 0) / top
        parts.append(f'<text x="{left - 6}" y="{y + 16}" font-size="12" text-anchor="end">'
                     f'{escape(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar}" fill="#1F4E78"/>'
                     f'<text x="{left + width + 4:.1f}" y="{y + 16}" font-size="12">'
                     f'{value:,.0f}</text>')
    parts.append(f'<text x="{left + span / 2}" y="{h - 6}" font-size="12" '
                 f'text-anchor="middle">{escape(axis)}</text>'
                 f'<text x="12" y="{plot / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 12 {plot / 2})">tier</text></svg>')
    return "".join(parts)


def _records(frame: pd.DataFrame | None, columns=None) -> list[dict]:
    """Rows as dicts with missing values as None (Jinja shows them empty); `columns`, when
    given, are all present (missing ones empty)."""
    if frame is None or frame.empty:
        return []
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _retention_text(policy: TierPolicy, horizon: str) -> str:
    rule = policy.retention
    return (f"Flagged for retention, whatever the tier: expected value in the top "
            f"{100 * (1 - rule.min_value_percentile):.4g}% and at least a "
            f"{rule.min_churn_probability:.0%} chance of no order over the next {horizon} days. "
            f"At-risk accounts: a churn probability of at least "
            f"{rule.min_churn_probability:.0%}. Value at risk: churn probability x the "
            "customer's current spend over a horizon, what losing the account would cost.")


def kept_context(kept: tuple[pd.DataFrame, pd.DataFrame], policy: TierPolicy, limit: int,
                 pool: str | None = None, manager: str | None = None) -> dict:
    """The "why an incumbent kept its slot" section from `kept` (`summary.kept_incumbents`,
    computed once for every book): the explanation, the pools (only `pool` when given) and
    the incumbents ranked below the best candidate moved (only `manager`'s when given), at
    most `limit`, lowest-ranked first."""
    strategic, next_tier = policy.strategic, policy.tier_names[1]
    per, detail = kept
    if pool is not None:
        per, detail = per[per[POOL] == pool], detail[detail[POOL] == pool]
    if manager is not None:
        detail = detail[detail[MANAGER_ID].astype(object) == manager]
    best = per.set_index(POOL)["best_rank_moved"] if len(per) else pd.Series(dtype=float)
    detail = detail.assign(best=detail[POOL].map(best))
    keep = tables.tier_definitions(policy)[0]["keep"]
    explanation = (
        f"Hysteresis: {keep}. When a region has more {strategic.name} candidates than manager "
        f"slots, the slots go first to the accounts already {strategic.name}, then to new "
        f"candidates by rank; the candidates left over move to {next_tier}. So an incumbent can "
        f"keep its slot although it ranks below a candidate moved to {next_tier}: relationships "
        "and books stay stable from run to run, and a newcomer gets a slot as soon as one frees "
        "up or an incumbent falls below the keep bar.")
    return {"explanation": explanation, "next_tier": next_tier, "pools": _records(per),
            "rows": _records(detail.head(limit)), "shown": min(limit, len(detail)),
            "total": len(detail)}


def _render(template: str, path: Path, **context) -> None:
    html = _environment().get_template(template).render(style=Markup(_STYLE), **context)
    with atomic_path(path) as temporary:
        temporary.write_text(html, encoding="utf-8")


def _tier_table(tiers: pd.DataFrame, names: tuple[str, ...]) -> list[dict]:
    total = float(tiers[EXPECTED_VALUE].clip(lower=0).sum()) or 1.0
    grouped = (tiers.assign(_positive=tiers[EXPECTED_VALUE].clip(lower=0))
               .groupby(TIER).agg(accounts=(TIER, "size"),
                                    expected_value=(EXPECTED_VALUE, "sum"),
                                    positive=("_positive", "sum"),
                                    retention=(RETENTION, "sum")))
    out = []
    for name in names:
        row = grouped.loc[name] if name in grouped.index else None
        out.append({TIER: name, ACCOUNTS: 0 if row is None else int(row[ACCOUNTS]),
                    EXPECTED_VALUE: 0.0 if row is None else float(row[EXPECTED_VALUE]),
                    "share": 0.0 if row is None else float(row["positive"]) / total,
                    "retention": 0 if row is None else int(row["retention"])})
    return out


def write_report(path: Path, tiers: pd.DataFrame, matrix: pd.DataFrame, shortfall: pd.DataFrame,
                 tier_names: tuple[str, ...], summary: dict, at_risk_rows: int, *,
                 policy: TierPolicy | None = None, managers: pd.DataFrame | None = None,
                 links: dict[tuple[str, str], str] | None = None, kept_rows: int = 25,
                 rows: pd.DataFrame | None = None,
                 kept: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                 effect: dict[str, pd.DataFrame] | None = None) -> None:
    """Render the sales director's report for `tiers` (the tier stage's rows) into one HTML
    file at `path` (a temporary of `pipeline.storage.StagedFiles` as it is, any other path
    atomically). With `policy`: the tier definitions, the per-region and per-manager views
    (`managers`: a `summary.manager_view`) and why incumbents kept their slots (at most
    `kept_rows`; `kept`: `summary.kept_incumbents` when already computed); `links` maps
    ("manager" | "region", name) to the relative link of that book's page. `rows` (the
    published rows) give the at-risk list its change texts; else the tier stage's. `effect`:
    the manager's effect tables (`summary.manager_effect_tables`; None: none)."""
    strategic = tier_names[0]
    table = _tier_table(tiers, tier_names)
    x, y = gain_curve(tiers[EXPECTED_VALUE])
    n_strategic = table[0][ACCOUNTS]
    share_accounts = n_strategic / max(len(tiers), 1)
    stamps = tables.model_stamps(tiers)
    shown = rows if rows is not None else tiers
    risky = shown[shown[TIER] == strategic].sort_values(
        [VALUE_AT_RISK, RANK], ascending=[False, True]).head(at_risk_rows)
    links = links or {}
    context = {"defs": [], "regions": [], "managers": [], "kept": None, "links": bool(links),
               "retention_text": ""}
    if policy is not None:
        views = managers if managers is not None else tables.manager_view(tiers, None, policy)
        regions = tables.region_view(tiers, shortfall, views, policy)
        if kept is None:
            kept = tables.kept_incumbents(tiers, policy, tables.capacity_pools(tiers, shortfall))
        context.update(
            defs=tables.tier_definitions(policy, tiers),
            retention_text=_retention_text(policy, stamps[HORIZON_DAYS]),
            regions=[{**r, "link": links.get(("region", str(r[REGION])))}
                     for r in _records(regions, _REGION_COLUMNS)],
            managers=[{**r, "link": links.get(("manager", str(r[MANAGER_ID])))}
                      for r in _records(views)],
            kept=kept_context(kept, policy, kept_rows))
    effect = effect or {}
    gainers = (shown[(shown[TIER] == strategic) & shown[MANAGER_GAIN].notna()]
               .sort_values([MANAGER_GAIN, RANK], ascending=[False, True]).head(at_risk_rows)
               if MANAGER_GAIN in shown else shown.iloc[:0])
    effect_context = {
        "note": tables.effect_note(tiers), "horizon": stamps[HORIZON_DAYS],
        "per_manager_text": "a region's manager takes the mean capacity of its managers",
        "regions": _records(effect.get(tables.EFFECT_TABLE)),
        "curve": _records(effect.get(tables.CURVE_TABLE)),
        "top": _records(gainers, _ACCOUNT_COLUMNS)}
    _render("report", path, title=f"Key accounts as of {stamps[AS_OF]}", stamps=stamps,
            effect=effect_context,
            n_customers=len(tiers), basis=summary.get("movement_basis", "n/a"),
            notes=summary.get("notes", []), tiers=table,
            tier_chart=Markup(_bars_svg([t[TIER] for t in table],
                                        [t[EXPECTED_VALUE] for t in table],
                                        f"expected value over the next {stamps[HORIZON_DAYS]} "
                                        "days")),
            strategic_n=n_strategic, strategic_share_accounts=share_accounts,
            strategic_share_value=table[0]["share"],
            gain_chart=Markup(_gain_svg(x, y, share_accounts, table[0]["share"])),
            matrix_columns=list(matrix.columns), matrix_rows=[
                (name, list(row)) for name, row in zip(matrix.index, matrix.to_numpy())],
            moved=summary.get("moved", {}), shortfall=_records(shortfall),
            at_risk=_records(risky, _ACCOUNT_COLUMNS), **context)


def write_book_page(path: Path, kind: str, name: str, tiers: pd.DataFrame, rows: pd.DataFrame,
                    policy: TierPolicy, summary: dict, *, managers: pd.DataFrame,
                    regions: pd.DataFrame, kept: dict | None, at_risk_rows: int,
                    links: dict[tuple[str, str], str] | None = None) -> None:
    """Render the page of one book into `path` (like `write_report`): `kind` "manager" or
    "region", `name` the manager id or region, `tiers` and `rows` that book's tier rows and
    published rows (same customers, `rows` ranked), `managers` and `regions` the views of
    `summary.manager_view` / `region_view` restricted to the book, `kept` a `kept_context`
    for the book (None: left out)."""
    stamps = tables.model_stamps(tiers)
    links = links or {}
    defs = tables.tier_definitions(policy, tiers)
    who = (f"Manager {name}: only the accounts assigned to you." if kind == "manager" else
           f"Region {name}: every account of the region, with a manager or without.")
    strategic = policy.strategic.name
    at_risk = rows[rows[TIER] == strategic].sort_values(
        [VALUE_AT_RISK, RANK], ascending=[False, True]).head(at_risk_rows)
    unassigned = rows[rows[MANAGER_ID].isna()].head(at_risk_rows) if kind == "region" else rows
    title = (f"Key accounts of manager {name}" if kind == "manager"
             else f"Key accounts of region {name}") + f" as of {stamps[AS_OF]}"
    _render("book", path, title=title, stamps=stamps, n_customers=len(tiers),
            basis=summary.get("movement_basis", "n/a"), scope=who, kind=kind,
            defs=defs, retention_text=_retention_text(policy, stamps[HORIZON_DAYS]),
            tier_chart=Markup(_bars_svg([d["name"] for d in defs],
                                        [d[EXPECTED_VALUE] for d in defs],
                                        f"expected value over the next {stamps[HORIZON_DAYS]} "
                                        "days")),
            managers=[{**r, "link": links.get(("manager", str(r[MANAGER_ID])))}
                      for r in _records(managers)],
            regions=_records(regions, _REGION_COLUMNS), kept=kept,
            accounts=_records(rows, _ACCOUNT_COLUMNS), at_risk=_records(at_risk, _ACCOUNT_COLUMNS),
            unassigned=_records(unassigned, _ACCOUNT_COLUMNS))
