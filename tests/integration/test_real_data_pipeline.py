"""The experiment configs for real corpora, checked against the real test data in ../shared/data.

- every real-corpus config validates and states the protocol it claims (split, label set, modalities);
- the splits land on the real utterances as documented (MELD official sizes, RAVDESS actor hold-out and
  6-fold actor cross-validation, CREMA-D actor-independent folds over the corpus' 7,442 clip names);
- the single CREMA-D clip goes through the CREMA-D preprocessing (frame and audio);
- a small RAVDESS audio experiment (3 emotions, 6 actors) runs end to end through `run_experiment` and beats
  chance on actors it never saw.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from emorec.corpora.records import Utterance
from emorec.corpora.splits import make_folds
from emorec.models import model_spec
from support.paths import SHARED_DATA as DATA
from support.real import ravdess3_overrides, ravdess_subset, shipped_config

REAL_CONFIGS = (
    "meld_text",
    "meld_text_context",
    "meld_text_ensemble",
    "meld_text_mpnet",
    "ravdess_audio",
    "ravdess_audio_cv",
    "ravdess_egemaps_speaker",
    "ravdess_egemaps_speaker_cv",
    "ravdess_compare_speaker",
    "ravdess_compare_speaker_cv",
    "cremad",
    "manifest_example",
)

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real test data not found at {DATA}")


@pytest.mark.parametrize("name", REAL_CONFIGS)
def test_real_corpus_config_validates(name):
    cfg = shipped_config(name)
    assert cfg.name == name
    pp = cfg.preprocess_config()
    assert pp.corpus == cfg.corpus.name
    assert Path(cfg.corpus.root).exists(), f"{name}: corpus.root {cfg.corpus.root} does not point at the test data"
    for key, model in cfg.enabled_models().items():
        assert model_spec(model.arch).modality == key
        assert key in pp.modalities
    classes = get_label_set(cfg.label_set).classes
    assert len(classes) >= 2


def test_meld_text_protocol_and_official_split():
    for name in ("meld_text", "meld_text_context", "meld_text_ensemble", "meld_text_mpnet"):
        cfg = shipped_config(name)
        assert cfg.split.kind == "official" and cfg.label_set == "meld7"
        assert list(cfg.enabled_models()) == ["text"] and not cfg.fusion.enabled
        assert cfg.preprocess_config().modalities == ["text"]
        encoder = "mpnet" if name == "meld_text_mpnet" else "minilm"
        assert cfg.models["text"].kwargs["encoder"] == encoder
        assert cfg.preprocess_config().tokenizer == encoder  # the model reads its own encoder's word pieces
    assert shipped_config("meld_text_context").preprocess.get("text_context", 0) > 0
    assert shipped_config("meld_text_ensemble").models["text"].ensemble == 3
    data = read_corpus("meld", shipped_config("meld_text").corpus.root, clips=False)
    kept, dropped = get_label_set("meld7").apply(data.utterances)
    assert not dropped and not data.problems
    (fold,) = make_folds(kept, shipped_config("meld_text").split)
    assert fold.sizes() == {"train": 9989, "val": 1109, "test": 2610}


def _ravdess_utterances():
    data = read_corpus("ravdess", DATA / "ravdess_speech")
    assert len(data.utterances) == 720 and not data.problems
    kept, dropped = get_label_set("ravdess8").apply(data.utterances)
    assert not dropped
    return kept


def _actors(ids, utts):
    group = {u.utt_id: u.group for u in utts}
    return sorted({group[i] for i in ids})


def test_ravdess_holdout_is_actors_1_8_9_10_11_12():
    utts = _ravdess_utterances()
    (fold,) = make_folds(utts, shipped_config("ravdess_audio").split)
    assert _actors(fold.train, utts) == [f"{a:02d}" for a in range(1, 9)]
    assert _actors(fold.val, utts) == ["09", "10"]
    assert _actors(fold.test, utts) == ["11", "12"]
    assert fold.leakage.speaker_independent
    assert fold.sizes() == {"train": 480, "val": 120, "test": 120}


def test_ravdess_cv_is_six_folds_of_actor_pairs():
    utts = _ravdess_utterances()
    folds = make_folds(utts, shipped_config("ravdess_audio_cv").split)
    assert len(folds) == 6
    tested = [a for f in folds for a in _actors(f.test, utts)]
    assert sorted(tested) == [f"{a:02d}" for a in range(1, 13)]  # every actor tested exactly once
    for f in folds:
        test_actors = _actors(f.test, utts)
        assert len(test_actors) == 2
        assert not set(test_actors) & set(_actors(f.train + f.val, utts))
        assert f.val and f.leakage.speaker_independent
    # the per-actor normalised configs use the same protocols
    assert shipped_config("ravdess_egemaps_speaker_cv").split == shipped_config("ravdess_audio_cv").split
    assert shipped_config("ravdess_egemaps_speaker").split == shipped_config("ravdess_audio").split
    assert shipped_config("ravdess_compare_speaker_cv").split == shipped_config("ravdess_audio_cv").split
    assert shipped_config("ravdess_compare_speaker").split == shipped_config("ravdess_audio").split


def test_cremad_protocol_is_actor_independent_on_the_full_corpus_names():
    """The corpus' own list of its 7,442 clips, split as cremad.yaml says: 5 folds, no actor on both sides."""
    cfg = shipped_config("cremad")
    labels = get_label_set(cfg.label_set)
    with open(DATA / "cremad" / "SentenceFilenames.csv", newline="", encoding="utf-8") as fh:
        names = [row["Filename"] for row in csv.DictReader(fh)]
    utts = []
    for i, stem in enumerate(names):
        actor, sentence, emotion, _ = stem.split("_")
        utts.append(
            Utterance(
                utt_id=stem,
                corpus="cremad",
                label=emotion,
                speaker=actor,
                group=actor,
                dialog=stem,
                script=sentence,
                order=i,
            )
        )
    kept, dropped = labels.apply(utts)
    assert len(kept) == 7442 and not dropped
    folds = make_folds(kept, cfg.split)
    assert len(folds) == cfg.split.k == 5
    actors = {u.utt_id: u.group for u in kept}
    seen = Counter()
    for f in folds:
        test_actors = {actors[i] for i in f.test}
        assert not test_actors & {actors[i] for i in f.train + f.val}
        assert f.leakage.speaker_independent and f.val
        seen.update(test_actors)
    assert len(seen) == 91 and set(seen.values()) == {1}


