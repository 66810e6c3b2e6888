"""Image geometry shared by the detector, the landmarker and the alignment: letterboxing to a square model input
and rotated square crops. All points are continuous pixel coordinates (see emorec.vision.face)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ANTI_ALIAS = 1.5  # shrink with area averaging first when a crop scales down by more than this


def check_rgb(rgb) -> np.ndarray:
    """The image as a contiguous uint8 (H, W, 3) array; a clear error for anything else."""
    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 2 or a.shape[1] < 2:
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into a size x size square: scale, then padding on the left and top."""

    size: int
    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Points in normalised square coordinates ([0, 1] over the square) back to image pixels."""
        xy = np.asarray(xy, dtype=np.float64)
        out = np.empty_like(xy)
        out[..., 0] = (xy[..., 0] * self.size - self.pad_x) / self.scale
        out[..., 1] = (xy[..., 1] * self.size - self.pad_y) / self.scale
        return out


def letterbox(rgb: np.ndarray, size: int, fill: float = 1.0) -> tuple[np.ndarray, Letterbox]:
    """The image scaled so its long side covers `fill` of a size x size square (aspect kept, centred, black
    around it), and the mapping back."""
    h, w = rgb.shape[:2]
    scale = size * fill / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (nw, nh), interpolation=interpolation)
    px, py = (size - nw) // 2, (size - nh) // 2
    square = np.zeros((size, size, 3), dtype=np.uint8)
    square[py : py + nh, px : px + nw] = resized
    # the real per-axis scale after rounding is nw / w; the common one keeps boxes square
    return square, Letterbox(size=size, scale=(nw / w + nh / h) / 2, pad_x=float(px), pad_y=float(py))


@dataclass(frozen=True)
class SquareCrop:
    """A square of side `side` pixels centred on `centre`, its x axis at `angle` radians in the image
    (y down); the crop's pixel (u, v) of an out_size x out_size output maps back through to_image."""

    centre: tuple[float, float]
    side: float
    angle: float
    out_size: int

    def affine(self) -> np.ndarray:
        """2x3 matrix: continuous crop coordinates -> continuous image coordinates."""
        k = self.side / self.out_size
        c, s = math.cos(self.angle), math.sin(self.angle)
        half = self.out_size / 2
        cx, cy = self.centre
        return np.array(
            [[k * c, -k * s, cx - k * half * (c - s)], [k * s, k * c, cy - k * half * (s + c)]], dtype=np.float64
        )

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Points (..., 2) in crop pixels to image pixels."""
        m = self.affine()
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ m[:, :2].T + m[:, 2]

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounding box of the rotated square in the image."""
        half = self.side / 2 * (abs(math.cos(self.angle)) + abs(math.sin(self.angle)))
        cx, cy = self.centre
        return cx - half, cy - half, cx + half, cy + half


def crop_square(rgb: np.ndarray, crop: SquareCrop, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """The rotated square `crop` of the image resampled to out_size x out_size (bilinear; area-averaged first
    when shrinking a lot, so large faces do not alias). Parts outside the image follow `border`."""
    m = crop.affine()
    source = rgb
    shrink = crop.side / crop.out_size
    if shrink > ANTI_ALIAS:
        source, m = _shrunk_region(rgb, crop, m, shrink)
    # cv2 puts pixel centres at integer coordinates: shift by half a pixel on both sides
    centred = m.copy()
    centred[:, 2] += 0.5 * (m[:, 0] + m[:, 1]) - 0.5
    return cv2.warpAffine(
        source,
        centred,
        (crop.out_size, crop.out_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=border,
    )


def _shrunk_region(rgb: np.ndarray, crop: SquareCrop, m: np.ndarray, shrink: float):
    """The part of the image under the crop, area-resized to about the output's resolution, and the matrix
    adjusted to it. The region is clipped to the image, so the border rule still sees the image's own edges."""
    h, w = rgb.shape[:2]
    bx0, by0, bx1, by1 = crop.bounds()
    x0, y0 = max(0, math.floor(bx0) - 1), max(0, math.floor(by0) - 1)
    x1, y1 = min(w, math.ceil(bx1) + 1), min(h, math.ceil(by1) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:  # crop entirely outside: the border rule decides everything
        return rgb, m
    region = rgb[y0:y1, x0:x1]
    rw, rh = max(2, round((x1 - x0) / shrink)), max(2, round((y1 - y0) / shrink))
    small = cv2.resize(region, (rw, rh), interpolation=cv2.INTER_AREA)
    sx, sy = rw / (x1 - x0), rh / (y1 - y0)
    adjusted = m.copy()
    adjusted[0] = m[0] * sx
    adjusted[1] = m[1] * sy
    adjusted[0, 2] = (m[0, 2] - x0) * sx
    adjusted[1, 2] = (m[1, 2] - y0) * sy
    return small, adjusted
