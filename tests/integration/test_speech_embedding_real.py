"""The speech_embedding statistics on real RAVDESS clips carry emotion across actors, and the ravdess_speech
recipes state the protocol they claim."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from emorec.corpora.splits import make_folds
from emorec.inputs.speech_embedding import SPEECH_EMB_DIM, SpeechEmbedding
from support.paths import SHARED_DATA as DATA
from support.real import shipped_config

pytestmark = pytest.mark.skipif(not (DATA / "ravdess_speech").is_dir(), reason=f"real test data not found at {DATA}")
EMOTIONS = {"02": 0, "03": 1, "04": 2, "05": 3}  # calm, happy, sad, angry


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / np.where(x.std(0) > 1e-8, x.std(0), 1.0)


def test_speech_embedding_separates_emotions_of_unseen_actors():
    pytest.importorskip("openwakeword")
    from sklearn.linear_model import LogisticRegression

    kind = SpeechEmbedding({"sample_rate": 16000, "speech_emb": True})
    xs, ys, actors = [], [], []
    for actor in range(1, 7):
        wavs = [
            w
            for w in sorted((DATA / "ravdess_speech" / f"Actor_{actor:02d}").glob("*.wav"))
            if w.stem.split("-")[2] in EMOTIONS
        ]
        x = kind.extract([sf.read(w, dtype="float32")[0] for w in wavs])["speech_emb"]
        assert x.shape == (len(wavs), SPEECH_EMB_DIM) and np.isfinite(x).all()
        xs.append(_standardise(x))  # per actor, labels unused
        ys += [EMOTIONS[w.stem.split("-")[2]] for w in wavs]
        actors += [actor] * len(wavs)
    x, y, actors = np.concatenate(xs), np.array(ys), np.array(actors)
    train, test = actors <= 4, actors > 4
    clf = LogisticRegression(C=0.01, max_iter=500).fit(x[train], y[train])
    acc = float(np.mean(clf.predict(x[test]) == y[test]))
    assert acc >= 0.45, f"speech_embedding, 4 emotions, actors 5-6 unseen: accuracy {acc:.2f} (chance 0.25)"


@pytest.mark.parametrize("name", ["ravdess_speech", "ravdess_speech_cv"])
def test_ravdess_speech_recipes_state_their_protocol(name):
    cfg = shipped_config(name)
    audio = cfg.models["audio"]
    assert audio.arch == "mix_mlp" and audio.normalise == "speaker" and cfg.label_set == "ravdess8"
    pp = cfg.preprocess_config()
    assert [k.name for k in pp.inputs()] == ["spec", "speech_mix"]
    utts, _ = get_label_set(cfg.label_set).apply(
        read_corpus("ravdess", cfg.corpus.root, **cfg.corpus.options).utterances
    )
    folds = make_folds(utts, cfg.split)
    assert len(folds) == (6 if name.endswith("_cv") else 1)
    test_ids = [i for f in folds for i in f.test]
    assert len(test_ids) == (720 if name.endswith("_cv") else 120) == len(set(test_ids))
