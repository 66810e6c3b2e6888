"""ResNet-18/50 for face frames (torchvision's architecture, emorec.models.backbones), with a new head.

ImageNet weights come only from the local torch hub cache (no download): put torchvision's file, e.g.
`resnet18-f37072fd.pth`, in `torch.hub.get_dir()/checkpoints/`, or use `weights: none`.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from emorec.models import register_model
from emorec.models.backbones import resnet18_arch, resnet50_arch
from emorec.models.imagenet import PretrainedWeightsMissing, check_weights, load_imagenet_state

__all__ = ["PretrainedWeightsMissing", "resnet18", "resnet50"]


def _resnet(name: str, ctor: Callable[[], nn.Module], enum_name: str, num_classes: int, weights: str, dropout: float):
    model = ctor()
    if check_weights(weights, name):
        model.load_state_dict(load_imagenet_state(name, enum_name))
    head = nn.Linear(model.fc.in_features, num_classes)
    model.fc = nn.Sequential(nn.Dropout(dropout), head) if dropout > 0 else head
    return model


@register_model("resnet18", modality="frame", input_kind="frames")
def resnet18(num_classes: int, weights: str = "none", dropout: float = 0.0) -> nn.Module:
    """torchvision ResNet-18 with a new fc head."""
    return _resnet("resnet18", resnet18_arch, "ResNet18_Weights", num_classes, weights, dropout)


@register_model("resnet50", modality="frame", input_kind="frames")
def resnet50(num_classes: int, weights: str = "none", dropout: float = 0.0) -> nn.Module:
    """torchvision ResNet-50 with a new fc head."""
    return _resnet("resnet50", resnet50_arch, "ResNet50_Weights", num_classes, weights, dropout)
