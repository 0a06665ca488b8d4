"""Command-line options and the ``predict`` hook for raw studies (shared by ``preprocess`` and ``predict``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation_core.types import SEQUENCES

if TYPE_CHECKING:
    from segmentation_core.inference.predictor import Predictor
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.raw.cache import StudyCache
    from segmentation_core.raw.pipeline import RawOptions
    from segmentation_core.raw.segment import RawSegmentation


def add_raw_arguments(parser: argparse.ArgumentParser, *, predict: bool = False) -> None:
    """--raw / --brats-like (force either way), --reference, --brain-sequence, --no-cache."""
    group = parser.add_argument_group("raw studies (skull on, thick slices, sequences not aligned)")
    force = group.add_mutually_exclusive_group()
    force.add_argument(
        "--raw",
        dest="force",
        action="store_const",
        const="raw",
        help="always co-register, skull-strip and resample, skipping the BraTS-like detection (default: auto, detect)",
    )
    force.add_argument(
        "--brats-like",
        dest="force",
        action="store_const",
        const="brats",
        help="never do: the input is already co-registered, skull-stripped, without thick slices (default: auto, detect)",
    )
    group.add_argument(
        "--reference",
        choices=SEQUENCES,
        default="t1ce",
        help="sequence whose native grid the others are registered to and labels are written on "
        "(default: t1ce)",
    )
    group.add_argument(
        "--brain-sequence",
        choices=("t1ce", "t1"),
        default="t1ce",
        help="T1-weighted sequence the brain is extracted from (default: t1ce)",
    )
    if predict:
        group.add_argument(
            "--labels-on-all",
            action="store_true",
            help="also write the labels on every other sequence's own grid (<case>_pred_on_<sequence>.nii.gz) "
            "(default: off)",
        )
    group.add_argument(
        "--no-cache",
        action="store_true",
        help="do not reuse or store co-registration and brain extraction results (default: off, cached by input hash)",
    )
    parser.set_defaults(force="auto")


def raw_options(args: argparse.Namespace) -> RawOptions:
    from segmentation_core.raw.pipeline import RawOptions

    return RawOptions(force=args.force, brain_sequence=args.brain_sequence)


def study_cache(args: argparse.Namespace) -> StudyCache | None:
    from segmentation_core.raw.cache import StudyCache

    return None if args.no_cache else StudyCache()


def study_inputs(path: Path) -> list[Path] | None:
    """``[path]`` when ``path`` is one study folder whose file names identify the four sequences, else None."""
    from segmentation_core.raw.study import looks_like_study

    return [path] if looks_like_study(path) else None


def is_raw_study(source: Path, args: argparse.Namespace) -> bool:
    """Whether ``predict`` should run the raw-study pipeline on ``source`` (detected, or forced)."""
    if args.force == "brats" or not source.is_dir():
        return False
    if args.force == "raw":
        return True
    from segmentation_core.io.naming import has_dicom
    from segmentation_core.raw.detect import detect
    from segmentation_core.raw.study import looks_like_study, read_study

    if not (looks_like_study(source) or has_dicom(source)):
        return False
    try:
        study = read_study(source, reference=args.reference)
    except Exception:  # not a readable study (any reader error): the case loader says what is wrong
        return False
    return not detect(study).brats_like


def predict_study(
    source: Path, args: argparse.Namespace, predictor: Predictor, bundle: ModelBundle, single: bool
) -> tuple[Path, str]:
    """``brats-seg predict`` on one raw study: labels on the reference's native grid, transforms in the sidecar.

    Returns (label map path, a note on time, device and steps); errors propagate to ``predict``'s loop.
    """
    from segmentation_core.cli.predict import ProgressBar, output_path, sidecar_extra
    from segmentation_core.io import write_label_map
    from segmentation_core.raw.segment import run_study

    bar = ProgressBar(source.name)
    result = run_study(
        source,
        predictor,
        raw_options(args),
        reference=args.reference,
        progress=bar.update,
        cache=study_cache(args),
        want_probabilities=args.probabilities,
    )
    target = output_path(args.output, result.case, single=single)
    extra = {
        **sidecar_extra(
            bundle,
            predictor,
            args,
            result.device,
            result.fallback,
            sum(result.timings.values()),
            result.cleanup,
        ),
        "raw_study": result.provenance(),
    }
    write_label_map(
        result.labels,
        result.case,
        target,
        scheme=args.scheme,
        model_version=bundle.version,
        extra=extra,
        probabilities=result.probabilities,
        overwrite=args.overwrite,
    )
    steps = (
        "steps 2-4 from the cache"
        if result.prepared.cached
        else "BraTS-like"
        if result.prepared.skipped
        else ""
    )
    if args.labels_on_all:
        write_labels_on_sequences(result, target, args.scheme, args.overwrite)
    note = f"{sum(result.timings.values()):.1f}s on {result.device}" + (f" ({steps})" if steps else "")
    return target, note


def write_labels_on_sequences(
    result: RawSegmentation, target: Path, scheme: str, overwrite: bool
) -> list[Path]:
    """``<target stem>_on_<sequence>.nii.gz`` for every sequence but the reference, each on its own file's grid."""
    import nibabel as nib
    import numpy as np

    from segmentation_core.atomic import Commit
    from segmentation_core.io.naming import split_suffix
    from segmentation_core.labels import convert

    study = result.prepared.study
    stem = split_suffix(target.name)[0]
    written = []
    with Commit(overwrite=overwrite, protected=study.all_files()) as commit:
        for name in SEQUENCES:
            if name == study.reference:
                continue
            volume = study.images[name]
            labels = convert(result.labels_on(name), "internal", scheme).astype(np.uint8)
            image = nib.Nifti1Image(labels, volume.affine)
            image.set_sform(volume.affine, code=1)
            image.set_qform(volume.affine, code=1)
            final = target.with_name(f"{stem}_on_{name}.nii.gz")
            nib.save(image, commit.stage(final))
            written.append(final)
    return written
