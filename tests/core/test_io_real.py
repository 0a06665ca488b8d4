"""Round trips on the real BraTS 2018 cases in <repo>/../shared/data/real (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from segmentation_core.io import find_cases, load_case, write_label_map
from segmentation_core.labels import convert
from segmentation_core.types import SEQUENCES

REAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real").resolve()
CASES = sorted(p.name for p in REAL.iterdir() if p.is_dir()) if REAL.is_dir() else []
#: The three validation cases and one whose t1 has qform_code 2 while its seg has 1.
ROUND_TRIP = [
    c
    for c in ("Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1", "Brats18_TCIA01_499_1")
    if c in CASES
]
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not CASES, reason=f"real BraTS cases not available: {REAL} is missing or empty"),
]


def test_find_cases_lists_every_real_case() -> None:
    assert [p.name for p in find_cases(REAL)] == CASES


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_real_case_loads_canonically_and_exports_byte_identical_labels(name: str, tmp_path: Path) -> None:
    folder = REAL / name
    case = load_case(folder)
    seg_file = folder / f"{name}_seg.nii.gz"
    source = nib.load(seg_file)
    assert case.case_id == name
    assert case.shape == (240, 240, 155) and case.spacing == (1.0, 1.0, 1.0)
    assert case.grid.orientation == "RAS" and case.warnings == []
    np.testing.assert_array_equal(case.source_affine, source.affine)
    t1 = nib.as_closest_canonical(nib.load(folder / f"{name}_t1.nii.gz"))  # nibabel's own reorientation
    np.testing.assert_array_equal(case.channels["t1"].array, np.asanyarray(t1.dataobj).astype(np.float32))
    assert sorted(case.channels) == sorted(SEQUENCES)
    assert case.labels is not None and case.labels.scheme == "brats"
    canonical_seg = np.asanyarray(nib.as_closest_canonical(source).dataobj)
    np.testing.assert_array_equal(case.labels.array, convert(canonical_seg, "brats", "internal"))
    out = write_label_map(case.labels.array, case, tmp_path / f"{name}_pred.nii.gz")
    written = nib.load(out)
    np.testing.assert_array_equal(written.affine, source.affine)
    reference = nib.load(folder / f"{name}_t1.nii.gz").header  # codes follow the reference image (t1)
    assert written.header["sform_code"] == reference["sform_code"]
    assert written.header["qform_code"] == reference["qform_code"]
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), np.asanyarray(source.dataobj))


def test_monai_agrees_on_the_canonical_orientation() -> None:
    monai_transforms = pytest.importorskip("monai.transforms")
    folder = REAL / CASES[0]
    image = monai_transforms.LoadImage(image_only=True, ensure_channel_first=True)(
        folder / f"{CASES[0]}_flair.nii.gz"
    )
    ras = monai_transforms.Orientation(axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))(image)
    case = load_case(folder)
    np.testing.assert_array_equal(ras[0].numpy(), case.channels["flair"].array)
    np.testing.assert_allclose(ras.affine.numpy(), case.affine)
