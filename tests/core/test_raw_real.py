"""The raw-study pipeline on real data: TCGA-FG-6692 (brain mask, co-registration) and BraTS cases with
known misalignments (transforms recovered, the AI's Dice kept). Skipped when ../shared is absent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from segmentation_core.metrics.overlap import dice
from segmentation_core.raw.pipeline import PreparedStudy, prepare_study
from segmentation_core.raw.resampling import resample
from segmentation_core.raw.segment import RawSegmentation
from segmentation_core.raw.study import RawStudy, read_study
from segmentation_core.raw.transforms import RigidTransform, rigid_matrix
from segmentation_core.types import Volume
from tests.conftest import REPO_ROOT
from tests.core.raw_fixtures import oblique_affine

pytestmark = pytest.mark.real_data
STUDY = (REPO_ROOT / ".." / "shared" / "data" / "clinical" / "TCGA-FG-6692").resolve()


@pytest.fixture(scope="module")
def tcga() -> PreparedStudy:
    if not STUDY.is_dir():
        pytest.skip(f"the raw study is not available: {STUDY} does not exist")
    return prepare_study(read_study(STUDY / "raw"))


def reference(name: str) -> np.ndarray:
    return np.asanyarray(nib.load(STUDY / "reference" / name).dataobj)


def test_tcga_brain_mask_matches_the_hd_bet_reference(tcga: PreparedStudy) -> None:
    assert not tcga.skipped and not tcga.cached
    assert tcga.detection.reasons[0] == "flair, t2 on other grids than t1ce"
    assert tcga.brain_mask_native is not None
    assert dice(tcga.brain_mask_native, reference("t1c_brain_mask_hdbet.nii.gz") > 0) >= 0.95


def correlations(tcga: PreparedStudy, name: str) -> tuple[float, float]:
    """(unregistered, ours) correlation with the reference registration, inside the reference mask."""
    mask = reference("t1c_brain_mask_hdbet.nii.gz") > 0
    ref = tcga.study.reference_volume
    ours = resample(tcga.study.images[name], (ref.shape, ref.affine), tcga.transforms[name].matrix)
    theirs = reference(f"co__t1c__{name}.nii.gz").astype(np.float32)
    unregistered = resample(tcga.study.images[name], (ref.shape, ref.affine))
    return np.corrcoef(unregistered[mask], theirs[mask])[0, 1], np.corrcoef(ours[mask], theirs[mask])[0, 1]


#: FLAIR reaches 0.868: the best rigid transform for this correlation (found by searching for it) gives
#: 0.885 (B-spline; 0.883 linear) and lies 0.28 degrees and 1 mm from ours, so the target asks to match
#: the other tool (NiftyReg block matching) within that. NiftyReg's own transform (recovered by
#: registering each raw sequence onto its reference output, r 0.996) scores only T1 0.906 / T2 0.923 /
#: FLAIR 0.881 here: its resampler leaves zeros in the first and last 2-3 slices, where ours has values
#: (where both have values ours correlates 0.985 / 0.960 / 0.981). A reg_aladin-like block-matching
#: refinement after ours reaches FLAIR 0.882, but recovers the known synthetic motions less well
#: (AME FLAIR 1.26 mm, 2013_20 T1 1.41 mm, against 0.31 and 0.53 mm) at twice the time, so it was not
#: adopted (2026-12-03, /work/experiments/flair/REPORT.md). Measured without reaching it (FLAIR): 5-20%
#: sampling, regular sampling, 64 bins, finer smoothing or shrink schedules, a final level on the native
#: or 1 mm grids (0.845-0.863), the metric inside the reference brain mask dilated 0-20 mm (0.809-0.872),
#: neighbourhood correlation or joint-histogram MI in that mask (0.857-0.869), the inverse registration
#: and the mean of both (0.855, 0.869), N4 bias correction first (0.867); B-spline resampling 0.870;
#: FLAIR registered to T2 and composed with T2 -> T1c (0.865); SimpleITK correlation, Mattes MI or
#: neighbourhood correlation on the native grids in a head mask, from ours (0.70-0.83).
FLAIR_SHORT = pytest.mark.xfail(strict=True, reason="FLAIR correlation 0.868 < 0.88 (see FLAIR_SHORT)")


@pytest.mark.parametrize("name", ["t1", "t2", pytest.param("flair", marks=FLAIR_SHORT)])
def test_tcga_co_registration_matches_the_reference_registrations(tcga: PreparedStudy, name: str) -> None:
    unregistered, ours = correlations(tcga, name)
    assert unregistered < 0.5
    assert ours >= 0.88


def test_tcga_flair_registration_stays_where_it_is(tcga: PreparedStudy) -> None:
    assert correlations(tcga, "flair")[1] >= 0.86


#: Known motions (degrees about x, y, z; mm) of each sequence against the T1c, up to 15 degrees and 15 mm.
MOTIONS = {
    "t1": ((15.0, 0.0, 0.0), (0.0, 15.0, 0.0)),
    "t2": ((-5.0, 9.0, -10.0), (8.0, -6.0, 10.0)),
    "flair": ((6.0, -12.0, 8.0), (-10.0, 7.0, -8.0)),
}


def misaligned_study(case_dir: Path) -> tuple[RawStudy, dict[str, np.ndarray]]:
    """T1c as published; T1, T2, FLAIR moved by MOTIONS and resampled onto oblique 5 mm slices."""
    from segmentation_core.io.readers import read_image

    images, truth = {}, {}
    ref = read_image(case_dir / f"{case_dir.name}_t1ce.nii.gz")
    images["t1ce"] = Volume(ref.array.astype(np.float32), ref.affine)
    centre = (ref.affine @ np.append((np.asarray(ref.array.shape) - 1) / 2, 1))[:3]
    for tilt, (name, (angles, shift)) in zip(((10, -5, 0), (0, 8, -6), (-7, 0, 12)), MOTIONS.items()):
        raw = read_image(case_dir / f"{case_dir.name}_{name}.nii.gz")
        truth[name] = rigid_matrix(angles, shift, centre)
        shape = (256, 256, 34)
        grid = (shape, oblique_affine((0.9375, 0.9375, 5.0), tilt, shape, tuple(centre)))
        # the sequence's world point p shows what the T1c world shows at inv(M) p
        moved = resample(Volume(raw.array.astype(np.float32), raw.affine), grid, np.linalg.inv(truth[name]))
        images[name] = Volume(moved, grid[1])
    return RawStudy(images, "t1ce", case_dir.name), truth


@dataclass(frozen=True)
class Misaligned:
    study: RawStudy
    truth: dict[str, np.ndarray]
    result: RawSegmentation
    dice_before: dict[str, float]
    dice_after: dict[str, float]
    tumour_inside_mask: float


@pytest.fixture(scope="module")
def misaligned(real_case_dir: Path) -> Misaligned:
    """The pipeline on a BraTS case whose T1, T2, FLAIR were moved onto 5 mm slices, and the AI on the original."""
    from resources import default_model_dir
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case, to_canonical
    from segmentation_core.labels import region_mask
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.raw.segment import run_study

    study, truth = misaligned_study(real_case_dir)
    predictor = Predictor(ModelBundle.load(default_model_dir()))
    result = run_study(study, predictor)
    case = load_case(real_case_dir)
    assert case.labels is not None
    np.testing.assert_allclose(result.case.affine, case.affine, atol=1e-4)
    original = run_prediction(predictor, case).labels
    reference = case.labels.array
    before, after = {}, {}
    for region in ("WT", "TC", "ET"):
        before[region] = dice(region_mask(original, region), region_mask(reference, region))
        after[region] = dice(region_mask(result.labels, region), region_mask(reference, region))
    mask = result.prepared.brain_mask_native
    assert mask is not None
    canonical_mask = to_canonical(mask.astype(np.uint8), study.reference_volume.affine)[0] > 0
    tumour = reference > 0
    inside = float(np.count_nonzero(tumour & canonical_mask) / np.count_nonzero(tumour))
    return Misaligned(study, truth, result, before, after, inside)


def test_the_tumour_stays_inside_the_brain_mask(misaligned: Misaligned) -> None:
    assert misaligned.tumour_inside_mask >= 0.98


@pytest.mark.parametrize("name", list(MOTIONS))
def test_known_misalignments_are_recovered(misaligned: Misaligned, name: str) -> None:
    error = np.linalg.inv(misaligned.truth[name]) @ misaligned.result.prepared.transforms[name].matrix
    assert RigidTransform(error).rotation_degrees <= 1.5
    brain = np.argwhere(misaligned.result.prepared.brain_mask_native)[::97]
    ref = misaligned.study.reference_volume.affine
    points = np.vstack([ref[:3, :3] @ brain.T + ref[:3, 3:4], np.ones(len(brain))])
    assert np.linalg.norm((error @ points - points)[:3], axis=0).max() <= 1.5


def test_a_misleading_first_guess_does_not_decide_the_registration(real_data_dir: Path) -> None:
    """Brats18_2013_20_1's moved FLAIR: the centres-of-mass start (best initial metric) converged 9.8
    degrees and 17 mm off (mutual information 0.270); the other starts find the motion (0.311)."""
    from segmentation_core.raw.registration import register

    case = real_data_dir / "Brats18_2013_20_1"
    if not case.is_dir():
        pytest.skip(f"real case missing: {case}")
    study, truth = misaligned_study(case)
    result = register(study.reference_volume, study.images["flair"], "flair")
    error = np.linalg.inv(truth["flair"]) @ result.matrix
    assert RigidTransform(error).rotation_degrees <= 1.5
    ref = study.reference_volume
    brain = np.argwhere(ref.array > 0)[::97]
    points = np.vstack([ref.affine[:3, :3] @ brain.T + ref.affine[:3, 3:4], np.ones(len(brain))])
    assert np.linalg.norm((error @ points - points)[:3], axis=0).max() <= 1.5


#: Measured with the bundled model v2.1 (this fixture run on each case): Brats18_CBICA_AME_1 WT 0.882 /
#: TC 0.849 / ET 0.778 after the pipeline against 0.891 / 0.870 / 0.779 on the original; Brats18_2013_20_1
#: (not a test here: minutes more) 0.851 / 0.760 / 0.746 against 0.866 / 0.788 / 0.782, within 0.05 too
#: (before every start was tried, its FLAIR registration ended 9.8 degrees off and WT fell to 0.812).
#: With v1 AME lost WT 0.025 (the registration 0.003, the 5 mm slices 0.015, interpolating twice 0.006).
@pytest.mark.parametrize("region", ["WT", "TC", "ET"])
def test_the_ai_keeps_its_dice_on_the_misaligned_thick_slice_case(
    misaligned: Misaligned, region: str
) -> None:
    assert misaligned.dice_after[region] >= misaligned.dice_before[region] - 0.05
