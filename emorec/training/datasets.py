"""Torch datasets over a feature store (memory-mapped, rows read lazily) or in-memory arrays.

`StoreDataset(source, rows, labels, kind)` yields `(x, y)` for store rows `rows`, where x is the input kind's
transform of the row's arrays (emorec.inputs): frames normalised with ImageNet statistics, spectrograms and
openSMILE functionals standardised with the kind's training statistics or, with `row_stats` ({row: stats},
from `speaker_stats`), with each row's own speaker's; tokens as long tensors. `augment` (training only) is
applied by the kind. `y` is the class index (long), or -1 when `labels` is None.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from emorec.inputs import InputKind
from emorec.inputs.augment import Augment
from emorec.inputs.base import read_rows


def speaker_stats(source, kind: InputKind, rows_by_speaker: dict[str, np.ndarray]) -> dict[int, dict]:
    """{row: stats}: every row gets the statistics of all rows of its speaker (labels unused)."""
    if not kind.per_speaker:
        raise ValueError(f"speaker normalisation is for spectrogram or openSMILE functionals inputs, not {kind.name!r}")
    out: dict[int, dict] = {}
    for rows in rows_by_speaker.values():
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        stats = kind.fit_stats(source, rows)
        out.update({int(r): stats for r in rows})
    return out


class StoreDataset(Dataset):
    def __init__(
        self,
        source,
        rows,
        labels,
        kind: InputKind,
        *,
        row_stats: dict[int, dict] | None = None,
        augment=None,
        seed: int = 0,
    ):
        if not isinstance(kind, InputKind):
            raise TypeError(f"StoreDataset: kind must be an emorec.inputs.InputKind, got {type(kind).__name__}")
        self.source, self.kind = source, kind
        self.rows = np.asarray(rows, dtype=np.int64)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(self.rows):
            raise ValueError(f"StoreDataset: {len(self.labels)} labels for {len(self.rows)} rows")
        self.augment = Augment.coerce(augment)
        kind.check_augment(self.augment)
        self.row_stats = row_stats
        if row_stats is not None:
            missing = [int(r) for r in self.rows if int(r) not in row_stats]
            if missing:
                raise ValueError(f"StoreDataset: no speaker statistics for rows {missing[:5]}")
        self.names = list(kind.arrays())
        self.rng = np.random.default_rng(seed)
        self._arrays: dict[str, np.ndarray] = {}

    def __getstate__(self):  # worker processes reopen the memmaps
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    def _array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = read_rows(self.source, name)
        return self._arrays[name]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        r = int(self.rows[i])
        y = torch.tensor(-1 if self.labels is None else int(self.labels[i]), dtype=torch.long)
        arrays = {name: self._array(name)[r] for name in self.names}
        stats = self.row_stats[r] if self.row_stats is not None else None
        return self.kind.transform(arrays, stats, self.augment, self.rng), y


class FusionDataset(Dataset):
    """(dict(x=(M, C), mask=(M,)), y) items over aligned unimodal outputs (see emorec.fusion.align)."""

    def __init__(self, X: np.ndarray, mask: np.ndarray | None = None, labels=None):
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if self.X.ndim != 3:
            raise ValueError(f"FusionDataset: X must be (N, M, C), got shape {tuple(self.X.shape)}")
        m = np.ones(self.X.shape[:2], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if m.shape != tuple(self.X.shape[:2]):
            raise ValueError(f"FusionDataset: mask shape {m.shape} does not match X {tuple(self.X.shape)}")
        self.mask = torch.as_tensor(m)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(self.X):
            raise ValueError(f"FusionDataset: {len(self.labels)} labels for {len(self.X)} rows")

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        y = -1 if self.labels is None else int(self.labels[i])
        return {"x": self.X[i], "mask": self.mask[i]}, torch.tensor(y, dtype=torch.long)
