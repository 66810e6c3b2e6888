"""Active speaker: of the face tracks in a segment, the one whose lips move, and move with the sound.

Per track, the inner-lip opening (Face Mesh, divided by the outer-eye-corner distance) is measured in every
frame. Its spread over the segment (standard deviation) is the lip motion; when the audio's short-time energy at
the frame times is given, the Pearson correlation of opening and energy weighs it:
    score = motion / max motion * (1 + AUDIO_WEIGHT * correlation)
so a face that moves its lips far more than the others wins either way, and between faces that move alike the
audio decides. When no track's lips move more than MIN_MOTION (frozen or unreadable faces, or no landmarker),
the choice falls back to the largest face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emorec.vision.landmarks import mouth_opening

MIN_MOTION = 0.005  # lip-opening std below which lips count as still (a still face jitters ~0.0015)
AUDIO_WEIGHT = 0.5


@dataclass(frozen=True)
class EnergyCurve:
    """Short-time RMS energy of a sound: values[i] over a window centred on times[i] seconds."""

    times: np.ndarray
    values: np.ndarray

    @classmethod
    def from_samples(
        cls, samples: np.ndarray, sample_rate: int, hop_s: float = 0.01, window_s: float = 0.04, start_time: float = 0.0
    ) -> EnergyCurve:
        """From mono samples whose first sample plays at start_time seconds."""
        y = np.asarray(samples, dtype=np.float64).reshape(-1)
        hop, win = max(1, round(hop_s * sample_rate)), max(1, round(window_s * sample_rate))
        if len(y) < win:
            y = np.pad(y, (0, win - len(y)))
        starts = np.arange(0, len(y) - win + 1, hop)
        power = np.cumsum(np.concatenate([[0.0], y * y]))
        rms = np.sqrt(np.maximum(power[starts + win] - power[starts], 0) / win)
        return cls(times=start_time + (starts + win / 2) / sample_rate, values=rms)

    def at(self, times, window_s: float = 0.2) -> np.ndarray:
        """Mean energy over window_s seconds around each of `times` (the sound while the frame is on screen and
        just around it: lips and sound are not exactly in step)."""
        out = []
        for t in np.asarray(times, dtype=np.float64).reshape(-1):
            inside = np.abs(self.times - t) <= window_s / 2
            if inside.any():
                out.append(float(self.values[inside].mean()))
            else:
                out.append(float(np.interp(t, self.times, self.values)) if len(self.times) else 0.0)
        return np.asarray(out)


def lip_openings(track, frames, landmarker) -> np.ndarray:
    """Mouth opening of the track's face in each frame (NaN where the face was not found)."""
    out = np.full(len(frames), np.nan)
    for i, face in enumerate(track.faces):
        if face is not None:
            out[i] = mouth_opening(landmarker.landmarks(frames[i], face))
    return out


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the positions where both are finite; 0 when it cannot be told (fewer than 3
    points or a constant series)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    x, y = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 1e-12 else 0.0


def _frame_energy(audio_energy, frame_times, n_frames: int) -> np.ndarray | None:
    if audio_energy is None:
        return None
    if isinstance(audio_energy, EnergyCurve):
        if frame_times is None:
            raise ValueError("an EnergyCurve needs frame_times to be sampled at")
        if len(frame_times) != n_frames:
            raise ValueError(f"{len(frame_times)} frame times for {n_frames} frames")
        return audio_energy.at(frame_times)
    energy = np.asarray(audio_energy, dtype=np.float64).reshape(-1)
    if len(energy) != n_frames:
        raise ValueError(f"audio_energy has {len(energy)} values for {n_frames} frames")
    return energy


def active_speaker(
    tracks, frames, frame_times=None, audio_energy=None, landmarker=None, min_motion: float = MIN_MOTION
) -> tuple[int, dict]:
    """Index into `tracks` of the speaking face, and how it was chosen: a dict with per-track lists "score",
    "motion", "correlation", "area" and "method" ("single", "lips+audio", "lips" or "largest").

    `frames` are the RGB frames the tracks were made from; `audio_energy` is either the energy at each frame
    (one value per frame) or an EnergyCurve sampled at `frame_times` (seconds). `landmarker` is a
    FaceLandmarker; without one the largest face is taken."""
    if not tracks:
        raise ValueError("no face tracks to choose from")
    if any(len(t.faces) != len(frames) for t in tracks):
        raise ValueError(f"tracks must have one entry per frame ({len(frames)} frames)")
    areas = [t.mean_area for t in tracks]
    largest = int(np.argmax(areas))
    info = {
        "area": areas,
        "score": [0.0] * len(tracks),
        "motion": [0.0] * len(tracks),
        "correlation": [0.0] * len(tracks),
        "method": "largest",
    }
    energy = _frame_energy(audio_energy, frame_times, len(frames))
    if len(tracks) == 1:
        info["method"] = "single"
        return 0, info
    if landmarker is None:
        return largest, info
    openings = [lip_openings(t, frames, landmarker) for t in tracks]
    motion = [float(np.nanstd(o)) if np.isfinite(o).sum() >= 2 else 0.0 for o in openings]
    info["motion"] = motion
    if max(motion) < min_motion:
        return largest, info
    corr = [correlation(o, energy) for o in openings] if energy is not None else [0.0] * len(tracks)
    score = [m / max(motion) * (1.0 + AUDIO_WEIGHT * c) for m, c in zip(motion, corr)]
    info.update(correlation=corr, score=score, method="lips+audio" if energy is not None else "lips")
    return int(np.argmax(score)), info
