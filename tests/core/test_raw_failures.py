"""Bad raw studies: one-line messages naming the step and the sequence; nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation_core.raw import output
from segmentation_core.raw.brain_mask import check_mask
from segmentation_core.raw.errors import RawStudyError
from segmentation_core.raw.pipeline import prepare_study
from segmentation_core.raw.registration import check_plausible, register
from segmentation_core.raw.transforms import RigidTransform, rigid_matrix
from segmentation_core.types import Volume
from tests.core.raw_fixtures import phantom_study, write_study
from tests.core.test_raw_steps import fake_steps

REMEDY = "check that the series belong to the same patient and study, or register them elsewhere first"


@pytest.mark.parametrize(
    ("angles", "shift", "similarity", "message"),
    [
        ((0, 0, 40.0), (0, 0, 0), 0.6, "implausible result: rotation 40.0° > 30°"),
        ((0, 0, 0), (30.0, 40.0, 20.0), 0.6, "implausible result: translation 53.9 mm > 50 mm"),
        (
            (0, 0, 0),
            (0, 0, 0),
            0.05,
            "failed: the images are too dissimilar after registration (mutual information 0.05 < 0.2)",
        ),
    ],
)
def test_implausible_registrations_are_refused_naming_step_and_sequence(
    angles: tuple[float, float, float], shift: tuple[float, float, float], similarity: float, message: str
) -> None:
    transform = RigidTransform(rigid_matrix(angles, shift, np.zeros(3)), np.zeros(3), similarity)
    with pytest.raises(RawStudyError) as error:
        check_plausible(transform, "flair")
    assert str(error.value) == f"co-registration (flair): {message} — {REMEDY}"
    assert "\n" not in str(error.value)


def test_a_plausible_registration_passes() -> None:
    check_plausible(
        RigidTransform(rigid_matrix((10, -5, 20), (10, 20, -30), np.zeros(3)), np.zeros(3), 0.5), "t2"
    )


def test_an_unrelated_image_fails_co_registration() -> None:
    study = phantom_study()
    flat = np.full(study.images["t2"].shape, 100.0, dtype=np.float32)
    flat[:10, :10, :3] = 300.0  # a bright block in a corner: no head at all
    unrelated = Volume(flat, study.images["t2"].affine)
    with pytest.raises(RawStudyError, match=r"^co-registration \(t2\): (failed|implausible result)"):
        register(study.images["t1ce"], unrelated, "t2")


@pytest.mark.parametrize(
    ("radius", "message"),
    [
        (0, "the brain mask is empty"),
        (40, "implausible brain mask: 268 cm³ (a brain is 800-2000 cm³)"),
        (80, "implausible brain mask: 2144 cm³ (a brain is 800-2000 cm³)"),
    ],
)
def test_empty_or_implausible_brain_masks_are_refused(radius: int, message: str) -> None:
    shape = (180, 180, 180)
    index = np.indices(shape) - 90
    mask = (index**2).sum(axis=0) < radius**2
    volume = Volume(np.zeros(shape, np.float32), np.eye(4))
    with pytest.raises(RawStudyError) as error:
        check_mask(mask, volume, "t1ce")
    assert str(error.value) == (
        f"brain extraction (t1ce): {message} — check that the image is a T1-weighted MRI of the whole head"
    )


def test_a_failing_step_leaves_no_output_and_the_writer_refuses_to_overwrite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_steps(monkeypatch)
    prepared = prepare_study(phantom_study())
    calls = {"n": 0}
    real_save = output._save

    def save_then_fail(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real_save(array, affine, path)

    monkeypatch.setattr(output, "_save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        output.write_prepared(prepared, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the output nor a staging folder
    monkeypatch.setattr(output, "_save", real_save)
    output.write_prepared(prepared, tmp_path / "out")
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    before = (tmp_path / "out" / "phantom_t1ce.nii.gz").read_bytes()
    with pytest.raises(
        FileExistsError,
        match=r"out/phantom_t1.nii.gz: already exists; choose another name or allow overwriting$",
    ):
        output.write_prepared(prepared, tmp_path / "out")
    assert (tmp_path / "out" / "phantom_t1ce.nii.gz").read_bytes() == before
    output.write_prepared(prepared, tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep me"
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_the_writer_never_writes_into_the_study_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from segmentation_core.raw.study import read_study

    fake_steps(monkeypatch)
    folder = write_study(phantom_study(), tmp_path / "study")
    prepared = prepare_study(read_study(folder))
    with pytest.raises(FileExistsError, match="the folder the study was read from"):
        output.write_prepared(prepared, folder, overwrite=True)
