"""Typed configuration: the YAML files in configs/ loaded into pydantic models.

Each file maps to one model; `load_settings` reads them all once and stages receive the
resulting objects, never dicts. A wrong key or value stops with a `ConfigError` naming the
file, the key and what is allowed.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from features.config import FeaturesConfig
from models.config import ModelConfig
from pipeline.config.data import DataConfig, SourceConfig
from pipeline.config.generate import GenerateConfig
from pipeline.config.paths import PathsConfig, PipelineConfig, TrackingConfig
from pipeline.config.tiers import TiersConfig
from pipeline.errors import ConfigError

__all__ = [
    "CONFIG_FILES",
    "DataConfig",
    "FeaturesConfig",
    "GenerateConfig",
    "ModelConfig",
    "PathsConfig",
    "PipelineConfig",
    "Settings",
    "SourceConfig",
    "TiersConfig",
    "TrackingConfig",
    "load_config_file",
    "load_settings",
]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Settings:
    """Every configuration file of a run, validated."""

    root: Path
    pipeline: PipelineConfig
    generate: GenerateConfig
    data: DataConfig
    features: FeaturesConfig
    model: ModelConfig
    tiers: TiersConfig

    def path(self, relative: Path) -> Path:
        """Resolve a configured path against the project root."""
        return relative if relative.is_absolute() else self.root / relative


CONFIG_FILES: dict[str, type[BaseModel]] = {
    "pipeline": PipelineConfig,
    "generate": GenerateConfig,
    "data": DataConfig,
    "features": FeaturesConfig,
    "model": ModelConfig,
    "tiers": TiersConfig,
}


def _describe_error(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{key}'"
    if kind == "missing":
        return f"missing required key '{key}'"
    detail = error["msg"]
    given = error.get("input")
    if given is not None and not isinstance(given, (dict, list)):
        detail = f"{detail} (got {given!r})"
    return f"key '{key}': {detail}"


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Keys allowed at the parent of `loc`, for messages about unknown keys."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return []
        annotation = current.model_fields[part].annotation
        candidates = [a for a in getattr(annotation, "__args__", (annotation,))]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return sorted(current.model_fields) if current is not None else []


def load_config_file(path: Path, model: type[M]) -> M:
    """Read one YAML file into `model`, raising `ConfigError` with file, key and fix."""
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found; create it or pass --config-dir")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = _describe_error(error)
            if error["type"] == "extra_forbidden":
                allowed = _allowed_keys(model, error["loc"])
                if allowed:
                    message += f"; allowed keys here: {', '.join(allowed)}"
            problems.append(message)
        raise ConfigError(f"{path}: " + "; ".join(problems)) from exc


def load_settings(config_dir: Path, root: Path | None = None) -> Settings:
    """Load every file of `config_dir` (pipeline.yaml, data.yaml, ...) into `Settings`.

    `root` is the folder relative paths are resolved against: the project root, which by
    default is the parent of `config_dir`.
    """
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: configuration folder not found; pass --config-dir")
    sections = {
        name: load_config_file(config_dir / f"{name}.yaml", model)
        for name, model in CONFIG_FILES.items()
    }
    return Settings(root=Path(root) if root else config_dir.resolve().parent, **sections)
