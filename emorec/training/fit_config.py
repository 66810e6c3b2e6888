"""Training settings of one fit (`fit:` in a config): epochs, batch, optimiser, schedule, early stopping, devices."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# FitConfig fields that may change between a run and its continuation (all others must match)
RESUMABLE_CHANGES = {
    "epochs",
    "accelerator",
    "devices",
    "num_workers",
    "enable_progress_bar",
    "max_time",
    "strategy",
    "num_nodes",
}


class FitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    balance: Literal["none", "weighted_loss", "sampler"] = "none"
    patience: int | None = 5  # early stopping on `monitor`; None = off
    monitor: Literal["val_ua", "val_acc", "val_wf1", "val_loss"] = "val_ua"  # val_wf1: weighted F1
    seed: int = 0
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"  # per node; with several, `batch_size` is per process
    strategy: str = (
        "auto"  # Lightning strategy: "ddp" (several processes, gloo on CPU / nccl on GPUs), "ddp_spawn", ...
    )
    num_nodes: int = 1
    num_workers: int = 0
    precision: int | str = "32-true"
    deterministic: bool | Literal["warn"] = False
    enable_progress_bar: bool = True
    max_time: str | None = None  # "DD:HH:MM:SS"; a run stopped by it is not finished and resumes next call
    gradient_clip_val: float | None = None
    # the optimiser's fused kernel: about 10 % faster steps on a CPU; results differ from the default kernel's
    # in the last bits, so configs whose documented numbers predate it leave it off
    fused_optimizer: bool = False
    optimizer: Literal["adam", "adamw"] = "adam"  # adamw: decoupled weight decay (transformer fine-tuning)
    schedule: Literal["constant", "warmup_linear"] = "constant"  # warmup_linear: 10 % warm-up, then linear to 0
    loss: Literal["cross_entropy", "focal"] = "cross_entropy"  # focal: (1 - p)^focal_gamma down-weights easy examples
    focal_gamma: float = 2.0
    # layer-wise learning-rate decay for models with `layer_groups()` (the text model): the top group trains at
    # `lr`, each group below at `layer_decay` times the one above; None = one rate for all
    layer_decay: float | None = None
    # mixup (Zhang et al. 2018) for tensor inputs: each training batch is blended with a shuffled copy of itself,
    # weight lam ~ Beta(mixup, mixup), and so is the loss of the two labels; 0 = off
    mixup: float = Field(0.0, ge=0.0)


def monitor_mode(monitor: str) -> Literal["min", "max"]:
    """Whether a monitored metric is best where it is lowest (losses) or highest (scores)."""
    return "min" if monitor.endswith("loss") else "max"
