"""Config hashing/loading, the store layout and FeatureStore API, on a small corpus of media drawn here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from emorec.corpora.records import Utterance
from emorec.preprocess.config import PreprocessConfig, config_from_mapping, load_config
from emorec.preprocess.run import plan_units, preprocess_utterances
from emorec.preprocess.store import FeatureStore, StoreError
from support.media import coded_video, read_code

FPS = 30


def small_corpus(tmp_path, n_dialogs=2) -> list[Utterance]:
    """Dialogs of 6 s coded video + 16 kHz tone wav; four utterances each, left/right/full sides."""
    utts = []
    for d in range(n_dialogs):
        video = coded_video(tmp_path / f"d{d}.avi", n=6 * FPS, w=256, h=128)
        wav = tmp_path / f"d{d}.wav"
        t = np.arange(6 * 16000) / 16000
        sf.write(str(wav), (0.2 * np.sin(2 * np.pi * (200 + 100 * d) * t)).astype(np.float32), 16000)
        for k, (start, end, side, text) in enumerate(
            [
                (0.5, 1.5, "left", "Excuse me."),
                (1.2, 3.05, "right", "Do you [LAUGHTER] have your forms?"),
                (3.05, 5.5, "full", "Yes."),
                (5.5, 7.5, "left", ""),  # empty transcript; the window runs past the end of the media
            ]
        ):
            utts.append(
                Utterance(
                    utt_id=f"d{d}_u{k}",
                    corpus="toy",
                    label="neu",
                    start=start,
                    end=end,
                    text=text,
                    dialog=f"d{d}",
                    side=side,
                    video_path=str(video),
                    audio_path=str(wav),
                    order=len(utts),
                )
            )
    return utts


def test_config_hash_ignores_out_and_tracks_everything_else(tmp_path):
    a = PreprocessConfig(corpus="iemocap", root=str(tmp_path), out="x")
    assert a.config_hash() == PreprocessConfig(corpus="iemocap", root=str(tmp_path), out="y").config_hash()
    assert len(a.config_hash()) == 12
    for change in (
        dict(frame_size=112),
        dict(crop="face"),
        dict(spec_size=(64, 128)),
        dict(tags="map"),
        dict(modalities=["audio"]),
        dict(root=str(tmp_path / "other")),
        dict(corpus_options={"sessions": [1]}),
    ):
        fields = {"corpus": "iemocap", "root": str(tmp_path), **change}
        assert PreprocessConfig(**fields).config_hash() != a.config_hash(), change
    assert a.store_dir().name == f"iemocap-{a.config_hash()}"
    # settings of kinds the store does not hold (faces off, ComParE off) do not rename it; once held, they do
    for unused in (dict(face_size=64), dict(face_detector="short")):
        assert PreprocessConfig(corpus="iemocap", root=str(tmp_path), **unused).config_hash() == a.config_hash()
        held = PreprocessConfig(corpus="iemocap", root=str(tmp_path), faces=True)
        assert PreprocessConfig(corpus="iemocap", root=str(tmp_path), faces=True, **unused).config_hash() != (
            held.config_hash()
        )
    assert PreprocessConfig(corpus="iemocap", root=str(tmp_path), compare=True).config_hash() != a.config_hash()
    text_only = dict(corpus="iemocap", root=str(tmp_path), modalities=["text"])
    assert PreprocessConfig(**text_only, n_mels=32).config_hash() == PreprocessConfig(**text_only).config_hash()
    assert a.store_dir(limit=20).name == f"iemocap-{a.config_hash()}-limit20"
    assert PreprocessConfig(modalities=["text", "frame", "text"]).modalities == ["frame", "text"]
    with pytest.raises(ValueError):
        PreprocessConfig(modalities=["smell"])
    with pytest.raises(ValueError):
        PreprocessConfig(crop="top")


def test_config_from_yaml_layouts(tmp_path):
    top = tmp_path / "top.yaml"
    top.write_text(yaml.safe_dump({"corpus": "meld", "root": "/data/meld", "frame_size": 96}))
    assert load_config(top).frame_size == 96 and load_config(top).corpus == "meld"
    block = tmp_path / "block.yaml"
    block.write_text(yaml.safe_dump({"preprocess": {"corpus": "ravdess", "root": "r", "crop": "face"}}))
    assert load_config(block).crop == "face"
    experiment = {
        "name": "x",
        "corpus": {"name": "iemocap", "root": "/data/iemocap", "options": {"sessions": [1, 2]}},
        "store_dir": "runs/s",
        "preprocess": {"frame_size": 64},
        "models": {"audio": {"arch": "cnn"}, "text": {"arch": "minilm", "enabled": False}},
    }
    cfg = config_from_mapping(experiment)
    assert (cfg.corpus, cfg.root, cfg.corpus_options, cfg.out) == (
        "iemocap",
        "/data/iemocap",
        {"sessions": [1, 2]},
        "runs/s",
    )
    assert cfg.modalities == ["audio"] and cfg.frame_size == 64
    bad = tmp_path / "bad.yaml"
    bad.write_text("preprocess: {frame_size: -3}\n")
    with pytest.raises(ValueError, match="bad.yaml"):
        load_config(bad)


def test_units_group_rows_by_dialog_in_first_appearance_order(tmp_path):
    u = [Utterance(utt_id=str(i), corpus="c", label="x", dialog=d) for i, d in enumerate("ababc")]
    assert plan_units(u) == [("a", [0, 2]), ("b", [1, 3]), ("c", [4])]


def test_store_rows_statuses_and_arrays(tmp_path):
    utts = small_corpus(tmp_path)
    cfg = PreprocessConfig(
        corpus="toy",
        out=str(tmp_path / "stores"),
        frame_size=32,
        spec_size=(32, 64),
        n_mels=32,
        max_audio_seconds=3.0,
        max_length=16,
        audio_source="dialog",
    )
    fs = preprocess_utterances(utts, cfg, progress=False)
    m = fs.manifest
    assert fs.path == cfg.store_dir() and (fs.path / "complete").is_file() and not (fs.path / "shards").exists()
    assert m["utt_id"].tolist() == [u.utt_id for u in utts] and len(fs) == 8
    for col in [
        "utt_id",
        "order",
        "corpus",
        "label",
        "text",
        "speaker",
        "group",
        "dialog",
        "session",
        "gender",
        "side",
        "split",
        "start",
        "end",
        "status_frame",
        "status_audio",
        "status_text",
        "status",
        "video_path",
        "evaluators",
    ]:
        assert col in m.columns, col
    assert m["status_frame"].eq("ok").all() and m["status_audio"].eq("ok").all()
    assert m.loc[m.utt_id == "d0_u3", "status_text"].item() == "empty transcript"
    assert m.loc[m.utt_id == "d0_u3", "status"].item() == "empty transcript"
    assert (m["status"] == "ok").sum() == 6
    # middle frames: floor(start*30), floor(end*30), clamped to the last frame (179)
    assert m["frame_indices"].tolist()[:4] == ["30", "63", "128", "179"]
    assert m["audio_seconds"].tolist()[3] == pytest.approx(0.5)
    frames, spec = fs.array("frames"), fs.array("spec")
    assert isinstance(frames, np.memmap) and frames.shape == (8, 1, 32, 32, 3) and frames.dtype == np.uint8
    assert spec.shape == (8, 3, 32, 64) and spec.dtype == np.float16 and np.isfinite(spec).all()
    assert fs.array("input_ids").shape == (8, 16) and fs.array("input_ids").dtype == np.int32
    assert fs.array("attention_mask").dtype == np.uint8
    assert not fs.array("input_ids")[3].any() and fs.array("attention_mask")[0].sum() > 2
    assert not fs.has("egemaps")
    with pytest.raises(KeyError):
        fs.array("egemaps")
    assert fs.ok("text").tolist() == [True, True, True, False] * 2
    assert fs.rows(["d1_u2", "d0_u0"]).tolist() == [6, 0]
    with pytest.raises(KeyError):
        fs.rows(["nope"])
    # crops: left half red, right half blue (coded_frame), full = both
    body = (slice(20, 32), slice(None))
    red, blue = frames[0, 0][body], frames[1, 0][body]
    assert red[..., 0].mean() > 150 > red[..., 2].mean()
    assert blue[..., 2].mean() > 150 > blue[..., 0].mean()
    summary = json.loads((fs.path / "summary.json").read_text())
    assert summary["utterances"] == 8 and summary["failures"]["text"] == {"empty transcript": 2}
    assert summary == fs.summary
    again = FeatureStore.open(fs.path)
    pd.testing.assert_frame_equal(again.manifest, m)
    assert again.config == cfg


def test_complete_store_returns_at_once_and_guards_its_rows(tmp_path):
    utts = small_corpus(tmp_path, n_dialogs=1)
    cfg = PreprocessConfig(
        corpus="toy",
        out=str(tmp_path / "stores"),
        frame_size=16,
        spec_size=(16, 32),
        n_mels=16,
        max_audio_seconds=1.0,
        modalities=["frame", "text"],
        max_length=8,
    )
    fs = preprocess_utterances(utts, cfg, progress=False)
    assert not fs.has("spec") and fs.manifest["status_audio"].eq("not computed").all()
    assert fs.manifest["status"].tolist() == ["ok", "ok", "ok", "empty transcript"]
    stamp = (fs.path / "frames.npy").stat().st_mtime_ns
    fs2 = preprocess_utterances(utts, cfg, progress=False)
    assert (fs2.path / "frames.npy").stat().st_mtime_ns == stamp
    with pytest.raises(StoreError):
        preprocess_utterances(utts[:2], cfg, progress=False)
    limited = preprocess_utterances(utts, cfg, progress=False, limit=2)
    assert limited.path.name.endswith("-limit2") and len(limited) == 2
    with pytest.raises(StoreError):
        FeatureStore.open(tmp_path)


def test_k_frames_per_utterance(tmp_path):
    utts = small_corpus(tmp_path, n_dialogs=1)
    cfg = PreprocessConfig(
        corpus="toy", out=str(tmp_path / "s"), frame_size=256, crop="full", frames_per_utterance=3, modalities=["frame"]
    )
    fs = preprocess_utterances(utts[:2], cfg, progress=False)
    assert fs.array("frames").shape == (2, 3, 256, 256, 3)
    assert fs.manifest["frame_indices"].tolist()[0] == "20 30 40"  # window [15, 45], k=3
    # the 256x128 coded frame stretched to 256x256 keeps its code in the top rows, blocks twice as tall
    codes = [read_code(np.asarray(fs.array("frames")[0, k])[::2]) for k in range(3)]
    assert codes == [20, 30, 40]


def test_an_unforeseen_error_costs_one_modality_of_one_unit(tmp_path, monkeypatch):
    from emorec.preprocess import unit

    utts = small_corpus(tmp_path)
    calls = []
    real = unit._audio

    def flaky(task, *args):
        calls.append(task.key)
        if task.key == "d1":
            raise RuntimeError("disk on fire")
        return real(task, *args)

    monkeypatch.setattr(unit, "_audio", flaky)
    cfg = PreprocessConfig(
        corpus="toy",
        out=str(tmp_path / "s"),
        frame_size=16,
        spec_size=(16, 32),
        n_mels=16,
        max_audio_seconds=1.0,
        modalities=["frame", "audio"],
    )
    fs = preprocess_utterances(utts, cfg, progress=False)
    assert calls == ["d0", "d1"]
    assert fs.manifest["status_audio"].tolist() == ["ok"] * 4 + ["failed: RuntimeError"] * 4
    assert fs.manifest["status_frame"].eq("ok").all()
    assert not np.asarray(fs.array("spec"))[4:].any() and np.asarray(fs.array("spec"))[:4].any()
    assert any("disk on fire" in w for w in fs.summary["warnings"])
