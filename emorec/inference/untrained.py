"""Bundles of freshly initialised registry models (random weights): for plumbing tests and timing, never accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emorec.inference.bundle import BUNDLE_FILE, LOCAL_FIELDS, write_bundle
from emorec.inputs import MODALITIES
from emorec.models import get_model, model_spec
from emorec.models.saved import ModelMeta


def _untrained_stats(kind) -> dict | None:
    """Neutral statistics: ImageNet for frames, zero mean and unit std per spectrogram channel, none otherwise."""
    if kind.name == "frames":
        return kind.fit_stats(None, None)
    if kind.name == "spec":
        return {"mean": np.zeros((3, 1, 1), np.float32), "std": np.ones((3, 1, 1), np.float32)}
    return None


def build_untrained_bundle(
    out,
    classes=("neu", "hap", "sad", "ang"),
    preprocess: dict | None = None,
    *,
    frame: str | None = "resnet18",
    audio: str | None = "alexnet",
    text: str | None = "text",
    fusions: dict[str, list[str]] | None = None,
    kwargs: dict[str, dict] | None = None,
    seed: int = 0,
    inputs: dict[str, str] | None = None,
) -> Path:
    """A bundle with the layout, inputs and compute cost of a trained one.

    `preprocess` holds preprocessing fields (defaults fill the rest); `kwargs` the get_model arguments per
    modality; `fusions` maps a fusion key to its modalities (default: "fusion" over every unimodal model,
    plus "audio_text" when all three exist); `inputs` the input kind per modality when not the model's own
    (e.g. {"frame": "faces"})."""
    import torch

    from emorec.preprocess.config import PreprocessConfig

    pp = PreprocessConfig(**(preprocess or {}))
    torch.manual_seed(seed)
    classes = list(classes)
    models = _unimodal(pp, {"frame": frame, "audio": audio, "text": text}, kwargs or {}, inputs or {}, classes)
    uni = [m for m in MODALITIES if m in models]
    if fusions is None:
        fusions = {"fusion": uni} if len(uni) >= 2 else {}
        if "audio" in models and "text" in models and len(uni) == 3:
            fusions["audio_text"] = ["audio", "text"]
    for key, mods in fusions.items():
        kw = {**((kwargs or {}).get("fusion") or {}), "num_modalities": len(mods)}
        meta = ModelMeta(
            name="fusion_transformer",
            modality="fusion",
            num_classes=len(classes),
            kwargs=kw,
            classes=classes,
            input={"modalities": list(mods)},
        )
        models[key] = (get_model("fusion_transformer", len(classes), **kw), meta)
    out = Path(out)
    fields = {k: v for k, v in pp.model_dump(mode="json").items() if k not in LOCAL_FIELDS}
    write_bundle(out, models, classes, label_set="untrained", extra={"preprocess": fields})
    info = json.loads((out / BUNDLE_FILE).read_text())
    info["untrained"] = True  # random weights: predictions carry no meaning
    (out / BUNDLE_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return out


def _unimodal(pp, archs: dict, kwargs: dict, inputs: dict, classes: list[str]) -> dict[str, tuple]:
    models = {}
    for key, arch in archs.items():
        if arch:
            kw = dict(kwargs.get(key) or ({"encoder": pp.tokenizer} if arch == "text" else {}))
            kind = pp.input(inputs.get(key) or model_spec(arch).input_kind)
            kind = kind.with_stats(_untrained_stats(kind))
            meta = ModelMeta(
                name=arch,
                modality=key,
                num_classes=len(classes),
                kwargs=kw,
                classes=classes,
                input=kind.meta().model_dump(mode="json"),
            )
            models[key] = (get_model(arch, len(classes), **kw), meta)
    return models
