"""Helpers for the test_vision_* files: real frames and audio from ../shared/data, decoded once per process, and
skips when the optional face packages are missing."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

RAVDESS_AV = ("01-01-01-01-02-01-05.mp4", "01-01-03-01-01-02-05.mp4", "01-01-06-01-01-01-05.mp4")
CREMAD_CLIP = "cremad/1001_DFA_ANG_XX.flv"


def require_blazeface() -> None:
    """Skip unless LiteRT and the MediaPipe model files are installed (the reason says which pip install)."""
    from emorec.vision import VisionUnavailable

    try:
        detector()
        landmarker()
    except VisionUnavailable as e:
        pytest.skip(str(e))


def require_file(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"test media not found: {path}")
    return path


@functools.lru_cache(maxsize=8)
def segment(path: str, n: int = 9):
    """(frames, times, energy curve) of a whole clip: n frames evenly spread, and the audio's energy."""
    from emorec.vision import read_audio_energy, read_segment_frames

    seg = read_segment_frames(path, n=n)
    return seg.frames, seg.times, read_audio_energy(path)


@functools.lru_cache(maxsize=2)
def detector(model: str = "full"):
    from emorec.vision import FaceDetector

    return FaceDetector(model)


@functools.lru_cache(maxsize=1)
def landmarker():
    from emorec.vision import FaceLandmarker

    return FaceLandmarker()


def ravdess(shared_data: Path, name: str = RAVDESS_AV[1], n: int = 9):
    return segment(str(require_file(shared_data / "ravdess_av" / name)), n)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two frames next to each other, the right one scaled to the left one's height."""
    import cv2

    h = left.shape[0]
    if right.shape[0] != h:
        w = round(right.shape[1] * h / right.shape[0])
        right = cv2.resize(right, (w, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.hstack([left, right]))
