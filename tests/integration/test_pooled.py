"""Recognisers trained on corpora of their own (voice on RAVDESS, words on the synthetic IEMOCAP), calibrated on
their own validation data and pooled: `emorec train` trains them, `emorec export` makes one bundle, and the
Recognizer combines what each says by calibrated log-linear pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emorec.config import ExperimentConfig
from emorec.corpora.synth import SynthConfig, generate_iemocap
from emorec.inference import Recognizer, export_bundle
from emorec.training.experiment import run_experiment
from support.real import ravdess_subset

FIT = {"epochs": 15, "batch_size": 16, "lr": 0.003, "patience": None, "enable_progress_bar": False}


def test_pooled_recognisers_train_export_and_pool(shared_data, tmp_path):
    torch.set_num_threads(1)
    ravdess = tmp_path / "ravdess"
    ravdess_subset(ravdess, range(1, 7), {"02", "03", "05"})  # calm (-> neutral), happy, angry
    synth = generate_iemocap(
        tmp_path / "synth",
        SynthConfig(seed=1, dialogs_per_session=2, utterances_per_dialog=30, frame_size=(64, 48)),
        progress=False,
    )
    cfg = ExperimentConfig(
        name="pooled",
        label_set="basic7",
        store_dir=str(tmp_path / "stores"),
        preprocess={"n_mels": 32, "spec_size": [32, 96], "max_length": 24},
        models={
            "audio": {
                "arch": "egemaps_mlp",
                "kwargs": {"hidden": 32, "layers": 1},
                "normalise": "speaker",
                "fit": FIT,
                "corpus": {"name": "ravdess", "root": str(ravdess), "options": {"modalities": ["audio"]}},
                "split": {"kind": "session", "test_groups": ["05", "06"], "val_groups": ["04"]},
                "preprocess": {"modalities": ["audio"]},
            },
            "text": {
                "arch": "text",
                "kwargs": {"encoder": "minilm", "freeze_encoder": True},
                "fit": {**FIT, "lr": 0.01},
                "corpus": {"name": "iemocap", "root": str(synth)},
                "split": {"kind": "session", "test_groups": ["5"]},
                "preprocess": {"modalities": ["text"]},
            },
        },
        fusion={"method": "pooling", "weights": {"audio": 1.0, "text": 0.5}},
    )
    metrics = run_experiment(cfg, tmp_path / "run")
    assert metrics["audio"]["corpus"] == "ravdess" and metrics["text"]["corpus"] == "iemocap"
    assert metrics["audio"]["accuracy"] > 0.5 and metrics["text"]["accuracy"] > 0.4  # chance 1/3 and about 1/4
    pool = metrics["pooling"]
    assert pool["modalities"] == ["audio", "text"] and pool["weights"] == [1.0, 0.5]
    assert all(t > 0 for t in pool["temperatures"])
    assert metrics["audio"]["val_nll_calibrated"] <= metrics["audio"]["val_nll"] + 1e-9

    rec = Recognizer.load(export_bundle(tmp_path / "run", tmp_path / "bundle"))
    assert rec.classes == ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"]
    import soundfile as sf

    wav = sorted((ravdess / "Actor_05").glob("*.wav"))[0]
    y, sr = sf.read(wav, dtype="float32")
    both = rec.predict_utterance(audio=(y, sr), text="I am so happy about it")
    assert both.model == "fusion" and both.modalities == ["audio", "text"]
    t_a, t_t = pool["temperatures"]
    logq = sum(
        w * np.log(np.array([both.per_modality[m][c] for c in rec.classes])) / t
        for m, w, t in (("audio", 1.0, t_a), ("text", 0.5, t_t))
    )
    want = np.exp(logq - logq.max())
    np.testing.assert_allclose([both.probs[c] for c in rec.classes], want / want.sum(), atol=1e-4)
    alone = rec.predict_utterance(audio=(y, sr))  # one modality present: the pool of one, tempered
    assert alone.model == "fusion" and alone.modalities == ["audio"]
    words_off = Recognizer.load(tmp_path / "bundle", fusion_weights={"text": 0.0})
    muted = words_off.predict_utterance(audio=(y, sr), text="I am so happy about it")
    np.testing.assert_allclose([muted.probs[c] for c in rec.classes], [alone.probs[c] for c in rec.classes], atol=1e-6)
    with pytest.raises(ValueError, match="one weight >= 0 per modality"):
        Recognizer.load(tmp_path / "bundle", fusion_weights={"smell": 1.0})
