"""Silero VAD segments against independently derived speech boundaries of real RAVDESS clips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emorec.inference.segment import Segment, VadConfig, speech_segments
from emorec.speech import vad
from emorec.speech.audio import MissingPackageError
from emorec.speech.vad import SileroConfig, detect_speech, segments_from_probabilities, silero_segments

sf = pytest.importorskip("soundfile")
if not vad.silero_available():
    pytest.skip("Silero VAD not installed (pip install silero-vad onnxruntime)", allow_module_level=True)

SR = 16000


@pytest.fixture(scope="module")
def neutral_clips(shared_data):
    """The 48 neutral RAVDESS clips (emotion 01: 12 actors x 2 statements x 2 repetitions)."""
    files = sorted((shared_data / "ravdess_speech").glob("Actor_*/03-01-01-01-*.wav"))
    if len(files) < 48:
        pytest.skip("RAVDESS speech clips not found")
    clips = []
    for f in files:
        x, sr = sf.read(f, dtype="float32")
        assert sr == SR
        clips.append((f.name, x))
    return clips


def reference_span(
    x: np.ndarray, below_peak_db: float = 25.0, above_lead_db: float = 10.0, max_gap_s: float = 0.3
) -> tuple[float, float]:
    """The sentence's extent from its energy alone, independent of both detectors.

    RAVDESS clips hold one sentence with about a second of silence on each side (near-digital silence
    at -90 dB and below for most actors, a noise floor near -65 dB for some), sometimes a breath or a click.
    Frames of 25 ms every 10 ms count as sounding when they are within 25 dB of the clip's loudest frames
    (99th percentile) and 10 dB above the level of the clip's first 0.3 s (the silence before the sentence).
    Runs of sounding frames separated by less than 0.3 s (pauses between words, stop closures) are joined,
    and the longest joined run is the sentence: a lone breath or click is shorter and sits farther away.
    Checked by eye against the energy contours of a dozen clips: the span starts at the first word's rise
    and ends where "door" fades."""
    hop, win = SR // 100, int(0.025 * SR)
    n = 1 + (len(x) - win) // hop
    frames = np.stack([x[i * hop : i * hop + win] for i in range(n)])
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    lead = float(np.median(db[:30]))
    loud = np.flatnonzero(db >= max(np.percentile(db, 99) - below_peak_db, lead + above_lead_db))
    runs: list[list[int]] = []
    for i in loud:
        if runs and (i - runs[-1][1]) * 0.01 <= max_gap_s:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    first, last = max(runs, key=lambda r: r[1] - r[0])
    return first * 0.01, last * 0.01 + 0.025


def test_silero_covers_the_sentence_and_stays_out_of_the_silence(neutral_clips):
    covered = tight = 0
    for name, x in neutral_clips:
        segments = silero_segments(x, SR)
        assert len(segments) == 1, f"{name}: {segments}"
        seg, (ref_start, ref_end) = segments[0], reference_span(x)
        overlap = min(seg.end, ref_end) - max(seg.start, ref_start)
        assert overlap >= 0.8 * (ref_end - ref_start), f"{name}: {seg} vs reference {ref_start:.2f}-{ref_end:.2f}"
        # covers: starts before the reference (within one 32 ms model frame) and ends after it (same)
        covered += seg.start <= ref_start + 0.05 and seg.end >= ref_end - 0.05
        # stays out of the silence: at most the 0.1 s padding plus Silero's ~0.25 s hangover beyond it
        tight += seg.start >= ref_start - 0.35 and seg.end <= ref_end + 0.35
    assert covered >= 0.9 * len(neutral_clips), f"{covered} of {len(neutral_clips)} clips covered"
    assert tight >= 0.9 * len(neutral_clips), f"{tight} of {len(neutral_clips)} clips without much silence"


def test_concatenated_sentences_give_one_segment_each(neutral_clips):
    chosen = neutral_clips[::12][:4]  # four actors
    rng = np.random.default_rng(0)
    x = np.concatenate([c for _, c in chosen])
    x = x + 10 ** (-50 / 20) * rng.standard_normal(len(x)).astype(np.float32)  # a quiet noise floor throughout
    segments = silero_segments(x, SR)
    assert len(segments) == len(chosen), segments
    offset = 0.0
    for seg, (name, clip) in zip(segments, chosen):
        ref_start, ref_end = reference_span(clip)
        assert seg.start <= offset + ref_start + 0.05 and seg.end >= offset + ref_end - 0.05, (name, seg, offset)
        offset += len(clip) / SR


def test_silence_and_noise_give_no_speech():
    rng = np.random.default_rng(1)
    n = 5 * SR
    assert silero_segments(np.zeros(n, np.float32), SR) == []
    assert silero_segments(np.zeros(0, np.float32), SR) == []
    for level_db in (-40, -20, -6):
        noise = (10 ** (level_db / 20) * rng.standard_normal(n)).astype(np.float32)
        speech = sum(s.duration for s in silero_segments(noise, SR))
        assert speech < 0.5, f"white noise at {level_db} dBFS: {speech:.2f} s of speech"
    hum = (0.3 * np.sin(2 * np.pi * 100 * np.arange(n) / SR)).astype(np.float32)
    assert silero_segments(hum, SR) == []


def test_other_rates_and_stereo_give_the_same_segments(neutral_clips):
    import soxr

    _, x = neutral_clips[5]
    (base,) = silero_segments(x, SR)
    for rate in (8000, 44100, 48000):
        y = soxr.resample(x, SR, rate).astype(np.float32)
        (seg,) = silero_segments(y, rate)
        assert abs(seg.start - base.start) <= 0.07 and abs(seg.end - base.end) <= 0.07, (rate, seg, base)
    (seg,) = silero_segments(np.stack([x, x], axis=1), SR)
    assert (seg.start, seg.end) == (base.start, base.end)


def test_long_speech_is_cut_in_the_pauses(neutral_clips):
    """Four sentences 0.2 s apart merge into one stretch of speech; max_segment_s cuts it between sentences."""
    pieces, gaps, t = [], [], 0.0
    for _, clip in neutral_clips[1::12][:4]:
        a, b = reference_span(clip)
        core = clip[int((a - 0.05) * SR) : int((b + 0.05) * SR)]
        pieces += [core, np.zeros(int(0.2 * SR), np.float32)]
        t += len(core) / SR
        gaps.append((t, t + 0.2))
        t += 0.2
    x = np.concatenate(pieces)
    whole = silero_segments(x, SR, VadConfig(max_segment_s=60))
    assert len(whole) == 1
    cut = silero_segments(x, SR, VadConfig(max_segment_s=4.0))
    assert len(cut) >= 2 and all(s.duration <= 4.0 + 1e-6 for s in cut), cut
    for left, right in itertools.pairwise(cut):
        assert left.end == right.start
        assert any(g0 - 0.1 <= left.end <= g1 + 0.1 for g0, g1 in gaps), (left.end, gaps)


def test_config_options_apply():
    probs = np.zeros(200, np.float32)  # 6.4 s of frames
    probs[30:60] = 0.9  # 0.96-1.92 s
    probs[66:100] = 0.9  # a 0.19 s dip, then to 3.2 s
    probs[150:154] = 0.9  # a 0.13 s burst
    segs = segments_from_probabilities(probs, 6.4, VadConfig(merge_gap_s=0.35, min_speech_s=0.3, pad_s=0.1))
    assert [(s.start, s.end) for s in segs] == [(0.86, 3.3)]
    segs = segments_from_probabilities(probs, 6.4, VadConfig(merge_gap_s=0.1, min_speech_s=0.1, pad_s=0.0))
    assert [(s.start, s.end) for s in segs] == [(0.96, 1.92), (2.112, 3.2), (4.8, 4.928)]
    high = segments_from_probabilities(probs, 6.4, VadConfig(), SileroConfig(threshold=0.95))
    assert high == []
    padded = segments_from_probabilities(probs, 6.4, VadConfig(merge_gap_s=0.1, min_speech_s=0.1, pad_s=0.5))
    assert all(a.end <= b.start for a, b in itertools.pairwise(padded))  # padding never overlaps


def test_detect_speech_methods(neutral_clips, monkeypatch):
    _, x = neutral_clips[0]
    auto = detect_speech(x, SR)
    assert auto.method == "silero" and auto.segments == silero_segments(x, SR) and auto.note is None
    energy = detect_speech(x, SR, method="energy")
    assert energy.method == "energy" and energy.segments == speech_segments(x, SR)
    with pytest.raises(ValueError, match="auto, silero, energy"):
        detect_speech(x, SR, method="webrtc")

    def missing():
        raise MissingPackageError("Silero VAD", vad.SILERO_INSTALL)

    monkeypatch.setattr(vad, "silero_model_path", missing)
    fallback = detect_speech(x, SR)
    assert fallback.method == "energy" and fallback.segments == energy.segments
    assert "pip install silero-vad" in fallback.note
    with pytest.raises(MissingPackageError) as err:
        detect_speech(x, SR, method="silero")
    assert "\n" not in str(err.value) and "pip install silero-vad" in str(err.value)
    assert isinstance(fallback.segments[0], Segment)
