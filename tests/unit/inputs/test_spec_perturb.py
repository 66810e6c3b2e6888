"""Speed and noise perturbation of stored spectrograms, checked against the same operations on the waveform."""

from __future__ import annotations

import numpy as np
import pytest

from emorec.inputs.augment import Augment, add_noise, change_speed, perturb
from emorec.inputs.melspec import SpectrogramMaker
from emorec.training.datasets import StoreDataset
from support.kinds import make_kind

SR = 16000
MAKER = SpectrogramMaker(SR, 512, 160, 64, (64, 96), "mel_deltas")


def _voice(seconds: float = 0.8, f0: float = 180.0) -> np.ndarray:
    """A harmonic tone with a gliding pitch and syllable-like loudness, shorter than the 0.96 s image so that
    neither it nor a faster version is cropped."""
    t = np.arange(int(seconds * SR)) / SR
    pitch = f0 * (1 + 0.3 * t / seconds)
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.3 * y * (0.55 + 0.45 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _corr(a, b) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_no_perturbation_gives_back_the_stored_image():
    img, _ = MAKER(_voice())
    out = perturb(img, np.random.default_rng(0))
    assert np.allclose(out, img, atol=1e-3)


@pytest.mark.parametrize("r", [0.9, 1.1])
def test_speed_matches_the_waveform_played_faster(r):
    y = _voice()
    faster = np.interp(np.arange(0, len(y) / r) * r, np.arange(len(y)), y).astype(np.float32)
    target = MAKER(faster)[0][0]
    logmel = MAKER(y)[0][0]
    valid = slice(0, int(len(faster) / 160) - 2)  # columns that hold the faster signal
    warped = change_speed(logmel, r, SR)
    assert _corr(warped[:, valid], target[:, valid]) > 0.9
    assert _corr(warped[:, valid], target[:, valid]) > _corr(logmel[:, valid], target[:, valid]) + 0.05


def test_noise_matches_white_noise_added_to_the_waveform():
    rng = np.random.default_rng(1)
    y = _voice()
    snr = 10.0
    noise = rng.normal(0, 1, len(y)).astype(np.float32)
    noise *= np.sqrt(np.mean(y**2) / np.mean(noise**2) / 10 ** (snr / 10))
    target = MAKER(y + noise)[0][0]
    clean = MAKER(y)[0][0]
    noisy = add_noise(clean, snr, rng)
    valid = slice(0, int(len(y) / 160) - 2)
    # the quiet bins rise to the noise floor as they do with real noise (within a few dB on average)
    quiet = clean[:, valid] <= np.percentile(clean[:, valid], 30)
    assert abs(noisy[:, valid][quiet].mean() - target[:, valid][quiet].mean()) < 4.0
    assert noisy[:, valid][quiet].mean() > clean[:, valid][quiet].mean() + 10


def test_dataset_perturbs_training_items_and_checks_the_recipe():
    img, _ = MAKER(_voice())
    arrays = {"spec": np.stack([img, img]).astype(np.float16)}
    aug = {"time_masks": 0, "freq_masks": 0, "speed": 0.15, "noise_snr": [5, 20], "noise_prob": 1.0}
    ds = StoreDataset(arrays, [0, 1], [0, 1], make_kind("spec", sample_rate=SR), augment=aug)
    a, b = ds[0][0].numpy(), ds[0][0].numpy()
    assert a.shape == img.shape and not np.allclose(a, b)
    with pytest.raises(ValueError, match="speed"):
        Augment.coerce({"speed": 0.7})

    with pytest.raises(ValueError, match="mel_deltas"):
        StoreDataset(arrays, [0], [0], make_kind("spec", spec_recipe="mel_mfcc_chroma"), augment=aug)
    with pytest.raises(ValueError, match="speed/noise augmentation is for spectrograms"):
        StoreDataset({"frames": np.zeros((1, 1, 8, 8, 3), np.uint8)}, [0], [0], make_kind("frames"), augment=aug)
