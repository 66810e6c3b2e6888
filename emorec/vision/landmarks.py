"""MediaPipe Face Mesh: 468 face landmarks from a 192x192 crop of the detected face, turned so the eyes are level,
mapped back to the frame's pixels; and the measures taken from them (eye centres, mouth opening)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.vision.face import Face
from emorec.vision.geometry import SquareCrop, check_rgb, crop_square
from emorec.vision.runtime import TFLiteModel, require_installed

MESH_INPUT = 192
ROI_SCALE = 1.5  # MediaPipe widens the detection box by 1.5 (square, long side) for the mesh
N_LANDMARKS = 468

# Face Mesh indices (person's own right / left)
RIGHT_EYE_CORNERS = (33, 133)  # outer, inner
LEFT_EYE_CORNERS = (362, 263)  # inner, outer
UPPER_INNER_LIP = (82, 13, 312)
LOWER_INNER_LIP = (87, 14, 317)  # below 82, 13, 312 in that order
MOUTH_CORNERS = (78, 308)  # inner corners of the lips


def mesh_crop(face: Face, scale: float = ROI_SCALE) -> SquareCrop:
    """The square region the mesh model looks at: the face box's long side times `scale`, centred on the box,
    rotated by the eye line (level when the face has no keypoints)."""
    angle = face.eye_angle
    return SquareCrop(
        centre=face.centre,
        side=max(face.width, face.height) * scale,
        angle=0.0 if angle is None else angle,
        out_size=MESH_INPUT,
    )


class FaceLandmarker:
    """Face Mesh on the CPU. landmarks(rgb, face) -> (468, 3) float array: x, y in the frame's pixels, z (depth,
    smaller = nearer the camera) in the same pixel scale, relative to the face's centre. `last_presence` holds
    the model's face-presence probability for the last call. Raises VisionUnavailable when LiteRT or the model
    file is missing."""

    def __init__(self, threads: int = 1, model_path: str | Path | None = None):
        self.net = TFLiteModel(require_installed("mesh", model_path), threads=threads)
        if self.net.input_size != MESH_INPUT:
            raise ValueError(f"{self.net.path} takes {self.net.input_size} px input, Face Mesh takes {MESH_INPUT}")
        self.last_presence = float("nan")

    def landmarks(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        rgb = check_rgb(rgb)
        crop = mesh_crop(face)
        tensor = crop_square(rgb, crop).astype(np.float32)[None] / 255.0  # Face Mesh takes [0, 1]
        outputs = self.net.run(tensor)
        points = next(o for o in outputs if o.size == N_LANDMARKS * 3).reshape(N_LANDMARKS, 3).astype(np.float64)
        flag = next(o for o in outputs if o.size == 1)
        self.last_presence = float(1.0 / (1.0 + np.exp(-np.clip(flag.ravel()[0], -80, 80))))
        out = np.empty_like(points)
        out[:, :2] = crop.to_image(points[:, :2])
        out[:, 2] = points[:, 2] * crop.side / MESH_INPUT
        return out


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right eye, left eye) centres (x, y): the middle of each eye's two corners."""
    right = landmarks[list(RIGHT_EYE_CORNERS), :2].mean(axis=0)
    left = landmarks[list(LEFT_EYE_CORNERS), :2].mean(axis=0)
    return right, left


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the outer eye corners: the face-size unit (does not change as the mouth opens)."""
    return float(np.linalg.norm(landmarks[RIGHT_EYE_CORNERS[0], :2] - landmarks[LEFT_EYE_CORNERS[1], :2]))


def mouth_opening(landmarks: np.ndarray) -> float:
    """Gap between the inner lips (mean of three upper/lower pairs) divided by the outer-eye-corner distance:
    about 0.03 with closed lips, up to about 0.2 in speech (RAVDESS); independent of face size and roll."""
    upper = landmarks[list(UPPER_INNER_LIP), :2]
    lower = landmarks[list(LOWER_INNER_LIP), :2]
    gap = float(np.linalg.norm(upper - lower, axis=1).mean())
    unit = interocular(landmarks)
    return gap / unit if unit > 0 else 0.0
