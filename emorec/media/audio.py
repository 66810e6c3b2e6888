"""Speech of an utterance: cut the window from a wav (or any audio/video file), resample, spectrogram image.

Spectrogram time axis: `max_audio_seconds` of audio fill exactly T columns (hop = max_audio_seconds * sr / T).
Longer windows keep their centre `max_audio_seconds`; shorter ones are padded with silence at the end, so
one column is the same duration for every utterance. Values are raw (log power in dB, deltas), float16 in the
store; training normalises them per channel.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

TOP_DB = 80.0  # log-mel floor: the clip's loudest bin minus 80 dB (silence and padding sit there)


class AudioError(Exception):
    """An utterance's audio that cannot be had; `reason` is the short status text."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _to_mono_rate(y: np.ndarray, sr_in: int, sr: int) -> np.ndarray:
    if y.ndim == 2:
        y = y.mean(axis=1)
    y = np.ascontiguousarray(y, dtype=np.float32)
    if sr_in != sr and len(y):
        import soxr

        y = soxr.resample(y, sr_in, sr, quality="HQ").astype(np.float32, copy=False)
    return y


class AudioSource:
    """One audio file (wav/flac via soundfile, anything else via PyAV) read window by window.

    Wav windows are read from disk without loading the rest of the file; compressed audio (e.g. AAC in
    mp4, MP3 in flv) is decoded once, resampled, and windows are sliced from it.
    """

    def __init__(self, path: str | Path, sr: int = 16000):
        self.path, self.sr = Path(path), sr
        if not str(path) or not self.path.is_file():
            raise AudioError("missing audio", str(path))
        self._sf = None
        self._decoded = None
        try:
            import soundfile as sf

            self._sf = sf.SoundFile(str(self.path))
            self.native_sr = self._sf.samplerate
            self.duration = self._sf.frames / self.native_sr
        except Exception:
            self._sf = None
            self._decoded = _decode_with_av(self.path, sr)
            self.native_sr = sr
            self.duration = len(self._decoded) / sr

    def read(self, start: float | None, end: float | None) -> np.ndarray:
        """Mono float32 samples at `sr` of [start, end] seconds (None = clip start / end)."""
        s = 0.0 if start is None else float(start)
        e = self.duration if end is None else float(end)
        if e <= s:
            raise AudioError("zero-length window", f"[{s}, {e}]")
        if s >= self.duration:
            raise AudioError("window past end of audio", f"starts at {s:.2f} s, audio lasts {self.duration:.2f} s")
        e = min(e, self.duration)
        if self._decoded is not None:
            y = self._decoded[int(round(s * self.sr)): int(round(e * self.sr))]
        else:
            a, b = int(round(s * self.native_sr)), int(round(e * self.native_sr))
            try:
                self._sf.seek(a)
                raw = self._sf.read(b - a, dtype="float32", always_2d=True)
            except Exception as ex:
                raise AudioError("unreadable audio", f"{self.path}: {ex}") from ex
            y = _to_mono_rate(raw, self.native_sr, self.sr)
        if len(y) == 0:
            raise AudioError("window past end of audio", f"no samples in [{s}, {e}]")
        return y

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()


def _decode_with_av(path: Path, sr: int) -> np.ndarray:
    """The whole first audio stream of a media file as mono float32 at `sr` (t = 0 at the stream start)."""
    import av

    try:
        container = av.open(str(path))
    except Exception as e:
        raise AudioError("unreadable audio", f"{path}: {e}") from e
    try:
        if not container.streams.audio:
            raise AudioError("no audio stream", str(path))
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks, lead = [], None
        try:
            for frame in container.decode(stream):
                if lead is None:
                    lead = max(0.0, frame.time or 0.0)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except Exception as e:
            if not chunks:
                raise AudioError("unreadable audio", f"{path}: {e}") from e
        y = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        if lead:  # audio that starts late: keep times aligned with the clip
            y = np.concatenate([np.zeros(int(round(lead * sr)), np.float32), y])
        return y
    finally:
        container.close()


def load_window(path: str | Path, start: float | None, end: float | None, sr: int = 16000) -> np.ndarray:
    """Mono float32 samples at `sr` of one window of one file."""
    src = AudioSource(path, sr)
    try:
        return src.read(start, end)
    finally:
        src.close()


DELTA_WIDTH = 9  # frames in the delta filter (librosa's default)


@functools.lru_cache(maxsize=4)
def _delta_filter(order: int) -> np.ndarray:
    from scipy.signal import savgol_coeffs

    return savgol_coeffs(DELTA_WIDTH, order, deriv=order)


