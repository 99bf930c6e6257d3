"""Several processes, one run: `torchrun` / `accelerate launch` set WORLD_SIZE, RANK, LOCAL_RANK.

Rank 0 owns the run (library row, events, checkpoints, the saved model); every rank trains its
share of each batch under DistributedDataParallel, NCCL on GPUs and gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


SINGLE = DistInfo()


def from_env() -> DistInfo:
    """The process group this process was launched into (a single process if none)."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return SINGLE
    return DistInfo(rank=int(os.environ.get("RANK", "0")), world=world,
                    local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def init(info: DistInfo, device_name: str) -> None:
    """Join the process group (NCCL when training on CUDA, else gloo)."""
    if not info.enabled:
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    cuda = device_name in {"auto", "cuda"} and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(backend="nccl" if cuda else "gloo")


def shutdown(info: DistInfo) -> None:
    if info.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def broadcast(info: DistInfo, value: Any) -> Any:
    """Rank 0's `value`, on every rank."""
    if not info.enabled:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_sum(info: DistInfo, values: list[float], device: Any) -> list[float]:
    """Element-wise sum of `values` over every rank."""
    if not info.enabled:
        return values
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64 if device.type == "cpu" else torch.float32,
                          device=device)
    dist.all_reduce(tensor)
    return [float(v) for v in tensor.tolist()]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        import torch.distributed as dist

        dist.barrier()
