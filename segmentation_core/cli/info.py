"""``brats-seg info PATH``: what a case holds — sequences, grid, orientation, label scheme, warnings."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from segmentation_core.io import load_case
from segmentation_core.io.orientation import axis_codes
from segmentation_core.labels import LABEL_NAMES, SCHEMES
from segmentation_core.types import SEQUENCES, Case


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe a case (folder, MSD 4-D file or DICOM folder)",
        description="Print the sequences found, grid shape, spacing, orientation, label scheme and warnings.",
    )
    add_case_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text (default: off)")
    parser.set_defaults(func=run)


def add_case_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH or explicit --t1/--t1ce/--t2/--flair[/--seg] files, --scheme and --dicom-role options."""
    parser.add_argument("path", nargs="?", help="case folder (BraTS naming or DICOM) or MSD 4-D NIfTI file")
    for role in SEQUENCES:
        parser.add_argument(
            f"--{role}",
            metavar="FILE",
            help=f"{role} file (NIfTI/NRRD/MHA) or DICOM series folder (default: found in PATH)",
        )
    parser.add_argument(
        "--seg",
        metavar="FILE",
        help="label map file (NIfTI/NRRD/MHA) (default: the _seg file found in PATH, if any)",
    )
    parser.add_argument(
        "--scheme",
        choices=sorted(SCHEMES),
        help="label scheme of the segmentation file (default: detect from its values)",
    )
    parser.add_argument(
        "--dicom-role",
        action="append",
        default=[],
        metavar="SEQ=SERIES",
        help="DICOM: use SERIES (SeriesInstanceUID, SeriesNumber or description) as SEQ (t1, t1ce, t2, "
        "flair); repeat for each sequence (default: chosen from the series descriptions)",
    )


def case_source(args: argparse.Namespace) -> str | dict[str, str]:
    """The ``load_case`` source named on the command line: PATH, or the explicit per-sequence files."""
    files = {role: getattr(args, role) for role in (*SEQUENCES, "seg") if getattr(args, role, None)}
    if args.path and files:
        raise ValueError("give either PATH or the --t1/--t1ce/--t2/--flair files, not both")
    if not args.path and not files:
        raise ValueError("give a case PATH, or the four files with --t1 --t1ce --t2 --flair")
    return args.path or files


def parse_roles(items: list[str]) -> dict[str, str] | None:
    """``["t1ce=5"]`` -> ``{"t1ce": "5"}``; raises ValueError on a malformed item."""
    roles = {}
    for item in items:
        role, sep, series = item.partition("=")
        if not sep or not role or not series:
            raise ValueError(f"--dicom-role {item!r}: write it as SEQ=SERIES, e.g. t1ce=5")
        roles[role.strip()] = series.strip()
    return roles or None


def describe(case: Case) -> dict[str, Any]:
    """A JSON-friendly summary of a loaded case."""
    source_affine = case.source_affine if case.source_affine is not None else case.affine
    info: dict[str, Any] = {
        "case_id": case.case_id,
        "format": case.source_format,
        "shape": list(case.shape),
        "spacing_mm": [round(s, 4) for s in case.spacing],
        "source_orientation": axis_codes(source_affine),
        "orientation": case.grid.orientation,
        "sequences": {
            role: {
                "file": str(case.source_files.get(role, ("",))[0]),
                "files": len(case.source_files.get(role, ())),
                "min": float(vol.array.min()),
                "max": float(vol.array.max()),
            }
            for role, vol in case.channels.items()
        },
        "labels": None,
        "warnings": list(case.warnings),
    }
    if case.labels is not None:
        counts = np.bincount(case.labels.array.ravel(order="K"), minlength=4)
        info["labels"] = {
            "file": str(case.labels.volume.source),
            "scheme": case.labels.scheme,
            "scheme_description": SCHEMES[case.labels.scheme].description,
            "voxels": {name: int(counts[label]) for label, name in LABEL_NAMES.items()},
        }
    return info


def run(args: argparse.Namespace) -> int:
    case = load_case(case_source(args), scheme=args.scheme, dicom_roles=parse_roles(args.dicom_role))
    info = describe(case)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"case        {info['case_id']}  ({info['format']})")
    print(f"grid        {' x '.join(map(str, info['shape']))} voxels, spacing {info['spacing_mm']} mm")
    print(f"orientation {info['source_orientation']} on disk, {info['orientation']} in memory")
    for role, seq in info["sequences"].items():
        extra = f" (+{seq['files'] - 1} more files)" if seq["files"] > 1 else ""
        print(f"  {role:<6} {seq['file']}{extra}  range [{seq['min']:g}, {seq['max']:g}]")
    labels = info["labels"]
    if labels is None:
        print("labels      none")
    else:
        voxels = ", ".join(f"{k} {v}" for k, v in labels["voxels"].items())
        print(f"labels      {labels['file']}")
        print(f"            scheme {labels['scheme']} ({labels['scheme_description']}); voxels: {voxels}")
    for warning in info["warnings"]:
        print(f"warning: {warning}")
    return 0
