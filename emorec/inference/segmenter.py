"""How a recording is cut into utterances when no explicit segments are given: subtitle or transcript cues, fixed
windows, or detected speech, transcribed by Whisper when the bundle reads text (emorec.speech)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.inference.media import MediaInfo, all_samples
from emorec.inference.segment import Segment, VadConfig, clip_to_duration, fixed_windows

ASR_MODES = ("auto", "on", "off")
FALLBACK_WINDOW_S = 5.0  # no transcript and no speech found (or no audio track): windows of this length


@dataclass
class SpeechOptions:
    asr: str = "auto"  # auto: transcribe when the bundle reads text; on; off
    language: str | None = None
    vad: str = "auto"  # auto (Silero when installed), silero, energy
    detected_language: str | None = None


class Segmenter:
    def __init__(
        self,
        sample_rate: int,
        vad: VadConfig,
        reads_text: bool,
        asr_model: str = "base",
        asr_threads: int | None = None,
    ):
        self.sample_rate, self.vad, self.reads_text = sample_rate, vad, reads_text
        self.asr_model, self.asr_threads = asr_model, asr_threads
        self._transcribers: dict = {}

    def segments(
        self, info: MediaInfo, cues, cue_segments, window, track, timings, speech: SpeechOptions
    ) -> tuple[list[Segment], str, list[str]]:
        """(segments, how they were found, warnings): cues, fixed windows, or detected speech (with its words)."""
        if cue_segments is not None:
            segments = clip_to_duration(cue_segments, info.duration)
            how = "subtitles" if Path(cues).suffix.lower() in (".srt", ".vtt") else "transcript"
            lost = len(cue_segments) - len(segments)
            if not segments:
                warnings = [f"{Path(cues).name}: no cue falls inside the video's {info.duration:.1f} s"]
            elif lost:
                warnings = [
                    f"{Path(cues).name}: {lost} of {len(cue_segments)} cue(s) start after the video's end "
                    f"({info.duration:.1f} s) and were left out"
                ]
            else:
                warnings = []
            return segments, how, warnings
        if window is not None:
            return fixed_windows(info.duration, float(window)), "window", []
        t0 = time.perf_counter()
        samples = all_samples(track) if track is not None else np.zeros(0, np.float32)
        timings["audio_decode"] += time.perf_counter() - t0
        segments, how, warnings = self._speech(samples, speech, timings) if len(samples) else ([], "speech", [])
        if segments:
            return segments, how, warnings
        why = "no audio track" if track is None else "no speech detected"
        return (
            fixed_windows(info.duration, FALLBACK_WINDOW_S),
            "fallback-window",
            warnings + [f"{why}; used {FALLBACK_WINDOW_S:g} s windows"],
        )

    def _speech(self, samples, speech: SpeechOptions, timings) -> tuple[list[Segment], str, list[str]]:
        """Speech segments and, when the words are wanted, their transcript (see emorec.speech)."""
        from emorec.speech import MissingPackageError, detect_speech, transcribe_speech

        warnings: list[str] = []
        t0 = time.perf_counter()
        wants_words = speech.asr == "on" or (speech.asr == "auto" and self.reads_text)
        if wants_words:
            try:
                transcriber = self.transcriber(speech.language)
            except MissingPackageError as e:
                if speech.asr == "on":
                    raise
                warnings.append(f"no speech recognition ({e}); segments carry no text")
            else:
                found = transcribe_speech(samples, self.sample_rate, transcriber, self.vad, speech.vad)
                timings["asr"] = time.perf_counter() - t0
                speech.detected_language = found.language
                warnings += [found.note] if found.note else []
                return found.segments, f"asr ({found.vad_method})", warnings
        found = detect_speech(samples, self.sample_rate, self.vad, speech.vad)
        timings["vad"] = time.perf_counter() - t0
        return found.segments, f"speech ({found.method})", warnings + ([found.note] if found.note else [])

    def adopt_transcribers(self, other: Segmenter) -> None:
        """Use the Whisper models `other` has loaded, where they are the ones this segmenter would load."""
        if (other.asr_model, other.asr_threads) == (self.asr_model, self.asr_threads):
            for language, transcriber in other._transcribers.items():
                self._transcribers.setdefault(language, transcriber)

    def transcriber(self, language: str | None = None):
        """The speech recogniser, loaded once per language setting."""
        from emorec.speech import Transcriber

        if language not in self._transcribers:
            self._transcribers[language] = Transcriber(self.asr_model, language=language, threads=self.asr_threads)
        return self._transcribers[language]
