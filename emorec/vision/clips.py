"""Reading what the face tools work on from a media file: a few frames sampled over a segment, with their times,
and the segment's short-time audio energy. Uses the preprocessing's exact frame reader and audio source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.vision.speaker import EnergyCurve


@dataclass
class SegmentFrames:
    frames: list[np.ndarray]  # RGB uint8 (H, W, 3)
    times: list[float]  # seconds from the start of the video
    indices: list[int]  # frame indices (position in a full decode)


def read_segment_frames(
    path: str | Path, n: int = 7, start: float | None = None, end: float | None = None
) -> SegmentFrames:
    """n frames evenly spaced over [start, end] seconds (None = clip start / end). Raises
    emorec.media.video.VideoError naming the file when it cannot be read; frames past the last decodable
    one are left out."""
    from emorec.media.video import VideoError, frame_window, pick_frames, probe, read_frames

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    info = probe(path)
    a, b = frame_window(start, end, info.fps, info.n_frames)
    wanted = pick_frames(a, min(b, info.n_frames - 1), k=n)
    result = read_frames(path, wanted)
    indices = [i for i in wanted if i in result.frames]
    if not indices:
        raise VideoError("unreadable video", f"{path}: no frame decoded in [{start}, {end}] {result.error}".strip())
    return SegmentFrames(
        frames=[result.frames[i] for i in indices], times=[i / info.fps for i in indices], indices=indices
    )


def read_audio_energy(
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    sample_rate: int = 16000,
    hop_s: float = 0.01,
    window_s: float = 0.04,
) -> EnergyCurve:
    """Short-time RMS energy of a media file's audio over [start, end] seconds, times from the file's start.
    Raises emorec.media.audio.AudioError naming the file when it has no usable audio."""
    from emorec.media.audio import AudioSource

    source = AudioSource(path, sample_rate)
    try:
        samples = source.read(start, end)
    finally:
        source.close()
    return EnergyCurve.from_samples(
        samples, sample_rate, hop_s=hop_s, window_s=window_s, start_time=0.0 if start is None else float(start)
    )
