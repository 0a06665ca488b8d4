"""Asking which label scheme a case's label file follows (when its values do not say), or to open the
images without it."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QWidget

from segmentation_core.labels import SCHEMES

#: The choice that opens the images and leaves the label file aside.
IMAGES_ONLY = "Open the images without these labels"


def scheme_choices() -> list[tuple[str, str]]:
    """(text shown, scheme key or "" for images only), file schemes first."""
    return [(SCHEMES[key].description, key) for key in ("brats", "brats2023", "msd")] + [(IMAGES_ONLY, "")]


def choose_label_scheme(parent: QWidget, problem: str) -> str | None:
    """Ask the user; returns a scheme key, "" to open the images only, or None when cancelled."""
    choices = scheme_choices()
    text, ok = QInputDialog.getItem(
        parent,
        "Which label scheme?",
        f"{problem}\n\nWhich label values does this file use?",
        [text for text, _ in choices],
        0,
        False,
    )
    if not ok:
        return None
    return dict(choices)[text]
