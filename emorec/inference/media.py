"""Media files for prediction: probing (duration, streams, truncation) and the audio track of a recording."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.media.audio import AudioError, AudioSource, load_window, to_mono_rate


class MediaError(ValueError):
    """A file that is not a usable video (or audio) file; `reason` says why, the message names the file."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


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


def open_track(path, sr: int) -> AudioSource | None:
    """The file's audio, decoded once at `sr` (None when it has none that can be read)."""
    try:
        return AudioSource(path, sr)
    except AudioError:
        return None


class WholeFiles:
    """One audio file per segment, each read whole (sentence wavs)."""

    def __init__(self, paths, sr: int):
        self.paths, self.sr = [str(p) if p else "" for p in paths], sr

    def read_item(self, i: int) -> np.ndarray:
        return load_window(self.paths[i], None, None, self.sr)

    def close(self) -> None:
        pass


def all_samples(track) -> np.ndarray:
    try:
        return track.read(None, None)
    except AudioError:
        return np.zeros(0, np.float32)


def segment_samples(track, start: float, end: float, i: int) -> np.ndarray | None:
    """Samples of segment i (its own file for WholeFiles); None when unreadable; non-finite values zeroed."""
    try:
        y = track.read_item(i) if isinstance(track, WholeFiles) else track.read(start, end)
    except AudioError:
        return None
    return y if np.all(np.isfinite(y)) else np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)


def mono_at(samples, sr: int, target: int) -> np.ndarray:
    """An array of samples (any channel layout) as mono float32 at `target`."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim > 1:
        x = x.mean(axis=0 if x.shape[0] < x.shape[-1] else 1)
    return to_mono_rate(x, sr, target)