def test_cremad_clip_goes_through_the_cremad_preprocessing(tmp_path):
    from emorec.preprocess.run import preprocess

    cfg = shipped_config("cremad", f"store_dir={tmp_path}")
    store = preprocess(cfg.preprocess_config(), progress=False)
    man = store.manifest
    assert man["utt_id"].tolist() == ["1001_DFA_ANG_XX"]
    assert man["status_frame"].tolist() == ["ok"] and man["status_audio"].tolist() == ["ok"]
    frame = store.array("frames")[0, 0]
    assert frame.std() > 10  # a real picture, not a zero fill
    spec = store.array("spec")[0].astype("float32")
    assert spec[0].std() > 1.0


def test_manifest_example_label_set_and_split():
    cfg = shipped_config("manifest_example")
    data = read_corpus("manifest", cfg.corpus.root)
    assert not data.problems and len(data.utterances) == 220
    labels = get_label_set(cfg.label_set)
    kept, dropped = labels.apply(data.utterances)
    assert dropped == Counter({"fearful": 1})
    assert Counter(u.label for u in kept)["neutral"] == 25 + 48  # neutral + calm folded in
    (fold,) = make_folds(kept, cfg.split)
    assert fold.leakage.speaker_independent
    assert {u.speaker for u in kept if u.utt_id in set(fold.test)} == {"actor06"}


def test_ravdess_audio_experiment_beats_chance_on_unseen_actors(tmp_path):
    """calm / happy / angry, train actors 1-3, validate on 4, test on 5-6, through run_experiment."""
    import torch

    from emorec.training.experiment import run_experiment

    torch.set_num_threads(1)
    cfg = shipped_config(
        "ravdess_audio",
        *ravdess3_overrides(tmp_path),
        "preprocess.egemaps=false",
        "preprocess.n_mels=64",
        "preprocess.spec_size=[64, 64]",
        "models.audio.kwargs={width: 8, blocks: 3, dropout: 0.2}",
        "models.audio.fit={epochs: 12, batch_size: 16, lr: 0.003, patience: 12, monitor: val_acc, enable_progress_bar: false}",
    )
    metrics = run_experiment(cfg, tmp_path / "run")
    audio = metrics["audio"]
    assert metrics["speaker_independent"] and audio["n_test"] == 48
    assert audio["accuracy"] > 0.5, audio  # chance and majority 1/3; measured 0.60-0.71 over seeds
    assert audio["unweighted_accuracy"] > 0.45
    run = tmp_path / "run"
    assert json.loads((run / "metrics.json").read_text())["audio"]["accuracy"] == audio["accuracy"]
    assert (run / "folds" / "session-05+06" / "audio" / "model" / "model.safetensors").is_file()


def test_a_label_set_that_leaves_one_class_is_refused_and_observed_takes_the_corpus_labels(tmp_path):
    """The default label set (iemocap4) on RAVDESS keeps only `sad`: the run stops and names the labels;
    `label_set: observed` takes the labels present."""
    from emorec.training.experiment import prepare

    root = tmp_path / "ravdess"
    ravdess_subset(root, (1, 2), {"04", "05"})  # sad, angry
    cfg = shipped_config(
        "ravdess_audio",
        f"corpus.root={root}",
        f"store_dir={tmp_path / 'stores'}",
        "label_set=iemocap4",
        "preprocess.egemaps=false",
        "preprocess.n_mels=32",
        "preprocess.spec_size=[32, 64]",
        "split={kind: random, test_size: 8, val_by: fraction, val_fraction: 0.2}",
    )
    with pytest.raises(ValueError, match=r"keeps 16 utterances of ravdess in 1 class\(es\) \['sad'\].*'angry'"):
        prepare(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists() and not (tmp_path / "stores").exists()  # refused before any work
    # `observed`: the labels the corpus has, resolved once and written into the run's config
    cfg.label_set = "observed"
    exp = prepare(cfg, tmp_path / "run2")
    assert list(exp.label_set.classes) == ["angry", "sad"] and len(exp.data.utterances) == 32
    saved = yaml.safe_load((tmp_path / "run2" / "config.yaml").read_text())
    assert saved["label_set"] == {"name": "observed", "classes": ["angry", "sad"]}
