"""Saved model directories: `model.safetensors` (weights) and `model.json` (`ModelMeta`), the one format that
training writes and evaluation, export and prediction read. Nothing here unpickles.

`model.json` holds the registry name and kwargs that rebuild the architecture, the classes, and under "input"
the `InputMeta` of the model's input kind (settings, options, training statistics), or for a fusion model the
modalities it combines. Files of emorec 0.1 (input settings spread over model.json and the run's or bundle's
preprocessing config) are read through `upgrade_input`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emorec.inputs import MODALITIES, InputMeta, input_class
from emorec.models import get_model_checked, model_spec

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
MODEL_MODALITIES = (*MODALITIES, "fusion")


class BundleError(ValueError):
    """A saved model directory or bundle that cannot be read; the message says which file and why."""


class FusionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modalities: list[str]

    @field_validator("modalities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        if not v or not set(v) <= set(MODALITIES):
            raise ValueError(f"a fusion model needs input.modalities, a list drawn from {list(MODALITIES)}; got {v!r}")
        return v


class ModelMeta(BaseModel):
    """What `model.json` holds."""

    model_config = ConfigDict(extra="forbid")

    name: str
    modality: str
    num_classes: int = Field(ge=2)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    classes: list[str]
    input: dict[str, Any]
    ensemble: int = Field(1, ge=1, le=64, strict=True)  # > 1: a seed ensemble of that many members

    @model_validator(mode="after")
    def _consistent(self) -> ModelMeta:
        if self.modality not in MODEL_MODALITIES:
            raise ValueError(f"modality must be one of {list(MODEL_MODALITIES)}, got {self.modality!r}")
        if len(self.classes) != self.num_classes:
            raise ValueError(f"'classes' must list num_classes={self.num_classes} names, got {self.classes!r}")
        if self.modality == "fusion":
            FusionInput(**self.input)
            return self
        from emorec.inputs import input_from_meta

        try:
            expected = model_spec(self.name).input_kind
            kind = input_from_meta(self.input)  # the kind exists and its settings and options are valid
        except KeyError as e:
            raise ValueError(e.args[0]) from None
        if kind.tensor != input_class(expected).tensor:
            raise ValueError(f"model {self.name!r} reads {expected!r} inputs, model.json says {kind.name!r}")
        return self

    @property
    def input_meta(self) -> InputMeta:
        return InputMeta(**self.input)

    @property
    def fusion_modalities(self) -> list[str]:
        return list(FusionInput(**self.input).modalities)


def upgrade_input(meta: dict, preprocess: dict | None) -> dict:
    """An emorec 0.1 model.json with the input settings of the new format (kind, settings, options, stats)."""
    inp = meta.get("input")
    if not isinstance(inp, dict) or meta.get("modality") == "fusion" or "settings" in inp:
        return meta
    try:
        cls = input_class(model_spec(meta["name"]).input_kind)
    except KeyError:
        return meta  # validation names the unknown model
    fields = cls.Settings.model_fields
    settings = {k: v for k, v in (preprocess or {}).items() if k in fields}
    settings.update(
        {k: v for k, v in {**inp, "spec_recipe": inp.get("recipe")}.items() if k in fields and v is not None}
    )
    stats = None
    if cls.name == "frames":
        stats = {"mean": inp.get("mean", [0.485, 0.456, 0.406]), "std": inp.get("std", [0.229, 0.224, 0.225])}
    elif inp.get(f"{cls.name}_mean") is not None:
        mean, std = inp[f"{cls.name}_mean"], inp[f"{cls.name}_std"]
        stats = (
            {"mean": [[[v]] for v in mean], "std": [[[v]] for v in std]}
            if cls.name == "spec"
            else {"mean": mean, "std": std}
        )
    options = {"normalise": inp.get("normalise", "train")} if cls.per_speaker else {}
    new = InputMeta(kind=cls.name, settings=settings, options=options, stats=stats)
    return {**meta, "input": new.model_dump(mode="json")}


def parse_meta(raw, where: str, preprocess: dict | None = None) -> ModelMeta:
    if not isinstance(raw, dict):
        raise BundleError(f"{where}: expected a JSON object")
    try:
        return ModelMeta(**upgrade_input(raw, preprocess))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'model.json'}: {err['msg']}" for err in e.errors()
        )
        raise BundleError(f"{where}: {problems}") from None


def save_model_dir(model, out_dir, meta: ModelMeta | dict) -> Path:
    """Write `model.safetensors` (the state_dict) and `model.json` (`meta`) into `out_dir`; returns it."""
    from safetensors.torch import save_file

    if not isinstance(meta, ModelMeta):
        meta = parse_meta(meta, f"{out_dir}/{META_FILE}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # clone: tensors that share storage (tied weights) cannot be saved as views
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE), metadata={"name": meta.name, "modality": meta.modality})
    (out / META_FILE).write_text(meta.model_dump_json(indent=2) + "\n")
    return out


def read_json(read: Callable[[str], bytes], name: str, where, what: str) -> dict:
    """JSON file `name` through `read`; a missing or broken file is a BundleError naming it."""
    try:
        return json.loads(read(name))
    except FileNotFoundError:
        raise BundleError(f"{where}: no {name} ({what})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{where}/{name}: invalid JSON ({e})") from None


def build_saved_architecture(meta: ModelMeta, where: str):
    """The architecture of a saved model with fresh weights (no pretrained weights loaded: the saved state
    replaces every one); a bundle error naming the file for unknown models or arguments."""
    from emorec.models.ensemble import Ensemble

    try:
        members = [
            get_model_checked(meta.name, meta.num_classes, for_saved=True, **meta.kwargs) for _ in range(meta.ensemble)
        ]
    except (KeyError, TypeError, ValueError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise BundleError(f"{where}/{META_FILE}: cannot build model {meta.name!r}: {msg}") from None
    return members[0] if meta.ensemble == 1 else Ensemble(members)


def read_meta(read: Callable[[str], bytes], where: str, preprocess: dict | None = None, check=None) -> ModelMeta:
    """The ModelMeta of a saved model through `read(file name) -> bytes`; `check(meta)` may refuse it."""
    meta = parse_meta(
        read_json(read, META_FILE, where, "not a saved model directory"), f"{where}/{META_FILE}", preprocess
    )
    if check is not None:
        check(meta)
    return meta


def load_saved(read: Callable[[str], bytes], where: str, preprocess: dict | None = None, check=None):
    """(model in eval mode, ModelMeta) through `read(file name) -> bytes`; `check(meta)` runs before anything
    is built (it raises to refuse the model)."""
    meta = read_meta(read, where, preprocess, check)
    return build_saved(read, where, meta), meta


def build_saved(read: Callable[[str], bytes], where: str, meta: ModelMeta):
    """The saved model in eval mode: its architecture with the weights of its safetensors file."""
    from safetensors.torch import load as load_safetensors

    try:
        blob = read(WEIGHTS_FILE)
    except FileNotFoundError:
        raise BundleError(f"{where}: no {WEIGHTS_FILE}") from None
    try:
        state = load_safetensors(blob)
    except Exception as e:
        raise BundleError(f"{where}/{WEIGHTS_FILE}: not a readable safetensors file ({e})") from None
    model = build_saved_architecture_uninitialised(meta, where)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise BundleError(f"{where}/{WEIGHTS_FILE}: weights do not fit model {meta.name!r}: {str(e)[:400]}") from None
    model.eval()
    return model


def _skip_random_init():
    """A torch function mode (thread-local) under which the random initialisers leave their tensor as it is."""
    import torch
    from torch.nn import init
    from torch.overrides import TorchFunctionMode

    # init's functions that dispatch to the mode themselves, then the tensor methods that the others call
    skipped = (init.uniform_, init.normal_, init.kaiming_uniform_, torch.Tensor.normal_, torch.Tensor.uniform_)

    class SkipRandomInit(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in skipped:
                return args[0] if args else kwargs["tensor"]
            return func(*args, **kwargs)

    return SkipRandomInit()


def build_saved_architecture_uninitialised(meta: ModelMeta, where: str):
    """`build_saved_architecture` without computing the random weights (0.1-0.3 s per model on a laptop CPU)
    that the saved state replaces: every weight must be loaded into it (strictly) before use."""
    with _skip_random_init():
        return build_saved_architecture(meta, where)


def load_model_dir(path, preprocess: dict | None = None):
    """(model in eval mode, ModelMeta) from a saved model directory."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(
            f"{path}: not a directory (expected a saved model directory with {META_FILE} and {WEIGHTS_FILE})"
        )
    return load_saved(lambda name: (path / name).read_bytes(), str(path), preprocess)
