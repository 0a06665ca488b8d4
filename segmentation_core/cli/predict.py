"""``brats-seg predict INPUT -o OUT``: segment one case or a folder of cases with a model bundle.

Every case of a batch is tried; failures are listed at the end and the exit status is 1 when any
failed. Outputs are never written over the input files, and over other existing files only with
``--overwrite``; each case's label map, sidecar and probabilities are committed together.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

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
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output folder (or a .nii.gz file for one case) (required)",
    )
    parser.add_argument("--model", type=Path, help="model bundle folder (default: the bundled model)")
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto", help="where to run (default: %(default)s)"
    )
    parser.add_argument(
        "--overlap", type=float, default=0.5, help="sliding-window overlap in [0, 1) (default: %(default)s)"
    )
    parser.add_argument(
        "--tta",
        action="store_true",
        help="accurate mode: mirroring test-time augmentation, 8 flips (8 network passes per patch, so slower) (default: off)",
    )
    parser.add_argument(
        "--probabilities",
        action="store_true",
        help="also write <case>_pred_probabilities.nii.gz (WT/TC/ET, float32, 4-D) (default: off)",
    )
    parser.add_argument("--batch-size", type=int, help="windows per batch (default: by device)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument(
        "--no-postprocess",
        action="store_true",
        help="keep tiny components and small ET (default: off, they are removed)",
    )
    parser.add_argument(
        "--scheme",
        choices=sorted(SCHEMES),
        default="brats",
        help="label values to write (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files, never the input files (default: off, refuse)",
    )
    parser.add_argument(
        "--dicom-role",
        action="append",
        default=[],
        metavar="SEQ=SERIES",
        help="DICOM: use SERIES (SeriesInstanceUID, SeriesNumber or description) as SEQ (t1, t1ce, t2, flair); repeatable (default: identified from the tags)",
    )
    add_raw_arguments(parser, predict=True)  # raw studies (#15)
    parser.set_defaults(func=run)


def default_model() -> Path:
    """The bundled default model folder; a clear error when this build has none."""
    from resources import default_model_dir

    folder = default_model_dir()
    if not (folder / "model.json").is_file():
        raise ValueError(f"{folder}: no default model is bundled with this build; pass --model DIR")
    return folder


def without_reference_labels(case: Case) -> Case:
    """The case as the prediction uses it: a reference ``_seg`` is neither input nor a source of the output."""
    sources = {role: files for role, files in case.source_files.items() if role != "seg"}
    return dataclasses.replace(case, labels=None, source_files=sources)


def case_inputs(path: Path) -> list[Path]:
    """The cases named by INPUT: a file is one case, a folder is searched (it may be a case itself)."""
    from segmentation_core.io import find_cases

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path] if path.is_file() else find_cases(path)


def output_path(output: Path, case: Case, single: bool) -> Path:
    """``output`` itself for one case given a NIfTI name, else ``output/<case_id>_pred.nii.gz``.

    The case id comes from file contents (e.g. a DICOM PatientID): it is made file-name safe and the
    path is checked to lie inside ``output``.
    """
    from segmentation_core.io.safe_paths import inside, safe_name

    if output.name.lower().endswith(NIFTI_SUFFIXES):
        if not single:
            raise ValueError(f"{output}: several cases need an output folder, not a file name")
        output.parent.mkdir(parents=True, exist_ok=True)
        return output
    output.mkdir(parents=True, exist_ok=True)
    return inside(output, output / f"{safe_name(case.case_id)}_pred.nii.gz")


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
    from segmentation_core.cli.info import parse_roles
    from segmentation_core.models.bundle import ModelBundle

    roles = parse_roles(args.dicom_role)
    bundle = ModelBundle.load(args.model if args.model is not None else default_model())
    inputs = study_inputs(args.input) or case_inputs(args.input)
    predictor = None
    failed: list[tuple[str, str]] = []
    for index, source in enumerate(inputs, start=1):
        try:
            if predictor is None:
                predictor = make_predictor(bundle, args)
            if is_raw_study(source, args):  # co-register, skull-strip, resample; labels on the native grid
                target, note = predict_study(source, args, predictor, bundle, single=len(inputs) == 1)
            else:
                target, note = predict_case(predictor, bundle, source, args, roles, index, len(inputs))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one bad case never ends the batch; every failure is listed
            if len(inputs) == 1 and isinstance(exc, (OSError, ValueError)):
                raise
            message = one_line(exc)
            print(f"error: {message}", file=sys.stderr)
            failed.append((display(Path(source.name)), message))
            continue
        print(f"{display(target)}  {note}")
    if failed:
        names = ", ".join(name for name, _ in failed)
        print(f"{len(failed)} of {len(inputs)} cases failed: {names}", file=sys.stderr)
        for name, message in failed:
            print(f"  {name}: {message}", file=sys.stderr)
        return 1
    return 0


def make_predictor(bundle: Any, args: argparse.Namespace) -> Any:
    """The Predictor for the command line's options."""
    from segmentation_core.inference import Predictor

    return Predictor(
        bundle,
        device=args.device,
        overlap=args.overlap,
        tta=args.tta,
        batch_size=args.batch_size,
        postprocess=not args.no_postprocess,
        threads=args.threads,
    )


