"""A raw study in the real window, timed: open it, Run AI (twice: the second takes steps 2-4 from the cache),
export; screenshots of the window and of the progress dialog along the way.

    xvfb-run -a -s "-screen 0 1600x1200x24" python bench/raw_study_gui.py [STUDY] [-o OUT]

Prints the wall times and writes ``OUT/raw_study_gui.json`` and the screenshots (PNG) to OUT.
Uses the active model, a fresh steps cache under OUT, and settings of its own (not the user's).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STUDY = REPO / ".." / "shared" / "data" / "clinical" / "TCGA-FG-6692"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, default=DEFAULT_STUDY, help="the study folder")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "test-output" / "raw-study-gui")
    args = parser.parse_args(argv)
    out = args.output.resolve()
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from app.qt.main_window import MainWindow

    window = MainWindow()
    window.ask = lambda _title, _text: True
    window.resize(1500, 1000)
    window.show()
    figures: dict[str, object] = {"study": str(args.study.resolve())}

    def wait(handle, shots: str | None = None) -> float:  # noqa: ANN001
        """Until the job ends; the progress dialog is saved once per step (and each step's start printed)."""
        start = time.perf_counter()
        seen: list[str] = []
        while handle.running:
            app.processEvents()
            time.sleep(0.02)
            dialog = getattr(handle, "dialog", None)
            if not shots or dialog is None or not dialog.isVisible():
                continue
            text = dialog.status_label.text()
            step = text.split(":")[0].split("  ")[0]
            if step and step not in seen:
                seen.append(step)
                dialog.grab().save(str(out / f"{shots}_progress_{len(seen):02d}.png"))
                print(f"  {time.perf_counter() - start:6.1f} s  {text}", flush=True)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.01)
        return time.perf_counter() - start

    handle = window.case_opener.open_paths([args.study])
    figures["open_s"] = round(wait(handle), 2)
    case = window.state.case
    if case is None:
        print("the study did not open", file=sys.stderr)
        return 1
    print(
        f"opened {case.case_id} {case.shape} in {figures['open_s']} s: {window.statusBar().currentMessage()}"
    )
    window.grab().save(str(out / "opened.png"))
    window.segment.cache_dir = lambda: out / "cache"
    for run in ("first", "second"):
        handle = window.segment.run()
        if handle is None:
            print("Run AI did not start", file=sys.stderr)
            return 1
        figures[f"ai_{run}_s"] = round(wait(handle, shots=f"ai_{run}"), 2)
        message = window.statusBar().currentMessage()
        print(f"AI ({run} run) in {figures[f'ai_{run}_s']} s: {message}")
        figures[f"ai_{run}_status"] = message
        window.grab().save(str(out / f"ai_{run}_result.png"))
    labels = window.state.labels
    if labels is not None and labels.data.any():  # look at the tumour, on the T1c and the registered FLAIR
        import numpy as np

        centre = tuple(int(round(c)) for c in np.argwhere(labels.data).mean(axis=0))
        window.state.cursor.set_position(centre)
        for sequence in ("t1ce", "flair"):
            window.state.display.set_sequence(sequence)
            wait(handle)
            window.grab().save(str(out / f"result_tumour_{sequence}.png"))
    alignment = window.state.alignment
    if alignment is not None:
        figures["transforms"] = {
            name: {k: t[k] for k in ("rotation_degrees", "translation_mm", "similarity")}
            for name, t in alignment.transforms.items()
        }
    target = out / "export" / f"{case.case_id}_seg.nii.gz"
    target.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    handle = window.exporter.start_export(
        target, "brats", dicom_seg=False, add_to_library=False, overwrite=True
    )
    wait(handle)
    figures["export_s"] = round(time.perf_counter() - start, 2)
    import nibabel as nib
    import numpy as np

    written = nib.load(target)
    reference = nib.load(case.source_files[case.reference][0])
    figures["export_same_grid"] = bool(
        written.shape == reference.shape and np.allclose(written.affine, reference.affine, atol=1e-5)
    )
    figures["labels_voxels"] = int(np.count_nonzero(np.asanyarray(written.dataobj)))
    print(json.dumps(figures, indent=2))
    (out / "raw_study_gui.json").write_text(json.dumps(figures, indent=2))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
