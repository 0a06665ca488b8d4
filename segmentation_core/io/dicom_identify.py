"""Which MR sequence a DICOM series is (T1, T1ce, T2, FLAIR), from its tags; None when unsure."""

from __future__ import annotations

import re

import pydicom

_CONTRAST_WORDS = {
    "gd",
    "gad",
    "gado",
    "post",
    "ce",
    "c",
    "contrast",
    "+c",
    "t1c",
    "t1ce",
    "t1gd",
    "postcontrast",
}
_T1_WORDS = {"t1", "t1w", "t1n", "mprage", "spgr", "bravo", "tfl", "t1c", "t1ce", "t1gd", "vibe"}
_IGNORED_WORDS = {
    "localizer",
    "localiser",
    "scout",
    "survey",
    "dwi",
    "adc",
    "trace",
    "perfusion",
    "swi",
    "dti",
}


def identify(ds: pydicom.Dataset) -> tuple[str | None, str]:
    """(sequence name or None, why) for a series header."""
    text = " ".join(
        str(ds.get(k, "") or "") for k in ("SeriesDescription", "ProtocolName", "SequenceName")
    ).lower()
    tokens = set(re.split(r"[^a-z0-9+]+", text)) - {""}
    agent = str(ds.get("ContrastBolusAgent", "") or "").strip()
    if tokens & _IGNORED_WORDS or "t2*" in text or "t2star" in text.replace("_", ""):
        return None, f"description {text.strip()!r} is not a structural T1/T2/FLAIR series"
    has_t1 = bool(tokens & _T1_WORDS) or "t1" in text
    if not has_t1 and ("flair" in text or "t2f" in tokens or "darkfluid" in text.replace(" ", "")):
        return "flair", f"description {text.strip()!r} names FLAIR"
    has_t2 = "t2" in text
    if has_t1 and has_t2:
        return None, f"description {text.strip()!r} names both T1 and T2"
    if has_t2:
        return "t2", f"description {text.strip()!r} names T2"
    if has_t1:
        if tokens & _CONTRAST_WORDS or "+c" in text or "post" in text or agent:
            why = f"contrast agent {agent!r}" if agent else "a contrast marker"
            return "t1ce", f"description {text.strip()!r} names T1 with {why}"
        return "t1", f"description {text.strip()!r} names T1 without contrast"
    return _identify_by_timing(ds, agent)


def _identify_by_timing(ds: pydicom.Dataset, agent: str) -> tuple[str | None, str]:
    try:
        tr, te = float(ds.get("RepetitionTime", 0) or 0), float(ds.get("EchoTime", 0) or 0)
        ti = float(ds.get("InversionTime", 0) or 0)
    except (TypeError, ValueError):
        return None, "no description and unreadable TR/TE/TI"
    timing = f"TR {tr:g} ms, TE {te:g} ms, TI {ti:g} ms"
    if ti >= 1500 and te >= 60:
        return "flair", f"no description; {timing} is a fluid-attenuated inversion recovery"
    if tr >= 2000 and te >= 60 and ti == 0:
        return "t2", f"no description; {timing} is T2-weighted"
    if 0 < tr <= 1000 and 0 < te <= 30:
        return ("t1ce" if agent else "t1"), f"no description; {timing} is T1-weighted" + (
            f" with contrast agent {agent!r}" if agent else ""
        )
    return None, f"no description and {timing} does not identify the contrast"
