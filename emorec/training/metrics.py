"""Classification metrics of the thesis: WA, UA, macro/weighted F1, per-class scores, confusion, baselines.

Labels may be class indices (0..C-1) or class names from `classes`.
- accuracy (WA): fraction of test utterances classified correctly.
- unweighted_accuracy (UA): mean per-class recall over the classes present in y_true.
- macro_f1: mean F1 over the classes present in y_true or y_pred; weighted_f1: F1 weighted by true support.
- majority_baseline: accuracy on the test set of always predicting the most frequent TRAINING label
  (the test set's own majority when y_train is None); chance: 1 / number of classes.
- confusion[i][j]: number of test utterances of true class i predicted as class j (all classes, in order).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SCALAR_KEYS = ("accuracy", "unweighted_accuracy", "macro_f1", "weighted_f1", "majority_baseline", "chance")


def _as_index(y, classes: Sequence[str], what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind in "USO" and len(y):
        lookup = {c: i for i, c in enumerate(classes)}
        unknown = sorted({str(v) for v in y if v not in lookup})
        if unknown:
            raise ValueError(f"{what}: labels not among classes {list(classes)}: {unknown}")
        return np.array([lookup[v] for v in y], dtype=np.int64)
    y = y.astype(np.int64)
    if len(y) and (y.min() < 0 or y.max() >= len(classes)):
        raise ValueError(f"{what}: class indices must be in [0, {len(classes)}), got [{y.min()}, {y.max()}]")
    return y


def classification_metrics(y_true, y_pred, classes: Sequence[str], y_train=None) -> dict:
    classes = [str(c) for c in classes]
    t, p = _as_index(y_true, classes, "y_true"), _as_index(y_pred, classes, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    if len(t) == 0:
        raise ValueError("classification_metrics: empty test set")
    c = len(classes)
    conf = np.zeros((c, c), dtype=np.int64)
    np.add.at(conf, (t, p), 1)
    tp = np.diag(conf).astype(float)
    support, predicted = conf.sum(1).astype(float), conf.sum(0).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros(c), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(c), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(c), where=(precision + recall) > 0)
    present = support > 0
    seen = present | (predicted > 0)
    train = t if y_train is None else _as_index(y_train, classes, "y_train")
    majority = int(np.bincount(train, minlength=c).argmax())
    return {
        "accuracy": float(tp.sum() / len(t)),
        "unweighted_accuracy": float(recall[present].mean()),
        "macro_f1": float(f1[seen].mean()),
        "weighted_f1": float((f1 * support).sum() / support.sum()),
        "majority_baseline": float(np.mean(t == majority)),
        "majority_class": classes[majority],
        "chance": 1.0 / c,
        "n_test": int(len(t)),
        "classes": classes,
        "per_class": {
            cls: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, cls in enumerate(classes)
        },
        "confusion": conf.tolist(),
    }


def summarise_folds(folds: list[dict]) -> dict:
    """Mean and sample std (ddof=1; 0 for one fold) over folds of every scalar metric.

    Returns `<key>` (the mean, so the result reads like one metrics dict), `<key>_mean`, `<key>_std`,
    `confusion` summed over folds, `per_class` averaged, `n_test` summed, and the folds themselves in `folds`.
    """
    if not folds:
        raise ValueError("summarise_folds: no folds")
    out: dict = {}
    keys = [k for k, v in folds[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n_test"]
    for k in keys:
        vals = np.array([f[k] for f in folds], dtype=float)
        mean, std = float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        out[k], out[f"{k}_mean"], out[f"{k}_std"] = mean, mean, std
    out["n_test"] = int(sum(f.get("n_test", 0) for f in folds))
    if "classes" in folds[0]:
        out["classes"] = folds[0]["classes"]
    if all("confusion" in f for f in folds):
        out["confusion"] = np.sum([np.asarray(f["confusion"]) for f in folds], axis=0).tolist()
    if all("per_class" in f for f in folds):
        names = list(folds[0]["per_class"])
        out["per_class"] = {
            n: {m: float(np.mean([f["per_class"][n][m] for f in folds])) for m in ("precision", "recall", "f1")}
            | {"support": int(sum(f["per_class"][n]["support"] for f in folds))}
            for n in names
        }
    out["n_folds"] = len(folds)
    out["folds"] = list(folds)
    return out
