"""A corpus of hostile and broken inputs, each a case folder built from a small valid case.

``build_corpus(root)`` writes every entry under ``root`` and returns them. Each entry says what a
correct program does with it: ``"ok"`` (loads; it may warn), ``"refuse"`` (one clear line naming
``culprit``), or ``"warn"`` (loads with a warning containing ``expect``, but the AI refuses to
segment it). Run ``python -m tests.robustness.corpus DIR`` to write the corpus for manual tries.
"""

from __future__ import annotations

import gzip
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from tests.core.io_fixtures import LPS_AFFINE, case_file_name, synthetic_images, write_brats_case, write_nifti

SHAPE = (16, 16, 16)
CASE = "Case_001"


@dataclass(frozen=True)
class Entry:
    """One corpus input: the path to give the CLI, the expected outcome and what the message must name."""

    name: str
    path: Path
    outcome: str  # "ok", "warn" or "refuse"
    culprit: str = ""  # a file or folder name the error line must contain
    expect: str = ""  # words the error or warning must contain


def _file(folder: Path, role: str, suffix: str = ".nii.gz") -> Path:
    return folder / case_file_name(CASE, role, suffix=suffix)


def _case(folder: Path, suffix: str = ".nii.gz") -> Path:
    return write_brats_case(folder, SHAPE, case_id=CASE, suffix=suffix)


def _replace_t1(folder: Path, array: np.ndarray, affine: np.ndarray = LPS_AFFINE) -> Path:
    _file(folder, "t1").unlink()
    image = nib.Nifti1Image(array, affine)
    nib.save(image, _file(folder, "t1"))
    return _file(folder, "t1")


def _patch_header(path: Path, offset: int, fmt: str, *values: float) -> None:
    """Overwrite header bytes of an uncompressed or gzipped NIfTI-1 file."""
    compressed = path.name.endswith(".gz")
    data = bytearray(gzip.decompress(path.read_bytes()) if compressed else path.read_bytes())
    data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, *values)
    path.write_bytes(gzip.compress(bytes(data)) if compressed else bytes(data))


def _image(seed: int = 0) -> np.ndarray:
    return synthetic_images(SHAPE, seed)["t1"]


BUILDERS: dict[str, tuple[str, str, str, Callable[[Path], Path]]] = {}


def entry(name: str, outcome: str, culprit: str = "", expect: str = ""):  # noqa: ANN201
    """Register a builder ``f(folder) -> path to give the CLI``."""

    def register(build: Callable[[Path], Path]) -> Callable[[Path], Path]:
        BUILDERS[name] = (outcome, culprit, expect, build)
        return build

    return register


T1 = case_file_name(CASE, "t1")
T1_NII = case_file_name(CASE, "t1", suffix=".nii")


@entry("valid", "ok")
def _valid(folder: Path) -> Path:
    return _case(folder)


@entry("missing_flair", "refuse", "missing_flair", "flair")
def _missing(folder: Path) -> Path:
    _case(folder)
    _file(folder, "flair").unlink()
    return folder


