"""Torch datasets over a feature store (memory-mapped, rows read lazily) or in-memory arrays.

`StoreDataset(src, rows, labels, modality)` yields `(x, y)` for store rows `rows`:
- "frame" (or "frames"): `frames` uint8 (N, K, H, W, 3) -> float (3, H, W) in [0, 1], then ImageNet mean/std.
  With K > 1 frames per utterance, `frame_pick` chooses: "middle" (default, the thesis's middle frame),
  "mean" (pixel average of the K frames) or "random" (a random frame each time; for training).
- "audio" (or "spec"): `spec` (N, 3, F, T) -> float, standardised per channel with `spec_stats`
  (from `spec_channel_stats(store, train_rows)`), optional SpecAugment masking (`augment`).
- "egemaps": `egemaps` (N, 88) -> float, standardised with `egemaps_stats` (from `feature_stats`); "compare":
  `compare` (N, 6373) ComParE 2016 functionals, likewise with `compare_stats`.
- `row_stats` ({row: (mean, std)}, from `speaker_stats`) replaces those for spec/functionals: each row standardised
  with its own speaker's statistics (per channel and frequency row for spectrograms).
- "text": dict(input_ids, attention_mask) as long tensors.
`y` is the class index (long), or -1 when `labels` is None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from emorec.preprocess.config import FUNCTIONAL_SETS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FUNCTIONALS = tuple(FUNCTIONAL_SETS)  # openSMILE functionals: one (D,) vector per utterance
KINDS = {"frame": "frames", "frames": "frames", "audio": "spec", "spec": "spec", "text": "text", **{k: k for k in FUNCTIONALS}}
FRAME_PICKS = ("middle", "mean", "random")


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
    def coerce(cls, value) -> "Augment | None":
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


def _get_array(src, name: str) -> np.ndarray:
    if isinstance(src, dict):
        if name not in src:
            raise KeyError(f"array {name!r} missing; have {sorted(src)}")
        return src[name]
    return src.array(name)


def _chunks(rows: np.ndarray, size: int):
    for i in range(0, len(rows), size):
        yield np.sort(rows[i:i + size])


def spec_channel_stats(store_or_arrays, train_rows, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (3,) of `spec` over the training rows only (read in chunks)."""
    spec = _get_array(store_or_arrays, "spec")
    rows = np.asarray(train_rows, dtype=np.int64)
    if len(rows) == 0:
        raise ValueError("spec_channel_stats: no training rows")
    c = spec.shape[1]
    s, ss, n = np.zeros(c), np.zeros(c), 0
    for part in _chunks(rows, chunk):
        x = np.asarray(spec[part], dtype=np.float64)
        s += x.sum(axis=(0, 2, 3))
        ss += (x * x).sum(axis=(0, 2, 3))
        n += x.shape[0] * x.shape[2] * x.shape[3]
    mean = s / n
    std = np.sqrt(np.maximum(ss / n - mean**2, 0.0))
    return mean.astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


def feature_stats(store_or_arrays, train_rows, name: str = "egemaps") -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of a (N, D) array (e.g. `egemaps`) over the training rows only."""
    x = np.asarray(_get_array(store_or_arrays, name)[np.sort(np.asarray(train_rows, dtype=np.int64))], dtype=np.float64)
    if len(x) == 0:
        raise ValueError(f"feature_stats({name}): no training rows")
    std = x.std(axis=0)
    return x.mean(axis=0).astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


def spec_bin_stats(spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per channel and frequency row, (3, F), of spectrograms (N, 3, F, T)."""
    x = np.asarray(spec, dtype=np.float64)
    mean, std = x.mean(axis=(0, 3)), x.std(axis=(0, 3))
    return mean.astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


