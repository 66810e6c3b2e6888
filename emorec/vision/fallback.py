"""The best face detector installed: BlazeFace when LiteRT and the MediaPipe models are there, else OpenCV's
Haar cascade (the one preprocessing uses) behind the same detect() -> list[Face] interface."""

from __future__ import annotations

import logging

import numpy as np

from emorec.vision.face import Face
from emorec.vision.geometry import check_rgb
from emorec.vision.runtime import VisionUnavailable

HAAR_WORK_SIDE = 360.0  # the cascade runs on a copy whose long side is at most this (as FaceFinder does)
HAAR_NEIGHBOURS = 5

log = logging.getLogger(__name__)


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade giving Face objects without keypoints (so alignment does not rotate
    and the mesh crop is unrotated). `score` is n / (n + 5) for n overlapping raw hits: a confidence-like
    ranking value, not a probability."""

    name = "haar"

    def __init__(self):
        from emorec.media.crops import FaceFinder

        self.cascade = FaceFinder(margin=0.0).cascade

    def detect(self, rgb: np.ndarray, sort: str = "size", max_faces: int | None = None) -> list[Face]:
        import cv2

        if sort not in ("size", "score"):
            raise ValueError(f"sort must be 'size' or 'score', got {sort!r}")
        gray = cv2.cvtColor(check_rgb(rgb), cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        scale = min(1.0, HAAR_WORK_SIDE / max(h, w))
        small = (
            cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        )
        small = cv2.equalizeHist(small)
        side = max(24, min(small.shape) // 10)
        boxes, hits = self.cascade.detectMultiScale2(
            small, scaleFactor=1.1, minNeighbors=HAAR_NEIGHBOURS, minSize=(side, side)
        )
        faces = []
        for (x, y, bw, bh), n in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(hits).reshape(-1)):
            box = (x / scale, y / scale, min(w, (x + bw) / scale), min(h, (y + bh) / scale))
            faces.append(Face(box=tuple(float(v) for v in box), score=float(n / (n + HAAR_NEIGHBOURS))))
        faces.sort(key=(lambda f: -f.area) if sort == "size" else (lambda f: -f.score))
        return faces[:max_faces] if max_faces is not None else faces


def best_available_detector(model: str = "full", min_score: float = 0.5, threads: int = 1):
    """BlazeFace (`name` "blazeface-full", "blazeface-short", ...) when LiteRT and the models are installed,
    otherwise the Haar cascade (`name` "haar"); the choice is logged, and the reason when it is the cascade.
    Both have detect(rgb, sort="size", max_faces=None) -> list[Face]."""
    from emorec.vision.detector import FaceDetector

    try:
        detector = FaceDetector(model=model, min_score=min_score, threads=threads)
    except VisionUnavailable as e:
        log.warning("face detector: OpenCV Haar cascade (BlazeFace unavailable: %s)", e)
        return HaarFaceDetector()
    log.info("face detector: %s", detector.name)
    return detector
