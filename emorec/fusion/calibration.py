"""Temperature scaling (Guo et al., 2017): one temperature per recogniser, fitted on its own validation outputs,
so that its probabilities say how often it is right before they are pooled with other recognisers'."""

from __future__ import annotations

import numpy as np

MIN_T, MAX_T = 0.05, 20.0


def tempered_log_probs(probs: np.ndarray, temperature: float) -> np.ndarray:
    """log softmax(log p / T): the model's logits divided by T (softmax is blind to the row's constant)."""
    z = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def nll(probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    logp = tempered_log_probs(probs, temperature)
    return float(-logp[np.arange(len(labels)), labels].mean())


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of `labels` under `probs` (N, C)."""
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        raise ValueError("fit_temperature: no validation outputs")
    res = minimize_scalar(
        lambda log_t: nll(probs, labels, float(np.exp(log_t))), bounds=(np.log(MIN_T), np.log(MAX_T)), method="bounded"
    )
    return float(np.exp(res.x))
