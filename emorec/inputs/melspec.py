"""Fixed-size spectrogram images of a signal (log-mel with deltas, or log-mel/MFCC/chroma), computed fast.

The Hann window, mel filters, dB scale and delta filter are librosa's (Slaney mel scale and norm) written in
numpy: importing librosa and scipy.signal takes longer than a short clip's whole prediction. They are checked
against librosa in tests/unit/inputs/test_melspec.py.
"""

from __future__ import annotations

import functools
import math

import numpy as np

TOP_DB = 80.0  # log-mel floor: the clip's loudest bin minus 80 dB (silence and padding sit there)
DELTA_WIDTH = 9  # frames in the delta filter (librosa's default)


MEL_BREAK_HZ = 1000.0  # the Slaney mel scale: linear below, logarithmic above
MEL_HZ_STEP = 200.0 / 3
MEL_LOG_STEP = math.log(6.4) / 27.0


def hz_to_mel(hz):
    """librosa.hz_to_mel (Slaney)."""
    hz = np.asanyarray(hz, dtype=np.float64)
    logs = MEL_BREAK_HZ / MEL_HZ_STEP + np.log(np.maximum(hz, MEL_BREAK_HZ) / MEL_BREAK_HZ) / MEL_LOG_STEP
    mel = np.where(hz >= MEL_BREAK_HZ, logs, hz / MEL_HZ_STEP)
    return mel if mel.ndim else float(mel)


def mel_to_hz(mel):
    """librosa.mel_to_hz (Slaney)."""
    mel = np.asanyarray(mel, dtype=np.float64)
    break_mel = MEL_BREAK_HZ / MEL_HZ_STEP
    hz = np.where(mel >= break_mel, MEL_BREAK_HZ * np.exp(MEL_LOG_STEP * (mel - break_mel)), MEL_HZ_STEP * mel)
    return hz if mel.ndim else float(hz)


def mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels): (n_mels, 1 + n_fft // 2) float32, 0 Hz to sr / 2,
    triangles on the Slaney mel scale, each scaled to unit area (norm "slaney")."""
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fft_hz = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    gaps = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / gaps[i], ramps[i + 2] / gaps[i + 1]))
    weights *= (2.0 / (mel_hz[2 : n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    return weights


def hann_window(n: int) -> np.ndarray:
    """scipy.signal.get_window("hann", n, fftbins=True): the periodic Hann window, float64."""
    return (0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, n + 1)))[:n]


def power_to_db(power: np.ndarray, amin: float = 1e-10, top_db: float = TOP_DB) -> np.ndarray:
    """librosa.power_to_db(power, ref=1.0, amin=amin, top_db=top_db) of each (F, T) image of (..., F, T)."""
    db = 10.0 * np.log10(np.maximum(amin, power))
    db -= 10.0 * np.log10(max(amin, 1.0))
    return np.maximum(db, db.max(axis=(-2, -1), keepdims=True) - top_db)


@functools.lru_cache(maxsize=4)
def _delta_filter(order: int) -> np.ndarray:
    """scipy.signal.savgol_coeffs(DELTA_WIDTH, order, deriv=order): the least-squares polynomial fit's
    `order`-th derivative at the window's centre, as a convolution kernel."""
    half = DELTA_WIDTH // 2
    x = np.arange(-half, DELTA_WIDTH - half, dtype=float)[::-1]
    vander = x ** np.arange(order + 1).reshape(-1, 1)
    target = np.zeros(order + 1)
    target[order] = float(math.factorial(order))
    return np.linalg.lstsq(vander, target, rcond=None)[0]


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
        self.sr, self.n_fft, self.hop, self.n_mels = sr, n_fft, hop, n_mels
        self.F, self.T = size
        self.recipe = recipe
        self.samples = self.T * hop  # the fixed analysed length
        self.window = hann_window(n_fft).astype(np.float32)
        self.mel_basis = mel_filters(sr, n_fft, n_mels)
        self.chroma_basis = _chroma_filters(sr, n_fft) if recipe == "mel_mfcc_chroma" else None

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
        """Power spectrograms (N, 1 + n_fft/2, T) of fixed-length signals (N, samples): Hann windows centred on
        t * hop, zero padding at the edges (what librosa.stft(center=True) computes, without its overhead)."""
        import scipy.fft

        half = self.n_fft // 2
        padded = np.pad(y, ((0, 0), (half, half)))
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.n_fft, axis=1)[:, :: self.hop][:, : self.T]
        spec = scipy.fft.rfft(frames * self.window, axis=2).transpose(0, 2, 1)
        return (spec.real**2 + spec.imag**2).astype(np.float32, copy=False)

    def __call__(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        """(3, F, T) float32 image and the count of columns holding audio (the rest is padding)."""
        images, valid = self.batch([y])
        return images[0], valid[0]

    def batch(self, signals: list) -> tuple[np.ndarray, list[int]]:
        """(N, 3, F, T) float32 images of N signals and each one's columns holding audio. Computed together
        (one FFT call, one filter product per image), each image exactly as it comes alone."""
        fitted = [self.fit_length(np.asarray(y, np.float32)) for y in signals]
        power = self.power(np.stack([f[0] for f in fitted]))
        logmel = power_to_db(np.matmul(self.mel_basis, power))
        if self.recipe == "mel_deltas":
            chans = [logmel, delta(logmel, 1), delta(logmel, 2)]
        else:
            import librosa

            mfcc = np.stack([librosa.feature.mfcc(S=m, n_mfcc=self.N_MFCC) for m in logmel])
            chroma = np.matmul(self.chroma_basis, power)
            chroma = chroma / np.maximum(chroma.max(axis=1, keepdims=True), 1e-10)  # per-column max = 1, as librosa
            chans = [logmel, mfcc, chroma]
        images = np.stack([_rows_to(c.astype(np.float32), self.F) for c in chans], axis=1)
        return images, [v for _, v in fitted]


def _chroma_filters(sr: int, n_fft: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft).astype(np.float32)


def to_float16(x: np.ndarray) -> np.ndarray:
    """x as float16, rounded exactly as numpy's astype rounds. Through torch: numpy's own conversion takes a slow
    path for every value that becomes subnormal, and spectrogram deltas hold many (5x slower per image)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(torch.float16).numpy()


def _rows_to(x: np.ndarray, rows: int) -> np.ndarray:
    """Stretch the frequency axis of each (R, T) image of (N, R, T) to `rows` rows (linear); time unchanged."""
    if x.shape[1] == rows:
        return x
    import cv2

    return np.stack([cv2.resize(img, (x.shape[2], rows), interpolation=cv2.INTER_LINEAR) for img in x])
