"""Log-linear pooling of calibrated recognisers: log q(c) = sum over the modalities present of w_m * log p_m(c),
with each p_m tempered by its own temperature, then normalised. It needs no aligned multimodal training data:
every recogniser may come from another corpus; missing modalities (mask False) simply drop out."""

from __future__ import annotations

import torch
from torch import nn

from emorec.models import register_model

EPS = 1e-8


class LogLinearPool(nn.Module):
    def __init__(self, num_modalities: int, num_classes: int, temperatures=None, weights=None):
        super().__init__()
        self.num_modalities, self.num_classes = num_modalities, num_classes
        t = torch.ones(num_modalities) if temperatures is None else torch.as_tensor(temperatures, dtype=torch.float32)
        w = torch.ones(num_modalities) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        if t.shape != (num_modalities,) or w.shape != (num_modalities,):
            raise ValueError(f"log_linear_pool: temperatures and weights need {num_modalities} values each")
        if (t <= 0).any() or (w < 0).any():
            raise ValueError("log_linear_pool: temperatures must be > 0 and weights >= 0")
        self.register_buffer("temperature", t.clone())
        self.register_buffer("weight", w.clone())

    def forward(self, batch: dict) -> torch.Tensor:
        x, mask = batch["x"].float(), batch["mask"].bool()  # (N, M, C) probabilities, (N, M)
        logp = torch.log_softmax(torch.log(x.clamp_min(EPS)) / self.temperature.view(1, -1, 1), dim=-1)
        w = self.weight.view(1, -1, 1) * mask.unsqueeze(-1).float()
        return (w * logp).sum(dim=1)  # the pooled log-probabilities up to a constant: logits


@register_model("log_linear_pool", modality="fusion", input_kind="fusion")
def log_linear_pool(
    num_classes: int,
    num_modalities: int = 3,
    temperatures: list[float] | None = None,
    modality_weights: list[float] | None = None,
) -> nn.Module:
    """Weighted log-linear pooling of temperature-calibrated per-modality probabilities (no training)."""
    return LogLinearPool(num_modalities, num_classes, temperatures, modality_weights)
