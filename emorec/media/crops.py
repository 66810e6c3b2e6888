"""Crops of a decoded frame: the speaker's half, the full frame or the largest face, resized to a square."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def half_box(width: int, height: int, part: str) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the left half, right half or the full frame."""
    mid = width // 2
    if part == "left":
        return 0, 0, mid, height
    if part == "right":
        return mid, 0, width, height
    return 0, 0, width, height


def region_for(crop: str, side: str) -> str:
    """Which part of the frame a crop starts from: the speaker's half for speaker/face, else the named one."""
    if crop in ("speaker", "face"):
        return side if side in ("left", "right") else "full"
    return crop


class FaceFinder:
    """Largest frontal face (OpenCV Haar cascade) inside a region, with a margin around the box."""

    def __init__(self, margin: float = 0.25):
        import cv2

        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"cannot load the face cascade {path}")
        self.margin = margin

    def find(self, rgb: np.ndarray) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) inside `rgb`, or None when no face is found."""
        import cv2

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        scale = min(1.0, 360.0 / max(h, w))  # detect on a small copy: faster, same boxes
        small = (
            cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        )
        small = cv2.equalizeHist(small)
        side = max(24, min(small.shape) // 10)
        boxes = self.cascade.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
        if len(boxes) == 0:
            return None
        x, y, bw, bh = max(boxes, key=lambda b: b[2] * b[3]) / scale
        mx, my = bw * self.margin, bh * self.margin
        x0, y0 = max(0, int(x - mx)), max(0, int(y - my))
        x1, y1 = min(w, int(math.ceil(x + bw + mx))), min(h, int(math.ceil(y + bh + my)))
        return x0, y0, x1, y1


def crop_frame(
    rgb: np.ndarray, crop: str, side: str, size: int, faces: FaceFinder | None = None
) -> tuple[np.ndarray, bool | None]:
    """The crop of a full RGB frame resized to size x size, and for crop='face' whether a face was found
    (False = fell back to the speaker's half)."""
    import cv2

    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = half_box(w, h, region_for(crop, side))
    part = rgb[y0:y1, x0:x1]
    found = None
    if crop == "face":
        if faces is None:
            raise ValueError("crop='face' needs a FaceFinder")
        box = faces.find(part)
        found = box is not None
        if box is not None:
            fx0, fy0, fx1, fy1 = box
            part = part[fy0:fy1, fx0:fx1]
    out = cv2.resize(np.ascontiguousarray(part), (size, size), interpolation=cv2.INTER_AREA)
    return out, found
