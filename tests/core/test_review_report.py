"""Report data: JSON that validates against the schema, identifiers (DICOM, anonymised), HTML, effort."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import jsonschema
import numpy as np
import pytest

from app.state.edit_stats import EditTracker
from app.state.label_layer import LabelLayer
from segmentation_core.review.confidence import ConfidenceMap
from segmentation_core.review.identifiers import Identifiers, identifiers_of
from segmentation_core.review.queue import ReviewQueue
from segmentation_core.review.report import DISCLAIMER, build_report, report_html
from segmentation_core.review.schema import REPORT_SCHEMA
from segmentation_core.types import RegionProbabilities
from tests.core.io_fixtures import make_case, oblique_affine, synthetic_labels, write_dicom_case

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def case_and_labels():
    case = make_case((32, 32, 32), oblique_affine(20.0, (1.0, 1.5, 2.0)))
    # the loader makes file-derived names safe; a name from DICOM tags may still hold <, > or &
    case = dataclasses.replace(case, case_id="Case<7>&")
    return case, case.labels.array.copy()


def validate(data: dict) -> None:
    jsonschema.validate(data, REPORT_SCHEMA, format_checker=jsonschema.FormatChecker())


def test_report_json_validates_and_its_volumes_equal_the_volumes_panel() -> None:
    case, labels = case_and_labels()
    ai = labels.copy()
    ai[labels == 3] = 1  # the AI called the ET necrotic; the user corrected it
    report = build_report(case, labels, labels_source="seg.nii.gz", ai_labels=ai, now=NOW)
    data = json.loads(json.dumps(report.to_dict()))
    validate(data)
    assert data["volumes_cm3"] == EditTracker(LabelLayer(labels, case.spacing)).volumes_cm3
    assert data["created"] == "2026-01-02T03:04:05+00:00" and data["disclaimer"] == DISCLAIMER
    et = int((labels == 3).sum())
    assert data["correction"]["voxels_changed"] == et
    assert data["correction"]["voxels_added"] == {"NCR": 0, "ED": 0, "ET": et}
    assert data["correction"]["voxels_removed"] == {"NCR": et, "ED": 0, "ET": 0}
    assert data["correction"]["fraction_of_ai_tumour"] == et / int((ai > 0).sum())
    assert data["case"]["shape"] == [32, 32, 32] and data["case"]["labels"] == "seg.nii.gz"
    assert [s["name"] for s in data["case"]["sequences"]] == ["t1", "t1ce", "t2", "flair"]
    table = data["lesion_table"]
    assert table["lesions"][0]["volumes_cm3"]["WT"] == pytest.approx(data["volumes_cm3"]["WT"] - 0.003)
    assert len(table["lesions"]) == 2 and table["foci"] == 1  # the blob and the lone NCR voxel
    assert data["rano"]["measurements"][0]["lesion"] == 1 and data["review"] is None


def test_the_schema_rejects_what_a_report_never_holds() -> None:
    case, labels = case_and_labels()
    data = build_report(case, labels, now=NOW).to_dict()
    validate(data)
    for broken in (
        {**data, "volumes_cm3": {**data["volumes_cm3"], "WT": -1.0}},
        {
            **data,
            "review": {
                "low_confidence_cm3": 1.0,
                "clusters": 1,
                "clusters_reviewed": 0,
                "coverage": 1.5,
                "uncertainty_threshold": 0.5,
            },
        },
        {**data, "extra": 1},
        {**data, "created": "yesterday"},
        {key: value for key, value in data.items() if key != "disclaimer"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_review_coverage_counts_reviewed_clusters_and_edited_voxels() -> None:
    case, labels = case_and_labels()
    q = np.full((3, 32, 32, 32), 255, np.uint8)
    q[0, 2:5, 2:5, 2:5] = 128  # 27 voxels at p = 0.5
    q[0, 20:22, 20:22, 20:22] = 128  # 8 voxels
    confidence = ConfidenceMap.from_regions(RegionProbabilities(((0, 32),) * 3, (32, 32, 32), q))
    queue = ReviewQueue.build(
        confidence, (1.0, 1.0, 1.0), dataclasses.replace(_settings(), min_cluster_mm3=1.0)
    )
    queue.set_reviewed(1)
    ai = labels.copy()
    ai[2, 2, 2] = 2 if labels[2, 2, 2] != 2 else 0  # one edited voxel inside the unreviewed cluster
    data = build_report(case, labels, ai_labels=ai, queue=queue, now=NOW).to_dict()
    validate(data)
    assert data["review"]["coverage"] == 9 / 35
    assert (data["review"]["clusters"], data["review"]["clusters_reviewed"]) == (2, 1)


def _settings():
    from segmentation_core.review.queue import QueueSettings

    return QueueSettings()


def test_anonymised_report_keeps_no_names_ids_or_file_names() -> None:
    case, labels = case_and_labels()
    data = build_report(case, labels, labels_source="Case<7>&_seg.nii.gz", anonymise=True, now=NOW).to_dict()
    validate(data)
    text = json.dumps(data)
    assert "Case<7>" not in text and "Case\\u003c7" not in text and "seg.nii" not in text
    assert data["identifiers"]["case_id"].startswith("anon-") and data["identifiers"]["anonymised"]
    again = build_report(case, labels, anonymise=True, now=NOW).to_dict()
    assert again["identifiers"]["case_id"] == data["identifiers"]["case_id"]  # a stable pseudonym


def test_dicom_identifiers_come_from_the_tags(tmp_path) -> None:
    from segmentation_core.io import load_case

    write_dicom_case(tmp_path / "dicom")
    case = load_case(tmp_path / "dicom")
    ids = identifiers_of(case)
    assert ids.source == "DICOM tags"
    import pydicom

    header = pydicom.dcmread(case.source_files[case.reference][0], stop_before_pixels=True)
    assert ids.patient_id == str(header.PatientID) and ids.patient_name == str(header.PatientName)
    anonymous = ids.anonymise()
    assert (anonymous.patient_id, anonymous.patient_name, anonymous.study_date) == ("", "", "")


def test_html_escapes_names_and_says_research_use_only() -> None:
    case, labels = case_and_labels()
    report = build_report(case, labels, now=NOW)
    # identifiers come from files (DICOM tags): whatever they hold is escaped
    report = dataclasses.replace(report, identifiers=Identifiers("Case<7>&", patient_name="<b>x</b>"))
    page = report_html(report)
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "Case&lt;7&gt;&amp;" in page and "Case<7>" not in page
    assert page.count(DISCLAIMER) == 2
    assert "Sum of products" in page and "<img" not in page  # images only where a source is given


def test_labels_off_the_grid_are_refused() -> None:
    case, _ = case_and_labels()
    with pytest.raises(ValueError, match="do not match the case grid"):
        build_report(case, synthetic_labels((16, 16, 16)))
