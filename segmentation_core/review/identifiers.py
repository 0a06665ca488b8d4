"""Patient and study identifiers for a report: from DICOM tags or the case's file names; anonymisable."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from segmentation_core.types import Case

log = logging.getLogger(__name__)
#: Longest identifier text kept from a file (DICOM values are untrusted input).
MAX_LENGTH = 64
_DICOM_TAGS = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "birth_date": "PatientBirthDate",
    "study_date": "StudyDate",
    "study_description": "StudyDescription",
    "accession_number": "AccessionNumber",
    "institution": "InstitutionName",
}


@dataclass(frozen=True)
class Identifiers:
    """Who and what the report is about. Empty strings where the input does not say."""

    case_id: str
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    study_date: str = ""
    study_description: str = ""
    accession_number: str = ""
    institution: str = ""
    source: str = "file names"
    anonymised: bool = False

    def anonymise(self) -> Identifiers:
        """Names, IDs, dates and institution removed; the case ID replaced by a stable pseudonym."""
        pseudonym = "anon-" + hashlib.sha256(self.case_id.encode()).hexdigest()[:10]
        return Identifiers(pseudonym, source=self.source, anonymised=True)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text[:MAX_LENGTH]


def identifiers_of(case: Case) -> Identifiers:
    """Identifiers from the DICOM header of a DICOM case, else the case ID (from its file names)."""
    case_id = _clean(case.case_id) or "case"
    if case.source_format == "dicom":
        files = case.source_files.get(case.reference) or next(iter(case.source_files.values()), ())
        if files:
            try:
                import pydicom

                header = pydicom.dcmread(files[0], stop_before_pixels=True)
                values = {key: _clean(header.get(tag, "")) for key, tag in _DICOM_TAGS.items()}
                return Identifiers(case_id, **values, source="DICOM tags")  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 (an unreadable header leaves the file-name identifiers)
                log.warning("DICOM identifiers of %s could not be read: %s", files[0], exc)
    return Identifiers(case_id)
