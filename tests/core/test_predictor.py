"""Predictor: whole-case labels on the case grid, regions -> labels, TTA, post-processing, cancel, fallbacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from segmentation_core.inference import Postprocessing, Predictor, regions_to_labels, run_prediction
from segmentation_core.inference.device import Attempt, fallback_attempts, resolve_device
from segmentation_core.inference.postprocess import postprocess, remove_small_components, small_et_to_ncr
from segmentation_core.inference.predictor import run_with_fallbacks
from segmentation_core.inference.tta import MIRRORS, mirror_set
from segmentation_core.models import ModelBundle
from segmentation_core.preprocessing import PreprocessError, zscore_nonzero
from segmentation_core.types import SEQUENCES, CancelledError, CancelToken, Case, Progress, Volume
from tests.core.model_fixtures import make_tiny_bundle

AFFINE = np.diag([1.0, 1.5, 2.0, 1.0])
CPU = torch.device("cpu")


def make_case(shape=(26, 22, 18), seed=0) -> Case:
    """Four sequences, zero outside a 'brain' box, signed structure inside."""
    rng = np.random.default_rng(seed)
    box = (slice(3, 23), slice(2, 19), slice(4, 15))
    channels = {}
    for name in SEQUENCES:
        array = np.zeros(shape, np.float32)
        array[box] = rng.normal(100, 30, size=array[box].shape)
        channels[name] = Volume(array, AFFINE)
    return Case(channels, case_id="Synthetic_predict")


class FirstThree(torch.nn.Module):
    """A stand-in network whose logits are the first three input channels (flip-equivariant)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x[:, :3]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> ModelBundle:
    return ModelBundle.load(make_tiny_bundle(tmp_path_factory.mktemp("bundle")))


def with_network(predictor: Predictor, network: torch.nn.Module) -> Predictor:
    predictor._networks[CPU] = network
    return predictor


def test_regions_to_labels_nests_et_in_tc_in_wt() -> None:
    p = np.zeros((3, 5, 1, 1), np.float32)
    #            WT   TC   ET   -> label
    cases = [(0.9, 0.9, 0.9), (0.9, 0.9, 0.1), (0.9, 0.1, 0.9), (0.1, 0.9, 0.9), (0.9, 0.1, 0.1)]
    for i, values in enumerate(cases):
        p[:, i, 0, 0] = values
    assert regions_to_labels(p)[:, 0, 0].tolist() == [3, 1, 2, 0, 2]
    assert regions_to_labels(p).dtype == np.uint8


def test_prediction_is_on_the_case_grid_and_matches_the_regions(bundle) -> None:
    case = make_case()
    predictor = with_network(Predictor(bundle, device="cpu", postprocess=False, batch_size=1), FirstThree())
    progress: list[Progress] = []
    prediction = run_prediction(predictor, case, on_progress=progress.append, want_probabilities=True)
    image = np.stack([case.channels[n].array for n in SEQUENCES[:3]])
    expected = np.zeros_like(image)
    box = (slice(None), slice(1, 25), slice(0, 21), slice(2, 17))  # brain box + margin 2
    expected[box] = 1 / (1 + np.exp(-zscore_nonzero(image[box])))
    assert prediction.labels.shape == case.shape and prediction.labels.dtype == np.uint8
    np.testing.assert_array_equal(prediction.labels, regions_to_labels(expected))
    assert set(np.unique(prediction.labels)) == {0, 1, 2, 3}
    assert prediction.probabilities.dtype == np.float16 and prediction.probabilities.shape == (3, *case.shape)
    np.testing.assert_allclose(prediction.probabilities, expected, atol=1e-3)
    assert (prediction.device, prediction.fallback, prediction.model_version) == ("cpu", None, "1")
    assert progress[-1].done == progress[-1].total == 4  # 24 x 21 x 15 box: 2 x 2 x 1 windows of 16


def test_real_tiny_network_on_a_resampled_grid(tmp_path) -> None:
    bundle = ModelBundle.load(make_tiny_bundle(tmp_path / "m", spacing=(2.0, 2.0, 2.0)))
    prediction = run_prediction(Predictor(bundle, device="cpu"), make_case())
    assert prediction.labels.shape == (26, 22, 18) and prediction.probabilities is None
    assert set(np.unique(prediction.labels)) <= {0, 1, 2, 3}
    assert not prediction.labels[:, :, :2].any()  # outside the brain box + margin
    assert prediction.seconds > 0


def test_tta_runs_every_mirror_and_keeps_an_equivariant_result(bundle) -> None:
    case = make_case()
    plain = run_prediction(with_network(Predictor(bundle, device="cpu"), FirstThree()), case)
    network = FirstThree()
    mirrored = run_prediction(
        with_network(Predictor(bundle, device="cpu", tta=True, batch_size=1), network), case
    )
    assert network.calls == 4 * 8  # 4 windows x 8 mirrors
    np.testing.assert_array_equal(mirrored.labels, plain.labels)
    assert len(MIRRORS) == 8 and len(set(MIRRORS)) == 8 and MIRRORS[0] == ()
    assert mirror_set(3) == ((), (2,), (3,)) and mirror_set(False) == ((),)
    with pytest.raises(ValueError, match="1 to 8"):
        mirror_set(9)


