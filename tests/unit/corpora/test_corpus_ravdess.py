"""RAVDESS reader on the real speech and audio-visual folders and on a look-alike tree with bad names."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from emorec.corpora import ravdess
from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from support.paths import SHARED_DATA as DATA

NAMES = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust", 8: "surprised"}


def _folder(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


def test_real_speech_folder():
    root = _folder("ravdess_speech")
    files = sorted(root.glob("Actor_*/*.wav"))
    data = read_corpus("ravdess", str(root))
    assert data.problems == []
    assert len(files) == len(data.utterances) == 720
    by_actor = Counter(u.group for u in data.utterances)
    assert len(by_actor) == 12 and set(by_actor.values()) == {60}
    expected = Counter(NAMES[int(f.stem.split("-")[2])] for f in files)
    assert Counter(u.label for u in data.utterances) == expected
    assert expected["neutral"] == 48 and expected["calm"] == 96
    for u in data.utterances:
        actor = int(u.utt_id[-2:])
        assert u.speaker == f"Actor_{actor:02d}" and u.group == f"{actor:02d}"
        assert u.gender == ("M" if actor % 2 else "F")
        assert u.audio_path.endswith(u.utt_id + ".wav") and u.video_path == "" and u.side == "full"
        assert u.text == ("Kids are talking by the door" if u.utt_id[12:14] == "01" else "Dogs are sitting by the door")
    assert [u.order for u in data.utterances] == list(range(720))
    assert [u.speaker for u in data.utterances[:60]] == ["Actor_01"] * 60
    kept, dropped = get_label_set("ravdess8").apply(data.utterances)
    assert len(kept) == 720 and not dropped


def test_real_speech_folder_filters():
    root = _folder("ravdess_speech")
    assert ravdess.read(root, channel="song").utterances == []
    assert ravdess.read(root, modalities=("av", "video")).utterances == []
    assert len(ravdess.read(root, modalities="audio", channel="both").utterances) == 720


def test_real_audio_visual_folder():
    root = _folder("ravdess_av")
    data = ravdess.read(root)
    assert data.problems == []
    assert [(u.utt_id, u.label) for u in data.utterances] == [
        ("01-01-01-01-02-01-05", "neutral"),
        ("01-01-03-01-01-02-05", "happy"),
        ("01-01-06-01-01-01-05", "fearful"),
    ]
    for u in data.utterances:
        assert u.video_path == u.audio_path == str(root / f"{u.utt_id}.mp4")
        assert (u.speaker, u.group, u.gender) == ("Actor_05", "05", "M")
    assert ravdess.read(root, modalities=("audio",)).utterances == []


def test_lookalike_tree_reports_bad_names(tmp_path):
    actor = tmp_path / "Actor_02"
    actor.mkdir()
    good = [
        "03-01-05-02-01-01-02.wav",
        "01-01-04-01-02-02-02.mp4",
        "02-01-04-01-02-02-02.mp4",
        "03-02-03-01-01-01-02.wav",
    ]
    bad = {
        "03-01-09-01-01-01-02.wav": "emotion code 09",
        "03-01-05-01-01-01-03.wav": "actor 03 in folder Actor_02",
        "03-01-05-01-01-01.wav": "not MM-VV",
        "01-01-05-01-01-01-02.wav": "should be a .mp4",
        "04-01-05-01-01-01-02.wav": "modality code 04",
        "03-01-05-01-01-01-30.wav": "outside 01-24",
    }
    for name in good + list(bad):
        (actor / name).write_bytes(b"\0" * 8)
    (actor / "03-01-06-01-01-01-02.wav").write_bytes(b"")
    (actor / "._03-01-05-02-01-01-02.wav").write_bytes(b"x")  # AppleDouble: ignored
    (actor / "readme.txt").write_text("not media")
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / good[0]).write_bytes(b"\0" * 8)

    data = ravdess.read(tmp_path, channel="both")
    assert [u.utt_id for u in data.utterances] == sorted(Path(n).stem for n in good)
    by_id = {u.utt_id: u for u in data.utterances}
    video_only = by_id["02-01-04-01-02-02-02"]
    assert video_only.audio_path == "" and video_only.video_path.endswith(".mp4")
    av = by_id["01-01-04-01-02-02-02"]
    assert av.audio_path == av.video_path and av.text == "Dogs are sitting by the door" and av.gender == "F"
    assert by_id["03-02-03-01-01-01-02"].label == "happy"
    problems = {Path(p.file).name: p.reason for p in data.problems}
    for name, fragment in bad.items():
        assert fragment in problems.pop(name), name
    assert problems.pop("03-01-06-01-01-01-02.wav").startswith("empty file")
    assert problems.pop(good[0]).startswith("duplicate")
    assert problems == {}
    speech = ravdess.read(tmp_path, modalities=("audio",))
    assert [u.utt_id for u in speech.utterances] == ["03-01-05-02-01-01-02"]


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="channel"):
        ravdess.read(tmp_path, channel="speach")
    with pytest.raises(ValueError, match="modalities"):
        ravdess.read(tmp_path, modalities=("sound",))
    with pytest.raises(FileNotFoundError, match="no RAVDESS"):
        ravdess.read(tmp_path)
