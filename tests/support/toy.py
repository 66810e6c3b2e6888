"""Toy eGeMAPS-shaped data where the class shows in the first 8 x C features (training tests)."""

import numpy as np

from emorec.training.datasets import StoreDataset
from support.kinds import fitted

C = 4


def egemaps_data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    x = rng.normal(0, 1, (n, 88))
    x[:, : 8 * C] += 1.5 * np.repeat(np.eye(C)[y], 8, axis=1)
    return {"egemaps": x.astype(np.float32)}, y


def egemaps_sets(arrays, y, tr, va):
    kind = fitted("egemaps", arrays, tr)
    return [StoreDataset(arrays, r, y[r], kind) for r in (tr, va)]
