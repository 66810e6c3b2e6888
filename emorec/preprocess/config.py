"""What the preprocessing stage does to a corpus: one validated config, hashed to name its feature store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from emorec.inputs import MODALITIES, InputKind, input_class, list_inputs, store_inputs

# Fields that only say where things go, not what is computed: left out of the store hash.
NOT_HASHED = frozenset({"out"})
# Bump when a change in the preprocessing code changes what a store holds, so old stores are not reused.
PREPROCESS_VERSION = 3  # 3: only the settings of the kinds a store holds are hashed


class _CorpusFields(BaseModel):
    """Which corpus, where the store goes and which modalities it holds; every input kind adds its own settings."""

    model_config = ConfigDict(extra="forbid")

    corpus: str = "iemocap"
    root: str = ""
    corpus_options: dict[str, Any] = Field(default_factory=dict)
    out: str = "runs/stores"  # parent folder of the stores
    modalities: list[str] = Field(default_factory=lambda: list(MODALITIES))

    @field_validator("modalities")
    @classmethod
    def _known_modalities(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in MODALITIES]
        if bad:
            raise ValueError(f"unknown modalities {bad}; known: {list(MODALITIES)}")
        if not v:
            raise ValueError("modalities must name at least one of frame, audio, text")
        return [m for m in MODALITIES if m in v]  # canonical order, no duplicates

    @model_validator(mode="after")
    def _input_settings_ok(self):
        for name in list_inputs():  # each kind's own checks (e.g. the spectrogram hop)
            self.settings_of(name)
        return self

    def settings_of(self, kind: str):
        cls = input_class(kind)
        return cls.Settings(**{k: getattr(self, k) for k in cls.Settings.model_fields})

    def inputs(self) -> list[InputKind]:
        """The input kinds this store holds (frames, spec, egemaps, compare, text, ...)."""
        return store_inputs(self)

    def input(self, kind: str, options: dict | None = None) -> InputKind:
        """One input kind with this config's settings (whether the store holds it or not)."""
        return input_class(kind).from_preprocess(self, options)

    def hashed_fields(self) -> dict[str, Any]:
        """The corpus fields and the settings of the kinds the store holds: a new input kind, or a setting of a
        kind this store does not hold, leaves the store's name (and so its reuse) as it was."""
        held = set(_CorpusFields.model_fields) - NOT_HASHED
        for kind in self.inputs():
            held |= set(type(kind).Settings.model_fields)
        fields = {k: v for k, v in self.model_dump(mode="json").items() if k in held}
        fields["preprocess_version"] = PREPROCESS_VERSION
        if fields.get("root"):
            fields["root"] = str(Path(fields["root"]).expanduser().resolve())
        return fields

    def config_hash(self) -> str:
        """First 12 hex chars of sha256 over the canonical JSON of the fields that affect the outputs."""
        canon = json.dumps(self.hashed_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]

    def store_dir(self, limit: int | None = None) -> Path:
        """`<out>/<corpus>-<hash12>`; quick looks over the first `limit` utterances go to `...-limit<N>`."""
        name = f"{self.corpus}-{self.config_hash()}"
        if limit is not None:
            name += f"-limit{int(limit)}"
        return Path(self.out) / name

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _input_fields() -> dict[str, tuple]:
    """The settings fields of every registered input kind; kinds that share a field share its definition."""
    fields: dict[str, tuple] = {}
    for name in list_inputs():
        for field, info in input_class(name).Settings.model_fields.items():
            if field in fields and (fields[field][0], fields[field][1].default) != (info.annotation, info.default):
                raise TypeError(f"input kind {name!r}: setting {field!r} differs from another kind's")
            fields[field] = (info.annotation, info)
    return fields


PreprocessConfig = create_model(
    "PreprocessConfig",
    __base__=_CorpusFields,
    __module__=__name__,
    __doc__="How one corpus becomes model-ready arrays (see docs/preprocess.md for every field).",
    **_input_fields(),
)


def config_from_mapping(data: dict[str, Any]) -> PreprocessConfig:
    """A PreprocessConfig from parsed YAML: an experiment config (with `corpus:` and `preprocess:` blocks),
    a file holding only a `preprocess:` block, or top-level PreprocessConfig keys."""
    if not isinstance(data, dict):
        raise ValueError("expected a mapping at the top of the config")
    if "preprocess" not in data:
        return PreprocessConfig(**data)
    fields = dict(data["preprocess"] or {})
    corpus = data.get("corpus")
    if isinstance(corpus, dict):  # experiment config: corpus {name, root, options}, store_dir, models
        fields.setdefault("corpus", corpus.get("name", "iemocap"))
        if "root" in corpus:
            fields.setdefault("root", corpus["root"])
        fields.setdefault("corpus_options", corpus.get("options") or {})
    elif isinstance(corpus, str):
        fields.setdefault("corpus", corpus)
    for key in ("root", "corpus_options", "out"):
        if key in data and key not in fields:
            fields[key] = data[key]
    if "store_dir" in data:
        fields.setdefault("out", data["store_dir"])
    models = data.get("models")
    if isinstance(models, dict) and "modalities" not in fields:
        enabled = {k for k, v in models.items() if not isinstance(v, dict) or v.get("enabled", True)}
        chosen = [m for m in MODALITIES if m in enabled]
        if chosen:
            fields["modalities"] = chosen
    return PreprocessConfig(**fields)


def load_config(path: str | Path) -> PreprocessConfig:
    """Read a PreprocessConfig from a YAML file (see `config_from_mapping` for the accepted layouts)."""
    from emorec.corpora.textfile import TextFileError, read_yaml

    path = Path(path)
    try:
        data = read_yaml(path) or {}
    except TextFileError as e:
        raise ValueError(f"config {e}") from None
    try:
        return config_from_mapping(data)
    except ValueError as e:  # pydantic ValidationError is a ValueError
        raise ValueError(f"{path}: invalid preprocess config: {e}") from e
