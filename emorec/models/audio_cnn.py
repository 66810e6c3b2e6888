"""A compact spectrogram CNN that trains in minutes on a CPU.

Conv blocks pool frequency and time, then the frequency axis is averaged and the time axis is summarised
by mean and max pooling, so any spectrogram length works.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models import register_model
from emorec.models.small_cnn import conv_block


class AudioCNN(nn.Module):
    def __init__(self, num_classes: int, width: int = 16, blocks: int = 4, dropout: float = 0.3, in_channels: int = 3):
        super().__init__()
        chans = [in_channels] + [width * 2 ** min(i, 3) for i in range(blocks)]
        self.features = nn.Sequential(*(conv_block(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * chans[-1], num_classes))

    def forward(self, x):
        h = self.features(x).mean(dim=2)  # (N, C, T'): average over frequency
        h = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
        return self.head(h)


@register_model("audio_cnn", modality="audio", input_kind="spec")
def audio_cnn(num_classes: int, width: int = 16, blocks: int = 4, dropout: float = 0.3) -> nn.Module:
    """Compact CPU-friendly CNN for spectrograms (mean+max pooling over time)."""
    return AudioCNN(num_classes, width=width, blocks=blocks, dropout=dropout)
