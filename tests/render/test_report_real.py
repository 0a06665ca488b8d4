"""On a real case: RANO is measured (and drawn) on the slice where the enhancing lesion is largest."""

from __future__ import annotations

import numpy as np
import pytest

from app.render.key_images import LONG_COLOUR, SHORT_COLOUR, report_key_images
from app.state.edit_stats import EditTracker
from app.state.label_layer import LabelLayer
from segmentation_core.labels import ET
from segmentation_core.review.lesions import components
from segmentation_core.review.report import build_report

pytestmark = pytest.mark.real_data


def test_rano_on_a_real_case_is_measured_and_drawn_where_the_lesion_is_largest(real_case_dir) -> None:
    from segmentation_core.io import load_case

    case = load_case(real_case_dir)
    labels = case.labels.array
    report = build_report(case, labels)
    assert report.volumes_cm3 == EditTracker(LabelLayer(labels, case.spacing)).volumes_cm3
    largest = components(labels == ET)[0]
    areas = largest.mask.sum(axis=(0, 1))  # axial slices of this RAS grid are along axis 2
    first = report.rano.measurements[0]
    assert first.lesion == 1 and first.slice_index == largest.box[2].start + int(np.argmax(areas))
    assert first.measurable and first.long_mm >= first.short_mm >= 10.0
    assert report.rano.targets[0] is first and report.rano.sum_of_products_mm2 >= first.product_mm2
    keys, pixels = report_key_images(report, case, labels)
    assert keys[0].lesion == 1 and keys[0].slice_index == first.slice_index
    picture = pixels[keys[0].name][..., :3]
    assert (picture == LONG_COLOUR).all(axis=2).sum() > 20 and (picture == SHORT_COLOUR).all(
        axis=2
    ).sum() > 20
    assert report.lesions.laterality in {"left", "right", "crossing", "bilateral"}
