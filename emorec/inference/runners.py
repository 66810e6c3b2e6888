"""One runner per model of a bundle: the model, its input kind (rebuilt from model.json), batched softmax.

Each runner turns the decoded media of its modality into model inputs with the input kind's own `extract`
and `transform`, the code training used (emorec.inputs).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.utils.data import default_collate

from emorec.inputs import input_from_meta

BATCH = {"frame": 32, "audio": 32, "text": 16}
MIN_SPEAKER_WINDOWS = 2  # per-speaker statistics need several utterances of the speaker


class ModelRunner:
    def __init__(self, key: str, model, meta):
        """`model`: the module, or a function giving it (loaded when the runner first runs)."""
        self.key, self.meta, self._model = key, meta, model
        self.kind = input_from_meta(meta.input_meta)
        self.batch = BATCH.get(key, 32)

    @property
    def model(self):
        if callable(self._model) and not isinstance(self._model, torch.nn.Module):
            self._model = self._model()
        return self._model

    @property
    def name(self) -> str:
        return self.meta.name

    def timed_probs(self, inputs: list, timings: dict | None) -> np.ndarray:
        t = time.perf_counter()
        out = self.probs(inputs)
        if timings is not None:
            timings[f"{self.key}_model"] = timings.get(f"{self.key}_model", 0.0) + time.perf_counter() - t
        return out

    def probs(self, inputs: list) -> np.ndarray:
        """Softmax probabilities (N, C) of transformed inputs, in batches."""
        outs = []
        with torch.inference_mode():
            for a in range(0, len(inputs), self.batch):
                x = default_collate(inputs[a : a + self.batch])
                outs.append(torch.softmax(self.model(x).float(), dim=-1).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.meta.num_classes), np.float32)

    def rows(self, arrays: dict[str, np.ndarray], stats=None) -> list:
        """Transformed inputs of every row of a batch of extracted arrays."""
        n = len(next(iter(arrays.values())))
        return [self.kind.transform({k: v[i] for k, v in arrays.items()}, stats) for i in range(n)]


class FrameRunner(ModelRunner):
    def crops(self, frames: list[np.ndarray], side: str) -> tuple[np.ndarray, list[bool] | None]:
        return self.kind.crop_window(frames, side)

    def run(self, crops: list[np.ndarray], timings: dict | None = None) -> np.ndarray:
        (name,) = self.kind.arrays()  # "frames" or "faces"
        return self.timed_probs(self.rows({name: np.stack(crops)}), timings)


class AudioRunner(ModelRunner):
    def run(
        self, windows: list[np.ndarray], warnings: list[str] | None = None, timings: dict | None = None
    ) -> np.ndarray:
        """Probabilities of mono windows at the kind's sample rate. A model trained with per-speaker statistics
        is standardised with those of these windows (one recording = one speaker); a single window falls back
        to the statistics of the training rows."""
        t = time.perf_counter()
        arrays = self.kind.extract(windows)
        stats = None
        if self.kind.normalise == "speaker":
            if len(windows) >= MIN_SPEAKER_WINDOWS:
                stats = self.kind.fit_stats(arrays, np.arange(len(windows)))
            elif self.kind.stats is None:
                raise ValueError(
                    f"the {self.name} model was trained with per-speaker statistics: it needs several "
                    "utterances of a speaker, not one (a longer recording with several segments, or "
                    "Recognizer.predict_segments(path, segments, audio=[clip, ...]) over several clips "
                    "of the speaker)"
                )
            elif warnings is not None:
                warnings.append(
                    f"audio: one utterance only; the {self.name} model, trained with per-speaker "
                    "statistics, used the training speakers' statistics instead"
                )
        inputs = self.rows(arrays, stats)
        if timings is not None:
            timings["audio_features"] = time.perf_counter() - t
        return self.timed_probs(inputs, timings)


class TextRunner(ModelRunner):
    def clean(self, text: str | None) -> str:
        return self.kind.clean(text)

    def run(self, cleaned: list[str], contexts: list[str] | None = None, timings: dict | None = None) -> np.ndarray:
        """Probabilities of cleaned, non-empty texts (with their dialogue contexts when the model reads them)."""
        t = time.perf_counter()
        items = cleaned if contexts is None else list(zip(cleaned, contexts))
        inputs = self.rows(self.kind.extract(items))
        if timings is not None:
            timings["tokenize"] = time.perf_counter() - t
        return self.timed_probs(inputs, timings)

    def contexts(self, cleaned: list[str]) -> list[str] | None:
        """Each segment's dialogue context: the segments before it (no speaker names are known here)."""
        k = self.kind.settings.text_context
        if k <= 0:
            return None
        return [" ".join(t for t in cleaned[max(0, i - k) : i] if t) for i in range(len(cleaned))]


RUNNERS = {"frame": FrameRunner, "audio": AudioRunner, "text": TextRunner}