def test_cancel_stops_within_one_batch(bundle) -> None:
    network = FirstThree()
    predictor = with_network(Predictor(bundle, device="cpu", batch_size=1), network)
    token = CancelToken()
    with pytest.raises(CancelledError):
        run_prediction(predictor, make_case(), cancel=token, on_progress=lambda p: token.cancel())
    assert network.calls == 1
    with pytest.raises(CancelledError):  # cancelled before the first window
        run_prediction(predictor, make_case(), cancel=token)
    assert network.calls == 1


def test_missing_sequence_is_refused(bundle) -> None:
    case = make_case()
    del case.channels["t1ce"]
    with pytest.raises(PreprocessError, match=r"\['t1ce'\] is missing"):
        run_prediction(Predictor(bundle, device="cpu"), case)


def test_small_components_are_removed_and_small_et_becomes_ncr() -> None:
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[2:8, 2:8, 2:8] = 2  # 216 voxels of ED
    labels[4:6, 4:6, 4:6] = 3  # 8 voxels of ET inside
    labels[15:17, 15:17, 15] = 1  # a 4-voxel island
    out = remove_small_components(labels.copy(), 10)
    assert np.count_nonzero(out) == 216 and out[15, 15, 15] == 0
    assert np.count_nonzero(small_et_to_ncr(out.copy(), 9) == 1) == 8
    assert np.count_nonzero(small_et_to_ncr(out.copy(), 8) == 3) == 8
    # thresholds are in mm^3: 2 mm isotropic voxels are 8 mm^3 each
    cleaned = postprocess(labels.copy(), (2.0, 2.0, 2.0), Postprocessing(min_component_mm3=40, min_et_mm3=72))
    assert cleaned[15, 15, 15] == 0 and np.count_nonzero(cleaned == 1) == 8
    unchanged = postprocess(labels.copy(), (1.0, 1.0, 1.0), Postprocessing(0, 0))
    np.testing.assert_array_equal(unchanged, labels)


def test_cuda_fallback_chain_order() -> None:
    cuda = torch.device("cuda")
    assert [
        (a.device.type, a.stitch_device.type, a.batch_size, a.fallback) for a in fallback_attempts(cuda, 4)
    ] == [
        ("cuda", "cuda", 4, None),
        ("cuda", "cuda", 2, "smaller batch (2)"),
        ("cuda", "cuda", 1, "smaller batch (1)"),
        ("cuda", "cpu", 1, "stitching on the CPU"),
        ("cpu", "cpu", 2, "CPU (GPU out of memory)"),
    ]
    assert fallback_attempts(CPU, 2) == [Attempt(CPU, CPU, 2)]


def test_out_of_memory_moves_down_the_chain_and_reports_it() -> None:
    attempts = [Attempt(CPU, CPU, 2), Attempt(CPU, CPU, 1, "smaller batch (1)"), Attempt(CPU, CPU, 1, "CPU")]
    tried = []

    def run(attempt):
        tried.append(attempt.batch_size)
        yield Progress(0, 1)
        if len(tried) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return "done"

    generator = run_with_fallbacks(attempts, run)
    with pytest.raises(StopIteration) as stop:
        while True:
            next(generator)
    assert stop.value.value == ("done", attempts[1]) and tried == [2, 1]

    def fails(attempt):
        yield Progress(0, 1)
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        list(run_with_fallbacks(attempts, fails))


def test_bad_overlap_is_refused_up_front(bundle) -> None:
    with pytest.raises(ValueError, match=r"overlap must be in \[0, 1\), got 1.5"):
        Predictor(bundle, device="cpu", overlap=1.5)


def test_device_choice() -> None:
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type in {"cuda", "mps", "cpu"}
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "Brats18_CBICA_AME_1"


@pytest.mark.real_data
@pytest.mark.skipif(not REAL.is_dir(), reason=f"real BraTS cases absent ({REAL})")
def test_real_case_labels_on_its_grid_and_only_inside_the_brain(tmp_path) -> None:
    from segmentation_core.io import load_case

    case = load_case(REAL)
    bundle = ModelBundle.load(
        make_tiny_bundle(tmp_path / "m", spacing=(4.0, 4.0, 4.0), patch_size=(16, 16, 16))
    )
    # one thread: tiny layers on a machine shared with other jobs are faster without thread barriers
    predictor = Predictor(bundle, device="cpu", postprocess=False, threads=1)
    prediction = run_prediction(predictor, case, want_probabilities=True)
    assert prediction.labels.shape == (240, 240, 155) == case.shape
    assert prediction.probabilities.shape == (3, 240, 240, 155)
    brain = np.zeros(case.shape, bool)
    for volume in case.channels.values():
        brain |= volume.array != 0
    hits = [np.flatnonzero(brain.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    outside = np.ones(case.shape, bool)
    outside[tuple(slice(max(0, h[0] - 2), h[-1] + 3) for h in hits)] = False
    assert outside.any() and not prediction.labels[outside].any()
    assert not prediction.probabilities[:, outside].any() and prediction.probabilities[:, ~outside].all()
