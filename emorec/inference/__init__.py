"""Inference: bundles, media probing, segmentation, the Recognizer, results and timelines.

>>> from emorec.inference import Recognizer
>>> Recognizer.load("model.emorec").predict_video("clip.mp4").to_frame()
"""

from emorec.inference.bundle import Bundle, BundleError, export_bundle, load_bundle, write_bundle
from emorec.inference.media import MediaError, MediaInfo, probe_media
from emorec.inference.recognizer import Recognizer
from emorec.inference.results import SegmentPrediction, VideoResult
from emorec.inference.untrained import build_untrained_bundle

__all__ = [
    "Bundle",
    "BundleError",
    "MediaError",
    "MediaInfo",
    "Recognizer",
    "SegmentPrediction",
    "VideoResult",
    "build_untrained_bundle",
    "export_bundle",
    "load_bundle",
    "probe_media",
    "write_bundle",
]
