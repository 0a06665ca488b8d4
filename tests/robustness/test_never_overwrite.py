"""Issue 16 item 4: never write over the open case's files; other files only with --overwrite / a yes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation_core.atomic import OverwriteError
from segmentation_core.cli import main
from segmentation_core.io import load_case, write_label_map
from tests.core.io_fixtures import write_brats_case
from tests.core.model_fixtures import make_tiny_bundle

SHAPE = (16, 16, 16)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("model"))


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_export_refuses_the_cases_own_source_files_even_with_overwrite(tmp_path: Path) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE)
    case = load_case(folder)
    before = _bytes(folder)
    for name in ("Case_001_t1ce.nii.gz", "Case_001_seg.nii.gz"):
        with pytest.raises(OverwriteError, match=rf"{name}: is a file the open case was read from"):
            write_label_map(np.zeros(SHAPE, np.uint8), case, folder / name, overwrite=True)
    link = tmp_path / "alias.nii.gz"  # another name for a source file is refused too
    link.symlink_to(folder / "Case_001_t1.nii.gz")
    with pytest.raises(OverwriteError):
        write_label_map(np.zeros(SHAPE, np.uint8), case, link, overwrite=True)
    assert _bytes(folder) == before


def test_export_asks_before_replacing_other_files(tmp_path: Path) -> None:
    case = load_case(write_brats_case(tmp_path / "Case_001", SHAPE))
    target = tmp_path / "seg.nii.gz"
    target.write_bytes(b"someone else's file")
    with pytest.raises(OverwriteError, match="seg.nii.gz: already exists"):
        write_label_map(case.labels.array, case, target)
    assert target.read_bytes() == b"someone else's file"
    write_label_map(case.labels.array, case, target, overwrite=True)
    assert target.read_bytes() != b"someone else's file"


def test_predict_never_writes_over_its_input_and_needs_overwrite(tmp_path: Path, model: Path, capsys) -> None:
    folder = write_brats_case(tmp_path / "Case_001", SHAPE)
    before = _bytes(folder)
    own = folder / "Case_001_seg.nii.gz"
    args = ["predict", str(folder), "--model", str(model), "--device", "cpu", "--brats-like"]
    assert main([*args, "-o", str(own), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Case_001_seg.nii.gz: is an input file of the case" in err
    assert _bytes(folder) == before
    out = tmp_path / "out"
    assert main([*args, "-o", str(out)]) == 0
    first = _bytes(out)
    capsys.readouterr()
    assert main([*args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Case_001_pred.nii.gz: already exists; pass --overwrite" in err and err.count("\n") == 1
    assert _bytes(out) == first
    assert main([*args, "-o", str(out), "--overwrite"]) == 0
    assert sorted(_bytes(out)) == ["Case_001_pred.json", "Case_001_pred.nii.gz"]
