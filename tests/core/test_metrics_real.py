"""Cross-check on real BraTS cases against MONAI's DiceMetric, HausdorffDistanceMetric and ASD.

The prediction is the reference with the whole tumour dilated by one voxel and the tumour core and the
enhancing tumour eroded by one voxel, so every region differs.
Skipped when <repo>/../shared/data/real is absent.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from segmentation_core.labels import ED, NCR, region_mask
from segmentation_core.metrics import region_metrics
from segmentation_core.metrics.surface import bounding_box

REAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real").resolve()
CASES = [c for c in ("Brats18_CBICA_AME_1", "Brats18_2013_20_1") if (REAL / c).is_dir()]
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not CASES, reason=f"real BraTS cases not available: {REAL} is missing or empty"),
]


@functools.cache
def case_labels(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(perturbed prediction, reference) of a real case, read once per test session."""
    from segmentation_core.io import read_label_file

    ref = read_label_file(REAL / name / f"{name}_seg.nii.gz").array
    return perturbed(ref), ref


def perturbed(ref: np.ndarray) -> np.ndarray:
    """The reference with ET's surface turned NCR, TC's surface turned ED and WT grown by one voxel (ED)."""
    pred = ref.copy()
    for region, value in (("ET", NCR), ("TC", ED)):
        mask = region_mask(ref, region)
        pred[mask & ~ndimage.binary_erosion(mask)] = value
    pred[ndimage.binary_dilation(ref > 0) & (ref == 0)] = ED
    return pred


def monai_scores(pred: np.ndarray, ref: np.ndarray, region: str, spacing: tuple[float, ...]) -> dict:
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("monai.metrics")
    # MONAI gets the tumour's box with a 2-voxel margin of background: the same masks, less waiting.
    box = bounding_box((pred > 0) | (ref > 0), pad=2)
    p = torch.from_numpy(region_mask(pred, region)[box][None, None].astype(np.float32))
    r = torch.from_numpy(region_mask(ref, region)[box][None, None].astype(np.float32))
    dice = metrics.DiceMetric(include_background=True, reduction="none")(p, r)
    hd95 = metrics.HausdorffDistanceMetric(include_background=True, percentile=95, reduction="none")(
        p, r, spacing=list(spacing)
    )
    asd = metrics.SurfaceDistanceMetric(include_background=True, symmetric=True, reduction="none")(
        p, r, spacing=list(spacing)
    )
    return {"dice": float(dice), "hd95": float(hd95), "asd": float(asd)}


@pytest.fixture
def one_torch_thread():
    """MONAI's tensor work on one thread: on a shared 2-core machine more threads only wait."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.9, 1.2, 2.5)])
@pytest.mark.parametrize("name", CASES)
def test_region_metrics_agree_with_monai(name: str, spacing: tuple[float, float, float]) -> None:
    pred, ref = case_labels(name)
    ours = region_metrics(pred, ref, spacing)
    diagonal = math.dist((0, 0, 0), spacing)
    for region in ("WT", "TC", "ET"):
        theirs = monai_scores(pred, ref, region, spacing)
        assert 0.5 < ours[region]["dice"] < 1.0
        assert ours[region]["dice"] == pytest.approx(theirs["dice"], abs=1e-6)
        assert ours[region]["hd95"] > 0
        # Required: within one voxel diagonal. Same surface definition, so in fact float32-close.
        assert abs(ours[region]["hd95"] - theirs["hd95"]) <= diagonal
        assert ours[region]["hd95"] == pytest.approx(theirs["hd95"], abs=1e-3)
        assert ours[region]["asd"] == pytest.approx(theirs["asd"], abs=1e-3)
        voxel_cm3 = np.prod(spacing) / 1000
        assert ours[region]["volume_ref_cm3"] == pytest.approx(region_mask(ref, region).sum() * voxel_cm3)
