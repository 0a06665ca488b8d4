"""CaseSession: one open case's labels as the user's work — AI provenance, edit tracking, autosave and
recovery, and the "unsaved changes?" decision. Qt-free: questions go through an injected ``ask``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from psygnal import Signal

from app.jobs.export import ExportRequest
from app.session.text import plural
from app.state.alignment import StudyAlignment
from app.state.autosave import Autosaver, recovery_for, scan_recoveries, set_aside
from app.state.edit_stats import EditTracker
from app.state.viewer_state import ViewerState
from segmentation_core.types import Case, CleanUp, Prediction

if TYPE_CHECKING:
    from segmentation_core.raw.result import StudyResult

logger = logging.getLogger(__name__)

#: A yes/no question to the user: ``ask(title, text) -> True for yes``.
Question = Callable[[str, str], bool]


def case_sources(case: Case) -> list[str]:
    """The files a case was read from (identifies its recovery file)."""
    return sorted(str(p) for paths in case.source_files.values() for p in paths)


class CaseSession:
    """The work on the open case of ``state``; follows ``state.case_changed``."""

    tracker_changed = Signal(object)  # EditTracker | None
    prediction_applied = Signal(object)  # Prediction, once it is the labels' newest undo step

    def __init__(
        self, state: ViewerState, ask: Question | None = None, notify: Callable[[str], None] | None = None
    ) -> None:
        self.state = state
        #: Asks the user a yes/no question (the window sets it; the default says yes).
        self.ask: Question = ask or (lambda _title, _text: True)
        #: Tells the user something they must see once (e.g. a recovery file set aside).
        self.notify: Callable[[str], None] = notify or logger.warning
        self.tracker: EditTracker | None = None
        self.autosaver: Autosaver | None = None
        self.ai_top: object = None
        self.model_version: str | None = None
        #: What the clean-up of the AI result on this case removed (for the export sidecar).
        self.ai_cleanup: CleanUp | None = None
        #: the recovery file the user already chose to recover at start (not asked again on opening)
        self._accepted_recovery: Path | None = None
        #: More export-sidecar entries, asked for at each export (e.g. the review coverage).
        self.sidecar_extras: list[Callable[[], dict[str, object]]] = []
        #: The raw-study steps of the last AI result applied to this case (transforms, brain mask...).
        self.raw_provenance: dict[str, Any] | None = None
        self.sidecar_extras.append(self._raw_study_sidecar)
        state.case_changed.connect(self._on_case)

    # ------------------------------------------------------------------ case changes
    def _on_case(self, case: Case | None) -> None:
        if self.tracker is not None:
            self.tracker.close()
        if self.autosaver is not None:
            self.autosaver.close()
            self.autosaver = None
        labels = self.state.labels
        self.tracker = EditTracker(labels) if labels is not None else None
        self.ai_top = None
        self.model_version = None
        self.ai_cleanup = None
        self.raw_provenance = None
        self.tracker_changed.emit(self.tracker)
        if case is not None and labels is not None:
            sources = case_sources(case)
            recovery = recovery_for(case.case_id, sources, on_problem=self.notify)
            self.autosaver = Autosaver(labels, case.case_id, sources)
            accepted, self._accepted_recovery = self._accepted_recovery, None
            if recovery is not None and recovery.shape == case.shape:
                when = dt.datetime.fromtimestamp(recovery.saved_at).strftime("%Y-%m-%d %H:%M")
                if recovery.path == accepted or self.ask(
                    "Recover unsaved labels?",
                    f"Unsaved labels of {case.case_id} from {when} ({plural(recovery.edits, 'edit')}) "
                    "were found.\nRecover them? (No discards them.)",
                ):
                    try:
                        labels.replace(recovery.load(), "Recovered unsaved labels")
                    except ValueError as exc:
                        self.notify(set_aside(recovery.path, str(exc)))
                else:
                    recovery.discard()

    # ------------------------------------------------------------------ AI result
    def has_user_labels(self) -> bool:
        """True when the labels hold anything that is not the last AI result (edits or a loaded _seg)."""
        labels = self.state.labels
        if labels is None or not labels.data.any():
            return False
        return self.ai_top is None or labels.history.top is not self.ai_top

    def confirm_replace(self) -> bool:
        """Before the AI replaces the labels: ask when that would replace the user's own labels."""
        return not self.has_user_labels() or self.ask(
            "Replace the labels?",
            "The current labels (loaded or edited) will be replaced by the AI result. "
            "You can undo this afterwards (Edit ▸ Undo). Continue?",
        )

    def apply_prediction(self, prediction: Prediction) -> str | None:
        """Make the AI result one undo step; returns the status text (None when the case changed)."""
        labels = self.state.labels
        if labels is None or labels.shape != prediction.labels.shape:
            return None
        if labels.in_stroke:  # a stroke whose release was lost must not swallow the result
            labels.end_stroke()
        name = f"AI segmentation (model v{prediction.model_version})"
        labels.replace(prediction.labels, name)
        self.ai_top = labels.history.top
        self.model_version = prediction.model_version
        self.ai_cleanup = prediction.cleanup
        if self.tracker is not None:
            self.tracker.set_baseline(prediction.labels)
        self.prediction_applied.emit(prediction)
        fallback = f", fallback: {prediction.fallback}" if prediction.fallback else ""
        removed = prediction.cleanup.describe() if prediction.cleanup is not None else ""
        cleanup = f"; {removed}" if removed else ""
        return f"{name}: {prediction.seconds:.1f} s on {prediction.device.upper()}{fallback}{cleanup}"

    def apply_study_result(self, result: StudyResult) -> str | None:
        """Apply a raw-study AI result (on the GUI thread): the other sequences replaced by their
        registered versions, the labels as one undo step, the alignment (registered images, brain mask,
        transforms) shown. Returns the status text; None (nothing changed) when the case changed meanwhile.
        """
        case, labels = self.state.case, self.state.labels
        if (
            case is None
            or labels is None
            or tuple(result.shape) != case.shape
            or result.reference != case.reference
            or not np.allclose(result.affine, case.affine, atol=1e-4)
        ):
            return None
        previous = self.state.alignment
        header_only = (
            dict(previous.header_only)
            if previous is not None
            else {name: case.channels[name].array for name in case.channels if name != case.reference}
        )
        if result.registered:
            self.state.replace_images(result.registered)
            from segmentation_core.raw.native import NOT_REGISTERED

            kept = [w for w in case.warnings if not w.startswith(NOT_REGISTERED)]
            new = [str(w) for w in result.provenance.get("warnings", []) if w not in kept]
            case.warnings[:] = [*kept, *new]
        text = self.apply_prediction(result.prediction)
        if not result.skipped:
            self.state.set_alignment(
                StudyAlignment(
                    case.reference,
                    header_only=header_only,
                    registered=dict(result.registered),
                    brain_mask=result.brain_mask,
                    transforms=dict(result.transforms),
                )
            )
        self.raw_provenance = {**result.provenance, "co_registered": bool(result.registered)}
        return f"{text}; {result.summary()}" if text is not None else None

    def _raw_study_sidecar(self) -> dict[str, object]:
        """The sidecar's ``raw_study`` entry: the AI's raw-study steps, or that the study is not registered."""
        if self.raw_provenance is not None:
            return {"raw_study": self.raw_provenance}
        alignment = self.state.alignment
        if alignment is None:
            return {}
        return {
            "raw_study": {
                "reference": alignment.reference,
                "co_registered": False,
                "note": "the other sequences were placed on the reference grid by their header geometry only",
            }
        }

    # ------------------------------------------------------------------ unsaved changes
    def confirm_discard(self, action: str) -> bool:
        """Before closing or opening another case: False when the user wants to keep unsaved edits.

        Asks at most once; on yes the edits stay in the recovery file (written now).
        """
        labels = self.state.labels
        if labels is None or not labels.modified:
            return True
        if not self.ask(
            "Unsaved changes",
            f"The labels have unsaved changes. {action} anyway?\n"
            "(They stay in the recovery file until you export or discard them.)",
        ):
            return False
        if self.autosaver is not None:
            self.autosaver.flush()
        return True

    def recoveries_to_open(self) -> list[Path]:
        """At start, after a crash: the paths of the first case with unsaved labels, if the user wants it."""
        scan = scan_recoveries()
        for message in scan.set_aside:
            self.notify(message)
        recoveries = [r for r in scan.recoveries if r.sources]
        if not recoveries:
            return []
        names = ", ".join(r.case_id for r in recoveries)
        if not self.ask(
            "Unsaved labels found",
            f"The last session ended with unsaved labels for: {names}.\n"
            f"Open {recoveries[0].case_id} now to recover them?",
        ):
            return []
        self._accepted_recovery = recoveries[0].path  # asked once: opening the case recovers it
        sources = [Path(s) for s in recoveries[0].sources]
        folders = sorted({p.parent for p in sources})
        return folders if len(folders) == 1 else sources

    # ------------------------------------------------------------------ export
    def library_refusal(self) -> str | None:
        """Why the open case cannot join the training set (None: it can).

        A raw study's images and labels lie on its thick native slices, skull on; training cases are
        co-registered, skull-stripped ~1 mm volumes, so adding it would teach the model the wrong thing.
        """
        if self.state.alignment is None:
            return None
        return (
            "a raw scanner study cannot join the training set: training cases must be co-registered, "
            "skull-stripped ~1 mm volumes (BraTS-like), and this study's labels lie on its native slices"
        )

    def export_request(
        self,
        path: Path,
        scheme: str,
        dicom_seg: bool = False,
        add_to_library: bool = False,
        *,
        overwrite: bool = False,
    ) -> tuple[ExportRequest, Callable[[], None]]:
        """The export job's request (a copy of the labels, taken now) and what to call when it succeeded:
        the labels count as saved (if not edited since) and the recovery file goes."""
        case, labels = self.state.case, self.state.labels
        if case is None or labels is None:
            raise ValueError("no case is open")
        refusal = self.library_refusal() if add_to_library else None
        if refusal:
            raise ValueError(refusal)
        extra: dict[str, object] = (
            {"edits": self.tracker.stats.to_dict()} if self.tracker is not None and self.model_version else {}
        )
        if self.model_version and self.ai_cleanup is not None:
            extra["ai_cleanup"] = self.ai_cleanup.to_json()  # what the AI's clean-up removed
        for more in self.sidecar_extras:
            extra.update(more())
        request = ExportRequest(
            case,
            labels.data.copy(),
            path,
            scheme=scheme,
            model_version=self.model_version,
            extra=extra,
            dicom_seg=dicom_seg,
            add_to_library=add_to_library,
            overwrite=overwrite,
        )
        top, autosaver = labels.history.top, self.autosaver

        def exported() -> None:
            if self.state.labels is labels and labels.history.top is top:
                labels.mark_saved()
                if autosaver is not None and autosaver is self.autosaver:
                    autosaver.discard()

        return request, exported
