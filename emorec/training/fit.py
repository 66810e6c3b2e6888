"""One training pattern for every model: `fit` (resumable), `predict_proba`, weights I/O.

    result = fit(get_model("audio_cnn", 4), train_ds, val_ds, num_classes=4, cfg=FitConfig(epochs=30), out_dir=d)
    model = load_best(get_model("audio_cnn", 4), result.best_ckpt)
    probs = predict_proba(model, test_ds)            # (N, C) softmax probabilities

`out_dir` gets `best.ckpt` (best on the monitored validation metric), `last.ckpt` (for resuming),
`logs/version_<n>/metrics.csv` (one CSVLogger version per (re)start), `metrics.csv` (per-epoch summary of all
versions), `fit_config.json` and, once training is finished, `fit_done.json`.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch import nn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from emorec.training.distributed import barrier, is_global_zero
from emorec.training.fit_config import RESUMABLE_CHANGES, FitConfig, monitor_mode
from emorec.training.module import EmotionClassifier, StderrProgressBar
from emorec.training.progress import run_progress


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip:" not in record.getMessage()


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropTips())
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
warnings.filterwarnings("ignore", message=r".*Checkpoint directory .* exists and is not empty.*")

DONE_FILE, CONFIG_FILE = "fit_done.json", "fit_config.json"


@dataclass
class FitResult:
    best_ckpt: Path
    best_score: float | None
    epochs_run: int
    metrics_csv: Path
    stopped_early: bool = False
    last_ckpt: Path | None = None

    def to_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> FitResult:
        d = dict(d)
        for k in ("best_ckpt", "metrics_csv", "last_ckpt"):
            if d.get(k) is not None:
                d[k] = Path(d[k])
        return cls(**d)


def dataset_labels(ds: Dataset) -> np.ndarray:
    labels = getattr(ds, "labels", None)
    if labels is not None:
        return np.asarray(labels, dtype=np.int64)
    return np.asarray([int(ds[i][1]) for i in range(len(ds))], dtype=np.int64)


def class_weights_for(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights n / (C * count_c), normalised to mean 1 over the classes present."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    return w / w[counts > 0].mean()


def _sampler(labels: np.ndarray, seed: int) -> WeightedRandomSampler:
    counts = np.bincount(labels)
    weights = 1.0 / counts[labels]
    return WeightedRandomSampler(
        torch.as_tensor(weights, dtype=torch.double),
        num_samples=len(labels),
        replacement=True,
        generator=torch.Generator().manual_seed(seed),
    )


def _check_config(out_dir: Path, cfg: FitConfig) -> None:
    path = out_dir / CONFIG_FILE
    current = cfg.model_dump(mode="json")
    if path.exists():
        stored = {**FitConfig().model_dump(mode="json"), **json.loads(path.read_text())}  # keys added later: defaults
        diff = {k for k in set(stored) | set(current) if k not in RESUMABLE_CHANGES and stored.get(k) != current.get(k)}
        if diff:
            detail = ", ".join(f"{k}: {stored.get(k)!r} -> {current.get(k)!r}" for k in sorted(diff))
            raise ValueError(
                f"{out_dir} holds a training run with a different configuration ({detail}); "
                f"use another output directory or delete {out_dir} to start over"
            )
    path.write_text(json.dumps(current, indent=1))


def merge_csv_logs(out_dir: Path) -> Path:
    """One row per epoch from all CSVLogger versions (a resumed version overrides the epochs it repeats)."""
    out = Path(out_dir) / "metrics.csv"
    parts = []
    for v, csv in enumerate(
        sorted((Path(out_dir) / "logs").glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[-1]))
    ):
        df = pd.read_csv(csv)
        if "epoch" in df and len(df):
            parts.append(df.assign(_version=v))
    if not parts:
        pd.DataFrame(columns=["epoch"]).to_csv(out, index=False)
        return out
    df = pd.concat(parts, ignore_index=True).dropna(subset=["epoch"])
    df["epoch"] = df["epoch"].astype(int)
    latest = df.groupby("epoch")["_version"].transform("max")
    df = df[df["_version"] == latest].drop(columns="_version")
    merged = df.groupby("epoch").last().reset_index()  # last non-null value of each column per epoch
    merged.to_csv(out, index=False)
    return out


def fit(
    model: nn.Module,
    train_ds: Dataset,
    val_ds: Dataset | None,
    num_classes: int,
    cfg: FitConfig | dict | None = None,
    out_dir: str | Path = "fit",
    callbacks: list | None = None,
) -> FitResult:
    """Train `model` (a registry model or an EmotionClassifier) and return where its best checkpoint is.

    Resumes from out_dir/last.ckpt when a previous call did not finish; returns the stored result without
    training when it did (unless `cfg.epochs` now asks for more epochs and it did not stop early).
    Without `val_ds` the checkpoint monitors train_loss and there is no early stopping.
    `callbacks` are extra Lightning callbacks. Seed (L.seed_everything) before building the model for a
    reproducible initialisation; `fit` seeds data order and dropout with `cfg.seed`. Under a distributed
    strategy every process calls `fit`; files are written by rank 0.
    """
    cfg = FitConfig.model_validate(cfg or {}) if not isinstance(cfg, FitConfig) else cfg
    out_dir = Path(out_dir)
    stored = _finished(out_dir, cfg)
    if stored is not None:
        return stored
    if len(train_ds) == 0:
        raise ValueError("fit: the training set is empty")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    labels = dataset_labels(train_ds)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"fit: training labels must be in [0, {num_classes}), got [{labels.min()}, {labels.max()}]")
    module = _module(model, num_classes, labels, cfg)
    train_loader, val_loader = _loaders(train_ds, val_ds, labels, cfg)
    ckpt_cb, early, callbacks = _callbacks(out_dir, cfg, val_loader is not None, callbacks)
    trainer = _trainer(out_dir, cfg, callbacks, len(train_loader))
    last = out_dir / "last.ckpt"
    trainer.fit(module, train_loader, val_loader, ckpt_path=last if last.exists() else None)
    return _result(out_dir, cfg, trainer, ckpt_cb, early)


def _module(model: nn.Module, num_classes: int, labels: np.ndarray, cfg: FitConfig) -> EmotionClassifier:
    if isinstance(model, EmotionClassifier):
        return model
    weights = class_weights_for(labels, num_classes) if cfg.balance == "weighted_loss" else None
    return EmotionClassifier(
        model,
        num_classes,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        class_weights=weights,
        optimizer=cfg.optimizer,
        schedule=cfg.schedule,
        fused=cfg.fused_optimizer,
        loss=cfg.loss,
        focal_gamma=cfg.focal_gamma,
        layer_decay=cfg.layer_decay,
        mixup=cfg.mixup,
    )


def _trainer(out_dir: Path, cfg: FitConfig, callbacks: list, steps_per_epoch: int) -> L.Trainer:
    progress = run_progress()  # the run's one progress display replaces Lightning's per-batch bars
    return L.Trainer(
        max_epochs=cfg.epochs,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        strategy=cfg.strategy,
        num_nodes=cfg.num_nodes,
        precision=cfg.precision,
        deterministic=cfg.deterministic,
        logger=CSVLogger(out_dir, name="logs"),
        callbacks=callbacks + ([progress.callback(out_dir)] if progress else []),
        enable_progress_bar=cfg.enable_progress_bar and progress is None,
        enable_model_summary=False,
        max_time=cfg.max_time,
        num_sanity_val_steps=0,
        gradient_clip_val=cfg.gradient_clip_val,
        log_every_n_steps=max(1, min(50, steps_per_epoch)),
        default_root_dir=out_dir,
    )


def _finished(out_dir: Path, cfg: FitConfig) -> FitResult | None:
    """The stored result of a finished fit with this configuration (None: train or continue)."""
    if is_global_zero():
        out_dir.mkdir(parents=True, exist_ok=True)
        _check_config(out_dir, cfg)
    done = out_dir / DONE_FILE
    if not done.exists():
        return None
    stored = FitResult.from_dict(json.loads(done.read_text()))
    if stored.stopped_early or stored.epochs_run >= cfg.epochs:
        return stored
    barrier()
    if is_global_zero():
        done.unlink()  # more epochs requested: continue from last.ckpt
    return None


def _loaders(train_ds: Dataset, val_ds: Dataset | None, labels: np.ndarray, cfg: FitConfig):
    """Training and validation loaders; under a distributed strategy Lightning shards them (the balanced
    sampler included) across the processes."""
    sampler = _sampler(labels, cfg.seed) if cfg.balance == "sampler" else None
    bs, workers = cfg.batch_size, cfg.num_workers
    train = DataLoader(
        train_ds,
        batch_size=bs,
        shuffle=sampler is None,
        sampler=sampler,
        num_workers=workers,
        drop_last=len(train_ds) > bs and len(train_ds) % bs == 1,
        persistent_workers=workers > 0,
    )
    val = (
        None
        if val_ds is None or len(val_ds) == 0
        else DataLoader(val_ds, batch_size=bs, shuffle=False, num_workers=workers, persistent_workers=workers > 0)
    )
    return train, val


def _callbacks(out_dir: Path, cfg: FitConfig, validated: bool, extra: list | None):
    monitor = cfg.monitor if validated else "train_loss"
    mode = monitor_mode(monitor)
    ckpt_cb = ModelCheckpoint(
        dirpath=out_dir, filename="best", monitor=monitor, mode=mode, save_top_k=1, enable_version_counter=False
    )
    # every epoch's state, for resuming (save_last on the monitored callback only saves on improvement)
    last_cb = ModelCheckpoint(
        dirpath=out_dir, filename="last", monitor=None, save_top_k=1, enable_version_counter=False
    )
    callbacks = [ckpt_cb, last_cb, *(extra or [])]
    early = None
    if cfg.patience is not None and validated:
        early = EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience)
        callbacks.append(early)
    if cfg.enable_progress_bar and run_progress() is None:
        callbacks.append(StderrProgressBar())
    return ckpt_cb, early, callbacks


def _result(out_dir: Path, cfg: FitConfig, trainer, ckpt_cb, early) -> FitResult:
    last = out_dir / "last.ckpt"
    metrics_csv = merge_csv_logs(out_dir) if is_global_zero() else out_dir / "metrics.csv"
    score = ckpt_cb.best_model_score
    stopped_early = bool(early is not None and early.stopped_epoch > 0)
    result = FitResult(
        best_ckpt=Path(ckpt_cb.best_model_path) if ckpt_cb.best_model_path else last,
        best_score=None if score is None else float(score),
        epochs_run=int(trainer.current_epoch),
        metrics_csv=metrics_csv,
        stopped_early=stopped_early,
        last_ckpt=last if last.exists() else None,
    )
    if is_global_zero() and not trainer.interrupted and (stopped_early or result.epochs_run >= cfg.epochs):
        (out_dir / DONE_FILE).write_text(json.dumps(result.to_dict(), indent=1))
    barrier()
    return result


def predict_proba(
    model: nn.Module,
    ds: Dataset,
    batch_size: int = 64,
    accelerator: str = "auto",
    num_workers: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """Softmax probabilities (N, C) for every item of `ds`, in order (batch prediction through Lightning)."""
    if len(ds) == 0:
        raise ValueError("predict_proba: the dataset is empty")
    module = model if isinstance(model, EmotionClassifier) else EmotionClassifier(model)
    trainer = L.Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=progress,
        enable_model_summary=False,
        callbacks=[StderrProgressBar()] if progress else None,
    )
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    batches = trainer.predict(module, loader)
    return torch.cat([b.float().cpu() for b in batches]).numpy()


def _unwrap(model: nn.Module) -> nn.Module:
    return model.model if isinstance(model, EmotionClassifier) else model


def load_best(model: nn.Module, ckpt: str | Path) -> nn.Module:
    """Load a Lightning checkpoint's weights into `model` (a registry model or an EmotionClassifier)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    if isinstance(model, EmotionClassifier):
        model.load_state_dict(state, strict=False)
        return model
    inner = {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
    model.load_state_dict(inner, strict=True)
    return model


def save_weights(model: nn.Module, path: str | Path) -> Path:
    """The model's weights as a .safetensors file (portable; no pickled code)."""
    from safetensors.torch import save_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    inner = _unwrap(model)
    save_model(inner, str(path), metadata={"model_name": str(getattr(inner, "model_name", type(inner).__name__))})
    return path


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    from safetensors.torch import load_model

    load_model(_unwrap(model), str(path), strict=True, device="cpu")
    return model
