"""The BERT encoder (MiniLM and other `model_type: bert` checkpoints), declared without importing transformers.

Importing transformers' model code costs 2-3 s on a 2-core CPU (it pulls in torch's compiler and distributed
packages), several times a short clip's prediction. This module has transformers' BertModel parameter names,
its absolute positions, exact GELU, post-LayerNorm layers and dropout, so a checkpoint's model.safetensors and
text models saved with transformers' class load into it unchanged; tests/unit/models/test_bert.py compares
their outputs. Checkpoints of other kinds keep using transformers (emorec.models.text).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

BUFFER_KEYS = ("embeddings.position_ids", "embeddings.token_type_ids")  # older checkpoints store these


def read_config(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "config.json").read_text())


def is_plain_bert(config: dict) -> bool:
    """Whether BertEncoder reproduces this checkpoint: BERT, absolute positions, exact GELU."""
    return (
        config.get("model_type") == "bert"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and config.get("hidden_act") == "gelu"
        and not config.get("is_decoder", False)
    )


class EncoderOutput(NamedTuple):
    last_hidden_state: torch.Tensor


class Embeddings(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.heads, self.head_size = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout_p = c.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        q, k, v = (
            m(x).view(n, length, self.heads, self.head_size).transpose(1, 2) for m in (self.query, self.key, self.value)
        )
        drop = self.dropout_p if self.training else 0.0
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=keep, dropout_p=drop, scale=1 / math.sqrt(self.head_size)
        )
        return out.transpose(1, 2).reshape(n, length, -1)


class DenseNorm(nn.Module):
    """dense -> dropout -> LayerNorm(. + residual): BERT's SelfOutput and Output."""

    def __init__(self, cin: int, c: SimpleNamespace):
        super().__init__()
        self.dense = nn.Linear(cin, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c.hidden_size, c)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, keep), x)


class Intermediate(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c.intermediate_size, c)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        h = self.attention(x, keep)
        return self.output(self.intermediate(h), h)


class Layers(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))


class Pooler(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)


class BertEncoder(nn.Module):
    """transformers' BertModel (with its pooler's weights, unused here: the classifier pools the tokens)."""

    def __init__(self, config: dict):
        super().__init__()
        defaults = {"pad_token_id": 0, "layer_norm_eps": 1e-12, "type_vocab_size": 2}
        self.config = c = SimpleNamespace(**{**defaults, **config})
        self.embeddings = Embeddings(c)
        self.encoder = Layers(c)
        self.pooler = Pooler(c)
        self.apply(self._init_weights)

    def _init_weights(self, m: nn.Module) -> None:
        """BERT's initialisation (normal, std initializer_range); a checkpoint's weights replace it."""
        std = getattr(self.config, "initializer_range", 0.02)
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=std)
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> EncoderOutput:
        keep = attention_mask.bool()[:, None, None, :]  # (N, 1, 1, L): which keys each query sees
        x = self.embeddings(input_ids)
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return EncoderOutput(x)

    def load_checkpoint(self, folder: str | Path) -> None:
        """The weights of `folder`/model.safetensors (a BertModel, or a task model's `bert.` part)."""
        from safetensors.torch import load_file

        path = Path(folder) / "model.safetensors"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no model.safetensors (emorec reads BERT weights only from safetensors)")
        state = {k.removeprefix("bert."): v for k, v in load_file(str(path)).items()}
        state = {k: v for k, v in state.items() if k not in BUFFER_KEYS and not k.startswith("cls.")}
        missing, unexpected = self.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("pooler.") for k in missing):
            raise ValueError(f"{path}: not a BERT checkpoint (missing {missing[:3]}, unexpected {unexpected[:3]})")
