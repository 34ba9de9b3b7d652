"""Presets of `keyaccounts generate --preset NAME`: customer bases of other shapes than the demo.

A preset is a set of overrides of configs/generate.yaml (applied on top of the file; the
command's --customers / --seed / --defects on top of the preset), defined once here, plus
the settings of the other configs that go with the data it writes: `features` (overrides
of configs/features.yaml, e.g. the consumer base's 91-day horizon) and `data` (tables of
configs/data.yaml to set to null because the preset does not write them). `generate` never
edits configs/: it logs those settings in one line, and benchmarks/bench_quality.py applies
them to its scratch projects from here, so the data and its settings cannot drift apart.

How each differs from the demo, and why a real base looks like that:

- b2b: nothing, configs/generate.yaml as is (a distributor's firms over 4 years, managers).
- consumer: 25,000 customers, transactions only, 1 year of history, 91-day horizon, 0.25
  orders a week of 40 (demo 0.15 of 250), 8% returns, 6.7x the dropout hazard, no neglect
  effect, almost no managers. A web shop's order export: many small frequent buyers who
  lapse quietly, no CRM or customer master behind it, a quarter as the planning horizon.
  (Rarer buyers, 3 orders in 18 months, are the CDNOW sample's shape: benchmarks/cdnow.py.)
- short_history: 13 months of history (2025-10-01 to 2026-10-31) with the 365-day horizon.
  A new ERP a year ago, or a young business: the history barely covers one horizon.
- seasonal: one yearly wave of amplitude 0.8 peaking mid-November, 42% of spend in Q4 and
  7% in Q2 (the demo's two waves of 0.25 give each quarter about a quarter). Suppliers of
  retail stock, gifts, heating or garden goods: one quarter makes the year.
- new_customers: initial_share 0.2 (demo 0.55), 80% of the customers arrive during the 4
  years. A growing business: much of the base has a short, still uninformative history.
- manager_effect (and manager_effect_weak, manager_effect_none): a heterogeneous manager
  effect (behaviour.manager_uplift, `ManagerUpliftConfig`): large where a firm's wallet share
  can move (large firms), near zero for small loyal buyers, negative for the 15% dissatisfied
  accounts whose manager contacts turn into complaints; managers first given by revenue, then
  re-assigned at the firm's yearly review of last year's revenue (with noise and a bonus for
  continuity), so accounts gain and lose managers; plus the truth with and without a
  manager at end_date (manager_truth.parquet). Strength 1, 0.5 (weak) and 0 (none: the
  manager changes nothing). The demo's managers help every account alike and are given
  to the top-value accounts only. A real firm: "where does a manager make the difference?"
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from pipeline.config.generate import GENERATED_TABLES, GenerateConfig
from pipeline.errors import ConfigError

__all__ = ["PRESETS", "Preset", "apply_preset", "get_preset", "settings_note"]


@dataclass(frozen=True)
class Preset:
    """One preset: overrides of the generate config and the settings that go with its data.

    generate: keys of configs/generate.yaml (a nested dict under "behaviour");
    features: keys of configs/features.yaml the data needs (the horizon);
    summary / why: how it differs from the demo and why a real base looks like that.
    """

    name: str
    summary: str
    why: str
    generate: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the preset writes."""
        return tuple(self.generate.get("tables", GENERATED_TABLES))

    @property
    def data(self) -> dict[str, None]:
        """configs/data.yaml tables to set to null: those the preset does not write."""
        return {t: None for t in GENERATED_TABLES if t not in self.tables}


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "b2b",
        "the demo: configs/generate.yaml as is",
        "a distributor's firms over 4 years, with contacts, customer master and managers",
    ),
    Preset(
        "consumer",
        "25,000 customers, transactions only, 1 year of history, 91-day horizon, small "
        "frequent orders, 8% returns, high dropout without account management",
        "a web shop's order export: many small buyers who lapse quietly, no CRM behind it, a "
        "quarter as the planning horizon",
        generate={
            "n_customers": 25_000,
            "start_date": date(2025, 11, 1),
            "end_date": date(2026, 10, 31),
            "tables": ("transactions",),
            "truth_horizon_days": 91,
            "truth_months": 12,
            "behaviour": {
                "base_rate": 0.25,          # orders a week of a typical customer (demo 0.15)
                "base_order_value": 40.0,   # basket value (demo 250)
                "order_value_sigma": 0.6,
                "return_rate": 0.08,        # mail-order returns (demo 0.04)
                "base_hazard": 0.012,       # 46% of typical customers lapse in a year (demo 9%
                                            # before its neglect effect)
                "neglect_effect": 0.0,      # nobody looks after a consumer: no neglect effect
                "strategic_share": 0.001,   # (almost) no dedicated managers
                "other_contact_rate": 0.01,  # service contacts, unobserved
            },
        },
        features={"horizon_days": 91},
    ),
    Preset(
        "short_history",
        "13 months of history with the 365-day horizon",
        "a new ERP a year ago, or a young business: the history barely covers one horizon",
        generate={"start_date": date(2025, 10, 1), "end_date": date(2026, 10, 31),
                  "truth_months": 12},
        features={"horizon_days": 365},
    ),
    Preset(
        "seasonal",
        "one yearly wave of amplitude 0.8 peaking mid-November: 42% of spend in Q4, 7% in Q2",
        "suppliers of retail stock, gifts, heating or garden goods: one quarter makes the year",
        generate={"behaviour": {"seasonality": 0.8, "season_cycles": 1,
                                "season_peak_day": 320}},
    ),
    Preset(
        "new_customers",
        "initial_share 0.2: 80% of the customers arrive during the history",
        "a growing business: much of the base has a short, still uninformative history",
        generate={"behaviour": {"initial_share": 0.2}},
    ),
    *(Preset(
        name,
        f"heterogeneous manager effect of strength {strength} (movable wallet share, "
        "dissatisfied accounts), yearly re-assignment by last year's revenue, and the truth "
        "with and without a manager",
        "where a manager makes the difference: large accounts that could drift, not loyal "
        "small buyers or dissatisfied accounts (" + ("no effect at all: the manager changes "
                                                     "nothing" if strength == 0 else
                                                     f"strength {strength}") + ")",
        generate={"manager_truth": True,
                  "behaviour": {"manager_uplift": {"strength": strength}}},
    ) for name, strength in (("manager_effect", 1.0), ("manager_effect_weak", 0.5),
                             ("manager_effect_none", 0.0))),
)}


