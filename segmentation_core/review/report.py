"""The one-page review report as data: built from a case and its labels, written as JSON and HTML.

The PDF (Qt's own writer) and the key images (the viewer's slice composer) are made in ``app``; this
module only names the key images and lays out the HTML they are placed in.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from segmentation_core import __version__
from segmentation_core.labels import ET, LABEL_NAMES
from segmentation_core.review.identifiers import Identifiers, identifiers_of
from segmentation_core.review.lesions import LesionTable, components, lesion_table
from segmentation_core.review.midline import midsagittal_plane
from segmentation_core.review.queue import ReviewQueue
from segmentation_core.review.rano import RanoAssessment, rano_assessment
from segmentation_core.review.volumes import label_volumes_cm3, voxel_volume_cm3
from segmentation_core.types import Case

DISCLAIMER = "Research use only — not for diagnosis."
SCHEMA_VERSION = 1
REGION_ORDER = ("NCR", "ED", "ET", "TC", "WT")
#: Rows of the lesion and RANO tables on the page (the JSON holds every one).
MAX_ROWS = 8


@dataclass(frozen=True)
class KeyImage:
    """A picture in the report: the axial slice of a lesion with its outline and measurement lines, or
    (``lesion`` and ``slice_index`` None) the viewer's 3D view."""

    name: str
    lesion: int | None
    slice_index: int | None
    caption: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReportData:
    identifiers: Identifiers
    created: str
    case: dict[str, Any]
    model: dict[str, Any] | None
    volumes_cm3: dict[str, float]
    lesions: LesionTable
    rano: RanoAssessment
    correction: dict[str, Any] | None
    review: dict[str, Any] | None
    key_images: tuple[KeyImage, ...] = field(default=())
    software: str = f"brats-viewer {__version__}"

    def with_rano(self, rano: RanoAssessment) -> ReportData:
        """The report with edited RANO measurements (end points moved by the user)."""
        return replace(self, rano=rano)

    def with_key_images(self, images: tuple[KeyImage, ...]) -> ReportData:
        return replace(self, key_images=tuple(images))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (validates against ``segmentation_core.review.schema.REPORT_SCHEMA``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "disclaimer": DISCLAIMER,
            "created": self.created,
            "software": self.software,
            "identifiers": self.identifiers.to_dict(),
            "case": self.case,
            "model": self.model,
            "volumes_cm3": self.volumes_cm3,
            "lesion_table": self.lesions.to_dict(),
            "rano": self.rano.to_dict(),
            "correction": self.correction,
            "review": self.review,
            "key_images": [image.to_dict() for image in self.key_images],
        }


def brain_mask(case: Case) -> np.ndarray:
    """Voxels non-zero in any sequence (the skull-stripped brain of BraTS-like input)."""
    mask = np.zeros(case.shape, bool)
    for volume in case.channels.values():
        mask |= np.asarray(volume.array) != 0
    return mask


def case_summary(case: Case, labels_source: str, anonymised: bool) -> dict[str, Any]:
    """Sequences, grid and the file names (left out when anonymised) of a case."""
    sequences = []
    for name in case.channels:
        files = [] if anonymised else [p.name for p in case.source_files.get(name, ())[:1]]
        count = len(case.source_files.get(name, ()))
        sequences.append({"name": name, "files": files, "file_count": count})
    return {
        "shape": list(case.shape),
        "spacing_mm": [float(s) for s in case.spacing],
        "orientation": case.grid.orientation,
        "source_format": case.source_format,
        "sequences": sequences,
        "labels": "" if anonymised else labels_source,
        "warnings": list(case.warnings),
    }


def correction_effort(ai_labels: np.ndarray, labels: np.ndarray, spacing: tuple[float, float, float]) -> dict:
    """Voxels (and cm^3) added to and removed from each label since the AI result."""
    if ai_labels.shape != labels.shape:
        raise ValueError(f"AI labels of shape {ai_labels.shape} do not match the labels' {labels.shape}")
    changed = ai_labels != labels
    before, after = ai_labels[changed], labels[changed]
    voxel = voxel_volume_cm3(spacing)
    added = {name: int(np.count_nonzero(after == label)) for label, name in LABEL_NAMES.items()}
    removed = {name: int(np.count_nonzero(before == label)) for label, name in LABEL_NAMES.items()}
    ai_tumour = int(np.count_nonzero(ai_labels))
    count = int(changed.sum())
    return {
        "voxels_changed": count,
        "cm3_changed": count * voxel,
        "voxels_added": added,
        "voxels_removed": removed,
        "fraction_of_ai_tumour": count / ai_tumour if ai_tumour else (0.0 if count == 0 else None),
    }


