"""The contract of an input kind: settings, extraction, statistics, transform and the metadata a model carries.

An input kind turns the decoded media of one modality (video frames, an audio window, a transcript) into the
arrays a feature store holds (`extract`), and those arrays into the tensor a model reads (`transform`), with
statistics fitted on training rows (`fit_stats`). Preprocessing, the store datasets, evaluation and prediction
all go through the same kind object, rebuilt at prediction time from the `InputMeta` that `model.json` stores.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Extraction settings of an input kind: its fields are part of the preprocessing config (and its hash)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Options(BaseModel):
    """Per-model transform options of an input kind (how a model reads the stored arrays)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputMeta(BaseModel):
    """What `model.json` stores under "input": everything prediction needs to feed the model as training did."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    settings: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, list] | None = None  # training-set statistics (None: fitted per speaker/recording, or none)


def as_stats(mean, std) -> dict[str, np.ndarray]:
    return {"mean": np.asarray(mean, dtype=np.float32), "std": np.asarray(std, dtype=np.float32)}


def read_rows(source, name: str) -> np.ndarray:
    """Array `name` of a feature store (memory-mapped) or of a dict of arrays."""
    if isinstance(source, dict):
        if name not in source:
            raise KeyError(f"array {name!r} missing; have {sorted(source)}")
        return source[name]
    return source.array(name)


class InputKind:
    """Base class. Subclasses set `name`, `modality`, `Settings` and `Options` and implement the methods below."""

    name: ClassVar[str]
    modality: ClassVar[str]  # frame / audio / text: the decoded media it reads
    tensor: ClassVar[
        str
    ]  # what the model receives ("image", "spectrogram", ...): kinds of one tensor are interchangeable
    Settings: ClassVar[type[Settings]] = Settings
    Options: ClassVar[type[Options]] = Options
    per_speaker: ClassVar[bool] = False  # supports options.normalise == "speaker"
    flag: ClassVar[str | None] = None  # a boolean setting that must be on for a store to hold this kind

    def __init__(self, settings: Settings | dict, options: Options | dict | None = None, stats: dict | None = None):
        self.settings = settings if isinstance(settings, self.Settings) else self.Settings(**dict(settings))
        self.options = options if isinstance(options, self.Options) else self.Options(**dict(options or {}))
        self.stats = None if stats is None else {k: np.asarray(v, dtype=np.float32) for k, v in stats.items()}

    # ------------------------------------------------------------ construction

    @classmethod
    def wanted(cls, preprocess) -> bool:
        """Whether a store made with this preprocessing config holds this kind."""
        if cls.modality not in preprocess.modalities:
            return False
        return cls.flag is None or bool(getattr(preprocess, cls.flag))

    @classmethod
    def from_preprocess(cls, preprocess, options: dict | None = None) -> InputKind:
        fields = {k: getattr(preprocess, k) for k in cls.Settings.model_fields if hasattr(preprocess, k)}
        return cls(cls.Settings(**fields), options)

    @property
    def frames_per_window(self) -> int:
        """Video frames decoded per utterance window (frame kinds)."""
        return 1

    @property
    def normalise(self) -> str:
        return getattr(self.options, "normalise", "train")

    def with_stats(self, stats: dict | None) -> InputKind:
        return type(self)(self.settings, self.options, stats)

    def meta(self) -> InputMeta:
        stats = None if self.stats is None else {k: np.asarray(v).tolist() for k, v in self.stats.items()}
        return InputMeta(
            kind=self.name,
            settings=self.settings.model_dump(mode="json"),
            options=self.options.model_dump(mode="json"),
            stats=stats,
        )

    # ------------------------------------------------------------ store arrays and extraction

    def arrays(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Per-row shape and dtype of each store array this kind writes."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Load what `extract` needs (filters, a tokenizer) ahead of the first call; safe from another thread."""

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """Store arrays (one row per item) from the decoded media of a batch of utterances."""
        raise NotImplementedError

    def extract_with_info(self, items: list) -> tuple[dict[str, np.ndarray], dict[str, list]]:
        """`extract`, plus manifest columns about each row (e.g. how much of a spectrogram holds audio)."""
        return self.extract(items), {}

    # ------------------------------------------------------------ statistics and transform

    def fit_stats(self, source, rows) -> dict[str, np.ndarray] | None:
        """Statistics over `rows` of `source` (training rows, or one speaker's rows); None when none are needed."""
        return None

    def read(self, source, row: int) -> dict[str, np.ndarray]:
        """The stored arrays of one row."""
        return {name: read_rows(source, name)[row] for name in self.arrays()}

    def transform(self, arrays: dict[str, np.ndarray], stats: dict | None = None, augment=None, rng=None):
        """The model input (tensor, or dict of tensors) of one row; `stats` defaults to the kind's own."""
        raise NotImplementedError

    def check_augment(self, augment) -> None:
        """Refuse augmentation settings this kind does not apply."""
        if augment is not None:
            raise ValueError(f"input {self.name!r} has no training-time augmentation")


class AudioSettings(Settings):
    """The audio window every audio kind reads (shared fields)."""

    audio_source: Literal["dialog", "sentence"] = "sentence"  # IEMOCAP: the sentence wav, or the dialog's window
    sample_rate: int = Field(16000, ge=4000)
