"""Prediction in a child process: same labels as in-process, progress, errors, cancel, clean-up."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from segmentation_core.inference import Predictor, run_prediction
from segmentation_core.inference_process import (
    InferenceProcessError,
    SharedArray,
    _relay,
    predict_in_child_process,
)
from segmentation_core.models.bundle import BundleError, ModelBundle
from segmentation_core.types import CancelledError, CancelToken
from tests.core.io_fixtures import make_case
from tests.core.model_fixtures import make_tiny_bundle
from tests.generators import drain

REPO = Path(__file__).resolve().parents[2]
SHM = Path("/dev/shm")


def test_child_labels_equal_in_process_labels_and_the_shared_memory_is_freed(tmp_path, monkeypatch) -> None:
    case = make_case((32, 32, 32))
    bundle_dir = make_tiny_bundle(tmp_path / "m")
    ours: list[str] = []  # only this test's blocks: other processes may use shared memory meanwhile
    create = SharedArray.create.__func__

    def recording_create(cls, array):  # noqa: ANN001, ANN202
        shared, block = create(cls, array)
        ours.append(block.name)
        return shared, block

    monkeypatch.setattr(SharedArray, "create", classmethod(recording_create))
    progress, prediction = drain(predict_in_child_process(case, bundle_dir, device="cpu", threads=1))
    expected = run_prediction(Predictor(ModelBundle.load(bundle_dir), device="cpu", threads=1), case)
    assert [p.message for p in progress[:3]] == [
        "starting the AI process",
        "loading tiny-test-model v1",
        "running on CPU",
    ]
    batches = [p for p in progress if p.total > 0]
    assert batches and batches[-1].done == batches[-1].total
    assert prediction.labels.dtype == np.uint8 and prediction.labels.shape == (32, 32, 32)
    assert np.array_equal(prediction.labels, expected.labels)
    assert (prediction.device, prediction.model_version, prediction.probabilities) == ("cpu", "1", None)
    assert prediction.regions.box == expected.regions.box  # the kept probabilities come back too
    assert np.array_equal(prediction.regions.probabilities, expected.regions.probabilities)
    from segmentation_core.inference_process import shared_memory_has_room

    if shared_memory_has_room(4 * case.channels["t1"].array.nbytes):
        assert len(ours) == 4  # the four sequences went through shared memory, and every block is gone
    assert not [name for name in ours if (SHM / name.lstrip("/")).exists()]


def test_without_room_in_shared_memory_the_images_are_copied_and_the_labels_are_the_same(
    tmp_path, monkeypatch
) -> None:
    from segmentation_core import inference_process

    case = make_case((32, 32, 32))
    bundle_dir = make_tiny_bundle(tmp_path / "m")
    monkeypatch.setattr(inference_process, "SHM_MARGIN", 2**62)  # no /dev/shm has that much room
    assert not inference_process.shared_memory_has_room(case.channels["t1"].array.nbytes) or not SHM.is_dir()
    created: list[object] = []
    monkeypatch.setattr(SharedArray, "create", classmethod(lambda cls, array: created.append(array)))
    _, prediction = drain(predict_in_child_process(case, bundle_dir, device="cpu", threads=1))
    expected = run_prediction(Predictor(ModelBundle.load(bundle_dir), device="cpu", threads=1), case)
    assert np.array_equal(prediction.labels, expected.labels)
    if SHM.is_dir():
        assert created == []  # nothing went through shared memory


def test_a_bad_bundle_raises_its_own_error_in_the_parent(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError):
        drain(predict_in_child_process(make_case((16, 16, 16)), tmp_path / "empty", device="cpu"))


def test_cancel_stops_the_child_process_at_once(tmp_path) -> None:
    case = make_case((48, 48, 48))
    token = CancelToken()
    generator = predict_in_child_process(
        case, make_tiny_bundle(tmp_path / "m", patch_size=(8, 8, 8)), cancel=token
    )
    assert next(generator).message == "starting the AI process"  # the child is running
    pids = [child.pid for child in multiprocessing.active_children() if child.name == "brats-inference"]
    assert len(pids) == 1
    token.cancel()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        drain(generator)
    assert time.monotonic() - started < 3.0
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # gone, and reaped


def test_a_child_that_dies_without_an_answer_is_reported_with_its_exit_code() -> None:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(target=os._exit, args=(3,))
    process.start()
    send.close()
    with pytest.raises(InferenceProcessError, match="exit code 3"):
        drain(_relay(receive, process, None))
    process.join()


def test_shared_array_round_trip_keeps_values_and_dtype() -> None:
    array = np.asfortranarray(np.arange(60, dtype=np.float32).reshape(3, 4, 5))
    shared, block = SharedArray.create(array)
    try:
        view, other = SharedArray.attach(shared)
        assert view.dtype == np.float32 and np.array_equal(view, array)
        del view
        other.close()
    finally:
        block.close()
        block.unlink()


def test_the_parent_side_imports_no_torch() -> None:
    code = "import sys, segmentation_core.inference_process; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


WARM_UP = """
import os, sys, time
from segmentation_core.inference_process import warm_up
thread = warm_up(7)
thread.join()
me = os.getpid()
servers = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            cmdline = open(f"/proc/{entry}/cmdline").read()
        except OSError:
            continue
        if int(stat[1]) == me and "forkserver" in cmdline:
            servers.append((int(entry), int(stat[16])))
assert len(servers) == 1, servers
pid, nice = servers[0]
deadline = time.monotonic() + 240
while time.monotonic() < deadline and "libtorch" not in open(f"/proc/{pid}/maps").read():
    time.sleep(0.2)
print(nice - os.nice(0), "libtorch" in open(f"/proc/{pid}/maps").read(), warm_up(7).is_alive() in (True, False))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_warm_up_starts_the_fork_server_at_low_priority_and_it_imports_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "True", "True"]
