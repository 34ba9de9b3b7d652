"""scikit-learn's estimator checks over every estimator in models/, expected failures declared.

`parametrize_with_checks` runs each check of scikit-learn 1.9 on each estimator below; a
check listed in `expected_failures` for it is an xfail with the reason given there, and
strict: a listed check that passes fails the test, so the list cannot go stale. Most
declared failures have one cause: the estimator reads its inputs by name from a features
DataFrame (the baselines' rules, the BTYD feature step) or needs exactly the columns of a
purchase history (the BTYD models), and the checks pass arrays of random numbers.

The LightGBM models run with n_jobs=1 and 10 trees; the whole module takes a few seconds.
`test_every_estimator_of_models_is_checked` fails when a new estimator class is not listed.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import models
from models.baselines import (
    AvgSpendRetentionValue,
    BTYDChurn,
    BTYDTransformer,
    BTYDValue,
    LastPeriodChurn,
    LastPeriodValue,
    PNBDChurn,
    PNBDValue,
    RFMChurn,
    RFMValue,
)
from models.btyd import BetaGeoModel, BTYDFeatures, GammaGammaModel, ParetoNBDModel
from models.churn import ChurnModel
from models.selection import BaselineChurn, BaselineValue, Blend
from models.uplift import DRLearner
from models.value import ValueModel

FAST = {"n_estimators": 10, "n_jobs": 1}

# the checks that fit on (or predict for) a plain array: they fail for every estimator
# that reads its inputs by name
ON_ARRAYS = (
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters",
    "check_dtype_object", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimators_dtypes", "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature",
    "check_fit2d_1sample", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
)
ON_ARRAYS_REGRESSOR = (
    "check_estimator_sparse_tag", "check_regressor_data_not_an_array", "check_regressors_int",
    "check_regressors_no_decision_function", "check_regressors_train", "check_supervised_y_2d",
)
ON_ARRAYS_CLASSIFIER = (
    "check_classifier_data_not_an_array", "check_classifiers_classes",
    "check_classifiers_one_label", "check_classifiers_regression_target",
    "check_classifiers_train", "check_estimator_sparse_tag", "check_supervised_y_2d",
)
ON_ARRAYS_TRANSFORMER = (
    "check_estimator_sparse_tag", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
)

NAMED = "reads its inputs by name from a features DataFrame; the checks pass arrays"
BTYD_NAMED = "reads the btyd_* summary columns by name from a DataFrame; the checks pass arrays"
RULE = ("wraps a fitted baseline that reads named feature columns (txn_spend_{w}d, ...); "
        "the checks' arrays have none")
BLEND = ("passes X unchecked to its fitted members, which validate it: no n_features_in_, "
         "no rejection of its own")
WIDTH = "needs exactly the summary columns (x, t_x, T); the checks' arrays have other widths"
GG_WIDTH = "needs exactly the columns (x, m); the checks' arrays have other widths"
HISTORY = ("needs a purchase history (x >= 0, 0 <= t_x <= T); the checks' random columns "
           "are not one")
ZERO_WEIGHTS = "LightGBM fits on all-zero sample weights without an error"
CLIPPED = ("spend >= 0: negative targets count as 0, so R^2 on the checks' centred y is poor "
           "(10 trees)")
HURDLE = "the hurdle model needs buyers and non-buyers (y > 0 and y <= 0); the check's y > 0"

BG_WIDTH = (
    "check_all_zero_sample_weights_error", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_overwrite_params",
    "check_fit2d_1feature", "check_fit2d_1sample", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_n_features_in", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
    "check_sample_weight_equivalence_on_dense_data", "check_sample_weights_not_an_array",
    "check_sample_weights_not_overwritten", "check_sample_weights_pandas_series",
    "check_sample_weights_shape",
)
BG_HISTORY = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_estimators_nan_inf",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_predict1d",
    "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_pipeline_consistency", "check_sample_weights_list",
)
GG_CHECKS = (
    "check_all_zero_sample_weights_error", "check_dict_unchanged",
    "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature",
    "check_fit2d_1sample", "check_fit2d_predict1d", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weights_list", "check_sample_weights_pandas_series",
)
# every check of DRLearner but the few that never fit: fit(X, y, treatment) needs the
# treatment of each row, which the checks do not pass
DR_CHECKS = ON_ARRAYS + ON_ARRAYS_REGRESSOR + (
    "check_estimators_nan_inf", "check_fit1d", "check_requires_y_none",
    "check_supervised_y_no_nan",
)
TREATMENT = "fit(X, y, treatment) needs each row's treatment (had a manager); the checks pass none"
HURDLE_CHECKS = (
    "check_estimators_dtypes", "check_fit2d_1feature", "check_fit2d_1sample",
    "check_sample_weights_not_an_array", "check_sample_weights_not_overwritten",
    "check_sample_weights_pandas_series", "check_sample_weights_shape",
)
BLEND_CHECKS = (
    "check_complex_data", "check_dtype_object", "check_estimator_sparse_tag",
    "check_estimators_empty_data_messages", "check_fit1d", "check_fit2d_predict1d",
    "check_n_features_in", "check_n_features_in_after_fitting",
)


def _tiny() -> pd.DataFrame:
    """Five customers at one cutoff with the last_period rule's columns."""
    return pd.DataFrame({
        "txn_spend_365d": [400.0, 50.0, 150.0, 0.0, 1500.0],
        "txn_orders_365d": [4.0, 1.0, 2.0, 0.0, 7.0],
    })


