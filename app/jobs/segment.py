"""The AI segmentation jobs: frozen requests and generators that yield Progress.

The network runs in a child process (``segmentation_core.inference_process``): this process, whose
GUI thread draws the views, never imports torch for it and never waits on the network's GIL.
``SegmentRequest`` segments the open case's images as they are; ``StudySegmentRequest`` runs the
raw-study pipeline (co-registration, brain extraction, resampling, segmentation, mapping back) on the
study's files, with its steps as progress.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation_core import inference_process
from segmentation_core.inference_process import predict_in_child_process, segment_study_in_child_process
from segmentation_core.types import SEQUENCES, CancelToken, Case, Prediction, Progress

if TYPE_CHECKING:
    from segmentation_core.raw.result import StudyResult

#: How much lower the AI process's CPU priority is than the viewer's (POSIX nice increment).
AI_NICE = 10


def warm_up_ai_process() -> None:
    """Start the AI process's fork server (torch imported) in the background at the AI's low priority."""
    inference_process.warm_up(AI_NICE)


@dataclass(frozen=True, eq=False)
class SegmentRequest:
    """Segment ``case`` with the bundle in ``bundle_dir`` on ``device`` (auto/cpu/cuda), optional TTA."""

    case: Case
    bundle_dir: Path
    device: str = "auto"
    tta: bool = False

    def run(self, cancel: CancelToken) -> Generator[Progress, None, Prediction]:
        return (
            yield from predict_in_child_process(
                self.case,
                self.bundle_dir,
                device=self.device,
                tta=self.tta,
                threads=ai_threads(),
                nice=AI_NICE,
                cancel=cancel,
            )
        )


#: The raw-study pipeline's steps as the progress dialog lists them, with how their messages begin.
STUDY_STEPS = (
    ("co-registration", ("co-registration",)),
    ("brain extraction", ("brain extraction",)),
    ("resampling", ("resampling",)),
    ("segmentation", ("segmentation",)),
    ("mapping back", ("mapping",)),
)


def study_steps_text(message: str, state: dict[str, str]) -> str:
    """The pipeline's steps, one line each, marked done (✓), running (▶), from the cache or to come (·).

    ``message`` is the latest progress message; ``state`` (kept between calls) remembers the steps seen.
    """
    if "taken from the cache" in message:
        state.update({"co-registration": "cache", "brain extraction": "cache", "resampling": "cache"})
    elif "is BraTS-like" in message:
        state.update({"co-registration": "skipped", "brain extraction": "skipped", "resampling": "skipped"})
    current = next((i for i, (_, p) in enumerate(STUDY_STEPS) if message.startswith(p)), None)
    if message.endswith(": segmented"):
        current = len(STUDY_STEPS)
    if current is not None:
        for name, _ in STUDY_STEPS[:current]:
            state.setdefault(name, "done")
            if state[name] == "running":
                state[name] = "done"
        if current < len(STUDY_STEPS):
            state[STUDY_STEPS[current][0]] = "running"
    marks = {"done": "✓", "running": "▶", "cache": "✓ from the cache", "skipped": "– skipped (BraTS-like)"}
    lines = []
    for name, _ in STUDY_STEPS:
        mark = marks.get(state.get(name, ""), "·")
        lines.append(f"{mark[0]} {name}{mark[1:]}")
    return "\n".join(lines)


def ai_threads() -> int:
    """Leave one core to the GUI (and let the GUI win the CPU when it needs it: the AI runs niced), so
    the views stay responsive while the AI runs."""
    return max(1, (os.cpu_count() or 2) - 1)


def study_source(case: Case) -> Path | dict[str, Path]:
    """Where the raw-study pipeline reads ``case``'s study: role -> file, or the DICOM folder.

    Raises ValueError when the case was not read from files holding each sequence (e.g. an MSD 4-D file).
    """
    files = case.source_files
    if case.source_format == "dicom":
        every = [p for name in SEQUENCES for p in files.get(name, ())]
        if not every:
            raise ValueError("the case's DICOM files are not known")
        return Path(os.path.commonpath([str(p.parent) for p in every]))
    if case.source_format == "msd" or any(len(files.get(name, ())) != 1 for name in SEQUENCES):
        raise ValueError("the raw-study steps need one file per sequence (not a 4-D file)")
    return {name: files[name][0] for name in SEQUENCES}


@dataclass(frozen=True, eq=False)
class StudySegmentRequest:
    """Run the raw-study pipeline on the files ``case`` was read from; labels land on ``case``'s grid.

    ``force``: "auto" (detect), "raw" (always run the steps) or "brats" (never); ``cache_dir``: where
    the steps' results are kept by input hash (None: no cache).
    """

    case: Case
    bundle_dir: Path
    device: str = "auto"
    tta: bool = False
    force: str = "auto"
    cache_dir: Path | None = None

    def run(self, cancel: CancelToken) -> Generator[Progress, None, StudyResult]:
        return (
            yield from segment_study_in_child_process(
                study_source(self.case),
                self.bundle_dir,
                case_id=self.case.case_id,
                reference=self.case.reference,
                force=self.force,
                cache_dir=self.cache_dir,
                device=self.device,
                tta=self.tta,
                threads=ai_threads(),
                nice=AI_NICE,
                cancel=cancel,
            )
        )
