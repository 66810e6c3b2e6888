"""The LightningModule every model trains in: cross-entropy or focal loss, optional mixup, Adam/AdamW with an optional
warm-up, WA/UA/wF1."""

from __future__ import annotations

import sys

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from torch import nn


def unweighted_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean per-class recall over the classes present in y_true (UA)."""
    recalls = [float(np.mean(y_pred[y_true == c] == c)) for c in np.unique(y_true)]
    return float(np.mean(recalls)) if recalls else float("nan")


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 per class weighted by the class's share of y_true (MELD's headline metric)."""
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def focal_loss(logits: torch.Tensor, y: torch.Tensor, gamma: float, weight: torch.Tensor | None = None):
    """Mean of -w_y (1 - p_y)^gamma log p_y (Lin et al. 2017); gamma 0 is (weighted) cross-entropy, averaged
    over examples."""
    logp = F.log_softmax(logits, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
    loss = -((1 - logp.exp()) ** gamma) * logp
    return (loss * weight[y]).mean() if weight is not None else loss.mean()


class EmotionClassifier(L.LightningModule):
    """Wraps a registry model: cross-entropy (optionally class-weighted), Adam or AdamW with an optional warm-up
    and linear decay, WA/UA validation metrics."""

    def __init__(
        self,
        model: nn.Module,
        num_classes: int | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        class_weights=None,
        optimizer: str = "adam",
        schedule: str = "constant",
        fused: bool = False,
        loss: str = "cross_entropy",
        focal_gamma: float = 2.0,
        layer_decay: float | None = None,
        mixup: float = 0.0,
    ):
        super().__init__()
        self.model, self.num_classes, self.lr, self.weight_decay = model, num_classes, lr, weight_decay
        self.optimizer_name, self.schedule, self.fused = optimizer, schedule, fused
        self.loss_name, self.focal_gamma, self.layer_decay, self.mixup = loss, focal_gamma, layer_decay, mixup
        cw = None if class_weights is None else [float(w) for w in class_weights]
        self.save_hyperparameters(ignore=["model", "class_weights"])
        self.hparams.update(class_weights=cw, model_name=str(getattr(model, "model_name", type(model).__name__)))
        self.register_buffer("class_weights", None if cw is None else torch.tensor(cw), persistent=False)
        self._val_preds: list[torch.Tensor] = []
        self._val_true: list[torch.Tensor] = []

    def forward(self, x):
        return self.model(x)

    def _loss(self, logits, y):
        if self.loss_name == "focal":
            return focal_loss(logits.float(), y, self.focal_gamma, self.class_weights)
        return F.cross_entropy(logits.float(), y, weight=self.class_weights)

    def training_step(self, batch, batch_idx):
        x, y = batch
        if self.mixup > 0 and isinstance(x, torch.Tensor) and len(y) > 1:
            lam = float(torch.distributions.Beta(self.mixup, self.mixup).sample())  # torch's seeded generator
            perm = torch.randperm(len(y), device=y.device)
            logits = self(lam * x + (1 - lam) * x[perm])
            loss = lam * self._loss(logits, y) + (1 - lam) * self._loss(logits, y[perm])
        else:
            loss = self._loss(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        return loss

    def on_validation_epoch_start(self):
        self._val_preds, self._val_true = [], []

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log(
            "val_loss",
            self._loss(logits, y),
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=len(y),
            sync_dist=True,
        )
        self._val_preds.append(logits.argmax(1).detach().cpu())
        self._val_true.append(y.detach().cpu())

    def on_validation_epoch_end(self):
        if not self._val_true:
            return
        y, p = torch.cat(self._val_true), torch.cat(self._val_preds)
        if self.trainer.world_size > 1:  # every process scores the whole validation set
            y, p = self.all_gather(y).reshape(-1), self.all_gather(p).reshape(-1)
        y, p = y.cpu().numpy(), p.cpu().numpy()
        self.log("val_acc", float(np.mean(y == p)), prog_bar=True)
        self.log("val_ua", unweighted_accuracy(y, p), prog_bar=True)
        self.log("val_wf1", weighted_f1(y, p))

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return torch.softmax(self(x).float(), dim=1)

    def _param_groups(self) -> list[dict]:
        """One group at `lr`, or with `layer_decay` one per layer group of the model, lower layers slower."""
        groups = self.model.layer_groups() if self.layer_decay and hasattr(self.model, "layer_groups") else None
        if not groups:
            return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": self.lr}]
        n = len(groups)
        out = [
            {"params": [p for p in g if p.requires_grad], "lr": self.lr * self.layer_decay ** (n - 1 - i)}
            for i, g in enumerate(groups)
        ]
        return [g for g in out if g["params"]]  # a frozen encoder's groups have nothing to train

    def configure_optimizers(self):
        opt_cls = torch.optim.AdamW if self.optimizer_name == "adamw" else torch.optim.Adam
        opt = opt_cls(self._param_groups(), lr=self.lr, weight_decay=self.weight_decay, fused=self.fused or None)
        if self.schedule == "constant":
            return opt
        total = max(2, int(self.trainer.estimated_stepping_batches))
        warm = max(1, total // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm)))
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class StderrProgressBar(TQDMProgressBar):
    """Lightning's tqdm bars, written to stderr."""

    def _bar(self, desc, position, leave, **kw):
        return Tqdm(
            desc=desc,
            position=position,
            disable=self.is_disabled,
            leave=leave,
            dynamic_ncols=True,
            file=sys.stderr,
            bar_format=self.BAR_FORMAT,
            **kw,
        )

    def init_sanity_tqdm(self):
        return self._bar(self.sanity_check_description, 2 * self.process_position, False)

    def init_train_tqdm(self):
        return self._bar(self.train_description, 2 * self.process_position, True, smoothing=0)

    def init_predict_tqdm(self):
        return self._bar(self.predict_description, 2 * self.process_position, True, smoothing=0)

    def init_validation_tqdm(self):
        main = self.trainer.state.fn != "validate"
        return self._bar(self.validation_description, 2 * self.process_position + main, not main)