def review_summary(queue: ReviewQueue, edited: np.ndarray | None) -> dict[str, Any]:
    """Review coverage for the report and the export sidecar."""
    return {
        "low_confidence_cm3": queue.volume_mm3 / 1000.0,
        "clusters": len(queue),
        "clusters_reviewed": sum(1 for c in queue.clusters if c.reviewed),
        "coverage": queue.coverage(edited),
        "uncertainty_threshold": queue.settings.uncertainty,
    }


def build_report(
    case: Case,
    labels: np.ndarray,
    *,
    labels_source: str = "",
    ai_labels: np.ndarray | None = None,
    queue: ReviewQueue | None = None,
    model: dict[str, Any] | None = None,
    anonymise: bool = False,
    now: dt.datetime | None = None,
) -> ReportData:
    """The report of ``labels`` (internal, on the case grid) for ``case``.

    ``ai_labels`` (the AI result before edits) gives the correction effort; ``queue`` the review
    coverage (edited voxels count as reviewed); ``model`` the model's name, version, device, TTA.
    """
    labels = np.asarray(labels)
    if labels.shape != case.shape:
        raise ValueError(f"labels of shape {labels.shape} do not match the case grid {case.shape}")
    identifiers = identifiers_of(case)
    if anonymise:
        identifiers = identifiers.anonymise()
    try:
        midline = midsagittal_plane(brain_mask(case), case.affine)
    except ValueError:
        midline = None
    enhancing = components(labels == ET)
    edited = None if ai_labels is None else np.asarray(ai_labels) != labels
    return ReportData(
        identifiers=identifiers,
        created=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        case=case_summary(case, labels_source, anonymise),
        model=model,
        volumes_cm3=label_volumes_cm3(labels, case.spacing),
        lesions=lesion_table(labels, case.affine, midline, enhancing=enhancing),
        rano=rano_assessment(labels, case.affine, enhancing=enhancing),
        correction=None
        if ai_labels is None
        else correction_effort(np.asarray(ai_labels), labels, case.spacing),
        review=None if queue is None else review_summary(queue, edited),
    )


