"""Transformer fusion of per-modality probability vectors (one token per modality).

Input (N, M, C): row m is modality m's class-probability vector; mask (N, M) is True where that modality
produced an output. Each row is projected C -> d_model, a learned modality embedding is added, a
TransformerEncoder attends across the M rows (missing rows are padding), and the masked mean of the
encoded rows goes to a linear classification head.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models import register_model


class FusionTransformer(nn.Module):
    def __init__(
        self,
        num_modalities: int,
        num_classes: int,
        d_model: int = 32,
        nhead: int = 4,
        num_layers: int = 2,
        dropout: float = 0.1,
        in_dim: int | None = None,
    ):
        super().__init__()
        self.num_modalities, self.num_classes = num_modalities, num_classes
        self.in_dim = in_dim or num_classes  # the unimodal outputs' width (their class count)
        self.project = nn.Linear(self.in_dim, d_model)
        self.modality_embedding = nn.Parameter(torch.randn(num_modalities, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x, mask: torch.Tensor | None = None) -> torch.Tensor:
        if isinstance(x, dict):
            x, mask = x["x"], x.get("mask")
        n, m, c = x.shape
        if m != self.num_modalities or c != self.in_dim:
            raise ValueError(f"fusion input must be (N, {self.num_modalities}, {self.in_dim}), got {tuple(x.shape)}")
        present = torch.ones(n, m, dtype=torch.bool, device=x.device) if mask is None else mask.bool()
        present = present | ~present.any(dim=1, keepdim=True)  # a row with nothing present attends to all
        h = self.project(x.float()) + self.modality_embedding
        h = self.encoder(h, src_key_padding_mask=~present)
        w = present.unsqueeze(-1).to(h.dtype)
        pooled = (h * w).sum(1) / w.sum(1).clamp(min=1.0)
        return self.head(self.norm(pooled))


@register_model("fusion_transformer", modality="fusion", input_kind="fusion")
def fusion_transformer(
    num_classes: int,
    num_modalities: int = 3,
    d_model: int = 32,
    nhead: int = 4,
    num_layers: int = 2,
    dropout: float = 0.1,
    in_dim: int | None = None,
) -> nn.Module:
    """Transformer over (N, M, C) unimodal probability vectors with a modality mask."""
    return FusionTransformer(
        num_modalities, num_classes, d_model=d_model, nhead=nhead, num_layers=num_layers, dropout=dropout, in_dim=in_dim
    )
