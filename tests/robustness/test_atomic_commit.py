"""Issue 16 items 7 and 8: one result's files are committed together; modes follow the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from segmentation_core.atomic import Commit, OverwriteError, clean_folder, write_text
from segmentation_core.io import load_case, write_label_map
from segmentation_core.io.export import probabilities_path, sidecar_path
from tests.core.io_fixtures import write_brats_case

SHAPE = (12, 10, 8)


@pytest.fixture
def case(tmp_path: Path):  # noqa: ANN201
    return load_case(write_brats_case(tmp_path / "case", SHAPE))


def _probabilities(value: float) -> np.ndarray:
    return np.full((3, *SHAPE), value, np.float32)


def test_label_map_sidecar_and_probabilities_are_written_together(case, tmp_path: Path) -> None:
    target = tmp_path / "out" / "pred.nii.gz"
    target.parent.mkdir()
    write_label_map(case.labels.array, case, target, probabilities=_probabilities(0.25), model_version="7")
    probs = nib.load(probabilities_path(target))
    assert probs.shape == (*SHAPE, 3) and float(np.asanyarray(probs.dataobj).max()) == 0.25
    sidecar = json.loads(sidecar_path(target).read_text())
    assert sidecar["probabilities"] == "pred_probabilities.nii.gz" and sidecar["model_version"] == "7"
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "pred.json",
        "pred.nii.gz",
        "pred_probabilities.nii.gz",
    ]


def test_a_blocked_sidecar_path_leaves_the_label_map_untouched(case, tmp_path: Path) -> None:
    target = tmp_path / "pred.nii.gz"
    write_label_map(case.labels.array, case, target)
    before = target.read_bytes()
    sidecar_path(target).unlink()
    sidecar_path(target).mkdir()  # the sidecar's name is taken by a folder
    with pytest.raises(OSError, match=r"pred.json: is a folder"):
        write_label_map(np.zeros(SHAPE, np.uint8), case, target, overwrite=True)
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failing_probability_write_replaces_nothing(case, tmp_path: Path) -> None:
    target = tmp_path / "pred.nii.gz"
    write_label_map(case.labels.array, case, target, probabilities=_probabilities(0.5))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    bad = _probabilities(0.5)
    bad[0, 0, 0, 0] = np.nan  # NaN output of a broken model is refused, and nothing is replaced
    with pytest.raises(ValueError, match="NaN or infinite"):
        write_label_map(np.zeros(SHAPE, np.uint8), case, target, probabilities=bad, overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_interrupted_commit_is_completed_and_temporaries_of_dead_runs_removed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").write_text("old b")
    # a child stages both files, writes its journal, renames one file and dies (as if killed)
    script = f"""
import os, sys
sys.path.insert(0, {str(Path.cwd())!r})
from pathlib import Path
from segmentation_core.atomic import Commit
folder = Path({str(tmp_path)!r})
c = Commit()
for name in ("a.txt", "b.txt"):
    c.stage(folder / name).write_text("new " + name[0])
c._write_journal(folder / f".{{c._token}}.commit.json")
tmp, final = c._staged[0]
os.replace(tmp, final)
Path(folder / f".{{os.getpid()}}-dead.partial.c.txt").write_text("half")
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    assert (tmp_path / "a.txt").read_text() == "new a" and (tmp_path / "b.txt").read_text() == "old b"
    done = clean_folder(tmp_path)
    assert (tmp_path / "b.txt").read_text() == "new b"
    assert any("completed the interrupted write" in line for line in done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_a_commit_abandoned_by_an_error_leaves_only_the_old_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), Commit() as commit:
        commit.stage(tmp_path / "a.txt").write_text("new")
        raise RuntimeError("writer failed")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"] and (tmp_path / "a.txt").read_text() == "old"


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(case, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "pred.nii.gz"
        write_label_map(case.labels.array, case, target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert stat.S_IMODE(sidecar_path(target).stat().st_mode) == 0o644
        os.chmod(target, 0o640)
        write_label_map(case.labels.array, case, target, overwrite=True)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        os.umask(0o077)
        write_text(tmp_path / "private.txt", "x")
        assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_existing_files_are_replaced_only_when_allowed(tmp_path: Path) -> None:
    write_text(tmp_path / "a.txt", "one")
    with pytest.raises(OverwriteError, match=r"a.txt: already exists"):
        write_text(tmp_path / "a.txt", "two", overwrite=False)
    assert (tmp_path / "a.txt").read_text() == "one"
    write_text(tmp_path / "a.txt", "two")
    assert (tmp_path / "a.txt").read_text() == "two"


def test_a_full_disk_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def full(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("segmentation_core.atomic.os.open", full)
    with pytest.raises(OSError) as info:
        write_text(tmp_path / "result.json", "{}")
    assert str(info.value) == (
        f"{tmp_path / 'result.json'}: cannot write (No space left on device); "
        "free some disk space or choose another folder"
    )
