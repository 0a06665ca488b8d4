"""Run the predictor in a child process, streaming its Progress back; cancel by stopping the process.

A desktop viewer runs the AI while the user keeps working. In a thread of the viewer's own process the
network competes with the GUI for the GIL (importing torch, scipy post-processing and resampling hold it
for hundreds of milliseconds), so the slice views would stutter. A child process shares no GIL: the
viewer's process only waits on a pipe. The case's images travel through shared memory (no pickling of
hundreds of MB); the labels come back through the pipe as a ``segmentation_core.types.Prediction``,
which unpickles without importing torch (an import would hold this process's GIL for a second).

This module imports neither torch nor the inference package; the child does. Where the platform has
a fork server (Linux, macOS) it is started once with the inference code imported, so every later run
starts in milliseconds instead of paying torch's import again; ``warm_up`` starts it in the background
(at a lower CPU priority) before the first run is asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import sys
import threading
import traceback
from collections.abc import Generator
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segmentation_core.types import CancelToken, Case, Prediction, Progress, Volume

if TYPE_CHECKING:
    from segmentation_core.raw.result import StudyResult

log = logging.getLogger(__name__)

#: How often the parent checks for cancellation while waiting for the child (seconds).
POLL_S = 0.05
#: How long a cancelled child gets to stop before it is killed (seconds).
STOP_GRACE_S = 2.0
#: Where POSIX shared memory lives on Linux; containers often make it small (Docker: 64 MB).
SHM_DIR = Path("/dev/shm")
#: Room left free in SHM_DIR beyond the images (bytes).
SHM_MARGIN = 64 * 2**20
_PRELOAD = ["segmentation_core.inference", "segmentation_core.models.bundle", "segmentation_core.raw.segment"]


class InferenceProcessError(RuntimeError):
    """The child process stopped without a result (killed, crashed or out of memory)."""


@dataclass(frozen=True)
class SharedArray:
    """Where a numpy array lies in shared memory: enough for another process to map it."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @classmethod
    def create(cls, array: np.ndarray) -> tuple[SharedArray, SharedMemory]:
        """Copy ``array`` into a new shared memory block (the caller unlinks the block)."""
        block = SharedMemory(create=True, size=max(1, array.nbytes))
        view = np.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)
        view[...] = array
        del view
        return cls(block.name, tuple(array.shape), array.dtype.str), block

    def attach(self) -> tuple[np.ndarray, SharedMemory]:
        """Map the block; the array is valid while the returned SharedMemory stays open."""
        block = SharedMemory(name=self.name)
        return np.ndarray(self.shape, dtype=np.dtype(self.dtype), buffer=block.buf), block


@dataclass(frozen=True)
class ChildRequest:
    """What the child needs: the case without its arrays, where those lie, and the predictor settings."""

    case: Case
    #: Sequence -> (its array, or where it lies in shared memory; affine; source file).
    channels: dict[str, tuple[SharedArray | np.ndarray, np.ndarray, Path | None]]
    bundle_dir: Path
    device: str
    tta: bool
    threads: int
    #: The child's CPU priority as an absolute POSIX niceness (it may inherit a lower one already).
    nice: int


@dataclass(frozen=True)
class StudyChildRequest:
    """The raw-study pipeline in the child: the study's files (role -> file, or a DICOM folder), its
    case id, which sequence is the reference, ``force`` ("auto", "raw", "brats"), the steps' cache folder
    (None: no cache) and the predictor settings."""

    source: Path | dict[str, Path]
    case_id: str
    reference: str
    force: str
    cache_dir: Path | None
    bundle_dir: Path
    device: str
    tta: bool
    threads: int
    nice: int


def shared_memory_has_room(nbytes: int) -> bool:
    """Whether ``nbytes`` of images fit in shared memory (writing past a full /dev/shm kills a process)."""
    if not SHM_DIR.is_dir():
        return True  # macOS and Windows have no such fixed-size file system
    try:
        return shutil.disk_usage(SHM_DIR).free >= nbytes + SHM_MARGIN
    except OSError:
        return False


def start_method() -> str:
    """``forkserver`` where the platform has one (and the app is not a frozen bundle), else ``spawn``."""
    available = multiprocessing.get_all_start_methods()
    if "forkserver" in available and not getattr(sys, "frozen", False):
        return "forkserver"
    return "spawn"


def _context() -> Any:  # a fork, forkserver or spawn context (typeshed's BaseContext lacks Process)
    context = multiprocessing.get_context(start_method())
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(_PRELOAD)
    return context


def _process_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else 0


