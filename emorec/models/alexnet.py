"""AlexNet for spectrogram images (torchvision architecture, new head, any input size).

Inputs smaller than 63 px along an axis would vanish in AlexNet's strides, so they are first upsampled
(bilinear) to 63 along that axis; the adaptive pooling before the classifier handles every other size.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from emorec.models import register_model
from emorec.models.backbones import AlexNet
from emorec.models.imagenet import check_weights, load_imagenet_state

MIN_SIDE = 63  # smallest side that survives conv(11, s4) + 3 x maxpool(3, s2)


class SpectrogramAlexNet(nn.Module):
    def __init__(self, num_classes: int, weights: str = "none", dropout: float = 0.5, hidden: int = 4096):
        super().__init__()
        net = AlexNet()
        if check_weights(weights, "alexnet"):
            net.load_state_dict(load_imagenet_state("alexnet", "AlexNet_Weights"))
        self.features, self.avgpool = net.features, net.avgpool
        if hidden == 4096:
            net.classifier[1].p = dropout
            net.classifier[4].p = dropout
            net.classifier[6] = nn.Linear(4096, num_classes)
            self.classifier = net.classifier
        else:  # a smaller fully connected part, trained from scratch
            self.classifier = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(256 * 6 * 6, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
                nn.ReLU(inplace=True),
                nn.Linear(hidden, num_classes),
            )

    def forward(self, x):
        h, w = x.shape[-2:]
        if h < MIN_SIDE or w < MIN_SIDE:
            x = F.interpolate(x, size=(max(h, MIN_SIDE), max(w, MIN_SIDE)), mode="bilinear", align_corners=False)
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


@register_model("alexnet", modality="audio", input_kind="spec")
def alexnet(num_classes: int, weights: str = "none", dropout: float = 0.5, hidden: int = 4096) -> nn.Module:
    """torchvision AlexNet on spectrogram images, new head."""
    return SpectrogramAlexNet(num_classes, weights=weights, dropout=dropout, hidden=hidden)
