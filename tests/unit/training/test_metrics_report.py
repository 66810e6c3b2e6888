"""Metrics against scikit-learn, fold summaries, and the HTML report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from emorec.training.metrics import classification_metrics, summarise_folds
from emorec.training.report import write_report

CLASSES = ["ang", "hap", "neu", "sad"]


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 4, 200))
    m = classification_metrics(t, p, CLASSES, y_train=np.array([2, 2, 2, 1]))
    assert m["accuracy"] == pytest.approx(np.mean(t == p))
    assert m["unweighted_accuracy"] == pytest.approx(balanced_accuracy_score(t, p))
    assert m["macro_f1"] == pytest.approx(f1_score(t, p, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(t, p, average="weighted"))
    assert m["confusion"] == confusion_matrix(t, p, labels=range(4)).tolist()
    assert m["majority_baseline"] == pytest.approx(np.mean(t == 2)) and m["majority_class"] == "neu"
    assert m["chance"] == 0.25 and m["n_test"] == 200
    assert m["per_class"]["hap"]["support"] == int(np.sum(t == 1))
    assert m["per_class"]["hap"]["recall"] == pytest.approx(np.mean(p[t == 1] == 1))


def test_ua_ignores_classes_absent_from_the_test_set_and_names_work():
    t = ["ang", "ang", "hap", "hap"]
    p = ["ang", "sad", "hap", "hap"]
    m = classification_metrics(t, p, CLASSES)
    assert m["unweighted_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["majority_baseline"] == 0.5  # y_train None: the test set's own majority
    assert m["per_class"]["neu"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    with pytest.raises(ValueError, match="not among classes"):
        classification_metrics(["ang", "joy"], ["ang", "ang"], CLASSES)


def test_summarise_folds_gives_mean_std_and_summed_confusion():
    rng = np.random.default_rng(1)
    folds = []
    for _ in range(3):
        t = rng.integers(0, 4, 50)
        folds.append(classification_metrics(t, np.where(rng.random(50) < 0.5, t, 0), CLASSES))
    s = summarise_folds(folds)
    accs = [f["accuracy"] for f in folds]
    assert s["accuracy"] == s["accuracy_mean"] == pytest.approx(np.mean(accs))
    assert s["accuracy_std"] == pytest.approx(np.std(accs, ddof=1))
    assert s["n_test"] == 150 and s["n_folds"] == 3 and len(s["folds"]) == 3
    assert np.array(s["confusion"]).sum() == 150


def _run_dir(tmp_path):
    rng = np.random.default_rng(2)
    run = tmp_path / "run"
    metrics = {
        "protocol": "IEMOCAP 5-fold leave-one-session-out",
        "label_set": {"name": "iemocap4", "classes": CLASSES},
        "split": {"kind": "leave-one-session-out", "folds": 5},
        "leakage": "No speaker appears in both training and test data of a fold.",
        "curves": {"frame": ["frame/fold0/metrics.csv"]},
    }
    for key in ("frame", "audio", "text", "fusion", "audio_text"):
        folds = []
        for _ in range(2):
            t = rng.integers(0, 4, 40)
            folds.append(classification_metrics(t, np.where(rng.random(40) < 0.6, t, rng.integers(0, 4, 40)), CLASSES))
        metrics[key] = summarise_folds(folds)
    (run / "frame" / "fold0").mkdir(parents=True)
    (run / "fusion" / "logs" / "version_0").mkdir(parents=True)
    epochs = pd.DataFrame(
        {
            "epoch": [0, 0, 1, 1, 2, 2],
            "step": range(6),
            "train_loss": [1.3, None, 1.0, None, 0.8, None],
            "val_loss": [None, 1.35, None, 1.1, None, 1.0],
            "val_acc": [None, 0.4, None, 0.5, None, 0.55],
            "val_ua": [None, 0.38, None, 0.47, None, 0.5],
        }
    )
    epochs.to_csv(run / "frame" / "fold0" / "metrics.csv", index=False)
    epochs.to_csv(run / "fusion" / "logs" / "version_0" / "metrics.csv", index=False)
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def test_report_renders_table_leakage_and_plots(tmp_path):
    run = _run_dir(tmp_path)
    page = write_report(run).read_text()
    assert "No speaker appears in both training and test data of a fold." in page
    assert "IEMOCAP 5-fold leave-one-session-out" in page and "iemocap4" in page
    for header in ("WA", "UA", "Macro-F1", "Weighted-F1", "Majority baseline", "Chance"):
        assert f"<th>{header}</th>" in page
    assert page.count("(2 folds)") == 5 and " ± " in page
    for key in ("frame", "audio", "text", "fusion", "audio_text"):
        png = run / f"confusion_{key}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "curves_frame.png").exists() and (run / "curves_fusion.png").exists()
    assert not (run / "curves_audio.png").exists()  # no logs for it
    assert page.count("data:image/png;base64,") == 7


def test_report_names_a_broken_metrics_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        write_report(tmp_path)
    (tmp_path / "metrics.json").write_text('{"protocol": "x",\n "frame": }')
    with pytest.raises(ValueError, match=r"metrics.json line 2"):
        write_report(tmp_path)
