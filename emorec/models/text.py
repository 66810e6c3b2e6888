"""Transcript classifier: a Hugging Face encoder (fine-tuned) + a linear head on the pooled output.

The encoder is found offline by `emorec.encoders.resolve_encoder` ("minilm" ships with emorec; a local
folder or a hub-cached id such as "bert-base-uncased" also work).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.encoders import resolve_encoder
from emorec.models import register_model

POOLINGS = ("mean", "cls")


class TextClassifier(nn.Module):
    def __init__(self, num_classes: int, encoder: str = "minilm", dropout: float = 0.1, freeze_encoder: bool = False,
                 pooling: str = "mean"):
        super().__init__()
        from transformers import AutoModel

        if pooling not in POOLINGS:
            raise ValueError(f"text model: pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder_name, self.pooling = encoder, pooling
        self.encoder = AutoModel.from_pretrained(resolve_encoder(encoder), local_files_only=True)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
        self.freeze_encoder = freeze_encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, num_classes)
        self.train()  # from_pretrained returns the encoder in eval mode

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:  # a frozen encoder also keeps its dropout off
            self.encoder.eval()
        return self

    def forward(self, x: dict) -> torch.Tensor:
        ids, mask = x["input_ids"].long(), x["attention_mask"].long()
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


@register_model("text", modality="text", input_kind="text")
def text(num_classes: int, encoder: str = "minilm", dropout: float = 0.1, freeze_encoder: bool = False,
         pooling: str = "mean") -> nn.Module:
    """Transformer encoder (default offline MiniLM) + linear head on the mean-pooled (or [CLS]) output."""
    return TextClassifier(num_classes, encoder=encoder, dropout=dropout, freeze_encoder=freeze_encoder, pooling=pooling)
