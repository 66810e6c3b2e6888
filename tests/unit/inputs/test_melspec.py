"""The spectrogram's numpy filters are librosa's and scipy's: window, mel filters and scale, dB, deltas, and the
whole image as librosa's own functions compute it."""

import librosa
import numpy as np
import pytest
import scipy.signal

from emorec.inputs import melspec
from emorec.inputs.melspec import SpectrogramMaker


@pytest.mark.parametrize("sr,n_fft,n_mels", [(16000, 1024, 64), (16000, 512, 128), (22050, 2048, 40), (8000, 256, 8)])
def test_mel_filters_are_librosas(sr, n_fft, n_mels):
    ours = melspec.mel_filters(sr, n_fft, n_mels)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_mel_scale_is_librosas_slaney_scale():
    hz = np.array([0.0, 50.0, 999.9, 1000.0, 1000.1, 4000.0, 8000.0, 22050.0])
    np.testing.assert_allclose(melspec.hz_to_mel(hz), librosa.hz_to_mel(hz), rtol=1e-12)
    mel = np.linspace(0, 60, 13)
    np.testing.assert_allclose(melspec.mel_to_hz(mel), librosa.mel_to_hz(mel), rtol=1e-12)
    assert melspec.hz_to_mel(8000.0) == pytest.approx(librosa.hz_to_mel(8000.0))


@pytest.mark.parametrize("n", [64, 400, 1024])
def test_window_is_scipys_periodic_hann(n):
    np.testing.assert_allclose(melspec.hann_window(n), scipy.signal.get_window("hann", n, fftbins=True), atol=1e-15)


@pytest.mark.parametrize("order", [1, 2])
def test_delta_filter_is_the_savitzky_golay_one(order):
    np.testing.assert_allclose(
        melspec._delta_filter(order), scipy.signal.savgol_coeffs(9, order, deriv=order), atol=1e-12
    )


def test_power_to_db_is_librosas():
    power = np.random.default_rng(0).gamma(0.5, size=(64, 96)).astype(np.float32) * 1e-3
    power[:, :5] = 0.0
    np.testing.assert_allclose(
        melspec.power_to_db(power), librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0), atol=1e-4
    )


def test_the_whole_image_is_what_librosa_computes():
    sr, n_fft, hop, n_mels, size = 16000, 1024, 250, 64, (64, 96)
    t = np.arange(int(1.2 * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    img, valid = SpectrogramMaker(sr, n_fft, hop, n_mels, size, "mel_deltas")(y)
    padded = np.zeros(size[1] * hop, np.float32)
    padded[: len(y)] = y
    power = np.abs(librosa.stft(padded, n_fft=n_fft, hop_length=hop, window="hann", pad_mode="constant")) ** 2
    mel = librosa.feature.melspectrogram(S=power[:, : size[1]], sr=sr, n_mels=n_mels)
    logmel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    expected = [logmel, librosa.feature.delta(logmel, order=1, mode="nearest")]
    expected.append(librosa.feature.delta(logmel, order=2, mode="nearest"))
    assert valid == int(np.ceil(len(y) / hop))
    np.testing.assert_allclose(img, np.stack(expected), atol=2e-3)


@pytest.mark.parametrize(
    "recipe,size", [("mel_deltas", (64, 96)), ("mel_deltas", (48, 96)), ("mel_mfcc_chroma", (64, 96))]
)
def test_images_made_together_are_each_exactly_the_image_made_alone(recipe, size):
    """Preprocessing computes a unit's spectrograms in batches, prediction one window at a time: same bits."""
    rng = np.random.default_rng(1)
    maker = SpectrogramMaker(16000, 1024, 250, 64, size, recipe)
    lengths = [300, 16000, maker.samples, maker.samples + 4321, 5]  # padded, cut, exact, centre-cropped, tiny
    signals = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]
    signals.append(np.zeros(700, np.float32))  # silence: its own dB floor, not its neighbours'
    images, valid = maker.batch(signals)
    assert images.shape == (len(signals), 3, *size) and images.dtype == np.float32
    for y, image, v in zip(signals, images, valid):
        alone, v_alone = maker(y)
        assert v == v_alone
        np.testing.assert_array_equal(image, alone)
