"""What the preprocessing stage does to a corpus: one validated config, hashed to name its feature store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MODALITIES = ("frame", "audio", "text")
# openSMILE functionals a store can hold (`egemaps: true`, `compare: true`): openSMILE set name, values per utterance
FUNCTIONAL_SETS = {"egemaps": ("eGeMAPSv02", 88), "compare": ("ComParE_2016", 6373)}
# Fields that only say where things go, not what is computed: left out of the store hash.
NOT_HASHED = frozenset({"out"})
# Bump when a change in the preprocessing code changes what a store holds, so old stores are not reused.
PREPROCESS_VERSION = 2


class PreprocessConfig(BaseModel):
    """How one corpus becomes model-ready arrays (see docs/preprocess.md for every field)."""

    model_config = ConfigDict(extra="forbid")

    corpus: str = "iemocap"
    root: str = ""
    corpus_options: dict[str, Any] = Field(default_factory=dict)
    out: str = "runs/stores"  # parent folder of the stores
    # frames
    crop: Literal["speaker", "left", "right", "full", "face"] = "speaker"
    frame_size: int = Field(224, ge=8, le=1024)
    frames_per_utterance: int = Field(1, ge=1, le=64)
    face_margin: float = Field(0.25, ge=0.0, le=2.0)  # added on each side, as a fraction of the face box
    # audio
    audio_source: Literal["dialog", "sentence"] = "sentence"
    sample_rate: int = Field(16000, ge=4000)
    spec_recipe: Literal["mel_deltas", "mel_mfcc_chroma"] = "mel_deltas"
    n_mels: int = Field(128, ge=8)
    n_fft: int = Field(1024, ge=64)
    spec_size: tuple[int, int] = (128, 128)  # (F, T)
    max_audio_seconds: float = Field(6.0, gt=0.0)
    egemaps: bool = False  # also the 88 eGeMAPS v02 functionals of each utterance (openSMILE)
    compare: bool = False  # also the 6,373 ComParE 2016 functionals (openSMILE; tens of ms per clip)
    # text
    tokenizer: str = "minilm"
    max_length: int = Field(64, ge=4)
    tags: Literal["keep", "remove", "map"] = "keep"
    punctuation: Literal["keep", "ascii"] = "keep"  # ascii: ’ ‘ “ ” … — as ' ' " " ... -
    text_context: int = Field(0, ge=0, le=32)  # previous utterances of the same dialogue fed before the target
    context_speaker_tags: bool = True  # prefix each context utterance with its speaker ("Joey: ...")
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
    def _spec_size_ok(self) -> "PreprocessConfig":
        f, t = self.spec_size
        if f < 8 or t < 16:
            raise ValueError(f"spec_size {self.spec_size} too small (F >= 8, T >= 16)")
        if self.hop_length > self.n_fft:
            raise ValueError(
                f"max_audio_seconds={self.max_audio_seconds} with T={t} gives a hop of {self.hop_length} samples, "
                f"more than n_fft={self.n_fft} (audio between windows would be skipped); raise T or n_fft"
            )
        return self

    @property
    def hop_length(self) -> int:
        """Spectrogram hop in samples: `max_audio_seconds` of audio fills exactly T columns."""
        return max(1, round(self.max_audio_seconds * self.sample_rate / self.spec_size[1]))

    def hashed_fields(self) -> dict[str, Any]:
        fields = self.model_dump(mode="json")
        for k in NOT_HASHED:
            fields.pop(k, None)
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
    from emorec.data.textfile import TextFileError, read_yaml

    path = Path(path)
    try:
        data = read_yaml(path) or {}
    except TextFileError as e:
        raise ValueError(f"config {e}") from None
    try:
        return config_from_mapping(data)
    except ValueError as e:  # pydantic ValidationError is a ValueError
        raise ValueError(f"{path}: invalid preprocess config: {e}") from e