def delta(x: np.ndarray, order: int) -> np.ndarray:
    """librosa.feature.delta(x, width=9, order=order, mode="nearest"), with the Savitzky-Golay filter
    computed once instead of per call."""
    from scipy.ndimage import convolve1d

    return convolve1d(x, _delta_filter(order), axis=-1, mode="nearest")


class SpectrogramMaker:
    """Fixed-size 3-channel spectrogram images (3, F, T) of a signal.

    mel_deltas: log-mel, delta, delta-delta. mel_mfcc_chroma: log-mel, MFCC (40) and chroma (12), the last
    two stretched to F rows. When n_mels != F the log-mel is stretched to F rows as well.
    """

    N_MFCC = 40

    def __init__(self, sr: int, n_fft: int, hop: int, n_mels: int, size: tuple[int, int], recipe: str):
        import librosa

        self.sr, self.n_fft, self.hop, self.n_mels = sr, n_fft, hop, n_mels
        self.F, self.T = size
        self.recipe = recipe
        self.samples = self.T * hop  # the fixed analysed length
        self.window = librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32)
        self.mel_basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)
        self.chroma_basis = librosa.filters.chroma(sr=sr, n_fft=n_fft).astype(np.float32) if recipe == "mel_mfcc_chroma" else None

    @classmethod
    def from_config(cls, cfg) -> "SpectrogramMaker":
        return cls(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels, tuple(cfg.spec_size), cfg.spec_recipe)

    def fit_length(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        """Centre crop or pad with silence at the end to the fixed length; also the number of real columns."""
        n = len(y)
        if n >= self.samples:
            off = (n - self.samples) // 2
            return y[off: off + self.samples], self.T
        out = np.zeros(self.samples, np.float32)
        out[:n] = y
        return out, min(self.T, max(1, math.ceil(n / self.hop)))

    def power(self, y: np.ndarray) -> np.ndarray:
        """Power spectrogram (1 + n_fft/2, T) of the fixed-length signal: Hann windows centred on t * hop,
        zero padding at the edges (what librosa.stft(center=True) computes, without its overhead)."""
        import scipy.fft

        half = self.n_fft // 2
        padded = np.pad(y, (half, half))
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.n_fft)[:: self.hop][: self.T]
        spec = scipy.fft.rfft(frames * self.window, axis=1).T
        return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)

    def __call__(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        """(3, F, T) float32 image and the count of columns holding audio (the rest is padding)."""
        import librosa

        y, valid = self.fit_length(np.asarray(y, np.float32))
        power = self.power(y)
        logmel = librosa.power_to_db(self.mel_basis @ power, ref=1.0, amin=1e-10, top_db=TOP_DB)
        if self.recipe == "mel_deltas":
            chans = [logmel, delta(logmel, 1), delta(logmel, 2)]
        else:
            mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=self.N_MFCC)
            chroma = self.chroma_basis @ power
            chroma = chroma / np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)  # per-column max = 1, as librosa
            chans = [logmel, mfcc, chroma]
        img = np.stack([_rows_to(c.astype(np.float32), self.F) for c in chans])
        return img, valid


def to_float16(x: np.ndarray) -> np.ndarray:
    """x as float16, rounded exactly as numpy's astype rounds. Through torch: numpy's own conversion takes a slow
    path for every value that becomes subnormal, and spectrogram deltas hold many (5x slower per image)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(torch.float16).numpy()


def _rows_to(x: np.ndarray, rows: int) -> np.ndarray:
    """Stretch the frequency axis of (R, T) to `rows` rows (linear); time axis unchanged."""
    if x.shape[0] == rows:
        return x
    import cv2

    return cv2.resize(x, (x.shape[1], rows), interpolation=cv2.INTER_LINEAR)


class Functionals:
    """openSMILE functionals of a signal: `egemaps` (the 88 eGeMAPS v02) or `compare` (the 6,373 ComParE 2016)."""

    def __init__(self, sr: int, name: str = "egemaps"):
        import opensmile

        from emorec.preprocess.config import FUNCTIONAL_SETS

        if name not in FUNCTIONAL_SETS:
            raise ValueError(f"unknown openSMILE feature set {name!r}; known: {sorted(FUNCTIONAL_SETS)}")
        set_name, self.size = FUNCTIONAL_SETS[name]
        self.sr = sr
        self.smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, set_name),
                                     feature_level=opensmile.FeatureLevel.Functionals)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        min_len = int(0.1 * self.sr)  # openSMILE needs some frames; pad very short cuts with silence
        if len(y) < min_len:
            y = np.pad(y, (0, min_len - len(y)))
        values = self.smile.process_signal(y, self.sr).to_numpy(dtype=np.float32).reshape(-1)
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
