"""ResNet-18/50 for face frames (torchvision), with a new classification head.

ImageNet weights come only from the local torch hub cache (no download): put torchvision's file, e.g.
`resnet18-f37072fd.pth`, in `torch.hub.get_dir()/checkpoints/`, or use `weights: none`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models as tvm

from emorec.models import register_model

WEIGHT_CHOICES = ("imagenet", "none")


class PretrainedWeightsMissing(FileNotFoundError):
    pass


def imagenet_weights_file(weights_enum) -> Path:
    """Where torchvision's ImageNet weights for `weights_enum` are expected in the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights_enum.url).name


def load_imagenet_state(model_name: str, weights_enum) -> dict:
    """The ImageNet state dict from the hub cache; a clear error naming the expected file when absent.

    `weights_enum` is a torchvision weights enum class: its DEFAULT file is preferred, any other version
    of it found in the cache is accepted.
    """
    choices = [weights_enum.DEFAULT] + [w for w in weights_enum if w is not weights_enum.DEFAULT]
    for w in choices:
        path = imagenet_weights_file(w)
        if path.is_file():
            return torch.load(path, map_location="cpu", weights_only=True)
    path = imagenet_weights_file(weights_enum.DEFAULT)
    raise PretrainedWeightsMissing(
        f"{model_name}: ImageNet weights requested (weights: imagenet) but {path} does not exist. "
        f"Put torchvision's file {path.name} there (from {weights_enum.DEFAULT.url}; the folder follows "
        f"$TORCH_HOME), or set `weights: none` to train from scratch."
    )


def check_weights(weights: str, model_name: str) -> bool:
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"{model_name}: weights must be one of {WEIGHT_CHOICES}, got {weights!r}")
    return weights == "imagenet"


def _resnet(name: str, ctor, weights_enum, num_classes: int, weights: str, dropout: float) -> nn.Module:
    model = ctor(weights=None)
    if check_weights(weights, name):
        model.load_state_dict(load_imagenet_state(name, weights_enum))
    head = nn.Linear(model.fc.in_features, num_classes)
    model.fc = nn.Sequential(nn.Dropout(dropout), head) if dropout > 0 else head
    return model


@register_model("resnet18", modality="frame", input_kind="frames")
def resnet18(num_classes: int, weights: str = "none", dropout: float = 0.0) -> nn.Module:
    """torchvision ResNet-18 with a new fc head."""
    return _resnet("resnet18", tvm.resnet18, tvm.ResNet18_Weights, num_classes, weights, dropout)


@register_model("resnet50", modality="frame", input_kind="frames")
def resnet50(num_classes: int, weights: str = "none", dropout: float = 0.0) -> nn.Module:
    """torchvision ResNet-50 with a new fc head."""
    return _resnet("resnet50", tvm.resnet50, tvm.ResNet50_Weights, num_classes, weights, dropout)
