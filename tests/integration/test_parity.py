"""Training and prediction share one definition of each input kind: for every registered input kind, a model
trained by `emorec train` and exported with `emorec export` gives, through `Recognizer.predict_segments` on the
same media and windows, the run's own test probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from emorec.config import load_config
from emorec.corpora.iemocap import read
from emorec.corpora.synth import SynthConfig, generate_iemocap
from emorec.inference import Recognizer, export_bundle
from emorec.inference.segment import Segment
from emorec.inputs import compatible, input_class, list_inputs
from emorec.models import list_models, model_spec
from emorec.training.experiment import run_experiment

# the quickest model of each kind; a kind added later is tested with any model that reads it
PREFERRED = {
    "frames": ("small_cnn", "{width: 8}"),
    "spec": ("audio_cnn", "{width: 8}"),
    "egemaps": ("egemaps_mlp", "{}"),
    "compare": ("compare_mlp", "{}"),
    "text": ("text", "{encoder: minilm, freeze_encoder: true}"),
}
TOLERANCE = 1e-5
NEEDS = {"speech_emb": "openwakeword", "speech_mix": "openwakeword"}  # kinds whose models come from a package


def model_for(kind: str) -> tuple[str, str]:
    """A model that reads `kind`: its own input kind, or another of the same tensor (e.g. frames for faces)."""
    if kind in PREFERRED:
        return PREFERRED[kind]
    own = [n for n in list_models() if model_spec(n).input_kind == kind]
    if own:
        return own[0], "{}"
    same = [
        n
        for n in ("small_cnn", *list_models())
        if model_spec(n).modality != "fusion" and compatible(kind, model_spec(n).input_kind)
    ]
    return same[0], "{width: 8}" if same[0] == "small_cnn" else "{}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("parity")
    root = generate_iemocap(
        base / "corpus",
        SynthConfig(seed=5, dialogs_per_session=1, utterances_per_dialog=12, frame_size=(128, 96)),
        progress=False,
    )
    return base, root


@pytest.mark.parametrize("kind", list_inputs())
def test_exported_model_reproduces_the_run_probabilities(kind, corpus, tmp_path):
    torch.set_num_threads(1)
    if kind in NEEDS:
        pytest.importorskip(NEEDS[kind])
    base, root = corpus
    modality = input_class(kind).modality
    arch, kwargs = model_for(kind)
    others = [m for m in ("frame", "audio", "text") if m != modality]
    cfg = load_config(
        "demo",
        [
            f"corpus.root={root}",
            f"store_dir={base / 'stores'}",
            "fusion.enabled=false",
            "preprocess.frame_size=32",
            "preprocess.face_size=32",
            "preprocess.face_frames=3",
            "preprocess.spec_size=[32, 96]",
            "preprocess.n_mels=32",
            "preprocess.max_length=24",
            f"models.{modality}.arch={arch}",
            f"models.{modality}.kwargs={kwargs}",
            f"models.{modality}.input_kind={kind}",
            f"models.{modality}.fit={{epochs: 1, batch_size: 16, enable_progress_bar: false}}",
            *(f"models.{m}.enabled=false" for m in others),
        ],
    )
    run_experiment(cfg, tmp_path / "run")
    rec = Recognizer.load(export_bundle(tmp_path / "run", tmp_path / "bundle"))
    assert rec.runners[modality].kind.name == kind
    preds = pd.read_parquet(next((tmp_path / "run" / "folds").iterdir()) / "predictions.parquet")
    preds = preds[preds.model == modality].set_index("utt_id")
    classes = list(rec.classes)
    utts = {u.utt_id: u for u in read(root).utterances}
    compared = 0
    for dialog in sorted({utts[u].dialog for u in preds.index}):
        test = [utts[u] for u in preds.index if utts[u].dialog == dialog]
        segs = [Segment(u.start, u.end, u.text, u.side) for u in test]
        result = rec.predict_segments(test[0].video_path, segs, audio=[u.sentence_wav for u in test])
        got = np.array([[s.per_modality[modality][c] for c in classes] for s in result.segments])
        want = preds.loc[[u.utt_id for u in test], [f"p_{c}" for c in classes]].to_numpy()
        np.testing.assert_allclose(got, want, atol=TOLERANCE, err_msg=f"{kind}: {dialog}")
        compared += len(test)
    assert compared == len(preds) > 0
