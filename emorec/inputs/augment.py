"""Training-time augmentation of model inputs: `Augment` (the config), SpecAugment masks, frame flips, and speed
and noise perturbation of a stored log-mel/delta/delta-delta spectrogram (training-time augmentation).

The store keeps spectrograms, not waveforms, so the two classic waveform augmentations are applied where the
model reads its input:
- speed r (as `sox speed r`: r > 1 is shorter and higher): the time axis is resampled by r and the mel axis
  is warped so that energy at f Hz moves to r * f Hz (rows are evenly spaced in mel from 0 to sr/2, as the
  preprocessing's mel filters are);
- white noise at an SNR: noise power, flat across mel bands (the filters are area-normalised), is added in the
  power domain: x' = 10 log10(10^(x/10) + n).
The deltas are then recomputed from the perturbed log-mel with the preprocessing's filters, and the 80 dB floor
below the maximum is applied again. Only the `mel_deltas` recipe has this layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from emorec.inputs.melspec import TOP_DB, delta


def _interp_rows(x: np.ndarray, pos: np.ndarray, fill: float, axis: int) -> np.ndarray:
    """Values of x at fractional positions `pos` along `axis` (linear), `fill` outside [0, n-1]."""
    n = x.shape[axis]
    lo = np.clip(np.floor(pos).astype(np.int64), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    w = (pos - lo).astype(np.float32)
    a, b = np.take(x, lo, axis=axis), np.take(x, hi, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = len(pos)
    out = a * (1 - w.reshape(shape)) + b * w.reshape(shape)
    outside = ((pos < 0) | (pos > n - 1)).reshape(shape)
    return np.where(outside, np.float32(fill), out).astype(np.float32)


def change_speed(logmel: np.ndarray, r: float, sr: int) -> np.ndarray:
    """(F, T) log-mel of the same signal played r times faster (tempo and pitch)."""
    f, t = logmel.shape
    floor = float(logmel.min())
    out = _interp_rows(logmel, np.arange(t) * r, floor, axis=1)  # column j shows time j * r of the original
    from emorec.inputs.melspec import hz_to_mel, mel_to_hz

    # row k's centre on the mel scale of the preprocessing's filters (Slaney, as librosa's default)
    centres = np.linspace(0.0, hz_to_mel(sr / 2.0), f + 2)[1:-1]
    source = hz_to_mel(mel_to_hz(centres) / r)  # energy at f Hz comes from f / r Hz
    rows = (source - centres[0]) / (centres[1] - centres[0]) if f > 1 else np.zeros(1)
    return _interp_rows(out, rows, floor, axis=0)


def add_noise(logmel: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """(F, T) log-mel with white noise added at `snr_db` relative to the clip's mean power."""
    power = 10.0 ** (logmel.astype(np.float64) / 10.0)
    level = power.mean() * 10.0 ** (-snr_db / 10.0)
    noise = level * rng.chisquare(2, size=power.shape) / 2.0  # power of complex Gaussian noise per bin
    return (10.0 * np.log10(power + noise)).astype(np.float32)


def perturb(
    img: np.ndarray,
    rng: np.random.Generator,
    *,
    speed: float = 0.0,
    snr_db: tuple[float, float] | None = None,
    sr: int = 16000,
) -> np.ndarray:
    """A (3, F, T) log-mel/delta/delta-delta image with a random speed in [1 - speed, 1 + speed] and, when
    `snr_db` = (low, high), white noise at a random SNR in that range."""
    logmel = np.asarray(img[0], dtype=np.float32)
    if speed > 0:
        logmel = change_speed(logmel, float(rng.uniform(1.0 - speed, 1.0 + speed)), sr)
    if snr_db is not None:
        logmel = add_noise(logmel, float(rng.uniform(*snr_db)), rng)
    logmel = np.maximum(logmel, logmel.max() - TOP_DB)
    return np.stack([logmel, delta(logmel, 1), delta(logmel, 2)]).astype(np.float32)


@dataclass
class Augment:
    """Training-time augmentation. Audio: SpecAugment-style masks; frames: horizontal flip, small rotation/zoom/shift."""

    time_masks: int = 2
    time_width: int = 16  # max width of each time mask (spectrogram columns)
    freq_masks: int = 2
    freq_width: int = 8  # max height of each frequency mask (spectrogram rows)
    hflip: bool = False
    rotate: float = 0.0  # frames: random rotation within +- this many degrees (0 = off)
    zoom: float = 0.0  # frames: random scale in [1 - zoom, 1 + zoom]
    shift: float = 0.0  # frames: random shift up to this share of the width/height
    speed: float = 0.0  # spectrograms: random speed in [1 - speed, 1 + speed] (tempo and pitch; 0 = off)
    noise_snr: tuple[float, float] | None = None  # spectrograms: white noise at an SNR (dB) drawn in this range
    noise_prob: float = 0.5  # share of training items that get the noise

    @property
    def perturbs(self) -> bool:
        return self.speed > 0 or self.noise_snr is not None

    @classmethod
    def coerce(cls, value) -> Augment | None:
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"augment: unknown keys {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
            aug = cls(**value)
            if not 0.0 <= aug.speed < 0.5:
                raise ValueError(f"augment.speed must be within [0, 0.5), got {aug.speed}")
            if aug.noise_snr is not None:
                lo, hi = (float(v) for v in aug.noise_snr)
                if lo > hi:
                    raise ValueError(f"augment.noise_snr must be [low, high] dB, got {aug.noise_snr}")
                aug.noise_snr = (lo, hi)
            return aug
        raise TypeError(f"augment must be None, a bool, a dict or Augment, got {type(value).__name__}")


def spec_augment(x: torch.Tensor, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """Zero random time and frequency bands of a standardised (C, F, T) spectrogram (0 = the mean)."""
    x = x.clone()
    _, f, t = x.shape
    for _ in range(aug.time_masks):
        w = int(rng.integers(0, min(aug.time_width, t) + 1))
        s = int(rng.integers(0, t - w + 1))
        x[:, :, s : s + w] = 0.0
    for _ in range(aug.freq_masks):
        w = int(rng.integers(0, min(aug.freq_width, f) + 1))
        s = int(rng.integers(0, f - w + 1))
        x[:, s : s + w, :] = 0.0
    return x


def random_affine(
    x: torch.Tensor, rng: np.random.Generator, *, rotate: float = 0.0, shift: float = 0.0, zoom: float = 0.0
) -> torch.Tensor:
    """`x` turned by up to `rotate` degrees, scaled by a factor in [1 - zoom, 1 + zoom] and moved by up to
    `shift` of its width/height, each drawn uniformly; pixels from outside repeat the border."""
    angle = math.radians(rng.uniform(-rotate, rotate)) if rotate > 0 else 0.0
    scale = rng.uniform(1.0 - zoom, 1.0 + zoom) if zoom > 0 else 1.0
    dx, dy = (rng.uniform(-shift, shift, size=2) * 2.0) if shift > 0 else (0.0, 0.0)  # grid units: 2 = full size
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    theta = torch.tensor([[cos, -sin, dx], [sin, cos, dy]], dtype=x.dtype).unsqueeze(0)
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    return F.grid_sample(x.unsqueeze(0), grid, mode="bilinear", padding_mode="border", align_corners=False)[0]
