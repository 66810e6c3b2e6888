"""Face Mesh landmarks and aligned crops: rotated-crop geometry on drawn images, then on real RAVDESS and CREMA-D
frames (landmarks inside the face, mouth opening moving with speech, level and rotation-proof crops)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from emorec.vision import Face, aligned_face, eye_centres, mouth_opening
from emorec.vision.geometry import SquareCrop, crop_square
from support.vision_media import (
    CREMAD_CLIP,
    RAVDESS_AV,
    detector,
    landmarker,
    ravdess,
    require_blazeface,
    require_file,
    segment,
)


def test_square_crop_maps_a_drawn_point_both_ways():
    img = np.zeros((200, 300, 3), np.uint8)
    cv2.circle(img, (200, 80), 3, (255, 255, 255), -1)  # pixel centre (200, 80) = continuous (200.5, 80.5)
    crop = SquareCrop(centre=(180.0, 100.0), side=80.0, angle=math.radians(30), out_size=64)
    out = crop_square(img, crop)
    ys, xs = np.nonzero(out[:, :, 0] > 100)
    found = crop.to_image(np.array([[xs.mean() + 0.5, ys.mean() + 0.5]]))[0]
    assert np.allclose(found, [200.5, 80.5], atol=0.6)


def test_square_crop_shrinking_a_lot_keeps_positions():
    img = np.zeros((1000, 1000, 3), np.uint8)
    img[400:600, 300:500] = 255  # a white square centred at continuous (400, 500)
    crop = SquareCrop(centre=(400.0, 500.0), side=800.0, angle=0.0, out_size=80)  # 10x area shrink first
    out = crop_square(img, crop).astype(float)[:, :, 0]
    ys, xs = np.nonzero(out > 127)
    assert abs(xs.mean() + 0.5 - 40) < 0.6 and abs(ys.mean() + 0.5 - 40) < 0.6
    assert abs((out > 127).sum() - 400) < 40  # 20 x 20 output pixels


def test_alignment_without_keypoints_does_not_rotate():
    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    face = Face(box=(40.0, 20.0, 100.0, 80.0), score=1.0)
    out = aligned_face(img, face, 60, margin=0.0)
    assert np.abs(out.astype(int) - img[20:80, 40:100]).mean() < 1.0
    assert np.array_equal(out, aligned_face(img, face, 60, margin=0.0))
    with pytest.raises(ValueError, match="size"):
        aligned_face(img, face, 0)


@pytest.mark.parametrize("name", RAVDESS_AV)
def test_landmarks_inside_the_face_and_eyes_match_keypoints(shared_data, name):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, name, n=5)
    for rgb in frames:
        face = detector().detect(rgb)[0]
        lm = landmarker().landmarks(rgb, face)
        assert lm.shape == (468, 3) and np.isfinite(lm).all()
        assert landmarker().last_presence > 0.9
        x0, y0, x1, y1 = face.box
        pad = 0.1 * face.width
        inside = (lm[:, 0] > x0 - pad) & (lm[:, 0] < x1 + pad) & (lm[:, 1] > y0 - pad) & (lm[:, 1] < y1 + pad)
        assert inside.mean() > 0.97
        right, left = eye_centres(lm)
        assert np.linalg.norm(right - face.keypoints[0]) < 0.06 * face.width
        assert np.linalg.norm(left - face.keypoints[1]) < 0.06 * face.width


def test_cremad_landmarks(shared_data):
    require_blazeface()
    frames, _, _ = segment(str(require_file(shared_data / CREMAD_CLIP)), 5)
    openings = []
    for rgb in frames:
        face = detector().detect(rgb)[0]
        lm = landmarker().landmarks(rgb, face)
        x0, y0, x1, y1 = face.box
        inside = (lm[:, 0] > x0 - 10) & (lm[:, 0] < x1 + 10) & (lm[:, 1] > y0 - 10) & (lm[:, 1] < y1 + 10)
        assert inside.mean() > 0.97
        openings.append(mouth_opening(lm))
    assert max(openings) - min(openings) > 0.05  # "Don't forget a jacket", angrily


@pytest.mark.parametrize("name", RAVDESS_AV)
def test_mouth_opening_moves_while_speaking(shared_data, name):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, name, n=9)
    openings = np.array([mouth_opening(landmarker().landmarks(f, detector().detect(f)[0])) for f in frames])
    assert ((openings >= 0) & (openings < 0.6)).all()
    assert openings.std() > 0.01 and np.ptp(openings) > 0.04
    # the same frame again gives the same landmarks: no hidden state between calls
    again = mouth_opening(landmarker().landmarks(frames[4], detector().detect(frames[4])[0]))
    assert again == pytest.approx(openings[4], abs=1e-9)


def _rotated(rgb: np.ndarray, degrees: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


@pytest.mark.parametrize("degrees", [15, -15])
def test_aligned_crop_of_a_rotated_frame_matches_the_upright_one(shared_data, degrees):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, RAVDESS_AV[1], n=5)
    for rgb in frames[1:4]:
        upright = detector().detect(rgb)[0]
        tilted_rgb = _rotated(rgb, degrees)
        tilted = detector().detect(tilted_rgb)[0]
        assert abs(math.degrees(tilted.eye_angle - upright.eye_angle) + degrees) < 6
        lm_up, lm_tilt = landmarker().landmarks(rgb, upright), landmarker().landmarks(tilted_rgb, tilted)
        mesh_up = aligned_face(rgb, upright, 112, landmarks=lm_up)
        mesh_tilt = aligned_face(tilted_rgb, tilted, 112, landmarks=lm_tilt)
        kp_up, kp_tilt = aligned_face(rgb, upright, 112), aligned_face(tilted_rgb, tilted, 112)
        box = [round(v) for v in tilted.box]
        unaligned = cv2.resize(tilted_rgb[box[1] : box[3], box[0] : box[2]], (112, 112), interpolation=cv2.INTER_AREA)
        box = [round(v) for v in upright.box]
        unaligned_up = cv2.resize(rgb[box[1] : box[3], box[0] : box[2]], (112, 112), interpolation=cv2.INTER_AREA)
        assert _difference(mesh_up, mesh_tilt) < 8  # about 2 is what rotating the frame itself costs
        assert _difference(kp_up, kp_tilt) < 0.7 * _difference(unaligned_up, unaligned)
        level = detector("short").detect(mesh_tilt)
        assert len(level) == 1 and abs(math.degrees(level[0].eye_angle)) < 5


def test_aligned_crops_are_deterministic(shared_data):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, RAVDESS_AV[0], n=3)
    face = detector().detect(frames[1])[0]
    lm = landmarker().landmarks(frames[1], face)
    a = aligned_face(frames[1], face, 96, landmarks=lm)
    assert a.dtype == np.uint8 and a.shape == (96, 96, 3)
    assert np.array_equal(a, aligned_face(frames[1], face, 96, landmarks=lm))
    assert np.array_equal(aligned_face(frames[1], face, 96), aligned_face(frames[1], face, 96))


def test_landmarks_from_a_haar_box_agree_with_blazeface(shared_data):
    require_blazeface()
    from emorec.vision import HaarFaceDetector

    frames, _, _ = ravdess(shared_data, RAVDESS_AV[2], n=3)
    rgb = frames[1]
    haar, blaze = HaarFaceDetector().detect(rgb)[0], detector().detect(rgb)[0]
    a, b = landmarker().landmarks(rgb, haar), landmarker().landmarks(rgb, blaze)
    assert np.abs(a[:, :2] - b[:, :2]).mean() < 0.03 * blaze.width
    crop = aligned_face(rgb, haar, 64)  # no keypoints: unrotated box crop
    assert crop.shape == (64, 64, 3)
