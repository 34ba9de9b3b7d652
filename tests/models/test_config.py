"""models.config: typed model settings refuse what would only fail at the end of a run."""

import pydantic
import pytest

from models._lightgbm import LIGHTGBM_PARAMS
from models.config import GateConfig, LightGBMParams, ModelConfig
from models.value import ValueModel


def test_a_misspelt_gate_metric_is_refused_at_load_time():
    with pytest.raises(pydantic.ValidationError, match="normalized_gini"):
        ModelConfig.model_validate({"gate": {"value_metric": "normalised_gini"}})
    with pytest.raises(pydantic.ValidationError, match="pr_auc"):
        GateConfig(churn_metric="normalized_gini")  # a value metric is not a churn metric
    assert GateConfig(value_metric="top10_capture", churn_metric="brier").churn_metric == "brier"
    # churn is judged on the active base by default; everyone's pr_auc stays a choice
    assert GateConfig().churn_metric == "pr_auc_active"
    assert GateConfig(churn_metric="pr_auc").churn_metric == "pr_auc"


def test_lightgbm_defaults_are_declared_once():
    # the config's defaults and an estimator built without arguments train the same model
    estimator = ValueModel().get_params()
    for name, value in LightGBMParams().model_dump().items():
        assert value == LIGHTGBM_PARAMS[name][1] == estimator[name], name


def test_fold_step_is_a_duration_and_reads_the_old_months_key():
    from models.config import BacktestConfig

    assert BacktestConfig().fold_step == "auto"  # models.backtest.plan_folds
    assert BacktestConfig(fold_step="2w").fold_step == "2w"
    old = ModelConfig.model_validate({"backtest": {"fold_step_months": 1}})
    assert old.backtest.fold_step == "1m"
    with pytest.raises(pydantic.ValidationError, match="keep only fold_step"):
        BacktestConfig.model_validate({"fold_step_months": 1, "fold_step": "1m"})
    for bad in ("3", "0m", "3 months", "1y", "Auto"):
        with pytest.raises(pydantic.ValidationError, match="fold_step"):
            BacktestConfig(fold_step=bad)


def test_early_stopping_and_auto_min_child_samples_are_the_defaults():
    params = LightGBMParams()
    assert (params.early_stopping_rounds, params.min_child_samples) == (50, "auto")
    assert LightGBMParams(early_stopping_rounds=None, min_child_samples=40).min_child_samples == 40
    for bad in ({"early_stopping_rounds": 0}, {"min_child_samples": 0},
                {"min_child_samples": "lots"}):
        with pytest.raises(pydantic.ValidationError):
            LightGBMParams(**bad)


def test_any_lightgbm_parameter_reaches_its_model_only():
    from models.training import make_churn_model, make_value_model

    config = ModelConfig.model_validate({"value": {"params": {"max_depth": 6, "reg_alpha": 0.5}}})
    assert make_value_model(config).lgbm_params == {"max_depth": 6, "reg_alpha": 0.5}
    assert make_churn_model(config).lgbm_params is None  # churn.params are the churn model's
    assert make_value_model(ModelConfig()).lgbm_params is None


def test_a_misspelt_or_out_of_range_lightgbm_parameter_is_refused_at_load_time():
    with pytest.raises(pydantic.ValidationError, match="did you mean max_depth"):
        ModelConfig.model_validate({"churn": {"params": {"max_dept": 6}}})
    with pytest.raises(pydantic.ValidationError, match=r"Check failed: \(lambda_l1\) >= \(0.0\)"):
        ModelConfig.model_validate({"value": {"params": {"reg_alpha": -1.0}}})
