"""The HTML report for managers: one self-contained file (inline SVG charts, no scripts).

Tier sizes and value, a gain chart (how much of the future value the strategic tier covers),
the movement matrix, the capacity shortfall and the strategic accounts most at risk.
Every value is escaped (Jinja autoescape); only the SVG charts built here are `Markup`, and
the labels in them are escaped too.
"""

from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from pipeline.scoring import CHURN_RUN_ID, CHURN_VERSION, VALUE_RUN_ID, VALUE_VERSION
from pipeline.storage import atomic_path

__all__ = ["gain_curve", "write_report"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Key accounts {{ as_of }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{color:#1F4E78} h2{border-bottom:2px solid #1F4E78;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0} th{background:#1F4E78;color:#fff}
th,td{padding:.25em .6em;border:1px solid #ccc;text-align:right}
td.t,th.t{text-align:left} .note{background:#fff6d5;padding:.4em .8em;border-left:4px solid #e0a800}
</style></head><body>
<h1>Key accounts as of {{ as_of }}</h1>
<p>Value model {{ value_version }} (run {{ value_run }}) &middot; churn model {{ churn_version }} (run {{ churn_run }})
&middot; {{ n_customers }} customers scored &middot; movement compared with {{ basis }}.</p>
{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}
<h2>Tiers</h2>
<table><tr><th class="t">tier</th><th>accounts</th><th>expected value</th><th>share of value</th>
<th>flagged for retention</th></tr>
{% for r in tiers %}<tr><td class="t">{{ r.tier }}</td><td>{{ "{:,}".format(r.accounts) }}</td>
<td>{{ "{:,.0f}".format(r.expected_value) }}</td><td>{{ "{:.1%}".format(r.share) }}</td>
<td>{{ r.retention }}</td></tr>{% endfor %}</table>
{{ tier_chart }}
<h2>How much future value the strategic tier covers</h2>
<p>The {{ "{:,}".format(strategic_n) }} strategic accounts ({{ "{:.1%}".format(strategic_share_accounts) }}
of customers) carry {{ "{:.1%}".format(strategic_share_value) }} of the expected value over the
next {{ horizon }} days.</p>
{{ gain_chart }}
<h2>Movement since the last run</h2>
<table><tr><th class="t">previous tier &darr; / now &rarr;</th>{% for c in matrix_columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for name, row in matrix_rows %}<tr><td class="t">{{ name }}</td>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
<p>{% for k, v in moved.items() %}{{ k }}: {{ "{:,}".format(v) }}{% if not loop.last %} &middot; {% endif %}{% endfor %}</p>
<h2>Manager capacity per region</h2>
<table><tr><th class="t">region</th><th>candidates</th><th>capacity</th><th>strategic</th><th>moved to the next tier</th></tr>
{% for r in shortfall %}<tr><td class="t">{{ r.pool }}</td><td>{{ r.candidates }}</td><td>{{ r.capacity }}</td>
<td>{{ r.strategic }}</td><td>{{ r.overflow }}</td></tr>{% endfor %}</table>
<h2>Strategic accounts most at risk</h2>
<table><tr><th>rank</th><th class="t">customer</th><th class="t">region</th><th class="t">manager</th>
<th>expected value</th><th>churn probability</th><th>value at risk</th><th class="t">why</th></tr>
{% for r in at_risk %}<tr><td>{{ r.rank }}</td><td class="t">{{ r.customer_id }}</td><td class="t">{{ r.region }}</td>
<td class="t">{{ r.manager_id or "" }}</td><td>{{ "{:,.0f}".format(r.expected_value) }}</td>
<td>{{ "{:.0%}".format(r.churn_probability) }}</td><td>{{ "{:,.0f}".format(r.value_at_risk) }}</td>
<td class="t">{{ r.reasons }}</td></tr>{% endfor %}</table>
</body></html>
"""


def gain_curve(values: pd.Series, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Share of accounts (x) against share of total value (y), best accounts first."""
    ordered = np.sort(np.clip(values.to_numpy(dtype=float), 0, None))[::-1]
    total = ordered.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(ordered) / total if total > 0
                                 else np.linspace(0, 1, len(ordered))])
    index = np.unique(np.linspace(0, len(ordered), min(points, len(ordered)) + 1).astype(int))
    return index / max(len(ordered), 1), cumulative[index]


def _gain_svg(x: np.ndarray, y: np.ndarray, mark: float, mark_y: float) -> str:
    w, h, pad = 520, 300, 40
    px = lambda v: pad + v * (w - 2 * pad)  # noqa: E731
    py = lambda v: h - pad - v * (h - 2 * pad)  # noqa: E731
    line = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="gain chart">'
        f'<rect x="{pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" stroke="#999"/>'
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#bbb" stroke-dasharray="4"/>'
        f'<polyline points="{line}" fill="none" stroke="#1F4E78" stroke-width="2"/>'
        f'<line x1="{px(mark):.1f}" y1="{py(0)}" x2="{px(mark):.1f}" y2="{py(1)}" stroke="#c00"/>'
        f'<circle cx="{px(mark):.1f}" cy="{py(mark_y):.1f}" r="4" fill="#c00"/>'
        f'<text x="{px(mark) + 4:.1f}" y="{py(mark_y) + 14:.1f}" font-size="12" fill="#c00">'
        f'strategic: {mark_y:.0%} of value</text>'
        f'<text x="{w / 2}" y="{h - 8}" font-size="12" text-anchor="middle">share of accounts, best first</text>'
        f'<text x="12" y="{h / 2}" font-size="12" transform="rotate(-90 12 {h / 2})" '
        f'text-anchor="middle">share of expected value</text></svg>')


def _bars_svg(labels: list[str], values: list[float]) -> str:
    w, bar, gap, left = 520, 22, 8, 110
    top = max(max(values, default=0), 1e-9)
    h = len(labels) * (bar + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="expected value per tier">']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = gap + i * (bar + gap)
        width = (w - left - 90) * value / top
        parts.append(f'<text x="{left - 6}" y="{y + 16}" font-size="12" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar}" fill="#1F4E78"/>'
                     f'<text x="{left + width + 4:.1f}" y="{y + 16}" font-size="12">{value:,.0f}</text>')
    return "".join(parts) + "</svg>"


def write_report(path: Path, tiers: pd.DataFrame, matrix: pd.DataFrame, shortfall: pd.DataFrame,
                 tier_names: tuple[str, ...], summary: dict, at_risk_rows: int) -> None:
    """Render the report for `tiers` (the tier stage's rows) into one HTML file at `path`
    (a temporary of `pipeline.storage.StagedFiles` as it is, any other path atomically)."""
    strategic = tier_names[0]
    total = float(tiers["expected_value"].clip(lower=0).sum()) or 1.0
    table = []
    for name in tier_names:
        part = tiers[tiers["tier"] == name]
        table.append({"tier": name, "accounts": len(part),
                      "expected_value": float(part["expected_value"].sum()),
                      "share": float(part["expected_value"].clip(lower=0).sum()) / total,
                      "retention": int(part["retention_flag"].sum())})
    x, y = gain_curve(tiers["expected_value"])
    n_strategic = int((tiers["tier"] == strategic).sum())
    share_accounts = n_strategic / max(len(tiers), 1)
    share_value = table[0]["share"]
    risky = tiers[tiers["tier"] == strategic].sort_values(
        ["value_at_risk", "rank"], ascending=[False, True]).head(at_risk_rows)
    first = lambda c: str(tiers[c].iloc[0]) if c in tiers and len(tiers) else "n/a"  # noqa: E731
    horizon = first("horizon_days")
    as_of = str(pd.Timestamp(tiers["as_of"].iloc[0]).date()) if "as_of" in tiers else "n/a"
    html = jinja2.Environment(autoescape=True).from_string(_TEMPLATE).render(
        as_of=as_of, value_run=first(VALUE_RUN_ID), churn_run=first(CHURN_RUN_ID),
        value_version=first(VALUE_VERSION),
        churn_version=first(CHURN_VERSION), n_customers=f"{len(tiers):,}",
        basis=summary.get("movement_basis", "n/a"), notes=summary.get("notes", []),
        tiers=table, tier_chart=Markup(_bars_svg(
            [t["tier"] for t in table], [t["expected_value"] for t in table])),
        strategic_n=n_strategic, strategic_share_accounts=share_accounts,
        strategic_share_value=share_value, horizon=horizon,
        gain_chart=Markup(_gain_svg(x, y, share_accounts, share_value)),
        matrix_columns=list(matrix.columns), matrix_rows=[
            (name, list(row)) for name, row in zip(matrix.index, matrix.to_numpy())],
        moved=summary.get("moved", {}), shortfall=shortfall.to_dict("records"),
        at_risk=risky.to_dict("records"),
    )
    with atomic_path(path) as temporary:
        temporary.write_text(html, encoding="utf-8")