@entry("empty_folder", "refuse", "empty_folder", "empty")
def _empty(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


@entry("four_d_t1", "refuse", T1, "dimension")
def _four_d(folder: Path) -> Path:
    _case(folder)
    _replace_t1(folder, np.stack([_image(), _image()], axis=-1))
    return folder


@entry("truncated_gz", "refuse", T1, "truncated")
def _truncated_gz(folder: Path) -> Path:
    _case(folder)
    data = _file(folder, "t1").read_bytes()
    _file(folder, "t1").write_bytes(data[: len(data) // 2])
    return folder


@entry("truncated_nii", "refuse", T1_NII, "truncated")
def _truncated_nii(folder: Path) -> Path:
    _case(folder, ".nii")
    path = _file(folder, "t1", ".nii")
    path.write_bytes(path.read_bytes()[:1000])
    return folder


@entry("zero_bytes", "refuse", T1, "NIfTI")
def _zero_bytes(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").write_bytes(b"")
    return folder


@entry("random_bytes", "refuse", T1, "NIfTI")
def _random_bytes(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").write_bytes(np.random.default_rng(0).bytes(4000))
    return folder


@entry("header_32767_cubed", "refuse", T1_NII, "claims")
def _huge_nii(folder: Path) -> Path:
    _case(folder, ".nii")
    _patch_header(_file(folder, "t1", ".nii"), 40, "<4h", 3, 32767, 32767, 32767)
    return folder


@entry("gz_1kb_claims_2gib", "refuse", T1, "claims")
def _gz_bomb(folder: Path) -> Path:
    _case(folder)
    _patch_header(_file(folder, "t1"), 40, "<4h", 3, 1024, 1024, 1024)  # int16: 2 GiB
    return folder


@entry("nifti2_100000_cubed", "refuse", T1_NII, "claims")
def _absurd(folder: Path) -> Path:
    _case(folder, ".nii")
    path = _file(folder, "t1", ".nii")
    nib.save(nib.Nifti2Image(_image(), LPS_AFFINE), path)
    data = bytearray(path.read_bytes())
    data[16:48] = struct.pack("<4q", 3, 100000, 100000, 100000)  # NIfTI-2 dim[0..3]
    path.write_bytes(bytes(data))
    return folder


@entry("dim0_is_9", "refuse", T1, "")
def _dim9(folder: Path) -> Path:
    _case(folder)
    _patch_header(_file(folder, "t1"), 40, "<h", 9)
    return folder


@entry("rgb24", "refuse", T1, "RGB")
def _rgb(folder: Path) -> Path:
    _case(folder)
    rgb = np.zeros(SHAPE, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    _replace_t1(folder, rgb)
    return folder


@entry("spacing_1e6_mm", "refuse", T1, "spacing")
def _spacing(folder: Path) -> Path:
    _case(folder)
    _replace_t1(folder, _image(), np.diag([1e6, 1e6, 1e6, 1.0]))
    return folder


@entry("nan_voxel", "refuse", T1, "NaN")
def _nan(folder: Path) -> Path:
    _case(folder)
    array = _image().astype(np.float32)
    array[3, 3, 3] = np.nan
    _replace_t1(folder, array)
    return folder


@entry("float64_1e39", "refuse", T1, "float32")
def _overflow(folder: Path) -> Path:
    _case(folder)
    array = _image().astype(np.float64)
    array[8, 8, 8] = 1e39
    _replace_t1(folder, array)
    return folder


@entry("complex", "refuse", T1, "complex")
def _complex(folder: Path) -> Path:
    _case(folder)
    _replace_t1(folder, _image().astype(np.complex64) * (1 + 1j))
    return folder


@entry("t1_2x2x2", "refuse", T1, "voxels")
def _tiny(folder: Path) -> Path:
    _case(folder)
    _replace_t1(folder, np.ones((2, 2, 2), np.int16))
    return folder


@entry("singular_affine", "refuse", T1, "affine")
def _singular(folder: Path) -> Path:
    _case(folder)
    affine = LPS_AFFINE.copy()
    affine[2] = affine[1]
    image = nib.Nifti1Image(_image(), None)
    image.set_sform(affine, code=1)  # a qform cannot hold a singular matrix; the sform can
    nib.save(image, _file(folder, "t1"))
    return folder


@entry("all_zero_t1", "warn", T1, "is blank")
def _zero(folder: Path) -> Path:
    _case(folder)
    _replace_t1(folder, np.zeros(SHAPE, np.int16))
    return folder


@entry("constant_flair", "warn", case_file_name(CASE, "flair"), "is constant")
def _constant(folder: Path) -> Path:
    _case(folder)
    write_nifti(_file(folder, "flair"), np.full(SHAPE, 5, np.int16), LPS_AFFINE)
    return folder


@entry("named_pipe_t1", "refuse", T1, "pipe")
def _fifo(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").unlink()
    os.mkfifo(_file(folder, "t1"))
    return folder


@entry("named_pipe_among_dicom", "refuse", "named_pipe_among_dicom", "")
def _fifo_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    os.mkfifo(folder / "IM0001")  # a folder of extension-less names is probed for DICOM
    return folder


@entry("folder_named_like_t1", "refuse", "folder_named_like_t1", "t1")
def _dir_t1(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").unlink()
    _file(folder, "t1").mkdir()
    return folder


@entry("broken_link_t1", "refuse", T1, "")
def _broken_link(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").unlink()
    _file(folder, "t1").symlink_to(folder / "nowhere.nii.gz")
    return folder


@entry("labels_value_7", "refuse", case_file_name(CASE, "seg"), "7")
def _bad_labels(folder: Path) -> Path:
    _case(folder)
    write_nifti(_file(folder, "seg"), np.full(SHAPE, 7, np.uint8), LPS_AFFINE)
    return folder


@entry("labels_fractional", "refuse", case_file_name(CASE, "seg"), "whole numbers")
def _fraction_labels(folder: Path) -> Path:
    _case(folder)
    write_nifti(_file(folder, "seg"), np.full(SHAPE, 0.5, np.float32), LPS_AFFINE)
    return folder


@entry("t2_shifted_20mm", "ok", "", "MISALIGNED")
def _shifted(folder: Path) -> Path:
    _case(folder)
    affine = LPS_AFFINE.copy()
    affine[0, 3] += 8  # 16 mm field of view: 8 mm is half of it
    write_nifti(_file(folder, "t2"), synthetic_images(SHAPE)["t2"], affine)
    return folder


@entry("no_orientation_codes", "ok")
def _no_codes(folder: Path) -> Path:
    _case(folder)
    for role in ("t1", "t1ce", "t2", "flair", "seg"):
        image = nib.load(_file(folder, role))
        write_nifti(_file(folder, role), np.asanyarray(image.dataobj), image.affine, 0, 0)
    return folder


@entry("non_utf8_name", "ok")
def _non_utf8(folder: Path) -> Path:
    folder.mkdir(parents=True)
    name = os.fsdecode(b"Case\xff\xfe")
    for role, array in synthetic_images(SHAPE).items():
        write_nifti(folder / case_file_name(name, role), array, LPS_AFFINE)
    return folder


@entry("msd_three_volumes", "refuse", "bad.nii.gz", "4 volumes")
def _msd3(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "bad.nii.gz"
    write_nifti(path, np.stack([_image()] * 3, axis=-1), LPS_AFFINE)
    return path


@entry("mha_random_bytes", "refuse", "x.mha", "")
def _mha(folder: Path) -> Path:
    _case(folder)
    _file(folder, "t1").unlink()
    (folder / case_file_name(CASE, "t1", suffix=".mha")).write_bytes(
        b"ObjectType = Image\nNDims = 3\n" + b"\0" * 50
    )
    return folder


@entry("dicom_without_orientation", "refuse", "dicom_without_orientation", "ImageOrientationPatient")
def _dicom_no_iop(folder: Path) -> Path:
    return _dicom_without(folder, "ImageOrientationPatient")


@entry("dicom_without_pixel_spacing", "refuse", "dicom_without_pixel_spacing", "PixelSpacing")
def _dicom_no_spacing(folder: Path) -> Path:
    return _dicom_without(folder, "PixelSpacing")


def _dicom_without(folder: Path, tag: str) -> Path:
    import pydicom

    from tests.core.io_fixtures import write_dicom_case

    write_dicom_case(folder, slices=4)
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        delattr(ds, tag)
        ds.save_as(path)
    return folder


def build_corpus(root: Path) -> list[Entry]:
    """Write every corpus entry into its own folder under ``root``."""
    entries = []
    for name, (outcome, culprit, expect, build) in BUILDERS.items():
        path = build(root / name)
        if name == "mha_random_bytes":
            culprit = case_file_name(CASE, "t1", suffix=".mha")
        entries.append(Entry(name, path, outcome, culprit, expect))
    return entries


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "robustness-corpus")
    for item in build_corpus(target):
        print(f"{item.outcome:7} {item.path}")
