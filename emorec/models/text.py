"""Transcript classifier: a Hugging Face encoder (fine-tuned) + a linear head on the pooled output.

BERT-type encoders (MiniLM) run as emorec.models.bert.BertEncoder, the same parameters without transformers'
import cost; other encoders through transformers' AutoModel.

The encoder is found offline by `emorec.models.encoders.resolve_encoder` ("minilm" ships with emorec; a local
folder or a hub-cached id such as "bert-base-uncased" also work).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models import register_model
from emorec.models.bert import BertEncoder, is_plain_bert, read_config
from emorec.models.encoders import resolve_encoder

POOLINGS = ("mean", "cls")
LENGTH_CHUNK = 8  # sequences encoded together after sorting a batch by length
CHUNK_SAVING = 0.8  # chunk only when the chunks' padded tokens are below this share of the whole batch's
CACHE_LIMIT = 500_000  # pooled vectors kept for a frozen encoder (384 floats each for MiniLM)


def load_encoder(where: str, pretrained: bool) -> nn.Module:
    """The encoder in folder `where`: BERT checkpoints as emorec.models.bert.BertEncoder (no transformers
    import), others through transformers. Without `pretrained` only the config is read (a saved model's
    architecture: its own weights replace these)."""
    config = read_config(where)
    if is_plain_bert(config):
        model = BertEncoder(config)
        if pretrained:
            model.load_checkpoint(where)
        return model.eval()
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no 'Loading weights' bar per model built
    try:
        if pretrained:
            return AutoModel.from_pretrained(where, local_files_only=True)
        return AutoModel.from_config(AutoConfig.from_pretrained(where, local_files_only=True))
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _chunks_save_padding(sorted_lengths: torch.Tensor) -> bool:
    """Whether LENGTH_CHUNK-sized chunks of these (ascending) lengths pad to clearly fewer tokens than one pass."""
    longest = [int(part.max()) * len(part) for part in torch.split(sorted_lengths, LENGTH_CHUNK)]
    return sum(longest) < CHUNK_SAVING * int(sorted_lengths.max()) * len(sorted_lengths)


class TextClassifier(nn.Module):
    def __init__(
        self,
        num_classes: int,
        encoder: str = "minilm",
        dropout: float = 0.1,
        freeze_encoder: bool = False,
        pooling: str = "mean",
        pretrained: bool = True,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"text model: pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder_name, self.pooling = encoder, pooling
        self.encoder = load_encoder(resolve_encoder(encoder), pretrained)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
        self.freeze_encoder = freeze_encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, num_classes)
        self._cache: dict[bytes, torch.Tensor] = {}  # frozen encoder: pooled output per token sequence
        self.train()  # from_pretrained returns the encoder in eval mode

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:  # a frozen encoder also keeps its dropout off
            self.encoder.eval()
        return self

    def encode(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pooled encoder output (N, hidden). The sequences run shortest first in chunks of LENGTH_CHUNK, each cut
        to its own longest sequence: the same vectors (padding is masked) for about half the padded tokens of
        one batch cut to its longest (MELD, batch 32). Batches whose lengths are alike run in one pass."""
        lengths = mask.sum(1)
        order = torch.argsort(lengths, stable=True)
        if len(ids) <= LENGTH_CHUNK or not _chunks_save_padding(lengths[order]):
            return self._encode_cut(ids, mask)
        chunks = [self._encode_cut(ids[part], mask[part]) for part in torch.split(order, LENGTH_CHUNK)]
        return torch.cat(chunks)[torch.argsort(order)]

    def _encode_cut(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pooled output of one chunk; padding columns beyond its longest sequence are cut first."""
        width = int(mask.sum(1).max().item()) if mask.numel() else 1
        ids, mask = ids[:, : max(width, 1)], mask[:, : max(width, 1)]
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)

    def _encode_frozen(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """A frozen encoder gives the same vector for the same tokens: compute each sequence once, then reuse."""
        keys = [r.tobytes() for r in torch.cat([ids, mask], 1).cpu().numpy()]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        if todo:
            with torch.no_grad():
                out = self.encode(ids[todo], mask[todo])
            if len(self._cache) + len(todo) > CACHE_LIMIT:
                self._cache.clear()
            for i, v in zip(todo, out):
                self._cache[keys[i]] = v.detach()
        return torch.stack([self._cache[k] for k in keys]).to(ids.device)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Parameters from the bottom up: the embeddings, each transformer layer, then the rest (pooler,
        head), for layer-wise learning-rate decay (`fit.layer_decay`)."""
        layers = list(getattr(getattr(self.encoder, "encoder", None), "layer", []))
        embeddings = getattr(self.encoder, "embeddings", None)
        groups = [list(m.parameters()) for m in [embeddings, *layers] if m is not None]
        seen = {id(p) for g in groups for p in g}
        return [*groups, [p for p in self.parameters() if id(p) not in seen]]

    def forward(self, x: dict) -> torch.Tensor:
        ids, mask = x["input_ids"].long(), x["attention_mask"].long()
        pooled = self._encode_frozen(ids, mask) if self.freeze_encoder else self.encode(ids, mask)
        return self.head(self.dropout(pooled))


@register_model("text", modality="text", input_kind="text")
def text(
    num_classes: int,
    encoder: str = "minilm",
    dropout: float = 0.1,
    freeze_encoder: bool = False,
    pooling: str = "mean",
    pretrained: bool = True,
) -> nn.Module:
    """Transformer encoder (default offline MiniLM) + linear head on the mean-pooled (or [CLS]) output."""
    return TextClassifier(
        num_classes,
        encoder=encoder,
        dropout=dropout,
        freeze_encoder=freeze_encoder,
        pooling=pooling,
        pretrained=pretrained,
    )
