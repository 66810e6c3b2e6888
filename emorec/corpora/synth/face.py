"""Drawn faces: two actors side by side, expressions per emotion, a talking mouth, streamed to an MPEG-4 AVI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from scipy.signal import lfilter

FPS = 30
# Expression parameters: mouth curvature (+ smile), mouth openness, mouth width, brow angle (+ inner ends
# lowered, a frown), brow height, eye openness.
PARAMS = ("mouth_curve", "mouth_open", "mouth_width", "brow_angle", "brow_height", "eye_open")
EXPRESSIONS: dict[str, tuple[float, ...]] = {
    "neu": (0.00, 0.05, 1.00, 0.00, 1.00, 1.00),
    "hap": (0.90, 0.25, 1.15, -0.10, 1.10, 0.80),
    "exc": (1.00, 0.60, 1.20, -0.20, 1.30, 1.15),
    "sad": (-0.80, 0.05, 0.85, -0.80, 1.10, 0.55),
    "ang": (-0.45, 0.35, 0.95, 0.95, 0.70, 0.80),
    "fru": (-0.50, 0.10, 0.90, 0.50, 0.85, 0.85),
    "sur": (0.10, 0.85, 0.70, -0.30, 1.50, 1.40),
    "fea": (-0.30, 0.50, 1.10, -0.90, 1.40, 1.35),
    "dis": (-0.60, 0.15, 0.90, 0.60, 0.80, 0.60),
    "oth": (0.25, 0.10, 1.00, 0.30, 1.20, 0.95),
}
EXPRESSIVE_CODES = tuple(EXPRESSIONS)
# Noise scale of each parameter at face_noise = 1.
EXPR_SPREAD = np.array([0.45, 0.18, 0.12, 0.45, 0.20, 0.25])
SMOOTH_SECONDS = 0.08  # how fast a face moves to a new expression
# Drawn size of the expression features, relative to the head's half-height.
MOUTH_CURVE, MOUTH_GAP, BROW_TILT = 0.16, 0.22, 0.12
SHIFT = 4  # sub-pixel drawing precision (2**SHIFT)


@dataclass(frozen=True)
class FaceLook:
    """One actor's appearance (RGB colours; sizes and offsets in units of the half-frame)."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    iris: tuple[int, int, int]
    head_w: float
    head_h: float
    hair_style: int  # 0 short, 1 long, 2 very short
    x_off: float
    y_off: float
    brow_thickness: float

    @classmethod
    def draw(cls, gender: str, rng: np.random.Generator) -> FaceLook:
        tone = rng.uniform(0.0, 1.0)
        skin = tuple(int(c) for c in np.array([236, 196, 166]) * (1 - tone) + np.array([120, 80, 56]) * tone)
        hair = tuple(
            int(c) for c in rng.choice([[40, 30, 25], [90, 60, 30], [20, 20, 20], [160, 120, 70], [110, 100, 95]])
        )
        return cls(
            skin=skin,  # type: ignore[arg-type]
            hair=hair,  # type: ignore[arg-type]
            shirt=tuple(int(c) for c in rng.integers(30, 220, 3)),  # type: ignore[arg-type]
            iris=tuple(int(c) for c in rng.choice([[60, 40, 20], [40, 80, 120], [50, 90, 50]])),  # type: ignore
            head_w=float(rng.uniform(0.98, 1.02) * (0.99 if gender == "F" else 1.01)),
            head_h=float(rng.uniform(0.98, 1.02)),
            hair_style=int(rng.choice([1, 0, 0]) if gender == "F" else rng.choice([0, 2, 0])),
            x_off=float(rng.uniform(-0.0125, 0.0125)),
            y_off=float(rng.uniform(-0.01, 0.01)),
            brow_thickness=float(rng.uniform(0.8, 1.3) * (0.9 if gender == "F" else 1.1)),
        )


