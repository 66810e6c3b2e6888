"""Audio of an utterance: the window of a wav (or any audio/video file), mono, resampled to the target rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class AudioError(Exception):
    """An utterance's audio that cannot be had; `reason` is the short status text."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def to_mono_rate(y: np.ndarray, sr_in: int, sr: int) -> np.ndarray:
    if y.ndim == 2:
        y = y[:, 0] if y.shape[1] == 1 else y.mean(axis=1)  # the mean of one channel is that channel
    y = np.ascontiguousarray(y, dtype=np.float32)
    if sr_in != sr and len(y):
        import soxr

        y = soxr.resample(y, sr_in, sr, quality="HQ").astype(np.float32, copy=False)
    return y


class AudioSource:
    """One audio file (wav/flac via soundfile, anything else via PyAV) read window by window.

    Wav windows are read from disk without loading the rest of the file; compressed audio (e.g. AAC in
    mp4, MP3 in flv) is decoded once, resampled, and windows are sliced from it.
    """

    def __init__(self, path: str | Path, sr: int = 16000):
        self.path, self.sr = Path(path), sr
        if not str(path) or not self.path.is_file():
            raise AudioError("missing audio", str(path))
        self._sf = None
        self._decoded = None
        try:
            import soundfile as sf

            self._sf = sf.SoundFile(str(self.path))
            self.native_sr = self._sf.samplerate
            self.duration = self._sf.frames / self.native_sr
        except Exception:
            self._sf = None
            self._decoded = _decode_with_av(self.path, sr)
            self.native_sr = sr
            self.duration = len(self._decoded) / sr

    def read(self, start: float | None, end: float | None) -> np.ndarray:
        """Mono float32 samples at `sr` of [start, end] seconds (None = clip start / end)."""
        s = 0.0 if start is None else float(start)
        e = self.duration if end is None else float(end)
        if e <= s:
            raise AudioError("zero-length window", f"[{s}, {e}]")
        if s >= self.duration:
            raise AudioError("window past end of audio", f"starts at {s:.2f} s, audio lasts {self.duration:.2f} s")
        e = min(e, self.duration)
        if self._decoded is not None:
            y = self._decoded[int(round(s * self.sr)) : int(round(e * self.sr))]
        else:
            a, b = int(round(s * self.native_sr)), int(round(e * self.native_sr))
            try:
                self._sf.seek(a)
                raw = self._sf.read(b - a, dtype="float32", always_2d=True)
            except Exception as ex:
                raise AudioError("unreadable audio", f"{self.path}: {ex}") from ex
            y = to_mono_rate(raw, self.native_sr, self.sr)
        if len(y) == 0:
            raise AudioError("window past end of audio", f"no samples in [{s}, {e}]")
        return y

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()


def _decode_with_av(path: Path, sr: int) -> np.ndarray:
    """The whole first audio stream of a media file as mono float32 at `sr` (t = 0 at the stream start)."""
    import av

    try:
        container = av.open(str(path))
    except Exception as e:
        raise AudioError("unreadable audio", f"{path}: {e}") from e
    try:
        if not container.streams.audio:
            raise AudioError("no audio stream", str(path))
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks, lead = [], None
        try:
            for frame in container.decode(stream):
                if lead is None:
                    lead = max(0.0, frame.time or 0.0)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except Exception as e:
            if not chunks:
                raise AudioError("unreadable audio", f"{path}: {e}") from e
        y = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        if lead:  # audio that starts late: keep times aligned with the clip
            y = np.concatenate([np.zeros(int(round(lead * sr)), np.float32), y])
        return y
    finally:
        container.close()


def load_window(path: str | Path, start: float | None, end: float | None, sr: int = 16000) -> np.ndarray:
    """Mono float32 samples at `sr` of one window of one file."""
    src = AudioSource(path, sr)
    try:
        return src.read(start, end)
    finally:
        src.close()


class AudioSources:
    """Windows of several files, each file opened (and, when compressed, decoded) once; a file that cannot be
    opened raises its AudioError again on every read. A context manager: leaving it closes every file."""

    def __init__(self, sr: int = 16000):
        self.sr = sr
        self._open: dict[str, AudioSource | AudioError] = {}

    def read(self, path: str, start: float | None, end: float | None) -> np.ndarray:
        if path not in self._open:
            try:
                self._open[path] = AudioSource(path, self.sr)
            except AudioError as e:
                self._open[path] = e
        source = self._open[path]
        if isinstance(source, AudioError):
            raise source
        return source.read(start, end)

    def close(self) -> None:
        for source in self._open.values():
            if isinstance(source, AudioSource):
                source.close()

    def __enter__(self) -> AudioSources:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
