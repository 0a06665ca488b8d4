"""Autosave: a recovery file every few edits, written atomically, found and loaded at the next start."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest

from app.state.autosave import (
    MAX_DELAY_S,
    Autosaver,
    case_key,
    find_recoveries,
    read_recovery,
    recovery_dir,
    recovery_for,
    scan_recoveries,
)
from app.state.label_layer import LabelLayer


def _paint(layer: LabelLayer, index: int, label: int = 1) -> None:
    box = (slice(index, index + 1), slice(0, 1), slice(0, 1))
    layer.apply(box, np.ones((1, 1, 1), bool), label)


def _wait_for(condition, timeout: float = 5.0) -> float:  # noqa: ANN001
    """Seconds until ``condition()`` held (fails after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.02)
    return time.monotonic() - start


def _saved_edits(path: Path) -> int:
    return read_recovery(path).edits if path.exists() else -1


def test_every_edit_reaches_the_recovery_file_within_two_seconds(tmp_path: Path) -> None:
    layer = LabelLayer(np.zeros((6, 5, 4), np.uint8))
    saver = Autosaver(layer, "Brats18_X", sources=[tmp_path / "a_t1.nii.gz"], folder=tmp_path)
    for i in range(5):
        _paint(layer, i)
    _paint(layer, 5, 2)
    layer.undo()  # undo and redo count as edits too
    assert _wait_for(lambda: _saved_edits(saver.path) == 7) < MAX_DELAY_S + 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == [saver.path.name]  # no temporary file left
    (found,) = find_recoveries(tmp_path)
    assert (found.case_id, found.shape, found.edits) == ("Brats18_X", (6, 5, 4), 7)
    assert found.sources == (str(tmp_path / "a_t1.nii.gz"),)
    assert np.array_equal(found.load(), layer.data)
    saver.close()
    _paint(layer, 5)  # closed: no more writes, the file stays for recovery
    assert read_recovery(saver.path).edits == 7
    saver.discard()
    assert find_recoveries(tmp_path) == []


def test_saving_is_debounced_but_never_later_than_max_delay(tmp_path: Path) -> None:
    layer = LabelLayer(np.zeros((40, 5, 4), np.uint8))
    saver = Autosaver(layer, "case", delay_s=0.3, max_delay_s=0.6, folder=tmp_path)
    start = time.monotonic()
    lags = []
    for i in range(30):  # an edit every 50 ms for 1.5 s: the quiet delay never passes
        _paint(layer, i)
        time.sleep(0.05)
        saved = _saved_edits(saver.path)
        lags.append(i + 1 - saved)
    elapsed = time.monotonic() - start
    assert elapsed > 1.4
    assert saver.path.exists(), "nothing saved during 1.5 s of continuous edits"
    assert 2 <= read_recovery(saver.path).edits < 30  # saved during the edits, not after each one
    assert max(lags[-10:]) <= 0.6 / 0.05 + 4  # what was saved lags by at most max_delay (+ write time)
    saver.close()
    assert read_recovery(saver.path).edits == 30  # closing saves the waiting edits


def test_unreadable_recovery_files_are_set_aside_once_never_fatal(tmp_path: Path) -> None:
    saver = Autosaver(LabelLayer(np.ones((4, 4, 4), np.uint8)), "good", folder=tmp_path)
    saver.save_now().result()
    saver.close()
    whole = saver.path.read_bytes()
    (tmp_path / "truncated.recovery.npz").write_bytes(whole[: len(whole) // 2])  # BadZipFile
    (tmp_path / "empty.recovery.npz").write_bytes(b"")  # EOFError / ValueError
    broken = bytearray(whole)
    start = whole.index(b"labels.npy") + 40
    broken[start : start + 40] = b"\xff" * 40  # zlib.error / CRC error inside the member
    (tmp_path / "zlib.recovery.npz").write_bytes(bytes(broken))
    with (tmp_path / "nokey.recovery.npz").open("wb") as fh:
        np.savez(fh, other=np.zeros(3))  # KeyError
    with (tmp_path / "badmeta.recovery.npz").open("wb") as fh:
        np.savez(fh, labels=np.zeros((2, 2, 2), np.uint8), meta=np.array('{"shape": 5}'))  # TypeError
    scan = scan_recoveries(tmp_path)
    assert sorted(r.path.name for r in scan.recoveries) == [saver.path.name, "zlib.recovery.npz"]
    assert len(scan.set_aside) == 4 and all("set aside as" in m for m in scan.set_aside)
    aside = sorted(p.name.split(".")[0] for p in tmp_path.glob("*.unreadable-*"))
    assert aside == ["badmeta", "empty", "nokey", "truncated"]
    again = scan_recoveries(tmp_path)  # reported once: the files are out of the way now
    assert again.set_aside == [] and len(again.recoveries) == 2
    damaged = next(r for r in again.recoveries if r.path.name == "zlib.recovery.npz")
    with pytest.raises(ValueError, match="zlib.recovery.npz cannot be read"):
        damaged.load()  # its description reads, its voxels do not: a ValueError, never a crash
    recovery = next(r for r in again.recoveries if r.path == saver.path)
    recovery.path.write_bytes(whole[:100])
    with pytest.raises(ValueError, match="cannot be read"):
        recovery.load()
    messages: list[str] = []
    assert recovery_for("good", (), tmp_path, on_problem=messages.append) is None
    assert len(messages) == 1 and "set aside as" in messages[0]


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
    assert "set aside as junk.recovery.npz.unreadable-" in caplog.text
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
    with pytest.raises(ValueError, match="autosave delays must satisfy"):
        Autosaver(LabelLayer(np.zeros((2, 2, 2), np.uint8)), "case", delay_s=3, folder=tmp_path)


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
