"""Speech recognition begun before the models' code is imported.

For one recording whose words come from Whisper, `emorec predict` starts its speech pass first, in a thread:
importing torch and the bundle's models (about 2 s on a 2-core CPU) and detecting and transcribing the speech
(about 2 s for a short clip) then overlap. Nothing here imports torch. The result is used only where the
recogniser would compute the same (same file, sample rate, speech detection settings, Whisper model, options);
otherwise it is dropped and the recogniser runs its own pass.
"""

from __future__ import annotations

import json
import threading
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from emorec.inference.media import MediaInfo, open_track, probe_media
from emorec.inference.segment import Segment, VadConfig
from emorec.inference.segmenter import Segmenter, SpeechOptions

LIKELY_SAMPLE_RATE = 16000  # the audio models' rate, and Whisper's


@dataclass
class SpeechPass:
    """What the recogniser's own segmentation of a recording gives: its streams, decoded audio track,
    utterances, how they were found, warnings, timings and language."""

    info: MediaInfo
    track: object | None
    segments: list[Segment]
    how: str
    warnings: list[str]
    timings: dict[str, float]
    language: str | None


def bundle_reads_text(path) -> bool:
    """Whether a bundle (directory or .zip) holds a text model, from its bundle.json alone (False when that
    cannot be read: loading the bundle reports why)."""
    path = Path(path)
    try:
        if path.is_dir():
            info = json.loads((path / "bundle.json").read_text())
        else:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "bundle.json" and n.count("/") <= 1]
                info = json.loads(zf.read(min(names, key=len)))
        return "text" in info.get("models", {})
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError):
        return False


class EarlySpeech:
    """The speech pass of one recording, running in a thread from construction (not a daemon: it may be in
    native code when the process ends)."""

    def __init__(
        self, path, speech: SpeechOptions, sample_rate: int = LIKELY_SAMPLE_RATE, vad: VadConfig | None = None
    ):
        self.path, self.speech = Path(path), replace(speech)
        self.segmenter = Segmenter(sample_rate, vad or VadConfig(), True)
        self.result: SpeechPass | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emorec-early-speech")
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._speech_pass()
        except Exception:  # noqa: BLE001 (the recogniser's own pass meets the same problem and reports it)
            self.result = None

    def _speech_pass(self) -> SpeechPass | None:
        t0 = time.perf_counter()
        info = probe_media(self.path)
        timings = {"probe": time.perf_counter() - t0}
        t0 = time.perf_counter()
        track = open_track(self.path, self.segmenter.sample_rate) if info.has_audio else None
        timings["audio_decode"] = time.perf_counter() - t0
        try:
            if self._stop.is_set():
                raise InterruptedError("cancelled")
            segments, how, warnings = self.segmenter.segments(info, None, None, None, track, timings, self.speech)
        except BaseException:
            if track is not None:
                track.close()
            raise
        return SpeechPass(info, track, segments, how, warnings, timings, self.speech.detected_language)

    def cancel(self) -> None:
        """Stop before speech recognition where it has not begun yet."""
        self._stop.set()

    def take(self, path, segmenter: Segmenter, speech: SpeechOptions, plain: bool = True) -> SpeechPass | None:
        """The pass, once finished, if it is what `segmenter` would compute for `path` with `speech` (`plain`:
        no cues, fixed windows or separate audio file were given); the Whisper model it loaded goes to
        `segmenter` either way. None (and the track closed) otherwise."""
        self._thread.join()
        result, self.result = self.result, None
        if result is None:
            return None
        segmenter.adopt_transcribers(self.segmenter)
        if not (plain and self._matches(path, segmenter, speech)):
            if result.track is not None:
                result.track.close()
            return None
        return result

    def _matches(self, path, segmenter: Segmenter, speech: SpeechOptions) -> bool:
        mine, theirs = self.segmenter, segmenter
        return (
            Path(path) == self.path
            and (theirs.reads_text or speech.asr == "on")
            and (mine.sample_rate, mine.vad, mine.asr_model, mine.asr_threads)
            == (theirs.sample_rate, theirs.vad, theirs.asr_model, theirs.asr_threads)
            and (speech.asr, speech.language, speech.vad) == (self.speech.asr, self.speech.language, self.speech.vad)
        )