def _frozen(name: str, kind: str):
    """A fitted last_period baseline that clone() keeps fitted (what the wrappers take)."""
    model = LastPeriodValue() if kind == "value" else LastPeriodChurn()
    return FrozenEstimator(model.fit(_tiny(), [300.0, 0.0, 100.0, 0.0, 1800.0]
                                     if kind == "value" else [0, 1, 0, 1, 0]))


def _members(kind: str) -> list:
    """One fitted member that takes any array (the blend's own code is what is checked)."""
    X = np.zeros((4, 3))
    if kind == "value":
        return [FrozenEstimator(DummyRegressor().fit(X, [1.0, 2.0, 3.0, 4.0]))]
    return [FrozenEstimator(DummyClassifier().fit(X, [0, 1, 0, 1]))]


ESTIMATORS = [
    ValueModel(**FAST),
    ValueModel(objective="hurdle", **FAST),
    ChurnModel(**FAST),
    BetaGeoModel(),
    ParetoNBDModel(),
    GammaGammaModel(),
    BTYDFeatures(),
    BTYDTransformer(),
    LastPeriodValue(),
    LastPeriodChurn(),
    RFMValue(),
    RFMChurn(),
    AvgSpendRetentionValue(),
    BTYDValue(),
    BTYDChurn(),
    PNBDValue(),
    PNBDChurn(),
    BaselineValue(_frozen("last_period", "value"), "last_period"),
    BaselineChurn(_frozen("last_period", "churn"), "last_period"),
    Blend(_members("value"), [1.0]),
    Blend(_members("churn"), [1.0], kind="churn"),
    DRLearner(n_bootstrap=0, **FAST),
]


def expected_failures(estimator) -> dict[str, str]:
    """check name -> why it fails, for `estimator`."""
    def each(checks, reason):
        return dict.fromkeys(checks, reason)

    if isinstance(estimator, DRLearner):
        return each(DR_CHECKS, TREATMENT)
    if isinstance(estimator, ValueModel):
        out = {"check_all_zero_sample_weights_error": ZERO_WEIGHTS,
               "check_regressors_train": CLIPPED}
        return out | (each(HURDLE_CHECKS, HURDLE) if estimator.objective == "hurdle" else {})
    if isinstance(estimator, ChurnModel):
        return {
            "check_classifiers_classes": "labels must be 0/1, not strings",
            "check_classifiers_one_label": "always has classes 0 and 1, even fitted on one",
            "check_classifiers_regression_target":
                "rejects a continuous y in its own words, not 'Unknown label type'",
        }
    if isinstance(estimator, (BetaGeoModel, ParetoNBDModel)):
        return each(BG_WIDTH, WIDTH) | each(BG_HISTORY, HISTORY)
    if isinstance(estimator, GammaGammaModel):
        return each(GG_CHECKS, GG_WIDTH)
    if isinstance(estimator, (BTYDFeatures, BTYDTransformer)):
        return each(ON_ARRAYS + ON_ARRAYS_TRANSFORMER, BTYD_NAMED)
    if isinstance(estimator, (BaselineValue, BaselineChurn)):
        return each(ON_ARRAYS, RULE)
    if isinstance(estimator, Blend):
        extra = ("check_estimator_sparse_array", "check_estimator_sparse_matrix")
        return each(BLEND_CHECKS + (extra if estimator.kind == "churn" else ()), BLEND)
    if isinstance(estimator, (LastPeriodChurn, RFMChurn, BTYDChurn)):
        return each(ON_ARRAYS + ON_ARRAYS_CLASSIFIER, NAMED)
    if isinstance(estimator, (LastPeriodValue, RFMValue, AvgSpendRetentionValue, BTYDValue)):
        return each(ON_ARRAYS + ON_ARRAYS_REGRESSOR, NAMED)
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures,
                         xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    if getattr(check, "func", check).__name__ not in expected_failures(estimator):
        check(estimator)
        return
    try:
        check(estimator)
    except Exception as error:  # noqa: BLE001 - an expected failure (xfail): re-raised short
        # pytest takes about 1 s to format the traceback through estimator_checks.py of each
        # xfail (500 of them); its one line is all the xfail report shows anyway
        raise AssertionError(f"{type(error).__name__}: {error}"[:300]) from None


def _estimator_classes() -> set[type]:
    """Every estimator class a models/ module exports (in its __all__)."""
    found = set()
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"models.{info.name}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found.add(obj)
    return found


def test_every_estimator_of_models_is_checked():
    checked = {type(e) for e in ESTIMATORS}
    missing = sorted(c.__qualname__ for c in _estimator_classes() - checked)
    assert not missing, f"add {missing} to ESTIMATORS in tests/models/test_estimators.py"


def test_every_expected_failure_has_a_reason():
    for estimator in ESTIMATORS:
        for check, reason in expected_failures(estimator).items():
            assert check.startswith("check_") and len(reason) > 20, (estimator, check)
