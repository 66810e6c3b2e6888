"""Face tracks over the frames sampled from one segment: detect per frame, link detections frame to frame by box
overlap (IoU) or, for sparse samples where a head moves between frames, by centre distance relative to the
face size."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emorec.vision.align import aligned_face
from emorec.vision.face import Face, iou

MIN_IOU = 0.3
MAX_CENTRE_SHIFT = 0.5  # in face sizes (the larger of the two faces)


@dataclass(eq=False)
class Track:
    """One face followed over the segment's frames: faces[i] is its face in frame i, None where it was not
    found."""

    faces: list[Face | None] = field(default_factory=list)

    @property
    def frames_seen(self) -> list[int]:
        return [i for i, f in enumerate(self.faces) if f is not None]

    @property
    def presence(self) -> float:
        """Share of the frames in which the face was found."""
        return len(self.frames_seen) / len(self.faces) if self.faces else 0.0

    @property
    def mean_area(self) -> float:
        seen = [f.area for f in self.faces if f is not None]
        return float(np.mean(seen)) if seen else 0.0

    @property
    def last(self) -> Face | None:
        return next((f for f in reversed(self.faces) if f is not None), None)

    def nearest_index(self, i: int) -> int:
        """The frame nearest to i in which the face was found (earlier one on ties)."""
        seen = self.frames_seen
        if not seen:
            raise ValueError("empty track")
        return min(seen, key=lambda j: (abs(j - i), j))

    @property
    def middle_index(self) -> int:
        """The frame nearest the middle of the segment in which the face was found."""
        return self.nearest_index((len(self.faces) - 1) // 2)

    def face_at(self, i: int) -> Face:
        """The face in frame i, or where it was not found, the face from the nearest frame that has it."""
        return self.faces[self.nearest_index(i)]

    def crop(self, frames, size: int, index: int | None = None, margin: float = 0.25, landmarker=None) -> np.ndarray:
        """Aligned crop of the face in frame `index` (default: the middle frame it was found in). For a frame
        where it was not found, the nearest frame's box is cut from this frame. With a landmarker the crop
        is aligned on the mesh (see emorec.vision.align)."""
        i = self.middle_index if index is None else index
        face = self.face_at(i)
        landmarks = landmarker.landmarks(frames[i], face) if landmarker is not None else None
        return aligned_face(frames[i], face, size, margin=margin, landmarks=landmarks)

    def crops(self, frames, size: int, margin: float = 0.25, landmarker=None) -> list[np.ndarray]:
        """Aligned crops of the face in every frame."""
        return [self.crop(frames, size, index=i, margin=margin, landmarker=landmarker) for i in range(len(frames))]


def similarity(a: Face, b: Face, min_iou: float = MIN_IOU, max_shift: float = MAX_CENTRE_SHIFT) -> float:
    """How well face b continues face a, in [0, 1]; 0 = not the same face. The larger of the IoU (when it
    reaches min_iou) and 1 - centre distance / (max_shift * face size) (when the centres are close enough)."""
    overlap = iou(a.box, b.box)
    distance = math.dist(a.centre, b.centre)
    reach = max_shift * max(a.size, b.size)
    near = 1.0 - distance / reach if reach > 0 and distance < reach else 0.0
    best = max(overlap if overlap >= min_iou else 0.0, near)
    return best if best > 0 else 0.0


def link_detections(
    detections: list[list[Face]],
    min_iou: float = MIN_IOU,
    max_shift: float = MAX_CENTRE_SHIFT,
    min_presence: float = 0.0,
) -> list[Track]:
    """Tracks from per-frame detections: in each frame, greedily match the most similar (track, face) pairs,
    each track taking at most one face; faces left over start new tracks. A track is compared through the last
    frame it was seen in, its centre allowed to move max_shift face sizes per frame since then, so a face
    missed in a frame is picked up again. Tracks found in fewer than
    `min_presence` of the frames are dropped; the rest come largest first (mean box area)."""
    n = len(detections)
    tracks: list[Track] = []
    for i, faces in enumerate(detections):
        pairs = []
        for t, track in enumerate(tracks):
            last, gap = track.last, i - track.frames_seen[-1]
            for k, face in enumerate(faces):
                s = similarity(last, face, min_iou, max_shift * gap)
                if s > 0:
                    pairs.append((s, t, k))
        used_tracks, used_faces = set(), set()
        for _, t, k in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if t not in used_tracks and k not in used_faces:
                tracks[t].faces.append(faces[k])
                used_tracks.add(t)
                used_faces.add(k)
        for t, track in enumerate(tracks):
            if t not in used_tracks:
                track.faces.append(None)
        for k, face in enumerate(faces):
            if k not in used_faces:
                tracks.append(Track(faces=[None] * i + [face]))
    kept = [t for t in tracks if t.frames_seen and len(t.frames_seen) >= min_presence * n]
    return sorted(kept, key=lambda t: -t.mean_area)


def track_faces(
    frames,
    detector,
    min_iou: float = MIN_IOU,
    max_shift: float = MAX_CENTRE_SHIFT,
    min_presence: float = 0.5,
    max_faces: int | None = None,
) -> list[Track]:
    """Detect faces in each frame (RGB uint8 arrays) with `detector` (anything with detect(rgb) -> list[Face])
    and link them into tracks (see link_detections); at most max_faces per frame, largest first."""
    detections = [detector.detect(frame, max_faces=max_faces) for frame in frames]
    return link_detections(detections, min_iou=min_iou, max_shift=max_shift, min_presence=min_presence)
