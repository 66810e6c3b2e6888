"""The frames of a video's segments for prediction: decoded once (the frame model's frames by the training rule,
plus an RGB preview of the middle one), the speaker's side found, and whether a face is visible."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emorec.inputs.frames import frames_of_windows
from emorec.media.crops import FaceFinder, half_box
from emorec.media.video import VideoError, probe, scaled_rgb, to_rgb

PREVIEW_PX = 640  # long side of the frame kept per segment for face search and the labelled PNGs
DECODE_PASSES = 2  # decoding passes over a recording at once (read_frames): the other core is idle here


@dataclass
class SegmentFrames:
    model: list[np.ndarray] | None  # the frame model's frames, converted as preprocessing converts them
    preview: np.ndarray  # RGB, at most PREVIEW_PX on its long side
    times: list[float]  # seconds of the model's frames


def _preview_converter(info):
    scale = min(1.0, PREVIEW_PX / max(info.width, info.height, 1))
    if scale < 1.0:
        return scaled_rgb(2 * round(info.width * scale / 2), 2 * round(info.height * scale / 2))
    return to_rgb


def decode_segment_frames(path, segments, runner=None) -> tuple[list[SegmentFrames | None], str]:
    """Per segment its frames (None when it has none), all decoded in one pass; and a warning ('' if none)."""
    try:
        info = probe(path)
    except VideoError as e:
        return [None] * len(segments), f"frames unavailable: {e}"
    preview = _preview_converter(info)
    for_model = runner.kind.converter(info) if runner is not None else None
    k = runner.kind.frames_per_window if runner is not None else 1
    if for_model is None:

        def convert(frame):
            return None, preview(frame)
    elif for_model is to_rgb and preview is to_rgb:

        def convert(frame):
            rgb = to_rgb(frame)
            return rgb, rgb
    else:

        def convert(frame):
            return for_model(frame), preview(frame)

    try:
        got = frames_of_windows(path, [(s.start, s.end) for s in segments], k, convert, info, passes=DECODE_PASSES)
    except VideoError as e:
        return [None] * len(segments), f"frames unavailable: {e}"
    out: list[SegmentFrames | None] = []
    for w in got:
        if not w.ok:
            out.append(None)
            continue
        out.append(
            SegmentFrames(
                model=None if runner is None else [m for m, _ in w.frames],
                preview=w.frames[len(w.frames) // 2][1],
                times=[i / info.fps for i in w.indices],
            )
        )
    failed = [w for w in got if not w.ok]
    warning = ""
    if failed:
        warning = f"{len(failed)} segment(s) without a decodable frame ({failed[0].reason}"
        warning += f": {failed[0].detail})" if failed[0].detail else ")"
    return out, warning


class SideFinder:
    """The speaker's side of a frame from the largest face (OpenCV Haar cascade)."""

    def __init__(self):
        self.faces = FaceFinder(margin=0.0)

    def resolve(self, rgb: np.ndarray, side: str | None, look: bool = True) -> tuple[str, bool | None]:
        """(side, face seen). 'auto': the half holding the largest detected face; the full frame when that
        face straddles the middle or no face is found. A given side is kept, and with look=True the face is
        looked for there (None = not looked for)."""
        if side and side != "auto":
            if not look:
                return side, None
            x0, y0, x1, y1 = half_box(rgb.shape[1], rgb.shape[0], side)
            return side, self.faces.find(np.ascontiguousarray(rgb[y0:y1, x0:x1])) is not None
        box = self.faces.find(rgb)
        if box is None:
            return "full", False
        x0, _, x1, _ = box
        mid, width = rgb.shape[1] / 2, max(1, x1 - x0)
        if (min(x1, mid) - x0) / width >= 0.8:
            return "left", True
        if (x1 - max(x0, mid)) / width >= 0.8:
            return "right", True
        return "full", True


def convert_array(runner, rgb: np.ndarray) -> np.ndarray:
    """An RGB array through the frame model's conversion (via an RGB video frame), as preprocessing converts."""
    import av

    from emorec.media.video import VideoInfo

    h, w = rgb.shape[:2]
    convert = runner.kind.converter(VideoInfo(fps=25.0, n_frames=1, width=w, height=h, declared=True))
    return convert(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24"))
