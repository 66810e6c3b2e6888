"""Seed ensembles: `size` copies of one registered architecture, trained from different seeds. The output is the
log of the members' mean probability, so its softmax is the average of their softmax outputs."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Ensemble(nn.Module):
    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        for attr in ("modality", "input_kind", "model_name"):
            setattr(self, attr, getattr(members[0], attr, None))

    def forward(self, x):
        logp = torch.stack([F.log_softmax(m(x).float(), dim=1) for m in self.members])
        return torch.logsumexp(logp, dim=0) - math.log(len(self.members))


def build_model(name: str, num_classes: int, ensemble: int = 1, **kwargs) -> nn.Module:
    """`get_model(name, ...)`, or an Ensemble of `ensemble` freshly built copies of it."""
    from emorec.models import get_model

    if ensemble < 1:
        raise ValueError(f"ensemble must be >= 1, got {ensemble}")
    if ensemble == 1:
        return get_model(name, num_classes, **kwargs)
    return Ensemble([get_model(name, num_classes, **kwargs) for _ in range(ensemble)])
