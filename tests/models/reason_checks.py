"""What a manager would call a wrong reason, written independently of models.reasons' rules:
used on hand-built cases (tests/models/test_reasons.py) and on every explained row of the
demo (tests/integration/test_demo_pipeline.py)."""

import re

from features.catalogue import RECENT_DAYS
from models.reasons import LABELS

# a model's estimate quoted as a reason (it would differ from the row's own numbers), or jargon
MODEL_OR_JARGON = re.compile(
    r"model|BG/NBD|Gamma|expected|chance|probabilit|concentration|trend [+-]|= ", re.I)
# bad news: never a reason for "Value up"
BAD_NEWS = (
    re.compile(r"^never "), re.compile(r"^no order"), re.compile(r"times its usual gap"),
    re.compile(r"(?<!no )complaint"), re.compile(r"^nothing (spent|bought)"),
    re.compile(r"no dedicated manager"), re.compile(r"returns exceed"),
    re.compile(r"^spend down"),
)
# good news: never a reason for "Churn risk up"
GOOD_NEWS = (
    re.compile(r"a dedicated manager is in touch"), re.compile(r"^last order today"),
    re.compile(r"well within its usual gap"), re.compile(r"^no complaint"),
    re.compile(r"^spend up"),
)
# day counts that read as stale beyond RECENT_DAYS
STALE = re.compile(r"^last (contact|order|manager visit) ([\d,]+) days? ago")



def sections(reasons: str) -> dict[str, list[str]]:
    """A reasons text ("Value up: a; b. Churn risk up: c.") as {label: [phrase, ...]}."""
    labels = "|".join(map(re.escape, LABELS.values()))
    found = re.findall(rf"({labels}): (.*?)\.(?= (?:{labels}):|$)", reasons)
    return {label: text.split("; ") for label, text in found}


def problems(reasons: str, churn_probability: float, min_churn_probability: float) -> list[str]:
    """Every way `reasons` contradicts itself, its row or a manager's reading; [] when fine."""
    out = []
    parsed = sections(reasons)
    if reasons and " ".join(f"{k}: {'; '.join(v)}." for k, v in parsed.items()) != reasons:
        out.append(f"does not parse into sections: {reasons!r}")
    for label, phrases in parsed.items():
        for text in phrases:
            if MODEL_OR_JARGON.search(text):
                out.append(f"{label}: quotes a model or jargon: {text!r}")
            stale = STALE.match(text)
            if label == LABELS["value_up"]:
                if any(p.search(text) for p in BAD_NEWS):
                    out.append(f"{label}: bad news as good: {text!r}")
                if stale and float(stale.group(2).replace(",", "")) > RECENT_DAYS:
                    out.append(f"{label}: a stale date as good: {text!r}")
            if label != LABELS["value_up"] and any(p.search(text) for p in GOOD_NEWS):
                out.append(f"{label}: good news as bad: {text!r}")
    if LABELS["churn_up"] in parsed and churn_probability < min_churn_probability:
        out.append(f"churn section at a churn probability of {churn_probability:.1%}")
    return out
