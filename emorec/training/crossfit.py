"""Cross-fitting: train the fusion on unimodal outputs that come from models which never saw the utterance.

`out_of_fold_predict` splits the training rows into k folds; the model of fold i is trained on the other
folds and predicts fold i (its out-of-fold outputs) and, when given, the test rows. The test outputs of the
k fold models are averaged by the caller (`np.mean(fold_outputs, axis=0)`), so test utterances too get
outputs only from models that never saw them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm


def kfold_indices(
    n: int | Sequence, k: int, seed: int = 0, groups: Sequence | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train_idx, heldout_idx) position splits of range(n); every position is held out exactly once.

    `n` is a count or a sequence (its length). With `groups` (one value per position, e.g. the speaker),
    a group never spans two folds: groups are shuffled by `seed` and assigned, largest first, to the
    currently smallest fold.
    """
    n = n if isinstance(n, (int, np.integer)) else len(n)
    if k < 2:
        raise ValueError(f"kfold_indices: k must be >= 2, got {k}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(n, dtype=np.int64)
    if groups is None:
        if n < k:
            raise ValueError(f"kfold_indices: {n} items cannot make {k} folds")
        fold_of[rng.permutation(n)] = np.arange(n) % k
    else:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"kfold_indices: {len(groups)} groups for {n} items")
        uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
        if len(uniq) < k:
            raise ValueError(f"kfold_indices: {len(uniq)} groups cannot make {k} folds")
        shuffled = rng.permutation(len(uniq))
        by_size = shuffled[np.argsort(-counts[shuffled], kind="stable")]
        sizes, group_fold = np.zeros(k, dtype=np.int64), np.empty(len(uniq), dtype=np.int64)
        for g in by_size:
            f = int(np.argmin(sizes))
            group_fold[g], sizes[f] = f, sizes[f] + counts[g]
        fold_of = group_fold[inv]
    idx = np.arange(n)
    return [(idx[fold_of != f], idx[fold_of == f]) for f in range(k)]


def _accepts_fold(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "fold" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def out_of_fold_predict(
    train_rows: Sequence,
    k: int,
    fit_and_predict: Callable[..., np.ndarray],
    *,
    test_rows: Sequence | None = None,
    groups: Sequence | None = None,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Out-of-fold probabilities for `train_rows` and each fold model's probabilities for `test_rows`.

    `fit_and_predict(fit_rows, predict_rows) -> (len(predict_rows), C)` trains a fresh model on `fit_rows`
    and predicts `predict_rows` (it also gets `fold=i` when it accepts a `fold` argument, e.g. to pick an
    output folder). predict_rows = the held-out training rows followed by `test_rows`.
    Returns (oof (len(train_rows), C) in train_rows order, [fold i's (len(test_rows), C)] * k).
    `groups` (aligned with train_rows) keeps e.g. a speaker's utterances in one fold.
    """
    train_rows = np.asarray(train_rows)
    test_rows = np.asarray([] if test_rows is None else test_rows, dtype=train_rows.dtype)
    leak = np.intersect1d(train_rows, test_rows)
    if len(leak):
        raise ValueError(
            f"out_of_fold_predict: {len(leak)} rows are both training and test rows, e.g. {leak[:5].tolist()}"
        )
    pass_fold = _accepts_fold(fit_and_predict)
    oof, fold_outputs = None, []
    splits = kfold_indices(len(train_rows), k, seed=seed, groups=groups)
    for i, (fit_idx, held_idx) in enumerate(tqdm(splits, desc="cross-fitting folds", disable=not progress)):
        predict_rows = np.concatenate([train_rows[held_idx], test_rows])
        kwargs = {"fold": i} if pass_fold else {}
        probs = np.asarray(fit_and_predict(train_rows[fit_idx], predict_rows, **kwargs))
        if probs.ndim != 2 or len(probs) != len(predict_rows):
            raise ValueError(f"fit_and_predict returned shape {probs.shape} for {len(predict_rows)} rows (fold {i})")
        if oof is None:
            oof = np.full((len(train_rows), probs.shape[1]), np.nan, dtype=np.float64)
        oof[held_idx] = probs[: len(held_idx)]
        fold_outputs.append(probs[len(held_idx) :])
    return oof, fold_outputs
