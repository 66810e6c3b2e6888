"""Input kinds: one class per kind of model input, shared by preprocessing, training, evaluation and prediction.

    >>> from emorec.inputs import list_inputs, input_class
    >>> list_inputs("audio")
    ['compare', 'egemaps', 'spec']
    >>> kind = input_class("spec").from_preprocess(preprocess_config)

Each kind is registered under the `input_kind` name that models declare in the model registry; a new kind is
one module with a class decorated by `@register_input`, listed in `_BUILTIN_MODULES`.
"""

from __future__ import annotations

import importlib

from emorec.inputs.base import InputKind, InputMeta, Options, Settings

MODALITIES = ("frame", "audio", "text")  # the unimodal recognisers; "fusion" combines their outputs
_BUILTIN_MODULES = (
    "emorec.inputs.frames",
    "emorec.inputs.faces",
    "emorec.inputs.spectrogram",
    "emorec.inputs.functionals",
    "emorec.inputs.speech_embedding",
    "emorec.inputs.speech_mix",
    "emorec.inputs.tokens",
)
_REGISTRY: dict[str, type[InputKind]] = {}
_loaded = False


def register_input(cls: type[InputKind]) -> type[InputKind]:
    """Class decorator registering an input kind under `cls.name`."""
    if cls.modality not in MODALITIES:
        raise ValueError(f"input {cls.name!r}: modality must be one of {MODALITIES}, got {cls.modality!r}")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"input kind {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _BUILTIN_MODULES:
            importlib.import_module(mod)


def list_inputs(modality: str | None = None) -> list[str]:
    _load_builtin()
    return sorted(n for n, c in _REGISTRY.items() if modality is None or c.modality == modality)


def input_class(name: str) -> type[InputKind]:
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"unknown input kind {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def input_from_meta(meta: InputMeta | dict) -> InputKind:
    """The input kind of a saved model, with its settings, options and statistics."""
    meta = meta if isinstance(meta, InputMeta) else InputMeta(**meta)
    return input_class(meta.kind)(meta.settings, meta.options, meta.stats)


def compatible(kind: str, model_kind: str) -> bool:
    """Whether a model declared for `model_kind` inputs can read `kind` (the same tensor)."""
    return input_class(kind).tensor == input_class(model_kind).tensor


def store_inputs(preprocess) -> list[InputKind]:
    """The input kinds a store made with this preprocessing config holds, in registry order."""
    return [input_class(n).from_preprocess(preprocess) for n in list_inputs() if input_class(n).wanted(preprocess)]


__all__ = [
    "InputKind",
    "InputMeta",
    "Options",
    "Settings",
    "MODALITIES",
    "register_input",
    "list_inputs",
    "input_class",
    "input_from_meta",
    "store_inputs",
]
