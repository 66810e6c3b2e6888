"""Emotion recognition in any video with an exported bundle: segments -> per-modality models -> fusion.

    >>> from emorec import Recognizer
    >>> r = Recognizer.load("model.emorec")
    >>> result = r.predict_video("clip.mp4", subtitles="clip.srt")
    >>> result.to_frame()          # one row per segment: start, end, label, p_<class>..., modalities

Preprocessing is the training preprocessing (emorec.preprocess) with the settings stored in the bundle: the
same frame index rule, crop, spectrogram, tokenizer and normalisation statistics.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emorec.inference.segment import (
    Segment,
    VadConfig,
    clip_to_duration,
    fixed_windows,
    read_segments_file,
    speech_segments,
)

MODALITIES = ("frame", "audio", "text")
SPEAKER_SIDES = ("auto", "left", "right", "full")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BATCH = {"frame": 32, "audio": 32, "text": 16}
PREVIEW_PX = 640  # long side of the frame kept per segment for face search and the labelled PNGs
FALLBACK_WINDOW_S = 5.0  # no transcript and no speech found (or no audio track): windows of this length


class MediaError(ValueError):
    """A file that is not a usable video (or audio) file; `reason` says why, the message names the file."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


# ---------------------------------------------------------------- results

@dataclass
class SegmentPrediction:
    start: float
    end: float
    label: str | None  # None when no modality could be used for this segment
    probs: dict[str, float]
    modalities: list[str]  # the inputs this prediction used, e.g. ["frame", "audio"]
    text: str | None = None
    side: str | None = None  # frame part the face crop came from: left / right / full
    model: str = ""  # what produced `probs`: a fusion key, "average", or a single modality
    per_modality: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class VideoResult:
    path: str
    duration: float
    classes: list[str]
    segments: list[SegmentPrediction]
    has_video: bool = True
    has_audio: bool = True
    segmentation: str = ""  # subtitles / transcript / window / speech / fallback-window / explicit
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    middle_frames: list[np.ndarray | None] = field(default_factory=list, repr=False)  # RGB preview per segment

    def to_frame(self):
        """pandas DataFrame, one row per segment: start, end, label, p_<class>..., modalities, model, side, text."""
        import pandas as pd

        rows = []
        for s in self.segments:
            row = {"start": round(s.start, 3), "end": round(s.end, 3), "label": s.label}
            row.update({f"p_{c}": round(float(s.probs.get(c, float("nan"))), 4) for c in self.classes})
            row.update(modalities="+".join(s.modalities), model=s.model, side=s.side, text=s.text)
            rows.append(row)
        cols = ["start", "end", "label", *(f"p_{c}" for c in self.classes), "modalities", "model", "side", "text"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict:
        return {"path": self.path, "duration": round(self.duration, 3), "classes": list(self.classes),
                "has_video": self.has_video, "has_audio": self.has_audio, "segmentation": self.segmentation,
                "warnings": list(self.warnings), "segments": [s.to_dict() for s in self.segments]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def timeline_png(self) -> bytes:
        from emorec.inference.timeline import timeline_png

        return timeline_png([s for s in self.segments if s.label is not None], self.classes, self.duration,
                            title=Path(self.path).name)

    def save(self, out_dir, stem: str | None = None, frames: bool = True) -> dict[str, Path]:
        """Write <stem>.json, <stem>.csv, <stem>_timeline.png and (frames=True) <stem>_frames/NNN_<label>.png."""
        from emorec.inference.timeline import save_timeline

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = stem or Path(self.path).stem
        written = {"json": out / f"{stem}.json", "csv": out / f"{stem}.csv", "timeline": out / f"{stem}_timeline.png"}
        written["json"].write_text(self.to_json() + "\n")
        self.to_frame().to_csv(written["csv"], index=False)
        save_timeline(written["timeline"], [s for s in self.segments if s.label is not None], self.classes,
                      self.duration, title=Path(self.path).name)
        if frames and any(f is not None for f in self.middle_frames):
            fdir = out / f"{stem}_frames"
            fdir.mkdir(exist_ok=True)
            for i, (seg, img) in enumerate(zip(self.segments, self.middle_frames)):
                if img is not None:
                    _write_labelled_frame(fdir / f"{i:03d}_{seg.start:07.2f}s_{seg.label or 'none'}.png", img, seg)
            written["frames"] = fdir
        return written


def _write_labelled_frame(path: Path, rgb: np.ndarray, seg: SegmentPrediction) -> None:
    import cv2

    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    scale = max(0.4, min(w, h) / 500)
    text = f"{seg.label or 'none'} {max(seg.probs.values(), default=0):.2f}  {seg.start:.1f}-{seg.end:.1f}s"
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(img, (0, 0), (tw + 12, th + base + 12), (0, 0, 0), -1)
    cv2.putText(img, text, (6, th + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    if seg.side in ("left", "right"):
        x0 = 0 if seg.side == "left" else w // 2
        cv2.rectangle(img, (x0 + 1, 1), (x0 + w // 2 - 2, h - 2), (0, 200, 255), 2)
    cv2.imwrite(str(path), img)


# ---------------------------------------------------------------- media probing

@dataclass
class MediaInfo:
    path: str
    duration: float
    has_video: bool
    has_audio: bool
    fps: float = 0.0
    n_frames: int = 0
    width: int = 0
    height: int = 0


def probe_media(path) -> MediaInfo:
    """Duration and streams of a media file; MediaError when it cannot be opened or has no usable stream."""
    import av

    p = Path(path)
    if not p.is_file():
        raise MediaError(p, "no such file")
    if p.stat().st_size == 0:
        raise MediaError(p, "empty file")
    try:
        container = av.open(str(p))
    except Exception as e:  # av.error.FFmpegError subclasses, OSError
        raise MediaError(p, f"not a readable video ({_av_reason(e)})") from None
    try:
        vids = [s for s in container.streams.video if s.codec_context is not None]
        auds = [s for s in container.streams.audio if s.codec_context is not None]
        if not vids and not auds:
            raise MediaError(p, "no video or audio stream")
        durations = []
        if container.duration:
            durations.append(container.duration / 1_000_000)
        for s in vids + auds:
            if s.duration and s.time_base:
                durations.append(float(s.duration * s.time_base))
        data_end = _data_end(container, p)
        declared = max(durations) if durations else data_end
        if data_end < declared - max(0.5, 0.05 * declared):
            raise MediaError(p, f"truncated or corrupt: media data ends at {data_end:.2f} s of {declared:.2f} s")
        info = MediaInfo(str(p), declared, bool(vids), bool(auds))
        if vids:
            v = vids[0]
            rate = v.average_rate or v.guessed_rate or v.base_rate
            info.fps = float(rate) if rate else 0.0
            info.width, info.height = v.codec_context.width, v.codec_context.height
            info.n_frames = int(v.frames or 0) or (math.floor(info.duration * info.fps + 1e-6) if info.fps else 0)
            if not info.fps or not info.width:
                info.has_video = False
        if info.duration <= 0:
            raise MediaError(p, "unknown or zero duration")
        return info
    finally:
        container.close()


def _data_end(container, p: Path) -> float:
    """End time (s) of the last audio/video packet, from a demux pass (no decoding)."""
    end, packets = 0.0, 0
    try:
        for pkt in container.demux():
            if pkt.size == 0 or pkt.stream.type not in ("video", "audio"):
                continue
            packets += 1
            if pkt.pts is not None and pkt.stream.time_base:
                t0 = pkt.stream.start_time or 0
                end = max(end, float((pkt.pts - t0 + (pkt.duration or 0)) * pkt.stream.time_base))
    except Exception as e:  # a demuxer error part-way: what was read so far counts
        if not packets:
            raise MediaError(p, f"corrupt media data ({_av_reason(e)})") from None
    if not packets:
        raise MediaError(p, "no audio or video data (empty or truncated file)")
    return end


def _av_reason(e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):  # FFmpeg's message itself was garbled by the broken header
        return "invalid data in the file header"
    msg = getattr(e, "strerror", None) or str(e)
    return msg.split(": '")[0].strip() or type(e).__name__


# ---------------------------------------------------------------- the recognizer

class Recognizer:
    """A loaded bundle ready to label videos, segments or single utterances."""

    def __init__(self, bundle, *, face_margin: float | None = None, vad: VadConfig | None = None):
        from emorec.models import model_spec
        from emorec.preprocess.config import PreprocessConfig

        self.bundle = bundle
        self.classes = list(bundle.classes)
        known = set(PreprocessConfig.model_fields)
        fields = {k: v for k, v in bundle.preprocess.items() if k in known}
        self.preprocess = PreprocessConfig(**fields)
        self.unimodal = {k: bundle.model(k) for k in MODALITIES if k in bundle.models}
        self.meta = {k: bundle.meta(k) for k in bundle.models}
        self.fusions = {k: list(m["input"]["modalities"]) for k, m in self.meta.items() if m["modality"] == "fusion"}
        self.vad = vad or VadConfig()
        self._faces = None
        self._spec_maker = None
        self._face_margin = self.preprocess.face_margin if face_margin is None else face_margin
        self.last_timings: dict[str, float] = {}
        self._audio_kind = model_spec(self.meta["audio"]["name"]).input_kind if "audio" in self.unimodal else None
        self._functionals = None  # openSMILE extractor, built on first use (egemaps_mlp / compare_mlp)

    @classmethod
    def load(cls, path, **kwargs) -> "Recognizer":
        """Load a bundle (directory or .zip written by `emorec export`)."""
        from emorec.inference.bundle import load_bundle

        return cls(load_bundle(path), **kwargs)

    @property
    def model_keys(self) -> list[str]:
        return list(self.bundle.models)

    @property
    def untrained(self) -> bool:
        return bool(self.bundle.info.get("untrained"))

    def probe(self, path) -> MediaInfo:
        return probe_media(path)

    # ------------------------------------------------------------ public API

    def predict_video(self, path, subtitles=None, transcript=None, window: float | None = None,
                      speaker_side: str = "auto", require_face: bool = True, audio=None) -> VideoResult:
        """Segment the video (subtitles/transcript cues, fixed windows, or detected speech) and label each segment.

        require_face: segments whose frame shows no detectable face (Haar cascade) go without the frame model.
        audio: a separate audio file on the video's time line (e.g. an IEMOCAP dialog wav) instead of its own track."""
        if speaker_side not in SPEAKER_SIDES:
            raise ValueError(f"speaker_side must be one of {SPEAKER_SIDES}, got {speaker_side!r}")
        if window is not None and window <= 0:
            raise ValueError(f"window must be > 0 seconds, got {window}")
        t0 = time.perf_counter()
        info = probe_media(path)
        t_probe = time.perf_counter() - t0
        cues = subtitles if subtitles is not None else transcript
        cue_segments = read_segments_file(cues) if cues is not None else None
        need_audio = (info.has_audio or audio is not None) and ("audio" in self.unimodal or (cues is None and window is None))
        t0 = time.perf_counter()
        track = self._audio_track(audio if audio is not None else path, info) if need_audio else None
        if audio is not None and need_audio and track is None:
            raise MediaError(audio, "no readable audio")
        t_audio = time.perf_counter() - t0
        warnings = []
        try:
            if cue_segments is not None:
                segments = clip_to_duration(cue_segments, info.duration)
                how = "subtitles" if Path(cues).suffix.lower() in (".srt", ".vtt") else "transcript"
                if not segments:
                    warnings.append(f"{cues}: no cue falls inside the video's {info.duration:.1f} s")
            elif window is not None:
                segments, how = fixed_windows(info.duration, float(window)), "window"
            else:
                t0 = time.perf_counter()
                samples = self._samples(track) if track is not None else np.zeros(0, np.float32)
                segments = speech_segments(samples, self.preprocess.sample_rate, self.vad) if len(samples) else []
                t_audio += time.perf_counter() - t0
                how = "speech"
                if not segments:
                    segments, how = fixed_windows(info.duration, FALLBACK_WINDOW_S), "fallback-window"
                    why = "no audio track" if track is None else "no speech detected"
                    warnings.append(f"{why}; used {FALLBACK_WINDOW_S:g} s windows")
            result = self._predict(path, info, segments, speaker_side, track=track, require_face=require_face)
        finally:
            if track is not None:
                track.close()
        result.segmentation = how
        result.warnings = warnings + result.warnings
        result.timings.update(probe=t_probe, audio_decode=t_audio)
        self.last_timings = dict(result.timings)
        return result

    def predict_segments(self, path, segments, speaker_side: str = "auto", require_face: bool = False,
                         audio=None) -> VideoResult:
        """Label explicit segments (Segment or (start, end[, text[, side]]) tuples) of a video with exactly
        the training preprocessing (by default every frame is used, face or not, as in training).

        audio: None = windows of the video's own audio track; a path = windows of that file (e.g. a
        corpus' dialog wav); a list of paths, one per segment = each file whole (e.g. sentence wavs, as
        preprocessing does with `audio_source: sentence`)."""
        segs = [s if isinstance(s, Segment) else Segment(*s) for s in segments]
        t0 = time.perf_counter()
        info = probe_media(path)
        t_probe = time.perf_counter() - t0
        t0 = time.perf_counter()
        if "audio" not in self.unimodal:
            track = None
        elif audio is None:
            track = self._audio_track(path, info) if info.has_audio else None
        elif isinstance(audio, (list, tuple)):
            if len(audio) != len(segs):
                raise ValueError(f"audio: {len(audio)} files for {len(segs)} segments")
            track = _WholeFiles(audio, self.preprocess.sample_rate)
        else:
            track = self._audio_track(audio, info)
            if track is None:
                raise MediaError(audio, "no readable audio")
        t_audio = time.perf_counter() - t0
        try:
            result = self._predict(path, info, segs, speaker_side, track=track, require_face=require_face)
        finally:
            if track is not None:
                track.close()
        result.segmentation = "explicit"
        result.timings.update(probe=t_probe, audio_decode=t_audio)
        self.last_timings = dict(result.timings)
        return result

    def predict_utterance(self, frame: np.ndarray | None = None, audio: tuple[np.ndarray, int] | None = None,
                          text: str | None = None, side: str = "auto") -> SegmentPrediction:
        """One prediction from a full video frame (H x W x 3 RGB, cropped like in training), an audio clip
        (samples, sample_rate) and/or a transcript."""
        if frame is None and audio is None and not text:
            raise ValueError("predict_utterance needs at least one of frame, audio, text")
        probs: dict[str, np.ndarray] = {}
        used_side = None
        if frame is not None and "frame" in self.unimodal:
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError(f"frame must be an H x W x 3 uint8 RGB array, got {frame.dtype} {frame.shape}")
            used_side, _ = self._resolve_side(frame, side, look=False)
            crop, _ = self._crop(self._convert_array(frame), used_side)
            probs["frame"] = self._run("frame", self._frame_tensor(np.stack([crop])))[0]
        if audio is not None and "audio" in self.unimodal:
            samples, sr = audio
            x = _resample(_mono(samples), int(sr), self.preprocess.sample_rate)
            probs["audio"] = self._run("audio", self._audio_inputs([x]))[0]
        if text and "text" in self.unimodal and self._clean(text):
            probs["text"] = self._run("text", self._tokens([self._clean(text)]))[0]
        seg = Segment(0.0, 0.0, text or None, used_side)
        return self._combine([seg], [{k: v for k, v in probs.items()}])[0]

    # ------------------------------------------------------------ pipeline

    def _predict(self, path, info: MediaInfo, segments: list[Segment], speaker_side: str, track,
                 require_face: bool) -> VideoResult:
        """Per-modality probabilities for every segment (each modality batched), then the fusion."""
        timings: dict[str, float] = {}
        warnings: list[str] = []
        n = len(segments)
        per: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
        middle: list[np.ndarray | None] = [None] * n
        sides: list[str | None] = [s.side for s in segments]
        if info.has_video and n:
            middle = self._frame_probs(path, info, segments, speaker_side, require_face, per, sides, timings, warnings)
        if track is not None and "audio" in self.unimodal and n:
            self._audio_probs(track, segments, per, timings)
        if "text" in self.unimodal:
            self._text_probs(segments, per, timings)
        t = time.perf_counter()
        segs = [Segment(s.start, s.end, s.text, side) for s, side in zip(segments, sides)]
        preds = self._combine(segs, per)
        timings["fusion"] = time.perf_counter() - t
        return VideoResult(str(path), info.duration, self.classes, preds, info.has_video, info.has_audio,
                           warnings=warnings, timings=timings, middle_frames=middle)

    def _frame_probs(self, path, info, segments, speaker_side, require_face, per, sides, timings, warnings):
        t = time.perf_counter()
        frames, err = self._middle_frames(path, info, segments)
        timings["decode"] = time.perf_counter() - t
        if err:
            warnings.append(err)
        t = time.perf_counter()
        crops, idx, faceless = [], [], 0
        for i, (seg, pair) in enumerate(zip(segments, frames)):
            if pair is None:
                continue
            model_rgb, preview = pair
            sides[i], face = self._resolve_side(preview, seg.side or speaker_side, look=require_face)
            if "frame" not in self.unimodal:
                continue
            c, found = self._crop(model_rgb, sides[i])
            if require_face and (face is False or found is False):
                faceless += 1
                continue
            crops.append(c)
            idx.append(i)
        if faceless:
            warnings.append(f"{faceless} segment(s) without a detected face: frame model not used for them")
        timings["crops"] = time.perf_counter() - t
        if crops:
            t = time.perf_counter()
            p = self._run("frame", self._frame_tensor(np.stack(crops)))
            timings["frame_model"] = time.perf_counter() - t
            for i, row in zip(idx, p):
                per[i]["frame"] = row
        return [pair[1] if pair is not None else None for pair in frames]

    def _audio_probs(self, track, segments, per, timings) -> None:
        t = time.perf_counter()
        windows, idx = [], []
        for i, seg in enumerate(segments):
            w = self._audio_window(track, seg, i)
            if w is not None:
                windows.append(w)
                idx.append(i)
        inputs = self._audio_inputs(windows) if windows else None
        timings["spectrograms" if self._audio_kind == "spec" else "functionals"] = time.perf_counter() - t
        if inputs is not None:
            t = time.perf_counter()
            p = self._run("audio", inputs)
            timings["audio_model"] = time.perf_counter() - t
            for i, row in zip(idx, p):
                per[i]["audio"] = row

    def _text_probs(self, segments, per, timings) -> None:
        t = time.perf_counter()
        cleaned = [self._clean(s.text) for s in segments]
        idx = [i for i, c in enumerate(cleaned) if c]  # empty after cleaning: no text input, as in training
        if idx:
            tokens = self._tokens([cleaned[i] for i in idx])
            timings["tokenize"] = time.perf_counter() - t
            t = time.perf_counter()
            p = self._run("text", tokens)
            timings["text_model"] = time.perf_counter() - t
            for i, row in zip(idx, p):
                per[i]["text"] = row

    def _combine(self, segments: list[Segment], per: list[dict[str, np.ndarray]]) -> list[SegmentPrediction]:
        """Final probabilities: the tightest fusion model covering the modalities present (mask for the
        missing ones); without one, the mean of the present modalities' probabilities."""
        import torch

        out: list[SegmentPrediction | None] = [None] * len(segments)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(per):
            present = [m for m in MODALITIES if m in p]
            key = self._choose_fusion(present)
            if key is None:
                if present:
                    probs = np.mean([p[m] for m in present], axis=0)
                    out[i] = self._prediction(segments[i], probs, present, "average" if len(present) > 1 else present[0], p)
                else:
                    out[i] = self._prediction(segments[i], None, [], "", p)
            else:
                groups.setdefault(key, []).append(i)
        for key, idx in groups.items():
            mods = self.fusions[key]
            c = len(self.classes)
            x = np.zeros((len(idx), len(mods), c), dtype=np.float32)
            mask = np.zeros((len(idx), len(mods)), dtype=bool)
            for r, i in enumerate(idx):
                for j, m in enumerate(mods):
                    if m in per[i]:
                        x[r, j], mask[r, j] = per[i][m], True
            model = self.bundle.model(key)
            with torch.inference_mode():
                logits = model({"x": torch.from_numpy(x), "mask": torch.from_numpy(mask)})
                probs = torch.softmax(logits.float(), dim=-1).numpy()
            for r, i in enumerate(idx):
                present = [m for m in MODALITIES if m in per[i]]
                out[i] = self._prediction(segments[i], probs[r], present, key, per[i])
        return out  # type: ignore[return-value]

    def _choose_fusion(self, present: list[str]) -> str | None:
        if not present:
            return None
        fits = [(len(mods), key != "fusion", key) for key, mods in self.fusions.items() if set(present) <= set(mods)]
        return min(fits)[2] if fits else None

    def _prediction(self, seg: Segment, probs, present, model_key, per) -> SegmentPrediction:
        per_mod = {m: {c: float(v) for c, v in zip(self.classes, per[m])} for m in MODALITIES if m in per}
        if probs is None:
            return SegmentPrediction(seg.start, seg.end, None, {c: float("nan") for c in self.classes}, [], seg.text,
                                     seg.side, "", per_mod)
        probs = np.asarray(probs, dtype=np.float64)
        return SegmentPrediction(seg.start, seg.end, self.classes[int(np.argmax(probs))],
                                 {c: float(v) for c, v in zip(self.classes, probs)}, list(present), seg.text,
                                 seg.side, model_key, per_mod)

    def _run(self, key: str, inputs) -> np.ndarray:
        """Softmax probabilities of a unimodal model over a batch (chunked)."""
        import torch

        model = self.unimodal[key]
        n = len(inputs["input_ids"]) if isinstance(inputs, dict) else len(inputs)
        size = BATCH[key]
        outs = []
        with torch.inference_mode():
            for a in range(0, n, size):
                x = {k: v[a:a + size] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[a:a + size]
                outs.append(torch.softmax(model(x).float(), dim=-1).numpy())
        return np.concatenate(outs)

    # ------------------------------------------------------------ frames

    def _frames_per_utterance(self) -> int:
        inp = self.meta.get("frame", {}).get("input", {}) if "frame" in self.meta else {}
        return int(inp.get("frames_per_utterance", self.preprocess.frames_per_utterance))

    def _middle_frames(self, path, info: MediaInfo, segments: list[Segment]):
        """For each segment the frame the frame model sees, as (the array preprocessing crops from, an RGB
        preview at most PREVIEW_PX on its long side), all decoded in one pass; when the header's frame count
        was an estimate and a window runs into the real end, the last frame (as in preprocessing)."""
        from emorec.media.video import VideoError, probe, read_frames

        try:
            vinfo = probe(path)
        except VideoError as e:
            return [None] * len(segments), f"frames unavailable: {e}"
        k = self._frames_per_utterance()
        wanted = [frame_index(s.start, s.end, vinfo.fps, vinfo.n_frames, k, vinfo.declared) for s in segments]
        convert = self._frame_converter(vinfo)
        try:
            got = read_frames(path, [w for w in wanted if w is not None], convert=convert)
        except VideoError as e:
            return [None] * len(segments), f"frames unavailable: {e}"
        missing = [w for w in wanted if w is not None and w not in got.frames]
        truncated = vinfo.declared and got.last_index + 1 < vinfo.n_frames
        if missing and not got.error and not truncated and got.last_index >= 0:
            if got.last_index not in got.frames:
                got.frames.update(read_frames(path, [got.last_index], convert=convert).frames)
            for w in missing:
                start_frame = math.floor(segments[wanted.index(w)].start * vinfo.fps + 1e-6)
                if start_frame <= got.last_index and got.last_index in got.frames:
                    got.frames[w] = got.frames[got.last_index]
        frames = [got.frames.get(w) if w is not None else None for w in wanted]
        lost = sum(f is None for f in frames)
        err = ""
        if lost:
            err = f"{lost} segment(s) without a decodable frame (last decoded frame {got.last_index}"
            err += f", decoder error: {got.error})" if got.error else ")"
        return frames, err

    def _convert_array(self, rgb: np.ndarray) -> np.ndarray:
        """An RGB array through the preprocessing's frame conversion (via an RGB video frame)."""
        import av

        from emorec.media.video import VideoInfo

        h, w = rgb.shape[:2]
        convert = self._frame_converter(VideoInfo(fps=25.0, n_frames=1, width=w, height=h, declared=True))
        return convert(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24"))[0]

    def _frame_config(self):
        """The preprocessing settings with the frame model's own crop and size."""
        inp = self.meta["frame"]["input"] if "frame" in self.meta else {}
        return self.preprocess.model_copy(update={"crop": inp.get("crop", self.preprocess.crop),
                                                  "frame_size": int(inp.get("frame_size", self.preprocess.frame_size))})

    def _frame_converter(self, vinfo):
        """Decoded frame -> (array for crop_frame, exactly as preprocessing converts it; RGB preview)."""
        from emorec.preprocess.unit import frame_converter
        from emorec.media.video import scaled_rgb, to_rgb

        for_model = frame_converter(self._frame_config(), vinfo)
        scale = min(1.0, PREVIEW_PX / max(vinfo.width, vinfo.height, 1))
        if scale < 1.0:
            preview = scaled_rgb(2 * round(vinfo.width * scale / 2), 2 * round(vinfo.height * scale / 2))
        else:
            preview = to_rgb
        if for_model is to_rgb and preview is to_rgb:
            return lambda frame: (lambda rgb: (rgb, rgb))(to_rgb(frame))
        return lambda frame: (for_model(frame), preview(frame))

    def _face_finder(self, margin: float):
        from emorec.media.video import FaceFinder

        if self._faces is None or self._faces.margin != margin:
            self._faces = FaceFinder(margin=margin)
        return self._faces

    def _resolve_side(self, rgb: np.ndarray, side: str | None, look: bool = True) -> tuple[str, bool | None]:
        """(side, face seen). 'auto': the half holding the largest detected face; the full frame when that
        face straddles the middle or no face is found. A given side is kept, and with look=True the face is
        looked for there (None = not looked for)."""
        from emorec.media.video import half_box

        finder = self._face_finder(0.0)
        if side and side != "auto":
            if not look:
                return side, None
            x0, y0, x1, y1 = half_box(rgb.shape[1], rgb.shape[0], side)
            return side, finder.find(np.ascontiguousarray(rgb[y0:y1, x0:x1])) is not None
        box = finder.find(rgb)
        if box is None:
            return "full", False
        x0, _, x1, _ = box
        mid, width = rgb.shape[1] / 2, max(1, x1 - x0)
        if (min(x1, mid) - x0) / width >= 0.8:
            return "left", True
        if (x1 - max(x0, mid)) / width >= 0.8:
            return "right", True
        return "full", True

    def _crop(self, rgb: np.ndarray, side: str) -> tuple[np.ndarray, bool | None]:
        """The training crop (crop, frame_size from model.json) of an array converted like in preprocessing,
        and for crop='face' whether a face was found."""
        from emorec.media.video import crop_frame

        cfg = self._frame_config()
        faces = self._face_finder(self._face_margin) if cfg.crop == "face" else None
        return crop_frame(rgb, cfg.crop, side, cfg.frame_size, faces)

    def _frame_tensor(self, crops: np.ndarray):
        import torch

        inp = self.meta["frame"]["input"]
        mean = torch.tensor(inp.get("mean", IMAGENET_MEAN), dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(inp.get("std", IMAGENET_STD), dtype=torch.float32).view(1, 3, 1, 1)
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0
        return (x - mean) / std

    # ------------------------------------------------------------ audio and text (emorec.preprocess)

    def _audio_track(self, path, info: MediaInfo):
        """The file's audio, decoded once at the training sample rate (an emorec.preprocess AudioSource)."""
        from emorec.media.audio import AudioError, AudioSource

        try:
            return AudioSource(path, self.preprocess.sample_rate)
        except AudioError:
            return None

    @staticmethod
    def _samples(track) -> np.ndarray:
        from emorec.media.audio import AudioError

        try:
            return track.read(None, None)
        except AudioError:
            return np.zeros(0, np.float32)

    def _audio_window(self, track, seg: Segment, i: int) -> np.ndarray | None:
        from emorec.media.audio import AudioError

        try:
            y = track.read_item(i) if isinstance(track, _WholeFiles) else track.read(seg.start, seg.end)
        except AudioError:
            return None
        return y if np.all(np.isfinite(y)) else np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)

    def _audio_inputs(self, windows: list[np.ndarray]):
        """What the audio model reads: spectrograms, or openSMILE functionals for egemaps_mlp / compare_mlp."""
        return self._spectrograms(windows) if self._audio_kind == "spec" else self._functionals_of(windows)

    def _functionals_of(self, windows: list[np.ndarray]):
        """Normalised (N, D) functionals of the windows, standardised with the training statistics in model.json
        or, for a model trained with per-speaker statistics, with those of these windows (one recording = one
        speaker; that needs several windows, a single one would standardise to zeros)."""
        import torch

        from emorec.training.datasets import StoreDataset, speaker_stats
        from emorec.training.evaluate import input_meta_from
        from emorec.media.audio import Functionals

        kind = self._audio_kind
        if self._functionals is None:
            self._functionals = Functionals(self.preprocess.sample_rate, kind)
        arrays = {kind: np.stack([self._functionals(y) for y in windows]).astype(np.float32)}
        rows = np.arange(len(windows))
        if self.meta["audio"]["input"].get("normalise") == "speaker":
            if len(rows) < 2:
                raise ValueError(f"the {self.meta['audio']['name']} model was trained with per-speaker statistics: it needs "
                                 "several utterances of a speaker, not one (a longer recording with several segments, or "
                                 "Recognizer.predict_segments(path, segments, audio=[clip, ...]) over several clips of the speaker)")
            norm = {"row_stats": speaker_stats(arrays, {"recording": rows}, kind)}
        else:
            norm = input_meta_from(self.meta["audio"])
        ds = StoreDataset(arrays, rows, None, kind, **norm)  # the training's standardisation
        return torch.stack([ds[i][0] for i in rows])

    def _spectrograms(self, windows: list[np.ndarray]):
        """Normalised (N, 3, F, T) tensor: the preprocessing's spectrogram, rounded through float16 as in the
        feature store, standardised with the training statistics in model.json (or, for a model trained with
        per-speaker statistics, with those of these windows: one recording is taken as one speaker)."""
        import torch

        from emorec.media.audio import SpectrogramMaker, to_float16

        if self._spec_maker is None:
            self._spec_maker = SpectrogramMaker.from_config(self.preprocess)
        imgs = to_float16(np.stack([self._spec_maker(y)[0] for y in windows])).astype(np.float32)
        x = torch.from_numpy(imgs)
        inp = self.meta["audio"]["input"]
        if inp.get("normalise") == "speaker":  # trained on per-speaker statistics: this recording's own
            from emorec.training.datasets import spec_bin_stats

            mean, std = spec_bin_stats(imgs)
            x = (x - torch.from_numpy(mean)[None, ..., None]) / torch.from_numpy(std)[None, ..., None]
        elif inp.get("spec_mean") is not None:
            mean = torch.tensor(inp["spec_mean"], dtype=torch.float32).view(1, -1, 1, 1)
            std = torch.tensor(inp["spec_std"], dtype=torch.float32).view(1, -1, 1, 1)
            x = (x - mean) / std
        return x

    def _clean(self, text: str | None) -> str:
        """The transcript as the text model saw it in training (tags kept, removed or mapped)."""
        from emorec.preprocess.text import clean_text

        if not text or "text" not in self.meta:
            return ""
        inp = self.meta["text"]["input"]
        return clean_text(text, inp.get("tags", self.preprocess.tags), inp.get("punctuation", self.preprocess.punctuation))

    def _tokens(self, cleaned: list[str]) -> dict:
        import torch

        from emorec.preprocess.text import tokenize, tokenize_with_context

        inp = self.meta["text"]["input"]
        name, length = inp.get("tokenizer", self.preprocess.tokenizer), int(inp.get("max_length", self.preprocess.max_length))
        k = int(getattr(self.preprocess, "text_context", 0) or 0)
        if k > 0:  # the segments before each one are its dialogue context (no speaker names are known here)
            contexts = [" ".join(t for t in cleaned[max(0, i - k):i] if t) for i in range(len(cleaned))]
            ids, mask = tokenize_with_context(contexts, cleaned, name, length)
        else:
            ids, mask = tokenize(cleaned, name, length)
        return {"input_ids": torch.from_numpy(ids.astype(np.int64)), "attention_mask": torch.from_numpy(mask.astype(np.int64))}


class _WholeFiles:
    """One audio file per segment, each read whole (sentence wavs)."""

    def __init__(self, paths, sr: int):
        self.paths, self.sr = [str(p) if p else "" for p in paths], sr

    def read_item(self, i: int) -> np.ndarray:
        from emorec.media.audio import load_window

        return load_window(self.paths[i], None, None, self.sr)

    def close(self) -> None:
        pass


def frame_index(start: float, end: float, fps: float, n_frames: int, k: int = 1, declared: bool = True) -> int | None:
    """Index of the frame the frame model sees for [start, end], by the preprocessing's rule: the k frames
    `pick_frames(a, max(a, b), k, last)` of the window's frames [a, b], of which training uses the middle one
    (k = 1: the middle frame). None when the window starts past the last frame of a video whose header
    states its frame count."""
    from emorec.media.video import frame_window, pick_frames

    if end <= start:
        return None
    a, b = frame_window(start, end, fps, n_frames)
    last = n_frames - 1
    if declared and a > last:
        return None
    picks = pick_frames(a, max(a, b), k, last)
    return picks[len(picks) // 2]


def _mono(samples) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim > 1:
        x = x.mean(axis=0 if x.shape[0] < x.shape[-1] else 1)
    return x


def _resample(x: np.ndarray, sr: int, target: int) -> np.ndarray:
    from emorec.media.audio import _to_mono_rate

    return _to_mono_rate(x, sr, target)
