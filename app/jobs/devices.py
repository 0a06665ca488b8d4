"""Which compute devices the AI can use here, found without importing torch (a second of the GUI's time).

CUDA needs both an NVIDIA GPU with its driver and a PyTorch build with CUDA; Apple's MPS needs an Apple
silicon Mac. Each device maps to None when usable, else the reason it is not, worded for the menu.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path

#: Where the NVIDIA driver lists its GPUs (Linux).
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")
#: PyTorch's CUDA library in a CUDA build, per platform.
TORCH_CUDA_LIBRARIES = ("libtorch_cuda.so", "torch_cuda.dll")


def torch_lib_dir() -> Path | None:
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "lib"


def nvidia_gpu_present() -> bool:
    return NVIDIA_GPUS.is_dir() and any(NVIDIA_GPUS.iterdir())


def cuda_problem() -> str | None:
    if sys.platform == "darwin":
        return "Macs have no CUDA GPU"
    lib = torch_lib_dir()
    if lib is None or not any((lib / name).exists() for name in TORCH_CUDA_LIBRARIES):
        return "the installed PyTorch is the CPU build (README: PyTorch, CPU or GPU)"
    if sys.platform.startswith("linux") and not nvidia_gpu_present():
        return "no NVIDIA GPU was found on this computer"
    return None


def device_problems() -> dict[str, str | None]:
    """Device key (auto, cuda, mps, cpu) -> None when the AI can run there, else why not."""
    mps = None if sys.platform == "darwin" and platform.machine() == "arm64" else "only on Apple silicon Macs"
    return {"auto": None, "cuda": cuda_problem(), "mps": mps, "cpu": None}
