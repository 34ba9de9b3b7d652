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


def test_lightgbm_defaults_are_declared_once():
    # the config's defaults and an estimator built without arguments train the same model
    estimator = ValueModel().get_params()
    for name, value in LightGBMParams().model_dump().items():
        assert value == LIGHTGBM_PARAMS[name][1] == estimator[name], name
