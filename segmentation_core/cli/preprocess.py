"""``brats-seg preprocess INPUT -o OUT``: a raw study -> model-ready images, brain masks and transforms."""

from __future__ import annotations

import argparse
from pathlib import Path

from segmentation_core.cli.raw_options import add_raw_arguments, raw_options, study_cache


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preprocess",
        help="co-register, skull-strip and resample a raw study for the model",
        description=(
            "Read a study (a folder whose file names say T1, T1c, T2 and FLAIR, or a DICOM folder), rigidly "
            "co-register T1, T2 and FLAIR onto the reference, extract the brain with deepbet and resample to "
            "1 mm around the brain; write the z-scored images (BraTS naming), the brain mask on that grid and "
            "on the reference's native grid, the transforms (ITK .tfm) and preprocessing.json into OUT."
        ),
    )
    parser.add_argument("input", type=Path, help="the study folder")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder, created (required)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files of the same names in OUT (other files there are kept) (default: off, refuse)",
    )
    add_raw_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_core.cli.predict import ProgressBar
    from segmentation_core.raw.output import write_prepared
    from segmentation_core.raw.pipeline import prepare_study
    from segmentation_core.raw.progress import StepProgress
    from segmentation_core.raw.study import read_study

    study = read_study(args.input, reference=args.reference)
    bar = ProgressBar(study.case_id)
    weights = {"co-registration": 40.0, "brain extraction": 50.0, "resampling": 10.0}
    prepared = prepare_study(
        study, raw_options(args), cache=study_cache(args), steps=StepProgress(weights, bar.update, None)
    )
    if prepared.skipped:
        print(f"{args.input}: {prepared.detection.describe()} — nothing to preprocess (use --raw to force)")
        return 0
    folder = write_prepared(prepared, args.output, overwrite=args.overwrite)
    for warning in prepared.warnings:
        print(f"warning: {warning}")
    source = "from the cache" if prepared.cached else f"in {sum(prepared.timings.values()):.1f}s"
    print(f"{folder}  ({study.case_id}, steps {source})")
    return 0
