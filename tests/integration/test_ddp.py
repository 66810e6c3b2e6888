"""`fit.strategy: ddp` with 2 processes on the CPU (gloo): `emorec train` finishes, writes each artefact once
(from rank 0), and gives metrics close to the single-process run with the same seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emorec.corpora.synth import SynthConfig, generate_iemocap

EMOREC = [sys.executable, "-m", "emorec.cli"]
# the same effective batch: 16 in one process, 8 per process in two
FIT = "{epochs: 10, lr: 0.003, patience: null, enable_progress_bar: false, accelerator: cpu"


def _train(root: Path, out: Path, stores: Path, ddp: bool) -> dict:
    fit = FIT + (", batch_size: 8, strategy: ddp, devices: 2}" if ddp else ", batch_size: 16, devices: 1}")
    args = [
        *EMOREC,
        "train",
        "--config",
        "demo",
        "--out",
        str(out),
        "--set",
        f"corpus.root={root}",
        "--set",
        f"store_dir={stores}",
        "--set",
        "preprocess.modalities=[audio]",
        "--set",
        "preprocess.spec_size=[32, 96]",
        "--set",
        "preprocess.n_mels=32",
        "--set",
        "preprocess.egemaps=true",
        "--set",
        "models.frame.enabled=false",
        "--set",
        "models.text.enabled=false",
        "--set",
        "models.audio.arch=egemaps_mlp",
        "--set",
        "models.audio.kwargs={hidden: 32, layers: 1}",
        "--set",
        f"models.audio.fit={fit}",
        "--set",
        "fusion.enabled=false",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    r = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path):
    root = generate_iemocap(
        tmp_path / "corpus",
        SynthConfig(seed=2, dialogs_per_session=3, utterances_per_dialog=30, frame_size=(64, 48)),
        progress=False,
    )
    single = _train(root, tmp_path / "one", tmp_path / "stores", ddp=False)
    ddp = _train(root, tmp_path / "two", tmp_path / "stores", ddp=True)
    a, b = single["audio"], ddp["audio"]
    assert b["n_test"] == a["n_test"]
    assert abs(b["accuracy"] - a["accuracy"]) <= 0.1, (a["accuracy"], b["accuracy"])
    assert b["accuracy"] > b["majority_baseline"]
    fold = next((tmp_path / "two" / "folds").iterdir())
    versions = sorted(p.name for p in (fold / "audio" / "fit" / "logs").iterdir())
    assert versions == ["version_0"], versions  # one logger: rank 0's
    log = (tmp_path / "two" / "train.log").read_text()
    assert log.count("audio/fit:") == 1  # one summary line per fit, from rank 0
    assert len(list((tmp_path / "stores").iterdir())) == 1  # the store is built once and shared
    import pandas as pd

    preds = pd.read_parquet(fold / "predictions.parquet")
    assert len(preds) == a["n_test"] and preds.utt_id.is_unique
