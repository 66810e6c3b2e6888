"""Datasets over stores/arrays, the Lightning training pattern: resume, balancing, prediction, weights I/O."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

from emorec.inputs.augment import Augment
from emorec.inputs.frames import IMAGENET_MEAN, IMAGENET_STD
from emorec.inputs.spectrogram import spec_channel_stats
from emorec.models import get_model
from emorec.training.datasets import FusionDataset, StoreDataset
from emorec.training.fit import (
    FitConfig,
    _sampler,
    class_weights_for,
    fit,
    load_best,
    load_weights,
    predict_proba,
    save_weights,
)
from emorec.training.module import EmotionClassifier, unweighted_accuracy
from support.kinds import fitted, make_kind
from support.toy import C, egemaps_data, egemaps_sets

torch.set_num_threads(1)  # the CPUs are shared: more threads only contend


class KillAtEpochEnd(L.Callback):
    """Stops training (an exception) at the end of a given epoch, before that epoch's checkpoint is written."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("simulated kill")


def _ckpt_epoch(path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])


def test_fit_resumes_after_a_kill_and_after_asking_for_more_epochs(tmp_path):
    arrays, y = egemaps_data()
    train, val = egemaps_sets(arrays, y, np.arange(120), np.arange(120, 160))
    cfg = FitConfig(epochs=4, batch_size=16, patience=None, enable_progress_bar=False)
    out = tmp_path / "run"
    L.seed_everything(0)
    with pytest.raises(RuntimeError, match="simulated kill"):
        fit(get_model("egemaps_mlp", C), train, val, C, cfg, out, callbacks=[KillAtEpochEnd(2)])
    assert _ckpt_epoch(out / "last.ckpt") == 1 and not (out / "fit_done.json").exists()  # epochs 0, 1 done

    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, out)
    first = pd.read_csv(out / "logs" / "version_0" / "metrics.csv")
    second = pd.read_csv(out / "logs" / "version_1" / "metrics.csv")
    assert {0, 1} <= set(first["epoch"].dropna())
    assert sorted(second["epoch"].dropna().unique()) == [2, 3]  # continued from epoch 2, not restarted
    merged = pd.read_csv(result.metrics_csv)
    assert merged["epoch"].tolist() == [0, 1, 2, 3]
    assert {"train_loss", "val_loss", "val_acc", "val_ua", "val_wf1"} <= set(merged.columns)
    assert result.epochs_run == 4 and (out / "fit_done.json").exists()
    assert result.best_ckpt == out / "best.ckpt" and result.best_score == pytest.approx(merged["val_ua"].max())

    # finished: the stored result comes back without training
    again = fit(get_model("egemaps_mlp", C), train, val, C, cfg, out)
    assert again == result and not (out / "logs" / "version_2").exists()

    # more epochs requested: continue from epoch 4
    longer = fit(get_model("egemaps_mlp", C), train, val, C, cfg.model_copy(update={"epochs": 6}), out)
    third = pd.read_csv(out / "logs" / "version_2" / "metrics.csv")
    assert sorted(third["epoch"].dropna().unique()) == [4, 5]
    assert longer.epochs_run == 6 and _ckpt_epoch(out / "last.ckpt") == 5

    with pytest.raises(ValueError, match="different configuration.*lr"):
        fit(get_model("egemaps_mlp", C), train, val, C, cfg.model_copy(update={"lr": 0.5}), out)


def test_weighted_f1_is_logged_and_can_choose_the_checkpoint(tmp_path):
    from sklearn.metrics import f1_score

    from emorec.training.module import weighted_f1

    y, p = np.array([0, 0, 0, 1, 2, 2]), np.array([0, 0, 1, 1, 2, 0])
    assert weighted_f1(y, p) == pytest.approx(f1_score(y, p, average="weighted"))
    assert weighted_f1(y, p) != pytest.approx(unweighted_accuracy(y, p))
    arrays, y = egemaps_data()
    train, val = egemaps_sets(arrays, y, np.arange(120), np.arange(120, 160))
    cfg = FitConfig(epochs=3, batch_size=16, patience=None, monitor="val_wf1", enable_progress_bar=False)
    L.seed_everything(0)
    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / "wf1")
    merged = pd.read_csv(result.metrics_csv)
    assert result.best_score == pytest.approx(merged["val_wf1"].max())
    assert merged["val_wf1"].between(0, 1).all()


