"""``brats-seg predict INPUT -o OUT``: segment one case or a folder of cases with a model bundle."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

import nibabel as nib
import numpy as np

from segmentation_core.cli.raw_options import add_raw_arguments, is_raw_study, predict_study, study_inputs
from segmentation_core.inference.device import DEVICE_CHOICES
from segmentation_core.labels import SCHEMES
from segmentation_core.types import Case, Progress

NIFTI_SUFFIXES = (".nii.gz", ".nii")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="segment a case or a folder of cases (NCR/ED/ET label maps)",
        description=(
            "Run the 3D U-Net on one case (BraTS-named folder, MSD 4-D file or DICOM folder) or on every "
            "case found under a folder; write <case>_pred.nii.gz label maps in the source geometry."
        ),
    )
    parser.add_argument("input", type=Path, help="a case, or a folder holding case folders")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="output folder (or a .nii.gz file for one case)"
    )
    parser.add_argument("--model", type=Path, help="model bundle folder (default: the bundled model)")
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto", help="where to run (default: auto)"
    )
    parser.add_argument("--overlap", type=float, default=0.5, help="sliding-window overlap in [0, 1)")
    parser.add_argument("--tta", action="store_true", help="mirroring test-time augmentation (8 flips)")
    parser.add_argument(
        "--probabilities",
        action="store_true",
        help="also write <case>_pred_probabilities.nii.gz (WT/TC/ET, float32, 4-D)",
    )
    parser.add_argument("--batch-size", type=int, help="windows per batch (default: by device)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--no-postprocess", action="store_true", help="keep tiny components and small ET")
    parser.add_argument(
        "--scheme", choices=sorted(SCHEMES), default="brats", help="label values to write (default: brats)"
    )
    add_raw_arguments(parser)  # raw studies (#15)
    parser.set_defaults(func=run)


def default_model() -> Path:
    """The bundled default model folder; a clear error when this build has none."""
    from resources import default_model_dir

    folder = default_model_dir()
    if not (folder / "model.json").is_file():
        raise ValueError(f"{folder}: no default model is bundled with this build; pass --model DIR")
    return folder


def case_inputs(path: Path) -> list[Path]:
    """The cases named by INPUT: a file is one case, a folder is searched (it may be a case itself)."""
    from segmentation_core.io import find_cases

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path] if path.is_file() else find_cases(path)


def output_path(output: Path, case: Case, single: bool) -> Path:
    """``output`` itself for one case given a NIfTI name, else ``output/<case_id>_pred.nii.gz``."""
    if output.name.lower().endswith(NIFTI_SUFFIXES):
        if not single:
            raise ValueError(f"{output}: several cases need an output folder, not a file name")
        output.parent.mkdir(parents=True, exist_ok=True)
        return output
    output.mkdir(parents=True, exist_ok=True)
    return output / f"{case.case_id or 'case'}_pred.nii.gz"


def write_probabilities(probabilities: np.ndarray, case: Case, labels_path: Path) -> Path:
    """(3, X, Y, Z) probabilities on the case grid -> 4-D float32 NIfTI (X, Y, Z, 3) in the source layout."""
    from segmentation_core.io import to_source_orientation

    name = labels_path.name
    stem = name[: -len(next(s for s in NIFTI_SUFFIXES if name.lower().endswith(s)))]
    path = labels_path.with_name(f"{stem}_probabilities.nii.gz")
    data = to_source_orientation(np.moveaxis(probabilities.astype(np.float32), 0, -1), case)
    affine = case.source_affine if case.source_affine is not None else case.affine
    image = nib.Nifti1Image(data, affine)
    image.header.set_intent("vector", name="WT TC ET")
    nib.save(image, path)
    return path


class ProgressBar:
    """A one-line progress bar with ETA on a text stream (redrawn in place on a terminal)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.width = label, width
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.tty = self.stream.isatty()

    def update(self, progress: Progress) -> None:
        if not self.tty and progress.done < progress.total:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / progress.done * (progress.total - progress.done) if progress.done else 0.0
        filled = int(round(self.width * progress.fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {progress.done}/{progress.total}  {elapsed:5.1f}s  ETA {eta:5.1f}s"
        self.stream.write(
            ("\r" if self.tty else "") + line + ("\n" if progress.done >= progress.total else "")
        )
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.io import load_case, write_label_map
    from segmentation_core.models.bundle import ModelBundle

    bundle = ModelBundle.load(args.model if args.model is not None else default_model())
    predictor = Predictor(
        bundle,
        device=args.device,
        overlap=args.overlap,
        tta=args.tta,
        batch_size=args.batch_size,
        postprocess=not args.no_postprocess,
        threads=args.threads,
    )
    inputs = study_inputs(args.input) or case_inputs(args.input)
    failed: list[str] = []
    for index, source in enumerate(inputs, start=1):
        if is_raw_study(source, args):  # co-register, skull-strip, resample; labels on the native grid
            if not predict_study(source, args, predictor, bundle, single=len(inputs) == 1):
                failed.append(source.name)
            continue
        try:
            case = load_case(source)
            target = output_path(args.output, case, single=len(inputs) == 1)
            bar = ProgressBar(f"[{index}/{len(inputs)}] {case.case_id}")
            prediction = run_prediction(
                predictor, case, on_progress=bar.update, want_probabilities=args.probabilities
            )
            extra = {
                "model": bundle.name,
                "device": prediction.device,
                "fallback": prediction.fallback,
                "seconds": round(prediction.seconds, 3),
                "tta": args.tta,
                "overlap": args.overlap,
            }
            write_label_map(
                prediction.labels, case, target, scheme=args.scheme, model_version=bundle.version, extra=extra
            )
            if prediction.probabilities is not None:
                write_probabilities(prediction.probabilities, case, target)
        except (OSError, ValueError) as exc:
            if len(inputs) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            failed.append(source.name)
            continue
        note = f" (fallback: {prediction.fallback})" if prediction.fallback else ""
        print(f"{target}  {prediction.seconds:.1f}s on {prediction.device}{note}")
    if failed:
        print(f"{len(failed)} of {len(inputs)} cases failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
