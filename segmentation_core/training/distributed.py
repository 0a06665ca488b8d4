"""Multi-process (torchrun / DDP) helpers; a single process is the world of size 1."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; initialises the process group once."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return (dist.get_rank() if world > 1 else 0), world


def device_for_rank(device: torch.device, rank: int) -> torch.device:
    if device.type == "cuda" and torch.cuda.device_count() > 1:
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return device


def wrap(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel when running under torchrun, else the network itself."""
    if dist.is_available() and dist.is_initialized():
        return DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None)
    return network
