"""`speech_mix`: several utterance-level audio vectors read together: ComParE 2016, eGeMAPS and speech_embedding.

The model receives a dict {part: (D_part,) tensor}, each part standardised on its own (training rows, or each
speaker's own rows with `normalise: speaker`). The parts are the arrays of the `compare`, `egemaps` and
`speech_emb` kinds: a store made with `speech_mix: true` holds all three (each computed once; a part whose own
flag is also set is computed by its own kind), and prediction computes them from the audio window.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import field_validator

from emorec.inputs import input_class, register_input
from emorec.inputs.base import AudioSettings, InputKind, as_stats, read_rows
from emorec.inputs.functionals import feature_stats
from emorec.inputs.spectrogram import NormaliseOptions

PARTS = ("compare", "egemaps", "speech_emb")


class SpeechMixSettings(AudioSettings):
    speech_mix: bool = False  # ComParE, eGeMAPS and speech_embedding vectors of each utterance (for speech_mix models)
    compare: bool = False
    egemaps: bool = False
    speech_emb: bool = False


class SpeechMixOptions(NormaliseOptions):
    parts: tuple[Literal["compare", "egemaps", "speech_emb"], ...] = PARTS  # the vectors the model reads

    @field_validator("parts")
    @classmethod
    def _distinct(cls, v):
        if not v or len(set(v)) != len(v):
            raise ValueError(f"parts: one or more distinct names of {list(PARTS)}, got {list(v)}")
        return tuple(v)


@register_input
class SpeechMix(InputKind):
    name = "speech_mix"
    modality = "audio"
    tensor = "speech_mix"
    flag = "speech_mix"
    Settings = SpeechMixSettings
    Options = SpeechMixOptions
    per_speaker = True

    def __init__(self, settings, options=None, stats=None):
        super().__init__(settings, options, stats)
        fields = self.settings.model_dump()
        self.components = {
            p: input_class(p)(input_class(p).Settings(**{k: fields[k] for k in input_class(p).Settings.model_fields}))
            for p in self.options.parts
        }

    @property
    def parts(self) -> tuple[str, ...]:
        return self.options.parts

    def arrays(self):
        return {name: spec for kind in self.components.values() for name, spec in kind.arrays().items()}

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """Every part's array from mono float32 windows at the sample rate."""
        out: dict[str, np.ndarray] = {}
        for kind in self.components.values():
            out.update(kind.extract(items))
        return out

    def extract_with_info(self, items: list):
        """Preprocessing: the parts whose own kind is not in the store (that kind writes its array itself)."""
        out: dict[str, np.ndarray] = {}
        for part, kind in self.components.items():
            if not getattr(self.settings, part):
                out.update(kind.extract(items))
        return out, {}

    def fit_stats(self, source, rows):
        stats = {}
        for part in self.parts:
            mean, std = feature_stats(read_rows(source, part), rows)
            s = as_stats(mean, std)
            stats[f"{part}_mean"], stats[f"{part}_std"] = s["mean"], s["std"]
        return stats

    def transform(self, arrays, stats=None, augment=None, rng=None) -> dict[str, torch.Tensor]:
        stats = stats if stats is not None else self.stats
        out = {}
        for part in self.parts:
            x = torch.from_numpy(np.array(arrays[part], dtype=np.float32))
            if stats is not None:
                mean = torch.as_tensor(stats[f"{part}_mean"], dtype=torch.float32).view(-1)
                std = torch.as_tensor(stats[f"{part}_std"], dtype=torch.float32).view(-1)
                x = (x - mean) / std
            out[part] = x
        return out
