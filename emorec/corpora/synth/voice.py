"""Speech-like audio: a harmonic source with an f0 contour, syllable rhythm, noise bursts and vowel formants.

Prosody (f0 level and range, loudness, syllable rate, spectral tilt, breathiness, jitter) depends on the expressed
emotion and on the speaker; everything is vectorised numpy/scipy so an utterance takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, lfilter

SAMPLE_RATE = 16_000

# Per expressed emotion: f0 factor, f0 range (semitones), loudness (dB), syllable-rate factor,
# spectral tilt (one-pole low-pass coefficient, higher = duller), breathiness, jitter.
PROSODY: dict[str, tuple[float, float, float, float, float, float, float]] = {
    "neu": (1.00, 2.5, 0.0, 1.00, 0.80, 0.06, 0.004),
    "hap": (1.12, 5.0, 3.0, 1.10, 0.72, 0.05, 0.006),
    "exc": (1.25, 7.0, 6.0, 1.25, 0.62, 0.05, 0.008),
    "sad": (0.90, 1.5, -6.0, 0.75, 0.92, 0.22, 0.008),
    "ang": (1.15, 6.0, 8.0, 1.15, 0.50, 0.03, 0.012),
    "fru": (1.05, 4.0, 3.0, 1.05, 0.66, 0.08, 0.008),
    "sur": (1.30, 8.0, 4.0, 1.10, 0.70, 0.06, 0.006),
    "fea": (1.20, 5.0, 0.0, 1.30, 0.82, 0.25, 0.020),
    "dis": (0.95, 3.0, -1.0, 0.90, 0.78, 0.12, 0.010),
    "oth": (1.00, 3.0, 0.0, 1.00, 0.75, 0.08, 0.006),
}
# Noise scale of each prosody parameter at voice_noise = 1 (same order as PROSODY).
PROSODY_SPREAD = np.array([0.08, 2.0, 3.0, 0.12, 0.08, 0.06, 0.004])

# Vowel formants (Hz) for an adult male vocal tract; scaled per speaker.
VOWELS = np.array([[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480], [570, 840, 2410]])
BANDWIDTHS = np.array([90.0, 110.0, 170.0])


@dataclass(frozen=True)
class VoiceTraits:
    """A speaker's voice: base pitch, vocal-tract scale, pace, loudness and timbre offsets."""

    f0: float
    formant_scale: float
    rate: float  # syllables per second at neutral
    level_db: float
    tilt: float  # added to the emotion's tilt coefficient
    breath: float

    @classmethod
    def draw(cls, gender: str, rng: np.random.Generator) -> VoiceTraits:
        female = gender == "F"
        return cls(
            f0=float(rng.uniform(185, 235) if female else rng.uniform(98, 135)),
            formant_scale=float(rng.uniform(1.10, 1.20) if female else rng.uniform(0.95, 1.04)),
            rate=float(rng.uniform(3.8, 4.8)),
            level_db=float(rng.uniform(-2.0, 2.0)),
            tilt=float(rng.uniform(-0.06, 0.06)),
            breath=float(rng.uniform(0.0, 0.05)),
        )


def _resonator(freq: float, bw: float) -> np.ndarray:
    r = np.exp(-np.pi * bw / SAMPLE_RATE)
    return np.array([1.0, -2 * r * np.cos(2 * np.pi * freq / SAMPLE_RATE), r * r])


def _formant_filter(formants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1.0])
    for f, bw in zip(formants, BANDWIDTHS):
        a = np.convolve(a, _resonator(min(f, 0.45 * SAMPLE_RATE), bw))
    b = np.array([a.sum()])  # unit gain at DC, keeps vowels comparable in level
    return b, a


def _smooth(x: np.ndarray, seconds: float) -> np.ndarray:
    return uniform_filter1d(x, max(1, int(seconds * SAMPLE_RATE)), axis=-1, mode="nearest")


def _syllables(n: int, rate: float, rng: np.random.Generator):
    """Syllables: gamma-distributed lengths with phrase pauses, laid end to end over the n samples:
    (count, syllable of each sample, inside a syllable, position in it 0-1)."""
    n_syl = max(1, int(round(n / SAMPLE_RATE * rate)))
    lengths = rng.gamma(6.0, 1.0, n_syl)
    pauses = np.where(rng.random(n_syl) < 0.18, rng.uniform(0.6, 1.8, n_syl), 0.0)
    pauses[0] = 0.0
    total = lengths.sum() + pauses.sum()
    begin = (np.cumsum(np.concatenate([[0.0], (lengths + pauses)[:-1]])) + pauses) / total * n
    starts = np.minimum(begin.astype(int), n - 1)
    ends = np.maximum(np.minimum((begin + lengths / total * n).astype(int), n), starts + 1)
    t = np.arange(n)
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, n_syl - 1)
    inside = t < ends[idx]
    pos = np.where(inside, (t - starts[idx]) / (ends[idx] - starts[idx]), 0.0)
    return n_syl, idx, inside, pos


