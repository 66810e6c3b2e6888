"""Frames of a video: which frame indices an utterance wants, decoding them exactly in one pass, cropping.

A frame's index is its position in a full sequential decode (frame 0 = first decoded frame); it is computed
from the frame's timestamp, `round((pts - pts_of_frame_0) * time_base * fps)`, so seeking does not lose it.
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EPS = 1e-6  # so that 4.1 s * 30 fps counts as frame 123, not 122.999...
MIN_SKIP = 8  # seek only when it skips decoding at least this many frames
MIN_PER_PASS = 8  # read_frames(passes=k) splits only where each pass gets at least this many frames
LONG_GOP = 60  # keyframes this far apart (2 s at 30 fps): decode with FFmpeg's frame threads
KEYFRAME_FILES = 32  # files whose keyframe lists are kept (_keyframes)
_KEYFRAMES: OrderedDict = OrderedDict()  # (path, size, mtime_ns, stream) -> keyframe timestamps
_KEYFRAMES_LOCK = threading.Lock()


class VideoError(Exception):
    """A video that cannot be used at all; `reason` is the short status text."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def frame_window(start: float | None, end: float | None, fps: float, n_frames: int) -> tuple[int, int]:
    """Frame indices [a, b] of a time window: a = floor(start*fps), b = floor(end*fps); None = clip start/end."""
    a = 0 if start is None else math.floor(start * fps + EPS)
    b = n_frames - 1 if end is None else math.floor(end * fps + EPS)
    return a, b


