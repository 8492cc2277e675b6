"""Data-parallel training under `torchrun` (PyTorch DDP: gloo on CPU, NCCL with `--device cuda`).

    torchrun --nproc-per-node 2 -m silifc.cli train DATA ... --out model.pt     # = --shards 2 in one process

`silifc.train.train` needs no change of call: when torchrun's environment is set
(WORLD_SIZE > 1) it joins the process group, and each batch is cut into WORLD_SIZE parts,
rank r computing part r; DDP averages the gradients. Its single-process equivalent is
`TrainOptions(shards=WORLD_SIZE)` (`silifc train --shards N`): the same parts, the same
per-part batch-norm statistics and dropout seeds, the same weighted gradient. With two
processes the averaged gradient is (g0 + g1) / 2 in both, which is exact in floating point,
so the models are identical (tests/test_train_distributed.py); with more processes the
order of the sum may differ in the last bit (tolerance documented in docs/training.md).
Every rank evaluates the (identical) model; only rank 0 writes files and progress.
"""
from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass

import torch



@dataclass
class Parallel:
    rank: int
    world: int
    backend: str
    device: str = "cpu"          # this rank's training device: cuda:LOCAL_RANK with NCCL

    def wrap(self, model):
        """DDP around the model (one wrapper per model object; its own methods stay reachable)."""
        from torch.nn.parallel import DistributedDataParallel

        if getattr(self, "_wrapped", (None, None))[0] is not model:
            with warnings.catch_warnings():      # batch-norm buffers stay rank-local (precise BN replaces them)
                warnings.simplefilter("ignore", FutureWarning)
                self._wrapped = (model, DistributedDataParallel(model, broadcast_buffers=False))
        return self._wrapped[1]

    def sum_floats(self, *values):
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor)
        return tuple(float(v) for v in tensor)


@functools.lru_cache(maxsize=1)
def _join(world: int, rank: int, on_gpu: bool) -> Parallel:
    backend = "nccl" if on_gpu else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend)
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if on_gpu else "cpu"
    return Parallel(rank=torch.distributed.get_rank(), world=torch.distributed.get_world_size(), backend=backend,
                    device=device)


def current_parallel(device: str = "cpu") -> Parallel | None:
    """The process group when started by torchrun with more than one process, else None.
    Training on `cuda` joins with NCCL, each rank on GPU LOCAL_RANK; on the CPU with gloo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return _join(world, int(os.environ.get("RANK", "0")), torch.device(device).type == "cuda")
