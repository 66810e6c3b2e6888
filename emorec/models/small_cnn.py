"""A small CNN for face frames: a few conv blocks, global average pooling, linear head."""

from __future__ import annotations

from torch import nn

from emorec.models import register_model


def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)
    )


class SmallCNN(nn.Module):
    def __init__(self, num_classes: int, width: int = 32, blocks: int = 4, dropout: float = 0.3, in_channels: int = 3):
        super().__init__()
        chans = [in_channels] + [width * 2 ** min(i, 3) for i in range(blocks)]
        self.features = nn.Sequential(*(conv_block(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(chans[-1], num_classes))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


@register_model("small_cnn", modality="frame", input_kind="frames")
def small_cnn(num_classes: int, width: int = 32, blocks: int = 4, dropout: float = 0.3) -> nn.Module:
    """Small CNN (conv-BN-ReLU-pool blocks) for face frames."""
    return SmallCNN(num_classes, width=width, blocks=blocks, dropout=dropout)