def warm_up(nice: int = 0) -> threading.Thread | None:
    """Start the fork server now, in a background thread, ``nice`` steps below this process's priority.

    The server imports the inference code (torch) at that lower priority while the user looks at the
    case, so that the first prediction starts at once. Returns the thread (None where there is no fork
    server: Windows, frozen builds). Calling it again does nothing once the server runs.
    """
    if start_method() != "forkserver":
        return None
    thread = threading.Thread(target=_start_fork_server, args=(nice,), name="ai-warm-up", daemon=True)
    thread.start()
    return thread


def _start_fork_server(nice: int) -> None:
    from multiprocessing import forkserver

    if nice and sys.platform.startswith("linux"):
        # Linux keeps the priority per thread, and a process started from a thread inherits its priority
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
        except OSError as exc:
            log.debug("could not lower the warm-up's priority: %s", exc)
    _context()  # names the modules the server imports
    forkserver.ensure_running()


def predict_in_child_process(
    case: Case,
    bundle_dir: Path,
    *,
    device: str = "auto",
    tta: bool = False,
    threads: int = 1,
    nice: int = 0,
    cancel: CancelToken | None = None,
) -> Generator[Progress, None, Prediction]:
    """Segment ``case`` with the bundle in ``bundle_dir`` in a child process; yields its Progress.

    ``nice`` lowers the child's CPU priority (POSIX nice increment) so that a GUI keeps its frame rate.

    Raises what the predictor raised (e.g. a BundleError), CancelledError within ``POLL_S`` of a
    cancel (the child is stopped), and InferenceProcessError when the child dies without an answer.
    """
    blocks: list[SharedMemory] = []
    try:
        share = shared_memory_has_room(sum(volume.array.nbytes for volume in case.channels.values()))
        if not share:
            log.warning("shared memory is too small for the images; they are copied to the AI process")
        channels: dict[str, tuple[SharedArray | np.ndarray, np.ndarray, Path | None]] = {}
        for name, volume in case.channels.items():
            if share:
                shared, block = SharedArray.create(volume.array)
                blocks.append(block)
                channels[name] = (shared, volume.affine, volume.source)
            else:
                channels[name] = (volume.array, volume.affine, volume.source)
        skeleton = dataclasses.replace(case, channels={}, labels=None)
        request = ChildRequest(
            skeleton, channels, Path(bundle_dir), device, tta, threads, _process_niceness() + nice
        )
        return (yield from _run_in_child(request, cancel))
    finally:
        for block in blocks:
            block.close()
            block.unlink()


def segment_study_in_child_process(
    source: Path | dict[str, Path],
    bundle_dir: Path,
    *,
    case_id: str = "",
    reference: str = "t1ce",
    force: str = "auto",
    cache_dir: Path | None = None,
    device: str = "auto",
    tta: bool = False,
    threads: int = 1,
    nice: int = 0,
    cancel: CancelToken | None = None,
) -> Generator[Progress, None, StudyResult]:
    """The raw-study pipeline (read, co-register, skull-strip, resample, segment, map back) in a child.

    Yields the pipeline's named steps as Progress; returns a ``StudyResult`` on the reference's native
    grid. Raises what the pipeline raised (RawStudyError naming step and sequence, CaseLoadError naming
    a file), CancelledError within ``POLL_S`` of a cancel, InferenceProcessError when the child dies.
    """
    request = StudyChildRequest(
        source,
        case_id,
        reference,
        force,
        cache_dir,
        Path(bundle_dir),
        device,
        tta,
        threads,
        _process_niceness() + nice,
    )
    return (yield from _run_in_child(request, cancel))


def _run_in_child(
    request: ChildRequest | StudyChildRequest, cancel: CancelToken | None
) -> Generator[Progress, None, Any]:
    """Start the child on ``request``, relay its Progress, return its result; the child always ends."""
    process = None
    finished = False
    receive, send = multiprocessing.Pipe(duplex=False)
    try:
        process = _context().Process(
            target=child_main, args=(request, send), name="brats-inference", daemon=True
        )
        process.start()
        send.close()  # the child holds the only write end now
        yield Progress(0, 0, "starting the AI process")
        result = yield from _relay(receive, process, cancel)
        finished = True
        return result
    finally:
        if process is not None:
            _stop(process, grace_s=STOP_GRACE_S if finished else 0.0)
        send.close()
        receive.close()


