"""`emorec train --seeds`: one run per seed, mean ± std over them, each run resumable."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from emorec.models.saved import load_model_dir
from emorec.training.seeds import parse_seeds
from support.paths import SHARED_DATA as DATA


def test_seed_lists_are_parsed_and_bad_ones_refused():
    assert parse_seeds("0,1,2") == [0, 1, 2]
    assert parse_seeds("3-5") == [3, 4, 5]
    assert parse_seeds("0, 2-3") == [0, 2, 3]
    for bad in ("", "a", "0,0", "1-x", ","):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)


def test_the_cli_names_a_bad_seed_list():
    from emorec.cli import app

    result = CliRunner().invoke(app, ["train", "--config", "ravdess_audio", "--seeds", "0,zero"])
    assert result.exit_code != 0 and "--seeds '0,zero'" in result.output


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real test data not found at {DATA}")
def test_two_seeds_give_two_runs_and_their_mean(tmp_path):
    """calm / happy / angry on RAVDESS actors 1-6, an eGeMAPS MLP from seeds 0 and 1."""
    from emorec.training.seeds import run_seeds
    from support.real import ravdess3_overrides, shipped_config

    torch.set_num_threads(1)
    cfg = shipped_config(
        "ravdess_audio",
        *ravdess3_overrides(tmp_path),
        "preprocess.n_mels=32",
        "preprocess.spec_size=[32, 64]",
        "models.audio.arch=egemaps_mlp",
        "models.audio.kwargs={hidden: 32, layers: 1, dropout: 0.2}",
        "models.audio.augment=null",
        "models.audio.normalise=speaker",
        "models.audio.fit={epochs: 20, batch_size: 16, lr: 0.003, patience: 20, monitor: val_acc, enable_progress_bar: false}",
    )
    out = tmp_path / "run"
    metrics = run_seeds(cfg, out, [0, 1])
    audio = metrics["audio"]
    runs = [json.loads((out / f"seed_{s}" / "metrics.json").read_text())["audio"] for s in (0, 1)]
    assert metrics["seeds"] == [0, 1] and audio["n_test"] == runs[0]["n_test"] == 48
    assert audio["accuracy_mean"] == pytest.approx((runs[0]["accuracy"] + runs[1]["accuracy"]) / 2)
    assert audio["seeds"]["1"]["accuracy"] == pytest.approx(runs[1]["accuracy"])
    assert audio["accuracy_mean"] > 0.5 and "accuracy_std" in audio  # chance 1/3
    assert metrics["leakage"] and metrics["speaker_independent"] is True
    assert "2 seeds" in (out / "report.html").read_text()
    models = [load_model_dir(next((out / f"seed_{s}" / "folds").iterdir()) / "audio" / "model")[0] for s in (0, 1)]
    assert not all(torch.equal(a, b) for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values()))
    # a second call finds every seed's run finished: no model is written again, the summary is the same
    saved = [next((out / f"seed_{s}" / "folds").iterdir()) / "audio" / "model" / "model.safetensors" for s in (0, 1)]
    stamps = [p.stat().st_mtime_ns for p in saved]
    assert run_seeds(cfg, out, [0, 1])["audio"]["accuracy_mean"] == pytest.approx(audio["accuracy_mean"])
    assert [p.stat().st_mtime_ns for p in saved] == stamps
