"""Frame selection, exact decoding and crops (emorec.media.video), on videos drawn here.

The helpers `coded_video` / `read_code` are also used by the other test_preprocess_* files.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from emorec.media.crops import FaceFinder, crop_frame
from emorec.media.video import VideoError, frame_window, pick_frames, probe, read_frames
from support.media import BITS, BLOCK, coded_frame, coded_video, read_code, sequential  # noqa: F401


def test_window_and_middle_frame_of_the_thesis_example():
    a, b = frame_window(3.05, 7.06, 30.0, 9000)
    assert (a, b) == (91, 211)
    assert pick_frames(a, b) == [151]


def test_window_floor_is_robust_to_float_error():
    assert frame_window(4.1, 4.1, 30.0, 1000) == (123, 123)  # 4.1 * 30 = 122.99999999999999
    assert frame_window(None, None, 29.97, 93) == (0, 92)


def test_middle_frame_is_clamped_to_the_last_frame():
    assert pick_frames(280, 330, 1, last=299) == [299]
    assert pick_frames(200, 330, 1, last=299) == [265]
    assert pick_frames(10, 10) == [10]
    with pytest.raises(ValueError):
        pick_frames(5, 4)


def test_k_frames_are_evenly_spaced_inside_the_window():
    assert pick_frames(0, 90, 3) == [15, 45, 75]
    assert pick_frames(91, 211, 4) == [106, 136, 166, 196]
    for a, b in [(0, 0), (3, 7), (100, 101), (91, 211)]:
        for k in (1, 2, 5):
            got = pick_frames(a, b, k)
            assert len(got) == k and got == sorted(got) and a <= got[0] and got[-1] <= b
        assert pick_frames(a, b, 1) == [(a + b) // 2]


# --- exact decoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kw",
    [
        ("gop12.avi", dict(gop=12)),
        ("gop30_bframes.avi", dict(gop=30, bframes=2)),
        ("gop250_bframes.avi", dict(gop=250, bframes=2, n=300)),
        ("h264.mp4", dict(gop=25, bframes=2, codec="libx264")),
    ],
)
def test_read_frames_equals_a_full_sequential_decode(tmp_path, name, kw):
    path = coded_video(tmp_path / name, **kw)
    full = sequential(path)
    n = len(full)
    assert [read_code(f) for f in full] == list(range(n))  # the code survives compression
    wanted = [0, 1, 5, 13, 14, 40, 41, n // 2, n - 30, n - 2, n - 1]
    for threads in (None, True):  # None: frame threads only for long keyframe gaps; True: always
        got = read_frames(path, wanted, threads=threads)
        assert not got.error and got.last_index == n - 1
        for i in wanted:
            assert np.array_equal(got.frames[i], full[i]), f"frame {i} differs (threads={threads})"
        assert got.decoded <= n + 12  # one pass, not one per frame


@pytest.mark.parametrize("codec,suffix", [("mpeg4", "avi"), ("libx264", "mp4")])
def test_several_passes_at_once_give_the_frames_of_one_pass(tmp_path, codec, suffix):
    from emorec.media.video import scaled_rgb

    path = coded_video(tmp_path / f"v.{suffix}", n=240, gop=12, bframes=2, codec=codec)
    wanted = sorted({3, 4, 17, 30, 31, 58, 90, 91, 120, 121, 150, 170, 200, 210, 238, 239, 300})
    convert = scaled_rgb(96, 48)  # a converter with state, shared by the passes' threads
    one = read_frames(path, wanted, convert=convert)
    two = read_frames(path, wanted, convert=convert, passes=2)
    assert sorted(two.frames) == sorted(one.frames) == [i for i in wanted if i < 240]
    for i in one.frames:
        assert np.array_equal(two.frames[i], one.frames[i]), i
    assert (two.last_index, two.error) == (one.last_index, one.error) == (239, "")
    few = read_frames(path, [5, 100], passes=2)  # too few frames to split: one pass
    assert sorted(few.frames) == [5, 100] and few.seeks <= 1


def test_a_pass_ending_on_an_error_ends_the_joined_read():
    from emorec.media.video import FrameRead, VideoInfo, _joined

    info = VideoInfo(fps=30.0, n_frames=100, width=8, height=8, declared=True)
    first = FrameRead(info=info, frames={1: "a", 2: "b"}, last_index=40, error="InvalidDataError: x")
    later = FrameRead(info=info, frames={80: "c"}, last_index=99)
    joined = _joined([first, later])
    assert joined.frames == {1: "a", 2: "b"} and joined.error.startswith("InvalidDataError")
    assert joined.last_index == 40


def test_frame_threads_only_for_long_keyframe_gaps(tmp_path):

    from emorec.media.video import _keyframe_timestamps, _long_gops

    for gop, expected in ((12, False), (90, True)):
        path = coded_video(tmp_path / f"g{gop}.avi", n=400, gop=gop)
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            assert _long_gops(_keyframe_timestamps(stream), stream, 30.0) is expected, gop
        got = read_frames(path, [5, 200, 399])
        assert [read_code(got.frames[i]) for i in (5, 200, 399)] == [5, 200, 399]


def test_a_files_keyframe_list_is_read_once_until_the_file_changes(tmp_path, monkeypatch):
    import os

    from emorec.media import video

    calls = []
    real = video._keyframe_timestamps
    monkeypatch.setattr(video, "_keyframe_timestamps", lambda stream: calls.append(1) or real(stream))
    path = coded_video(tmp_path / "v.avi", n=300, gop=12)
    for _ in range(3):  # three reads, the second and third in two passes each
        got = read_frames(path, [7, 100, 150, 290, *range(20, 260, 15)], passes=2)
        assert [read_code(got.frames[i]) for i in (7, 100, 290)] == [7, 100, 290]
    assert len(calls) == 1
    coded_video(path, n=200, gop=10)  # rewritten: another size, another list
    os.utime(path, ns=(1, 1))
    got = read_frames(path, [5, 150, 199])
    assert len(calls) == 2 and [read_code(got.frames[i]) for i in (5, 150, 199)] == [5, 150, 199]


def test_read_frames_seeks_over_long_gaps(tmp_path):
    path = coded_video(tmp_path / "long.avi", n=600, gop=12)
    got = read_frames(path, [3, 290, 590])
    assert got.seeks >= 2 and got.decoded < 100
    assert [read_code(got.frames[i]) for i in (3, 290, 590)] == [3, 290, 590]


def test_indices_past_the_end_stay_missing(tmp_path):
    path = coded_video(tmp_path / "v.avi", n=60)
    got = read_frames(path, [10, 59, 75])
    assert sorted(got.frames) == [10, 59] and got.last_index == 59


def test_probe_and_bad_files(tmp_path):
    path = coded_video(tmp_path / "v.avi", n=45, fps=30)
    info = probe(path)
    assert (info.fps, info.n_frames, info.width, info.height, info.declared) == (30.0, 45, 192, 96, True)
    with pytest.raises(VideoError) as e:
        probe(tmp_path / "nope.avi")
    assert e.value.reason == "missing video"
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF" + b"\x00" * 200)
    with pytest.raises(VideoError) as e:
        read_frames(junk, [0])
    assert e.value.reason == "unreadable video"


def test_truncated_video_decodes_what_is_there(tmp_path):
    path = coded_video(tmp_path / "v.avi", n=200, w=320, h=240)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    assert info.n_frames == 200  # the header still announces all frames
    got = read_frames(cut, [5, 50, 190])
    assert 5 in got.frames and read_code(got.frames[5]) == 5
    assert 190 not in got.frames and got.last_index < 190


# --- crops -------------------------------------------------------------------------------------------------


def test_speaker_crop_takes_the_speakers_half():
    img = coded_frame(0, 200, 100)
    body = (slice(20, 32), slice(None))  # the coloured lower part of the 32x32 crops
    left, _ = crop_frame(img, "speaker", "left", 32)
    right, _ = crop_frame(img, "speaker", "right", 32)
    full, _ = crop_frame(img, "speaker", "full", 32)
    assert left.shape == right.shape == full.shape == (32, 32, 3)
    assert left[body][..., 0].mean() > 150 and left[body][..., 2].mean() < 80  # red half
    assert right[body][..., 2].mean() > 150 and right[body][..., 0].mean() < 80  # blue half
    assert abs(full[body][..., 0].mean() - full[body][..., 2].mean()) < 10  # both halves
    assert np.array_equal(crop_frame(img, "left", "right", 32)[0], left)
    assert np.array_equal(crop_frame(img, "right", "left", 32)[0], right)
    assert np.array_equal(crop_frame(img, "full", "left", 32)[0], full)


def test_face_crop_falls_back_to_the_half_without_a_face():
    img = coded_frame(0, 200, 100)
    out, found = crop_frame(img, "face", "left", 32, FaceFinder())
    assert found is False
    assert np.array_equal(out, crop_frame(img, "speaker", "left", 32)[0])
