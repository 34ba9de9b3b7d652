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


# --- data.yaml: date formats and column maps are checked on load ------------------------


def _data_yaml(config_dir: Path, transactions: dict, **rest) -> Path:
    import yaml

    path = config_dir / "data.yaml"
    path.write_text(yaml.safe_dump({"transactions": {"path": "tx.csv", **transactions}, **rest}))
    return path


@pytest.mark.parametrize(
    ("date_format", "said"),
    [
        ("%Q-%Z", "%Q is not a strptime date code"),
        ("%-d.%m.%Y", "%- is not a strptime date code"),
        ("YYYY-MM-DD", "no strptime code"),
        ("%d.%m", "no year code"),
        ("%Y-%m-%d %", "'%' at the end"),
        ("%G-%m-%d", "ISO week directive '%V'"),  # pandas refuses %G without %V
    ],
)
def test_unusable_date_format_names_file_key_and_what_is_allowed(
    config_dir: Path, date_format: str, said: str
) -> None:
    path = _data_yaml(config_dir, {"date_format": date_format})
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir)
    message = str(info.value)
    assert message.startswith(f"{path}: key 'transactions.date_format': ")
    assert said in message
    assert '"%d.%m.%Y"' in message and "%Y year" in message  # what is allowed
    assert "\n" not in message


@pytest.mark.parametrize(
    "date_format", ["%d.%m.%Y", "%Y%m%d", "%d/%m/%y %H:%M", "%Y-%m-%dT%H:%M:%S%z", "ISO8601",
                    "mixed"]
)
def test_usable_date_formats_load(config_dir: Path, date_format: str) -> None:
    _data_yaml(config_dir, {"date_format": date_format})
    assert load_settings(config_dir).data.transactions.date_format == date_format


def test_allowed_date_codes_are_those_pandas_accepts() -> None:
    """DATE_CODES must follow pandas: every code listed parses, an unlisted one is refused."""
    import pandas as pd

    from pipeline.config.data import DATE_CODES

    needs_more = {"G": "%G-%V-%u", "V": "%G-%V-%u", "U": "%Y-%U-%w", "W": "%Y-%W-%w"}
    for code in DATE_CODES:
        pd.to_datetime(pd.Series(["x"]), format=needs_more.get(code, f"%{code}"), errors="coerce")
    for code in "QeEkl-":
        with pytest.raises(ValueError, match="bad directive"):
            pd.to_datetime(pd.Series(["x"]), format=f"%{code}", errors="coerce")


def test_two_contract_columns_from_one_source_column_are_refused(config_dir: Path) -> None:
    columns = {"customer_id": "Client No", "order_id": "Client No", "amount": "Net Value"}
    path = _data_yaml(config_dir, {"columns": columns})
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir)
    message = str(info.value)
    assert message.startswith(f"{path}: key 'transactions.columns': ")
    assert "'Client No' is mapped to customer_id and order_id" in message
    contacts = {"path": "c.csv", "columns": {"channel": "Art", "outcome": "Art"}}
    _data_yaml(config_dir, {}, contacts=contacts)
    with pytest.raises(ConfigError, match="contacts.columns.*'Art' is mapped to channel and outc"):
        load_settings(config_dir)


def test_same_decimal_and_thousands_separator_is_refused(config_dir: Path) -> None:
    _data_yaml(config_dir, {"csv": {"decimal": ",", "thousands": ","}})
    with pytest.raises(ConfigError, match="transactions.csv.*decimal and thousands are both ','"):
        load_settings(config_dir)


@pytest.mark.parametrize(("share", "ok"), [(0.5, True), (1, True), (0, False), (1.5, False)])
def test_max_unparseable_share_is_a_share(config_dir: Path, share: float, ok: bool) -> None:
    _data_yaml(config_dir, {}, max_unparseable_share=share)
    if ok:
        assert load_settings(config_dir).data.max_unparseable_share == share
    else:
        with pytest.raises(ConfigError, match="max_unparseable_share"):
            load_settings(config_dir)


def test_every_config_model_has_the_one_strict_base() -> None:
    import importlib
    import inspect

    from features.config import StrictModel

    modules = ["features.config", "models.config", "models.tier_policy",
               *(f"pipeline.config.{m}" for m in ("data", "generate", "guard", "paths", "tiers"))]
    found = 0
    for name in modules:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, pydantic.BaseModel) and cls.__module__ == name:
                found += 1
                assert cls is StrictModel or StrictModel in cls.__mro__, cls
                assert cls.model_config["frozen"], cls
                # only the LightGBM parameters take other keys, each checked by LightGBM
                extra = "allow" if cls.__name__ == "LightGBMParams" else "forbid"
                assert cls.model_config["extra"] == extra, cls
    assert found >= 20
