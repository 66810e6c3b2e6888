"""Inference: bundles, media probing, segmentation, the Recognizer, results and timelines.

>>> from emorec.inference import Recognizer
>>> Recognizer.load("model.emorec").predict_video("clip.mp4").to_frame()

The names below are imported when first used: media probing and segmentation (`emorec.inference.media`,
`.segmenter`) load without torch, so speech recognition can start while the models' code is imported.
"""

import importlib

_HOMES = {
    "Bundle": "bundle",
    "BundleError": "bundle",
    "export_bundle": "bundle",
    "load_bundle": "bundle",
    "write_bundle": "bundle",
    "MediaError": "media",
    "MediaInfo": "media",
    "probe_media": "media",
    "Recognizer": "recognizer",
    "SegmentPrediction": "results",
    "VideoResult": "results",
    "build_untrained_bundle": "untrained",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'emorec.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(f"emorec.inference.{_HOMES[name]}"), name)


__all__ = sorted(_HOMES)
