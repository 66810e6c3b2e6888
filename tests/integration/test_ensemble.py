"""Seed ensembles (`models.<m>.ensemble: N`): averaging, saving and loading, and a real RAVDESS run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from emorec.models import get_model
from emorec.models.ensemble import Ensemble, build_model
from emorec.models.saved import BundleError, load_model_dir, save_model_dir
from emorec.preprocess.config import PreprocessConfig
from support.paths import SHARED_DATA as DATA


def test_softmax_of_the_ensemble_is_the_mean_of_its_members():
    torch.manual_seed(0)
    members = [get_model("egemaps_mlp", 5, hidden=16, layers=1).eval() for _ in range(3)]
    ens = Ensemble(members).eval()
    x = torch.randn(7, 88)
    with torch.no_grad():
        mean = torch.stack([torch.softmax(m(x), 1) for m in members]).mean(0)
        assert torch.allclose(torch.softmax(ens(x), 1), mean, atol=1e-6)
    assert (ens.modality, ens.input_kind, ens.model_name) == ("audio", "egemaps", "egemaps_mlp")
    assert isinstance(build_model("egemaps_mlp", 5), torch.nn.Module) and not isinstance(
        build_model("egemaps_mlp", 5), Ensemble
    )
    assert len(build_model("egemaps_mlp", 5, ensemble=4).members) == 4
    with pytest.raises(ValueError, match="ensemble must be >= 1"):
        build_model("egemaps_mlp", 5, ensemble=0)


def test_an_ensemble_saves_and_loads_with_its_member_count(tmp_path):
    torch.manual_seed(1)
    ens = build_model("egemaps_mlp", 3, ensemble=2, hidden=8, layers=1).eval()
    meta = {
        "name": "egemaps_mlp",
        "modality": "audio",
        "num_classes": 3,
        "kwargs": {"hidden": 8, "layers": 1},
        "classes": ["a", "b", "c"],
        "input": PreprocessConfig().input("egemaps").meta().model_dump(),
        "ensemble": 2,
    }
    save_model_dir(ens, tmp_path / "m", meta)
    loaded, saved = load_model_dir(tmp_path / "m")
    x = torch.randn(4, 88)
    with torch.no_grad():
        assert torch.equal(loaded(x), ens(x))
    assert saved.ensemble == 2 and isinstance(loaded, Ensemble)
    for bad in (0, "2", True):
        with pytest.raises(BundleError, match="ensemble: Input should be"):
            save_model_dir(ens, tmp_path / f"bad{bad}", {**meta, "ensemble": bad})


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real test data not found at {DATA}")
def test_ensemble_run_trains_each_member_and_evaluate_reproduces_it(tmp_path):
    """calm / happy / angry on RAVDESS actors 1-6 with a 3-member eGeMAPS MLP ensemble."""
    from emorec.training.evaluate import evaluate_run
    from emorec.training.experiment import run_experiment
    from support.real import ravdess3_overrides, shipped_config

    torch.set_num_threads(1)
    root = tmp_path / "ravdess"
    overrides = [
        *ravdess3_overrides(tmp_path),
        "preprocess.n_mels=32",
        "preprocess.spec_size=[32, 64]",
        "models.audio.arch=egemaps_mlp",
        "models.audio.kwargs={hidden: 32, layers: 1, dropout: 0.2}",
        "models.audio.augment=null",
        "models.audio.normalise=speaker",
        "models.audio.fit={epochs: 30, batch_size: 16, lr: 0.003, patience: 30, monitor: val_acc, enable_progress_bar: false}",
    ]
    run_experiment(shipped_config("ravdess_audio", *overrides), tmp_path / "single")
    metrics = run_experiment(shipped_config("ravdess_audio", *overrides, "models.audio.ensemble=3"), tmp_path / "run")
    audio = metrics["audio"]
    assert audio["n_test"] == 48 and audio["accuracy"] > 0.5, audio  # chance 1/3
    fold = next((tmp_path / "run" / "folds").iterdir()) / "audio"
    assert sorted(p.name for p in fold.iterdir() if p.name.startswith("fit")) == ["fit", "fit_m1", "fit_m2"]
    assert json.loads((fold / "model" / "model.json").read_text())["ensemble"] == 3
    # member 0 is the single model (same seed); the others differ, so the ensemble is not member 0
    ens = load_model_dir(fold / "model")[0]
    alone = load_model_dir(next((tmp_path / "single" / "folds").iterdir()) / "audio" / "model")[0]
    for a, b in zip(ens.members[0].state_dict().values(), alone.state_dict().values()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(ens.members[1].state_dict().values(), alone.state_dict().values()))
    again = evaluate_run(
        tmp_path / "run",
        "ravdess",
        str(root),
        split="config",
        out=tmp_path / "eval",
        corpus_options={"modalities": ["audio"], "channel": "speech"},
    )
    assert again["audio"]["accuracy"] == pytest.approx(audio["accuracy"])


def test_a_bundle_with_a_text_ensemble_predicts_the_members_mean(tmp_path):
    from emorec.inference import Recognizer, write_bundle
    from emorec.inputs.tokens import tokenize

    torch.manual_seed(2)
    classes = ["neu", "hap", "sad"]
    ens = build_model("text", 3, ensemble=2, encoder="minilm").eval()
    kind = PreprocessConfig(max_length=16, punctuation="ascii").input("text")
    meta = {
        "name": "text",
        "modality": "text",
        "num_classes": 3,
        "kwargs": {"encoder": "minilm"},
        "classes": classes,
        "ensemble": 2,
        "input": kind.meta().model_dump(),
    }
    bundle = write_bundle(tmp_path / "bundle", {"text": (ens, meta)}, classes)
    pred = Recognizer.load(bundle).predict_utterance(text="I can’t believe it!")
    ids, mask = tokenize(["I can't believe it!"], "minilm", 16)
    x = {"input_ids": torch.from_numpy(ids).long(), "attention_mask": torch.from_numpy(mask).long()}
    with torch.no_grad():
        mean = torch.stack([torch.softmax(m(x), 1) for m in ens.members]).mean(0)[0].numpy()
    assert pred.model == "text" and pred.modalities == ["text"]
    np.testing.assert_allclose([pred.probs[c] for c in classes], mean, atol=1e-5)
