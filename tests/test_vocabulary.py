"""One vocabulary: no column or file name is spelled outside its vocabulary module.

The names live in features/contract.py (the input columns and the frames between stages),
features/names.py (the feature columns and their windowed families), models/columns.py (scores,
BTYD predictions, tiers, books, shortfall) and pipeline/files.py (the files the stages write).
This test parses every module of features/, models/ and pipeline/ with `ast` and fails, naming
file:line, for any string constant outside those modules that equals one of the names, and for
any f-string shaped like a family name (f"txn_spend_{w}d", f"backtest_{name}.parquet"). A
message may name a column inside a sentence, best built from the constant
(f"{CUSTOMER_ID} must be unique"); a string that *is* the name is a copy of it. Docstrings,
`__all__` entries (Python names such as the function `rank_score`) and comments are not read.
"""

import ast
import inspect
import re
from pathlib import Path

import pytest

from features import contract, names
from models import columns
from pipeline import files

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "pipeline")
VOCABULARY_MODULES = {
    "features/contract.py": contract,
    "features/names.py": names,
    "models/columns.py": columns,
    "pipeline/files.py": files,
}
# The table names (contract.TABLES) are not checked: the same words name the feature families
# (features.catalogue.FAMILIES, configs/features.yaml `families`) and config sections; their
# files are named by files.table_file.
UNCHECKED = set(contract.TABLES)
# The same spelling for something else, per file: (file, text) -> what the text is there.
HOMONYMS = {
    ("features/builder.py", "horizon_days"): "the FeaturesConfig field (model_copy update)",
    ("pipeline/validation/report.py", "data_docs"): "the summary's key of the Data Docs link",
    ("pipeline/validation/expectations.py", "run_id"): "the key GX's result pages read",
    ("pipeline/validation/expectations.py", "index.html"): "the page GX's site builder writes",
    ("pipeline/validation/report.py", "reasons"): "the summary's quarantine reasons per table",
    ("pipeline/validation/run.py", "reasons"): "the summary's quarantine reasons per table",
    ("models/baselines.py", "horizon_days"): "the baselines' parameter of the same name",
    ("features/catalogue.py", "size"): "a fact's name: company size and band state one fact",
    ("features/catalogue.py", "channel"): "the {channel} placeholder of the templates",
    ("models/backtest.py", "capacity"): "a fold's attrs: the slots the top-k metrics count",
    ("models/backtest.py", "active"): "a fold's attrs: the mask of the active base",
    ("models/reasons.py", "rank"): "a column of factors(): the rank of a contribution",
    ("models/tier_policy.py", "strategic"): "the default name of the top tier",
    ("pipeline/synthetic/population.py", "strategic"): "the demo's tier names",
    ("pipeline/cli.py", "tier"): "the name of the tier stage",
    ("pipeline/stages/job.py", "tier"): "the name of the tier stage",
    ("pipeline/config/tiers.py", "region"): "sheets_by: one sheet per region",
    ("pipeline/publishing/books.py", "region"): "the kind of a region lead's book",
    ("pipeline/publishing/excel.py", "region"): "sheets_by: one sheet per region",
    ("pipeline/publishing/html.py", "region"): "the kind of a region lead's book",
    ("pipeline/publishing/crm.py", "active"): "the CRM's flag of a customer's current row",
    ("pipeline/drift_io.py", "reasons"): "the drift decision's reasons in drift.json",
    ("pipeline/synthetic/presets.py", "horizon_days"): "a field of FeaturesConfig",
    ("pipeline/plots.py", "size"): "pandas' aggregation",
    ("pipeline/publishing/html.py", "size"): "pandas' aggregation",
    ("pipeline/publishing/summary.py", "size"): "pandas' aggregation",
}


def _string_constants(module) -> set[str]:
    return {v for k in module.__all__ if isinstance(v := getattr(module, k), str)}


def _skeleton(function) -> str:
    """A name family rendered with "{}" for each argument: "txn_spend_{}d"."""
    return function(*["{}"] * len(inspect.signature(function).parameters))


