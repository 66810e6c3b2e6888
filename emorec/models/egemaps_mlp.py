"""An MLP on the 88 eGeMAPS functionals of an utterance (standardised by the dataset)."""

from __future__ import annotations

from torch import nn

from emorec.models import register_model

EGEMAPS_DIM = 88


class EgemapsMLP(nn.Module):
    def __init__(self, num_classes: int, in_dim: int = EGEMAPS_DIM, hidden: int = 128, layers: int = 2, dropout: float = 0.3):
        super().__init__()
        mods, d = [], in_dim
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            d = hidden
        self.body = nn.Sequential(*mods)
        self.head = nn.Linear(d, num_classes)

    def forward(self, x):
        return self.head(self.body(x))


@register_model("egemaps_mlp", modality="audio", input_kind="egemaps")
def egemaps_mlp(num_classes: int, in_dim: int = EGEMAPS_DIM, hidden: int = 128, layers: int = 2, dropout: float = 0.3) -> nn.Module:
    """MLP on 88 eGeMAPS functionals."""
    return EgemapsMLP(num_classes, in_dim=in_dim, hidden=hidden, layers=layers, dropout=dropout)
