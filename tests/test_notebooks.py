"""The notebooks: every one executes, cell by cell, against a small generated project after
`keyaccounts run` (an error in any cell, e.g. a broken import in the packages, fails), and
none is committed with outputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.small_project import ENV, make_project

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED = ("01-explore-data.ipynb", "02-model-report.ipynb")


def test_the_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= set(EXPECTED)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(notebook: Path) -> None:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    dirty = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{notebook.name}: cells {dirty} hold outputs or execution counts; "
                       "clear them before committing (Jupyter: Edit > Clear Outputs of All Cells)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated project after `keyaccounts run` (every stage)."""
    root = make_project(tmp_path_factory.mktemp("notebooks"), n_customers=400)
    env = {**os.environ, **ENV}
    env.pop("KEYACCOUNTS_CRM_URL", None)
    done = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "run"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.mark.integration
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_a_small_project(notebook: Path, project: Path) -> None:
    import nbclient
    import nbformat

    content = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(content, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(notebook.parent)}})
    env = {**os.environ, **ENV, "KEYACCOUNTS_PROJECT": str(project), "MPLBACKEND": "agg"}
    client.execute(env=env)  # raises CellExecutionError naming the cell on any error
    printed = "".join(o.get("text", "") for cell in content.cells
                      for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    assert f"project: {project}" in printed  # it read the small project, not the repository