def speaker_stats(store_or_arrays, rows_by_speaker: dict[str, np.ndarray], kind: str) -> dict[int, tuple]:
    """{row: (mean, std)}: every row gets the statistics of all rows of its speaker (labels unused).
    Spectrograms: per channel and frequency row (3, F, 1); eGeMAPS: per feature."""
    name = KINDS[kind]
    if name not in ("spec", *FUNCTIONALS):
        raise ValueError(f"speaker normalisation is for spectrogram or openSMILE functionals inputs, not {kind!r}")
    arr = _get_array(store_or_arrays, name)
    out: dict[int, tuple] = {}
    for rows in rows_by_speaker.values():
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        if name == "spec":
            mean, std = spec_bin_stats(arr[rows])
            stats = (torch.from_numpy(mean[..., None]), torch.from_numpy(std[..., None]))
        else:
            mean, std = feature_stats({name: arr}, rows, name)
            stats = (torch.from_numpy(mean), torch.from_numpy(std))
        out.update({int(r): stats for r in rows})
    return out


class StoreDataset(Dataset):
    def __init__(self, store_or_arrays, rows, labels=None, modality: str = "frame", *,
                 frame_mean=IMAGENET_MEAN, frame_std=IMAGENET_STD, spec_stats=None, egemaps_stats=None, compare_stats=None,
                 row_stats: dict[int, tuple] | None = None, augment=None, frame_pick: str = "middle", seed: int = 0):
        if modality not in KINDS:
            raise ValueError(f"StoreDataset: modality must be one of {sorted(KINDS)}, got {modality!r}")
        if frame_pick not in FRAME_PICKS:
            raise ValueError(f"StoreDataset: frame_pick must be one of {FRAME_PICKS}, got {frame_pick!r}")
        self.src, self.kind, self.frame_pick = store_or_arrays, KINDS[modality], frame_pick
        self.rows = np.asarray(rows, dtype=np.int64)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(self.rows):
            raise ValueError(f"StoreDataset: {len(self.labels)} labels for {len(self.rows)} rows")
        self.augment = Augment.coerce(augment)
        self.sample_rate = 16000
        if self.kind == "spec" and self.augment is not None and self.augment.perturbs:
            config = getattr(store_or_arrays, "config", None)
            if config is not None:
                if config.spec_recipe != "mel_deltas":
                    raise ValueError(f"augment speed/noise needs spec_recipe mel_deltas, the store has {config.spec_recipe!r}")
                self.sample_rate = int(config.sample_rate)
        self.frame_mean = torch.tensor(frame_mean, dtype=torch.float32).view(3, 1, 1)
        self.frame_std = torch.tensor(frame_std, dtype=torch.float32).view(3, 1, 1)
        self.spec_stats = self._stats(spec_stats, (-1, 1, 1)) if self.kind == "spec" else None
        stats = {"egemaps": egemaps_stats, "compare": compare_stats}.get(self.kind)
        self.feature_stats = self._stats(stats, (-1,)) if self.kind in FUNCTIONALS else None
        self.row_stats = row_stats
        if row_stats is not None:
            missing = [int(r) for r in self.rows if int(r) not in row_stats]
            if missing:
                raise ValueError(f"StoreDataset: no speaker statistics for rows {missing[:5]}")
        self.rng = np.random.default_rng(seed)
        self._arrays: dict[str, np.ndarray] = {}

    @staticmethod
    def _stats(stats, shape):
        if stats is None:
            return None
        mean, std = stats
        return (torch.as_tensor(np.asarray(mean), dtype=torch.float32).view(*shape),
                torch.as_tensor(np.asarray(std), dtype=torch.float32).view(*shape))

    def __getstate__(self):  # worker processes reopen the memmaps
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    def _array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = _get_array(self.src, name)
        return self._arrays[name]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        r = int(self.rows[i])
        y = torch.tensor(-1 if self.labels is None else int(self.labels[i]), dtype=torch.long)
        read = self._functionals if self.kind in FUNCTIONALS else getattr(self, f"_{self.kind}")
        return read(r), y

    def _frames(self, r: int) -> torch.Tensor:
        clip = self._array("frames")[r]  # (K, H, W, 3) uint8
        k = clip.shape[0]
        if self.frame_pick == "mean" and k > 1:
            img = np.asarray(clip, dtype=np.float32).mean(axis=0)
        else:
            j = int(self.rng.integers(k)) if self.frame_pick == "random" else k // 2
            img = np.asarray(clip[j], dtype=np.float32)
        x = torch.from_numpy(img).permute(2, 0, 1) / 255.0
        if self.augment is not None and self.augment.hflip and self.rng.random() < 0.5:
            x = x.flip(-1)
        if self.augment is not None and (self.augment.rotate or self.augment.zoom or self.augment.shift):
            from emorec.frame_augment import random_affine

            x = random_affine(x, self.rng, rotate=self.augment.rotate, shift=self.augment.shift, zoom=self.augment.zoom)
        return (x - self.frame_mean) / self.frame_std

    def _spec(self, r: int) -> torch.Tensor:
        raw = np.asarray(self._array("spec")[r], dtype=np.float32)
        if self.augment is not None and self.augment.perturbs:
            raw = self._perturb(raw)
        x = torch.from_numpy(raw)
        if self.row_stats is not None:
            x = (x - self.row_stats[r][0]) / self.row_stats[r][1]
        elif self.spec_stats is not None:
            x = (x - self.spec_stats[0]) / self.spec_stats[1]
        if self.augment is not None:
            x = spec_augment(x, self.augment, self.rng)
        return x

    def _perturb(self, raw: np.ndarray) -> np.ndarray:
        from emorec.spec_perturb import perturb

        aug = self.augment
        noisy = aug.noise_snr is not None and self.rng.random() < aug.noise_prob
        return perturb(raw, self.rng, speed=aug.speed, snr_db=aug.noise_snr if noisy else None, sr=self.sample_rate)

    def _functionals(self, r: int) -> torch.Tensor:
        x = torch.from_numpy(np.asarray(self._array(self.kind)[r], dtype=np.float32))
        if self.row_stats is not None:
            x = (x - self.row_stats[r][0]) / self.row_stats[r][1]
        elif self.feature_stats is not None:
            x = (x - self.feature_stats[0]) / self.feature_stats[1]
        return x

    def _text(self, r: int) -> dict:
        return {"input_ids": torch.from_numpy(np.asarray(self._array("input_ids")[r], dtype=np.int64)),
                "attention_mask": torch.from_numpy(np.asarray(self._array("attention_mask")[r], dtype=np.int64))}


