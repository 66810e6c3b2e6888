"""Speed of the face tools (emorec.vision) on real frames: ms per frame for BlazeFace detection (short, full,
full_sparse), Face Mesh landmarks, aligned crops, and a whole segment's tracking + active-speaker choice.

    python benchmarks/faces.py [--data ../shared/data] [--frames 30] [--threads 1] [--repeat 3]

Frames are sampled evenly from the RAVDESS audio-visual clips (1280x720) in DATA/ravdess_av and timed at their
own size and scaled to 640 px wide. Each figure is the median over the frames of the best of --repeat runs per
frame, after one warm-up call; the machine's load (`uptime`) is printed before and after.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "uptime unavailable"


def best_ms(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def per_frame(fn, frames, repeat: int) -> float:
    fn(frames[0])  # warm-up
    return statistics.median(best_ms(lambda f=f: fn(f), repeat) for f in frames)


def load_frames(data: Path, n: int) -> list[np.ndarray]:
    from emorec.vision import read_segment_frames

    clips = sorted((data / "ravdess_av").glob("*.mp4"))
    if not clips:
        sys.exit(f"no RAVDESS clips in {data / 'ravdess_av'}")
    per_clip = max(1, -(-n // len(clips)))
    frames = [f for c in clips for f in read_segment_frames(c, n=per_clip).frames]
    return frames[:n]


def scaled(frames, width: int) -> list[np.ndarray]:
    import cv2

    h, w = frames[0].shape[:2]
    size = (width, round(h * width / w))
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]


def time_size(frames, threads: int, repeat: int) -> dict[str, float]:
    from emorec.vision import FaceDetector, FaceLandmarker, aligned_face

    out = {}
    detectors = {m: FaceDetector(m, threads=threads) for m in ("short", "full", "full_sparse")}
    for m, det in detectors.items():
        out[f"detect {m}"] = per_frame(det.detect, frames, repeat)
    faces = [detectors["full"].detect(f)[0] for f in frames]
    mesh = FaceLandmarker(threads=threads)
    pairs = list(zip(frames, faces))
    out["landmarks (Face Mesh)"] = per_frame(lambda p: mesh.landmarks(*p), pairs, repeat)
    out["align 112 px, keypoints"] = per_frame(lambda p: aligned_face(p[0], p[1], 112), pairs, repeat)
    marks = [mesh.landmarks(f, face) for f, face in pairs]
    triples = [(f, face, lm) for (f, face), lm in zip(pairs, marks)]
    out["align 224 px, landmarks"] = per_frame(lambda t: aligned_face(t[0], t[1], 224, landmarks=t[2]), triples, repeat)
    return out


def time_speaker(frames, threads: int, repeat: int) -> float:
    """ms for one 9-frame segment: two faces side by side, tracked, lips measured, speaker chosen."""
    from emorec.vision import FaceDetector, FaceLandmarker, active_speaker, track_faces

    det, mesh = FaceDetector("full", threads=threads), FaceLandmarker(threads=threads)
    half = scaled(frames[:9], 640)
    segment = [np.hstack([f, half[4]]) for f in half]
    energy = np.linspace(0.0, 1.0, len(segment))

    def run():
        tracks = track_faces(segment, det)
        active_speaker(tracks, segment, audio_energy=energy, landmarker=mesh)

    run()
    return best_ms(run, repeat)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="LiteRT interpreter threads")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"load before: {uptime()}", flush=True)
    frames = load_frames(Path(args.data), args.frames)
    h, w = frames[0].shape[:2]
    for label, batch in ((f"{w}x{h}", frames), ("640 px wide", scaled(frames, 640))):
        print(f"\n{label}: {len(batch)} frames, {args.threads} thread(s), ms per frame (median)")
        for name, ms in time_size(batch, args.threads, args.repeat).items():
            print(f"  {name:26s} {ms:7.2f}")
    ms = time_speaker(frames, args.threads, args.repeat)
    print(f"\nsegment of 9 frames (1280x360, 2 faces): track + lips + active speaker {ms:.0f} ms")
    print(f"\nload after: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
