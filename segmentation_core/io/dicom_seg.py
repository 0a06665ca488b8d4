"""DICOM-SEG export (highdicom) for cases loaded from DICOM: one segment each for NCR, ED and ET."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from segmentation_core import __version__
from segmentation_core.atomic import atomic_path, write_error
from segmentation_core.io.orientation import to_source_orientation
from segmentation_core.labels import ED, ET, LABEL_NAMES, NCR, convert
from segmentation_core.types import Case

#: Internal label -> (segment label, SNOMED/NCIt property type). Category: morphologically abnormal structure.
SEGMENT_TYPES = {
    NCR: ("Necrotic / non-enhancing tumour core (NCR)", codes.SCT.Necrosis),
    ED: ("Peritumoral edema (ED)", codes.SCT.Edema),
    ET: ("Enhancing tumour (ET)", codes.NCIt.EnhancingLesion),
}


def segment_descriptions(model_version: str | None) -> list[hd.seg.SegmentDescription]:
    """The three segment descriptions with coded terms (automatic when a model version is given)."""
    algorithm = (
        hd.AlgorithmIdentificationSequence(
            name="brats-viewer 3D U-Net", family=codes.DCM.ArtificialIntelligence, version=model_version
        )
        if model_version
        else None
    )
    return [
        hd.seg.SegmentDescription(
            segment_number=label,
            segment_label=f"{LABEL_NAMES[label]}: {text}"[:64],
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=code,
            algorithm_type=(
                hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
                if algorithm
                else hd.seg.SegmentAlgorithmTypeValues.MANUAL
            ),
            algorithm_identification=algorithm,
        )
        for label, (text, code) in SEGMENT_TYPES.items()
    ]


def save_dicom_seg(
    labels: np.ndarray,
    case: Case,
    path: Path | str,
    *,
    model_version: str | None = None,
    series_description: str = "Tumour segmentation",
    series_number: int = 900,
) -> Path:
    """Write internal ``labels`` (on the case's canonical grid) as a DICOM-SEG referencing the source series.

    The case must come from DICOM; the segmentation's frames follow the reference series' slices.
    Writes ``path`` directly: callers stage it (``write_dicom_seg`` or ``write_label_map``).
    """
    path = Path(path)
    sources = case.source_files.get(case.reference, ())
    if case.source_format != "dicom" or not sources:
        raise ValueError(
            f"{path}: DICOM-SEG needs a case loaded from DICOM (this one is {case.source_format or 'unknown'}); "
            "export NIfTI instead"
        )
    if labels.shape != case.shape:
        raise ValueError(f"label array shape {labels.shape} does not match the case grid {case.shape}")
    internal = convert(labels, "internal", "internal")  # rejects values other than 0-3, listing them
    source_images = [pydicom.dcmread(p) for p in sources]
    # source layout is (column, row, slice); DICOM-SEG frames are (slice, row, column)
    frames = to_source_orientation(internal, case).transpose(2, 1, 0)
    seg = hd.seg.Segmentation(
        source_images=source_images,
        pixel_array=np.ascontiguousarray(frames),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segment_descriptions(model_version),
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="brats-viewer",
        manufacturer_model_name="brats-viewer",
        software_versions=__version__,
        device_serial_number="0",
        series_description=series_description,
        omit_empty_frames=False,
    )
    try:
        seg.save_as(path)
    except OSError as exc:
        raise write_error(path, exc) from exc
    return path


def write_dicom_seg(
    labels: np.ndarray,
    case: Case,
    path: Path | str,
    *,
    model_version: str | None = None,
    overwrite: bool = False,
    **options: Any,
) -> Path:
    """Write a DICOM-SEG (see :func:`save_dicom_seg`) atomically; never over the case's own files."""
    path = Path(path)
    protected = [p for paths in case.source_files.values() for p in paths]
    with atomic_path(path, overwrite=overwrite, protected=protected) as tmp:
        save_dicom_seg(labels, case, tmp, model_version=model_version, **options)
    return path
