"""ImageNet weights of torchvision backbones, read only from local files (no download).

torchvision is imported here only when ImageNet weights are asked for: its weights enums name the files.
"""

from __future__ import annotations

from pathlib import Path

import torch

WEIGHT_CHOICES = ("imagenet", "none")


class PretrainedWeightsMissing(FileNotFoundError):
    pass


def weights_enum(name: str):
    """torchvision's weights enum class `name` (e.g. "ResNet18_Weights")."""
    from torchvision import models as tvm

    return getattr(tvm, name)


def imagenet_weights_file(weights) -> Path:
    """Where torchvision's ImageNet weights `weights` (a member of a weights enum) are expected in the torch hub
    cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def load_imagenet_state(model_name: str, enum_name: str) -> dict:
    """The ImageNet state dict from the hub cache; a clear error naming the expected file when absent.

    `enum_name` names a torchvision weights enum class: its DEFAULT file is preferred, any other version
    of it found in the cache is accepted.
    """
    enum = weights_enum(enum_name)
    choices = [enum.DEFAULT] + [w for w in enum if w is not enum.DEFAULT]
    for w in choices:
        path = imagenet_weights_file(w)
        if path.is_file():
            return torch.load(path, map_location="cpu", weights_only=True)
    path = imagenet_weights_file(enum.DEFAULT)
    raise PretrainedWeightsMissing(
        f"{model_name}: ImageNet weights requested (weights: imagenet) but {path} does not exist. "
        f"Put torchvision's file {path.name} there (from {enum.DEFAULT.url}; the folder follows "
        f"$TORCH_HOME), or set `weights: none` to train from scratch."
    )


def check_weights(weights: str, model_name: str) -> bool:
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"{model_name}: weights must be one of {WEIGHT_CHOICES}, got {weights!r}")
    return weights == "imagenet"
