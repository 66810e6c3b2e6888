"""Active speaker: energy curves and correlation on made-up signals, then real RAVDESS speech beside a frozen
frame of the same actor (both placements), with the clip's own audio."""

from __future__ import annotations

import numpy as np
import pytest

from emorec.vision import EnergyCurve, Face, Track, active_speaker, track_faces
from emorec.vision.speaker import correlation
from support.vision_media import RAVDESS_AV, detector, landmarker, ravdess, require_blazeface, side_by_side


def test_energy_curve_follows_a_tone_burst():
    sr = 16000
    t = np.arange(2 * sr) / sr
    y = np.where((t > 0.5) & (t < 1.0), 0.5 * np.sin(2 * np.pi * 220 * t), 0.0)
    curve = EnergyCurve.from_samples(y, sr, start_time=10.0)
    quiet, loud = curve.at([10.2, 11.5]), curve.at([10.75])
    assert loud[0] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert (quiet < 1e-6).all()
    assert curve.times[0] == pytest.approx(10.02)


def test_correlation_handles_gaps_and_constants():
    a = np.array([0.1, 0.3, np.nan, 0.2, 0.5])
    assert correlation(a, 2 * a + 1) == pytest.approx(1.0)
    assert correlation(a, np.ones(5)) == 0.0
    assert correlation(np.array([np.nan, 1.0, 2.0]), np.arange(3.0)) == 0.0


def test_choice_without_landmarks_or_with_one_face_is_by_size():
    small, big = Track(faces=[Face((0, 0, 10, 10), 0.9)]), Track(faces=[Face((0, 0, 30, 30), 0.9)])
    frames = [np.zeros((40, 40, 3), np.uint8)]
    index, info = active_speaker([small, big], frames)
    assert index == 1 and info["method"] == "largest"
    index, info = active_speaker([small], frames)
    assert index == 0 and info["method"] == "single"
    with pytest.raises(ValueError, match="no face tracks"):
        active_speaker([], frames)
    with pytest.raises(ValueError, match="one entry per frame"):
        active_speaker([small, big], frames * 2)
    with pytest.raises(ValueError, match="values for 1 frames"):
        active_speaker([small, big], frames, audio_energy=[1.0, 2.0])


def _composite(shared_data, name: str, speaker_on_left: bool):
    frames, times, energy = ravdess(shared_data, name, n=9)
    still = frames[len(frames) // 2]
    pairs = [(f, still) if speaker_on_left else (still, f) for f in frames]
    return [side_by_side(a, b) for a, b in pairs], times, energy, frames[0].shape[1]


@pytest.mark.parametrize("name", RAVDESS_AV)
@pytest.mark.parametrize("speaker_on_left", [True, False])
def test_the_speaking_face_beats_a_frozen_copy(shared_data, name, speaker_on_left):
    require_blazeface()
    frames, times, energy, mid = _composite(shared_data, name, speaker_on_left)
    tracks = track_faces(frames, detector())
    assert len(tracks) == 2
    index, info = active_speaker(tracks, frames, times, energy, landmarker=landmarker())
    assert info["method"] == "lips+audio"
    chosen_left = tracks[index].face_at(0).centre[0] < mid
    assert chosen_left == speaker_on_left, info
    frozen = 1 - index
    assert info["motion"][frozen] < 0.005 < info["motion"][index]
    # per-frame energies are accepted as well as a curve
    again, _ = active_speaker(tracks, frames, audio_energy=energy.at(times), landmarker=landmarker())
    assert again == index


def test_two_frozen_faces_fall_back_to_the_largest(shared_data):
    require_blazeface()
    frames, times, energy = ravdess(shared_data, RAVDESS_AV[0], n=5)
    still = side_by_side(frames[2], frames[2][::2, ::2].copy())
    still_frames = [still] * 5
    tracks = track_faces(still_frames, detector())
    assert len(tracks) == 2
    index, info = active_speaker(tracks, still_frames, times, energy, landmarker=landmarker())
    assert info["method"] == "largest" and index == int(np.argmax(info["area"]))
