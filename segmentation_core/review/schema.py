"""JSON Schema (draft 2020-12) of the report's JSON form (``ReportData.to_dict``)."""

from __future__ import annotations

from typing import Any

_NUMBER = {"type": "number"}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_POINT = {"type": "array", "items": _NUMBER, "minItems": 3, "maxItems": 3}
_LINE = {"type": "array", "items": _POINT, "minItems": 2, "maxItems": 2}
_VOLUMES = {
    "type": "object",
    "required": ["NCR", "ED", "ET", "WT", "TC"],
    "properties": {name: {"type": "number", "minimum": 0} for name in ("NCR", "ED", "ET", "WT", "TC")},
    "additionalProperties": False,
}
_LABEL_COUNTS = {
    "type": "object",
    "required": ["NCR", "ED", "ET"],
    "properties": {name: {"type": "integer", "minimum": 0} for name in ("NCR", "ED", "ET")},
    "additionalProperties": False,
}
_STRING = {"type": "string"}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "brats-viewer tumour report",
    "type": "object",
    "required": [
        "schema_version",
        "disclaimer",
        "created",
        "software",
        "identifiers",
        "case",
        "model",
        "volumes_cm3",
        "lesion_table",
        "rano",
        "correction",
        "review",
        "key_images",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        "disclaimer": {"type": "string", "minLength": 1},
        "created": {
            "type": "string",
            "format": "date-time",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        },
        "software": _STRING,
        "identifiers": {
            "type": "object",
            "required": ["case_id", "anonymised", "source"],
            "properties": {
                "case_id": {"type": "string", "minLength": 1},
                "anonymised": {"type": "boolean"},
                "source": {"enum": ["DICOM tags", "file names"]},
                **{
                    key: _STRING
                    for key in (
                        "patient_name",
                        "patient_id",
                        "birth_date",
                        "study_date",
                        "study_description",
                        "accession_number",
                        "institution",
                    )
                },
            },
            "additionalProperties": False,
        },
        "case": {
            "type": "object",
            "required": ["shape", "spacing_mm", "orientation", "sequences"],
            "properties": {
                "shape": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1},
                    "minItems": 3,
                    "maxItems": 3,
                },
                "spacing_mm": {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0},
                    "minItems": 3,
                    "maxItems": 3,
                },
                "orientation": {"type": "string", "pattern": "^[LRAPSI]{3}$"},
                "source_format": _STRING,
                "sequences": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "files", "file_count"],
                        "properties": {
                            "name": _STRING,
                            "files": {"type": "array", "items": _STRING},
                            "file_count": {"type": "integer", "minimum": 0},
                        },
                    },
                },
                "labels": _STRING,
                "warnings": {"type": "array", "items": _STRING},
            },
        },
        "model": {
            "type": ["object", "null"],
            "properties": {
                "name": _STRING,
                "version": _STRING,
                "device": _STRING,
                "tta": {"type": "boolean"},
            },
        },
        "volumes_cm3": _VOLUMES,
        "lesion_table": {
            "type": "object",
            "required": ["lesions", "min_focus_cm3", "foci", "multifocal", "laterality", "midline"],
            "properties": {
                "lesions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "number",
                            "volumes_cm3",
                            "centroid_voxel",
                            "centroid_mm",
                            "target_voxel",
                            "axial_slice",
                            "longest_axial_diameter_mm",
                            "perpendicular_diameter_mm",
                            "midline_distance_mm",
                            "nearest_midline_mm",
                            "side",
                            "enhancing_lesions",
                        ],
                        "properties": {
                            "number": {"type": "integer", "minimum": 1},
                            "volumes_cm3": _VOLUMES,
                            "centroid_voxel": _POINT,
                            "centroid_mm": _POINT,
                            "target_voxel": {
                                "type": "array",
                                "items": {"type": "integer", "minimum": 0},
                                "minItems": 3,
                                "maxItems": 3,
                            },
                            "axial_slice": {"type": "integer", "minimum": 0},
                            "longest_axial_diameter_mm": {"type": "number", "minimum": 0},
                            "perpendicular_diameter_mm": {"type": "number", "minimum": 0},
                            "midline_distance_mm": _NULLABLE_NUMBER,
                            "nearest_midline_mm": _NULLABLE_NUMBER,
                            "side": {"enum": ["left", "right", "crossing", None]},
                            "enhancing_lesions": {
                                "type": "array",
                                "items": {"type": "integer", "minimum": 1},
                            },
                        },
                        "additionalProperties": False,
                    },
                },
                "min_focus_cm3": {"type": "number", "minimum": 0},
                "foci": {"type": "integer", "minimum": 0},
                "multifocal": {"type": "boolean"},
                "laterality": {"enum": ["left", "right", "crossing", "bilateral", "none", None]},
                "midline": {
                    "type": ["object", "null"],
                    "required": ["point", "normal"],
                    "properties": {"point": _POINT, "normal": _POINT},
                },
            },
            "additionalProperties": False,
        },
        "rano": {
            "type": "object",
            "required": [
                "measurable_mm",
                "max_targets",
                "measurements",
                "target_lesions",
                "sum_of_products_mm2",
            ],
            "properties": {
                "measurable_mm": {"const": 10.0},
                "max_targets": {"const": 5},
                "measurements": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "lesion",
                            "slice_axis",
                            "slice_index",
                            "long",
                            "short",
                            "long_mm",
                            "short_mm",
                            "product_mm2",
                            "measurable",
                            "edited",
                        ],
                        "properties": {
                            "lesion": {"type": "integer", "minimum": 1},
                            "slice_axis": {"enum": [0, 1, 2]},
                            "slice_index": {"type": "integer", "minimum": 0},
                            "long": _LINE,
                            "short": _LINE,
                            "long_mm": {"type": "number", "minimum": 0},
                            "short_mm": {"type": "number", "minimum": 0},
                            "product_mm2": {"type": "number", "minimum": 0},
                            "measurable": {"type": "boolean"},
                            "edited": {"type": "boolean"},
                        },
                        "additionalProperties": False,
                    },
                },
                "target_lesions": {"type": "array", "items": {"type": "integer"}, "maxItems": 5},
                "sum_of_products_mm2": {"type": "number", "minimum": 0},
            },
            "additionalProperties": False,
        },
        "correction": {
            "type": ["object", "null"],
            "required": [
                "voxels_changed",
                "cm3_changed",
                "voxels_added",
                "voxels_removed",
                "fraction_of_ai_tumour",
            ],
            "properties": {
                "voxels_changed": {"type": "integer", "minimum": 0},
                "cm3_changed": {"type": "number", "minimum": 0},
                "voxels_added": _LABEL_COUNTS,
                "voxels_removed": _LABEL_COUNTS,
                "fraction_of_ai_tumour": _NULLABLE_NUMBER,
            },
            "additionalProperties": False,
        },
        "review": {
            "type": ["object", "null"],
            "required": [
                "low_confidence_cm3",
                "clusters",
                "clusters_reviewed",
                "coverage",
                "uncertainty_threshold",
            ],
            "properties": {
                "low_confidence_cm3": {"type": "number", "minimum": 0},
                "clusters": {"type": "integer", "minimum": 0},
                "clusters_reviewed": {"type": "integer", "minimum": 0},
                "coverage": {"type": "number", "minimum": 0, "maximum": 1},
                "uncertainty_threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            },
            "additionalProperties": False,
        },
        "key_images": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "lesion", "slice_index", "caption"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "lesion": {"type": ["integer", "null"], "minimum": 1},
                    "slice_index": {"type": ["integer", "null"], "minimum": 0},
                    "caption": _STRING,
                },
                "additionalProperties": False,
            },
        },
    },
}
