"""Multi-process (torchrun / DDP) helpers; a single process is the world of size 1."""

from __future__ import annotations

import logging
import os
import socket

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

logger = logging.getLogger(__name__)


def loopback_interface() -> str | None:
    """The name of the loopback network interface (``lo`` on Linux, ``lo0`` on macOS), if any."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return None
    return next((name for name in names if name.startswith("lo")), None)


def _single_node(world: int) -> bool:
    return int(os.environ.get("LOCAL_WORLD_SIZE", "0")) == world


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; initialises the process group once.

    On one machine with the CPU (gloo) backend, gloo would otherwise pick the network address that the
    host name resolves to, which in containers is often not reachable from the other ranks; the ranks
    then talk over the loopback interface instead, unless ``GLOO_SOCKET_IFNAME`` says otherwise.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "gloo" and _single_node(world) and "GLOO_SOCKET_IFNAME" not in os.environ:
            interface = loopback_interface()
            if interface:
                os.environ["GLOO_SOCKET_IFNAME"] = interface
                logger.info("gloo on one machine: ranks talk over %s", interface)
        dist.init_process_group(backend)
    return (dist.get_rank() if world > 1 else 0), world


def device_for_rank(device: torch.device, rank: int) -> torch.device:
    if device.type == "cuda" and torch.cuda.device_count() > 1:
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return device


def barrier() -> None:
    """Wait for every rank (nothing to wait for in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wrap(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel when running under torchrun, else the network itself."""
    if dist.is_available() and dist.is_initialized():
        return DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None)
    return network
