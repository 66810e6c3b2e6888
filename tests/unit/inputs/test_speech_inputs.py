"""speech_emb and speech_mix: pooling, per-part statistics, which parts preprocessing computes, missing package."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from emorec.inputs.speech_embedding import SPEECH_EMB_DIM, SpeechEmbedder, SpeechEmbeddingMissing, pooled
from emorec.inputs.speech_mix import SpeechMix


def test_pooled_statistics_of_embedding_frames():
    frames = np.arange(12, dtype=np.float32).reshape(4, 3).repeat(32, axis=1)  # 4 frames x 96
    out = pooled(frames)
    assert out.shape == (SPEECH_EMB_DIM,)
    np.testing.assert_allclose(out[:96], frames.mean(0))
    np.testing.assert_allclose(out[96:192], frames.std(0))
    np.testing.assert_allclose(out[192:288], 3.0)  # every value rises by 3 per frame
    np.testing.assert_allclose(out[288:], 0.0, atol=1e-6)
    assert np.isfinite(pooled(frames[:1])).all()  # one frame: no change, no NaN


def test_missing_package_is_one_line_naming_the_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openwakeword" else real(name, *a)
    )
    with pytest.raises(SpeechEmbeddingMissing) as err:
        SpeechEmbedder()
    assert "pip install --no-deps openwakeword==0.4.0" in str(err.value) and "\n" not in str(err.value)


def _fake_extract(monkeypatch, kind: SpeechMix, calls: list):
    for component in kind.components.values():
        ((name, ((dim,), _)),) = component.arrays().items()
        monkeypatch.setattr(
            component,
            "extract",
            lambda items, n=name, d=dim: calls.append(n) or {n: np.ones((len(items), d), np.float32)},
        )


def test_preprocessing_computes_only_parts_without_their_own_kind(monkeypatch):
    kind = SpeechMix({"speech_mix": True, "compare": True})  # the compare kind writes compare.npy itself
    calls: list = []
    _fake_extract(monkeypatch, kind, calls)
    arrays, info = kind.extract_with_info([np.zeros(1600, np.float32)])
    assert sorted(arrays) == ["egemaps", "speech_emb"] and calls == ["egemaps", "speech_emb"] and info == {}
    calls.clear()
    assert sorted(kind.extract([np.zeros(1600, np.float32)])) == ["compare", "egemaps", "speech_emb"]  # prediction
    assert sorted(kind.arrays()) == ["compare", "egemaps", "speech_emb"]


def test_each_part_standardised_with_its_own_statistics():
    rng = np.random.default_rng(0)
    arrays = {
        "compare": rng.normal(5, 3, (20, 6373)).astype(np.float32),
        "speech_emb": rng.normal(-2, 0.1, (20, SPEECH_EMB_DIM)).astype(np.float32),
    }
    kind = SpeechMix({}, {"parts": ["compare", "speech_emb"], "normalise": "speaker"})
    assert sorted(kind.arrays()) == ["compare", "speech_emb"]
    stats = kind.fit_stats(arrays, np.arange(20))
    assert sorted(stats) == ["compare_mean", "compare_std", "speech_emb_mean", "speech_emb_std"]
    rows = [kind.transform({k: v[i] for k, v in arrays.items()}, stats) for i in range(20)]
    for part in ("compare", "speech_emb"):
        x = np.stack([r[part].numpy() for r in rows])
        np.testing.assert_allclose(x.mean(0), 0.0, atol=1e-4)
        np.testing.assert_allclose(x.std(0), 1.0, atol=1e-3)
    saved = SpeechMix(**{k: v for k, v in kind.with_stats(stats).meta().model_dump().items() if k != "kind"})
    np.testing.assert_allclose(saved.transform({k: v[3] for k, v in arrays.items()})["compare"], rows[3]["compare"])


def test_parts_must_be_distinct_known_names():
    with pytest.raises(ValueError, match="distinct"):
        SpeechMix({}, {"parts": ["compare", "compare"]})
    with pytest.raises(ValueError):
        SpeechMix({}, {"parts": ["mfcc"]})
