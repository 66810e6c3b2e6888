"""`egemaps` and `compare`: openSMILE functionals of the utterance's audio, one vector per utterance.

eGeMAPS v02: 88 values; ComParE 2016: 6,373 values (tens of ms per clip). A store holds them when its config
says `egemaps: true` / `compare: true` (set automatically for a model that reads them). The model reads them
standardised per feature with the training rows' statistics, or with each speaker's own (`normalise: speaker`).
"""

from __future__ import annotations

import numpy as np
import torch

from emorec.inputs import register_input
from emorec.inputs.base import AudioSettings, InputKind, as_stats, read_rows
from emorec.inputs.spectrogram import NormaliseOptions

# kind name -> (openSMILE feature set, values per utterance)
FUNCTIONAL_SETS = {"egemaps": ("eGeMAPSv02", 88), "compare": ("ComParE_2016", 6373)}


class Functionals:
    """openSMILE functionals of a signal: `egemaps` (the 88 eGeMAPS v02) or `compare` (the 6,373 ComParE 2016)."""

    def __init__(self, sr: int, name: str = "egemaps"):
        import opensmile

        if name not in FUNCTIONAL_SETS:
            raise ValueError(f"unknown openSMILE feature set {name!r}; known: {sorted(FUNCTIONAL_SETS)}")
        set_name, self.size = FUNCTIONAL_SETS[name]
        self.sr = sr
        self.smile = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, set_name), feature_level=opensmile.FeatureLevel.Functionals
        )

    def __call__(self, y: np.ndarray) -> np.ndarray:
        min_len = int(0.1 * self.sr)  # openSMILE needs some frames; pad very short cuts with silence
        if len(y) < min_len:
            y = np.pad(y, (0, min_len - len(y)))
        values = self.smile.process_signal(y, self.sr).to_numpy(dtype=np.float32).reshape(-1)
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)


def feature_stats(x, rows) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of a (N, D) array over `rows`."""
    x = np.asarray(x[np.sort(np.asarray(rows, dtype=np.int64))], dtype=np.float64)
    if len(x) == 0:
        raise ValueError("feature statistics: no rows")
    std = x.std(axis=0)
    return x.mean(axis=0).astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


class _FunctionalsKind(InputKind):
    modality = "audio"
    Options = NormaliseOptions
    per_speaker = True

    def __init__(self, settings, options=None, stats=None):
        super().__init__(settings, options, stats)
        self._extractor = None

    def arrays(self):
        return {self.name: ((FUNCTIONAL_SETS[self.name][1],), np.dtype(np.float32))}

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: mono float32 windows at the sample rate."""
        if self._extractor is None:
            self._extractor = Functionals(self.settings.sample_rate, self.name)
        return {self.name: np.stack([self._extractor(y) for y in items]).astype(np.float32)}

    def fit_stats(self, source, rows):
        return as_stats(*feature_stats(read_rows(source, self.name), rows))

    def transform(self, arrays, stats=None, augment=None, rng=None) -> torch.Tensor:
        stats = stats if stats is not None else self.stats
        x = torch.from_numpy(np.array(arrays[self.name], dtype=np.float32))
        if stats is not None:
            mean = torch.as_tensor(stats["mean"], dtype=torch.float32).view(-1)
            std = torch.as_tensor(stats["std"], dtype=torch.float32).view(-1)
            x = (x - mean) / std
        return x


class EgemapsSettings(AudioSettings):
    egemaps: bool = False  # also the 88 eGeMAPS v02 functionals of each utterance (openSMILE)


class CompareSettings(AudioSettings):
    compare: bool = False  # also the 6,373 ComParE 2016 functionals (openSMILE; tens of ms per clip)


@register_input
class Egemaps(_FunctionalsKind):
    name = "egemaps"
    tensor = "egemaps"
    flag = "egemaps"
    Settings = EgemapsSettings


@register_input
class Compare(_FunctionalsKind):
    name = "compare"
    tensor = "compare"
    flag = "compare"
    Settings = CompareSettings
