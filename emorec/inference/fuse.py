"""Combining the per-modality probabilities of each segment: the tightest fusion model covering the modalities
present (a mask for the missing ones), or the mean of the present modalities' probabilities without one."""

from __future__ import annotations

import numpy as np
import torch

from emorec.inference.results import SegmentPrediction
from emorec.inference.segment import Segment
from emorec.inputs import MODALITIES


class Fuser:
    def __init__(self, classes: list[str], models: dict, fusions: dict[str, list[str]]):
        self.classes, self.models, self.fusions = list(classes), models, fusions

    def set_weights(self, weights: dict[str, float]) -> None:
        """Modality weights of the pooling fusions (a ValueError for an unknown modality or a bundle without one)."""
        from emorec.fusion.pooling import LogLinearPool

        pools = {k: m for k, m in self.models.items() if isinstance(m, LogLinearPool)}
        if not pools:
            raise ValueError("fusion weights apply to a bundle whose fusion pools its recognisers (log_linear_pool)")
        for key, pool in pools.items():
            unknown = set(weights) - set(self.fusions[key])
            if unknown or any(w < 0 for w in weights.values()):
                raise ValueError(f"fusion weights: one weight >= 0 per modality of {self.fusions[key]}, got {weights}")
            for j, m in enumerate(self.fusions[key]):
                if m in weights:
                    pool.weight[j] = float(weights[m])

    def choose(self, present: list[str]) -> str | None:
        if not present:
            return None
        fits = [(len(mods), key != "fusion", key) for key, mods in self.fusions.items() if set(present) <= set(mods)]
        return min(fits)[2] if fits else None

    def combine(self, segments: list[Segment], per: list[dict[str, np.ndarray]]) -> list[SegmentPrediction]:
        out: list[SegmentPrediction | None] = [None] * len(segments)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(per):
            present = [m for m in MODALITIES if m in p]
            key = self.choose(present)
            if key is not None:
                groups.setdefault(key, []).append(i)
            elif present:
                probs = np.mean([p[m] for m in present], axis=0)
                out[i] = self.prediction(segments[i], probs, present, "average" if len(present) > 1 else present[0], p)
            else:
                out[i] = self.prediction(segments[i], None, [], "", p)
        for key, idx in groups.items():
            probs = self._fuse(key, [per[i] for i in idx])
            for r, i in enumerate(idx):
                present = [m for m in MODALITIES if m in per[i]]
                out[i] = self.prediction(segments[i], probs[r], present, key, per[i])
        return out  # type: ignore[return-value]

    def _fuse(self, key: str, rows: list[dict[str, np.ndarray]]) -> np.ndarray:
        mods = self.fusions[key]
        x = np.zeros((len(rows), len(mods), len(self.classes)), dtype=np.float32)
        mask = np.zeros((len(rows), len(mods)), dtype=bool)
        for r, p in enumerate(rows):
            for j, m in enumerate(mods):
                if m in p:
                    x[r, j], mask[r, j] = p[m], True
        with torch.inference_mode():
            logits = self.models[key]({"x": torch.from_numpy(x), "mask": torch.from_numpy(mask)})
            return torch.softmax(logits.float(), dim=-1).numpy()

    def prediction(self, seg: Segment, probs, present, model_key, per) -> SegmentPrediction:
        per_mod = {m: {c: float(v) for c, v in zip(self.classes, per[m])} for m in MODALITIES if m in per}
        if probs is None:
            return SegmentPrediction(
                seg.start, seg.end, None, {c: float("nan") for c in self.classes}, [], seg.text, seg.side, "", per_mod
            )
        probs = np.asarray(probs, dtype=np.float64)
        return SegmentPrediction(
            seg.start,
            seg.end,
            self.classes[int(np.argmax(probs))],
            {c: float(v) for c, v in zip(self.classes, probs)},
            list(present),
            seg.text,
            seg.side,
            model_key,
            per_mod,
        )
