"""Experiment configs: one YAML file per experiment, validated by pydantic."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emorec.data.splits import SplitSpec
from emorec.data.textfile import read_yaml
from emorec.lightning import FitConfig

MODALITIES = ("frame", "audio", "text")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusConfig(Strict):
    name: str = "iemocap"
    root: str
    options: dict[str, Any] = Field(default_factory=dict)


class ModelConfig(Strict):
    arch: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    fit: FitConfig = Field(default_factory=FitConfig)
    augment: dict[str, Any] | None = None  # training-time augmentation (see docs/models.md)
    # audio inputs: standardise with the training rows' statistics, or each speaker's own (labels unused)
    normalise: Literal["train", "speaker"] = "train"
    # > 1: a seed ensemble, members trained from seeds seed, seed+1, ...; their probabilities are averaged
    ensemble: int = Field(1, ge=1, le=16)
    enabled: bool = True


class FusionConfig(Strict):
    enabled: bool = True
    modalities: list[str] = Field(default_factory=lambda: list(MODALITIES))
    extra: list[list[str]] = Field(default_factory=lambda: [["audio", "text"]])  # e.g. the thesis's audio+text
    crossfit_folds: int = 3
    missing: Literal["drop", "mask"] = "drop"
    kwargs: dict[str, Any] = Field(default_factory=dict)
    fit: FitConfig = Field(default_factory=FitConfig)


class ExperimentConfig(Strict):
    name: str
    protocol: str = ""
    corpus: CorpusConfig
    label_set: str | dict = "iemocap4"
    split: SplitSpec = Field(default_factory=SplitSpec)
    preprocess: dict[str, Any] = Field(default_factory=dict)  # PreprocessConfig fields besides corpus/root
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    fusion: FusionConfig = Field(default_factory=FusionConfig)
    seed: int = 0
    store_dir: str = "runs/stores"

    def preprocess_config(self):
        from emorec.preprocess.config import PreprocessConfig

        fields = dict(self.preprocess)
        fields.update(corpus=self.corpus.name, root=self.corpus.root, corpus_options=self.corpus.options)
        fields.setdefault("out", self.store_dir)
        fields.setdefault("modalities", [m for m in MODALITIES if m in self.enabled_models()])
        return PreprocessConfig(**fields)

    def enabled_models(self) -> dict[str, ModelConfig]:
        return {k: v for k, v in self.models.items() if v.enabled}


def builtin_config_dir() -> Path:
    return Path(str(resources.files("emorec").joinpath("configs")))


def find_config(name_or_path: str) -> Path:
    """A config file path, or the name of a shipped config (`demo`, `iemocap_4class_loso`, ...)."""
    p = Path(name_or_path)
    if p.exists():
        return p
    for cand in (builtin_config_dir() / name_or_path, builtin_config_dir() / f"{name_or_path}.yaml"):
        if cand.exists():
            return cand
    shipped = sorted(q.stem for q in builtin_config_dir().glob("*.yaml"))
    raise FileNotFoundError(f"config not found: {name_or_path} (shipped configs: {', '.join(shipped)})")


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """`key.sub=value` overrides; values are parsed as YAML (`--set models.frame.fit.epochs=3`)."""
    raw = copy.deepcopy(raw)
    for item in overrides or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"--set {key}: {part!r} is not a section")
        node[parts[-1]] = yaml.safe_load(value)
    return raw


def load_config(name_or_path: str, overrides: list[str] | None = None) -> ExperimentConfig:
    path = find_config(name_or_path)
    raw = read_yaml(path) or {}
    raw = apply_overrides(raw, overrides or [])
    try:
        return ExperimentConfig(**raw)
    except ValidationError as e:
        raise ValueError(f"invalid config {path}:\n{e}") from None


def dump_config(cfg: ExperimentConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
