"""The export job writes a verified NIfTI in the source geometry, and optionally fills the training library."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np

from app.jobs.export import ExportRequest
from segmentation_core.io import load_case
from segmentation_core.types import CancelToken
from tests.core.io_fixtures import oblique_affine, write_brats_case
from tests.generators import drain


def test_export_round_trips_in_the_source_geometry(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BRATS_VIEWER_DATA_DIR", str(tmp_path / "data"))
    folder = write_brats_case(tmp_path / "Case_001", shape=(20, 22, 18), affine=oblique_affine())
    case = load_case(folder)
    labels = np.zeros(case.shape, np.uint8)
    labels[5:9, 6:10, 4:8] = 3  # ET
    labels[9:12, 6:10, 4:8] = 1  # NCR
    request = ExportRequest(
        case, labels, tmp_path / "out_seg.nii.gz", model_version="2", extra={"edits": {"voxels_changed": 7}},
        add_to_library=True,
    )  # fmt: skip
    progress, result = drain(request.run(CancelToken()))
    assert [p.message for p in progress] == [
        "writing out_seg.nii.gz",
        "adding the case to your training set",
        "done",
    ]
    written = nib.load(result.nifti)
    source = nib.load(folder / "Case_001_t1.nii.gz")
    assert written.shape == source.shape
    np.testing.assert_allclose(written.affine, source.affine)
    values, counts = np.unique(np.asarray(written.dataobj), return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist())) == {0: 20 * 22 * 18 - 112, 1: 48, 4: 64}
    sidecar = json.loads((tmp_path / "out_seg.json").read_text())
    assert sidecar["model_version"] == "2" and sidecar["edits"] == {"voxels_changed": 7}
    assert (
        result.library_case is not None
        and result.library_case.parent == tmp_path / "data" / "training-library"
    )
    assert np.array_equal(load_case(result.library_case).labels.array, labels)
