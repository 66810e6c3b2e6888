"""Speech segments with Silero VAD (ONNX model of the `silero-vad` package, run by onnxruntime; no torch).

The model gives one speech probability per 32 ms frame of 16 kHz audio. Frames turn into segments with
hysteresis (speech starts at `threshold`, ends below `neg_threshold`), then the options of
`emorec.inference.segment.VadConfig` apply with their usual meaning: gaps shorter than `merge_gap_s` are joined, bursts
shorter than `min_speech_s` dropped, segments widened by `pad_s` and cut to at most `max_segment_s` (at the
least speech-like frame, not into equal parts). `detect_speech` falls back to the energy detector
`emorec.inference.segment.speech_segments` when Silero is not installed.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.inference.segment import Segment, VadConfig, _mono, speech_segments
from emorec.speech.audio import SAMPLE_RATE, MissingPackageError, require, to_16k

FRAME = 512  # samples per model frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame the model sees before each frame
FRAME_S = FRAME / SAMPLE_RATE
BLOCK_FRAMES = 512  # frames per onnxruntime call (~16 s of audio), the LSTM state carried between calls
MODEL_FILE = "silero_vad_16k_sequence.onnx"
METHODS = ("auto", "silero", "energy")
SILERO_INSTALL = "silero-vad onnxruntime"


@dataclass
class SileroConfig:
    """Silero-specific settings; segment lengths, gaps and padding come from `VadConfig`."""

    threshold: float = 0.5  # a frame with this speech probability or more starts speech
    neg_threshold: float | None = None  # speech ends at a frame below this; None = threshold - 0.15
    threads: int = 1  # onnxruntime threads

    def off_threshold(self) -> float:
        return self.neg_threshold if self.neg_threshold is not None else max(self.threshold - 0.15, 0.01)


def silero_model_path() -> Path:
    """The ONNX file inside the installed silero-vad package (located without importing it: its
    `__init__` imports torch)."""
    require("onnxruntime", "Silero VAD", SILERO_INSTALL)
    spec = importlib.util.find_spec("silero_vad")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    raise MissingPackageError("Silero VAD", SILERO_INSTALL if not locations else "--force-reinstall silero-vad")


def silero_available() -> bool:
    try:
        silero_model_path()
    except MissingPackageError:
        return False
    return True


@functools.lru_cache(maxsize=4)
def _session(path: str, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def speech_probabilities(samples: np.ndarray, sr: int, threads: int = 1) -> np.ndarray:
    """Silero's speech probability for each 32 ms frame of the audio (resampled to 16 kHz, mono)."""
    x = to_16k(samples, sr)
    n = (len(x) + FRAME - 1) // FRAME
    if n == 0:
        return np.zeros(0, np.float32)
    session = _session(str(silero_model_path()), threads)
    frames = np.zeros((n, FRAME), np.float32)
    frames.reshape(-1)[: len(x)] = x
    context = np.zeros((n, CONTEXT), np.float32)
    context[1:] = frames[:-1, -CONTEXT:]
    inputs = np.concatenate([context, frames], axis=1)
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    out = []
    for i in range(0, n, BLOCK_FRAMES):
        probs, h, c = session.run(["speech_probs", "hn", "cn"], {"input": inputs[i : i + BLOCK_FRAMES], "h": h, "c": c})
        out.append(probs.reshape(-1))
    return np.concatenate(out).astype(np.float32)


def _raw_spans(probs: np.ndarray, on: float, off: float) -> list[list[int]]:
    """[first, end) frame ranges: start at a frame >= on, end at the first frame below off."""
    spans, begin = [], None
    for i, p in enumerate(probs):
        if begin is None and p >= on:
            begin = i
        elif begin is not None and p < off:
            spans.append([begin, i])
            begin = None
    if begin is not None:
        spans.append([begin, len(probs)])
    return spans


def _split_long(a: float, b: float, probs: np.ndarray, max_s: float) -> list[tuple[float, float]]:
    """Cut [a, b] into pieces of at most `max_s`, each cut at the least speech-like frame of the piece's
    second half."""
    pieces = []
    while b - a > max_s:
        first = int(np.ceil((a + max_s / 2) / FRAME_S))
        last = min(int((a + max_s) / FRAME_S) - 1, len(probs) - 1)
        if last >= first:
            k = first + int(np.argmin(probs[first : last + 1]))
            cut = min((k + 0.5) * FRAME_S, a + max_s)
        else:
            cut = a + max_s
        pieces.append((a, cut))
        a = cut
    pieces.append((a, b))
    return pieces


def segments_from_probabilities(
    probs: np.ndarray, duration: float, cfg: VadConfig | None = None, silero: SileroConfig | None = None
) -> list[Segment]:
    """Segments (seconds) from per-frame speech probabilities, with the merge/drop/pad/split rules of `cfg`."""
    cfg, silero = cfg or VadConfig(), silero or SileroConfig()
    merged: list[list[float]] = []
    for first, end in _raw_spans(probs, silero.threshold, silero.off_threshold()):
        a, b = first * FRAME_S, min(end * FRAME_S, duration)
        if merged and a - merged[-1][1] < cfg.merge_gap_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    kept = [s for s in merged if s[1] - s[0] >= cfg.min_speech_s]
    padded = []
    for i, (a, b) in enumerate(kept):
        lo = max(0.0, a - cfg.pad_s) if i == 0 else max(a - cfg.pad_s, (kept[i - 1][1] + a) / 2)
        hi = min(duration, b + cfg.pad_s) if i == len(kept) - 1 else min(b + cfg.pad_s, (b + kept[i + 1][0]) / 2)
        padded.append((lo, hi))
    out = []
    for a, b in padded:
        out.extend(Segment(round(x, 3), round(y, 3)) for x, y in _split_long(a, b, probs, cfg.max_segment_s))
    return out


def silero_segments(
    samples: np.ndarray, sr: int, cfg: VadConfig | None = None, silero: SileroConfig | None = None
) -> list[Segment]:
    """Speech segments found by Silero VAD; times in seconds of the input audio."""
    cfg, silero = cfg or VadConfig(), silero or SileroConfig()
    if cfg.max_segment_s <= 0:
        raise ValueError(f"max_segment_s must be > 0, got {cfg.max_segment_s}")
    x = to_16k(samples, sr)
    probs = speech_probabilities(x, SAMPLE_RATE, silero.threads)
    return segments_from_probabilities(probs, len(x) / SAMPLE_RATE, cfg, silero)


@dataclass
class SpeechDetection:
    """Segments and the detector that found them ("silero" or "energy"); `note` says why "auto" fell back."""

    segments: list[Segment]
    method: str
    note: str | None = None


def detect_speech(
    samples: np.ndarray, sr: int, cfg: VadConfig | None = None, method: str = "auto", silero: SileroConfig | None = None
) -> SpeechDetection:
    """Speech segments by Silero VAD ("silero"), the energy detector ("energy"), or Silero when it is
    installed and energy otherwise ("auto")."""
    cfg, silero = cfg or VadConfig(), silero or SileroConfig()
    if method not in METHODS:
        raise ValueError(f"speech detection method must be one of {', '.join(METHODS)}, got {method!r}")
    note = None
    if method == "auto":
        try:
            silero_model_path()
            method = "silero"
        except MissingPackageError as e:
            method, note = "energy", f"Silero VAD unavailable ({e}); used the energy detector"
    if method == "silero":
        return SpeechDetection(silero_segments(samples, sr, cfg, silero), "silero")
    x = _mono(samples)
    return SpeechDetection(speech_segments(x, sr, cfg) if len(x) else [], "energy", note)
