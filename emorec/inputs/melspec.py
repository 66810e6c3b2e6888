"""Fixed-size spectrogram images of a signal (log-mel with deltas, or log-mel/MFCC/chroma), computed fast."""

from __future__ import annotations

import functools
import math

import numpy as np

TOP_DB = 80.0  # log-mel floor: the clip's loudest bin minus 80 dB (silence and padding sit there)
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
        self.chroma_basis = (
            librosa.filters.chroma(sr=sr, n_fft=n_fft).astype(np.float32) if recipe == "mel_mfcc_chroma" else None
        )

    def fit_length(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        """Centre crop or pad with silence at the end to the fixed length; also the number of real columns."""
        n = len(y)
        if n >= self.samples:
            off = (n - self.samples) // 2
            return y[off : off + self.samples], self.T
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
        return (spec.real**2 + spec.imag**2).astype(np.float32)

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