def _relay(
    receive: multiprocessing.connection.Connection,
    process: multiprocessing.process.BaseProcess,
    cancel: CancelToken | None,
) -> Generator[Progress, None, Prediction]:
    """Yield the child's Progress until it sends its result or error."""
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if not receive.poll(POLL_S):
            if process.is_alive() or receive.poll(0):
                continue
            raise _died(process)  # a fork server may hold the pipe open: no end-of-file comes then
        try:
            kind, payload = receive.recv()
        except EOFError:
            process.join(STOP_GRACE_S)
            raise _died(process) from None
        if kind == "progress":
            yield payload
        elif kind == "result":
            return payload
        else:
            raise payload


def _died(process: multiprocessing.process.BaseProcess) -> InferenceProcessError:
    return InferenceProcessError(
        f"the AI process stopped without a result (exit code {process.exitcode}); "
        "it may have run out of memory"
    )


def _stop(process: multiprocessing.process.BaseProcess, grace_s: float) -> None:
    """End the child: wait ``grace_s`` for it to exit by itself, then terminate it, then kill it."""
    process.join(grace_s)
    if process.is_alive():
        process.terminate()
        process.join(STOP_GRACE_S)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()


def child_main(
    request: ChildRequest | StudyChildRequest, send: multiprocessing.connection.Connection
) -> None:
    """Entry point of the child: predict and send ("progress", Progress)…, then ("result", Prediction)
    (a StudyResult for a StudyChildRequest).

    The shared memory stays mapped until the process exits; the parent unlinks it.
    """
    blocks: list[SharedMemory] = []  # referenced until the end: closing them would unmap the images
    _lower_priority_to(request.nice)
    try:
        if isinstance(request, StudyChildRequest):
            _segment_study(request, send)
            return
        channels = {}
        for name, (where, affine, source) in request.channels.items():
            if isinstance(where, SharedArray):
                array, block = where.attach()
                blocks.append(block)
            else:
                array = where
            channels[name] = Volume(array, affine, source)
        _predict(dataclasses.replace(request.case, channels=channels), request, send)
    except BaseException as exc:  # noqa: BLE001 (everything goes back to the parent)
        send.send(("error", _picklable(exc)))
    finally:
        send.close()


def _lower_priority_to(niceness: int) -> None:
    """Make this process yield the CPU to interactive work (the viewer, the display server)."""
    increment = niceness - _process_niceness()
    if increment > 0 and hasattr(os, "nice"):
        try:
            os.nice(increment)
        except OSError as exc:
            log.debug("could not lower the AI process's priority: %s", exc)


def _predict(case: Case, request: ChildRequest, send: multiprocessing.connection.Connection) -> None:
    """Load the bundle, predict, and send each Progress and then the Prediction to the parent."""
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.models.bundle import ModelBundle

    def report(progress: Progress) -> None:
        send.send(("progress", progress))

    bundle = ModelBundle.load(request.bundle_dir)
    report(Progress(0, 0, f"loading {bundle.name} v{bundle.version}"))
    predictor = Predictor(bundle, device=request.device, tta=request.tta, threads=request.threads)
    report(Progress(0, 0, f"running on {predictor.device.type.upper()}"))
    send.send(("result", run_prediction(predictor, case, on_progress=report)))


def _segment_study(request: StudyChildRequest, send: multiprocessing.connection.Connection) -> None:
    """Load the bundle, run the raw-study pipeline, send each step's Progress and then the StudyResult."""
    import time

    from segmentation_core.inference import Predictor
    from segmentation_core.models.bundle import ModelBundle
    from segmentation_core.raw.cache import StudyCache
    from segmentation_core.raw.pipeline import RawOptions
    from segmentation_core.raw.result import study_result
    from segmentation_core.raw.segment import run_study
    from segmentation_core.raw.study import read_study

    def report(progress: Progress) -> None:
        send.send(("progress", progress))

    start = time.perf_counter()
    study = read_study(request.source, reference=request.reference)
    study.case_id = request.case_id or study.case_id
    bundle = ModelBundle.load(request.bundle_dir)
    report(Progress(0, 0, f"loading {bundle.name} v{bundle.version}"))
    predictor = Predictor(bundle, device=request.device, tta=request.tta, threads=request.threads)
    report(Progress(0, 0, f"running on {predictor.device.type.upper()}"))
    result = run_study(
        study,
        predictor,
        RawOptions(force=request.force),  # type: ignore[arg-type]
        reference=request.reference,
        progress=report,
        cache=StudyCache(request.cache_dir) if request.cache_dir is not None else None,
        want_probabilities=True,
    )
    send.send(("result", study_result(result, time.perf_counter() - start, request.tta)))


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its type, text and traceback."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 (any pickling failure)
        text = "".join(traceback.format_exception(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}\n{text}")
