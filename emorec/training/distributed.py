"""Several processes (Lightning DDP, torchrun, SLURM): which process writes, and waiting for what rank 0 writes.

Under `fit.strategy: ddp` every process runs the whole experiment in the same order; Lightning synchronises the
training steps. Files (the feature store, checkpoints, outputs, done markers, the report) are written by the
process of global rank 0 only; the others read what it wrote where they need it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RANK_VARIABLES = ("RANK", "NODE_RANK", "LOCAL_RANK", "SLURM_PROCID")  # torchrun, Lightning's launcher, SLURM


def is_global_zero() -> bool:
    """True in a single process, and in the process of global rank 0 of a distributed run."""
    return all(int(os.environ.get(k) or 0) == 0 for k in RANK_VARIABLES)


def barrier() -> None:
    """Wait for every process of the run (no-op without an initialised process group)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wait_for_file(path: Path, timeout_s: float = 24 * 3600, poll_s: float = 0.5) -> None:
    """Block until `path` exists (a marker that rank 0 writes); TimeoutError naming it otherwise."""
    start = time.monotonic()
    while not Path(path).exists():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"waited {timeout_s:.0f} s for rank 0 to write {path}")
        time.sleep(poll_s)
