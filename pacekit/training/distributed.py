"""Single process or DDP under ``torchrun``: the process group, the device, and rank-0-only side effects.

``torchrun --nproc_per_node N -m pacekit.cli pretrain ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` in each process; :func:`init_distributed` reads them and joins the process group (NCCL on
CUDA, gloo on the CPU). Without them everything runs in one process and the helpers here are no-ops.
Only rank 0 writes logs, checkpoints and progress bars; every rank trains.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistContext:
    """Where this process stands: its rank among ``world_size`` processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # True when init_distributed created the process group (and must destroy it)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(spec: str, local_rank: int = 0) -> torch.device:
    """``"auto"`` -> ``cuda:<local_rank>`` when CUDA is present, else ``cpu``; other specs as given."""
    if spec == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError):
        raise ValueError(f"--device {spec!r} is not a device name; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"--device {spec!r}: pacekit runs on cpu, cuda or mps; use auto, cpu, cuda or cuda:N")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {spec!r} was asked for but MPS is not available; use --device cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} was asked for but CUDA is not available; use --device cpu")
        if device.index is None:
            device = torch.device(f"cuda:{local_rank}")
    return device


def init_distributed(device_spec: str = "auto") -> DistContext:
    """Join the torchrun process group if ``WORLD_SIZE`` > 1 and pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_spec, local_rank)
    ctx = DistContext(rank, world_size, local_rank, device)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        ctx.owns_group = True
    return ctx


def cleanup_distributed(ctx: DistContext) -> None:
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()
        ctx.owns_group = False


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (a no-op in one process) and return it."""
    if ctx.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()
