"""Per-speaker input standardisation (`normalise: speaker`): statistics, dataset, and a real RAVDESS run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from emorec.inputs.spectrogram import spec_bin_stats
from emorec.training.datasets import StoreDataset, speaker_stats
from support.kinds import make_kind
from support.paths import SHARED_DATA as DATA


def test_each_speaker_is_standardised_with_its_own_statistics():
    rng = np.random.default_rng(0)
    # two speakers with very different offsets and scales per feature
    a = rng.normal(5.0, 3.0, (20, 88)).astype(np.float32)
    b = rng.normal(-2.0, 0.5, (30, 88)).astype(np.float32)
    arrays = {"egemaps": np.concatenate([a, b])}
    kind = make_kind("egemaps", options={"normalise": "speaker"})
    stats = speaker_stats(arrays, kind, {"A": np.arange(20), "B": np.arange(20, 50)})
    ds = StoreDataset(arrays, np.arange(50), None, kind, row_stats=stats)
    x = torch.stack([ds[i][0] for i in range(50)]).numpy()
    for rows in (slice(0, 20), slice(20, 50)):
        assert np.allclose(x[rows].mean(0), 0, atol=1e-4) and np.allclose(x[rows].std(0), 1, atol=1e-3)


def test_spectrograms_are_standardised_per_channel_and_frequency_row():
    rng = np.random.default_rng(1)
    spec = (
        rng.normal(0, 1, (12, 3, 8, 16)).astype(np.float32) + np.arange(8, dtype=np.float32)[None, None, :, None] * 10
    )
    arrays = {"spec": spec.astype(np.float16)}
    kind = make_kind("spec", options={"normalise": "speaker"})
    stats = speaker_stats(arrays, kind, {"s": np.arange(12)})
    ds = StoreDataset(arrays, np.arange(12), None, kind, row_stats=stats)
    x = torch.stack([ds[i][0] for i in range(12)]).numpy()
    assert np.allclose(x.mean(axis=(0, 3)), 0, atol=1e-3)
    mean, std = spec_bin_stats(arrays["spec"])
    assert mean.shape == std.shape == (3, 8)
    with pytest.raises(ValueError, match="no speaker statistics"):
        StoreDataset(arrays, np.arange(13), None, kind, row_stats={k: v for k, v in stats.items() if k != 3})
    with pytest.raises(ValueError, match="speaker normalisation is for spectrogram or openSMILE"):
        speaker_stats(arrays, make_kind("text"), {"s": np.arange(12)})


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real test data not found at {DATA}")
@pytest.mark.parametrize("features", ["egemaps", "compare"])
def test_speaker_normalised_functionals_learn_and_evaluate_reproduces_them(features, tmp_path):
    """calm / happy / angry on RAVDESS actors 1-6 (train 1-3, validate 4, test 5-6) with the eGeMAPS or
    ComParE MLP."""
    from emorec.training.evaluate import evaluate_run
    from emorec.training.experiment import run_experiment
    from support.real import ravdess3_overrides, shipped_config

    torch.set_num_threads(1)
    root = tmp_path / "ravdess"
    cfg = shipped_config(
        "ravdess_audio",
        *ravdess3_overrides(tmp_path),
        "preprocess.n_mels=32",
        "preprocess.spec_size=[32, 64]",
        f"preprocess.egemaps={features == 'egemaps'}",
        f"preprocess.compare={features == 'compare'}",
        f"models.audio.arch={features}_mlp",
        "models.audio.kwargs={hidden: 32, layers: 1, dropout: 0.2}",
        "models.audio.augment=null",
        "models.audio.normalise=speaker",
        "models.audio.fit={epochs: 40, batch_size: 16, lr: 0.003, patience: 40, monitor: val_acc, enable_progress_bar: false}",
    )
    metrics = run_experiment(cfg, tmp_path / "run")
    audio = metrics["audio"]
    assert audio["n_test"] == 48 and audio["accuracy"] > 0.5, audio  # chance 1/3
    assert any("standardised per speaker" in s for s in metrics["leakage"])
    again = evaluate_run(
        tmp_path / "run",
        "ravdess",
        str(root),
        split="config",
        out=tmp_path / "eval",
        corpus_options={"modalities": ["audio"], "channel": "speech"},
    )
    assert again["audio"]["accuracy"] == pytest.approx(audio["accuracy"])
    saved = json.loads(next((tmp_path / "run").rglob("model.json")).read_text())["input"]
    assert saved["kind"] == features and saved["options"] == {"normalise": "speaker"}
    assert saved["settings"][features] is True
    assert (
        len(saved["stats"]["mean"]) == {"egemaps": 88, "compare": 6373}[features]
    )  # training rows: the one-clip fallback
    # the exported model predicts an actor's clips as the run did when given all of that actor's clips
    from emorec.inference import Recognizer, export_bundle

    rec = Recognizer.load(export_bundle(tmp_path / "run", tmp_path / "bundle"))
    wavs = sorted((root / "Actor_05").glob("*.wav"))
    result = rec.predict_segments(wavs[0], [(0.0, 1.0)] * len(wavs), audio=[str(w) for w in wavs])
    run_preds = pd.read_parquet(next((tmp_path / "run" / "folds").iterdir()) / "predictions.parquet")
    run_preds = run_preds[run_preds.model == "audio"].set_index("utt_id")
    classes = ["calm", "happy", "angry"]
    want = run_preds.loc[[w.stem for w in wavs], [f"p_{c}" for c in classes]].to_numpy()
    got = np.array([[s.probs[c] for c in classes] for s in result.segments])
    np.testing.assert_allclose(got, want, atol=1e-4)
