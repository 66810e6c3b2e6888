"""End to end on a tiny synthetic IEMOCAP corpus: train, fuse, report, resume, evaluate, cross-fitting hygiene."""

import json

import pandas as pd
import pytest

from emorec.config import load_config
from emorec.corpora.synth import SynthConfig, generate_iemocap
from emorec.training.evaluate import evaluate_run
from emorec.training.experiment import run_experiment

MODEL_KEYS = ("accuracy", "unweighted_accuracy", "macro_f1", "weighted_f1", "majority_baseline", "n_test")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    root = generate_iemocap(
        base / "corpus",
        SynthConfig(seed=3, dialogs_per_session=1, utterances_per_dialog=16, frame_size=(128, 96)),
        progress=False,
    )
    overrides = [
        f"corpus.root={root}",
        f"store_dir={base / 'stores'}",
        "preprocess.frame_size=32",
        "preprocess.spec_size=[32, 96]",
        "preprocess.n_mels=32",
        "preprocess.max_length=24",
        "models.frame.arch=small_cnn",
        "models.frame.kwargs={}",
        "models.frame.fit={epochs: 2, batch_size: 16}",
        "models.audio.arch=audio_cnn",
        "models.audio.kwargs={}",
        "models.audio.fit={epochs: 2, batch_size: 16}",
        "models.text.fit={epochs: 1, batch_size: 16, lr: 0.0001}",
        "fusion.crossfit_folds=2",
        "fusion.fit={epochs: 3, batch_size: 16}",
    ]
    cfg = load_config("demo", overrides)
    metrics = run_experiment(cfg, base / "run")
    return cfg, base, root, metrics


def test_metrics_json_shape(tiny_run):
    cfg, base, _, metrics = tiny_run
    on_disk = json.loads((base / "run" / "metrics.json").read_text())
    for key in ("protocol", "label_set", "split", "leakage"):
        assert key in on_disk
    for model in ("frame", "audio", "text", "fusion", "audio_text"):
        for k in MODEL_KEYS:
            assert k in on_disk[model], (model, k)
        assert 0.0 <= on_disk[model]["accuracy"] <= 1.0
    assert on_disk["label_set"]["classes"] == ["neu", "hap", "sad", "ang"]
    assert "speaker-independent" in " ".join(on_disk["leakage"])


def test_report_and_saved_models(tiny_run):
    _, base, _, metrics = tiny_run
    run = base / "run"
    html = (run / "report.html").read_text()
    assert "speaker-independent" in html and "fusion" in html
    assert (run / "confusion_fusion.png").stat().st_size > 0
    fold = run / "folds" / "session-5"
    for key in ("frame", "audio", "text", "fusion", "audio_text"):
        assert (fold / key / "model" / "model.safetensors").exists()
        assert not list((fold / key).rglob("*.ckpt")), "finished units keep no Lightning checkpoints"
    preds = pd.read_parquet(fold / "predictions.parquet")
    assert set(preds.model) == {"frame", "audio", "text", "fusion", "audio_text"}


def test_fusion_trains_on_out_of_fold_outputs_only(tiny_run):
    cfg, base, _, _ = tiny_run
    fold = base / "run" / "folds" / "session-5"

    for modality in ("frame", "audio", "text"):
        out = pd.read_parquet(fold / modality / "outputs.parquet")
        oof, test = set(out[out.part == "oof"].utt_id), set(out[out.part == "test"].utt_id)
        assert oof and test and not oof & test
        assert all(u.startswith("Ses05") for u in test)
        assert not any(u.startswith("Ses05") for u in oof)
        probs = out[out.part == "oof"].filter(like="p_").to_numpy()
        assert (probs.sum(1) > 0.99).all(), "every training utterance got an out-of-fold output"


def test_rerun_resumes_without_training(tiny_run, monkeypatch):
    import lightning as L

    cfg, base, _, metrics = tiny_run

    def no_fit(*args, **kwargs):
        raise AssertionError("a finished run trained again")

    monkeypatch.setattr(L.Trainer, "fit", no_fit)  # every model of the run trains through Trainer.fit
    again = run_experiment(cfg, base / "run")
    assert again["fusion"]["accuracy"] == metrics["fusion"]["accuracy"]


def test_evaluate_reproduces_the_run_predictions(tiny_run):
    _, base, root, metrics = tiny_run
    ev = evaluate_run(base / "run", "iemocap", str(root), split="config", out=base / "eval")
    for key in ("frame", "audio", "text", "fusion"):
        assert ev[key]["accuracy"] == pytest.approx(metrics[key]["accuracy"])
        assert ev[key]["n_test"] == metrics[key]["n_test"]
    assert (base / "eval" / "report.html").exists()


def test_exported_bundle_predicts_what_the_run_predicted(tiny_run):
    """A bundle exported from a run, applied to a test dialog video with its transcript, gives the run's labels."""
    from emorec.corpora.iemocap import read
    from emorec.inference.bundle import export_bundle
    from emorec.inference.recognizer import Recognizer
    from emorec.inference.segment import Segment

    _, base, root, _ = tiny_run
    bundle = export_bundle(base / "run", base / "model.emorec")
    rec = Recognizer.load(bundle)
    preds = pd.read_parquet(base / "run" / "folds" / "session-5" / "predictions.parquet")
    fused = preds[preds.model == "fusion"].set_index("utt_id")
    utts = {u.utt_id: u for u in read(root).utterances}
    checked = 0
    for dialog in sorted({utts[u].dialog for u in fused.index}):
        test = [utts[u] for u in fused.index if utts[u].dialog == dialog]
        segs = [Segment(u.start, u.end, u.text, u.side) for u in test]
        result = rec.predict_segments(test[0].video_path, segs, audio=[u.sentence_wav for u in test])
        for u, seg in zip(test, result.segments):
            assert seg.label == fused.loc[u.utt_id, "pred"], u.utt_id
            checked += 1
    assert checked == len(fused)


def test_crossfit_models_train_for_the_epochs_the_main_fit_needed(tiny_run):
    from emorec.training.unimodal import best_epochs

    cfg, base, _, _ = tiny_run
    assert cfg.fusion.crossfit_epochs == "main_fit"
    fold = base / "run" / "folds" / "session-5"
    for modality in ("frame", "audio", "text"):
        main = json.loads((fold / modality / "fit" / "fit_done.json").read_text())
        wanted = best_epochs(fold / modality / "fit", "val_ua", main["epochs_run"])
        for k in range(cfg.fusion.crossfit_folds):
            oof = fold / modality / f"oof{k}"
            assert json.loads((oof / "fit_config.json").read_text())["patience"] is None
            assert json.loads((oof / "fit_done.json").read_text())["epochs_run"] == wanted, (modality, k)