def spec_augment(x: torch.Tensor, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """Zero random time and frequency bands of a standardised (C, F, T) spectrogram (0 = the mean)."""
    x = x.clone()
    _, f, t = x.shape
    for _ in range(aug.time_masks):
        w = int(rng.integers(0, min(aug.time_width, t) + 1))
        s = int(rng.integers(0, t - w + 1))
        x[:, :, s:s + w] = 0.0
    for _ in range(aug.freq_masks):
        w = int(rng.integers(0, min(aug.freq_width, f) + 1))
        s = int(rng.integers(0, f - w + 1))
        x[:, s:s + w, :] = 0.0
    return x


class FusionDataset(Dataset):
    """(dict(x=(M, C), mask=(M,)), y) items over aligned unimodal outputs (see emorec.fusion.align)."""

    def __init__(self, X: np.ndarray, mask: np.ndarray | None = None, labels=None):
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if self.X.ndim != 3:
            raise ValueError(f"FusionDataset: X must be (N, M, C), got shape {tuple(self.X.shape)}")
        m = np.ones(self.X.shape[:2], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if m.shape != tuple(self.X.shape[:2]):
            raise ValueError(f"FusionDataset: mask shape {m.shape} does not match X {tuple(self.X.shape)}")
        self.mask = torch.as_tensor(m)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(self.X):
            raise ValueError(f"FusionDataset: {len(self.labels)} labels for {len(self.X)} rows")

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        y = -1 if self.labels is None else int(self.labels[i])
        return {"x": self.X[i], "mask": self.mask[i]}, torch.tensor(y, dtype=torch.long)