def test_early_stopping_marks_the_run_finished(tmp_path):
    arrays, y = egemaps_data()
    rng = np.random.default_rng(5)
    y_noise = rng.integers(0, C, len(y))  # labels unrelated to features: val UA cannot keep improving
    kind = fitted("egemaps", arrays, np.arange(120))
    train = StoreDataset(arrays, np.arange(120), y_noise[:120], kind)
    val = StoreDataset(arrays, np.arange(120, 160), y_noise[120:], kind)
    cfg = FitConfig(epochs=40, batch_size=32, patience=2, enable_progress_bar=False)
    L.seed_everything(0)
    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / "es")
    assert result.stopped_early and result.epochs_run < 40
    assert json.loads((tmp_path / "es" / "fit_done.json").read_text())["stopped_early"] is True


def test_predict_proba_matches_the_model_and_weights_round_trip(tmp_path):
    arrays, y = egemaps_data(80)
    train, val = egemaps_sets(arrays, y, np.arange(60), np.arange(60, 80))
    L.seed_everything(1)
    model = get_model("egemaps_mlp", C)
    result = fit(model, train, val, C, FitConfig(epochs=2, batch_size=16, enable_progress_bar=False), tmp_path / "r")
    best = load_best(get_model("egemaps_mlp", C), result.best_ckpt)
    probs = predict_proba(best, val, batch_size=7)
    best.eval()
    with torch.no_grad():
        direct = torch.softmax(best(torch.stack([val[i][0] for i in range(len(val))])), 1).numpy()
    np.testing.assert_allclose(probs, direct, atol=1e-5)
    path = save_weights(best, tmp_path / "w" / "egemaps.safetensors")
    fresh = load_weights(get_model("egemaps_mlp", C), path)
    np.testing.assert_allclose(predict_proba(fresh, val), probs, atol=1e-6)
    wrapped = load_best(EmotionClassifier(get_model("egemaps_mlp", C), C), result.best_ckpt)
    np.testing.assert_allclose(predict_proba(wrapped, val), probs, atol=1e-6)


def test_balancing_options():
    labels = np.array([0] * 90 + [1] * 10)
    w = class_weights_for(labels, 3)
    assert w[1] / w[0] == pytest.approx(9.0) and w[2] == 0.0
    drawn = np.array(list(_sampler(labels, seed=0)))
    share = np.mean(labels[drawn] == 1)
    assert 0.35 < share < 0.65  # about half the draws come from the 10% class


def test_fit_with_weighted_loss_and_sampler(tmp_path):
    arrays, y = egemaps_data(60)
    train, val = egemaps_sets(arrays, y, np.arange(40), np.arange(40, 60))
    for balance in ("weighted_loss", "sampler"):
        cfg = FitConfig(epochs=1, batch_size=16, balance=balance, enable_progress_bar=False)
        result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / balance)
        assert result.best_ckpt.exists() and result.epochs_run == 1


def test_unweighted_accuracy_is_mean_recall():
    y = np.array([0, 0, 0, 0, 1, 1, 2])
    p = np.array([0, 0, 0, 1, 1, 0, 2])
    assert unweighted_accuracy(y, p) == pytest.approx((0.75 + 0.5 + 1.0) / 3)


