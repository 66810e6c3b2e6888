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

import threading
import time

import numpy as np

from emorec.inference.early import EarlySpeech, SpeechPass
from emorec.inference.frames import SideFinder, convert_array
from emorec.inference.fuse import Fuser
from emorec.inference.media import (
    MediaError,
    MediaInfo,
    WholeFiles,
    mono_at,
    open_track,
    probe_media,
)
from emorec.inference.passes import ModalityPasses, is_silent
from emorec.inference.results import SegmentPrediction, VideoResult
from emorec.inference.runners import RUNNERS
from emorec.inference.segment import Segment, VadConfig, read_segments_file
from emorec.inference.segmenter import ASR_MODES, Segmenter, SpeechOptions
from emorec.inputs import MODALITIES

SPEAKER_SIDES = ("auto", "left", "right", "full")


DEFAULT_SR = 16000


class Recognizer(ModalityPasses):
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
        self.runners = {
            k: RUNNERS[k](k, lambda k=k: bundle.model(k), bundle.meta(k)) for k in MODALITIES if k in bundle.models
        }
        if face_margin is not None and "frame" in self.runners:
            kind = self.runners["frame"].kind
            self.runners["frame"].kind = type(kind)(
                kind.settings.model_copy(update={"face_margin": face_margin}), kind.options, kind.stats
            )
        metas = {k: bundle.meta(k) for k in bundle.models}
        fusions = {k: m.fusion_modalities for k, m in metas.items() if m.modality == "fusion"}
        self.fuser = Fuser(self.classes, {k: bundle.model(k) for k in fusions}, fusions)
        if fusion_weights:
            self.fuser.set_weights(fusion_weights)
        self.vad = vad or VadConfig()
        self.segmenter = Segmenter(self.sample_rate, self.vad, "text" in self.runners, asr_model, asr_threads)
        self._sides = None
        self._warming: threading.Thread | None = None
        self.last_timings: dict[str, float] = {}

    @classmethod
    def load(cls, path, **kwargs) -> Recognizer:
        """Load a bundle (directory or .zip written by `emorec export`): every model.json is checked now, each
        model's weights are read when the model is first used."""
        from emorec.inference.bundle import load_bundle

        return cls(load_bundle(path, lazy=True), **kwargs)

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

    def warm_up(self, text: bool = True) -> None:
        """Build the models (the text model too when `text`) and load what their inputs need (tokenizer,
        filters) in a background thread, once: the first recording's decoding and speech recognition
        (CTranslate2, outside the GIL) run meanwhile. A failure there is left for the first real use to raise.
        The text model is used only after it ends (`_predict` waits): transformers' lazy imports are not safe
        from two threads at once. Not a daemon: a process that ends early (a broken first file) waits for it
        instead of killing it inside native code (which aborts the process)."""
        if self._warming is None:
            keys = [k for k in self.runners if text or k != "text"]
            self._warming = threading.Thread(target=self._build, args=(keys,), name="emorec-warm-up")
            self._warming.start()

    def _build(self, keys: list[str]) -> None:
        for runner in (self.runners[k] for k in keys):
            try:
                runner.kind.prepare()
                runner.model  # noqa: B018 (builds it)
            except Exception:  # noqa: BLE001 (raised again, with its context, where the model is used)
                continue
        import pandas  # noqa: F401 (the results become a table)

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
        early: EarlySpeech | None = None,
    ) -> VideoResult:
        """Segment the video (subtitles/transcript cues, fixed windows, or detected speech) and label each segment.

        require_face: segments whose frame shows no detectable face go without the frame model.
        audio: a separate audio file on the video's time line (e.g. an IEMOCAP dialog wav) instead of its own track.
        asr: "auto" transcribes the speech (Whisper) when the bundle reads text and no subtitles or transcript
        are given; "on" always does (an error without the packages); "off" never. language: e.g. "en"; None
        detects it. vad: speech detection, "auto" (Silero when installed), "silero" or "energy". early: this
        recording's speech pass, begun before the bundle was loaded (used where it matches these options)."""
        if asr not in ASR_MODES:
            raise ValueError(f"asr must be one of {ASR_MODES}, got {asr!r}")
        if speaker_side not in SPEAKER_SIDES:
            raise ValueError(f"speaker_side must be one of {SPEAKER_SIDES}, got {speaker_side!r}")
        if window is not None and window <= 0:
            raise ValueError(f"window must be > 0 seconds, got {window}")
        cues = subtitles if subtitles is not None else transcript
        self.warm_up(text=cues is not None or (window is None and asr != "off"))
        speech = SpeechOptions(asr=asr, language=language, vad=vad)
        plain = cues is None and window is None and audio is None
        found = early.take(path, self.segmenter, speech, plain) if early is not None else None
        if found is None:
            found = self._speech_pass(path, cues, window, audio, speech)
        try:
            result = self._predict(
                path, found.info, found.segments, speaker_side, track=found.track, require_face=require_face
            )
        finally:
            if found.track is not None:
                found.track.close()
        result.segmentation, result.language = found.how, found.language
        result.warnings = found.warnings + result.warnings
        result.timings.update(found.timings)
        self.last_timings = dict(result.timings)
        return result

    def _speech_pass(self, path, cues, window, audio, speech: SpeechOptions) -> SpeechPass:
        """Probe, decode the audio once and cut the recording into utterances (see `predict_video`)."""
        t0 = time.perf_counter()
        info = probe_media(path)
        timings = {"probe": time.perf_counter() - t0}
        cue_segments = read_segments_file(cues) if cues is not None else None
        need_audio = (info.has_audio or audio is not None) and (
            "audio" in self.runners or (cues is None and window is None)
        )
        t0 = time.perf_counter()
        track = open_track(audio if audio is not None else path, self.sample_rate) if need_audio else None
        if audio is not None and need_audio and track is None:
            raise MediaError(audio, "no readable audio")
        timings["audio_decode"] = time.perf_counter() - t0
        try:
            segments, how, warnings = self.segmenter.segments(info, cues, cue_segments, window, track, timings, speech)
        except BaseException:
            if track is not None:
                track.close()
            raise
        return SpeechPass(info, track, segments, how, warnings, timings, speech.detected_language)

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
            if self._warming is not None:  # the tokenizer and encoder import transformers: not from two threads
                self._warming.join()
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
