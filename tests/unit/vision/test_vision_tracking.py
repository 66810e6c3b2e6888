"""Linking per-frame detections into tracks (made-up boxes), and tracks over real RAVDESS frames."""

from __future__ import annotations

import numpy as np
import pytest

from emorec.vision import Face, Track, link_detections, track_faces
from support.vision_media import RAVDESS_AV, detector, ravdess, require_blazeface, side_by_side


def _face(cx: float, cy: float, side: float = 100.0) -> Face:
    return Face(box=(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), score=0.9)


def test_two_moving_faces_keep_their_tracks_through_a_miss():
    frames = []
    for i in range(7):
        left, right = _face(200 + 30 * i, 300), _face(900 - 20 * i, 320, 140)
        faces = [right, left] if i != 3 else [right]  # the left face is missed in frame 3
        if i == 5:
            faces.append(_face(600, 50, 30))  # a one-frame false hit
        frames.append(faces)
    tracks = link_detections(frames, min_presence=0.5)
    assert len(tracks) == 2
    big, small = tracks  # largest first
    assert all(f is not None and f.width == 140 for f in big.faces)
    assert small.faces[3] is None and small.frames_seen == [0, 1, 2, 4, 5, 6]
    assert [round(f.centre[0]) for f in small.faces if f is not None] == [200, 230, 260, 320, 350, 380]
    assert small.face_at(3) is small.faces[2]  # nearest seen frame, earlier on ties
    assert small.middle_index == 2 and big.middle_index == 3
    assert len(link_detections(frames, min_presence=0.0)) == 3


def test_a_jump_larger_than_the_face_starts_a_new_track():
    frames = [[_face(100, 100)], [_face(115, 100)], [_face(400, 100)]]
    tracks = link_detections(frames)
    assert len(tracks) == 2
    assert tracks[0].frames_seen == [0, 1] and tracks[1].frames_seen == [2]


def test_sparse_frames_link_by_centre_distance_when_boxes_do_not_overlap():
    # 40 px apart at a 100 px face: IoU 0.43 -> 0.25 -> too low, but the centres stay close
    frames = [[_face(100 + 45 * i, 100)] for i in range(4)]
    tracks = link_detections(frames, min_iou=0.5)
    assert len(tracks) == 1 and tracks[0].presence == 1.0


def test_empty_track_has_no_middle():
    track = Track(faces=[None, None])
    assert track.presence == 0 and track.mean_area == 0
    with pytest.raises(ValueError, match="empty track"):
        track.face_at(0)


def test_tracks_over_a_real_clip_and_their_crops(shared_data):
    require_blazeface()
    frames, _, _ = ravdess(shared_data, RAVDESS_AV[2], n=7)
    tracks = track_faces(frames, detector())
    assert len(tracks) == 1 and tracks[0].presence == 1.0
    crop = tracks[0].crop(frames, 64)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    crops = tracks[0].crops(frames, 64)
    assert len(crops) == 7 and np.array_equal(crops[tracks[0].middle_index], crop)
    assert float(np.std([c.mean() for c in crops])) < 10  # the same face, lit alike, in every crop


def test_two_people_give_two_tracks_that_do_not_swap(shared_data):
    require_blazeface()
    a, _, _ = ravdess(shared_data, RAVDESS_AV[0], n=7)
    b, _, _ = ravdess(shared_data, RAVDESS_AV[2], n=7)
    frames = [side_by_side(x, y) for x, y in zip(a, b[::-1])]
    tracks = track_faces(frames, detector())
    assert len(tracks) == 2
    mid = a[0].shape[1]
    for track in tracks:
        sides = {f.centre[0] < mid for f in track.faces if f is not None}
        assert len(sides) == 1 and track.presence == 1.0


def test_unreadable_media_names_the_file(tmp_path):
    from emorec.media.audio import AudioError
    from emorec.media.video import VideoError
    from emorec.vision import read_audio_energy, read_segment_frames

    missing, broken = tmp_path / "missing.mp4", tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    for path in (missing, broken):
        with pytest.raises(VideoError, match=path.name):
            read_segment_frames(path, n=5)
        with pytest.raises(AudioError, match=path.name):
            read_audio_energy(path)
    with pytest.raises(ValueError, match="n must be"):
        read_segment_frames(broken, n=0)
