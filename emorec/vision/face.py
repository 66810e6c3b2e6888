"""A detected face: box, score and the six BlazeFace keypoints, in the pixel coordinates of the frame.

Coordinates are continuous: (0, 0) is the top-left corner of the image and pixel (i, j) covers [i, i+1) x
[j, j+1), so the box (0, 0, W, H) is the whole frame. Detector boxes are not clipped: a face cut by the frame's
edge gets a box reaching past it. "Right" and "left" are the person's own sides: the right eye
is the one on the image's left in a frontal face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear_tragion", "left_ear_tragion")
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH_CENTRE, RIGHT_EAR, LEFT_EAR = range(6)

Box = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class Face:
    box: Box  # x0, y0, x1, y1 in pixels
    score: float
    keypoints: np.ndarray | None = None  # (6, 2) x, y in pixels, order KEYPOINT_NAMES; None from the Haar cascade

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def size(self) -> float:
        """Side of the face: the geometric mean of width and height."""
        return math.sqrt(self.area)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def keypoint(self, name: str) -> np.ndarray | None:
        if self.keypoints is None:
            return None
        return self.keypoints[KEYPOINT_NAMES.index(name)]

    @property
    def eye_angle(self) -> float | None:
        """Angle of the line from the right eye to the left eye, radians, image y pointing down (0 = level,
        positive = the face's left eye lower in the image); None without keypoints."""
        if self.keypoints is None:
            return None
        return line_angle(self.keypoints[RIGHT_EYE], self.keypoints[LEFT_EYE])

    def __repr__(self) -> str:
        x0, y0, x1, y1 = self.box
        kp = "" if self.keypoints is None else ", keypoints"
        return f"Face(box=({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}), score={self.score:.2f}{kp})"


def line_angle(start, end) -> float:
    """Angle of the vector start -> end in image coordinates (y down), radians."""
    return math.atan2(float(end[1]) - float(start[1]), float(end[0]) - float(start[0]))


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
