"""Whisper and RAVDESS speech for tests: skip cleanly where the packages or the shared clips are missing."""

from __future__ import annotations

from pathlib import Path

import pytest


def whisper_transcriber(**kwargs):
    """emorec's Transcriber on the packaged Whisper base (skips without faster-whisper or the model packages)."""
    pytest.importorskip("faster_whisper")
    from emorec.speech import models
    from emorec.speech.asr import Transcriber

    try:
        models.base_model_sources()
    except ImportError as e:
        pytest.skip(str(e))
    return Transcriber(**kwargs)


def ravdess_wav(shared_data: Path, actor: str, name: str):
    """(samples float32, sample rate) of a RAVDESS speech clip, e.g. ("10", "03-01-03-01-02-02-10")."""
    sf = pytest.importorskip("soundfile")
    path = shared_data / "ravdess_speech" / f"Actor_{actor}" / f"{name}.wav"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return sf.read(path, dtype="float32")


def small_untrained_bundle(folder: Path) -> Path:
    """An untrained frame + audio + text bundle with small inputs (fast to build and run)."""
    from emorec.inference import build_untrained_bundle

    return build_untrained_bundle(
        folder / "model.emorec",
        preprocess={"frame_size": 32, "spec_size": [32, 96], "n_mels": 32, "max_length": 16},
        kwargs={"audio": {"hidden": 64}},
    )
