"""Which sequence an image file holds, from its file name (BraTS names and scanner-style names)."""

from __future__ import annotations

import re
from pathlib import Path

from segmentation_core.io.naming import parse_name, split_suffix

_FLAIR = {"flair", "fla", "t2f", "tirm", "darkfluid"}
_T2 = {"t2", "t2w", "tse", "t2tse"}
_T1 = {"t1", "t1w", "t1n", "mprage", "spgr", "bravo", "tfl", "vibe"}
_T1_CONTRAST = {"t1c", "t1ce", "t1gd", "t1post", "t1km", "t1kmr"}
_CONTRAST = {"gd", "gad", "gado", "post", "ce", "contrast", "postcontrast", "kmr", "km"}
_IGNORED = {"seg", "mask", "label", "labels", "dwi", "adc", "swi", "localizer", "scout", "brainmask"}


def identify_name(name: str) -> str | None:
    """The sequence ("t1", "t1ce", "t2", "flair") a file name names, or None when it names none or several.

    BraTS names (``<id>_t1ce.nii.gz``, ``<id>-t2f.nii.gz``) are read exactly; other names are split into
    words, e.g. ``MRHR_T1_AX_POST_GAD_..._t1c.nii.gz`` -> t1ce, ``..._FLAIR_AX_..._fla.nii.gz`` -> flair.
    """
    parsed = parse_name(name)
    if parsed is not None:
        return parsed[1] if parsed[1] != "seg" else None
    stem = split_suffix(name)[0].lower()
    words = set(re.split(r"[^a-z0-9]+", stem)) - {""}
    if words & _IGNORED:
        return None
    if words & _FLAIR:
        return "flair"
    t1 = bool(words & (_T1 | _T1_CONTRAST))
    t2 = bool(words & _T2)
    if t1 and t2:
        return None
    if t2:
        return "t2"
    if t1:
        return "t1ce" if words & (_T1_CONTRAST | _CONTRAST) else "t1"
    return None


def identify_files(paths: list[Path]) -> tuple[dict[str, list[Path]], list[Path]]:
    """(sequence -> files naming it, files naming no sequence)."""
    found: dict[str, list[Path]] = {}
    unknown: list[Path] = []
    for path in paths:
        role = identify_name(path.name)
        if role is None:
            unknown.append(path)
        else:
            found.setdefault(role, []).append(path)
    return found, unknown
