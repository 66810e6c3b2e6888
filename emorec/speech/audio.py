"""Audio helpers shared by speech detection and recognition: mono 16 kHz float32, optional packages."""

from __future__ import annotations

import importlib.util

import numpy as np

from emorec.inference.segment import _mono

SAMPLE_RATE = 16000  # Silero VAD and Whisper both work on 16 kHz audio


class MissingPackageError(ImportError):
    """An optional package is not installed; the message is one line naming the pip install."""

    def __init__(self, what: str, install: str):
        self.install = install
        super().__init__(f"{what} needs `pip install {install}`")


def require(module: str, what: str, install: str) -> None:
    """Raise MissingPackageError unless `module` can be imported (checked without importing it)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MissingPackageError(what, install)


def to_16k(samples: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 at 16 kHz (soxr high quality resampling when `sr` differs)."""
    if sr <= 0:
        raise ValueError(f"sample rate must be > 0, got {sr}")
    x = np.ascontiguousarray(_mono(samples), dtype=np.float32)
    if sr != SAMPLE_RATE and len(x):
        import soxr

        x = soxr.resample(x, sr, SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)
    return x
