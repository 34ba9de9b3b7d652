"""pipeline.storage: atomic writes (one file, several together, stale temporaries) and the
readers/writers built on them."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.storage import (
    StagedFiles,
    atomic_path,
    read_table,
    remove_stale_temporaries,
    staged_folder,
    write_json,
    write_table,
    write_text,
)

ROOT = Path(__file__).resolve().parents[2]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def dead_pid() -> int:
    """The pid of a process that has ended (reaped, so nothing runs under it now)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_atomic_path_replaces_the_file_with_a_hidden_temporary_of_the_same_suffix(tmp_path):
    target = tmp_path / "out" / "scores.csv"  # the folder does not exist yet
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent and temporary.name.startswith(".")
        assert temporary.suffix == ".csv" and ".tmp" in temporary.name
        assert not target.exists()          # nothing at the final name while writing
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert names(target.parent) == ["scores.csv"]


def test_atomic_path_keeps_the_old_file_and_no_temporary_when_the_block_raises(tmp_path):
    target = tmp_path / "scores.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as temporary:
            temporary.write_text("half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert names(tmp_path) == ["scores.parquet"]


def test_atomic_path_refuses_a_block_that_wrote_nothing(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(FileNotFoundError, match="a.json: nothing was written"):
        with atomic_path(target):
            pass
    assert target.read_text() == "old" and names(tmp_path) == ["a.json"]


def test_staged_files_without_commit_leave_the_old_files_and_no_temporaries(tmp_path):
    for name in ("a.parquet", "b.json"):
        (tmp_path / name).write_text(f"old {name}")
    with StagedFiles() as staged:
        write_table(pd.DataFrame({"x": [1]}), staged.path(tmp_path / "a.parquet"))
        write_json({"x": 1}, staged.path(tmp_path / "b.json"))
        write_text("c", staged.path(tmp_path / "sub" / "c.md"))
    assert (tmp_path / "a.parquet").read_text() == "old a.parquet"
    assert (tmp_path / "b.json").read_text() == "old b.json"
    assert names(tmp_path) == ["a.parquet", "b.json", "sub"] and names(tmp_path / "sub") == []
    with pytest.raises(ValueError, match="boom"):
        with StagedFiles() as staged:
            write_text("new", staged.path(tmp_path / "b.json"))
            raise ValueError("boom")
    assert (tmp_path / "b.json").read_text() == "old b.json"
    assert names(tmp_path) == ["a.parquet", "b.json", "sub"]


def test_staged_files_commit_puts_every_file_in_place_in_order(tmp_path):
    (tmp_path / "b.json").write_text("old")
    frame = pd.DataFrame({"customer_id": ["=1+2", "C1"], "v": [-1.5, 2.0]})
    with StagedFiles() as staged:
        # the writers write a staged path directly: no temporary of a temporary
        write_table(frame, staged.path(tmp_path / "a.parquet"))
        write_json({"n": 2}, staged.path(tmp_path / "b.json"))
        assert staged.finals == (tmp_path / "a.parquet", tmp_path / "b.json")
        assert len([n for n in names(tmp_path) if n.startswith(".")]) == 2
        assert staged.commit() == [tmp_path / "a.parquet", tmp_path / "b.json"]
    assert names(tmp_path) == ["a.parquet", "b.json"]
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.parquet"), frame)  # ids unchanged
    assert json.loads((tmp_path / "b.json").read_text()) == {"n": 2}


def test_staged_files_commit_renames_nothing_when_a_temporary_is_missing(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with StagedFiles() as staged:
        write_text("new", staged.path(tmp_path / "a.txt"))
        staged.path(tmp_path / "b.txt")  # never written
        with pytest.raises(FileNotFoundError, match="b.txt"):
            staged.commit()
    assert (tmp_path / "a.txt").read_text() == "old" and names(tmp_path) == ["a.txt"]


def test_staging_one_path_twice_is_refused(tmp_path):
    with StagedFiles() as staged:
        staged.path(tmp_path / "a.txt")
        with pytest.raises(ValueError, match="staged twice"):
            staged.path(tmp_path / "a.txt")


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    stale = tmp_path / f".scores.parquet.{dead_pid()}-0123456789ab.tmp.parquet"
    live = tmp_path / f".tiers.parquet.{os.getpid()}-0123456789ab.tmp.parquet"
    other = tmp_path / ".keep.tmp"  # not one of ours: left alone
    for path in (stale, live, other):
        path.write_text("x")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert names(tmp_path) == [".keep.tmp", live.name]
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_writing_a_file_clears_the_stale_temporaries_of_its_folder(tmp_path):
    stale = tmp_path / f".a.json.{dead_pid()}-0123456789ab.tmp.json"
    stale.write_text("{")
    write_json({"a": 1}, tmp_path / "a.json")
    assert names(tmp_path) == ["a.json"]


_WRITER = """
import sys
import pandas as pd
from pipeline.storage import write_table
frame = pd.DataFrame({"customer_id": [f"C{i:06d}" for i in range(200_000)], "v": range(200_000)})
target = sys.argv[1]
write_table(frame, target)
print("ready", flush=True)
while True:
    write_table(frame.assign(v=frame["v"] + 1), target)
"""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_killed_writer_leaves_a_whole_file(tmp_path, suffix):
    """SIGKILL while the file is rewritten over and over: what is there reads whole."""
    target = tmp_path / f"scores{suffix}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        for pause in (0.05, 0.23, 0.11):
            time.sleep(pause)
            assert len(read_table(target)) == 200_000
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    frame = read_table(target)
    assert len(frame) == 200_000 and frame["customer_id"].iloc[-1] == "C199999"
    remove_stale_temporaries(tmp_path)  # what the killed writer left, if anything
    assert names(tmp_path) == [target.name]


def test_csv_rows_stay_whole_with_line_breaks_in_values_and_dates_as_asked(tmp_path):
    frame = pd.DataFrame({"note": ["a\rb", "c\nd", "e"],
                          "day": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])})
    path = write_table(frame, tmp_path / "t.csv", date_format="%d.%m.%Y")
    back = read_table(path)
    assert back["note"].tolist() == ["a\rb", "c\nd", "e"]
    assert back["day"].tolist() == ["02.01.2024", "03.01.2024", "04.01.2024"]


def test_staged_folder_replaces_the_old_folder_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "docs"
    (target / "old").mkdir(parents=True)
    (target / "old" / "page.html").write_text("old")
    with pytest.raises(RuntimeError), staged_folder(target) as new:
        (new / "half.html").write_text("half")
        raise RuntimeError("killed half-way")
    assert [p.name for p in target.rglob("*")] == ["old", "page.html"]  # untouched
    with staged_folder(target) as new:
        assert new.parent == tmp_path and new.name.startswith(".docs.") and target.exists()
        (new / "index.html").write_text("new")
    assert [p.name for p in target.iterdir()] == ["index.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["docs"]  # nothing left beside it


def test_staged_folder_swaps_in_one_step_so_the_folder_never_disappears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import storage

    target = tmp_path / "docs"
    target.mkdir()
    (target / "page.html").write_text("old")

    def no_rename(*args):  # the two-rename fallback would leave a moment with no folder
        raise AssertionError("renamed instead of exchanged")

    with staged_folder(target) as new:
        (new / "page.html").write_text("new")
        monkeypatch.setattr(storage.os, "replace", no_rename)
    monkeypatch.undo()
    assert (target / "page.html").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["docs"]
    # where the file system cannot exchange, the two renames still give old or new
    monkeypatch.setattr(storage, "_exchange", lambda a, b: False)
    with staged_folder(target) as new:
        (new / "page.html").write_text("newer")
    assert (target / "page.html").read_text() == "newer"
    assert [p.name for p in tmp_path.iterdir()] == ["docs"]
