"""The champion gate on its edges: the margin applies against the champion as against the
baseline, and a champion without a finite value is no champion."""

import math

from pipeline import tracking


def test_the_margin_applies_against_the_champion_too():
    # binary fractions: 0.75 - 0.625 is exactly the margin
    held = tracking.gate("normalized_gini", 0.75, 0.25, "rfm", 0.625, min_margin=0.125)
    assert not held.promote and "current champion" in held.reason
    assert tracking.gate("normalized_gini", 0.75, 0.25, "rfm", 0.5, min_margin=0.125).promote


def test_a_champion_without_a_finite_value_is_ignored():
    decision = tracking.gate("pr_auc", 0.6, 0.5, "rfm", math.nan)
    assert decision.promote and "no champion yet" in decision.reason
