"""Labels over (T, T+H] on the frame of conftest.py, T = 2024-06-30.

`build_labels` is a wrapper over `labels_at`, which the training set uses, so these tests
check the pipeline's labels; the property tests are in test_builder.py.
"""

import pandas as pd

import features
from tests.features.conftest import AS_OF, transactions


def test_future_spend_and_churn():
    labels = features.build_labels(transactions(), AS_OF, 60, ["C001", "007"])
    assert labels["customer_id"].tolist() == ["C001", "007"]
    assert labels["future_spend"].tolist() == [999.0, 0.0]  # C001 orders 999 on 08-01
    assert labels["churned"].tolist() == [False, True]


def test_window_is_open_at_the_cutoff_and_closed_at_the_horizon():
    tx = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C", "D", "F", "F", "G", "H"],
            "order_date": pd.to_datetime(
                [
                    "2024-06-30",
                    "2024-07-30",
                    "2024-07-31",
                    "2024-07-10",
                    "2024-07-05",
                    "2024-07-15",
                    "2024-07-15",
                    "2024-07-30 23:59",
                    "2024-06-30 23:00",
                ],
                format="ISO8601",
            ),
            "amount": [5.0, 7.0, 11.0, -4.0, 0.0, 10.0, -25.0, 1.0, 2.0],
        }
    )
    ids = ["A", "B", "C", "D", "E", "F", "G", "H"]
    labels = features.build_labels(tx, "2024-06-30", 30, ids).set_index("customer_id")
    assert labels.loc["A", "future_spend"] == 7  # the cutoff day itself is not in the window
    assert labels.loc["B", "future_spend"] == 0 and labels.loc["B", "churned"]  # day T+H+1
    assert labels.loc["C", "future_spend"] == -4 and labels.loc["C", "churned"]  # a return only
    assert labels.loc["D", "churned"] and labels.loc["E", "churned"]  # zero amount, nothing
    assert not labels.loc["A", "churned"]
    # an order and a larger return on one day: the customer did order, the spend is negative
    assert labels.loc["F", "future_spend"] == -15 and not labels.loc["F", "churned"]
    # dates are days: a time on the last day counts, a time on the cutoff day does not
    assert labels.loc["G", "future_spend"] == 1 and not labels.loc["G", "churned"]
    assert labels.loc["H", "future_spend"] == 0 and labels.loc["H", "churned"]


def test_training_set_labels_match_build_labels(tx_only, config):
    config = config.model_copy(update={"horizon_days": 60})
    training = features.build_training_set(tx_only, [AS_OF], config)
    expected = features.build_labels(tx_only.transactions, AS_OF, 60, training["customer_id"])
    assert training["future_spend"].tolist() == expected["future_spend"].tolist()
    assert training["churned"].tolist() == expected["churned"].tolist()
