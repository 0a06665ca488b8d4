"""``report CASE LABELS -o report.pdf``: the one-page review report without the viewer window.

It lives in ``app`` because the PDF is written with Qt and the key images with the viewer's slice
composer; ``segmentation_core`` builds the report data, JSON and HTML. ``brats-seg report`` and
``brats-viewer --no-gui report`` reach it through ``app.headless``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from segmentation_core.review.queue import ReviewQueue
    from segmentation_core.review.report import ReportData
    from segmentation_core.types import Case, LabelMap, RegionProbabilities

FORMATS = (".pdf", ".html", ".json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the one-page tumour report (PDF, HTML and JSON) of a case and its labels",
        description=(
            "Write the review report of a case and a label map: identifiers, sequences, volumes, lesion "
            "table, RANO measurements and key images. -o report.pdf writes report.pdf, report.html and "
            "report.json. Research use only, not for diagnosis."
        ),
    )
    parser.add_argument("case", type=Path, help="case folder, MSD 4-D file or DICOM folder")
    parser.add_argument("labels", type=Path, help="label map (NIfTI) on the case's grid")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="report file, required: .pdf, .html or .json (all three are written beside each other)",
    )
    parser.add_argument(
        "--ai-labels",
        type=Path,
        help="the AI result before edits, for the correction effort (default: none, effort not reported)",
    )
    parser.add_argument(
        "--probabilities",
        type=Path,
        help="the AI's WT/TC/ET probabilities (brats-seg predict --probabilities) for the review coverage "
        "(default: none, coverage not reported)",
    )
    parser.add_argument("--scheme", help="label scheme of the label files (default: detected)")
    parser.add_argument(
        "--anonymise",
        action="store_true",
        help="leave out names, IDs, dates and file names; pseudonymise the case (default: off)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing report files (default: off, refuse)"
    )
    parser.set_defaults(func=run)


def outputs(output: Path) -> dict[str, Path]:
    """The three files a report writes, named after ``output`` (its suffix picks nothing else)."""
    if output.suffix.lower() not in FORMATS:
        raise ValueError(f"{output}: the report must end in .pdf, .html or .json")
    return {suffix: output.with_suffix(suffix) for suffix in FORMATS}


def run(args: argparse.Namespace) -> int:
    targets = outputs(args.output)
    from segmentation_core.io import load_case
    from segmentation_core.io.export import sidecar_path
    from segmentation_core.io.label_io import read_label_file

    _gui_application()  # refuse at once, not after loading, where Qt is missing
    case = load_case(args.case)
    labels = _labels_on_grid(read_label_file(args.labels, scheme=args.scheme), case, args.labels)
    ai = None
    if args.ai_labels:
        ai = _labels_on_grid(read_label_file(args.ai_labels, scheme=args.scheme), case, args.ai_labels)
    inputs = [args.labels, *([args.ai_labels] if args.ai_labels else [])]
    queue = None
    if args.probabilities:
        from segmentation_core.review.confidence import ConfidenceMap
        from segmentation_core.review.queue import ReviewQueue

        regions = read_probabilities(args.probabilities, case)
        queue = ReviewQueue.build(ConfidenceMap.from_regions(regions), case.spacing)
    written = write_report(
        case,
        labels,
        targets,
        labels_source=args.labels.name,
        ai_labels=ai,
        queue=queue,
        model=_model_from_sidecar(args.labels),
        anonymise=args.anonymise,
        overwrite=args.force,
        protected=[p for labels in inputs for p in (labels, sidecar_path(labels))],
    )
    for path in written:
        print(path)
    return 0


def write_report(
    case: Case,
    labels: np.ndarray,
    targets: dict[str, Path],
    *,
    labels_source: str = "",
    ai_labels: np.ndarray | None = None,
    model: dict[str, Any] | None = None,
    anonymise: bool = False,
    queue: ReviewQueue | None = None,
    overwrite: bool = False,
    protected: Sequence[Path] = (),
) -> list[Path]:
    """Build the report and write the formats in ``targets`` (suffix -> path), committed together.

    Files the case was read from and ``protected`` ones are never written over; existing files only
    with ``overwrite``. Returns the paths written.
    """
    from app.jobs.report import ReportRequest

    _gui_application()
    request = ReportRequest(case, labels, labels_source, ai_labels, model, anonymise, queue)
    report, pixels = request.prepare()
    return write_report_files(report, pixels, targets, case, overwrite=overwrite, protected=protected)


def write_report_files(
    report: ReportData,
    pixels: dict[str, np.ndarray],
    targets: dict[str, Path],
    case: Case,
    *,
    overwrite: bool = False,
    protected: Sequence[Path] = (),
) -> list[Path]:
    """Write a prepared report (its key images in ``pixels``) as PDF, HTML and JSON, committed together.

    Needs Qt (the PDF writer and PNG encoding): on the GUI thread in the viewer.
    """
    from app.qt.report_pdf import png_bytes, write_report_pdf
    from segmentation_core.atomic import Commit
    from segmentation_core.review.report import report_html

    data_uris = {
        name: "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode()
        for name, rgba in pixels.items()
    }
    sources = [p for paths in case.source_files.values() for p in paths]
    with Commit(overwrite=overwrite, protected=[*sources, *protected]) as commit:
        if ".pdf" in targets:
            names = {name: name for name in pixels}
            page = report_html(report, names)
            write_report_pdf(commit.stage(targets[".pdf"]), page, pixels, report.identifiers.case_id)
        if ".html" in targets:
            commit.stage(targets[".html"]).write_text(report_html(report, data_uris), encoding="utf-8")
        if ".json" in targets:
            commit.stage(targets[".json"]).write_text(
                json.dumps(report.to_dict(), indent=2), encoding="utf-8"
            )
    return list(targets.values())


def read_probabilities(path: Path, case: Case) -> RegionProbabilities:
    """A probabilities file written by ``brats-seg predict --probabilities`` for ``case``, kept compact.

    ValueError naming the file when it is not (X, Y, Z, 3) on the case's source grid with values in [0, 1].
    """
    import nibabel as nib

    from segmentation_core.io.orientation import from_source_orientation
    from segmentation_core.preprocessing import brain_box
    from segmentation_core.types import RegionProbabilities

    try:
        image = nib.load(path)
        data = np.asarray(image.dataobj, dtype=np.float32)
    except Exception as exc:  # noqa: BLE001 (any unreadable file: one clear line)
        raise ValueError(f"{path}: cannot be read as a probabilities NIfTI ({exc})") from None
    source = case.source_affine if case.source_affine is not None else case.affine
    if data.ndim != 4 or data.shape[3] != 3 or not np.allclose(image.affine, source, atol=1e-3):
        raise ValueError(
            f"{path}: expected WT/TC/ET probabilities (X, Y, Z, 3) on the case's grid, got shape {data.shape}"
        )
    if not np.isfinite(data).all() or data.min() < 0 or data.max() > 1:
        raise ValueError(f"{path}: probabilities must be finite values between 0 and 1")
    try:
        maps = np.moveaxis(from_source_orientation(data, case), -1, 0)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    box = brain_box([np.asarray(v.array) for v in case.channels.values()])
    return RegionProbabilities.quantise(maps[(slice(None), *box)], box, case.shape)


def _labels_on_grid(label_map: LabelMap, case: Case, path: Path) -> np.ndarray:
    """The label array when it lies on the case's grid; ValueError naming the file otherwise."""
    if not label_map.volume.same_grid(case.grid, atol=1e-3):
        raise ValueError(
            f"{path}: label map grid {label_map.volume.shape} does not match the case grid {case.shape} "
            "(same shape and affine needed)"
        )
    return label_map.array


def _model_from_sidecar(labels: Path) -> dict | None:
    """Model name and version from the export sidecar next to the labels (``<name>.json``), if any."""
    from segmentation_core.io.export import sidecar_path

    try:
        data = json.loads(sidecar_path(labels).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("model_version") if isinstance(data, dict) else None
    if not isinstance(version, str | int) or isinstance(version, bool):
        return None
    return {"version": str(version)[:64]}


def _gui_application() -> object:
    """The running Qt application, or a new QApplication (offscreen when there is no display).

    A QApplication rather than a bare QGuiApplication, so that widgets (the viewer, tests) can share it.
    """
    try:
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        raise ValueError(
            f"the report needs Qt (PySide6) to draw its pictures and write the PDF, and it cannot be loaded: {exc}"
        ) from None

    app = QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
    return app