def test_frames_are_normalised_and_middle_frame_is_used():
    frames = np.zeros((2, 3, 4, 5, 3), dtype=np.uint8)
    frames[:, 1] = 255  # the middle of three frames is white
    ds = StoreDataset({"frames": frames}, [1], [2], make_kind("frames"))
    x, y = ds[0]
    assert x.shape == (3, 4, 5) and y.item() == 2
    expected = (1.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(x[:, 0, 0].numpy(), expected, rtol=1e-5)
    mean = StoreDataset({"frames": frames}, [0], None, make_kind("frames", options={"frame_pick": "mean"}))[0]
    assert mean[1].item() == -1
    np.testing.assert_allclose(
        mean[0][:, 0, 0].numpy(), (1 / 3 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD), rtol=1e-4
    )


def test_spec_stats_use_training_rows_only_and_memmaps_work(tmp_path):
    rng = np.random.default_rng(0)
    spec = rng.normal(0, 1, (10, 3, 8, 12)).astype(np.float16)
    spec[:5] += np.array([1.0, 2.0, 3.0], dtype=np.float16)[:, None, None]
    spec[5:] += 100  # test rows: must not influence the statistics
    np.save(tmp_path / "spec.npy", spec)

    class Store:  # the FeatureStore interface the datasets use
        def array(self, name):
            return np.load(tmp_path / f"{name}.npy", mmap_mode="r")

    arrays = Store()
    mean, std = spec_channel_stats(arrays.array("spec"), np.arange(5), chunk=2)
    np.testing.assert_allclose(mean, spec[:5].astype(np.float64).mean(axis=(0, 2, 3)), rtol=1e-4)
    np.testing.assert_allclose(std, spec[:5].astype(np.float64).std(axis=(0, 2, 3)), rtol=1e-3)
    kind = fitted("spec", arrays, np.arange(5))
    np.testing.assert_allclose(kind.stats["mean"].reshape(-1), mean)
    ds = StoreDataset(arrays, np.arange(5), np.zeros(5), kind)
    xs = torch.stack([ds[i][0] for i in range(5)])
    np.testing.assert_allclose(xs.mean(dim=(0, 2, 3)).numpy(), 0.0, atol=1e-2)


def test_spec_augment_masks_bands():
    spec = np.ones((1, 3, 16, 40), dtype=np.float16)
    ds = StoreDataset(
        {"spec": spec},
        [0],
        [0],
        make_kind("spec"),
        augment={"time_masks": 1, "time_width": 10, "freq_masks": 1, "freq_width": 4},
        seed=3,
    )
    zeros = [(ds[0][0] == 0).float().mean().item() for _ in range(20)]
    assert max(zeros) > 0 and max(zeros) < 0.5
    with pytest.raises(ValueError, match="unknown keys"):
        Augment.coerce({"time_mask": 1})


def test_text_items_are_long_dicts_and_fusion_items_carry_the_mask():
    ids = np.arange(12, dtype=np.int32).reshape(3, 4)
    att = np.array([[1, 1, 0, 0]] * 3, dtype=np.uint8)
    x, y = StoreDataset({"input_ids": ids, "attention_mask": att}, [2], [1], make_kind("text"))[0]
    assert x["input_ids"].dtype == torch.long and x["input_ids"].tolist() == [8, 9, 10, 11]
    assert x["attention_mask"].tolist() == [1, 1, 0, 0]
    item, _ = FusionDataset(np.ones((2, 3, 4)), np.array([[1, 0, 1], [1, 1, 1]], bool), [0, 1])[0]
    assert item["x"].shape == (3, 4) and item["mask"].tolist() == [True, False, True]
    with pytest.raises(TypeError, match="kind must be an emorec.inputs.InputKind"):
        StoreDataset({}, [0], None, "video")
    with pytest.raises(KeyError, match="unknown input kind 'video'"):
        make_kind("video")


def test_adamw_with_warmup_and_linear_decay(tmp_path):
    """The schedule warms up over the first 10 % of the steps, then falls linearly to 0; the model learns."""
    arrays, y = egemaps_data(120)
    train, val = egemaps_sets(arrays, y, np.arange(80), np.arange(80, 120))
    cfg = FitConfig(
        epochs=10,
        batch_size=8,
        lr=3e-3,
        optimizer="adamw",
        weight_decay=0.01,
        schedule="warmup_linear",
        patience=None,
        monitor="val_acc",
        enable_progress_bar=False,
    )
    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / "w")
    assert result.best_score > 0.6  # chance 1/C
    module = EmotionClassifier(get_model("egemaps_mlp", C), C, lr=1.0, optimizer="adamw", schedule="warmup_linear")

    class _Trainer:
        estimated_stepping_batches = 100

    module._trainer = _Trainer()
    conf = module.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    assert isinstance(opt, torch.optim.AdamW)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1) and max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 9
    assert lrs[-1] == pytest.approx(1 / 90) and all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