def get_preset(name: str) -> Preset:
    """The preset called `name`; `ConfigError` listing the names otherwise."""
    if name not in PRESETS:
        raise ConfigError(f"unknown generate preset {name!r}; the presets are "
                          f"{', '.join(PRESETS)} (pipeline/synthetic/presets.py)")
    return PRESETS[name]


def _merge(base: dict, overrides: dict) -> dict:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = (_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def apply_preset(config: GenerateConfig, name: str, **overrides: Any) -> GenerateConfig:
    """`config` with preset `name`'s overrides and then `overrides` (top-level keys, e.g.
    n_customers, seed) applied; `ConfigError` naming the key when the result is invalid."""
    merged = _merge(config.model_dump(), get_preset(name).generate)
    try:
        return GenerateConfig.model_validate(_merge(merged, overrides))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"generate preset {name!r}: {problems} (configs/generate.yaml plus "
                          "the preset's overrides in pipeline/synthetic/presets.py)") from error


def settings_note(name: str) -> str | None:
    """One line naming the configs/ settings the preset's data needs, None when none."""
    preset = get_preset(name)
    parts = []
    if preset.features:
        shown = ", ".join(f"{k}: {v}" for k, v in preset.features.items())
        parts.append(f"configs/features.yaml {shown}")
    if preset.data:
        parts.append(f"configs/data.yaml {', '.join(f'{t}: null' for t in preset.data)} "
                     f"(only {', '.join(preset.tables)} written)")
    if not parts:
        return None
    return f"preset {name}: run the pipeline on this data with " + "; ".join(parts)
