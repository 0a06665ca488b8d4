"""Registry file-system helpers: atomic JSON (via ``segmentation_core.atomic``), stage-then-rename folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from segmentation_core import atomic


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (the project's one atomic-write helper)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, data)


def staging_dir(parent: Path, prefix: str) -> Path:
    """A fresh hidden folder inside ``parent`` (same file system, so a rename out of it is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=parent))


def replace_dir(staged: Path, final: Path) -> None:
    """Move the staged folder to ``final``, replacing an existing folder there (old one removed after)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    try:
        os.replace(staged, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
