"""MLPs on openSMILE functionals of an utterance (standardised by the dataset): the 88 eGeMAPS values or the
6,373 ComParE 2016 values."""

from __future__ import annotations

from torch import nn

from emorec.models import register_model

EGEMAPS_DIM, COMPARE_DIM = 88, 6373


class FunctionalsMLP(nn.Module):
    """`layers` hidden blocks (Linear, BatchNorm, ReLU, Dropout), then a linear head; `in_dropout` drops input
    features (useful with thousands of correlated ComParE values); `layers: 0` is a softmax regression."""

    def __init__(
        self,
        num_classes: int,
        in_dim: int,
        hidden: int = 128,
        layers: int = 2,
        dropout: float = 0.3,
        in_dropout: float = 0.0,
    ):
        super().__init__()
        mods, d = ([nn.Dropout(in_dropout)] if in_dropout > 0 else []), in_dim
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            d = hidden
        self.body = nn.Sequential(*mods)
        self.head = nn.Linear(d, num_classes)

    def forward(self, x):
        return self.head(self.body(x))


@register_model("egemaps_mlp", modality="audio", input_kind="egemaps")
def egemaps_mlp(
    num_classes: int,
    in_dim: int = EGEMAPS_DIM,
    hidden: int = 128,
    layers: int = 2,
    dropout: float = 0.3,
    in_dropout: float = 0.0,
) -> nn.Module:
    """MLP on 88 eGeMAPS functionals."""
    return FunctionalsMLP(num_classes, in_dim, hidden=hidden, layers=layers, dropout=dropout, in_dropout=in_dropout)


@register_model("compare_mlp", modality="audio", input_kind="compare")
def compare_mlp(
    num_classes: int,
    in_dim: int = COMPARE_DIM,
    hidden: int = 128,
    layers: int = 1,
    dropout: float = 0.5,
    in_dropout: float = 0.5,
) -> nn.Module:
    """MLP on 6,373 ComParE 2016 functionals (input dropout 0.5, one hidden layer)."""
    return FunctionalsMLP(num_classes, in_dim, hidden=hidden, layers=layers, dropout=dropout, in_dropout=in_dropout)
