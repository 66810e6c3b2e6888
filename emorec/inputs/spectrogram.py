"""`spec`: a fixed-size 3-channel spectrogram image (3, F, T) of the utterance's audio, float16 in the store.

Time axis: `max_audio_seconds` of audio fill exactly T columns (hop = max_audio_seconds * sr / T). Longer windows
keep their centre `max_audio_seconds`; shorter ones are padded with silence at the end, so one column is the same
duration for every utterance. Values are raw (log power in dB, deltas); the model reads them standardised per
channel with training statistics, or per channel and frequency row with each speaker's own (`normalise: speaker`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from emorec.inputs import register_input
from emorec.inputs.augment import perturb, spec_augment
from emorec.inputs.base import AudioSettings, InputKind, Options, as_stats, read_rows
from emorec.inputs.melspec import SpectrogramMaker, to_float16


class SpecSettings(AudioSettings):
    spec_recipe: Literal["mel_deltas", "mel_mfcc_chroma"] = "mel_deltas"
    n_mels: int = Field(128, ge=8)
    n_fft: int = Field(1024, ge=64)
    spec_size: tuple[int, int] = (128, 128)  # (F, T)
    max_audio_seconds: float = Field(6.0, gt=0.0)

    @model_validator(mode="after")
    def _size_ok(self) -> SpecSettings:
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


class NormaliseOptions(Options):
    # train: statistics of the training rows; speaker: each speaker's own rows (labels unused)
    normalise: Literal["train", "speaker"] = "train"


def spec_bin_stats(spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per channel and frequency row, (3, F), of spectrograms (N, 3, F, T)."""
    x = np.asarray(spec, dtype=np.float64)
    mean, std = x.mean(axis=(0, 3)), x.std(axis=(0, 3))
    return mean.astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


def spec_channel_stats(spec, rows, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (3,) of spectrograms (N, 3, F, T) over `rows` (read in chunks)."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        raise ValueError("spectrogram statistics: no rows")
    c = spec.shape[1]
    s, ss, n = np.zeros(c), np.zeros(c), 0
    for i in range(0, len(rows), chunk):  # each chunk read in row order (memory-mapped)
        x = np.asarray(spec[np.sort(rows[i : i + chunk])], dtype=np.float64)
        s += x.sum(axis=(0, 2, 3))
        ss += (x * x).sum(axis=(0, 2, 3))
        n += x.shape[0] * x.shape[2] * x.shape[3]
    mean = s / n
    std = np.sqrt(np.maximum(ss / n - mean**2, 0.0))
    return mean.astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


MADE_TOGETHER = 8  # windows whose spectrograms are computed in one call (larger batches leave the CPU cache)


@register_input
class Spectrogram(InputKind):
    name = "spec"
    modality = "audio"
    tensor = "spectrogram"
    Settings = SpecSettings
    Options = NormaliseOptions
    per_speaker = True

    def __init__(self, settings, options=None, stats=None):
        super().__init__(settings, options, stats)
        self._maker = None

    @property
    def maker(self) -> SpectrogramMaker:
        if self._maker is None:
            s = self.settings
            self._maker = SpectrogramMaker(
                s.sample_rate, s.n_fft, s.hop_length, s.n_mels, tuple(s.spec_size), s.spec_recipe
            )
        return self._maker

    def arrays(self):
        return {"spec": ((3, *self.settings.spec_size), np.dtype(np.float16))}

    def prepare(self) -> None:
        self.maker(np.zeros(1, np.float32))  # builds the filters and imports the FFT

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: mono float32 windows at the sample rate."""
        return self.extract_with_info(items)[0]

    def extract_with_info(self, items: list):
        """Also `spec_valid`: the columns of each image that hold audio (the rest is padding)."""
        parts, valid = [], []
        for lo in range(0, len(items), MADE_TOGETHER):  # bounded temporaries, whatever the number of windows
            images, columns = self.maker.batch(items[lo : lo + MADE_TOGETHER])
            parts.append(to_float16(images))
            valid += [int(v) for v in columns]
        spec = np.concatenate(parts) if parts else np.zeros((0, *self.arrays()["spec"][0]), np.float16)
        return {"spec": spec}, {"spec_valid": valid}

    def fit_stats(self, source, rows):
        spec = read_rows(source, "spec")
        if self.normalise == "speaker":  # per channel and frequency row
            mean, std = spec_bin_stats(spec[np.sort(np.asarray(rows, dtype=np.int64))])
            return as_stats(mean[..., None], std[..., None])
        mean, std = spec_channel_stats(spec, rows)
        return as_stats(mean[:, None, None], std[:, None, None])

    def transform(self, arrays, stats=None, augment=None, rng=None) -> torch.Tensor:
        stats = stats if stats is not None else self.stats
        raw = np.asarray(arrays["spec"], dtype=np.float32)
        if augment is not None and augment.perturbs:
            noisy = augment.noise_snr is not None and rng.random() < augment.noise_prob
            raw = perturb(
                raw, rng, speed=augment.speed, snr_db=augment.noise_snr if noisy else None, sr=self.settings.sample_rate
            )
        x = torch.from_numpy(raw)
        if stats is not None:
            x = (x - _stat(stats["mean"], x)) / _stat(stats["std"], x)
        if augment is not None:
            x = spec_augment(x, augment, rng)
        return x

    def check_augment(self, augment) -> None:
        if augment is not None and augment.perturbs and self.settings.spec_recipe != "mel_deltas":
            raise ValueError(f"augment speed/noise needs spec_recipe mel_deltas, not {self.settings.spec_recipe!r}")


def _stat(v, x: torch.Tensor) -> torch.Tensor:
    """A statistic as a tensor broadcasting over (C, F, T): (C,) per channel, (C, F) per frequency row."""
    t = torch.as_tensor(np.asarray(v), dtype=torch.float32)
    return t.view(-1, 1, 1) if t.ndim == 1 else t.view(*t.shape, *([1] * (x.ndim - t.ndim)))
