"""BlazeFace face detection (MediaPipe's short- and full-range models) in numpy: SSD anchors, box and keypoint
decoding, sigmoid scores and weighted non-maximum suppression, as in MediaPipe's face_detection graphs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.vision.face import Face
from emorec.vision.geometry import check_rgb, letterbox
from emorec.vision.runtime import TFLiteModel, require_installed

SCORE_CLIP = 100.0  # raw logits are clipped to +-this before the sigmoid, as in MediaPipe
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold for faces
CLOSEUP_FILL = 0.5  # second look of the full-range models: the frame shrunk to half the input square


@dataclass(frozen=True)
class AnchorSpec:
    """SsdAnchorsCalculator options of one model (fixed anchor size 1, offset 0.5, aspect ratio 1)."""

    input_size: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float  # 1.0 adds a second anchor per aspect ratio; 0.0 does not


ANCHORS = {
    "short": AnchorSpec(128, (8, 16, 16, 16), 1.0),
    "full": AnchorSpec(192, (4,), 0.0),
    "full_sparse": AnchorSpec(192, (4,), 0.0),
}


def ssd_anchors(spec: AnchorSpec) -> np.ndarray:
    """Anchor centres (N, 2) in normalised input coordinates, in the model's output order. Layers that share a
    stride share one feature map, each adding its anchors at every cell."""
    per_anchor = 2 if spec.interpolated_scale_aspect_ratio > 0 else 1
    centres = []
    layer = 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        same = 0
        while layer + same < len(spec.strides) and spec.strides[layer + same] == stride:
            same += 1
        cells = -(-spec.input_size // stride)  # ceil
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, same * per_anchor, axis=1).reshape(-1, 2))
        layer += same
    return np.concatenate(centres).astype(np.float64)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int, min_score: float):
    """(boxes (K, 4) x0 y0 x1 y1, keypoints (K, 6, 2), scores (K,)) in normalised input coordinates for the
    anchors whose sigmoid score reaches min_score."""
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= min_score)
    raw = raw_boxes.reshape(-1, 16)[keep].astype(np.float64) / input_size
    centre = raw[:, 0:2] + anchors[keep]
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[keep][:, None, :]
    ok = (half[:, 0] > 0) & (half[:, 1] > 0)
    return boxes[ok], keypoints[ok], scores[keep][ok]


def _iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, threshold: float = NMS_IOU):
    """MediaPipe's WEIGHTED suppression: the best remaining detection absorbs every one overlapping it by more
    than `threshold` IoU; the merged box and keypoints are the score-weighted means, the score the best one's."""
    order = np.argsort(-scores, kind="stable")
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    remaining = np.arange(len(scores))
    merged = []
    while remaining.size:
        absorbed = _iou_one(boxes[remaining[0]], boxes[remaining]) > threshold
        absorbed[0] = True
        group = remaining[absorbed]
        w = scores[group] / scores[group].sum()
        merged.append(
            ((boxes[group] * w[:, None]).sum(0), (keypoints[group] * w[:, None, None]).sum(0), float(scores[group[0]]))
        )
        remaining = remaining[~absorbed]
    return merged


class FaceDetector:
    """BlazeFace on the CPU. `model`: "full" (full range, 192x192 input, faces up to ~5 m; the default), "short"
    (short range, 128x128, faces within ~2 m, fastest) or "full_sparse" (the sparse variant of full range).
    Any aspect ratio works: the frame is letterboxed to the model's square input. The full-range models miss
    close-ups (a face wider than about half the frame, e.g. an already cropped face image): with
    `closeup_retry` (default) a frame where they find nothing is looked at once more, shrunk to half the
    input. `threads`: interpreter threads. `model_path` replaces the bundled file (same kind of model).
    Raises VisionUnavailable (one line with the pip command) when LiteRT or the model files are missing."""

    name = "blazeface"

    def __init__(
        self,
        model: str = "full",
        min_score: float = 0.5,
        threads: int = 1,
        model_path: str | Path | None = None,
        nms_iou: float = NMS_IOU,
        closeup_retry: bool = True,
    ):
        if model not in ANCHORS:
            raise ValueError(f"unknown face detector model {model!r}; choose one of {', '.join(ANCHORS)}")
        if not 0.0 < min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {min_score}")
        self.model = model
        self.min_score = float(min_score)
        self.nms_iou = float(nms_iou)
        self.closeup_retry = bool(closeup_retry) and model != "short"
        self.net = TFLiteModel(require_installed(model, model_path), threads=threads)
        spec = ANCHORS[model]
        if self.net.input_size != spec.input_size:
            raise ValueError(
                f"{self.net.path} takes {self.net.input_size} px input, the {model!r} model takes {spec.input_size}"
            )
        self.anchors = ssd_anchors(spec)
        self.name = f"blazeface-{model}"

    def detect(self, rgb: np.ndarray, sort: str = "size", max_faces: int | None = None) -> list[Face]:
        """Faces in an RGB uint8 (H, W, 3) frame, largest first (sort="size") or most confident first
        (sort="score"), at most max_faces of them. Boxes and keypoints are in the frame's pixels."""
        if sort not in ("size", "score"):
            raise ValueError(f"sort must be 'size' or 'score', got {sort!r}")
        rgb = check_rgb(rgb)
        faces = self._detect_at(rgb, 1.0)
        if not faces and self.closeup_retry:
            faces = self._detect_at(rgb, CLOSEUP_FILL)
        key = (lambda f: -f.area) if sort == "size" else (lambda f: -f.score)
        faces.sort(key=key)
        return faces[:max_faces] if max_faces is not None else faces

    def _detect_at(self, rgb: np.ndarray, fill: float) -> list[Face]:
        size = self.net.input_size
        square, fit = letterbox(rgb, size, fill)
        tensor = square.astype(np.float32)[None] / 127.5 - 1.0  # MediaPipe feeds [-1, 1]
        raw_boxes, raw_scores = self._split(self.net.run(tensor))
        boxes, keypoints, scores = decode(raw_boxes, raw_scores, self.anchors, size, self.min_score)
        faces = []
        for box, points, score in weighted_nms(boxes, keypoints, scores, self.nms_iou):
            corners = fit.to_image(box.reshape(2, 2)).reshape(4)
            faces.append(Face(box=tuple(float(v) for v in corners), score=score, keypoints=fit.to_image(points)))
        return faces

    def _split(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(regressors, classificators) whatever order the file lists its outputs in."""
        boxes = next(o for o in outputs if o.shape[-1] == 16)
        scores = next(o for o in outputs if o.shape[-1] == 1)
        return boxes, scores
