"""Plot data by hand on four customers, and the figures written as PNG files."""

import numpy as np
import pandas as pd
import pytest

from pipeline import plots

# actual spend 10, 0, 5, 5 (total 20); model "a" ranks customers 0, 2, 3, 1
PREDICTIONS = pd.DataFrame({
    "future_spend": [10.0, 0.0, 5.0, 5.0],
    "churned": [0, 1, 0, 1],
    "a_value": [4.0, 1.0, 3.0, 2.0],
    "b_value": [1.0, 4.0, 3.0, 2.0],
    "a_churn": [0.05, 0.95, 0.15, 0.85],
})


def test_models_with_finds_the_model_columns():
    assert plots.models_with(PREDICTIONS, "value") == ["a", "b"]
    assert plots.models_with(PREDICTIONS, "churn") == ["a"]


def test_gain_table_is_the_cumulative_share_of_actual_spend():
    table = plots.gain_table(PREDICTIONS, points=4)
    a = table[table["model"] == "a"]["share_spend"].to_numpy()
    b = table[table["model"] == "b"]["share_spend"].to_numpy()
    np.testing.assert_allclose(a, [0.5, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(b, [0.0, 0.25, 0.5, 1.0])  # b ranks customer 1 (0 spend) first


def test_calibration_table_bins_predictions_and_averages_outcomes():
    table = plots.calibration_table(PREDICTIONS, bins=2)
    assert table["bin"].tolist() == [0, 1]
    np.testing.assert_allclose(table["predicted"], [0.10, 0.90])
    np.testing.assert_allclose(table["observed"], [0.0, 1.0])
    assert table["customers"].tolist() == [2, 2]


def test_decile_table_ranks_highest_prediction_first():
    frame = pd.DataFrame({"future_spend": np.arange(20.0), "m_value": np.arange(20.0)})
    table = plots.decile_table(frame)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["actual"].iloc[0] == pytest.approx(18.5)  # the two largest: 19 and 18
    assert table["customers"].tolist() == [2] * 10


def test_figures_are_written_as_png(tmp_path):
    written = [
        plots.plot_gain(plots.gain_table(PREDICTIONS), tmp_path / "gain.png"),
        plots.plot_calibration(plots.calibration_table(PREDICTIONS), tmp_path / "cal.png"),
        plots.plot_deciles(plots.decile_table(PREDICTIONS), tmp_path / "sub" / "dec.png", "a"),
        plots.plot_importance(pd.Series({"x": 3.0, "y": 1.0}, name="gain"), tmp_path / "imp.png"),
    ]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
