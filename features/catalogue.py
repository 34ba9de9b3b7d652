"""The feature catalogue: what every feature means, in words a manager understands.

Each entry has a name, a family, a plain-language description and a template that renders a
value ("last order {value:,.0f} day{s} ago"), with phrases for 0, 1, negative and missing
values ("last order today", "never contacted"), the side common sense reads as good
(`better`) and the fact it states (`fact`: tenure and first order are one fact). Windowed
features are written once with a placeholder ({window}, {channel}) and expanded with the
configured windows and channels by `catalogue(config)`; `CATALOGUE` is the expansion for the
default configuration.
`describe(name, value, row)` renders one value as a phrase, for the reasons behind a score
(singular/plural, thousands separators); given the customer's whole row it adds context
(recency against the usual gap).
`catalogue_markdown(config)` renders the catalogue as a Markdown document.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from features import names
from features.config import FeaturesConfig

__all__ = [
    "CATALOGUE",
    "FAMILIES",
    "OVERDUE_RATIO",
    "RECENT_DAYS",
    "TEMPLATES",
    "Feature",
    "catalogue",
    "catalogue_markdown",
    "describe",
    "lookup",
]

FAMILIES = ("transactions", "btyd", "contacts", "customers")


@dataclass(frozen=True)
class Feature:
    """One catalogue entry.

    name, description and the phrases may hold {window} and {channel} placeholders until
    expanded. `expand` says what fills them: "windows" (every configured window),
    "trend" (trend_window_days), "lookback" (contact_lookback_days), "channels" (every
    configured contact channel and window) or None. `missing` is the value a customer
    without any source rows gets (0.0 for counts and sums, NaN for "unknown").
    `categorical` features are pandas categories.

    How a value reads (`describe`): `template` formats it ("{value:,.0f}" and "{s}", the
    plural "s" unless the shown number is 1); `zero` replaces it for a value of exactly 0
    ("ordered today"), `one` for a shown value of 1, `negative` for a value below 0 (given
    the absolute value), `never` for a missing value (what a missing value means for that
    feature: "never contacted"; without it, "... not known").

    For the reasons behind a score (models.reasons): `better` says which values common sense
    reads as good for the account ("higher": more is better, e.g. spend; "lower": less is
    better, e.g. days since the last order; None: no obvious side; a missing value with a
    `never` phrase, "it never happened", is on the bad side), and features with the
    same `fact` say the same thing in other words (tenure and first order), so a customer's
    reasons show one of them (None: the feature's own name); `zero_fact` is the fact of a
    value of 0 when it differs ("no order in the last 90 days" is what "last order 200 days
    ago" or "nothing spent in the last 365 days" already say). Two limits in plain terms
    override the comparison with the typical customer, so a phrase never reads the wrong way
    round: above `good_at_most` a value is bad news whatever the others do ("last contact 285
    days ago" is never a reason for value up, even where most customers are contacted less),
    and `bad_from` = (column, ratio) makes it bad news from `ratio` times the row's `column` on
    (a last order at three times the usual gap between orders).
    `render(value, entry, row)` replaces the template for phrases that need arithmetic ("spend down
    40% on the 90 days before", "buys mostly from one product category").
    """

    name: str
    family: str
    description: str
    template: str
    expand: str | None = None
    missing: float = math.nan
    categorical: bool = False
    render: Callable[[float, "Feature", Mapping | None], str] | None = None
    zero: str | None = None
    one: str | None = None
    negative: str | None = None
    never: str | None = None
    better: str | None = None
    fact: str | None = None
    zero_fact: str | None = None
    good_at_most: float | None = None
    bad_from: tuple[str, float] | None = None


# the longest gap, in days, that still reads as recent ("last contact 60 days ago")
RECENT_DAYS = 90
# an order this many times the usual gap late is overdue (describe says "three times its
# usual gap" from here on)
OVERDUE_RATIO = 1.5


def _has_manager(value: float, entry: "Feature", row: Mapping | None) -> str:
    return "a dedicated manager is in touch" if value >= 0.5 else "no dedicated manager in touch"


def _window(entry: "Feature") -> str:
    """The window of a windowed entry's name ("txn_spend_trend_90d": "90")."""
    match = re.search(r"_(\d+)d$", entry.name)
    return match.group(1) if match else "{window}"


def _trend(value: float, entry: "Feature", row: Mapping | None) -> str:
    """The spend trend t = (recent - before) / (|recent| + |before|) as the change it
    means: recent / before - 1 = 2t / (1 - t) for both positive (0 with nothing spent in
    the last window, given the row: nothing in either)."""
    w = _window(entry)
    recent = None if row is None else row.get(names.txn_spend_in(w))
    if value == 0 and recent is not None and not _is_missing(recent) and recent == 0:
        return f"nothing bought in the last {2 * int(w)} days"
    if value <= -1:
        return f"nothing bought in the last {w} days, after buying in the {w} days before"
    if value >= 1:
        return f"bought in the last {w} days, nothing in the {w} days before"
    change = 2 * value / (1 - value)
    if abs(change) < 0.005:
        return f"spend unchanged (last {w} days against the {w} before)"
    way = "up" if change > 0 else "down"
    return f"spend {way} {abs(change):.0%} in the last {w} days on the {w} days before"


def _concentration(value: float, entry: "Feature", row: Mapping | None) -> str:
    """The Herfindahl index of spend over categories in words."""
    if value >= 0.9:
        return "buys almost only from one product category"
    if value >= 0.5:
        return "buys mostly from one product category"
    return "spend spread over several product categories"


_F = Feature
TEMPLATES: tuple[Feature, ...] = (
    _F(
        names.TXN_DAYS_SINCE_LAST_ORDER,
        "transactions",
        "Days since the customer's last order.",
        "last order {value:,.0f} day{s} ago",
        zero="last order today",
        never="no order yet",
        better="lower",
        fact="last_order",
        good_at_most=RECENT_DAYS,
        bad_from=(names.TXN_GAP_MEAN_DAYS, OVERDUE_RATIO),
    ),
    _F(
        names.TXN_TENURE_DAYS,
        "transactions",
        "Days since the customer's first transaction: how long it has been buying from us.",
        "buying from us for {value:,.0f} day{s}",
        zero="first purchase today",
        never="no purchase yet",
        better="higher",
        fact="tenure",
    ),
    _F(
        names.TXN_ORDERS,
        "transactions",
        "Number of orders placed so far.",
        "{value:,.0f} order{s} so far",
        missing=0.0,
        zero="no order so far",
        better="higher",
        fact="orders",
    ),
    _F(
        names.TXN_ORDER_DAYS,
        "transactions",
        "Number of different days on which it ordered.",
        "ordered on {value:,.0f} different days",
        missing=0.0,
        zero="no order so far",
        one="ordered on a single day",
        better="higher",
        fact="orders",
    ),
    _F(
        names.TXN_SPEND_TOTAL,
        "transactions",
        "Total spend so far, net of returns.",
        "{value:,.0f} spent so far",
        missing=0.0,
        zero="nothing spent so far",
        negative="returns exceed purchases by {value:,.0f} so far",
        better="higher",
    ),
    _F(
        names.TXN_MEAN_ORDER_VALUE,
        "transactions",
        "Average value of one order (returns not deducted).",
        "average order of {value:,.0f}",
        never="no order yet",
        better="higher",
        fact="order_value",
    ),
    _F(
        names.TXN_ORDER_DAY_SPEND_STD,
        "transactions",
        "How much the spend of one order day varies from one order day to the next "
        "(standard deviation).",
        "spend per order day varies by {value:,.0f}",
        zero="the same spend on every order day",
        never="fewer than two order days",
    ),
    _F(
        names.TXN_ORDER_DAY_SPEND_MAX,
        "transactions",
        "Largest spend on a single day.",
        "largest day of spend {value:,.0f}",
        never="no purchase yet",
        better="higher",
    ),
    _F(
        names.txn_orders_in("{window}"),
        "transactions",
        "Orders in the last {window} days.",
        "{value:,.0f} order{s} in the last {window} days",
        expand="windows",
        missing=0.0,
        zero="no order in the last {window} days",
        better="higher",
        fact="recent_orders",
        zero_fact="last_order",
    ),
    _F(
        names.txn_spend_in("{window}"),
        "transactions",
        "Spend in the last {window} days, net of returns.",
        "{value:,.0f} spent in the last {window} days",
        expand="windows",
        missing=0.0,
        zero="nothing spent in the last {window} days",
        negative="returns exceed purchases by {value:,.0f} in the last {window} days",
        better="higher",
        fact="recent_spend",
        zero_fact="last_order",
    ),
    _F(
        names.txn_spend_trend("{window}"),
        "transactions",
        "Spend of the last {window} days against the {window} days before: -1 = stopped buying, "
        "0 = unchanged, +1 = all new.",
        "spend trend {value:+.2f} (last {window} days against the {window} before)",
        expand="trend",
        missing=0.0,
        render=_trend,
        better="higher",
    ),
    _F(
        names.TXN_GAP_MEAN_DAYS,
        "transactions",
        "Usual number of days between two order days.",
        "orders every {value:,.0f} days on average",
        one="orders almost every day",
        never="no repeat order yet",
        better="lower",
    ),
    _F(
        names.TXN_GAP_STD_DAYS,
        "transactions",
        "How irregular the time between orders is (standard deviation of the gaps, days).",
        "the gap between orders varies by {value:,.0f} day{s}",
        zero="orders at regular intervals",
        never="too few orders to tell how regular they are",
    ),
    _F(
        names.TXN_OVERDUE_RATIO,
        "transactions",
        "Days since the last order divided by the usual gap between orders; above 1 the next "
        "order is overdue.",
        "{value:,.1f} times its usual gap since the last order",
        zero="last order today",
        never="no repeat order yet",
        better="lower",
        fact="last_order",
        good_at_most=1.0,  # past the usual gap is never good news
    ),
    _F(
        names.TXN_RETURN_SHARE,
        "transactions",
        "Share of the value bought that was returned.",
        "{value:.0%} of purchases returned",
        zero="nothing returned",
        never="nothing bought yet",
        better="lower",
    ),
    _F(
        names.TXN_CATEGORIES,
        "transactions",
        "Number of product categories it has bought.",
        "buys from {value:,.0f} product categories",
        missing=0.0,
        zero="no product category bought yet",
        one="buys from a single product category",
        better="higher",
    ),
    _F(
        names.TXN_CATEGORY_HHI,
        "transactions",
        "How concentrated spend is on few categories (Herfindahl index: 1 = one category, near 0 "
        "= spread over many).",
        "category concentration {value:.2f}",
        never="nothing bought yet",
        render=_concentration,
    ),
    _F(
        names.TXN_SEASON_NEXT_QUARTER_SHARE,
        "transactions",
        "Share of last year's spend that fell in the coming quarter, one year earlier (0.25 = "
        "no seasonality).",
        "{value:.0%} of last year's spend came in the coming quarter",
        zero="nothing spent in the coming quarter last year",
        never="nothing bought in the last year",
        better="higher",
    ),
    _F(
        names.TXN_SEASON_STRENGTH,
        "transactions",
        "Largest share of last year's spend taken by a single quarter (0.25 = even through the "
        "year, 1 = all in one quarter).",
        "{value:.0%} of last year's spend in its busiest quarter",
        never="nothing bought in the last year",
    ),
    _F(
        names.BTYD_FREQUENCY,
        "btyd",
        "Repeat order days (order days after the first), as used by the BG/NBD model.",
        "ordered again on {value:,.0f} day{s}",
        zero="no repeat order yet",
        never="no order yet",
        better="higher",
        fact="orders",
    ),
    _F(
        names.BTYD_RECENCY,
        "btyd",
        "Days between the first and the last order day (BG/NBD recency).",
        "{value:,.0f} day{s} between first and last order",
        zero="all orders on a single day",
        never="no order yet",
        better="higher",
    ),
    _F(
        names.BTYD_T,
        "btyd",
        "Days between the first order and the cutoff (BG/NBD customer age).",
        "first order {value:,.0f} day{s} ago",
        zero="first order today",
        never="no order yet",
        better="higher",
        fact="tenure",
    ),
    _F(
        names.BTYD_MONETARY,
        "btyd",
        "Average spend of a repeat order day, returns not deducted; 0 without repeats "
        "(Gamma-Gamma).",
        "repeat orders average {value:,.0f}",
        zero="no repeat order yet",
        never="no order yet",
        better="higher",
        fact="order_value",
    ),
    _F(
        names.ctc_contacts("{channel}", "{window}"),
        "contacts",
        "Number of {channel} contacts in the last {window} days.",
        "{value:,.0f} {channel} contact{s} in the last {window} days",
        expand="channels",
        missing=0.0,
        zero="no {channel} contact in the last {window} days",
        better="higher",
        fact="contacts_{channel}",
    ),
    _F(
        names.CTC_DAYS_SINCE_LAST_CONTACT,
        "contacts",
        "Days since the last contact of any kind.",
        "last contact {value:,.0f} day{s} ago",
        zero="last contact today",
        never="never contacted",
        better="lower",
        good_at_most=RECENT_DAYS,
    ),
    _F(
        names.CTC_DAYS_SINCE_MANAGER_VISIT,
        "contacts",
        "Days since the last visit by a dedicated manager.",
        "last manager visit {value:,.0f} day{s} ago",
        zero="last manager visit today",
        never="never visited by a manager",
        better="lower",
        good_at_most=RECENT_DAYS,
    ),
    _F(
        names.CTC_HAS_MANAGER,
        "contacts",
        "1 when a dedicated manager has contacted the customer recently (configs/features.yaml: "
        "manager_lookback_days), else 0.",
        "{value:.0f}",
        missing=0.0,
        render=_has_manager,
        better="higher",
    ),
    _F(
        names.ctc_complaints("{window}"),
        "contacts",
        "Complaints in the last {window} days.",
        "{value:,.0f} complaint{s} in the last {window} days",
        expand="lookback",
        missing=0.0,
        zero="no complaint in the last {window} days",
        better="lower",
    ),
    _F(
        names.ctc_order_conversion("{window}"),
        "contacts",
        "Share of the contacts of the last {window} days that ended in an order.",
        "{value:.0%} of contacts in the last {window} days led to an order",
        expand="lookback",
        zero="no contact in the last {window} days led to an order",
        never="no contact in the last {window} days",
        better="higher",
    ),
    _F(
        names.CUST_SIZE_EMPLOYEES,
        "customers",
        "Number of employees.",
        "{value:,.0f} employee{s}",
        better="higher",
        fact="size",
    ),
    _F(
        names.CUST_RELATIONSHIP_DAYS,
        "customers",
        "Days since the customer account was created.",
        "customer for {value:,.0f} day{s}",
        zero="became a customer today",
        better="higher",
        fact="tenure",
    ),
    _F(names.CUST_REGION, "customers", "Sales region.", "region {value}", categorical=True),
    _F(names.CUST_INDUSTRY, "customers", "Industry.", "industry {value}", categorical=True),
    _F(
        names.CUST_SIZE_BAND,
        "customers",
        "Company size band, in employees.",
        "{value} employees",
        categorical=True,
        fact="size",
    ),
)

# the phrases of an entry that hold {window} / {channel} placeholders
_PHRASES = ("template", "zero", "one", "negative", "never", "fact", "zero_fact")


def _fill(template: Feature, name: str, fills: Mapping[str, str]) -> Feature:
    """`template` with its placeholders filled in by `fills` (window, channel)."""

    def put(text: str | None) -> str | None:
        if text is None:
            return None
        return text.replace("{window}", str(fills.get("window", ""))).replace(
            "{channel}", str(fills.get("channel", ""))
        )

    return replace(
        template,
        name=name,
        description=template.description.format(**fills),
        expand=None,
        **{field: put(getattr(template, field)) for field in _PHRASES},
    )


def _expand(template: Feature, config: FeaturesConfig) -> list[Feature]:
    if template.expand is None:
        return [template]
    if template.expand == "windows":
        fills = [{"window": w} for w in config.windows_days]
    elif template.expand == "trend":
        fills = [{"window": config.trend_window_days}]
    elif template.expand == "lookback":
        fills = [{"window": config.contact_lookback_days}]
    else:
        fills = [
            {"channel": c, "window": w}
            for c in config.contact_channels
            for w in config.windows_days
        ]
    return [_fill(template, template.name.format(**f), f) for f in fills]


def catalogue(config: FeaturesConfig | None = None) -> dict[str, Feature]:
    """Every feature `build` can produce under `config`, by name, in column order."""
    config = config or FeaturesConfig()
    return {f.name: f for t in TEMPLATES for f in _expand(t, config)}


CATALOGUE: dict[str, Feature] = catalogue()


def _pattern(name: str) -> re.Pattern:
    escaped = (
        re.escape(name)
        .replace(r"\{window\}", r"(?P<window>\d+)")
        .replace(r"\{channel\}", r"(?P<channel>\w+?)")
    )
    return re.compile(f"^{escaped}$")


# fixed names before the per-channel ones: "ctc_{channel}_{window}d" would also match
# "ctc_order_conversion_180d" (a channel may hold "_"), so the specific templates go first
_PATTERNS = sorted(
    ((_pattern(t.name), t) for t in TEMPLATES), key=lambda pt: "{channel}" in pt[1].name
)


def lookup(name: str) -> Feature:
    """The catalogue entry of a feature column, whatever windows and channels were configured."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    for pattern, template in _PATTERNS:
        match = pattern.match(name)
        if match:
            return _fill(template, name, match.groupdict())
    raise KeyError(f"{name!r} is not in the feature catalogue (features/catalogue.py)")


def _is_missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _times(ratio: float) -> str:
    words = {1: "about", 2: "twice", 3: "three times", 4: "four times", 5: "five times"}
    if ratio < 0.75:
        return "well within its usual gap"
    rounded = round(ratio)
    if abs(ratio - rounded) < 0.25 and rounded in words:
        return f"{words[rounded]} its usual gap"
    return f"{ratio:,.{0 if ratio >= 10 else 1}f} times its usual gap"


def _count(value: float, template: str) -> str:
    """`template` formatted with `value` and "{s}" = the plural "s" unless it shows 1."""
    shown = round(value)
    return template.format(value=value, s="" if abs(shown) == 1 else "s")


def describe(name: str, value, row: Mapping | None = None) -> str:
    """Render a feature value as a short phrase, e.g. "last order 142 days ago".

    Singular and plural follow the number shown ("1 complaint", "2 complaints"); a value of
    0, of 1 or below 0 and a missing value take the entry's `zero`, `one`, `negative` and
    `never` phrases when it has them ("last order today", "never contacted"); a missing value
    without a `never` phrase reads "<description>: not known". Large numbers have thousands
    separators. With the customer's `row` (a mapping of its feature values) some phrases add
    context: days since the last order is set against the customer's usual gap between orders
    ("last order 142 days ago, three times its usual gap").
    """
    feature = lookup(name)
    if _is_missing(value):
        if feature.never is not None:
            return feature.never
        return f"{feature.description.rstrip('.').lower()}: not known"
    if feature.render is not None:
        return feature.render(float(value), feature, row)
    if feature.categorical:
        return feature.template.format(value=value)
    value = float(value)
    if value == 0 and feature.zero is not None:
        return feature.zero
    if value < 0 and feature.negative is not None:
        return _count(-value, feature.negative)
    if round(value) == 1 and feature.one is not None:
        return feature.one
    if name == names.TXN_OVERDUE_RATIO:
        return f"{_times(value)} since the last order"
    text = _count(value, feature.template)
    if name == names.TXN_DAYS_SINCE_LAST_ORDER and row is not None:
        gap = row.get(names.TXN_GAP_MEAN_DAYS)
        if not _is_missing(gap) and gap > 0 and value / gap >= OVERDUE_RATIO:
            text += f", {_times(value / gap)}"
    return text


def catalogue_markdown(config: FeaturesConfig | None = None) -> str:
    """The catalogue as a Markdown document: one table per family."""
    config = config or FeaturesConfig()
    entries = catalogue(config)
    titles = {
        "transactions": (
            "Transactions: recency, frequency, spend, gaps, returns, categories, seasonality"
        ),
        "btyd": "Buy-till-you-die summary (inputs of BG/NBD and Gamma-Gamma)",
        "contacts": "Contacts: channels, managers, complaints, conversion",
        "customers": "Customer attributes",
    }
    lines = [
        "# Feature catalogue",
        "",
        (
            "Generated by `keyaccounts features` from `features/catalogue.py` for the windows "
            "and channels in `configs/features.yaml`. Every feature of a customer at a cutoff "
            "date uses only data dated on or before that cutoff. Day counts are calendar days; "
            "spend is in the currency of the transactions, net of returns unless stated."
        ),
        "",
        (
            f"Windows: {', '.join(f'{w} days' for w in config.windows_days)}; "
            f"label horizon: {config.horizon_days} days."
        ),
        "",
    ]
    for family in FAMILIES:
        rows = [f for f in entries.values() if f.family == family]
        lines += [
            f"## {titles[family]}",
            "",
            "| feature | meaning | rendered as |",
            "|---|---|---|",
        ]
        for f in rows:
            shown = f.template.replace("{s}", "(s)").replace("|", "\\|")
            lines.append(f"| `{f.name}` | {f.description} | {shown} |")
        lines.append("")
    return "\n".join(lines)
