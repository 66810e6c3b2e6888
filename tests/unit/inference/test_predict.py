"""Recognizer and `emorec predict` on real clips (RAVDESS mp4, CREMA-D flv) and a synthetic clip with subtitles.

The bundle holds freshly initialised models: these tests check the plumbing (segments, preprocessing, modality
masks, outputs, errors), not accuracy.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from emorec.inference import MediaError, Recognizer, SegmentPrediction, VideoResult, build_untrained_bundle
from emorec.inference.segment import Segment
from emorec.inputs.frames import window_frame_indices
from emorec.media.video import VideoInfo
from support.paths import REPO

DATA = REPO.parent / "shared" / "data"
CLASSES = ["neutral", "happy", "sad", "angry"]
PP = {"frame_size": 48, "spec_size": [64, 96], "max_length": 24, "crop": "speaker"}


def _bench():
    spec = importlib.util.spec_from_file_location("bench_predict", REPO / "benchmarks" / "predict.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.set_num_threads(2)
    return build_untrained_bundle(
        tmp_path_factory.mktemp("b") / "bundle", CLASSES, PP, frame="small_cnn", audio="audio_cnn", text="text"
    )


@pytest.fixture(scope="module")
def rec(bundle):
    return Recognizer.load(bundle)


@pytest.fixture(scope="module")
def clips():
    ravdess = sorted((DATA / "ravdess_av").glob("*.mp4"))
    cremad = sorted((DATA / "cremad").glob("*.flv"))
    if not ravdess or not cremad:
        pytest.skip(f"real clips missing under {DATA}")
    return ravdess, cremad


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    video, srt, cues = _bench().make_clip(d / "talk.mp4", 8.0, (320, 180), seed=3)
    return video, srt, cues


def frame_index(start, end, fps, n_frames, k=1):
    """The frame the frame model sees for [start, end] (the middle of its k picks)."""
    picks = window_frame_indices(
        start, end, VideoInfo(fps=fps, n_frames=n_frames, width=640, height=360, declared=True), k
    )
    return None if picks is None else picks[len(picks) // 2]


def _check_probs(seg: SegmentPrediction):
    assert set(seg.probs) == set(CLASSES)
    assert abs(sum(seg.probs.values()) - 1) < 1e-5
    assert seg.label == max(seg.probs, key=seg.probs.get)


def test_cli_predict_real_clips_json_csv_timeline(bundle, clips, tmp_path):
    from emorec.cli import app

    ravdess, cremad = clips
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "predict",
            str(DATA / "ravdess_av" / "*.mp4"),
            str(cremad[0]),
            "--model",
            str(bundle),
            "--csv",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert set(rows.file) == {str(p) for p in ravdess + cremad}
    assert list(rows.columns[:4]) == ["file", "start", "end", "label"]
    assert {f"p_{c}" for c in CLASSES} <= set(rows.columns)
    asr = importlib.util.find_spec("faster_whisper") is not None
    assert set(rows.modalities) == ({"frame+audio+text"} if asr else {"frame+audio"})  # no subtitles: words by ASR
    assert np.allclose(rows[[f"p_{c}" for c in CLASSES]].sum(axis=1), 1, atol=2e-3)
    for p in ravdess + cremad:
        r = rows[rows.file == str(p)]
        assert len(r) >= 1 and (r.start >= 0).all() and (r.end > r.start).all()
        assert (r.end <= 3.3).all()
        data = json.loads((out / f"{p.stem}.json").read_text())
        assert data["segmentation"].startswith("asr" if asr else "speech") and data["has_audio"] and data["has_video"]
        assert len(data["segments"]) == len(r)
        assert pd.read_csv(out / f"{p.stem}.csv").shape[0] == len(r)
        png = (out / f"{p.stem}_timeline.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
        frames = sorted((out / f"{p.stem}_frames").glob("*.png"))
        assert len(frames) == len(r) and frames[0].name.endswith(f"_{r.label.iloc[0]}.png")
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == len(rows)
    # RAVDESS speech sits inside the ~3.2 s clips, after a silent lead-in
    first = rows[rows.file == str(ravdess[0])].iloc[0]
    assert 0.3 < first.start < 1.5 and 1.5 < first.end < 3.2

    res = runner.invoke(app, ["predict", str(ravdess[1]), "--model", str(bundle), "--json", "--window", "1.5"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["segmentation"] == "window"
    spans = [(s["start"], s["end"]) for s in data["segments"]]
    assert spans == [(0.0, 1.5), (1.5, pytest.approx(3.2366, abs=1e-3))]  # the 0.24 s tail joins the last window


def test_subtitles_give_one_prediction_per_cue_with_text(rec, synth, tmp_path):
    video, srt, cues = synth
    result = rec.predict_video(video, subtitles=srt)
    assert result.segmentation == "subtitles"
    assert [(s.start, s.end) for s in result.segments] == [(a, b) for a, b, *_ in cues]
    for seg, cue in zip(result.segments, cues):
        assert seg.text == cue[4]
        assert seg.modalities == ["frame", "audio", "text"] and seg.model == "fusion"
        assert seg.side in ("left", "right")  # the drawn faces sit in the halves
        assert set(seg.per_modality) == {"frame", "audio", "text"}
        _check_probs(seg)
    df = result.to_frame()
    assert list(df.columns) == [
        "start",
        "end",
        "label",
        *(f"p_{c}" for c in CLASSES),
        "modalities",
        "model",
        "side",
        "text",
    ]
    assert (df.modalities == "frame+audio+text").all()
    # a transcript CSV with fixed sides gives the same windows, the given sides and a text-less row
    tr = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "start": [c[0] for c in cues],
            "end": [c[1] for c in cues],
            "text": [c[4] for c in cues[:-1]] + [""],
            "side": ["left"] * len(cues),
        }
    ).to_csv(tr, index=False)
    r2 = rec.predict_video(video, transcript=tr)
    assert r2.segmentation == "transcript" and all(s.side == "left" for s in r2.segments)
    assert r2.segments[-1].modalities == ["frame", "audio"] and r2.segments[-1].text is None


def test_frame_index_rule_and_one_decode_pass(rec, clips):
    import av

    clip = clips[0][0]
    segs = [Segment(0.5, 1.4, None, "full"), Segment(1.0, 2.9, None, "left"), Segment(3.05, 3.5, None, "full")]
    result = rec.predict_segments(clip, segs)
    assert result.segmentation == "explicit"
    with av.open(str(clip)) as c:  # an independent full sequential decode
        n = sum(1 for _ in c.decode(video=0))
    fps = 30000 / 1001
    assert n == 93
    for seg in segs[:2]:
        assert frame_index(seg.start, seg.end, fps, n) == (int(seg.start * fps) + int(seg.end * fps)) // 2
    # a window running past the end takes the middle of [a, b] clamped to the last frame, as preprocessing does
    assert frame_index(3.05, 3.5, fps, n) == 92 and frame_index(3.2, 3.5, fps, n) is None
    assert [s.side for s in result.segments[:2]] == ["full", "left"]
    assert all(s.modalities[0] == "frame" for s in result.segments)
    assert all(f is not None and f.shape == (360, 640, 3) for f in result.middle_frames)  # previews
    assert set(result.timings) >= {"decode", "crops", "frame_model"}


def test_missing_modalities_use_the_mask_or_the_average(rec, bundle, synth, tmp_path):
    bench = _bench()
    silent, _, _ = bench.make_clip(tmp_path / "silent.mp4", 4.0, (320, 180), seed=1, srt=False, audio=False)
    r = rec.predict_video(silent, window=2.0)
    assert not r.has_audio and r.segmentation == "window"
    assert all(s.modalities == ["frame"] and s.model == "fusion" for s in r.segments)
    # without a transcript and without audio: fallback windows, said in the warnings
    r = rec.predict_video(silent)
    assert r.segmentation == "fallback-window" and any("no audio track" in w for w in r.warnings)

    # a bundle without fusion models averages the modalities present
    b2 = tmp_path / "nofusion"
    shutil.copytree(bundle, b2)
    info = json.loads((b2 / "bundle.json").read_text())
    info["models"] = {k: v for k, v in info["models"].items() if k in ("frame", "audio")}
    (b2 / "bundle.json").write_text(json.dumps(info))
    r2 = Recognizer.load(b2).predict_video(synth[0], subtitles=synth[1])
    for s in r2.segments:
        assert s.model == "average" and s.modalities == ["frame", "audio"]  # no text model in this bundle
        mean = (
            np.array([s.per_modality["frame"][c] for c in CLASSES])
            + np.array([s.per_modality["audio"][c] for c in CLASSES])
        ) / 2
        np.testing.assert_allclose([s.probs[c] for c in CLASSES], mean, atol=1e-6)


def test_fusion_choice_and_predict_utterance(rec):
    assert rec.fuser.choose(["frame", "audio", "text"]) == "fusion"
    assert rec.fuser.choose(["frame", "audio"]) == "fusion"
    assert rec.fuser.choose(["audio", "text"]) == "audio_text"  # the tightest fusion covering what is there
    assert rec.fuser.choose(["text"]) == "audio_text"
    assert rec.fuser.choose([]) is None
    rng = np.random.default_rng(0)
    t = np.arange(8000 * 2) / 8000
    speech = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    a = rec.predict_utterance(audio=(speech, 8000))  # resampled to the bundle's 16 kHz
    assert a.modalities == ["audio"] and a.model == "audio_text"
    _check_probs(a)
    b = rec.predict_utterance(audio=(np.stack([speech, speech]), 8000), text="I am so happy today!")
    assert b.modalities == ["audio", "text"] and b.model == "audio_text" and b.text == "I am so happy today!"
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    c = rec.predict_utterance(frame=frame, audio=(speech, 8000), text="fine")
    assert c.modalities == ["frame", "audio", "text"] and c.model == "fusion" and c.side == "full"
    with pytest.raises(ValueError, match="at least one"):
        rec.predict_utterance()
    with pytest.raises(ValueError, match="uint8 RGB"):
        rec.predict_utterance(frame=frame.astype(np.float32))


def test_bad_files_clear_errors_and_batch_goes_on(rec, bundle, clips, tmp_path):
    from emorec.cli import app

    good = clips[0][0]
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    trunc = tmp_path / "cut.mp4"
    trunc.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for path, reason in ((text, "not a readable video"), (trunc, "truncated or corrupt"), (empty, "empty file")):
        with pytest.raises(MediaError, match=reason) as e:
            rec.predict_video(path)
        assert str(path) in str(e.value)
    shutil.copy(good, tmp_path / "good.mp4")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["predict", str(tmp_path), "--model", str(bundle), "--out", str(out)])
    assert res.exit_code == 1
    assert f"{text}: not a readable video" in res.output and f"{trunc}: truncated or corrupt" in res.output
    assert "3 input(s) failed, 1 done" in res.output
    assert set(pd.read_csv(out / "summary.csv").file) == {str(tmp_path / "good.mp4")}
    bad_srt = tmp_path / "bad.srt"
    bad_srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nnonsense\nmore\n")
    res = CliRunner().invoke(app, ["predict", str(good), "--model", str(bundle), "--subtitles", str(bad_srt)])
    assert res.exit_code == 1 and f"{bad_srt}:5" in res.output
    res = CliRunner().invoke(app, ["predict", str(tmp_path / "nothing*.mp4"), "--model", str(bundle)])
    assert res.exit_code == 2 and "no file matches" in res.output


def test_video_result_roundtrip(rec, clips):
    r = rec.predict_video(clips[1][0])
    assert isinstance(r, VideoResult) and r.duration == pytest.approx(2.235, abs=0.01)
    d = json.loads(r.to_json())
    assert d["classes"] == CLASSES and len(d["segments"]) == len(r.segments)
    assert set(d["segments"][0]) >= {"start", "end", "label", "probs", "modalities", "text"}
    assert {
        "probe",
        "audio_decode",
        "decode",
        "crops",
        "audio_features",
        "frame_model",
        "audio_model",
        "fusion",
    } <= set(r.timings)


def _faceless_clip(path: Path, seconds: float = 3.0):
    """A grey 160x120 video with a 220 Hz tone from 1 s to 2 s."""
    import av

    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        aus = out.add_stream("aac", rate=16000)
        aus.layout = "mono"
        for i in range(int(seconds * 25)):
            img = np.full((120, 160, 3), 90 + i % 7, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        t = np.arange(int(seconds * 16000)) / 16000
        y = np.where((t > 1) & (t < 2), 0.3 * np.sin(2 * np.pi * 220 * t), 0.001 * np.sin(t)).astype(np.float32)
        for k in range(0, len(y), 1024):
            af = av.AudioFrame.from_ndarray(y[None, k : k + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, k
            for p in aus.encode(af):
                out.mux(p)
        for p in aus.encode():
            out.mux(p)
    return path


def test_frames_without_a_face_skip_the_frame_model(rec, tmp_path):
    clip = _faceless_clip(tmp_path / "grey.mp4")
    r = rec.predict_video(clip, vad="energy", asr="off")  # a tone: energy, not Silero, calls it speech
    assert r.segmentation == "speech (energy)" and len(r.segments) == 1
    seg = r.segments[0]
    assert 0.8 < seg.start < 1.1 and 1.9 < seg.end < 2.2  # the tone
    assert seg.modalities == ["audio"] and seg.side == "full" and "frame" not in seg.per_modality
    assert any("without a detected face" in w for w in r.warnings)
    # as in training, explicit segments use the frame whether or not a face shows
    r2 = rec.predict_segments(clip, [(0.5, 2.5, None, "full")])
    assert r2.segments[0].modalities == ["frame", "audio"]
    r3 = rec.predict_video(clip, require_face=False, vad="energy", asr="off")
    assert r3.segments[0].modalities == ["frame", "audio"]


def test_predict_segments_matches_the_feature_store(rec, synth, tmp_path):
    """Explicit segments go through exactly the training preprocessing: the unimodal probabilities equal
    those of the same models on the feature store rows that `emorec preprocess` writes for them."""
    from emorec.corpora.records import Utterance
    from emorec.preprocess.run import preprocess_utterances
    from emorec.training.datasets import StoreDataset

    video, _, cues = synth
    utts = [
        Utterance(
            utt_id=f"u{i}",
            corpus="clip",
            label="neutral",
            start=a,
            end=b,
            text=txt,
            side=side,
            dialog="d",
            video_path=str(video),
            audio_path=str(video),
            order=i,
        )
        for i, (a, b, side, _, txt) in enumerate(cues)
    ]
    utts.append(
        Utterance(
            utt_id="late",
            corpus="clip",
            label="neutral",
            start=7.5,
            end=9.0,
            text="[LAUGHTER]",
            side="right",
            dialog="d",
            video_path=str(video),
            audio_path=str(video),
            order=len(cues),
        )
    )
    from emorec.preprocess.config import PreprocessConfig

    cfg = PreprocessConfig(
        **{**rec.bundle.info["preprocess"], "corpus": "clip", "audio_source": "dialog", "out": str(tmp_path)}
    )
    store = preprocess_utterances(utts, cfg, progress=False, store_dir=tmp_path / "store")
    result = rec.predict_segments(video, [(u.start, u.end, u.text, u.side) for u in utts])
    fps, n_frames = 30.0, 240
    assert store.manifest.frame_indices.tolist()[:-1] == [
        str(frame_index(u.start, u.end, fps, n_frames)) for u in utts[:-1]
    ]
    for m in ("frame", "audio", "text"):
        ok = store.ok(m)
        rows = np.flatnonzero(ok)
        ds = StoreDataset(store, rows, None, rec.runners[m].kind)
        x = torch.utils.data.default_collate([ds[i][0] for i in range(len(ds))])
        with torch.no_grad():
            want = torch.softmax(rec.runners[m].model(x), -1).numpy()
        got = np.array([[result.segments[r].per_modality[m][c] for c in CLASSES] for r in rows])
        np.testing.assert_allclose(got, want, atol=2e-5, err_msg=m)
        for r in np.flatnonzero(~ok):  # what preprocessing could not make is missing here too
            assert m not in result.segments[r].modalities
    # the 1.5 s window running past the 8 s clip: audio and frame as preprocessing made them; '[LAUGHTER]' is text
    assert result.segments[-1].modalities == [m for m in ("frame", "audio", "text") if store.ok(m)[-1]]


def test_separate_audio_file_feeds_the_audio_model(rec, bundle, synth, tmp_path):
    """A video without sound (as IEMOCAP's AVIs) takes its audio from a separate file on the same time line."""
    import av
    import soundfile as sf

    from emorec.cli import app

    video, srt, cues = synth
    silent = tmp_path / "silent.mp4"
    _bench().make_clip(silent, 8.0, (320, 180), seed=3, audio=False)
    wav = tmp_path / "dialog.wav"
    with av.open(str(video)) as c:
        pcm = np.concatenate([f.to_ndarray().mean(0) for f in c.decode(audio=0)])
        sr = c.streams.audio[0].rate
    sf.write(wav, pcm, sr)
    alone = rec.predict_video(silent, subtitles=srt)
    assert all(s.modalities == ["frame", "text"] for s in alone.segments)
    with_wav = rec.predict_video(silent, subtitles=srt, audio=wav)
    assert all(s.modalities == ["frame", "audio", "text"] for s in with_wav.segments)
    r = CliRunner().invoke(
        app, ["predict", str(silent), "--model", str(bundle), "--subtitles", str(srt), "--audio", str(wav), "--csv"]
    )
    assert r.exit_code == 0, r.output
    assert "frame+audio+text" in r.output
    bad = CliRunner().invoke(
        app, ["predict", str(silent), "--model", str(bundle), "--audio", str(tmp_path / "nope.wav")]
    )
    assert bad.exit_code != 0 and "nope.wav" in bad.output


def _model_inputs(runner, windows, monkeypatch) -> np.ndarray:
    """What the audio runner feeds its model for these windows."""
    seen = []
    monkeypatch.setattr(runner, "probs", lambda inputs: seen.append(torch.stack(inputs)) or np.zeros((len(inputs), 4)))
    runner.run(windows, [])
    monkeypatch.undo()
    return seen[0].numpy()


def test_speaker_normalised_audio_model_standardises_each_recording(rec, monkeypatch):
    """A model trained with `normalise: speaker` sees each recording standardised with its own statistics."""
    from emorec.inference.runners import AudioRunner

    rng = np.random.default_rng(0)
    windows = [rng.normal(0, 0.1, 16000).astype(np.float32) * (1 + k) for k in range(4)]
    trained = rec.runners["audio"]
    speaker = AudioRunner("audio", trained.model, trained.meta)
    speaker.kind = type(trained.kind)(trained.kind.settings, {"normalise": "speaker"}, trained.kind.stats)
    x = _model_inputs(speaker, windows, monkeypatch)
    assert np.allclose(x.mean(axis=(0, 3)), 0, atol=1e-3)  # per channel and frequency row, over the recording
    assert not np.allclose(_model_inputs(trained, windows, monkeypatch).mean(axis=(0, 3)), 0, atol=1e-3)


def _functionals_bundle(tmp_path, arch, normalise, stats=True):
    from emorec.inference import write_bundle
    from emorec.models import get_model
    from emorec.preprocess.config import PreprocessConfig

    name = arch.split("_")[0]
    dim = {"egemaps": 88, "compare": 6373}[name]
    torch.manual_seed(0)
    model = get_model(arch, 2).eval()
    rng = np.random.default_rng(0)
    kind = PreprocessConfig(**{name: True}).input(name, {"normalise": normalise})
    if stats:
        kind = kind.with_stats({"mean": rng.normal(0, 1, dim), "std": rng.uniform(0.5, 2, dim)})
    meta = {
        "name": arch,
        "modality": "audio",
        "num_classes": 2,
        "kwargs": {},
        "classes": ["a", "b"],
        "input": kind.meta().model_dump(),
    }
    return write_bundle(tmp_path / "b", {"audio": (model, meta)}, ["a", "b"]), model, kind


def _tone(seconds, f0, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    return (0.2 * np.sin(2 * np.pi * f0 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.mark.parametrize("arch", ["egemaps_mlp", "compare_mlp"])
def test_functionals_models_predict_from_the_training_statistics(arch, tmp_path):
    from emorec.inputs.functionals import Functionals

    bundle, model, kind = _functionals_bundle(tmp_path, arch, "train")
    y = _tone(1.5, 220)
    pred = Recognizer.load(bundle).predict_utterance(audio=(y, 16000))
    x = (Functionals(16000, kind.name)(y) - kind.stats["mean"]) / kind.stats["std"]
    with torch.no_grad():
        want = torch.softmax(model(torch.from_numpy(x[None].astype(np.float32))), 1)[0].numpy()
    np.testing.assert_allclose([pred.probs["a"], pred.probs["b"]], want, atol=1e-5)


def test_speaker_standardised_functionals_use_the_recording_and_need_several_utterances(tmp_path):
    import soundfile as sf

    from emorec.inputs.functionals import Functionals, feature_stats

    bundle, model, _ = _functionals_bundle(tmp_path, "egemaps_mlp", "speaker", stats=False)
    wavs, ys = [], [_tone(1.0, 180), _tone(1.2, 260), _tone(0.8, 330)]
    for i, y in enumerate(ys):
        wavs.append(tmp_path / f"u{i}.wav")
        sf.write(wavs[-1], y, 16000, subtype="FLOAT")
    rec = Recognizer.load(bundle)
    result = rec.predict_segments(wavs[0], [(0.0, 1.0), (0.0, 1.2), (0.0, 0.8)], audio=[str(w) for w in wavs])
    feats = np.stack([Functionals(16000)(y) for y in ys])
    mean, std = feature_stats(feats, np.arange(3))
    with torch.no_grad():
        want = torch.softmax(model(torch.from_numpy(((feats - mean) / std).astype(np.float32))), 1).numpy()
    got = np.array([[s.probs["a"], s.probs["b"]] for s in result.segments])
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert {"audio_features", "audio_model"} <= set(result.timings)
    with pytest.raises(ValueError, match="needs several utterances of a speaker"):
        rec.predict_utterance(audio=(ys[0], 16000))


def test_a_speaker_normalised_model_falls_back_to_training_statistics_on_one_clip(tmp_path):
    """The voice model of a bundle works on a single clip: the training speakers' statistics stand in."""
    from emorec.inputs.functionals import Functionals

    bundle, model, kind = _functionals_bundle(tmp_path, "egemaps_mlp", "speaker")
    y = _tone(1.0, 200)
    rec = Recognizer.load(bundle)
    result = rec.predict_segments(_write_wav(tmp_path / "one.wav", y), [(0.0, 1.0)])
    x = (Functionals(16000)(y) - kind.stats["mean"]) / kind.stats["std"]
    with torch.no_grad():
        want = torch.softmax(model(torch.from_numpy(x[None].astype(np.float32))), 1)[0].numpy()
    np.testing.assert_allclose([result.segments[0].probs[c] for c in ("a", "b")], want, atol=1e-5)
    assert any("one utterance only" in w for w in result.warnings)


def _write_wav(path, y, sr=16000):
    import soundfile as sf

    sf.write(path, y, sr, subtype="FLOAT")
    return path


def test_without_subtitles_the_words_come_from_speech_recognition(clips, tmp_path):
    """A bundle with a text model transcribes the speech of a real clip (Whisper) and reads the words."""
    pytest.importorskip("faster_whisper")
    from emorec.speech.wer import normalise_text

    bundle = build_untrained_bundle(tmp_path / "b", CLASSES, PP, frame=None, audio="audio_cnn", text="text")
    rec = Recognizer.load(bundle)
    clip = clips[0][0]  # statement 02 (fifth field): "Dogs are sitting by the door"
    result = rec.predict_video(clip, language="en")
    assert result.segmentation.startswith("asr") and result.language == "en"
    words = normalise_text(" ".join(s.text or "" for s in result.segments))
    said = "kids are talking by the door" if clip.name.split("-")[4] == "01" else "dogs are sitting by the door"
    assert words == said.split()
    assert all(s.modalities == ["audio", "text"] for s in result.segments if s.text)
    off = rec.predict_video(clip, asr="off")
    assert off.segmentation.startswith("speech") and all(s.text is None for s in off.segments)


def test_silence_gets_no_voice_label(rec, tmp_path):
    import soundfile as sf

    wav = tmp_path / "silence.wav"
    sf.write(wav, np.zeros(32000, np.float32), 16000)
    result = rec.predict_segments(wav, [(0.0, 1.0), (1.0, 2.0)])
    assert all("audio" not in s.modalities for s in result.segments)
    assert any("without sound" in w for w in result.warnings)
    assert rec.predict_utterance(audio=(np.zeros(16000, np.float32), 16000), text="fine").modalities == ["text"]


def test_inputs_sharing_a_stem_never_overwrite_each_others_outputs(bundle, clips, tmp_path):
    from emorec.cli import app
    from emorec.commands.predict import output_stems

    a, b, c = Path("x/clip.mp4"), Path("x/clip.wav"), Path("y/clip.mp4")
    stems = output_stems([a, b, c, Path("z/other.flv")])
    assert len(set(stems.values())) == 4 and stems[Path("z/other.flv")] == "other"
    import soundfile as sf

    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(clips[0][0], d / "clip.mp4")
    sf.write(d / "clip.wav", np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32), 16000)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["predict", str(d), "--model", str(bundle), "--asr", "off", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.glob("*.json")} == {"clip_mp4.json", "clip_wav.json"}
