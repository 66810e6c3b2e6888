"""`frames`: the middle frame (or k evenly spaced frames) of an utterance's window, cropped and resized.

Crops: `speaker` (the speaker's half by the corpus' side), `left`, `right`, `full`, `face` (the largest face in
the speaker's half, OpenCV Haar cascade, with a margin). The frame index rule: the window [start, end] covers
frames [floor(start*fps), floor(end*fps)]; k frames are the centres of k equal parts (k = 1: the middle frame);
a window that runs past the real end of a video whose header count was an estimate takes the last frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from pydantic import Field

from emorec.inputs import register_input
from emorec.inputs.augment import random_affine
from emorec.inputs.base import InputKind, Options, Settings, as_stats
from emorec.media.crops import FaceFinder, crop_frame
from emorec.media.video import VideoInfo, frame_window, pick_frames, probe, read_frames, scaled_rgb, to_rgb

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FRAME_PICKS = ("middle", "mean", "random")


class FramesSettings(Settings):
    crop: Literal["speaker", "left", "right", "full", "face"] = "speaker"
    frame_size: int = Field(224, ge=8, le=1024)
    frames_per_utterance: int = Field(1, ge=1, le=64)
    face_margin: float = Field(0.25, ge=0.0, le=2.0)  # added on each side, as a fraction of the face box


class FramesOptions(Options):
    # with k > 1 stored frames: the middle one, their pixel mean, or a random one each time (training)
    frame_pick: Literal["middle", "mean", "random"] = "middle"


@dataclass
class WindowFrames:
    """The decoded frames of one window (whatever `convert` made of them), or why there are none."""

    indices: list[int] = field(default_factory=list)
    frames: list = field(default_factory=list)
    reason: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def _plan(window, info: VideoInfo, k: int) -> tuple[list[int], int] | WindowFrames:
    """(frame indices, first frame of the window), or a failed WindowFrames."""
    start, end = window
    if start is not None and end is not None and end <= start:
        return WindowFrames(reason="zero-length window", detail=f"[{start}, {end}]")
    a, b = frame_window(start, end, info.fps, info.n_frames)
    last = info.n_frames - 1
    slack = 0 if info.declared else math.ceil(info.fps)  # a count without a header is less certain
    if a > last + slack:
        return WindowFrames(reason="window past end of video", detail=f"starts at frame {a}, video has {info.n_frames}")
    clamp = last if info.declared else None  # without a header count, clamp after decoding, to the real end
    return pick_frames(a, max(a, b), k, clamp), a


def _resolve(plan: tuple[list[int], int], got, info: VideoInfo, path, convert) -> WindowFrames:
    idx, a = plan
    missing = [f for f in idx if f not in got.frames]
    if missing:
        if got.error:
            return WindowFrames(reason="unreadable video", detail=got.error)
        if info.declared and got.last_index + 1 < info.n_frames:
            return WindowFrames(
                reason="truncated video", detail=f"decoded {got.last_index + 1} of {info.n_frames} frames"
            )
        if a > got.last_index or got.last_index < 0:
            return WindowFrames(
                reason="window past end of video", detail=f"starts at frame {a}, video has {got.last_index + 1}"
            )
        # the header's frame count was an estimate: the window runs into the real end -> the last frame
        idx = [f if f in got.frames else got.last_index for f in idx]
        if got.last_index not in got.frames:
            got.frames.update(read_frames(path, [got.last_index], convert=convert).frames)
        if any(f not in got.frames for f in idx):
            return WindowFrames(reason="unreadable video", detail="last frame not decodable")
    return WindowFrames(indices=list(idx), frames=[got.frames[f] for f in idx])


def window_frame_indices(start, end, info: VideoInfo, k: int = 1) -> list[int] | None:
    """The k frame indices of a window by the training rule (before decoding); None when it has none."""
    plan = _plan((start, end), info, k)
    return None if isinstance(plan, WindowFrames) else plan[0]


def frames_of_windows(
    path, windows: list, k: int, convert=to_rgb, info: VideoInfo | None = None, passes: int = 1
) -> list[WindowFrames]:
    """The k frames of every (start, end) window of one video, decoded in one pass (or `passes` at once, the
    same frames: `read_frames`); VideoError when the video cannot be opened at all."""
    info = info or probe(path)
    plans = [_plan(w, info, k) for w in windows]
    wanted = {f for p in plans if not isinstance(p, WindowFrames) for f in p[0]}
    if not wanted:
        return plans  # every window failed its plan
    got = read_frames(path, wanted, convert=convert, passes=passes)
    return [p if isinstance(p, WindowFrames) else _resolve(p, got, info, path, convert) for p in plans]


@register_input
class Frames(InputKind):
    name = "frames"
    modality = "frame"
    tensor = "image"
    Settings = FramesSettings
    Options = FramesOptions

    def __init__(self, settings, options=None, stats=None):
        super().__init__(settings, options, stats)
        self._faces = None

    @property
    def frames_per_window(self) -> int:
        return self.settings.frames_per_utterance

    def arrays(self):
        s = self.settings
        return {"frames": ((s.frames_per_utterance, s.frame_size, s.frame_size, 3), np.dtype(np.uint8))}

    def converter(self, info: VideoInfo):
        """Decoded frame -> array for `crop`. Half and full crops only need the frame at output scale, so it is
        scaled while converted to RGB (halves of a 2S x S frame are the S x S crops); face detection needs it whole."""
        s, crop = self.settings.frame_size, self.settings.crop
        if crop == "face" or info.width < 2 * s and crop != "full":
            return to_rgb
        return scaled_rgb(s if crop == "full" else 2 * s, s)

    def face_finder(self) -> FaceFinder:
        if self._faces is None:
            self._faces = FaceFinder(self.settings.face_margin)
        return self._faces

    def crop(self, rgb: np.ndarray, side: str) -> tuple[np.ndarray, bool | None]:
        """The training crop of a converted frame, and for crop='face' whether a face was found."""
        faces = self.face_finder() if self.settings.crop == "face" else None
        return crop_frame(rgb, self.settings.crop, side, self.settings.frame_size, faces)

    def crop_window(self, frames: list[np.ndarray], side: str) -> tuple[np.ndarray, list[bool] | None]:
        """(K, S, S, 3) crops of a window's converted frames; for crop='face', whether each frame had a face."""
        crops = [self.crop(f, side) for f in frames]
        found = None if self.settings.crop != "face" else [bool(c[1]) for c in crops]
        return np.stack([c[0] for c in crops]), found

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: (converted frames of the window, speaker side) per utterance."""
        return {"frames": np.stack([self.crop_window(frames, side)[0] for frames, side in items])}

    def fit_stats(self, source, rows):
        return as_stats(IMAGENET_MEAN, IMAGENET_STD)  # ImageNet statistics, as the backbones were trained

    def transform(self, arrays, stats=None, augment=None, rng=None) -> torch.Tensor:
        stats = stats or self.stats or self.fit_stats(None, None)
        clip = arrays["frames"]  # (K, H, W, 3) uint8
        k, pick = clip.shape[0], self.options.frame_pick
        if pick == "mean" and k > 1:
            img = np.asarray(clip, dtype=np.float32).mean(axis=0)
        else:
            j = int(rng.integers(k)) if pick == "random" and rng is not None else k // 2
            img = np.asarray(clip[j], dtype=np.float32)
        x = torch.from_numpy(img).permute(2, 0, 1) / 255.0
        if augment is not None and augment.hflip and rng.random() < 0.5:
            x = x.flip(-1)
        if augment is not None and (augment.rotate or augment.zoom or augment.shift):
            x = random_affine(x, rng, rotate=augment.rotate, shift=augment.shift, zoom=augment.zoom)
        mean = torch.as_tensor(stats["mean"], dtype=torch.float32).view(3, 1, 1)
        std = torch.as_tensor(stats["std"], dtype=torch.float32).view(3, 1, 1)
        return (x - mean) / std

    def check_augment(self, augment) -> None:
        if augment is not None and augment.perturbs:
            raise ValueError("frames: speed/noise augmentation is for spectrograms; frames take `hflip`")