def expression_params(code: str, rng: np.random.Generator, noise: float) -> np.ndarray:
    """The face parameters showing `code`, jittered by `noise` (0 = the canonical face)."""
    return np.array(EXPRESSIONS[code]) + rng.normal(0.0, 1.0, len(PARAMS)) * EXPR_SPREAD * noise


def expression_track(n_frames: int, segments: list[tuple[float, float, np.ndarray]]) -> np.ndarray:
    """Per-frame parameters (n_frames, P): later segments override earlier ones, then smoothed over time."""
    target = np.tile(np.array(EXPRESSIONS["neu"]), (n_frames, 1))
    for t0, t1, params in segments:
        a, b = max(0, int(np.ceil(t0 * FPS))), min(n_frames, int(np.ceil(t1 * FPS)))
        if b > a:
            target[a:b] = params
    alpha = 1.0 - np.exp(-1.0 / (SMOOTH_SECONDS * FPS))
    zi = (1 - alpha) * target[:1]
    smoothed, _ = lfilter([alpha], [1.0, -(1 - alpha)], target, axis=0, zi=zi)
    return smoothed


def head_motion(n_frames: int, rng: np.random.Generator, amount: float = 0.012) -> np.ndarray:
    """Slow head wander (n_frames, 2) in half-frame units."""
    walk = np.cumsum(rng.normal(0.0, 1.0, (n_frames, 2)), axis=0)
    walk = lfilter([0.05], [1.0, -0.95], walk, axis=0)
    walk -= walk.mean(axis=0)
    scale = np.abs(walk).max(axis=0) + 1e-9
    return walk / scale * amount


class FaceCanvas:
    """Draws one frame of two actors (left/right halves) over a fixed background."""

    def __init__(
        self,
        width: int,
        height: int,
        background: tuple[int, int, int],
        rng: np.random.Generator,
        pixel_noise: float = 6.0,
        n_noise: int = 12,
    ):
        self.w, self.h, self.half = width, height, width // 2
        self.unit = min(self.half, 0.75 * height)
        grad = np.linspace(1.08, 0.88, height)[:, None, None]
        bg = np.clip(np.array(background)[None, None, :] * grad, 0, 255)
        self.background = np.ascontiguousarray(np.broadcast_to(bg, (height, width, 3)).astype(np.uint8))
        cv2.line(self.background, (self.half, 0), (self.half, height), (30, 30, 30), 1)
        noise = rng.normal(128.0, pixel_noise, (n_noise, height, width, 3))
        self.noise = np.clip(noise, 0, 255).astype(np.uint8)
        self.rng = rng

    def frame(self, tracks: list[FaceTrack], i: int) -> np.ndarray:
        """Frame `i` (RGB) of the faces' tracks, one track per side."""
        img = self.background.copy()
        for track in tracks:
            track.draw(img, i)
        k = int(self.rng.integers(0, len(self.noise)))
        return cv2.addWeighted(img, 1.0, self.noise[k], 1.0, -128.0 + float(self.rng.normal(0.0, 1.5)))


def _pts(x: np.ndarray, y: np.ndarray) -> list[tuple[int, int]]:
    """Per-frame sub-pixel points (x, y arrays or scalars, in pixels)."""
    s = 1 << SHIFT
    x, y = np.broadcast_arrays(np.round(np.atleast_1d(x) * s), np.round(np.atleast_1d(y) * s))
    return list(zip(x.astype(np.int64).tolist(), y.astype(np.int64).tolist()))


