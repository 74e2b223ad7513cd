"""Training on several processes with PyTorch's DistributedDataParallel, kept out of the loop's way.

``torchrun --nproc_per_node=N -m course_lib train ...`` starts N copies of the same command, with ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK`` in their environment. :func:`world` joins them into one process group (NCCL on GPUs,
gloo on CPUs); everything else is the :class:`World`'s business: each process trains on its share of every batch
(DDP averages the gradients, so the update is the one a single process makes on the whole batch), only the first
process writes checkpoints and prints, and all of them stop together. A single process gets a World that does
nothing, so ``fit`` reads the same either way.

Equivalence: with a batch size divisible by the number of processes and no batch norm, N processes follow a
single process with the same global batch to float rounding (tests/test_distributed.py checks 1e-5). Batch norm
normalises each process's share on its own; on GPUs it is made synchronous (``SyncBatchNorm``), which PyTorch
does not offer on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["World", "world"]


@dataclass(frozen=True)
class World:
    """This process's place among the training processes: ``rank`` of ``size`` (0 of 1 when alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """The process that writes checkpoints, shows progress and runs the callbacks."""
        return self.rank == 0

    def device(self, requested: torch.device) -> torch.device:
        """On GPUs, each process takes its own (``cuda:LOCAL_RANK``); on the CPU all share it."""
        if self.size > 1 and requested.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return requested

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to train through: ``model`` itself, or DDP around it (batch norm synchronised on GPUs)."""
        if self.size == 1:
            return model
        if device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            return nn.parallel.DistributedDataParallel(model, device_ids=[device.index])
        return nn.parallel.DistributedDataParallel(model)

    def share(self, batch: torch.Tensor) -> torch.Tensor:
        """This process's contiguous part of a global batch (the parts differ by at most one sample)."""
        if self.size == 1:
            return batch
        return torch.tensor_split(batch, self.size)[self.rank]

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` added up over every process (the epoch's loss and Dice totals of all the shares)."""
        if self.size == 1:
            return values
        total = values.clone()
        dist.all_reduce(total)
        return total

    def any(self, flag: bool) -> bool:
        """True on every process when it is True on any (so that all stop at the same epoch)."""
        if self.size == 1:
            return flag
        value = torch.tensor([1.0 if flag else 0.0])
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


def world() -> World:
    """This process's World, joining the process group torchrun set up (``WORLD_SIZE`` > 1) on first use."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return World(rank=dist.get_rank(), size=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", "0")))
