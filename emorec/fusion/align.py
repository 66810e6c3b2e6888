"""Postprocessing: line up each modality's class probabilities per utterance ("siblings") for fusion.

Each modality's outputs are a DataFrame with a `utt_id` column and either one numeric column per class
(named by the class; give `classes` to fix their order) or a single `probs` column holding one array per
row. Rows whose probabilities are missing or NaN count as "no output" for that modality.

    aligned = align({"frame": f, "audio": a, "text": t}, order=manifest.utt_id.tolist())
    aligned.X      # (N, M, C), rows in `modalities` order ("frame", "audio", "text")
    aligned.mask   # (N, M) bool, True = that modality produced an output

missing="drop" (the thesis): an utterance lacking any modality is dropped; `dropped[m]` counts those that
lacked modality m (an utterance lacking two counts for both). missing="mask": such utterances are kept with
zero rows and mask False; utterances with no modality at all are still dropped (`n_empty`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from emorec.inputs import MODALITIES

if TYPE_CHECKING:  # pandas is imported where used: a bundle's fusion model does not need it
    import pandas as pd


@dataclass
class Aligned:
    utt_ids: list[str]
    X: np.ndarray  # (N, M, C) float32
    mask: np.ndarray  # (N, M) bool
    dropped: dict[str, int]
    modalities: tuple[str, ...] = MODALITIES
    classes: list[str] | None = None
    missing: dict[str, int] = field(default_factory=dict)  # utterances of `order` without that modality's output
    n_empty: int = 0  # utterances with no modality at all (always dropped)
    unknown: dict[str, int] = field(default_factory=dict)  # output rows whose utt_id is not in `order` (ignored)

    def rows_of(self, utt_ids: Sequence[str]) -> np.ndarray:
        """Positions in this alignment of the given utterance ids (KeyError when one is absent)."""
        pos = {u: i for i, u in enumerate(self.utt_ids)}
        return np.array([pos[u] for u in utt_ids], dtype=np.int64)


def _probs_matrix(df: pd.DataFrame, modality: str, classes: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    import pandas as pd

    if "probs" in df.columns:
        mats = [
            np.full(0, np.nan) if v is None or (np.isscalar(v) and pd.isna(v)) else np.asarray(v, dtype=float)
            for v in df["probs"]
        ]
        width = max((len(m) for m in mats), default=0)
        if classes is not None and width and width != len(classes):
            raise ValueError(
                f"{modality} outputs: probs arrays have {width} values but there are {len(classes)} classes"
            )
        out = np.full((len(mats), width), np.nan)
        for i, m in enumerate(mats):
            if len(m) == width:
                out[i] = m
            elif len(m):
                raise ValueError(
                    f"{modality} outputs: row {i} ({df['utt_id'].iloc[i]}) has {len(m)} probabilities, expected {width}"
                )
        return out, classes
    if classes is None:
        classes = [c for c in df.columns if c != "utt_id" and pd.api.types.is_numeric_dtype(df[c])]
        if not classes:
            raise ValueError(f"{modality} outputs: no class columns (need one numeric column per class or `probs`)")
    absent = [c for c in classes if c not in df.columns]
    if absent:
        raise ValueError(f"{modality} outputs: class columns missing: {absent}")
    return df[list(classes)].to_numpy(dtype=float), list(classes)


def align(
    outputs: dict[str, pd.DataFrame],
    order: Sequence[str],
    modalities: Sequence[str] = MODALITIES,
    missing: Literal["drop", "mask"] = "drop",
    classes: Sequence[str] | None = None,
) -> Aligned:
    if missing not in ("drop", "mask"):
        raise ValueError(f"align: missing must be 'drop' or 'mask', got {missing!r}")
    modalities = tuple(modalities)
    absent = [m for m in modalities if m not in outputs]
    if absent:
        raise KeyError(f"align: no outputs for modalities {absent}; have {sorted(outputs)}")
    order = [str(u) for u in order]
    if len(set(order)) != len(order):
        raise ValueError("align: `order` has duplicate utterance ids")
    pos = {u: i for i, u in enumerate(order)}
    classes = None if classes is None else [str(c) for c in classes]

    per_mod, unknown = [], {}
    for m in modalities:
        df = outputs[m]
        if "utt_id" not in df.columns:
            raise ValueError(f"align: {m} outputs have no utt_id column")
        ids = df["utt_id"].astype(str)
        dup = ids[ids.duplicated()].unique().tolist()
        if dup:
            raise ValueError(f"align: {m} outputs repeat utterance ids {dup[:5]}")
        probs, classes = _probs_matrix(df, m, classes)
        per_mod.append((ids.to_numpy(), probs))
    width = len(classes) if classes else max(p.shape[1] for _, p in per_mod)

    n, k = len(order), len(modalities)
    X = np.zeros((n, k, width), dtype=np.float32)
    mask = np.zeros((n, k), dtype=bool)
    for j, (m, (ids, probs)) in enumerate(zip(modalities, per_mod)):
        if probs.shape[1] not in (0, width):
            raise ValueError(f"align: {m} outputs have {probs.shape[1]} classes, others {width}")
        known = np.array([u in pos for u in ids], dtype=bool)
        unknown[m] = int((~known).sum())
        ok = known & (np.isfinite(probs).all(axis=1) if probs.shape[1] else False)
        rows = np.array([pos[u] for u in ids[ok]], dtype=np.int64)
        X[rows, j] = probs[ok]
        mask[rows, j] = True

    missing_counts = {m: int((~mask[:, j]).sum()) for j, m in enumerate(modalities)}
    keep = mask.all(axis=1) if missing == "drop" else mask.any(axis=1)
    dropped = {m: missing_counts[m] for m in modalities} if missing == "drop" else {m: 0 for m in modalities}
    return Aligned(
        utt_ids=[order[i] for i in np.flatnonzero(keep)],
        X=X[keep],
        mask=mask[keep],
        dropped=dropped,
        modalities=modalities,
        classes=classes,
        missing=missing_counts,
        n_empty=int((~mask.any(axis=1)).sum()),
        unknown=unknown,
    )