def _axes(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """Per-frame sub-pixel ellipse half-axes, at least one unit each."""
    s = 1 << SHIFT
    a, b = np.broadcast_arrays(
        np.maximum(1, np.round(np.atleast_1d(a) * s)), np.maximum(1, np.round(np.atleast_1d(b) * s))
    )
    return list(zip(a.astype(np.int64).tolist(), b.astype(np.int64).tolist()))


class FaceTrack:
    """One actor's face through a whole video: the drawing coordinates of every frame, computed at once."""

    def __init__(
        self, canvas: FaceCanvas, side: int, look: FaceLook, params: np.ndarray, mouth: np.ndarray, motion: np.ndarray
    ):
        u, n = canvas.unit, len(params)
        self.look, self.dark = look, tuple(int(c * 0.7) for c in look.skin)
        cx = side * canvas.half + canvas.half / 2 + (look.x_off + motion[:n, 0]) * u
        cy = canvas.h * 0.47 + (look.y_off + motion[:n, 1]) * u
        ax, ay = 0.30 * u * look.head_w, 0.40 * u * look.head_h
        self._head(canvas, cx, cy, ax, ay)
        self._eyes(cx, cy, ax, ay, params)
        self.nose = (_pts(cx, cy), _pts(cx - 0.06 * ax, cy + 0.2 * ay))
        self._mouth(cx, cy, ax, ay, params, np.asarray(mouth[:n], dtype=np.float64))

    def _head(self, canvas: FaceCanvas, cx, cy, ax, ay) -> None:
        """Shoulders, neck, hair and the face."""
        u, h, style = canvas.unit, canvas.h, self.look.hair_style
        self.shirt = (_pts(cx, h + 0.04 * u), _axes(0.46 * u, 0.30 * u)[0])
        lo, hi = (cx - 0.35 * ax).astype(np.int64), (cx + 0.35 * ax).astype(np.int64)
        top, bottom = (cy + 0.6 * ay).astype(np.int64), (cy + 1.25 * ay).astype(np.int64)
        self.neck = (list(zip(lo.tolist(), top.tolist())), list(zip(hi.tolist(), bottom.tolist())))
        self.long_hair = (_pts(cx, cy + 0.1 * ay), _axes(1.18 * ax, 1.05 * ay)[0]) if style == 1 else None
        self.face = (_pts(cx, cy), _axes(ax, ay)[0])
        if style != 2:
            self.crown = (_pts(cx, cy - 0.52 * ay), _axes(1.0 * ax, 0.5 * ay)[0])
        else:
            self.crown = (_pts(cx, cy - 0.62 * ay), _axes(0.9 * ax, 0.38 * ay)[0])

    def _eyes(self, cx, cy, ax, ay, params: np.ndarray) -> None:
        """Eye whites, irises and brows (inner ends lowered by a positive brow angle), per side of the face."""
        brow_angle, brow_h, eye_open = params[:, 3], params[:, 4], params[:, 5]
        ey = cy - 0.12 * ay
        eh = np.maximum(0.03, 0.12 * ay * eye_open)
        self.eye_axes = _axes(0.20 * ax, eh)
        self.iris_axes = _axes(0.09 * ax, np.minimum(eh, 0.09 * ax))
        by = ey - 0.25 * ay * brow_h
        self.eyes, self.brows = [], []
        for sx in (-1, 1):
            self.eyes.append(_pts(cx + sx * 0.40 * ax, ey))
            inner = _pts(cx + sx * 0.14 * ax, by + brow_angle * BROW_TILT * ay)
            outer = _pts(cx + sx * 0.62 * ax, by - brow_angle * BROW_TILT * 0.4 * ay)
            self.brows.append((inner, outer))
        self.brow_thickness = max(1, int(round(0.07 * ax * self.look.brow_thickness)))

    def _mouth(self, cx, cy, ax, ay, params: np.ndarray, mouth: np.ndarray) -> None:
        """The upper lip bends up at the corners for a smile; the lower lip opens with `open_` and speech."""
        curve, open_, width = params[:, 0], params[:, 1], params[:, 2]
        my, mw = cy + 0.50 * ay, 0.36 * ax * width
        xs = np.linspace(-1.0, 1.0, 9)
        upper = my[:, None] - (curve * MOUTH_CURVE * ay)[:, None] * xs**2
        gap = (np.maximum(open_ + 0.55 * mouth, 0.0) * MOUTH_GAP * ay)[:, None] * (1 - xs**2)
        top = np.stack([cx[:, None] + xs * mw[:, None], upper], 2)
        bottom = np.stack([cx[:, None] + xs[::-1] * mw[:, None], (upper + gap)[:, ::-1]], 2)
        self.lips = (np.concatenate([top, bottom], 1) * (1 << SHIFT)).round().astype(np.int32)
        self.lip_thickness = max(1, int(round(0.04 * ax)))

    def draw(self, img: np.ndarray, i: int) -> None:
        look, dark, sh, aa = self.look, self.dark, SHIFT, cv2.LINE_AA
        cv2.ellipse(img, self.shirt[0][i], self.shirt[1], 0, 180, 360, look.shirt, -1, aa, sh)
        cv2.rectangle(img, self.neck[0][i], self.neck[1][i], dark, -1)
        if self.long_hair is not None:
            cv2.ellipse(img, self.long_hair[0][i], self.long_hair[1], 0, 0, 360, look.hair, -1, aa, sh)
        cv2.ellipse(img, self.face[0][i], self.face[1], 0, 0, 360, look.skin, -1, aa, sh)
        cv2.ellipse(img, self.crown[0][i], self.crown[1], 0, 180, 360, look.hair, -1, aa, sh)
        for eye, (inner, outer) in zip(self.eyes, self.brows):
            cv2.ellipse(img, eye[i], self.eye_axes[i], 0, 0, 360, (245, 245, 245), -1, aa, sh)
            cv2.ellipse(img, eye[i], self.iris_axes[i], 0, 0, 360, look.iris, -1, aa, sh)
            cv2.ellipse(img, eye[i], self.eye_axes[i], 0, 0, 360, dark, 1, aa, sh)
            cv2.line(img, inner[i], outer[i], look.hair, self.brow_thickness, aa, sh)
        cv2.line(img, self.nose[0][i], self.nose[1][i], dark, 1, aa, sh)
        cv2.fillPoly(img, [self.lips[i]], (90, 20, 30), aa, sh)
        cv2.polylines(img, [self.lips[i]], True, (150, 50, 60), self.lip_thickness, aa, sh)


def open_avi(
    path: Path, width: int, height: int, keyframe_interval: int = 12
) -> tuple[av.container.OutputContainer, av.video.VideoStream]:
    container = av.open(str(path), "w", format="avi")
    stream = container.add_stream("mpeg4", rate=FPS)
    stream.codec_context.gop_size = keyframe_interval
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.bit_rate = int(width * height * FPS * 0.2)
    stream.codec_context.codec_tag = "DIVX"
    stream.codec_context.thread_count = 1
    return container, stream


def write_video(
    path: Path,
    canvas: FaceCanvas,
    n_frames: int,
    faces: list[tuple[FaceLook, np.ndarray, np.ndarray, np.ndarray]],
    keyframe_interval: int = 12,
) -> None:
    """Stream `n_frames` frames to `path`; `faces` = per side (look, params (n,P), mouth (n,), motion (n,2))."""
    container, stream = open_avi(path, canvas.w, canvas.h, keyframe_interval)
    try:
        encode_frames(container, stream, canvas, n_frames, faces)
    finally:
        container.close()


def encode_frames(
    container,
    stream,
    canvas: FaceCanvas,
    n_frames: int,
    faces: list[tuple[FaceLook, np.ndarray, np.ndarray, np.ndarray]],
) -> None:
    """Draw and encode `n_frames` frames into an open video stream, then flush the encoder."""
    tracks = [FaceTrack(canvas, side, look, pr[:n_frames], mo, mt) for side, (look, pr, mo, mt) in enumerate(faces)]
    for i in range(n_frames):
        rgb = canvas.frame(tracks, i)
        for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
