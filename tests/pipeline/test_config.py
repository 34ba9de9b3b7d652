"""The configuration loader: typed sections, clear errors naming file, key and fix."""

import shutil
from pathlib import Path

import pydantic
import pytest

from pipeline.config import load_config_file, load_settings
from pipeline.config.paths import PipelineConfig
from pipeline.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "configs"
    shutil.copytree(REPO_CONFIGS, target)
    return target


def test_repository_configs_load(config_dir: Path) -> None:
    settings = load_settings(config_dir)
    assert settings.root == config_dir.parent
    assert settings.data.transactions.path.name.startswith("transactions")
    assert settings.path(Path("data")) == config_dir.parent / "data"
    assert settings.path(Path("/abs/x")) == Path("/abs/x")


def test_unknown_key_names_file_key_and_allowed_keys(config_dir: Path) -> None:
    path = config_dir / "pipeline.yaml"
    path.write_text(path.read_text() + "\nbogus_key: 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key 'bogus_key'" in message
    allowed = message.split("allowed keys here: ", 1)[1]
    assert {"paths", "tracking"} <= set(allowed.split(", "))


def test_nested_unknown_key_lists_allowed_keys_of_its_section(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("tracking:\n  experimnt: x\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path, PipelineConfig)
    assert "unknown key 'tracking.experimnt'" in str(info.value)
    assert "experiment" in str(info.value)


def test_wrong_value_names_key_and_value(config_dir: Path) -> None:
    path = config_dir / "features.yaml"
    path.write_text(path.read_text().replace("horizon_days: 365", "horizon_days: -5"))
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir)
    assert "features.yaml" in str(info.value)
    assert "horizon_days" in str(info.value)
    assert "-5" in str(info.value)


def test_missing_file_and_folder_are_clear(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "model.yaml").unlink()
    with pytest.raises(ConfigError, match="model.yaml: configuration file not found"):
        load_settings(config_dir)
    with pytest.raises(ConfigError, match="configuration folder not found"):
        load_settings(tmp_path / "nowhere")


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("paths: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config_file(path, PipelineConfig)


def test_settings_are_immutable(config_dir: Path) -> None:
    settings = load_settings(config_dir)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        settings.pipeline.tracking.experiment = "other"  # type: ignore[misc]
