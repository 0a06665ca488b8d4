"""Autosave: a recovery file every few edits, written atomically, found and loaded at the next start."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from app.state.autosave import (
    Autosaver,
    case_key,
    find_recoveries,
    read_recovery,
    recovery_dir,
    recovery_for,
)
from app.state.label_layer import LabelLayer


def _paint(layer: LabelLayer, index: int, label: int = 1) -> None:
    box = (slice(index, index + 1), slice(0, 1), slice(0, 1))
    layer.apply(box, np.ones((1, 1, 1), bool), label)


def test_every_third_edit_writes_the_recovery_file(tmp_path: Path) -> None:
    layer = LabelLayer(np.zeros((6, 5, 4), np.uint8))
    saver = Autosaver(layer, "Brats18_X", sources=[tmp_path / "a_t1.nii.gz"], every=3, folder=tmp_path)
    _paint(layer, 0)
    _paint(layer, 1)
    saver.wait()
    assert not saver.path.exists()
    layer.undo()  # undo and redo count as edits too
    saver.wait()
    assert saver.path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [saver.path.name]  # no temporary file left
    (found,) = find_recoveries(tmp_path)
    assert (found.case_id, found.shape, found.edits) == ("Brats18_X", (6, 5, 4), 3)
    assert found.sources == (str(tmp_path / "a_t1.nii.gz"),)
    assert np.array_equal(found.load(), layer.data)
    for i in range(2, 5):
        _paint(layer, i, 3)
    saver.wait()
    assert np.array_equal(read_recovery(saver.path).load(), layer.data)
    assert np.count_nonzero(read_recovery(saver.path).load() == 3) == 3
    saver.close()
    _paint(layer, 5)  # closed: no more writes, the file stays for recovery
    assert read_recovery(saver.path).edits == 6
    saver.discard()
    assert find_recoveries(tmp_path) == []


def test_recoveries_are_listed_newest_first_and_broken_files_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("first", "second"):
        saver = Autosaver(LabelLayer(np.zeros((2, 2, 2), np.uint8)), name, folder=tmp_path)
        saver.save_now().result()
        saver.close()
    (tmp_path / "junk.recovery.npz").write_bytes(b"not a zip")
    with caplog.at_level(logging.WARNING):
        found = find_recoveries(tmp_path)
    assert [r.case_id for r in found] == ["second", "first"]
    assert "junk.recovery.npz is not a readable recovery file" in caplog.text
    assert find_recoveries(tmp_path / "missing") == []


def test_a_recovery_with_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    saver = Autosaver(LabelLayer(np.zeros((2, 2, 2), np.uint8)), "case", folder=tmp_path)
    saver.save_now().result()
    saver.close()
    recovery = read_recovery(saver.path)
    bad = type(recovery)(recovery.path, recovery.case_id, (), (3, 3, 3), recovery.saved_at, 0)
    with pytest.raises(ValueError, match=r"holds shape \(2, 2, 2\), expected \(3, 3, 3\)"):
        bad.load()


def test_keys_and_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert case_key("a", ["x.nii"]) == case_key("a", ["x.nii"])
    assert len({case_key("a"), case_key("b"), case_key("a", ["x.nii"])}) == 3
    monkeypatch.setenv("BRATS_VIEWER_DATA_DIR", str(tmp_path))
    assert recovery_dir() == tmp_path / "recovery"
    with pytest.raises(ValueError, match="autosave interval must be at least 1 edit"):
        Autosaver(LabelLayer(np.zeros((2, 2, 2), np.uint8)), "case", every=0, folder=tmp_path)


def test_recovery_for_the_case_being_opened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    layer = LabelLayer(np.ones((3, 3, 3), np.uint8))
    saver = Autosaver(layer, "Brats18_Y", sources=["y_t1.nii.gz"], folder=tmp_path)
    assert recovery_for("Brats18_Y", ["y_t1.nii.gz"], tmp_path) is None
    saver.save_now().result()
    saver.close()
    found = recovery_for("Brats18_Y", ["y_t1.nii.gz"], tmp_path)
    assert found is not None and found.path == saver.path and np.count_nonzero(found.load()) == 27
    assert recovery_for("Brats18_Y", ["other_t1.nii.gz"], tmp_path) is None
    saver.path.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING):
        assert recovery_for("Brats18_Y", ["y_t1.nii.gz"], tmp_path) is None
    assert "is not a readable recovery file" in caplog.text
