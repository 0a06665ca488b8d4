"""The training library: "add to my training set" writes cases that load back exactly and train."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation_core.io import find_cases, load_case
from segmentation_core.registry import (
    DATA_DIR_ENV,
    add_to_training_library,
    library_cases,
    training_library_dir,
)
from segmentation_core.registry.library import safe_case_id
from segmentation_core.types import SEQUENCES
from tests.core.io_fixtures import (
    ANISOTROPIC_AFFINE,
    make_case,
    oblique_affine,
    synthetic_labels,
    write_brats_case,
)


def corrected(labels: np.ndarray) -> np.ndarray:
    """The user's correction: a small box of edema painted off the tumour."""
    out = labels.copy()
    out[1:4, 2:5, 3:6] = 2
    return out


@pytest.mark.parametrize("affine", [oblique_affine(), ANISOTROPIC_AFFINE], ids=["oblique", "anisotropic"])
def test_added_case_loads_back_identically(tmp_path: Path, affine: np.ndarray) -> None:
    source = write_brats_case(tmp_path / "src" / "P1", shape=(24, 20, 16), affine=affine, case_id="P1")
    case = load_case(source)
    labels = corrected(case.labels.array)
    library = tmp_path / "lib"
    folder = add_to_training_library(case, labels, library=library, model_version="2")
    assert folder == library / "P1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"P1_{r}.nii.gz" for r in (*SEQUENCES, "seg")] + ["P1_seg.json"]
    )
    for role in SEQUENCES:  # sources on the case grid are copied byte for byte
        assert (folder / f"P1_{role}.nii.gz").read_bytes() == (source / f"P1_{role}.nii.gz").read_bytes()
    back = load_case(folder)
    assert np.array_equal(back.labels.array, labels)
    assert back.labels.scheme == "brats"
    np.testing.assert_allclose(back.affine, case.affine, atol=1e-5)
    for role in SEQUENCES:
        assert np.array_equal(back.channels[role].array, case.channels[role].array)
    assert find_cases(library) == [folder]
    assert library_cases(library) == [folder]


def test_in_memory_case_is_written_in_its_source_geometry(tmp_path: Path) -> None:
    case = make_case((20, 18, 12), affine=oblique_affine(), case_id="Mem 7/x")
    labels = corrected(case.labels.array)
    folder = add_to_training_library(case, labels, library=tmp_path / "lib")
    assert folder.name == "Mem_7_x"
    back = load_case(folder)
    assert np.array_equal(back.labels.array, labels)
    for role in SEQUENCES:
        np.testing.assert_allclose(back.channels[role].array, case.channels[role].array)
    np.testing.assert_allclose(back.affine, case.affine, atol=1e-5)


def test_adding_again_replaces_the_case(tmp_path: Path) -> None:
    case = make_case((16, 16, 16))
    first = add_to_training_library(case, case.labels.array, library=tmp_path / "lib")
    second = add_to_training_library(case, corrected(case.labels.array), library=tmp_path / "lib")
    assert first == second
    assert np.array_equal(load_case(second).labels.array, corrected(case.labels.array))
    assert [p.name for p in (tmp_path / "lib").iterdir()] == ["Synthetic_001"]  # no staging left


def test_bad_input_is_refused_and_nothing_written(tmp_path: Path) -> None:
    case = make_case((16, 16, 16), case_id="E1")
    with pytest.raises(ValueError, match="E1: the label map is empty"):
        add_to_training_library(case, np.zeros(case.shape, np.uint8), library=tmp_path / "lib")
    with pytest.raises(ValueError, match=r"does not match the case grid \(16, 16, 16\)"):
        add_to_training_library(case, synthetic_labels((8, 8, 8)), library=tmp_path / "lib")
    del case.channels["flair"]
    with pytest.raises(ValueError, match="E1 lacks flair"):
        add_to_training_library(case, case.labels.array, library=tmp_path / "lib")
    assert library_cases(tmp_path / "lib") == []


def test_default_library_lives_in_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "d"))
    assert training_library_dir() == tmp_path / "d" / "training-library"
    assert library_cases() == []
    assert safe_case_id("..") == "case"
