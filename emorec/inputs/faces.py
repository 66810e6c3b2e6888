"""`faces`: the speaker's face, found by BlazeFace in frames sampled over the utterance, tracked, and cut as an
aligned crop (eyes level, Face Mesh when installed) from the middle frame the face was found in.

With several faces the active speaker is the one whose lips move during the segment (with the audio's energy
when it is given); a corpus that says where the speaker sits (IEMOCAP's side) restricts the search to that half.
A window without a detectable face gets the whole region resized (`face_found: false`), which for corpora of
face crops (CK+, facial_expressions) is the face itself. Without the detector's packages the OpenCV Haar cascade
stands in (emorec.vision.best_available_detector).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from emorec.inputs import register_input
from emorec.inputs.base import Settings
from emorec.inputs.frames import Frames, FramesOptions
from emorec.media.crops import half_box
from emorec.media.video import to_rgb


class FacesSettings(Settings):
    faces: bool = False  # a store holds aligned face crops of the speaker (computed for a model that reads them)
    face_size: int = Field(112, ge=16, le=512)
    face_frames: int = Field(5, ge=1, le=32)  # frames sampled over the window for tracking and the active speaker
    face_detector: Literal["full", "short"] = "full"  # BlazeFace full range (any distance) or short range (close)
    face_margin: float = Field(0.25, ge=0.0, le=2.0)  # added on each side, as a fraction of the face box
    face_landmarks: bool = True  # align on the Face Mesh (eyes level) when it is installed
    face_gray: bool = False  # grey crops (3 equal channels): colour video then matches grey face photographs


@dataclass
class FaceCrop:
    image: np.ndarray  # (S, S, 3) uint8
    found: bool
    box: tuple[int, int, int, int] | None = None  # in the full frame, of the frame the crop came from
    method: str = ""  # how the speaker was chosen: single, lips+audio, lips, largest (emorec.vision.active_speaker)


@register_input
class Faces(Frames):
    name = "faces"
    modality = "frame"
    tensor = "image"
    flag = "faces"
    Settings = FacesSettings
    Options = FramesOptions

    def __init__(self, settings, options=None, stats=None):
        super().__init__(settings, options, stats)
        self._detector = self._landmarker = None

    def arrays(self):
        s = self.settings.face_size
        return {"faces": ((1, s, s, 3), np.dtype(np.uint8))}

    @property
    def frames_per_window(self) -> int:
        return self.settings.face_frames

    def converter(self, info):
        return to_rgb  # detection and alignment work on the whole frame

    @property
    def detector(self):
        if self._detector is None:
            from emorec.vision import best_available_detector

            self._detector = best_available_detector(self.settings.face_detector)
        return self._detector

    @property
    def landmarker(self):
        if self._landmarker is None and self.settings.face_landmarks:
            from emorec.vision import FaceLandmarker, VisionUnavailable

            try:
                self._landmarker = FaceLandmarker()
            except VisionUnavailable:
                self._landmarker = False
        return self._landmarker or None

    def face_crop(self, frames: list[np.ndarray], side: str | None, times=None, energy=None) -> FaceCrop:
        """The speaker's aligned face over a window's frames (full RGB frames of the video)."""
        crop = self._colour_crop(frames, side, times, energy)
        if self.settings.face_gray:
            import cv2

            crop.image = np.repeat(cv2.cvtColor(crop.image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        return crop

    def _colour_crop(self, frames, side, times, energy) -> FaceCrop:
        from emorec.vision import active_speaker, track_faces

        h, w = frames[0].shape[:2]
        x0, y0, x1, y1 = half_box(w, h, side if side in ("left", "right") else "full")
        region = [np.ascontiguousarray(f[y0:y1, x0:x1]) for f in frames]
        tracks = track_faces(region, self.detector)
        size = self.settings.face_size
        if not tracks:
            import cv2

            middle = region[len(region) // 2]
            return FaceCrop(cv2.resize(middle, (size, size), interpolation=cv2.INTER_AREA), False)
        pick, info = active_speaker(tracks, region, times, energy, self.landmarker)
        track = tracks[pick]
        i = track.middle_index
        image = track.crop(region, size, index=i, margin=self.settings.face_margin, landmarker=self.landmarker)
        bx0, by0, bx1, by1 = (int(round(v)) for v in track.faces[i].box)
        return FaceCrop(image, True, (bx0 + x0, by0 + y0, bx1 + x0, by1 + y0), info.get("method", ""))

    def crop_window(self, frames: list[np.ndarray], side: str, times=None, energy=None):
        crop = self.face_crop(frames, side, times, energy)
        return crop.image[None], [crop.found]

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: (full RGB frames of the window, speaker side) per utterance."""
        return {"faces": np.stack([self.crop_window(frames, side)[0] for frames, side in items])}

    def transform(self, arrays, stats=None, augment=None, rng=None):
        return super().transform({"frames": arrays["faces"]}, stats, augment, rng)
