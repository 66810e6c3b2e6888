"""A small CRNN for spectrograms: conv blocks, a bidirectional GRU over time and attentive statistics pooling.

Conv blocks (conv-BN-ReLU, pooling frequency and time by 2) turn (3, F, T) into (C, F', T'); each time step's
C x F' values are projected, a bidirectional GRU reads the sequence, and attention weights over time give a
weighted mean and standard deviation of the GRU outputs (utterance-level statistics of learned frame
features), read by a linear head. Any spectrogram length works. `time_shift` rolls each training clip along time
by a random number of columns (the clip's own audio wraps around), a cheap augmentation for small corpora.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models import register_model
from emorec.models.small_cnn import conv_block


class AttentiveStatsPool(nn.Module):
    """Attention-weighted mean and standard deviation over time of (N, T, D) -> (N, 2D)."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.score(h).squeeze(-1), dim=1).unsqueeze(-1)  # (N, T, 1)
        mean = (w * h).sum(dim=1)
        var = (w * (h - mean.unsqueeze(1)) ** 2).sum(dim=1)
        return torch.cat([mean, torch.sqrt(var.clamp_min(1e-6))], dim=1)


class AudioCRNN(nn.Module):
    def __init__(
        self,
        num_classes: int,
        width: int = 16,
        blocks: int = 3,
        freq_bins: int = 128,
        rnn: int = 64,
        dropout: float = 0.3,
        input_pool: int = 1,
        time_shift: int = 0,
        in_channels: int = 3,
    ):
        super().__init__()
        self.time_shift = time_shift  # training only: each clip rolled along time by up to +-time_shift columns
        # input_pool > 1 averages the input over input_pool x input_pool cells first (a cheaper model)
        self.input_pool = nn.AvgPool2d(input_pool) if input_pool > 1 else nn.Identity()
        freq_bins = max(1, freq_bins // input_pool)
        chans = [in_channels] + [width * 2 ** min(i, 3) for i in range(blocks)]
        self.features = nn.Sequential(*(conv_block(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.freq_out = max(1, freq_bins // 2**blocks)
        self.freq_pool = nn.AdaptiveAvgPool2d((self.freq_out, None))  # any F reaches freq_out rows
        self.project = nn.Sequential(
            nn.Linear(chans[-1] * self.freq_out, 2 * rnn), nn.ReLU(inplace=True), nn.Dropout(dropout)
        )
        self.gru = nn.GRU(2 * rnn, rnn, batch_first=True, bidirectional=True)
        self.pool = AttentiveStatsPool(2 * rnn)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * rnn, num_classes))

    def shifted(self, x: torch.Tensor) -> torch.Tensor:
        """Each clip of the batch rolled circularly along time by its own random offset (training only)."""
        n, t = x.shape[0], x.shape[-1]
        offsets = torch.randint(-self.time_shift, self.time_shift + 1, (n, 1), device=x.device)
        cols = (torch.arange(t, device=x.device).unsqueeze(0) - offsets) % t  # (N, T)
        return torch.gather(x, -1, cols.view(n, 1, 1, t).expand_as(x))

    def forward(self, x):
        if self.training and self.time_shift > 0:
            x = self.shifted(x)
        h = self.freq_pool(self.features(self.input_pool(x)))  # (N, C, F', T')
        h = h.flatten(1, 2).transpose(1, 2)  # (N, T', C * F')
        h, _ = self.gru(self.project(h))
        return self.head(self.pool(h))


@register_model("audio_crnn", modality="audio", input_kind="spec")
def audio_crnn(
    num_classes: int,
    width: int = 16,
    blocks: int = 3,
    freq_bins: int = 128,
    rnn: int = 64,
    dropout: float = 0.3,
    input_pool: int = 1,
    time_shift: int = 0,
) -> nn.Module:
    """Small CRNN for spectrograms: conv blocks, BiGRU, attentive statistics pooling over time."""
    return AudioCRNN(
        num_classes,
        width=width,
        blocks=blocks,
        freq_bins=freq_bins,
        rnn=rnn,
        dropout=dropout,
        input_pool=input_pool,
        time_shift=time_shift,
    )
