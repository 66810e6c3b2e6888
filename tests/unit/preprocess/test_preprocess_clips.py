"""The "one clip = one utterance" path on real clips: RAVDESS (H.264 MP4 + AAC) and CREMA-D (VP6 FLV + MP3)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from emorec.corpora.records import Utterance
from emorec.media.video import frame_window, pick_frames, probe
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.run import preprocess_utterances


def clip_utterances(shared: Path) -> list[Utterance]:
    clips = sorted((shared / "ravdess_av").glob("*.mp4")) + [shared / "cremad" / "1001_DFA_ANG_XX.flv"]
    for c in clips:
        if not c.is_file():
            pytest.skip(f"missing test clip {c}")
    return [
        Utterance(
            utt_id=c.stem,
            corpus="clips",
            label=c.stem.split("-")[2] if c.suffix == ".mp4" else "ANG",
            text="Kids are talking by the door" if c.suffix == ".mp4" else "Don't forget a jacket",
            dialog=c.name,
            side="full",
            video_path=str(c),
            audio_path=str(c),
        )
        for c in clips
    ]


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        return sum(f.samples for f in c.decode(s)) / s.sample_rate


def test_generic_clips_preprocess_whole(shared_data, tmp_path):
    utts = clip_utterances(shared_data)
    cfg = PreprocessConfig(
        corpus="clips",
        out=str(tmp_path),
        crop="full",
        frame_size=64,
        egemaps=True,
        spec_size=(64, 128),
        n_mels=64,
        max_audio_seconds=4.0,
        max_length=16,
    )
    fs = preprocess_utterances(utts, cfg, progress=False)
    m = fs.manifest
    assert (m["status"] == "ok").all(), m[["utt_id", "status"]]
    for i, u in enumerate(utts):
        info = probe(u.video_path)
        (mid,) = pick_frames(*frame_window(None, None, info.fps, info.n_frames), 1, info.n_frames - 1)
        assert m.loc[i, "frame_indices"] == str(mid)
        with av.open(u.video_path) as c:
            full = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][mid]
        expected = cv2.resize(full, (64, 64), interpolation=cv2.INTER_AREA).astype(int)
        assert np.abs(fs.array("frames")[i, 0].astype(int) - expected).mean() < 3, u.utt_id
        assert m.loc[i, "audio_seconds"] == pytest.approx(audio_seconds(Path(u.audio_path)), abs=0.05)
    spec = np.asarray(fs.array("spec"), np.float32)
    assert spec.shape == (4, 3, 64, 128) and np.isfinite(spec).all()
    assert (m["spec_valid"] < 128).all() and (m["spec_valid"] > 60).all()  # 2.3-3.3 s of 4 s
    eg = fs.array("egemaps")
    assert eg.shape == (4, 88) and np.isfinite(eg).all() and (np.abs(eg).sum(axis=1) > 0).all()


def test_face_crop_finds_the_actors(shared_data, tmp_path):
    utts = clip_utterances(shared_data)
    cfg = PreprocessConfig(corpus="clips", out=str(tmp_path), crop="face", frame_size=48, modalities=["frame"])
    fs = preprocess_utterances(utts, cfg, progress=False)
    assert fs.manifest["face_found"].all()
    assert "notes" in fs.summary and not fs.summary["notes"]
    # a face crop is mostly skin: redder than the green CREMA-D screen or the RAVDESS white wall around it
    crops = np.asarray(fs.array("frames"))[:, 0, 12:36, 12:36].astype(int)
    assert (crops[..., 0].mean(axis=(1, 2)) > crops[..., 2].mean(axis=(1, 2))).all()
