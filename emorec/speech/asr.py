"""Speech recognition with faster-whisper (CTranslate2 Whisper), int8 on CPU, models never downloaded.

>>> t = Transcriber()                      # packaged Whisper base, language detected
>>> t.transcribe(samples, sr).segments     # whole recording: Whisper's own segments -> utterances
>>> transcribe_speech(samples, sr, t)      # speech segments (Silero or energy) -> one utterance each
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from emorec.inference.segment import Segment, VadConfig, _mono, speech_segments
from emorec.speech.audio import SAMPLE_RATE, require, to_16k
from emorec.speech.models import DEFAULT_MODEL, resolve_model
from emorec.speech.utterances import utterances_from_whisper
from emorec.speech.vad import SileroConfig, detect_speech

WHISPER_INSTALL = "faster-whisper==1.2.1"
DETECT_S = 10.0  # language detection looks at up to this much speech (of the utterances, joined)
MIN_ASR_S = 0.1  # shorter pieces are not sent to Whisper
CONTEXT_S = 0.5  # audio Whisper hears before and after each speech segment (a first consonant cut by the VAD)
TOKENS_BASE, TOKENS_PER_S = 16, 8  # the token cap of one utterance's decoding (max_tokens)
MAX_TOKENS = 400  # Whisper's context is 448 tokens, the prompt included
PAD_KEPT_FRAMES = 500  # padding kept after an utterance (10 ms frames; Whisper pads every window to 3000)
MIN_WINDOW_FRAMES = 1500  # the shortest window encoded: shorter ones made Whisper repeat the sentence
CONFIDENT_NO_SPEECH = 0.5  # `confident`: Whisper's no-speech probability below this ...
CONFIDENT_LOGPROB = -1.0  # ... and mean token log probability above this


@dataclass
class Transcript:
    """Utterances with text (None where Whisper heard no words in a speech segment), the language
    (given or detected) and how the speech segments were found (None for `Transcriber.transcribe`)."""

    segments: list[Segment]
    language: str  # "" when it was not given and there was no speech to detect it on
    language_probability: float  # 1.0 when the language was given
    vad_method: str | None = None
    note: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)


class Transcriber:
    """A loaded Whisper model. `model`: "base" (the packaged default), a local CTranslate2 model folder,
    or a faster-whisper model name already in the local cache. `language`: a code such as "en", or None to
    detect it once per recording. `threads`: CPU threads (None: $OMP_NUM_THREADS, else the usable cores, at
    most 4). `context_s`: audio Whisper hears before and after each given segment (see `asr_windows`).
    `short_windows`: each utterance's 30 s window is encoded without most of its padding (`WhisperEncoding`)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        language: str | None = None,
        threads: int | None = None,
        beam_size: int = 5,
        max_utterance_s: float = 10.0,
        context_s: float = CONTEXT_S,
        device: str = "cpu",
        compute_type: str = "int8",
        short_windows: bool = True,
    ):
        require("faster_whisper", "Speech recognition", WHISPER_INSTALL)
        from faster_whisper import WhisperModel

        if max_utterance_s <= 0:
            raise ValueError(f"max_utterance_s must be > 0, got {max_utterance_s}")
        self.model_path = resolve_model(model)
        self.model = WhisperModel(
            self.model_path,
            device=device,
            compute_type=compute_type,
            cpu_threads=int(threads or default_threads()),
            local_files_only=True,
        )
        self.model.encode = WhisperEncoding(self.model.encode)
        if language is not None and language not in self.model.supported_languages:
            raise ValueError(f"unknown language code {language!r} for this Whisper model (codes such as en, de, fr)")
        self.language, self.beam_size, self.max_utterance_s = language, beam_size, max_utterance_s
        self.context_s = max(0.0, float(context_s))
        self.short_windows = short_windows

    def _decode(self, audio: np.ndarray, language: str | None, words: bool, utterance: bool = False):
        """Whisper's segments of `audio`. `utterance` (one speech segment): at most `max_tokens(seconds)` tokens
        per Whisper window, so that a hallucination loop on noise or music ends early instead of running to
        Whisper's 448 tokens at each of its fallback temperatures."""
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            word_timestamps=words,
            condition_on_previous_text=False,
            vad_filter=False,
            max_new_tokens=max_tokens(len(audio) / SAMPLE_RATE) if utterance else None,
        )
        return list(segments), info

    def detect_language(self, samples: np.ndarray, sr: int) -> tuple[str, float]:
        """(language code, probability) from the first `DETECT_S` seconds of the audio. It looks at the frames that
        Whisper's decoding of the same audio encodes (all but the last one), so that where the audio is one
        utterance, decoding it reuses the encoder's pass (`WhisperEncoding`): 0.65 s less on a 2-core CPU."""
        x = to_16k(samples, sr)[: int(DETECT_S * SAMPLE_RATE)]
        features = self.model.feature_extractor(x)
        language, probability, _ = self.model.detect_language(features=features[..., : max(1, features.shape[-1] - 1)])
        return language, float(probability)

    def transcribe(self, samples: np.ndarray, sr: int) -> Transcript:
        """The whole recording: Whisper's segments with word timestamps, long ones cut between words so
        that utterances last at most `max_utterance_s`."""
        x = to_16k(samples, sr)
        if not len(x):
            return Transcript([], self.language or "", 1.0 if self.language else 0.0)
        segments, info = self._decode(x, self.language, words=True)
        utterances = utterances_from_whisper(segments, self.max_utterance_s)
        return Transcript(utterances, info.language, float(info.language_probability))

    def transcribe_segments(
        self,
        samples: np.ndarray,
        sr: int,
        segments: list[Segment],
        language: str | None = None,
        confident_only: bool = False,
        others: list[Segment] = (),
    ) -> Transcript:
        """One utterance per given segment (same times and side), with the words Whisper hears in it
        (Whisper hears `context_s` more on each side, never past the middle of the gap to a neighbour in
        `segments` or `others`). The language is `language`, else the transcriber's, else detected once on
        up to `DETECT_S` seconds of the segments' audio. `confident_only` keeps only text Whisper is sure is speech."""
        x = to_16k(samples, sr)
        windows = asr_windows(segments, len(x) / SAMPLE_RATE, self.context_s, others)
        pieces = [x[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in windows]
        language, probability = language or self.language, 1.0
        with self.model.encode.short_windows() if self.short_windows else nullcontext():
            if language is None:
                speech = np.concatenate([p for p in pieces if len(p)] or [np.zeros(0, np.float32)])
                language, probability = self.detect_language(speech, SAMPLE_RATE) if len(speech) else ("", 0.0)
            out = []
            for seg, piece in zip(segments, pieces):
                text = None
                if len(piece) >= MIN_ASR_S * SAMPLE_RATE:
                    decoded, _ = self._decode(piece, language, words=False, utterance=True)
                    kept = [d.text.strip() for d in decoded if d.text.strip() and (confident(d) or not confident_only)]
                    text = " ".join(kept) if any(c.isalnum() for t in kept for c in t) else None
                out.append(Segment(seg.start, seg.end, text, seg.side))
        return Transcript(out, language, probability)


class WhisperEncoding:
    """A Whisper model's `encode`, with two savings for utterances.

    It remembers its last input and output: language detection and the decoding of the same window encode
    it once (safe from several threads: at worst one more pass). Inside `short_windows()` (this thread
    only), a window's trailing padding is cut to `PAD_KEPT_FRAMES` before encoding: the encoder's cost
    grows with its input, and Whisper pads every utterance to 30 s."""

    def __init__(self, encode):
        self.encode, self.last = encode, None
        self._local = threading.local()

    @contextmanager
    def short_windows(self):
        before = getattr(self._local, "short", False)
        self._local.short = True
        try:
            yield
        finally:
            self._local.short = before

    def __call__(self, features: np.ndarray):
        if getattr(self._local, "short", False):
            features = without_padding(features)
        last = self.last
        if last is not None and last[0].shape == features.shape and np.array_equal(last[0], features):
            return last[1]
        out = self.encode(features)
        self.last = (np.array(features, copy=True), out)
        return out


def without_padding(features: np.ndarray, kept: int | None = None, least: int | None = None) -> np.ndarray:
    """Log-mel features (..., 80, frames) without their trailing all-zero frames (Whisper's padding) beyond
    `kept` frames, and at least `least` frames long (an even count: the encoder halves it)."""
    kept = PAD_KEPT_FRAMES if kept is None else kept
    least = MIN_WINDOW_FRAMES if least is None else least
    active = np.flatnonzero(np.abs(features).reshape(-1, features.shape[-1]).max(axis=0) > 0)
    content = int(active[-1]) + 1 if len(active) else 0
    n = min(features.shape[-1], max(least, content + kept))
    n += n % 2
    return features[..., :n] if n < features.shape[-1] else features


def max_tokens(seconds: float) -> int:
    """Tokens Whisper may write for an utterance of `seconds`: twice a fast speaker's rate (about 4 tokens a
    second, timestamps included), plus room for a short word in a short clip."""
    return min(int(TOKENS_BASE + TOKENS_PER_S * seconds), MAX_TOKENS)


def default_threads() -> int:
    """$OMP_NUM_THREADS when set, else the cores this process may use, at most 4: CTranslate2's own default
    of 4 threads on a 2-core machine decoded 4-25 % slower here than 2."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def asr_windows(
    segments: list[Segment], duration: float, context_s: float, others: list[Segment] = ()
) -> list[tuple[float, float]]:
    """Each segment widened by up to `context_s` on both sides, within [0, duration], but never past the
    middle of the gap to the nearest other segment (of `segments` or `others`) on that side."""
    everyone = sorted([(s.start, s.end) for s in [*segments, *others]])
    out = []
    for seg in segments:
        lo, hi = max(0.0, seg.start - context_s), min(duration, seg.end + context_s)
        for a, b in everyone:
            if (a, b) == (seg.start, seg.end):
                continue
            if b <= seg.start:
                lo = max(lo, (b + seg.start) / 2)
            elif a >= seg.end:
                hi = min(hi, (seg.end + a) / 2)
        out.append((min(lo, seg.start), max(hi, min(seg.end, duration))))
    return out


def confident(decoded) -> bool:
    """Whisper takes a decoded segment for speech: low no-speech probability, high mean token log probability."""
    return decoded.no_speech_prob < CONFIDENT_NO_SPEECH and decoded.avg_logprob > CONFIDENT_LOGPROB


def uncovered_parts(segments: list[Segment], cover: list[Segment], min_s: float) -> list[Segment]:
    """The parts of `segments` outside every segment of `cover`, those at least `min_s` long."""
    out = []
    for seg in segments:
        start = seg.start
        for c in sorted(cover, key=lambda c: c.start):
            if c.end <= start or c.start >= seg.end:
                continue
            if c.start - start >= min_s:
                out.append(Segment(start, c.start))
            start = max(start, c.end)
        if seg.end - start >= min_s:
            out.append(Segment(start, seg.end))
    return out


def transcribe_speech(
    samples: np.ndarray,
    sr: int,
    transcriber: Transcriber,
    cfg: VadConfig | None = None,
    method: str = "auto",
    silero: SileroConfig | None = None,
    rescue: bool = True,
) -> Transcript:
    """Speech segments (`emorec.speech.detect_speech`), then the words of each, in time order.

    Silero VAD misses some shouted speech. With `rescue`, the parts of energy-detector segments that no
    Silero segment covers (at least `cfg.min_speech_s` long) are transcribed too, and kept only where
    Whisper confidently hears words."""
    cfg = cfg or VadConfig()
    found = detect_speech(samples, sr, cfg, method, silero)
    result = transcriber.transcribe_segments(samples, sr, found.segments)
    result.vad_method, result.note = found.method, found.note
    if not (rescue and found.method == "silero"):
        return result
    energy = speech_segments(_mono(samples), sr, cfg) if len(samples) else []
    extra = uncovered_parts(energy, found.segments, cfg.min_speech_s)
    if extra:
        checked = transcriber.transcribe_segments(
            samples, sr, extra, language=result.language or None, confident_only=True, others=found.segments
        )
        kept = [s for s in checked.segments if s.text]
        if kept:
            if not result.segments:
                result.language, result.language_probability = checked.language, checked.language_probability
            result.segments = sorted(result.segments + kept, key=lambda s: s.start)
            result.vad_method = "silero+energy"
            result.note = f"{len(kept)} segment(s) found by the energy detector only, kept as Whisper heard words"
    return result
