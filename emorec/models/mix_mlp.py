"""Models on `speech_emb` (speech_embedding statistics) and `speech_mix` (ComParE + eGeMAPS + speech_embedding).

`mix_mlp` concatenates the parts of a speech_mix input, each scaled by its weight (`part_weights`) (with 6,373 ComParE values
beside 384 embedding statistics, a weight > 1 keeps the smaller part from being drowned by input dropout and
weight decay), then applies the functionals MLP (input dropout, `layers` hidden blocks, linear head).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.inputs.speech_embedding import SPEECH_EMB_DIM
from emorec.models import register_model
from emorec.models.egemaps_mlp import COMPARE_DIM, EGEMAPS_DIM, FunctionalsMLP

PART_DIMS = {"compare": COMPARE_DIM, "egemaps": EGEMAPS_DIM, "speech_emb": SPEECH_EMB_DIM}


class MixMLP(nn.Module):
    def __init__(
        self,
        num_classes: int,
        parts: list[str],
        part_weights: dict[str, float] | None = None,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.5,
        in_dropout: float = 0.5,
    ):
        super().__init__()
        unknown = sorted(set(parts) - set(PART_DIMS)) + sorted(set(part_weights or {}) - set(parts))
        if unknown or not parts:
            raise ValueError(
                f"mix_mlp: parts must be drawn from {list(PART_DIMS)} and part_weights name parts; got "
                f"parts {list(parts)}, part_weights {dict(part_weights or {})}"
            )
        self.parts = list(parts)
        weight = {p: float((part_weights or {}).get(p, 1.0)) for p in self.parts}
        self.register_buffer(
            "scale", torch.cat([torch.full((PART_DIMS[p],), weight[p]) for p in self.parts]), persistent=False
        )
        self.mlp = FunctionalsMLP(
            num_classes,
            sum(PART_DIMS[p] for p in self.parts),
            hidden=hidden,
            layers=layers,
            dropout=dropout,
            in_dropout=in_dropout,
        )

    def forward(self, x: dict[str, torch.Tensor]):
        return self.mlp(torch.cat([x[p] for p in self.parts], dim=1) * self.scale)


@register_model("mix_mlp", modality="audio", input_kind="speech_mix")
def mix_mlp(
    num_classes: int,
    parts: list[str] = ("compare", "egemaps", "speech_emb"),
    part_weights: dict[str, float] | None = None,
    hidden: int = 128,
    layers: int = 1,
    dropout: float = 0.5,
    in_dropout: float = 0.5,
) -> nn.Module:
    """MLP on the concatenated, weighted parts of a speech_mix input (ComParE, eGeMAPS, speech_embedding)."""
    return MixMLP(
        num_classes, list(parts), part_weights, hidden=hidden, layers=layers, dropout=dropout, in_dropout=in_dropout
    )


@register_model("speech_emb_mlp", modality="audio", input_kind="speech_emb")
def speech_emb_mlp(
    num_classes: int, hidden: int = 128, layers: int = 1, dropout: float = 0.5, in_dropout: float = 0.2
) -> nn.Module:
    """MLP on the 384 speech_embedding statistics of an utterance."""
    return FunctionalsMLP(
        num_classes, SPEECH_EMB_DIM, hidden=hidden, layers=layers, dropout=dropout, in_dropout=in_dropout
    )
