"""``brats-seg preprocess`` and ``brats-seg predict`` on raw studies (fast fakes for registration and deepbet)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from segmentation_core.cli import main
from segmentation_core.raw.transforms import RigidTransform
from tests.core.model_fixtures import make_tiny_bundle
from tests.core.raw_fixtures import phantom_study, write_study
from tests.core.test_raw_steps import fake_steps


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_preprocess_writes_model_ready_images_masks_and_transforms(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_steps(monkeypatch)
    study = write_study(phantom_study(), tmp_path / "P001")
    assert main(["preprocess", str(study), "-o", str(tmp_path / "out")]) == 0
    names = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert names == [
        "P001_brainmask.nii.gz",
        "P001_brainmask_native.nii.gz",
        "P001_flair.nii.gz",
        "P001_t1.nii.gz",
        "P001_t1ce.nii.gz",
        "P001_t2.nii.gz",
        "preprocessing.json",
        "transforms/flair_to_t1ce.tfm",
        "transforms/t1_to_t1ce.tfm",
        "transforms/t2_to_t1ce.tfm",
    ]
    t1ce = nib.load(tmp_path / "out" / "P001_t1ce.nii.gz")
    assert t1ce.shape == (148, 176, 128) and nib.aff2axcodes(t1ce.affine) == ("R", "A", "S")
    native = nib.load(tmp_path / "out" / "P001_brainmask_native.nii.gz")
    np.testing.assert_allclose(native.affine, phantom_study().reference_volume.affine, atol=1e-5)
    summary = json.loads((tmp_path / "out" / "preprocessing.json").read_text())
    assert summary["reference"] == "t1ce" and sorted(summary["transforms"]) == ["flair", "t1", "t1ce", "t2"]
    itk = sitk.ReadTransform(str(tmp_path / "out" / "transforms" / "t2_to_t1ce.tfm"))
    np.testing.assert_allclose(RigidTransform.from_itk(itk).matrix, np.eye(4), atol=1e-9)


def test_preprocess_of_a_study_missing_a_sequence_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = phantom_study()
    del study.images["t2"]
    folder = write_study(study, tmp_path / "P002")
    assert main(["preprocess", str(folder), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: sequence identification (t2): missing in {folder} (found flair, t1, t1ce) — the model needs "
        "T1, T1c, T2 and FLAIR; name each file after its sequence or pass them explicitly\n"
    )
    assert not (tmp_path / "out").exists()


def test_predict_on_a_raw_study_writes_labels_on_the_reference_native_grid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = fake_steps(monkeypatch)
    study = phantom_study()
    folder = write_study(
        study, tmp_path / "P003", {"t1ce": "T1_AX_POST_GAD.nii.gz", "flair": "FLAIR_AX.nii.gz"}
    )
    out = tmp_path / "pred"
    model = str(make_tiny_bundle(tmp_path / "model", spacing=(4.0, 4.0, 4.0)))
    assert main(["predict", str(folder), "-o", str(out), "--model", model, "--labels-on-all"]) == 0
    labels = nib.load(out / "P003_pred.nii.gz")
    assert labels.shape == study.reference_volume.shape
    np.testing.assert_allclose(labels.affine, study.reference_volume.affine, atol=1e-5)
    ref_labels = np.asanyarray(labels.dataobj) > 0
    assert ref_labels.any()
    for name in ("t1", "t2", "flair"):
        on = nib.load(out / f"P003_pred_on_{name}.nii.gz")
        assert on.shape == study.images[name].shape
        np.testing.assert_allclose(on.affine, study.images[name].affine, atol=1e-5)
        # the same tumour volume on every sequence's grid (mm³, within the thick slices' partial volume)
        volume = np.count_nonzero(np.asanyarray(on.dataobj)) * 1.5 * 1.5 * 5.0
        assert volume == pytest.approx(np.count_nonzero(ref_labels) * 1.5 * 1.5 * 5.0, rel=0.1)
    sidecar = json.loads((out / "P003_pred.json").read_text())
    raw = sidecar["raw_study"]
    assert raw["reference"] == "t1ce" and not raw["steps_skipped"] and not raw["steps_from_cache"]
    assert sorted(raw["transforms"]) == ["flair", "t1", "t1ce", "t2"]
    assert raw["transforms"]["t2"]["matrix_ras"] == np.eye(4).tolist()
    assert {s["role"] for s in sidecar["source_files"]} == {"t1", "t1ce", "t2", "flair"}
    assert sidecar["postprocessing"]["min_component_core_fraction"] == 0.0
    # the second run takes co-registration and brain extraction from the cache
    assert main(["predict", str(folder), "-o", str(tmp_path / "again"), "--model", model]) == 0
    assert calls == {"register": 3, "extract": 1}
    assert "(steps 2-4 from the cache)" in capsys.readouterr().out
    again = json.loads((tmp_path / "again" / "P003_pred.json").read_text())
    assert again["raw_study"]["steps_from_cache"]
    np.testing.assert_array_equal(
        np.asanyarray(nib.load(tmp_path / "again" / "P003_pred.nii.gz").dataobj),
        np.asanyarray(labels.dataobj),
    )
