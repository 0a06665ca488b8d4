"""``brats-seg evaluate PRED REF``: score predicted label maps against references, per case and region.

PRED and REF are label files or folders of them; folders are paired by case name (see
``segmentation_core.metrics.files``) and files without a partner are listed. Prints a table per case and
region (Dice, HD95, ASD, sensitivity, specificity, volumes; lesion-wise Dice/HD95 with --lesion-wise)
followed by the mean, median and (population) standard deviation over cases, and optionally writes it
all as CSV. Exit status: 0 when every pair was scored, 1 when some failed (each named), 2 on bad input.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from segmentation_core.io import CaseLoadError
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.labels import SCHEMES
from segmentation_core.metrics import METRIC_NAMES, lesion_wise, region_metrics, summarize_cases
from segmentation_core.metrics.files import pair_label_files, read_pair

LESION_METRICS = ("lesion_dice", "lesion_hd95")
STATISTICS = ("mean", "median", "std")
_HEADINGS = {
    "dice": "Dice",
    "hd95": "HD95 mm",
    "asd": "ASD mm",
    "sensitivity": "Sens",
    "specificity": "Spec",
    "volume_pred_cm3": "Pred cm3",
    "volume_ref_cm3": "Ref cm3",
    "lesion_dice": "LW Dice",
    "lesion_hd95": "LW HD95",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score predicted label maps against reference label maps (Dice, HD95, ...)",
        description=(
            "Compare predictions with references per case and region (WT, TC, ET). PRED and REF are label "
            "files or folders; folders are paired by case name (<case>_seg.nii.gz, <case>.nii.gz, "
            "<case>/seg.nii.gz). Empty masks follow BraTS: both empty -> Dice 1, HD95 0; one empty -> "
            "Dice 0, HD95 373.13 mm."
        ),
    )
    parser.add_argument("pred", type=Path, metavar="PRED", help="predicted label file or folder")
    parser.add_argument("ref", type=Path, metavar="REF", help="reference label file or folder")
    parser.add_argument("--scheme", choices=sorted(SCHEMES), help="label scheme of both (default: detect)")
    parser.add_argument(
        "--pred-scheme",
        choices=sorted(SCHEMES),
        help="label scheme of the predictions (default: --scheme, else the scheme in their JSON sidecar, else detect)",
    )
    parser.add_argument(
        "--ref-scheme",
        choices=sorted(SCHEMES),
        help="label scheme of the references (default: --scheme, else detect)",
    )
    parser.add_argument(
        "--csv", type=Path, metavar="FILE", help="also write every row to this CSV file (default: none)"
    )
    parser.add_argument(
        "--lesion-wise",
        action="store_true",
        help="add BraTS 2023 lesion-wise Dice and HD95 columns (default: off)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.csv is not None and not args.csv.parent.is_dir():
        raise CaseLoadError(args.csv, f"the folder {args.csv.parent} does not exist", "create it first")
    pairing = pair_label_files(args.pred, args.ref)
    for name, path in pairing.unpaired_predictions.items():
        print(f"warning: prediction {path} has no reference (case {name!r})", file=sys.stderr)
    for name, path in pairing.unpaired_references.items():
        print(f"warning: reference {path} has no prediction (case {name!r})", file=sys.stderr)
    if not pairing.pairs:
        raise CaseLoadError(
            args.pred,
            f"no case has both a prediction and a reference in {args.ref}",
            "name predictions after their cases, e.g. <case>.nii.gz or <case>_seg.nii.gz",
        )
    metrics = METRIC_NAMES + (LESION_METRICS if args.lesion_wise else ())
    scores: dict[str, dict[str, dict[str, float]]] = {}
    failures = 0
    for name, (pred_file, ref_file) in pairing.pairs.items():
        try:
            scores[name] = score_case(pred_file, ref_file, args)
        except CaseLoadError as exc:
            failures += 1
            print(f"error: {exc}", file=sys.stderr)
    if not scores:
        return 2
    summary = summarize_cases(scores)
    print(format_table(scores, summary, metrics))
    print(
        f"{len(scores)} case(s) scored, {failures} failed; unpaired: "
        f"{len(pairing.unpaired_predictions)} prediction(s), {len(pairing.unpaired_references)} reference(s)"
    )
    if args.csv is not None:
        write_csv(args.csv, scores, summary, metrics)
        print(f"wrote {args.csv}")
    return 1 if failures else 0


def sidecar_scheme(path: Path) -> str | None:
    """The label scheme recorded in the JSON sidecar written with ``path`` (None when there is none)."""
    from segmentation_core.io.export import sidecar_path

    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scheme = data.get("label_scheme") if isinstance(data, dict) else None
    return scheme if isinstance(scheme, str) and scheme in SCHEMES and scheme != "internal" else None


def label_scheme(path: Path, explicit: str | None) -> tuple[str | None, list[str]]:
    """(scheme to read ``path`` with, warnings): the option, else the sidecar's, else detected (warned)."""
    from segmentation_core.io.label_io import labels_to_internal
    from segmentation_core.io.readers import read_image

    if explicit is not None:
        return explicit, []
    recorded = sidecar_scheme(path)
    if recorded is not None:
        return recorded, []
    _, _, name, warnings = labels_to_internal(read_image(path), None)
    return name, warnings


