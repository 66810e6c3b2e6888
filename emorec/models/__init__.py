"""Model registry: every classifier is registered by name with the modality and input it takes.

    >>> from emorec.models import get_model, list_models
    >>> list_models("audio")
    ['alexnet', 'audio_cnn', 'compare_mlp', 'egemaps_mlp']
    >>> model = get_model("resnet18", num_classes=4, weights="none")

Every model maps its input to logits (N, num_classes); softmax of a row is the per-emotion probability vector.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from emorec.inputs import MODALITIES as UNIMODAL

MODALITIES = (*UNIMODAL, "fusion")
# input kinds: what a model's forward receives (each but "fusion" is an input kind of emorec.inputs)
INPUT_KINDS = {
    "frames": "float tensor (N, 3, H, W), ImageNet-normalised RGB",
    "spec": "float tensor (N, 3, F, T), spectrogram standardised per channel",
    "egemaps": "float tensor (N, 88), standardised eGeMAPS functionals",
    "compare": "float tensor (N, 6373), standardised ComParE 2016 functionals",
    "speech_emb": "float tensor (N, 384), standardised speech_embedding statistics",
    "speech_mix": "dict(compare=(N, 6373), egemaps=(N, 88), speech_emb=(N, 384)) float, each part standardised",
    "text": "dict(input_ids=(N, L) long, attention_mask=(N, L) long)",
    "fusion": "dict(x=(N, M, C) float, mask=(N, M) bool, True = modality present)",
}
# where each built-in model is registered: building one imports its own module only, so a bundle's start-up
# pays only for the models it holds
_BUILTIN_MODELS = {
    "resnet18": "emorec.models.resnet",
    "resnet50": "emorec.models.resnet",
    "mobilenet_v2": "emorec.models.mobilenet",
    "audio_mobilenet": "emorec.models.mobilenet",
    "alexnet": "emorec.models.alexnet",
    "small_cnn": "emorec.models.small_cnn",
    "audio_cnn": "emorec.models.audio_cnn",
    "audio_crnn": "emorec.models.audio_crnn",
    "egemaps_mlp": "emorec.models.egemaps_mlp",
    "compare_mlp": "emorec.models.egemaps_mlp",
    "mix_mlp": "emorec.models.mix_mlp",
    "speech_emb_mlp": "emorec.models.mix_mlp",
    "text": "emorec.models.text",
    "fusion_transformer": "emorec.fusion.transformer",
    "log_linear_pool": "emorec.fusion.pooling",
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modality: str
    input_kind: str
    builder: Callable[..., nn.Module]
    description: str = ""


_REGISTRY: dict[str, ModelSpec] = {}
_loaded = False


def register_model(name: str, *, modality: str, input_kind: str, description: str = ""):
    """Decorator registering `builder(num_classes, **kwargs) -> nn.Module` under `name`."""
    if modality not in MODALITIES:
        raise ValueError(f"model {name!r}: modality must be one of {MODALITIES}, got {modality!r}")
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"model {name!r}: input_kind must be one of {list(INPUT_KINDS)}, got {input_kind!r}")

    def deco(builder):
        if name in _REGISTRY and _REGISTRY[name].builder is not builder:
            raise ValueError(f"model {name!r} is already registered")
        doc = description or next(iter((builder.__doc__ or "").strip().splitlines()), "")
        _REGISTRY[name] = ModelSpec(name, modality, input_kind, builder, doc)
        return builder

    return deco


def _load_builtin(name: str | None = None) -> None:
    """Import the module registering built-in model `name`; every built-in module when None."""
    global _loaded
    if name is not None:
        if name not in _REGISTRY and name in _BUILTIN_MODELS:
            importlib.import_module(_BUILTIN_MODELS[name])
    elif not _loaded:
        _loaded = True
        for mod in dict.fromkeys(_BUILTIN_MODELS.values()):
            importlib.import_module(mod)


def list_models(modality: str | None = None) -> list[str]:
    """Registered model names, sorted; only those of `modality` when given."""
    _load_builtin()
    return sorted(n for n, s in _REGISTRY.items() if modality is None or s.modality == modality)


def model_spec(name: str) -> ModelSpec:
    _load_builtin(name)
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def get_model(name: str, num_classes: int, **kwargs) -> nn.Module:
    """Build a registered model. The module gets attributes `modality`, `input_kind` and `model_name`."""
    spec = model_spec(name)
    if num_classes < 2:
        raise ValueError(f"model {name!r}: num_classes must be >= 2, got {num_classes}")
    model = spec.builder(num_classes, **kwargs)
    model.modality = spec.modality
    model.input_kind = spec.input_kind
    model.model_name = name
    return model


def check_kwargs(name: str, kwargs: dict) -> None:
    """TypeError naming the model and its arguments when `kwargs` holds one its builder does not take."""
    params = inspect.signature(model_spec(name).builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [k for k in params if k != "num_classes"]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise TypeError(
            f"model {name!r} takes no argument {', '.join(map(repr, unknown))}; its arguments: {', '.join(known) or 'none'}"
        )


def saved_kwargs(name: str, kwargs: dict) -> dict:
    """Arguments that rebuild a saved model's architecture only: no pretrained weights are loaded (ImageNet
    backbones get `weights: none`, text encoders `pretrained: false`), since the saved state replaces them."""
    params = inspect.signature(model_spec(name).builder).parameters
    kwargs = dict(kwargs)
    if "weights" in params:
        kwargs["weights"] = "none"
    if "pretrained" in params:
        kwargs["pretrained"] = False
    return kwargs


def get_model_checked(name: str, num_classes: int, *, for_saved: bool = False, **kwargs) -> nn.Module:
    """`get_model` after checking the arguments; `for_saved`: the architecture of a saved model (see saved_kwargs)."""
    check_kwargs(name, kwargs)
    return get_model(name, num_classes, **(saved_kwargs(name, kwargs) if for_saved else kwargs))


__all__ = [
    "check_kwargs",
    "saved_kwargs",
    "get_model_checked",
    "ModelSpec",
    "register_model",
    "list_models",
    "model_spec",
    "get_model",
    "MODALITIES",
    "INPUT_KINDS",
]
