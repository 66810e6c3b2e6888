"""Alignment of unimodal outputs, cross-fitting without leakage, and the fusion transformer."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

from emorec.fusion import FusionTransformer, align
from emorec.models import get_model
from emorec.training.crossfit import kfold_indices, out_of_fold_predict
from emorec.training.datasets import FusionDataset
from emorec.training.fit import FitConfig, fit, load_best, predict_proba

torch.set_num_threads(1)  # the CPUs are shared: more threads only contend
CLASSES = ["ang", "hap", "neu", "sad"]
ORDER = [f"u{i}" for i in range(8)]


def outputs(ids, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(4), len(ids))
    return pd.DataFrame({"utt_id": ids, **{c: p[:, j] for j, c in enumerate(CLASSES)}})


def three_modalities():
    frame = outputs([u for u in ORDER if u != "u2"], 0).sample(frac=1, random_state=1)  # shuffled rows
    audio = outputs(ORDER, 1)
    audio.loc[audio.utt_id == "u4", "hap"] = np.nan  # a failed output counts as missing
    text = outputs([u for u in ORDER if u not in ("u2", "u5")] + ["zz"], 2)  # "zz" is not in the corpus
    return {"frame": frame, "audio": audio, "text": text}


def test_align_drop_keeps_corpus_order_and_counts_what_is_missing():
    outs = three_modalities()
    a = align(outs, ORDER, missing="drop")
    assert a.utt_ids == ["u0", "u1", "u3", "u6", "u7"]
    assert a.dropped == {"frame": 1, "audio": 1, "text": 2}
    assert a.unknown == {"frame": 0, "audio": 0, "text": 1}
    assert a.X.shape == (5, 3, 4) and a.mask.all() and a.classes == CLASSES
    for i, u in enumerate(a.utt_ids):
        for j, m in enumerate(("frame", "audio", "text")):
            row = outs[m].set_index("utt_id").loc[u, CLASSES].to_numpy(dtype=float)
            np.testing.assert_allclose(a.X[i, j], row, rtol=1e-6)


def test_align_mask_keeps_utterances_with_zero_rows():
    outs = three_modalities()
    outs["audio"] = outs["audio"][outs["audio"].utt_id != "u2"]  # u2 now has no modality at all
    a = align(outs, ORDER, missing="mask")
    assert a.utt_ids == ["u0", "u1", "u3", "u4", "u5", "u6", "u7"] and a.n_empty == 1
    assert a.dropped == {"frame": 0, "audio": 0, "text": 0}
    assert a.missing == {"frame": 1, "audio": 2, "text": 2}
    expected = {"u4": [True, False, True], "u5": [True, True, False]}
    for u, m in expected.items():
        i = a.utt_ids.index(u)
        assert a.mask[i].tolist() == m
        assert np.all(a.X[i][~a.mask[i]] == 0)
    assert a.mask.sum() == 7 * 3 - 2


def test_align_accepts_a_probs_column_and_two_modalities():
    probs = {
        m: pd.DataFrame({"utt_id": ["b", "a", "c"], "probs": list(np.eye(3)[[1, 0, 2]] + k)})
        for k, m in enumerate(("audio", "text"))
    }
    probs["text"].loc[1, "probs"] = None
    a = align(probs, ["a", "b", "c"], modalities=("audio", "text"))
    assert a.utt_ids == ["b", "c"] and a.X.shape == (2, 2, 3)
    np.testing.assert_allclose(a.X[0, 1], [1, 2, 1])
    assert a.dropped == {"audio": 0, "text": 1}


def test_align_rejects_duplicates_and_missing_modalities():
    outs = three_modalities()
    outs["frame"] = pd.concat([outs["frame"], outs["frame"].head(1)])
    with pytest.raises(ValueError, match="frame outputs repeat utterance ids"):
        align(outs, ORDER)
    with pytest.raises(KeyError, match="no outputs for modalities"):
        align({"frame": outs["audio"]}, ORDER)


def test_kfold_partitions_and_keeps_groups_together():
    groups = np.repeat(np.arange(10), np.arange(1, 11))  # 55 items, uneven group sizes
    folds = kfold_indices(len(groups), 5, seed=3, groups=groups)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held.tolist()) == list(range(55))
    for tr, ho in folds:
        assert not set(groups[tr]) & set(groups[ho])
        assert len(np.intersect1d(tr, ho)) == 0 and len(tr) + len(ho) == 55
    sizes = [len(h) for _, h in folds]
    assert max(sizes) - min(sizes) <= 10
    assert [h.tolist() for _, h in folds] == [h.tolist() for _, h in kfold_indices(55, 5, seed=3, groups=groups)]
    plain = kfold_indices(23, 4, seed=0)
    assert sorted(np.concatenate([h for _, h in plain]).tolist()) == list(range(23))
    with pytest.raises(ValueError, match="groups cannot make"):
        kfold_indices(4, 3, groups=[0, 0, 1, 1])


def test_out_of_fold_outputs_never_come_from_a_model_that_saw_the_utterance():
    train_rows = np.arange(100, 160)
    test_rows = np.arange(500, 520)
    speakers = (train_rows // 7) % 9
    trained_on: list[set[int]] = []

    def fit_and_predict(fit_rows, predict_rows, fold):
        assert fold == len(trained_on)
        trained_on.append(set(fit_rows.tolist()))
        out = np.zeros((len(predict_rows), 3))
        out[:, 0] = len(trained_on) - 1  # which model produced the output
        out[:, 1] = predict_rows
        return out

    oof, fold_outputs = out_of_fold_predict(
        train_rows, 4, fit_and_predict, test_rows=test_rows, groups=speakers, progress=False
    )
    assert oof.shape == (60, 3) and len(fold_outputs) == 4 and len(trained_on) == 4
    np.testing.assert_array_equal(oof[:, 1], train_rows)  # outputs come back in train_rows order
    for row, model in zip(train_rows, oof[:, 0].astype(int)):
        assert row not in trained_on[model]
    for model, out in enumerate(fold_outputs):
        np.testing.assert_array_equal(out[:, 1], test_rows)
        assert (out[:, 0] == model).all()
        assert not trained_on[model] & set(test_rows.tolist())
    for model, seen in enumerate(trained_on):  # a speaker's held-out rows never trained its own model
        held = train_rows[oof[:, 0] == model]
        assert not set(speakers[np.isin(train_rows, held)]) & set(speakers[np.isin(train_rows, list(seen))])
    with pytest.raises(ValueError, match="both training and test rows"):
        out_of_fold_predict(train_rows, 4, fit_and_predict, test_rows=train_rows[:3], progress=False)


def test_masked_rows_do_not_influence_the_fusion_output():
    torch.manual_seed(0)
    model = FusionTransformer(3, 4).eval()
    x = torch.rand(5, 3, 4)
    mask = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 0, 0]], dtype=torch.bool)
    changed = x.clone()
    changed[~mask] = torch.rand(int((~mask).sum()), 4)
    with torch.no_grad():
        a, b = model(x, mask), model({"x": changed, "mask": mask})
    np.testing.assert_allclose(a[:4].numpy(), b[:4].numpy(), atol=1e-5)
    assert torch.isfinite(a).all()
    with pytest.raises(ValueError, match="fusion input must be"):
        model(torch.rand(2, 2, 4))


def noisy_modalities(n, rng, m):
    """Each modality is reliable on some classes and near random on the others."""
    y = rng.integers(0, 4, n)
    reliable = [{0, 1}, {2, 3}, {1, 2}][:m]
    X = np.zeros((n, m, 4), dtype=np.float32)
    for i, c in enumerate(y):
        for j in range(m):
            k = c if rng.random() < (0.9 if c in reliable[j] else 0.35) else rng.choice([d for d in range(4) if d != c])
            logits = rng.normal(0, 0.7, 4)
            logits[k] += 2.0
            X[i, j] = np.exp(logits) / np.exp(logits).sum()
    return X, y


@pytest.mark.parametrize("m", [3, 2])
def test_fusion_beats_every_single_modality(m, tmp_path):
    rng = np.random.default_rng(m)
    X, y = noisy_modalities(900, rng, m)
    tr, va, te = np.split(np.arange(900), [500, 600])
    L.seed_everything(0)
    model = get_model("fusion_transformer", 4, num_modalities=m)
    result = fit(
        model,
        FusionDataset(X[tr], None, y[tr]),
        FusionDataset(X[va], None, y[va]),
        4,
        FitConfig(epochs=10, batch_size=32, lr=3e-3, patience=None, enable_progress_bar=False),
        tmp_path,
    )
    best = load_best(get_model("fusion_transformer", 4, num_modalities=m), result.best_ckpt)
    fused = np.mean(predict_proba(best, FusionDataset(X[te], None, y[te])).argmax(1) == y[te])
    single = [np.mean(X[te, j].argmax(1) == y[te]) for j in range(m)]
    assert fused > max(single) + 0.08, f"fusion {fused:.2f} vs single modalities {single}"
