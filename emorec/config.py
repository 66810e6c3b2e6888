"""Experiment configs (recipes): YAML files validated by pydantic, with inheritance.

A recipe may start from another with `base: <name or path>` and override any key (mappings merge key by key,
everything else is replaced). A file may also define `variants:`, each a name with its overrides of the file's
own settings: `iemocap_face.yaml` defines the thesis's face grid, and `emorec train --config
iemocap_face_resnet18_left` runs one of its variants by name. The merged config is validated as a whole
(model names and arguments, input options, augmentation, preprocessing, label set) before any work starts.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from emorec.corpora.splits import SplitSpec
from emorec.corpora.textfile import read_yaml
from emorec.inputs import MODALITIES, input_class
from emorec.training.fit_config import FitConfig

RESERVED = ("base", "variants")


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
    augment: dict[str, Any] | bool | None = None  # training-time augmentation (see docs/models.md)
    # audio inputs: standardise with the training rows' statistics, or each speaker's own (labels unused)
    normalise: Literal["train", "speaker"] = "train"
    # the input kind it reads (default: the model's own; any kind of the same tensor, e.g. faces for a frame model)
    input_kind: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)  # options of the model's input kind, e.g. {frame_pick: mean}
    # > 1: a seed ensemble, members trained from seeds seed, seed+1, ...; their probabilities are averaged
    ensemble: int = Field(1, ge=1, le=16)
    enabled: bool = True
    # a model trained on its own corpus (with its own split and preprocessing changes); the recognisers of such
    # an experiment are combined by calibrated log-linear pooling (fusion.method: pooling)
    corpus: CorpusConfig | None = None
    split: SplitSpec | None = None
    preprocess: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _arch_and_arguments(self) -> ModelConfig:
        from emorec.inputs.augment import Augment
        from emorec.models import check_kwargs, model_spec

        try:
            spec = model_spec(self.arch)
            check_kwargs(self.arch, self.kwargs)
        except (KeyError, TypeError) as e:
            raise ValueError(e.args[0]) from None
        if spec.modality == "fusion":
            raise ValueError(f"{self.arch!r} is a fusion model; configure it under `fusion:`")
        if self.input_kind is not None:
            from emorec.inputs import compatible

            try:
                ok = compatible(self.input_kind, spec.input_kind)
            except KeyError as e:
                raise ValueError(e.args[0]) from None
            if not ok:
                raise ValueError(
                    f"{self.arch!r} reads {spec.input_kind} inputs; {self.input_kind!r} inputs are another tensor"
                )
        input_class(self.reads).Options(**self.input_options())
        try:
            Augment.coerce(self.augment)
        except TypeError as e:
            raise ValueError(str(e)) from None
        return self

    @property
    def reads(self) -> str:
        """The input kind the model reads."""
        from emorec.models import model_spec

        return self.input_kind or model_spec(self.arch).input_kind

    def input_options(self) -> dict[str, Any]:
        """Options of the input kind: `input:` plus `normalise` for kinds that standardise per speaker."""
        options = dict(self.input)
        if "normalise" in input_class(self.reads).Options.model_fields:
            options.setdefault("normalise", self.normalise)
        elif self.normalise != "train":
            raise ValueError(
                f"normalise: {self.normalise} applies to spectrogram and openSMILE functionals inputs, "
                f"not to {self.arch!r} ({self.reads})"
            )
        return options


class FusionConfig(Strict):
    enabled: bool = True
    # transformer: trained on aligned out-of-fold outputs; pooling: weighted log-linear pooling of recognisers
    # calibrated on their own validation data (no aligned training data needed)
    method: Literal["transformer", "pooling"] = "transformer"
    weights: dict[str, float] = Field(default_factory=dict)  # pooling: weight per modality (default 1)
    modalities: list[str] = Field(default_factory=lambda: list(MODALITIES))
    extra: list[list[str]] = Field(default_factory=lambda: [["audio", "text"]])  # e.g. the thesis's audio+text
    crossfit_folds: int = 3
    # main_fit: each cross-fitting model trains as many epochs as its modality's own model needed to reach its
    # best validation score (no early-stopping tail); early_stopping: each stops on its own
    crossfit_epochs: Literal["early_stopping", "main_fit"] = "early_stopping"
    missing: Literal["drop", "mask"] = "drop"
    kwargs: dict[str, Any] = Field(default_factory=dict)
    fit: FitConfig = Field(default_factory=FitConfig)

    @model_validator(mode="after")
    def _arguments(self) -> FusionConfig:
        from emorec.models import check_kwargs

        try:
            if self.method == "transformer":
                check_kwargs("fusion_transformer", {"num_modalities": 2, **self.kwargs})
        except TypeError as e:
            raise ValueError(str(e)) from None
        if any(w < 0 for w in self.weights.values()) or set(self.weights) - set(MODALITIES):
            raise ValueError(f"fusion.weights: a weight >= 0 per modality of {list(MODALITIES)}, got {self.weights}")
        bad = [m for group in [self.modalities, *self.extra] for m in group if m not in MODALITIES]
        if bad:
            raise ValueError(f"fusion modalities must be drawn from {list(MODALITIES)}, got {bad}")
        return self


class ExperimentConfig(Strict):
    name: str
    protocol: str = ""
    corpus: CorpusConfig | None = None  # the corpus of every model without its own
    label_set: str | dict = "iemocap4"
    split: SplitSpec = Field(default_factory=SplitSpec)
    preprocess: dict[str, Any] = Field(default_factory=dict)  # PreprocessConfig fields besides corpus/root
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    fusion: FusionConfig = Field(default_factory=FusionConfig)
    seed: int = 0
    store_dir: str = "runs/stores"

    @property
    def pooled(self) -> bool:
        """Recognisers trained on corpora of their own (combined by pooling)."""
        return any(m.corpus is not None for m in self.enabled_models().values())

    def model_experiment(self, key: str) -> ExperimentConfig:
        """The single-model experiment of one recogniser of a pooled experiment: its corpus, split, preprocessing."""
        m = self.models[key]
        return self.model_copy(
            update={
                "corpus": m.corpus or self.corpus,
                "split": m.split or self.split,
                "preprocess": {**self.preprocess, **m.preprocess},
                "models": {key: m.model_copy(update={"corpus": None, "split": None, "preprocess": {}})},
                "fusion": FusionConfig(enabled=False),
            }
        )

    @model_validator(mode="after")
    def _whole(self) -> ExperimentConfig:
        bad = [k for k in self.models if k not in MODALITIES]
        if bad:
            raise ValueError(f"models: keys must be modalities {list(MODALITIES)}, got {bad}")
        if self.pooled:
            if self.fusion.enabled and self.fusion.method != "pooling":
                raise ValueError(
                    "models trained on corpora of their own need `fusion.method: pooling` (no aligned "
                    "outputs exist to train a fusion transformer on)"
                )
            for key in self.enabled_models():
                if self.models[key].corpus is None and self.corpus is None:
                    raise ValueError(f"models.{key}: no corpus (give it one, or a top-level corpus)")
                ExperimentConfig(**self.model_experiment(key).model_dump())
            return self
        if self.corpus is None:
            raise ValueError("corpus: required (or give every model a corpus of its own)")
        for key, mcfg in self.models.items():
            modality = input_class(mcfg.reads).modality
            if modality != key:
                raise ValueError(f"models.{key}: {mcfg.arch!r} is a {modality} model")
            kind = self.preprocess_config().input(mcfg.reads, mcfg.input_options())
            from emorec.inputs.augment import Augment

            kind.check_augment(Augment.coerce(mcfg.augment))
        if self.label_set != "observed":
            from emorec.corpora.labels import get_label_set

            try:
                get_label_set(self.label_set)
            except (KeyError, FileNotFoundError) as e:
                raise ValueError(e.args[0] if e.args else str(e)) from None
        return self

    def preprocess_config(self):
        from emorec.preprocess.config import PreprocessConfig

        if self.corpus is None:
            raise ValueError(f"{self.name}: the recognisers have corpora of their own; see model_experiment()")
        fields = dict(self.preprocess)
        fields.update(corpus=self.corpus.name, root=self.corpus.root, corpus_options=self.corpus.options)
        fields.setdefault("out", self.store_dir)
        enabled = self.enabled_models()
        fields.setdefault("modalities", [m for m in MODALITIES if m in enabled])
        for mcfg in enabled.values():  # a kind behind a flag (egemaps, compare) is computed for a model that reads it
            flag = input_class(mcfg.reads).flag
            if flag is not None:
                fields.setdefault(flag, True)
        return PreprocessConfig(**fields)

    def enabled_models(self) -> dict[str, ModelConfig]:
        return {k: v for k, v in self.models.items() if v.enabled}


# ---------------------------------------------------------------- finding and merging recipes


def builtin_config_dir() -> Path:
    return Path(str(resources.files("emorec").joinpath("configs")))


def _read_yaml(path: Path) -> dict:
    raw = read_yaml(path) or {}  # any encoding and line ends; TextFileError (a ValueError) names the file and line
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of config keys at the top, got {type(raw).__name__}")
    return raw


def _variant_index() -> dict[str, Path]:
    """Variant name -> the shipped file that defines it."""
    index = {}
    for path in sorted(builtin_config_dir().glob("*.yaml")):
        for name in _read_yaml(path).get("variants") or {}:
            index[str(name)] = path
    return index


def shipped_configs() -> list[str]:
    """Every config that runs by name: shipped files and their variants."""
    files = [p.stem for p in builtin_config_dir().glob("*.yaml")]
    return sorted(set(files) | set(_variant_index()))


def find_config(name_or_path: str, relative_to: Path | None = None) -> tuple[Path, str | None]:
    """(file, variant name or None) for a config path, a shipped config name or a shipped variant name."""
    p = Path(name_or_path)
    for cand in ([relative_to / p] if relative_to is not None and not p.is_absolute() else []) + [p]:
        if cand.is_file():
            return cand, None
    for cand in (builtin_config_dir() / name_or_path, builtin_config_dir() / f"{name_or_path}.yaml"):
        if cand.is_file():
            return cand, None
    variants = _variant_index()
    if name_or_path in variants:
        return variants[name_or_path], name_or_path
    raise FileNotFoundError(f"config not found: {name_or_path} (shipped configs: {', '.join(shipped_configs())})")


REPLACE = "_replace"  # `key: {_replace: true, ...}` replaces the base's mapping instead of merging into it


def merge(base: dict, over: dict) -> dict:
    """`over` on top of `base`: mappings merge key by key (unless marked `_replace: true`), anything else is replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and v.get(REPLACE):
            out[k] = strip_replace({key: val for key, val in v.items() if key != REPLACE})
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = strip_replace(copy.deepcopy(v))
    return out