VOCABULARY = set().union(*map(_string_constants, VOCABULARY_MODULES.values())) - UNCHECKED
FAMILIES = {
    _skeleton(f)
    for f in (*names.FAMILIES, files.table_file, files.backtest_table, files.importance_plot,
              files.csv_file, files.history_file)
}
_PATTERNS = [
    re.compile("[A-Za-z0-9_-]+?".join(map(re.escape, skeleton.split("{}")))) for skeleton in FAMILIES
]


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes) and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _all_entries(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            found |= {id(n) for n in ast.walk(node.value)}
    return found


def _family(text: str) -> bool:
    """A family name with placeholders ("txn_spend_{window}d") or rendered ("txn_spend_90d")."""
    if "{" in text:
        return re.sub(r"\{[^{}]*\}", "{}", text) in FAMILIES
    return any(pattern.fullmatch(text) for pattern in _PATTERNS)


def _f_skeleton(node: ast.JoinedStr) -> str:
    return "".join(
        part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
    )


def literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant of `source` that is a vocabulary name, and of
    every f-string shaped like a family name."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _all_entries(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr) and _f_skeleton(node) in FAMILIES:
            found.append((node.lineno, f'f"{_f_skeleton(node)}"'))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
            node.value in VOCABULARY or _family(node.value)
        ):
            found.append((node.lineno, repr(node.value)))
    return sorted(found)


def _modules() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
    )


def _checked(path: str) -> bool:
    return path not in VOCABULARY_MODULES


def _hits() -> list[tuple[str, int, str]]:
    return [
        (path, line, text)
        for path in _modules() if _checked(path)
        for line, text in literals((ROOT / path).read_text(encoding="utf-8"))
    ]


def test_no_name_is_spelled_outside_the_vocabulary_modules():
    hits = [
        f"{path}:{line}: {text}"
        for path, line, text in _hits() if (path, text.strip("'")) not in HOMONYMS
    ]
    assert not hits, (
        "column or file names written as literals; import them from "
        f"{', '.join(VOCABULARY_MODULES)}:\n" + "\n".join(hits)
    )


def test_no_constant_name_is_exported_by_two_vocabulary_modules():
    # files.SCORES (scores.parquet) beside a columns.SCORES would make an import pick either
    exported = [k for m in VOCABULARY_MODULES.values() for k in m.__all__]
    assert len(exported) == len(set(exported))


def test_every_homonym_is_still_spelled_there():
    used = {(path, text.strip("'")) for path, _, text in _hits()}
    assert set(HOMONYMS) <= used, f"stale HOMONYMS entries: {sorted(set(HOMONYMS) - used)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('frame["expected_value"]', [(1, "'expected_value'")]),
        ('x = {"customer_id": 1}', [(1, "'customer_id'")]),
        ('path / "scores.parquet"', [(1, "'scores.parquet'")]),
        ('frame[f"txn_spend_{w}d"]', [(1, 'f"txn_spend_{}d"')]),
        ('name = f"ctc_{channel}_{w}d"', [(1, 'f"ctc_{}_{}d"')]),
        ('out / f"backtest_{name}.parquet"', [(1, 'f"backtest_{}.parquet"')]),
        ('a = 1\nb = "txn_orders"', [(2, "'txn_orders'")]),
        ('_F("txn_spend_{window}d", "transactions")', [(1, "'txn_spend_{window}d'")]),
        ('frame["txn_spend_90d"]', [(1, "'txn_spend_90d'")]),
        ('path = root / "tiers_2024-01-31.parquet"', [(1, "'tiers_2024-01-31.parquet'")]),
    ],
)
def test_a_literal_name_is_found(source, expected):
    assert literals(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        'def f():\n    """Returns expected_value."""\n',  # a docstring
        '__all__ = ["rank_score"]',  # a Python name
        'raise ValueError(f"{CUSTOMER_ID} must be unique")',  # prose built from the constant
        'frame[EXPECTED_VALUE]',
        'x = "transactions"',  # a table name: also a feature family
        'label = f"{w} days"',
    ],
)
def test_what_is_not_a_literal_name(source):
    assert literals(source) == []


def test_every_feature_of_the_catalogue_is_named_in_features_names():
    from features.catalogue import CATALOGUE, TEMPLATES

    fixed = _string_constants(names)
    families = {_skeleton(f) for f in names.FAMILIES}
    for template in TEMPLATES:
        shape = re.sub(r"\{[^{}]*\}", "{}", template.name)
        assert template.name in fixed or shape in families, template.name
    assert all(n in fixed or _family(n) for n in CATALOGUE)
    assert {t.name for t in TEMPLATES if t.expand is None} <= fixed