def sidecar_extra(
    bundle: Any,
    predictor: Any,
    args: argparse.Namespace,
    device: str,
    fallback: str | None,
    seconds: float,
    cleanup: Any,
) -> dict[str, Any]:
    """What a prediction's sidecar records about the model run (case and raw-study predictions alike)."""
    return {
        "model": bundle.name,
        "device": device,
        "fallback": fallback,
        "seconds": round(seconds, 3),
        "tta": args.tta,
        "overlap": args.overlap,
        "postprocessing": predictor.postprocessing.to_json(),
        "cleanup": cleanup.to_json() if cleanup else None,
    }


def predict_case(
    predictor: Any,
    bundle: Any,
    source: Path,
    args: argparse.Namespace,
    roles: dict[str, str] | None,
    index: int,
    total: int,
) -> tuple[Path, str]:
    """Load, check, segment and write one case; (label map path, a note on time and device)."""
    from segmentation_core.inference import run_prediction
    from segmentation_core.io import load_case, write_label_map
    from segmentation_core.io.export import conflicts, export_targets

    case = load_case(source, dicom_roles=roles)
    target = output_path(args.output, case, single=total == 1)
    protected, existing = conflicts(case, export_targets(target, probabilities=args.probabilities))
    if protected:
        raise ValueError(f"{protected[0]}: is an input file of the case; it is never written over")
    if existing and not args.overwrite:
        raise FileExistsError(
            f"{existing[0]}: already exists; pass --overwrite to replace it, or choose another output"
        )
    case = without_reference_labels(case)
    bar = ProgressBar(f"[{index}/{total}] {case.case_id}")
    prediction = run_prediction(
        predictor, case, on_progress=bar.update, want_probabilities=args.probabilities
    )
    extra = sidecar_extra(
        bundle,
        predictor,
        args,
        prediction.device,
        prediction.fallback,
        prediction.seconds,
        prediction.cleanup,
    )
    write_label_map(
        prediction.labels,
        case,
        target,
        scheme=args.scheme,
        model_version=bundle.version,
        extra=extra,
        probabilities=prediction.probabilities,
        overwrite=args.overwrite,
    )
    for warning in case.warnings:
        print(f"warning: {case.case_id}: {one_line(warning)}", file=sys.stderr)
    note = f" (fallback: {prediction.fallback})" if prediction.fallback else ""
    return target, f"{prediction.seconds:.1f}s on {prediction.device}{note}"


def one_line(exc: BaseException | str) -> str:
    """An exception (or text) as one line (its type when it has no message)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def display(path: Path) -> str:
    """A path printable in any locale (undecodable bytes of a file name shown escaped)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