def _source(n, n_syl, idx, voice, f0_factor, f0_range, jitter, tilt, breath, rng) -> np.ndarray:
    """The glottal source: f0 with declination over the utterance, a pitch accent per syllable, slow wander and
    cycle jitter; a pulse train tilted by `tilt`, plus breath."""
    decl = np.linspace(f0_range / 2, -f0_range / 2, n)
    accents = rng.uniform(0.0, f0_range, n_syl) - f0_range / 2
    semitones = decl * 0.6 + _smooth(accents[idx], 0.06) + _smooth(rng.normal(0, 0.3, n), 0.05) * 4
    f0 = voice.f0 * max(f0_factor, 0.5) * 2.0 ** (semitones / 12.0)
    f0 *= 1.0 + jitter * rng.standard_normal(n)
    phase = np.cumsum(f0 / SAMPLE_RATE)
    source = 2.0 * (phase - np.floor(phase)) - 1.0  # sawtooth: all harmonics, 1/k amplitudes
    source = np.diff(source, prepend=source[0]) * -0.5  # pulse train (glottal flow derivative)
    source = lfilter([1.0 - tilt], [1.0, -tilt], source)
    source = source / (np.std(source) + 1e-9)
    aspiration = lfilter(*butter(2, [500, 4000], btype="band", fs=SAMPLE_RATE), rng.standard_normal(n))
    return source + breath * 2.0 * aspiration


def synth_speech(n: int, emotion: str, voice: VoiceTraits, rng: np.random.Generator, noise: float = 0.35) -> np.ndarray:
    """`n` samples of speech-like float32 audio expressing `emotion` with `voice`; `noise` scales prosody jitter."""
    if n <= 0:
        return np.zeros(0, np.float32)
    p = np.array(PROSODY[emotion]) + rng.normal(0.0, 1.0, len(PROSODY_SPREAD)) * PROSODY_SPREAD * noise
    f0_factor, f0_range, level_db, rate_factor, tilt, breath, jitter = p
    f0_range, jitter = max(f0_range, 0.3), max(jitter, 0.0)
    tilt = float(np.clip(tilt + voice.tilt, 0.2, 0.97))
    breath = float(np.clip(breath + voice.breath, 0.0, 0.6))
    rate = voice.rate * max(rate_factor, 0.4)

    n_syl, idx, inside, pos = _syllables(n, rate, rng)

    # Each syllable: optional unvoiced onset (fricative/burst), then a voiced vowel nucleus.
    onset = np.where(rng.random(n_syl) < 0.55, rng.uniform(0.15, 0.35, n_syl), 0.0)
    voiced = inside & (pos >= onset[idx])
    unvoiced = inside & (pos < onset[idx])
    stress = rng.uniform(0.55, 1.0, n_syl)
    shape = np.sin(np.pi * np.clip((pos - onset[idx]) / np.maximum(1 - onset[idx], 1e-3), 0, 1)) ** 0.6
    env_v = _smooth(voiced * shape * stress[idx], 0.008)
    env_u = _smooth(unvoiced * stress[idx] * 0.5, 0.004)

    source = _source(n, n_syl, idx, voice, f0_factor, f0_range, jitter, tilt, breath, rng)

    # Vowel formants: filter once per vowel and cross-fade by syllable.
    vowel_of = rng.integers(0, len(VOWELS), n_syl)
    voiced_out = np.zeros(n)
    for v in range(len(VOWELS)):
        weight = _smooth((vowel_of[idx] == v).astype(float), 0.03)
        if weight.any():
            b, a = _formant_filter(VOWELS[v] * voice.formant_scale)
            y = lfilter(b, a, source)
            voiced_out += weight * y / (np.std(y) + 1e-9)

    cutoff = rng.choice([2500.0, 4000.0], n_syl)[idx]
    hiss = rng.standard_normal(n)
    hiss = np.where(
        cutoff > 3000,
        lfilter(*butter(2, 4000, "high", fs=SAMPLE_RATE), hiss),
        lfilter(*butter(2, 2500, "high", fs=SAMPLE_RATE), hiss),
    )

    y = voiced_out * env_v + hiss * env_u * 0.35
    gain = 0.05 * 10 ** ((level_db + voice.level_db) / 20.0)
    return (y * gain).astype(np.float32)


def mouth_envelope(track: np.ndarray, fps: int, n_frames: int) -> np.ndarray:
    """Per-video-frame loudness of one speaker's track in [0, 1] (drives the drawn mouth)."""
    hop = SAMPLE_RATE / fps
    edges = np.minimum((np.arange(n_frames + 1) * hop).astype(int), len(track))
    sq = np.concatenate([[0.0], np.cumsum(track.astype(np.float64) ** 2)])
    counts = np.maximum(np.diff(edges), 1)
    rms = np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / counts)
    return np.clip(rms / 0.05, 0.0, 1.0)


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype(np.int16)
