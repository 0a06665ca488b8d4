"""Error texts from the core name command-line options; the GUI names its own menus instead."""

from __future__ import annotations

import re

#: (pattern in a core message, what a GUI user does instead)
CLI_TO_GUI: tuple[tuple[str, str], ...] = (
    (r"use --device cpu", "choose Segment ▸ Device ▸ CPU"),
    (r"pass --model DIR", "choose a model in Retrain ▸ Manage models…"),
    (r"pass the right label scheme explicitly", "choose the label scheme when you open the case"),
    (r"\(?dicom_roles=\{[^}]*\}\)?", "(open the series' folders with File ▸ Open case files…)"),
    (r"\(dicom_roles / --dicom-role [^)]*\)", "(open the series' folders with File ▸ Open case files…)"),
    (r"start a new run without --resume", "start a new fine-tune"),
    (r"pass scheme='msd'", "reopen the case and choose the MSD label scheme"),
)


def for_the_gui(message: str) -> str:
    """``message`` with each command-line remedy replaced by what to do in the window."""
    for pattern, replacement in CLI_TO_GUI:
        message = re.sub(pattern, replacement, message)
    return message