def score_case(pred_file: Path, ref_file: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every metric of one case per region; prints the label-scheme warnings of both files."""
    pred_scheme, pred_warnings = label_scheme(pred_file, args.pred_scheme or args.scheme)
    ref_scheme, ref_warnings = label_scheme(ref_file, args.ref_scheme or args.scheme)
    for warning in (*pred_warnings, *ref_warnings):
        print(f"warning: {warning}", file=sys.stderr)
    prediction, reference = read_pair(pred_file, ref_file, pred_scheme=pred_scheme, ref_scheme=ref_scheme)
    spacing = reference.volume.spacing
    scores = region_metrics(prediction.array, reference.array, spacing, REGIONS)
    if args.lesion_wise:
        for region in REGIONS:
            lesions = lesion_wise(prediction.array, reference.array, spacing, region)
            scores[region]["lesion_dice"] = lesions["dice"]
            scores[region]["lesion_hd95"] = lesions["hd95"]
    return scores


def rows(
    scores: dict[str, dict[str, dict[str, float]]],
    summary: dict[str, dict[str, dict[str, float]]],
    metrics: tuple[str, ...],
) -> list[list[str | float]]:
    """Table rows: [case, region, *values] per case and region, then [statistic, region, *values]."""
    table: list[list[str | float]] = []
    for name, regions in scores.items():
        table.extend([name, region, *(regions[region][m] for m in metrics)] for region in REGIONS)
    for statistic in STATISTICS:
        table.extend(
            [statistic, region, *(summary[region][m][statistic] for m in metrics)] for region in REGIONS
        )
    return table


def format_table(
    scores: dict[str, dict[str, dict[str, float]]],
    summary: dict[str, dict[str, dict[str, float]]],
    metrics: tuple[str, ...],
) -> str:
    """The rows as aligned text, with a rule between the cases and the statistics."""
    table = rows(scores, summary, metrics)
    width = max(len("case"), *(len(str(r[0])) for r in table))
    header = f"{'case':<{width}}  region " + " ".join(f"{_HEADINGS[m]:>9}" for m in metrics)
    lines = [header, "-" * len(header)]
    for index, row in enumerate(table):
        if index == len(scores) * len(REGIONS):
            lines.append("-" * len(header))
        values = " ".join(f"{v:>9.4f}" if abs(v) < 1000 else f"{v:>9.1f}" for v in row[2:])  # type: ignore[arg-type]
        lines.append(f"{row[0]:<{width}}  {row[1]:<6} {values}")
    return "\n".join(lines)


def write_csv(
    path: Path,
    scores: dict[str, dict[str, dict[str, float]]],
    summary: dict[str, dict[str, dict[str, float]]],
    metrics: tuple[str, ...],
) -> None:
    """Case rows, then mean/median/std rows (their ``case`` column names the statistic)."""
    try:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["case", "region", *metrics])
            writer.writerows(
                [*row[:2], *(f"{v:.6g}" for v in row[2:])] for row in rows(scores, summary, metrics)
            )
    except OSError as exc:
        raise OSError(f"{path}: cannot write the CSV file ({exc.strerror}); check the folder exists") from exc
