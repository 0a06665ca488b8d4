"""Choosing where inference runs (CUDA, Apple MPS or CPU) and the CUDA out-of-memory fallback chain."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class Attempt:
    """One way to run a prediction: network device, stitching device, batch size, and why (fallback)."""

    device: torch.device
    stitch_device: torch.device
    batch_size: int
    fallback: str | None = None


def resolve_device(name: str = "auto", *, mps: bool = True) -> torch.device:
    """``auto`` picks CUDA, then Apple MPS (unless ``mps`` is False, e.g. for training), then CPU; a forced
    device that is absent is an error. The one place a device name becomes a torch device."""
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    backend = getattr(torch.backends, "mps", None)
    has_mps = backend is not None and backend.is_available()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps and mps else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but no CUDA GPU is available to torch; use --device cpu")
    if name == "mps" and not has_mps:
        raise ValueError("device 'mps' requested but Apple MPS is not available; use --device cpu")
    return torch.device(name)


def default_batch_size(device: torch.device) -> int:
    """Windows per batch: a few on a GPU; two on the CPU, where a batch above one also makes torch pick
    oneDNN convolutions for the small deep layers (about twice as fast as its native kernels there)."""
    return 4 if device.type == "cuda" else 2


def cpu_threads(threads: int | None = None) -> int:
    """Threads for CPU inference: ``threads`` or every core this process may run on."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS / Windows
        return max(1, os.cpu_count() or 1)


def fallback_attempts(device: torch.device, batch_size: int) -> list[Attempt]:
    """The chain to try in order: on CUDA, halve the batch, then stitch on the CPU, then all CPU."""
    cpu = torch.device("cpu")
    attempts = [Attempt(device, device, batch_size)]
    if device.type != "cuda":
        return attempts
    smaller = batch_size // 2
    while smaller >= 1:
        attempts.append(Attempt(device, device, smaller, f"smaller batch ({smaller})"))
        smaller //= 2
    attempts.append(Attempt(device, cpu, 1, "stitching on the CPU"))
    attempts.append(Attempt(cpu, cpu, default_batch_size(cpu), "CPU (GPU out of memory)"))
    return attempts


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a CUDA (or MPS) out-of-memory error."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def release_memory(device: torch.device) -> None:
    """Return cached GPU memory after an out-of-memory error."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    log.info("out of memory on %s; trying the next fallback", device)
