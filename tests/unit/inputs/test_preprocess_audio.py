"""Audio windows, resampling, spectrogram images and eGeMAPS (emorec.media.audio)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emorec.inputs.functionals import Functionals
from emorec.media.audio import AudioError, AudioSource, load_window
from emorec.preprocess.config import PreprocessConfig


def tone_wav(path, seconds=4.0, sr=16000, freq=440.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t) * (t // 1 % 2 == 0)  # on 1 s, off 1 s, ...
    data = np.stack([y] * channels, axis=1) if channels > 1 else y
    sf.write(str(path), data.astype(np.float32), sr, subtype="PCM_16")
    return path


def test_window_cut_matches_the_samples_of_the_file(tmp_path):
    path = tone_wav(tmp_path / "a.wav")
    whole, _ = sf.read(str(path), dtype="float32")
    got = load_window(path, 1.5, 2.25)
    assert np.array_equal(got, whole[24000:36000])
    assert len(load_window(path, None, None)) == len(whole)
    src = AudioSource(path)
    assert src.duration == pytest.approx(4.0)
    assert len(src.read(3.5, 9.0)) == 8000  # the end is cut at the end of the file


def test_stereo_44k_becomes_16k_mono(tmp_path):
    path = tone_wav(tmp_path / "s.wav", seconds=2.0, sr=44100, channels=2)
    y = load_window(path, 0.0, 1.0, sr=16000)
    assert y.ndim == 1 and abs(len(y) - 16000) <= 1 and y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 16000 / len(y) - 440) < 3  # the tone survives resampling


@pytest.mark.parametrize(
    "start,end,reason",
    [
        (5.0, 6.0, "window past end of audio"),
        (2.0, 2.0, "zero-length window"),
        (2.0, 1.0, "zero-length window"),
    ],
)
def test_bad_windows_have_reasons(tmp_path, start, end, reason):
    path = tone_wav(tmp_path / "a.wav")
    with pytest.raises(AudioError) as e:
        load_window(path, start, end)
    assert e.value.reason == reason


def test_missing_and_unreadable_audio(tmp_path):
    with pytest.raises(AudioError) as e:
        AudioSource(tmp_path / "nope.wav")
    assert e.value.reason == "missing audio"
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    with pytest.raises(AudioError) as e:
        AudioSource(junk)
    assert e.value.reason == "unreadable audio"


def test_hop_makes_max_audio_seconds_fill_T_columns():
    cfg = PreprocessConfig()
    hop = cfg.settings_of("spec").hop_length
    assert hop * cfg.spec_size[1] == pytest.approx(cfg.max_audio_seconds * cfg.sample_rate, abs=cfg.spec_size[1])
    with pytest.raises(ValueError):
        PreprocessConfig(max_audio_seconds=60.0, spec_size=(64, 32))  # hop above n_fft


@pytest.mark.parametrize("recipe", ["mel_deltas", "mel_mfcc_chroma"])
@pytest.mark.parametrize("size", [(128, 128), (64, 96)])
def test_spectrogram_shape_and_finite_values(recipe, size):
    cfg = PreprocessConfig(spec_recipe=recipe, spec_size=size, n_mels=size[0] if size[0] == 128 else 80)
    maker = cfg.input("spec").maker
    rng = np.random.default_rng(0)
    for seconds in (0.05, 1.0, cfg.max_audio_seconds, 11.0):
        y = (0.1 * rng.standard_normal(int(seconds * cfg.sample_rate))).astype(np.float32)
        img, valid = maker(y)
        assert img.shape == (3, *size) and img.dtype == np.float32
        assert np.all(np.isfinite(img)) and np.all(np.isfinite(img.astype(np.float16)))
        assert 1 <= valid <= size[1]
        if seconds >= cfg.max_audio_seconds:
            assert valid == size[1]
        assert img[0].std() > 0.1  # not a constant image
    silent, _ = maker(np.zeros(100, np.float32))
    assert np.all(np.isfinite(silent))
    if recipe == "mel_mfcc_chroma":
        assert img[2].min() >= 0.0 and img[2].max() <= 1.0 + 1e-6  # chroma is normalised per column


def test_short_clips_are_padded_with_silence_and_long_ones_center_cropped():
    cfg = PreprocessConfig(spec_size=(64, 64), n_mels=64, max_audio_seconds=2.0)
    maker = cfg.input("spec").maker
    n = maker.samples
    y = np.arange(3 * n, dtype=np.float32)
    cut, valid = maker.fit_length(y)
    assert len(cut) == n and cut[0] == n and valid == 64  # the middle third
    short = np.ones(n // 4, np.float32)
    padded, valid = maker.fit_length(short)
    assert len(padded) == n and padded[: n // 4].sum() == n // 4 and not padded[n // 4 :].any()
    assert valid == 16
    img, _ = maker(0.2 * np.sin(np.arange(n // 4, dtype=np.float32)))
    assert img[0, :, 40:].max() == pytest.approx(img[0].min())  # padding sits at the floor


@pytest.mark.parametrize("name, size", [("egemaps", 88), ("compare", 6373)])
def test_functionals_give_finite_values(name, size):
    y = (0.1 * np.sin(2 * np.pi * 180 * np.arange(16000) / 16000)).astype(np.float32)
    v = Functionals(16000, name)(y)
    assert v.shape == (size,) and np.all(np.isfinite(v)) and np.abs(v).sum() > 0
    with pytest.raises(ValueError, match="unknown openSMILE feature set"):
        Functionals(16000, "gemaps")


def test_the_spectrogram_kind_gives_each_window_its_own_image_in_any_number_of_windows():
    cfg = PreprocessConfig(spec_size=(64, 64), n_mels=64, max_audio_seconds=1.0)
    kind = cfg.input("spec")
    rng = np.random.default_rng(3)
    windows = [(0.05 * (i + 1) * rng.standard_normal(800 * (i + 1))).astype(np.float32) for i in range(19)]
    values, info = kind.extract_with_info(windows)  # 19 windows: chunks of 8, 8 and 3
    assert values["spec"].shape == (19, 3, 64, 64) and values["spec"].dtype == np.float16
    for i, y in enumerate(windows):
        alone, alone_info = kind.extract_with_info([y])
        np.testing.assert_array_equal(values["spec"][i], alone["spec"][0])
        assert info["spec_valid"][i] == alone_info["spec_valid"][0]
    empty, none = kind.extract_with_info([])
    assert empty["spec"].shape == (0, 3, 64, 64) and none["spec_valid"] == []
