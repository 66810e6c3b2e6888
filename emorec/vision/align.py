"""Aligned face crops: turned so the eyes are level, the face box widened by a margin, resized to a square.

Where the square sits depends on what is known about the face, most stable first:
- landmarks given: the mesh's own box (centred on the mean landmark, its long side from the points' spread);
- detector keypoints: centred between the eyes' midpoint and the mouth, side = the detector box's long side;
- neither (the Haar cascade): the detector box as it is, unrotated.
The detector's box moves a few percent of the face size when the head turns in the image plane; the points do
not, so the first two give crops that stay put when the same face appears rotated.
"""

from __future__ import annotations

import cv2
import numpy as np

from emorec.vision.face import LEFT_EYE, MOUTH_CENTRE, RIGHT_EYE, Face, line_angle
from emorec.vision.geometry import SquareCrop, check_rgb, crop_square
from emorec.vision.landmarks import eye_centres


def alignment_angle(face: Face, landmarks: np.ndarray | None = None) -> float:
    """Eye-line angle in radians (0 = level): from the mesh's eye corners when landmarks are given, else from
    the detector's eye keypoints, else 0."""
    if landmarks is not None:
        right, left = eye_centres(np.asarray(landmarks))
        return line_angle(right, left)
    angle = face.eye_angle
    return 0.0 if angle is None else angle


MESH_SIDE_PER_RMS = 3.33  # the mesh's box long side / its RMS radius (3.31-3.35 on frontal RAVDESS frames)


def _mesh_box(landmarks: np.ndarray) -> tuple[tuple[float, float], float]:
    """Centre (the mean landmark) and long side of the mesh's box, the side taken from the RMS distance of all
    468 points to their mean: extreme points (forehead, chin) move more from frame to frame than the whole."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centre = xy.mean(axis=0)
    rms = float(np.sqrt(((xy - centre) ** 2).sum(axis=1).mean()))
    return (float(centre[0]), float(centre[1])), MESH_SIDE_PER_RMS * rms


def aligned_crop_region(face: Face, size: int, margin: float = 0.25, landmarks: np.ndarray | None = None) -> SquareCrop:
    """The rotated square that aligned_face samples: side = the face's long side widened by `margin` on each
    side (0.25 -> 1.5 times), x axis along the eye line (see the module text for where it is centred)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    angle = alignment_angle(face, landmarks)
    if landmarks is not None:
        centre, long_side = _mesh_box(landmarks)
    elif face.keypoints is not None:
        kp = face.keypoints
        eyes = (kp[RIGHT_EYE] + kp[LEFT_EYE]) / 2
        middle = (eyes + kp[MOUTH_CENTRE]) / 2
        centre, long_side = (float(middle[0]), float(middle[1])), max(face.width, face.height)
    else:
        centre, long_side = face.centre, max(face.width, face.height)
    side = long_side * (1.0 + 2.0 * margin)
    if side <= 0:
        raise ValueError(f"empty face box {face.box}")
    return SquareCrop(centre=centre, side=side, angle=angle, out_size=int(size))


def aligned_face(
    rgb: np.ndarray, face: Face, size: int, margin: float = 0.25, landmarks: np.ndarray | None = None
) -> np.ndarray:
    """uint8 (size, size, 3) crop of `face` with the eyes level. Deterministic: the same frame and face give
    the same bytes. Parts of the square outside the frame repeat the frame's edge pixels."""
    rgb = check_rgb(rgb)
    return crop_square(rgb, aligned_crop_region(face, size, margin, landmarks), border=cv2.BORDER_REPLICATE)
