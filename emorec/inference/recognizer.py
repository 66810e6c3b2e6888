"""Emotion recognition in any video with an exported bundle: segments -> per-modality models -> fusion.

    >>> from emorec import Recognizer
    >>> r = Recognizer.load("model.emorec")
    >>> result = r.predict_video("clip.mp4", subtitles="clip.srt")
    >>> result.to_frame()          # one row per segment: start, end, label, p_<class>..., modalities

Every model of the bundle reads its input through its input kind (emorec.inputs), rebuilt from its model.json:
the same frame rule, crop, spectrogram, functionals, tokenizer and statistics as in training. The media of a
recording are decoded once; each model runs over all segments in batches; the fusion combines them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.inference.frames import SideFinder, convert_array, decode_segment_frames
from emorec.inference.fuse import Fuser
from emorec.inference.media import (
    MediaError,
    MediaInfo,
    WholeFiles,
    all_samples,
    mono_at,
    open_track,
    probe_media,
    segment_samples,
)
from emorec.inference.results import SegmentPrediction, VideoResult
from emorec.inference.runners import RUNNERS
from emorec.inference.segment import Segment, VadConfig, clip_to_duration, fixed_windows, read_segments_file
from emorec.inputs import MODALITIES

SPEAKER_SIDES = ("auto", "left", "right", "full")
ASR_MODES = ("auto", "on", "off")


@dataclass
class SpeechOptions:
    asr: str = "auto"
    language: str | None = None
    vad: str = "auto"
    detected_language: str | None = None


SILENCE_DBFS = -60.0  # a window whose loudest 50 ms stay below this holds no speech
FALLBACK_WINDOW_S = 5.0  # no transcript and no speech found (or no audio track): windows of this length
DEFAULT_SR = 16000


def is_silent(samples: np.ndarray, sr: int = 16000, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when even the loudest 50 ms of the window stay below `threshold_dbfs` (digital or near silence)."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return True
    hop = max(1, int(0.05 * sr))
    n = max(1, len(x) // hop)
    power = np.square(x[: n * hop]).reshape(n, -1).mean(axis=1) if len(x) >= hop else np.array([np.square(x).mean()])
    return 10 * np.log10(float(power.max()) + 1e-20) < threshold_dbfs


class Recognizer:
    """A loaded bundle ready to label videos, segments or single utterances."""

    def __init__(
        self,
        bundle,
        *,
        face_margin: float | None = None,
        vad: VadConfig | None = None,
        fusion_weights: dict[str, float] | None = None,
        asr_model: str = "base",
        asr_threads: int | None = None,
    ):
        """fusion_weights: for a bundle whose fusion pools its recognisers (log-linear pooling), the weight of
        each modality instead of the trained run's (e.g. {"text": 0} to leave the words out). asr_model: the
        speech recogniser for recordings without subtitles ("base": the packaged Whisper base; a faster-whisper
        model folder or cached name)."""
        self.bundle = bundle
        self.classes = list(bundle.classes)
        self.runners = {k: RUNNERS[k](k, *bundle.models[k]) for k in MODALITIES if k in bundle.models}
        if face_margin is not None and "frame" in self.runners:
            kind = self.runners["frame"].kind
            self.runners["frame"].kind = type(kind)(
                kind.settings.model_copy(update={"face_margin": face_margin}), kind.options, kind.stats
            )
        fusions = {k: m.fusion_modalities for k, (_, m) in bundle.models.items() if m.modality == "fusion"}
        self.fuser = Fuser(self.classes, {k: bundle.model(k) for k in fusions}, fusions)
        if fusion_weights:
            self.fuser.set_weights(fusion_weights)
        self.vad = vad or VadConfig()
        self.asr_model, self.asr_threads = asr_model, asr_threads
        self._transcribers: dict = {}
        self._sides = None
        self.last_timings: dict[str, float] = {}

    @classmethod
    def load(cls, path, **kwargs) -> Recognizer:
        """Load a bundle (directory or .zip written by `emorec export`)."""
        from emorec.inference.bundle import load_bundle

        return cls(load_bundle(path), **kwargs)

    @property
    def model_keys(self) -> list[str]:
        return list(self.bundle.models)

    @property
    def untrained(self) -> bool:
        return bool(self.bundle.info.get("untrained"))

    @property
    def sample_rate(self) -> int:
        """The rate audio is decoded at: the audio model's own (16 kHz without one)."""
        runner = self.runners.get("audio")
        return int(runner.kind.settings.sample_rate) if runner is not None else DEFAULT_SR

    def probe(self, path) -> MediaInfo:
        return probe_media(path)

    # ------------------------------------------------------------ public API

    def predict_video(
        self,
        path,
        subtitles=None,
        transcript=None,
        window: float | None = None,
        speaker_side: str = "auto",
        require_face: bool = True,
        audio=None,
        asr: str = "auto",
        language: str | None = None,
        vad: str = "auto",
    ) -> VideoResult:
        """Segment the video (subtitles/transcript cues, fixed windows, or detected speech) and label each segment.

        require_face: segments whose frame shows no detectable face go without the frame model.
        audio: a separate audio file on the video's time line (e.g. an IEMOCAP dialog wav) instead of its own track.
        asr: "auto" transcribes the speech (Whisper) when the bundle reads text and no subtitles or transcript
        are given; "on" always does (an error without the packages); "off" never. language: e.g. "en"; None
        detects it. vad: speech detection, "auto" (Silero when installed), "silero" or "energy"."""
        if asr not in ASR_MODES:
            raise ValueError(f"asr must be one of {ASR_MODES}, got {asr!r}")
        if speaker_side not in SPEAKER_SIDES:
            raise ValueError(f"speaker_side must be one of {SPEAKER_SIDES}, got {speaker_side!r}")
        if window is not None and window <= 0:
            raise ValueError(f"window must be > 0 seconds, got {window}")
        t0 = time.perf_counter()
        info = probe_media(path)
        timings = {"probe": time.perf_counter() - t0}
        cues = subtitles if subtitles is not None else transcript
        cue_segments = read_segments_file(cues) if cues is not None else None
        speech = SpeechOptions(asr=asr, language=language, vad=vad)
        need_audio = (info.has_audio or audio is not None) and (
            "audio" in self.runners or (cues is None and window is None)
        )
        t0 = time.perf_counter()
        track = open_track(audio if audio is not None else path, self.sample_rate) if need_audio else None
        if audio is not None and need_audio and track is None:
            raise MediaError(audio, "no readable audio")
        timings["audio_decode"] = time.perf_counter() - t0
        try:
            segments, how, warnings = self._segments(info, cues, cue_segments, window, track, timings, speech)
            result = self._predict(path, info, segments, speaker_side, track=track, require_face=require_face)
        finally:
            if track is not None:
                track.close()
        result.segmentation = how
        result.language = speech.detected_language
        result.warnings = warnings + result.warnings
        result.timings.update(timings)
        self.last_timings = dict(result.timings)
        return result

    def _segments(
        self, info: MediaInfo, cues, cue_segments, window, track, timings, speech: SpeechOptions
    ) -> tuple[list[Segment], str, list[str]]:
        """(segments, how they were found, warnings): cues, fixed windows, or detected speech (with its words)."""
        if cue_segments is not None:
            segments = clip_to_duration(cue_segments, info.duration)
            how = "subtitles" if Path(cues).suffix.lower() in (".srt", ".vtt") else "transcript"
            warnings = [] if segments else [f"{cues}: no cue falls inside the video's {info.duration:.1f} s"]
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
        wants_words = speech.asr == "on" or (speech.asr == "auto" and "text" in self.runners)
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

    def transcriber(self, language: str | None = None):
        """The speech recogniser, loaded once per language setting."""
        from emorec.speech import Transcriber

        if language not in self._transcribers:
            self._transcribers[language] = Transcriber(self.asr_model, language=language, threads=self.asr_threads)
        return self._transcribers[language]

    def predict_segments(
        self, path, segments, speaker_side: str = "auto", require_face: bool = False, audio=None
    ) -> VideoResult:
        """Label explicit segments (Segment or (start, end[, text[, side]]) tuples) of a video with exactly
        the training preprocessing (by default every frame is used, face or not, as in training).

        audio: None = windows of the video's own audio track; a path = windows of that file (e.g. a
        corpus' dialog wav); a list of paths, one per segment = each file whole (e.g. sentence wavs, as
        preprocessing does with `audio_source: sentence`)."""
        segs = [s if isinstance(s, Segment) else Segment(*s) for s in segments]
        t0 = time.perf_counter()
        info = probe_media(path)
        timings = {"probe": time.perf_counter() - t0}
        t0 = time.perf_counter()
        track = self._explicit_track(path, info, audio, len(segs))
        timings["audio_decode"] = time.perf_counter() - t0
        try:
            result = self._predict(path, info, segs, speaker_side, track=track, require_face=require_face)
        finally:
            if track is not None:
                track.close()
        result.segmentation = "explicit"
        result.timings.update(timings)
        self.last_timings = dict(result.timings)
        return result

    def _explicit_track(self, path, info: MediaInfo, audio, n: int):
        if "audio" not in self.runners:
            return None
        if audio is None:
            return open_track(path, self.sample_rate) if info.has_audio else None
        if isinstance(audio, (list, tuple)):
            if len(audio) != n:
                raise ValueError(f"audio: {len(audio)} files for {n} segments")
            return WholeFiles(audio, self.sample_rate)
        track = open_track(audio, self.sample_rate)
        if track is None:
            raise MediaError(audio, "no readable audio")
        return track

    def predict_utterance(
        self,
        frame: np.ndarray | None = None,
        audio: tuple[np.ndarray, int] | None = None,
        text: str | None = None,
        side: str = "auto",
    ) -> SegmentPrediction:
        """One prediction from a full video frame (H x W x 3 RGB, cropped like in training), an audio clip
        (samples, sample_rate) and/or a transcript."""
        if frame is None and audio is None and not text:
            raise ValueError("predict_utterance needs at least one of frame, audio, text")
        probs: dict[str, np.ndarray] = {}
        used_side = None
        if frame is not None and "frame" in self.runners:
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError(f"frame must be an H x W x 3 uint8 RGB array, got {frame.dtype} {frame.shape}")
            used_side, _ = self.side_finder.resolve(frame, side, look=False)
            runner = self.runners["frame"]
            crops, _ = runner.crops([convert_array(runner, frame)], used_side)
            probs["frame"] = runner.run([crops])[0]
        if audio is not None and "audio" in self.runners:
            samples, sr = audio
            y = mono_at(samples, int(sr), self.sample_rate)
            if not is_silent(y, self.sample_rate):  # silence is not an emotion
                probs["audio"] = self.runners["audio"].run([y], [])[0]
        runner = self.runners.get("text")
        if text and runner is not None and runner.clean(text):
            cleaned = [runner.clean(text)]
            probs["text"] = runner.run(cleaned, runner.contexts(cleaned))[0]
        return self.fuser.combine([Segment(0.0, 0.0, text or None, used_side)], [probs])[0]

    # ------------------------------------------------------------ pipeline

    @property
    def side_finder(self) -> SideFinder:
        if self._sides is None:
            self._sides = SideFinder()
        return self._sides

    def _predict(
        self, path, info: MediaInfo, segments: list[Segment], speaker_side: str, track, require_face: bool
    ) -> VideoResult:
        """Per-modality probabilities for every segment (each modality batched), then the fusion."""
        timings: dict[str, float] = {}
        warnings: list[str] = []
        n = len(segments)
        per: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
        previews: list[np.ndarray | None] = [None] * n
        sides: list[str | None] = [s.side for s in segments]
        boxes: list = [None] * n
        if info.has_video and n:
            previews = self._frame_probs(
                path, segments, speaker_side, require_face, per, sides, timings, warnings, track, boxes
            )
        if track is not None and "audio" in self.runners and n:
            self._audio_probs(track, segments, per, timings, warnings)
        if "text" in self.runners:
            self._text_probs(segments, per, timings)
        t = time.perf_counter()
        segs = [Segment(s.start, s.end, s.text, side) for s, side in zip(segments, sides)]
        preds = self.fuser.combine(segs, per)
        for p, box in zip(preds, boxes):
            p.face_box = box
        timings["fusion"] = time.perf_counter() - t
        return VideoResult(
            str(path),
            info.duration,
            self.classes,
            preds,
            info.has_video,
            info.has_audio,
            warnings=warnings,
            timings=timings,
            middle_frames=previews,
            frame_width=info.width,
        )

    def _frame_probs(self, path, segments, speaker_side, require_face, per, sides, timings, warnings, track, boxes):
        runner = self.runners.get("frame")
        t = time.perf_counter()
        frames, err = decode_segment_frames(path, segments, runner)
        timings["decode"] = time.perf_counter() - t
        if err:
            warnings.append(err)
        t = time.perf_counter()
        if runner is not None and runner.kind.name == "faces":
            crops, idx, faceless = self._face_crops(
                runner, segments, frames, speaker_side, require_face, sides, track, boxes
            )
        else:
            crops, idx, faceless = self._half_crops(runner, segments, frames, speaker_side, require_face, sides)
        if faceless:
            warnings.append(f"{faceless} segment(s) without a detected face: frame model not used for them")
        timings["crops"] = time.perf_counter() - t
        if crops:
            for i, row in zip(idx, runner.run(crops, timings)):
                per[i]["frame"] = row
        return [got.preview if got is not None else None for got in frames]

    def _half_crops(self, runner, segments, frames, speaker_side, require_face, sides):
        """The training crop of each segment's frames; the side from the largest face (Haar) when not given."""
        crops, idx, faceless = [], [], 0
        for i, (seg, got) in enumerate(zip(segments, frames)):
            if got is None:
                continue
            sides[i], face = self.side_finder.resolve(got.preview, seg.side or speaker_side, look=require_face)
            if runner is None:
                continue
            c, found = runner.crops(got.model, sides[i])
            if require_face and (face is False or (found is not None and not all(found))):
                faceless += 1
                continue
            crops.append(c)
            idx.append(i)
        return crops, idx, faceless

    def _face_crops(self, runner, segments, frames, speaker_side, require_face, sides, track, boxes):
        """The active speaker's aligned face per segment (lip motion with the segment's audio energy)."""
        from emorec.vision import EnergyCurve

        crops, idx, faceless = [], [], 0
        for i, (seg, got) in enumerate(zip(segments, frames)):
            if got is None:
                continue
            side = seg.side or (speaker_side if speaker_side != "auto" else "full")
            y = segment_samples(track, seg.start, seg.end, i) if track is not None else None
            energy = (
                EnergyCurve.from_samples(y, self.sample_rate, start_time=seg.start)
                if y is not None and len(y)
                else None
            )
            crop = runner.kind.face_crop(got.model, side, got.times, energy)
            sides[i], boxes[i] = side, (list(crop.box) if crop.box else None)
            if require_face and not crop.found:
                faceless += 1
                continue
            crops.append(crop.image[None])
            idx.append(i)
        return crops, idx, faceless

    def _audio_probs(self, track, segments, per, timings, warnings) -> None:
        runner = self.runners["audio"]
        t = time.perf_counter()
        windows, idx, silent = [], [], 0
        for i, seg in enumerate(segments):
            w = segment_samples(track, seg.start, seg.end, i)
            if w is not None and is_silent(w):
                silent += 1  # silence is not an emotion: no voice label for it
            elif w is not None:
                windows.append(w)
                idx.append(i)
        if silent:
            warnings.append(
                f"{silent} segment(s) without sound (below {SILENCE_DBFS:g} dBFS): voice model not used for them"
            )
        timings["audio_windows"] = time.perf_counter() - t
        if windows:
            for i, row in zip(idx, runner.run(windows, warnings, timings)):
                per[i]["audio"] = row

    def _text_probs(self, segments, per, timings) -> None:
        runner = self.runners["text"]
        cleaned = [runner.clean(s.text) for s in segments]
        idx = [i for i, c in enumerate(cleaned) if c]  # empty after cleaning: no text input, as in training
        if idx:
            texts = [cleaned[i] for i in idx]
            for i, row in zip(idx, runner.run(texts, runner.contexts(texts), timings)):
                per[i]["text"] = row
