"""The score stage's one model loader (pipeline.models_io) and its one horizon check
(pipeline.scoring.check_horizon), on the artifacts source; the champion source is in
test_tracking.py and test_tracking_champion.py."""

import json

import joblib
import pytest

from models.training import FittedModels
from pipeline import models_io, scoring
from pipeline.errors import ConfigError, DataError
from pipeline.files import FITTED_MODELS, MODEL_INFO


def test_check_horizon_names_the_model_both_horizons_and_both_fixes():
    with pytest.raises(ConfigError) as error:
        scoring.check_horizon("180", 365, "champion tv v1", "retrain at 365")
    assert str(error.value) == (
        "champion tv v1 was trained at horizon 180 days but features.horizon_days is 365: "
        "set features.horizon_days back to 180 in configs/features.yaml, or retrain at 365")
    scoring.check_horizon("180", 180, "champion tv v1", "retrain")  # a tag is a string
    scoring.check_horizon(180, 180, "fitted_models.joblib", "retrain")
    with pytest.raises(ConfigError):
        scoring.check_horizon(181, 180, "fitted_models.joblib", "retrain")  # one day off


@pytest.fixture
def artifacts(tmp_path):
    """An artifacts folder holding models trained at horizon 180 and their model_info.json."""
    fitted = FittedModels(None, None, ["spend"], "tweedie", 180, False)
    joblib.dump(fitted, tmp_path / FITTED_MODELS)
    info = {"run_id": "r1", "models": {"value": {"version": "3"}, "churn": {"version": "4"}}}
    (tmp_path / MODEL_INFO).write_text(json.dumps(info))
    return tmp_path


def test_artifacts_load_with_their_stamp_at_their_own_horizon(artifacts):
    fitted, stamp = models_io.load_artifacts(artifacts, 180)
    assert fitted.horizon_days == 180 and fitted.features == ["spend"]
    assert stamp == scoring.make_stamp("3", "r1", "4", "r1")


def test_artifacts_of_another_horizon_are_a_config_error_naming_the_fixes(artifacts):
    with pytest.raises(ConfigError) as error:
        models_io.load_artifacts(artifacts, 365)
    message = str(error.value)
    assert "\n" not in message
    assert message == (
        f"{artifacts / FITTED_MODELS} was trained at horizon 180 days but "
        "features.horizon_days is 365: set features.horizon_days back to 180 in "
        "configs/features.yaml, or re-run `keyaccounts train` (or dvc repro)")


def test_missing_artifacts_say_which_stage_writes_them(tmp_path):
    with pytest.raises(DataError, match=r"fitted_models.joblib not found: run `keyaccounts "
                                        r"train` first"):
        models_io.load_artifacts(tmp_path, 180)