def strip_replace(value):
    """The value without `_replace` markers (a recipe without a base keeps none)."""
    if isinstance(value, dict):
        return {k: strip_replace(v) for k, v in value.items() if k != REPLACE}
    return value


def resolve_recipe(name_or_path: str, relative_to: Path | None = None, _seen: tuple = ()) -> dict:
    """The raw config of a recipe with its `base:` chain and variant applied (not yet validated)."""
    path, variant = find_config(name_or_path, relative_to)
    key = (str(path.resolve()), variant)
    if key in _seen:
        raise ValueError(f"{path}: `base:` chain loops back to {name_or_path!r}")
    raw = _read_yaml(path)
    variants = raw.pop("variants", None) or {}
    if variant is not None:
        if not isinstance(variants.get(variant), dict):
            raise ValueError(f"{path}: variant {variant!r} must be a mapping of overrides")
        raw = merge(raw, {"name": variant, **variants[variant]})
    base = raw.pop("base", None)
    if base is not None:
        return merge(resolve_recipe(str(base), path.parent, (*_seen, key)), raw)
    return strip_replace(raw)


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
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ValueError(f"--set {key}: value {value!r} is not valid YAML ({e})") from None
    return raw


def _validation_message(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        lines.append(f"  {loc or 'config'}: {msg}")
    return "\n".join(lines)


def load_config(name_or_path: str, overrides: list[str] | None = None) -> ExperimentConfig:
    """A validated experiment config; ValueError (or FileNotFoundError) with one readable message otherwise."""
    raw = apply_overrides(resolve_recipe(name_or_path), overrides or [])
    try:
        return ExperimentConfig(**raw)
    except ValidationError as e:
        raise ValueError(f"invalid config {name_or_path}:\n{_validation_message(e)}") from None
    except (KeyError, TypeError) as e:
        raise ValueError(f"invalid config {name_or_path}: {e.args[0] if e.args else e}") from None


def dump_config(cfg: ExperimentConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