# ---------------------------------------------------------------------------------------------- HTML
def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _rows(cells: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    return f'<table class="grid" cellspacing="0" cellpadding="2"><tr>{head}</tr>{body}</table>'


def _more(count: int, what: str) -> str:
    return (
        f'<p class="small">… and {count} {what}{"s" if count != 1 else ""} (all in the JSON report)</p>'
        if count > 0
        else ""
    )


def report_html(report: ReportData, image_src: Mapping[str, str] | None = None) -> str:
    """One page of HTML (tables only, so Qt's rich-text engine lays it out the same for the PDF).

    ``image_src`` maps each key image's name to what its ``<img src>`` holds (a data URI for a
    standalone file, a resource name for Qt); images without an entry are left out.
    """
    e = html.escape
    ids = report.identifiers
    data = report.to_dict()
    who = [
        ("Case", ids.case_id),
        ("Patient", ids.patient_name),
        ("Patient ID", ids.patient_id),
        ("Study date", ids.study_date),
        ("Study", ids.study_description),
        ("Accession", ids.accession_number),
    ]
    who_html = " &nbsp; ".join(f"<b>{e(k)}:</b> {e(v)}" for k, v in who if v)
    if ids.anonymised:
        who_html += " &nbsp; <i>(anonymised)</i>"
    case = report.case
    geometry = (
        f"{' × '.join(map(str, case['shape']))} voxels, "
        f"{' × '.join(f'{s:.2f}' for s in case['spacing_mm'])} mm, {e(case['orientation'])}; "
        f"sequences {e(', '.join(s['name'] for s in case['sequences']))}"
    )
    if report.model:
        m = report.model
        parts = [f"{m.get('name', '')} v{m.get('version', '?')}".strip()]
        if m.get("device"):
            parts.append(f"on {str(m['device']).upper()}")
        model = e(" ".join(parts) + (", test-time augmentation" if m.get("tta") else ""))
    else:
        model = "not recorded (labels read from a file)"
    volumes = _rows(
        [[_fmt(report.volumes_cm3[r], 2) for r in REGION_ORDER]], [f"{r} (cm³)" for r in REGION_ORDER]
    )
    table = report.lesions
    lesion_rows = [
        [
            str(lesion.number),
            _fmt(lesion.volumes_cm3["WT"], 2),
            _fmt(lesion.volumes_cm3["TC"], 2),
            _fmt(lesion.volumes_cm3["ET"], 2),
            f"{_fmt(lesion.diameters.long_mm)} × {_fmt(lesion.diameters.short_mm)}",
            e(lesion.side or "–"),
            _fmt(lesion.midline_mm),
        ]
        for lesion in table.lesions[:MAX_ROWS]
    ]
    lesions = _rows(
        lesion_rows, ["#", "WT cm³", "TC cm³", "ET cm³", "axial diameters mm", "side", "to midline mm"]
    ) + _more(len(table.lesions) - MAX_ROWS, "smaller lesion")
    summary = (
        f"{table.foci} focus{'es' if table.foci != 1 else ''} ≥ {table.min_focus_cm3:g} cm³ "
        f"({'multifocal' if table.multifocal else 'unifocal'}); laterality: {e(table.laterality or 'unknown')}"
    )
    targets = {m.lesion for m in report.rano.targets}
    shown = sorted(report.rano.measurements, key=lambda m: (not m.measurable, -m.product_mm2))[:MAX_ROWS]
    rano_rows = [
        [
            str(m.lesion),
            str(m.slice_index),
            _fmt(m.long_mm),
            _fmt(m.short_mm),
            _fmt(m.product_mm2, 0),
            "yes" if m.measurable else "no",
            "target" if m.lesion in targets else "",
        ]
        for m in shown
    ]
    rano = (
        _rows(
            rano_rows,
            ["ET lesion", "slice", "longest mm", "perpendicular mm", "product mm²", "measurable", ""],
        )
        + _more(len(report.rano.measurements) - len(shown), "smaller enhancing lesion")
        if rano_rows
        else "<p>No enhancing tumour.</p>"
    )
    spd = f"<p><b>Sum of products (up to 5 measurable lesions): {report.rano.sum_of_products_mm2:.0f} mm²</b></p>"
    images = ""
    if image_src:
        cells = [
            f'<td align="center"><img src="{e(image_src[k.name])}" width="150"><br>'
            f'<span class="small">{e(k.caption)}</span></td>'
            for k in report.key_images
            if k.name in image_src
        ]
        if cells:
            images = f'<table cellspacing="4"><tr>{"".join(cells)}</tr></table>'
    effort = "not recorded (no AI result given)"
    if data["correction"] is not None:
        c = data["correction"]
        fraction = c["fraction_of_ai_tumour"]
        effort = f"{c['voxels_changed']} voxels ({c['cm3_changed']:.2f} cm³) changed" + (
            f", {100 * fraction:.1f} % of the AI tumour" if fraction is not None else ""
        )
    review = "no confidence map (AI probabilities not available)"
    if data["review"] is not None:
        r = data["review"]
        review = (
            f"{100 * r['coverage']:.0f} % of {r['low_confidence_cm3']:.2f} cm³ low-confidence volume reviewed "
            f"({r['clusters_reviewed']} of {r['clusters']} clusters marked)"
        )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Tumour report {e(ids.case_id)}</title>
<style>
body {{ font-family: sans-serif; font-size: 9pt; }}
h1 {{ font-size: 14pt; margin: 0; }}
h2 {{ font-size: 10pt; margin-top: 6px; margin-bottom: 2px; }}
table.grid {{ border-collapse: collapse; }}
table.grid td, table.grid th {{ border: 1px solid #999; padding: 2px 4px; }}
.small {{ font-size: 7pt; }}
.warn {{ color: #a00000; font-weight: bold; }}
</style></head><body>
<h1>Brain tumour segmentation report</h1>
<p class="warn">{e(DISCLAIMER)}</p>
<p>{who_html}<br><span class="small">Created {e(report.created)} by {e(report.software)}</span></p>
<h2>Images and model</h2>
<p>{geometry}<br>Model: {model}</p>
<h2>Volumes</h2>
{volumes}
<h2>Lesions</h2>
{lesions}
<p>{summary}</p>
<h2>RANO (enhancing lesions; measurable when both diameters ≥ 10 mm)</h2>
{rano}
{spd}
{images}
<h2>Review</h2>
<p>Correction effort: {e(effort)}<br>Review coverage: {e(review)}</p>
<p class="warn">{e(DISCLAIMER)}</p>
</body></html>
"""