def pick_frames(a: int, b: int, k: int = 1, last: int | None = None) -> list[int]:
    """k frame indices evenly spaced inside [a, b] (centres of k equal parts; k=1 -> the middle (a+b)//2),
    clamped to the last frame `last`."""
    if b < a:
        raise ValueError(f"empty frame window [{a}, {b}]")
    picks = [a + ((b - a) * (2 * i + 1)) // (2 * k) for i in range(k)]
    if last is not None:
        picks = [min(p, last) for p in picks]
    return picks


@dataclass
class VideoInfo:
    fps: float
    n_frames: int  # from the container header when it has one, else the number of video packets
    width: int
    height: int
    declared: bool  # n_frames came from the header


def to_rgb(frame) -> np.ndarray:
    """A decoded frame as full-size RGB uint8 (H, W, 3)."""
    return frame.to_ndarray(format="rgb24")


def scaled_rgb(width: int, height: int):
    """A converter giving RGB already scaled to width x height (one swscale pass: colour + area resize)."""
    from av.video.reformatter import VideoReformatter

    local = threading.local()  # one reformatter per thread: it keeps its scaling context between frames

    def convert(frame) -> np.ndarray:
        if not hasattr(local, "reformatter"):
            local.reformatter = VideoReformatter()
        return local.reformatter.reformat(
            frame, width=width, height=height, format="rgb24", interpolation="AREA"
        ).to_ndarray()

    return convert


@dataclass
class FrameRead:
    """The outcome of one decoding pass over a video."""

    info: VideoInfo
    frames: dict[int, np.ndarray] = field(default_factory=dict)  # index -> RGB uint8 (H, W, 3)
    last_index: int = -1  # index of the last frame decoded
    error: str = ""  # decoder error that ended the pass early, if any
    seeks: int = 0
    decoded: int = 0
    convert: object = to_rgb


def _open(path: str | Path):
    import av

    p = Path(path)
    if not str(path) or not p.is_file():
        raise VideoError("missing video", str(path))
    try:
        container = av.open(str(p))
    except Exception as e:  # av.error.FFmpegError and OSError subclasses
        raise VideoError("unreadable video", f"{p}: {e}") from e
    if not container.streams.video:
        container.close()
        raise VideoError("unreadable video", f"{p}: no video stream")
    return container, container.streams.video[0]


def _info(container, stream) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        raise VideoError("unreadable video", "unknown frame rate")
    fps = float(rate)
    n, declared = int(stream.frames or 0), True
    if n <= 0:  # no count in the header (e.g. FLV): count the video packets, without decoding
        declared = False
        n = _count_packets(container.name, stream.index)
    cc = stream.codec_context
    return VideoInfo(fps=fps, n_frames=max(1, n), width=cc.width, height=cc.height, declared=declared)


def _count_packets(path: str, index: int) -> int:
    import av

    try:
        with av.open(path) as c:
            return sum(1 for p in c.demux(c.streams[index]) if p.size)
    except Exception:
        return 0


def probe(path: str | Path) -> VideoInfo:
    """Frame rate, frame count and size of a video, without decoding."""
    container, stream = _open(path)
    try:
        return _info(container, stream)
    finally:
        container.close()


class _Cursor:
    """Decodes forward from the current position, giving (index, frame); can seek to a timestamp."""

    def __init__(self, container, stream, fps: float):
        self.container, self.stream, self.fps = container, stream, fps
        self.tb = float(stream.time_base) if stream.time_base else 0.0
        self.origin = None  # pts of frame 0
        self.counting = False  # frames without pts: index = count since the start, no seeking
        self.count = -1
        self._gen = container.decode(stream)
        self.decoded = 0

    def next(self):
        frame = next(self._gen, None)
        if frame is None:
            return None
        self.decoded += 1
        self.count += 1
        if self.origin is None and not self.counting:
            if frame.pts is None or not self.tb:
                self.counting = True
            else:
                self.origin = frame.pts
        if self.counting or frame.pts is None:
            self.counting = True
            return self.count, frame
        return round((frame.pts - self.origin) * self.tb * self.fps), frame

    def seek(self, ts: int) -> None:
        self.container.seek(int(ts), stream=self.stream, backward=True, any_frame=False)
        self._gen = self.container.decode(self.stream)


def _keyframe_timestamps(stream) -> list[int]:
    """Sorted timestamps of the keyframes in the container's index ([] without one)."""
    try:
        return sorted(e.timestamp for e in stream.index_entries if e.is_keyframe)
    except Exception:
        return []


def _keyframes(path, stream) -> tuple[int, ...]:
    """_keyframe_timestamps, read once per file version: every pass over a file opens it again, and reading a
    long index (10,000 entries for 6 minutes of AVI) costs more than decoding a frame."""
    try:
        st = os.stat(path)
    except OSError:
        return tuple(_keyframe_timestamps(stream))
    key = (str(path), st.st_size, st.st_mtime_ns, stream.index)
    with _KEYFRAMES_LOCK:  # held while reading, so passes starting together read a new file's list once
        known = _KEYFRAMES.get(key)
        if known is None:
            known = _KEYFRAMES[key] = tuple(_keyframe_timestamps(stream))
            while len(_KEYFRAMES) > KEYFRAME_FILES:
                _KEYFRAMES.popitem(last=False)
    return known


def _keyframe_index(ts, cursor: _Cursor) -> tuple[list[int], list[int]]:
    """(frame indices, presentation timestamps) of keyframes at timestamps `ts`, when there are enough."""
    if len(ts) < 2 or cursor.origin is None:
        return [], []
    offset = cursor.origin - ts[0]  # index times may be decode times: align the first keyframe with frame 0
    pts = [t + offset for t in ts]
    return [round((p - cursor.origin) * cursor.tb * cursor.fps) for p in pts], pts


def read_frames(path: str | Path, wanted, *, threads: bool | None = None, convert=to_rgb, passes: int = 1) -> FrameRead:
    """Decode the frames with the given indices in one forward pass over the video.

    Between wanted frames the pass seeks to the keyframe before the next wanted frame when that skips work
    (keyframe positions from the container index; without an index it decodes straight on). Every frame is
    identified by its timestamp, so a seek that lands early only costs time; one that lands past its target
    sends the pass back to the start, and seeking stops for that file once a seek makes no progress.
    A wanted index with no frame of its own (dropped frames) gets the frame shown at that time. Indices past
    the last decodable frame stay missing; `last_index` and `error` tell why. `convert` turns a decoded frame
    into the stored array (default: full-size RGB). `threads` lets FFmpeg decode with several threads, which
    only pays off for long stretches without seeks; None (default) turns them on when keyframes are at
    least LONG_GOP frames apart, where exact access means decoding most of the file anyway.
    `passes` > 1: the wanted frames in that many runs, decoded at once in threads; the outcome of one pass.
    Raises VideoError when the video cannot be opened at all.
    """
    targets = sorted({int(i) for i in wanted if i >= 0})
    if passes > 1 and len(targets) >= MIN_PER_PASS * passes:
        runs = [list(r) for r in np.array_split(np.array(targets), passes)]
        with ThreadPoolExecutor(passes, thread_name_prefix="decode") as pool:
            return _joined(list(pool.map(lambda run: _one_pass(path, run, threads, convert), runs)))
    return _one_pass(path, targets, threads, convert)


def _joined(reads: list[FrameRead]) -> FrameRead:
    """One pass's outcome from passes over consecutive runs: a decoder error ends it (later runs dropped)."""
    out = FrameRead(info=reads[0].info, convert=reads[0].convert)
    for r in reads:
        out.frames.update(r.frames)
        out.last_index = max(out.last_index, r.last_index)
        out.seeks, out.decoded = out.seeks + r.seeks, out.decoded + r.decoded
        if r.error:
            out.error = r.error
            break
    return out


def _one_pass(path, targets: list[int], threads: bool | None, convert) -> FrameRead:
    container, stream = _open(path)
    try:
        info = _info(container, stream)
        keyframes = _keyframes(path, stream)
        if threads is None:
            threads = _long_gops(keyframes, stream, info.fps)
        if threads:
            stream.thread_type = "AUTO"
        result = FrameRead(info=info, convert=convert)
        try:
            _decode_targets(container, stream, info, targets, result, keyframes)
        except VideoError:
            raise
        except Exception as e:  # decoder errors mid-stream end the pass; what was found is kept
            result.error = f"{type(e).__name__}: {e}"
        return result
    finally:
        container.close()


def _long_gops(ts, stream, fps: float) -> bool:
    """True when keyframes at timestamps `ts` are LONG_GOP or more frames apart (median gap)."""
    tb = float(stream.time_base) if stream.time_base else 0.0
    if len(ts) < 3 or not tb:
        return False
    return float(np.median(np.diff(ts))) * tb * fps >= LONG_GOP


def _decode_targets(container, stream, info: VideoInfo, targets: list[int], result: FrameRead, keyframes) -> None:
    cursor = _Cursor(container, stream, info.fps)
    first = cursor.next()
    if first is None:
        raise VideoError("unreadable video", "no decodable frame")
    key_idx, key_pts = _keyframe_index(keyframes, cursor)
    prev = first  # (index, frame) decoded last
    pending = list(targets)
    seek_ok = not cursor.counting
    _take(prev, None, pending, result)
    while pending:
        target = pending[0]
        k = _seek_keyframe(target, prev[0], key_idx) if seek_ok else None
        if k is not None:
            item = _seek_to(cursor, key_pts, k, target)
            result.seeks += 1
            if item is None:
                raise VideoError("unreadable video", "seeking back to the start failed")
            if item[0] <= prev[0]:  # no progress: this file does not seek well, decode forward only
                seek_ok = False
            before, prev = None, item
        else:
            item = cursor.next()
            if item is None:
                break
            before, prev = prev, item
        _take(prev, before, pending, result)
    result.last_index = max(result.last_index, prev[0])
    result.decoded = cursor.decoded


def _seek_keyframe(target: int, current: int, key_idx: list[int]) -> int | None:
    """Position in the keyframe list to seek to for `target`, or None when decoding forward is as good."""
    if target <= current or not key_idx:
        return None
    k = bisect.bisect_right(key_idx, target) - 1
    return k if k >= 0 and key_idx[k] > current + MIN_SKIP else None


def _seek_to(cursor: _Cursor, key_pts: list[int], k: int, target: int):
    """Seek to keyframe k and decode its first frame; when that lands past `target` (index times can be off
    by a few frames) try the keyframes before it, finally the start. None if even the start fails."""
    for j in (k, k - 1, k - 2):
        cursor.seek(key_pts[j] if j >= 0 else cursor.origin)
        item = cursor.next()
        if item is not None and item[0] <= target:
            return item
        if j < 0:
            break
    cursor.seek(cursor.origin)
    item = cursor.next()
    return item if item is not None and item[0] <= target else None


def _take(item, before, pending: list[int], result: FrameRead) -> None:
    """Fill the pending targets that the frame `item` (preceded by `before`) answers."""
    idx, frame = item
    result.last_index = max(result.last_index, idx)
    while pending and pending[0] <= idx:
        t = pending.pop(0)
        if t == idx:
            result.frames[t] = result.convert(frame)
        elif before is not None and before[0] < t:  # no frame of its own: the one on screen at t
            result.frames[t] = result.convert(before[1])
        else:  # passed without a frame before it (only right after a seek that landed late)
            result.frames[t] = result.convert(frame)
