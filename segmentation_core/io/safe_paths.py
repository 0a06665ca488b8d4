"""Names that come from file contents (DICOM PatientID, case ids) made safe to use in output paths."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

#: Longest name kept (file systems allow 255 bytes; suffixes are added after it).
MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: object, fallback: str = "case") -> str:
    """``text`` as one harmless file-name component: ASCII letters, digits, ``._-`` only, no leading dot.

    ``"../x"`` -> ``"x"``, ``"/etc/passwd"`` -> ``"etc_passwd"``, ``"Müller^Hans"`` -> ``"Muller_Hans"``.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"_{2,}", "_", re.sub(r"\.{2,}", "_", _UNSAFE.sub("_", ascii_text)))
    cleaned = cleaned.strip("._-")[:MAX_NAME].strip("._-")
    return cleaned or fallback


def inside(folder: Path | str, path: Path | str) -> Path:
    """``path`` when it lies inside ``folder`` (symbolic links resolved), else ValueError naming both."""
    root = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(path))
    if target != root and root not in target.parents:
        raise ValueError(f"{path}: refuses to write outside the output folder {folder}")
    return Path(path)
