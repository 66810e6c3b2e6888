"""Coded test videos: every frame carries its index as a block pattern, so a decoded frame says which it is."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

BLOCK = 16  # pixels per bit of the frame-number code
BITS = 11


def coded_frame(i: int, w: int, h: int, left=(200, 40, 40), right=(40, 40, 200)) -> np.ndarray:
    """A frame whose top-left blocks spell `i` in binary; left half reddish, right half bluish below them."""
    img = np.zeros((h, w, 3), np.uint8)
    img[2 * BLOCK :, : w // 2] = left
    img[2 * BLOCK :, w // 2 :] = right
    for bit in range(BITS):
        if (i >> bit) & 1:
            img[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255
    return img


def read_code(rgb: np.ndarray) -> int:
    return sum(1 << bit for bit in range(BITS) if rgb[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK].mean() > 128)


def coded_video(
    path: Path,
    n: int = 120,
    w: int = 192,
    h: int = 96,
    fps: int = 30,
    gop: int = 12,
    bframes: int = 0,
    codec: str = "mpeg4",
) -> Path:
    """An AVI (mpeg4) or MP4 (libx264) of n coded frames."""
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    stream.codec_context.gop_size = gop
    if bframes:
        stream.codec_context.max_b_frames = bframes
    for i in range(n):
        for p in stream.encode(av.VideoFrame.from_ndarray(coded_frame(i, w, h), format="rgb24")):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)
    container.close()
    return path


def sequential(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


# --- frame selection ---------------------------------------------------------------------------------------
